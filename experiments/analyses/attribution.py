"""Attribution: which lever made the difference between two scenarios (Shapley values).

`run_attribution(A, B)` finds the levers whose parameters differ between scenario A and
scenario B (`experiments.engine.levers`: a lever the files declare under `levers:`, or one
derived from the parameter trees: a policy section, the whole budget split, or another
top-level section), and decomposes the difference B − A of each outcome metric among them.

The value of a set S of levers is v(S) = the mean metric of A with the levers in S set to B's
values (v(∅) is A, v(N) is B). The Shapley value of lever i is its marginal contribution
v(S ∪ {i}) − v(S), averaged over the orders in which the levers could be switched from A to B.
The values add up to v(N) − v(∅) = B − A (efficiency): exactly when every subset runs, and for
every single order when orders are sampled.

- Exact (n ≤ `exact_max` levers, default 10): all 2^n subsets run. Ten levers are 1,024
  subsets, which times a few replications is about what a workstation runs in a night on the
  default street; beyond that the subsets double with every lever while a sampled estimate
  needs at most n − 1 new subsets per order.
- Sampled (more levers): `permutations` random orders in antithetic pairs (an order and its
  reverse), each subset run once however many orders pass through it (Castro, Gómez & Tejada
  2009; Mitchell et al. 2022 on antithetic sampling).

Every subset runs the same replication seeds (common random numbers), so each replication r
gives its own Shapley values φ_i(r); the 95% interval of a lever is the t interval of φ_i(r)
over replications. A sampled estimate also has a permutation-sampling error: the standard
error over the antithetic pairs of the replication-averaged marginal contributions, reported
separately (`perm_se`, `perm_half_width`), and combined with the replication interval in
`total_half_width` (root of the sum of squares; conservative, as the pair spread also holds
replication noise).

Two-way interactions: with every subset run, the Shapley interaction index (Grabisch & Roubens
1999) I_ij = Σ_{S ⊆ N∖{i,j}} |S|!(n−|S|−2)!/(n−1)! · δ_ij(S), where δ_ij(S) = v(S∪{i,j}) −
v(S∪{i}) − v(S∪{j}) + v(S). With sampled orders, δ_ij at A (S = ∅) and at B (S = N∖{i,j}) for
the `interaction_levers` levers of largest |φ| (a second sweep into `DIR/interactions/`).
Both come per replication, so they get t intervals too. For two levers, I_12 = δ_12(∅).

Every subset is a scenario of an ordinary experiment, generated into
`DIR/attribution_experiment.yaml` (A's file with the subset's levers set to B's values as
overrides; ∅ is A's file and N is B's file themselves) and run by
`experiments.engine.sweep.run_sweep` into DIR: the same executors, store, checksums and
resume as `linkage sweep`.

Files written into DIR:

`attribution.csv`, one row per metric and lever: metric, rank (by |phi|), lever, label_en,
    label_zh, declared (the files declare it), scope (the parameter paths it governs),
    n_params (parameters it changes), changes (what it changes, A → B), phi, ci_low, ci_high
    (95% t interval over replications), excludes_zero (phi ± total_half_width excludes 0),
    perm_se, perm_half_width (sampled only), total_half_width (the replication interval's
    half-width, combined with perm_half_width when orders are sampled), share (phi / total),
    method, replications, permutations,
    a_mean, b_mean, total, total_ci_low, total_ci_high (the paired difference B − A).
`interactions.csv`, one row per metric and pair: metric, rank, lever_i, lever_j, index,
    index_ci_low, index_ci_high (Shapley interaction index; exact only), at_a, at_a_ci_low,
    at_a_ci_high, at_b, at_b_ci_low, at_b_ci_high (δ_ij at A and at B), replications.
`attribution.json`: settings, the levers and what they change, per metric the totals, the
    values and the interactions, the additivity check, run counts and timings (strict JSON).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.analyses.compare import mean_ci, t_critical
from experiments.engine.errors import ExperimentError, ScenarioError
from experiments.engine.folders import FolderLock, check_out, safe_name
from experiments.engine.levers import (
    MISSING,
    differences,
    group_by_lever,
    lever_label,
    lever_scope,
    merge_levers,
    param_tree,
)
from experiments.engine.outputs import to_json, write_csv
from experiments.engine.scenarios import (
    apply_overrides,
    build_params,
    check_levers,
    load_scenario,
    resolve,
)
from experiments.engine.spec import check_run_count, format_value, unknown_metrics

METRICS = (
    "need_satisfaction_rate",
    "mean_wait_hours",
    "cost_per_need_met",
    "gov_spending_annual",
    "active_volunteers",
    "satisfaction_min_group",
)
"""Metrics attributed when none are named (the first is the primary one)."""

EXACT_MAX = 10
"""Most levers for exact Shapley values (2^10 = 1,024 subsets); beyond, orders are sampled."""
PERMUTATIONS = 8
"""Sampled orders by default (4 antithetic pairs)."""
INTERACTION_LEVERS = 4
"""Levers (largest |phi|) whose pairwise interactions a sampled attribution measures."""
REPLICATIONS = 5
ROOT_SEED = 20240601
SEED_KEY = 0xA77B  # spawn key of the permutation sampler, far from the replication keys
META = "attribution.json"
CSV = "attribution.csv"
INTERACTIONS_CSV = "interactions.csv"
EXPERIMENT_FILE = "attribution_experiment.yaml"
INTERACTIONS_DIR = "interactions"
MAX_SUBSETS = 1 << 16

ModelFn = Callable[[Any, int], Any]

VALUE_COLUMNS = (
    "metric", "rank", "lever", "label_en", "label_zh", "declared", "scope", "n_params",
    "changes", "phi", "ci_low", "ci_high", "excludes_zero", "perm_se", "perm_half_width",
    "total_half_width", "share", "method", "replications", "permutations", "a_mean", "b_mean",
    "total", "total_ci_low", "total_ci_high",
)  # fmt: skip
INTERACTION_COLUMNS = (
    "metric", "rank", "lever_i", "lever_j", "index", "index_ci_low", "index_ci_high",
    "at_a", "at_a_ci_low", "at_a_ci_high", "at_b", "at_b_ci_low", "at_b_ci_high", "replications",
)  # fmt: skip


# --------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Lever:
    """One lever that differs between A and B.

    Attributes:
        name: Lever name (`experiments.engine.levers`).
        declared: Whether A's or B's file declares it under `levers:`.
        changes: (path, value in A, value in B) of every parameter it changes.
    """

    name: str
    declared: bool
    changes: tuple[tuple[str, Any, Any], ...]

    def label(self, lang: str = "en") -> str:
        """Display name."""
        return lever_label(self.name, lang)

    def summary(self, k: int = 3) -> str:
        """What it changes, A → B, in a few words."""

        def show(v: Any) -> str:
            if v is MISSING:
                return "(none)"
            text = format_value(v)
            return text if len(text) <= 40 else text[:37] + "..."

        parts = [f"{p} {show(a)} → {show(b)}" for p, a, b in self.changes[:k]]
        more = len(self.changes) - k
        return "; ".join(parts) + (f"; +{more} more" if more > 0 else "")

    def overrides(self) -> dict[str, Any]:
        """The overrides that set this lever to B's values (`None` removes a key)."""
        return {p: (None if b is MISSING else b) for p, _, b in self.changes}


@dataclass
class Pair:
    """Scenarios A and B, loaded with the shared overrides, and the levers that differ."""

    a_file: Path
    b_file: Path
    a_name: str
    b_name: str
    a_data: dict[str, Any]
    levers: list[Lever]
    sets: tuple[str, ...] = ()
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of levers."""
        return len(self.levers)

    @property
    def full(self) -> int:
        """The mask of every lever."""
        return (1 << self.n) - 1

    def name_of(self, mask: int) -> str:
        """Scenario name of a subset: A's and B's own names at the ends, `mix_<bits>` (bit i
        is lever i, 1 = B's value) in between."""
        if mask == 0:
            return self.a_name
        if mask == self.full:
            return self.b_name
        return "mix_" + "".join("1" if mask >> i & 1 else "0" for i in range(self.n))

    def subset_overrides(self, mask: int) -> dict[str, Any]:
        """Overrides of A that give the subset (the levers in `mask` at B's values)."""
        out: dict[str, Any] = {}
        for i, lever in enumerate(self.levers):
            if mask >> i & 1:
                out.update(lever.overrides())
        return out


def _scenario_data(path: Path, sets: Sequence[str]) -> tuple[dict, list[str]]:
    data = apply_overrides(resolve(path), list(sets))
    return data, check_levers(data.get("levers"), path)


def load_pair(
    a: str | Path, b: str | Path, sets: Sequence[str] = (), run_sets: Sequence[str] = ()
) -> Pair:
    """Load A and B (with the `--set` overrides both get, then the run length both get) and
    find the levers that differ.

    Raises:
        ScenarioError: a bad scenario file, or two scenarios with the same parameters.
    """
    from experiments.engine.resources import locate

    a_file, b_file = locate(a).resolve(), locate(b).resolve()
    for f in (a_file, b_file):
        if not f.is_file():
            raise ScenarioError(f, "(file)", "scenario file not found")
    every = [*sets, *run_sets]
    a_sc, b_sc = load_scenario(a_file, every), load_scenario(b_file, every)
    a_data, a_levers = _scenario_data(a_file, every)
    _, b_levers = _scenario_data(b_file, sets)
    declared = merge_levers(a_levers, b_levers)
    diffs = differences(param_tree(a_sc.params), param_tree(b_sc.params))
    if not diffs:
        raise ScenarioError(
            b_file, "(parameters)", f"same parameters as {a_file.name}: nothing to attribute"
        )
    levers = [
        Lever(name, name in declared, tuple((p, *diffs[p]) for p in paths))
        for name, paths in group_by_lever(diffs, declared).items()
    ]
    a_name, b_name = a_sc.name, b_sc.name
    if safe_name(a_name) == safe_name(b_name):
        a_name, b_name = f"{a_name}_A", f"{b_name}_B"
    labels = {
        key: {lang: str(sc.meta.get(f"label_{lang}") or sc.name) for lang in ("en", "zh")}
        for key, sc in (("a", a_sc), ("b", b_sc))
    }
    return Pair(a_file, b_file, a_name, b_name, a_data, levers, tuple(sets), labels)


def check_subset(pair: Pair, mask: int) -> None:
    """Validate the parameters of a subset (A with those levers at B's values).

    Raises:
        ScenarioError: the combination is not a valid parameter set (for example two levers
            that only make sense together); names the levers.
    """
    over = [f"{k}={format_value(v)}" for k, v in pair.subset_overrides(mask).items()]
    try:
        build_params(apply_overrides(pair.a_data, over), pair.a_file)
    except ScenarioError as e:
        names = [lv.name for i, lv in enumerate(pair.levers) if mask >> i & 1]
        raise ScenarioError(
            pair.b_file,
            "levers",
            f"A with only the levers {', '.join(names)} at B's values is not valid: "
            f"{e.field}: {e.problem}",
        ) from None


# --------------------------------------------------------------------------- the design


def sample_orders(n: int, count: int, root_seed: int) -> list[tuple[int, ...]]:
    """`count` orders of n levers (rounded up to even): random orders and their reverses,
    a pure function of the root seed."""
    rng = np.random.default_rng(np.random.SeedSequence(int(root_seed), spawn_key=(SEED_KEY,)))
    out: list[tuple[int, ...]] = []
    for _ in range(max(1, math.ceil(count / 2))):
        p = tuple(int(i) for i in rng.permutation(n))
        out += [p, p[::-1]]
    return out


def chain(order: Sequence[int]) -> list[int]:
    """The subsets an order passes through: ∅, then each lever added in turn."""
    masks, m = [0], 0
    for i in order:
        m |= 1 << i
        masks.append(m)
    return masks


def interaction_masks(n: int, levers: Sequence[int]) -> list[int]:
    """Subsets needed for δ_ij at A and at B for every pair of `levers`."""
    full = (1 << n) - 1
    out = {0, full}
    for i, j in itertools.combinations(levers, 2):
        bi, bj = 1 << i, 1 << j
        out |= {bi, bj, bi | bj, full ^ bi, full ^ bj, full ^ (bi | bj)}
    return sorted(out)


# --------------------------------------------------------------------------- estimators


def _weights(n: int, k: int) -> np.ndarray:
    """s!(n−s−k)!/(n−k+1)! for s = 0..n−k (k = 1: Shapley; k = 2: interaction index)."""
    m = n - k + 1
    return np.array(
        [math.factorial(s) * math.factorial(n - s - k) / math.factorial(m) for s in range(m)]
    )


def exact_shapley(y: np.ndarray) -> np.ndarray:
    """Shapley values from every subset's value.

    Args:
        y: Shape (2^n, R): row `mask` is v(mask) in each replication.

    Returns:
        Shape (R, n): φ_i in each replication; rows add up to y[full] − y[0].
    """
    size = y.shape[0]
    n = size.bit_length() - 1
    masks = np.arange(size)
    pop = np.array([bin(m).count("1") for m in masks])
    w = _weights(n, 1)
    phi = np.zeros((y.shape[1], n))
    for i in range(n):
        s = masks[(masks >> i) & 1 == 0]
        phi[:, i] = (w[pop[s]][:, None] * (y[s | (1 << i)] - y[s])).sum(axis=0)
    return phi


def delta(y: Any, s: int, i: int, j: int) -> np.ndarray:
    """δ_ij(S) = v(S∪{i,j}) − v(S∪{i}) − v(S∪{j}) + v(S) (per replication); `y[mask]` gives
    a subset's values."""
    bi, bj = 1 << i, 1 << j
    return y[s | bi | bj] - y[s | bi] - y[s | bj] + y[s]


def interaction_index(y: np.ndarray, i: int, j: int) -> np.ndarray:
    """The Shapley interaction index of levers i and j in each replication (every subset)."""
    size = y.shape[0]
    n = size.bit_length() - 1
    w = _weights(n, 2)
    out = np.zeros(y.shape[1])
    for s in range(size):
        if (s >> i) & 1 or (s >> j) & 1:
            continue
        out += w[bin(s).count("1")] * delta(y, s, i, j)
    return out


def sampled_shapley(
    y: dict[int, np.ndarray], orders: Sequence[Sequence[int]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values from sampled orders.

    Args:
        y: mask -> v(mask) per replication (shape (R,)).
        orders: The orders (antithetic pairs next to each other).
        n: Number of levers.

    Returns:
        (φ per replication, shape (R, n); marginal contributions per order averaged over
        replications, shape (len(orders), n)). Each order's contributions add up to
        y[full] − y[0].
    """
    reps = len(next(iter(y.values())))
    contrib = np.zeros((len(orders), n, reps))
    for p, order in enumerate(orders):
        masks = chain(order)
        for k, i in enumerate(order):
            contrib[p, i] = y[masks[k + 1]] - y[masks[k]]
    return contrib.mean(axis=0).T, contrib.mean(axis=2)


def _ci(values: np.ndarray) -> tuple[float, float, float]:
    _, m, _, lo, hi = mean_ci(values)
    return m, lo, hi


def pair_error(per_order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Permutation-sampling standard error and 95% half-width per lever, from the spread of
    the antithetic pairs' means (NaN with fewer than two pairs)."""
    k = per_order.shape[0] // 2
    if k < 2:
        nan = np.full(per_order.shape[1], math.nan)
        return nan, nan
    pairs = per_order[: 2 * k].reshape(k, 2, -1).mean(axis=1)
    se = pairs.std(axis=0, ddof=1) / math.sqrt(k)
    return se, t_critical(k - 1) * se


# --------------------------------------------------------------------------- results


@dataclass
class AttributionResult:
    """What `run_attribution` did: folder, tables, levers and settings."""

    path: Path
    values: pd.DataFrame
    interactions: pd.DataFrame
    meta: dict[str, Any]
    levers: list[Lever] = field(default_factory=list)
    sweeps: list[Any] = field(default_factory=list)

    @property
    def runs(self) -> int:
        """Runs the attribution holds (both sweeps)."""
        return sum(s.total for s in self.sweeps)

    @property
    def ran(self) -> int:
        """Runs made by this call (the others were in the folder)."""
        return sum(s.ran for s in self.sweeps)

    @property
    def errors(self) -> int:
        """Failed runs."""
        return sum(s.errors for s in self.sweeps)


@dataclass(frozen=True)
class Settings:
    """What decides an attribution's runs (a resumed folder must have been started with the
    same, except for more replications)."""

    a: str
    b: str
    sets: tuple[str, ...]
    metrics: tuple[str, ...]
    replications: int
    weeks: int | None
    warmup_weeks: int | None
    root_seed: int
    exact_max: int
    permutations: int
    interaction_levers: int


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from experiments.engine.store import atomic_write_bytes

    text = to_json(data, indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def read_attribution(folder: str | Path) -> dict[str, Any] | None:
    """The `attribution.json` of a finished attribution in `folder` or `folder/attribution/`,
    with its `path` (the folder that holds it); None when there is none."""
    from experiments.engine.store import read_manifest

    for f in (Path(folder), Path(folder) / "attribution"):
        meta = read_manifest(f / META) if (f / META).is_file() else {}
        if meta.get("status") == "completed" and meta.get("metrics"):
            return {**meta, "path": str(f)}
    return None


def endpoints(folder: str | Path) -> tuple[str, str] | None:
    """The scenario names of A and B when `folder` itself is an attribution's results folder
    (its runs hold every subset; a report shows only these two), else None."""
    from experiments.engine.store import read_manifest

    f = Path(folder) / META
    meta = read_manifest(f) if f.is_file() else {}
    a, b = (meta.get("a") or {}).get("name"), (meta.get("b") or {}).get("name")
    return (str(a), str(b)) if a and b else None


def experiment_mapping(
    pair: Pair, masks: Sequence[int], settings: Settings, name: str
) -> dict[str, Any]:
    """The experiment file (as a mapping) that runs `masks` with common seeds."""
    scenarios: dict[str, Any] = {}
    for m in masks:
        if m == pair.full:
            scenarios[pair.name_of(m)] = {"file": str(pair.b_file)}
        elif m == 0:
            scenarios[pair.name_of(m)] = {"file": str(pair.a_file)}
        else:
            scenarios[pair.name_of(m)] = {"file": str(pair.a_file), "set": pair.subset_overrides(m)}
    exp: dict[str, Any] = {
        "name": name,
        "description": (
            f"generated by linkage attribute: {pair.a_name} -> {pair.b_name}, "
            f"{len(masks)} subsets of {pair.n} levers"
        ),
        "scenarios": scenarios,
        "baseline": pair.name_of(0) if 0 in masks else pair.name_of(masks[0]),
        "replications": settings.replications,
        "root_seed": settings.root_seed,
        "timeseries": False,
        "constants": {
            s.split("=", 1)[0].strip(): yaml.safe_load(s.split("=", 1)[1]) for s in pair.sets
        },
    }
    if settings.weeks is not None:
        exp["weeks"] = settings.weeks
    if settings.warmup_weeks is not None:
        exp["warmup_weeks"] = settings.warmup_weeks
    return exp


def _run_masks(
    pair: Pair,
    masks: Sequence[int],
    folder: Path,
    file: Path,
    name: str,
    settings: Settings,
    execution: dict[str, Any],
) -> Any:
    """Run the subsets `masks` as one experiment into `folder` (resuming what it holds)."""
    from experiments.engine.spec import load_experiment
    from experiments.engine.sweep import run_sweep

    text = yaml.safe_dump(
        experiment_mapping(pair, masks, settings, name),
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    if not file.exists() or file.read_text(encoding="utf-8") != text:
        file.write_text(text, encoding="utf-8")
    exp = load_experiment(
        file, validate_scenarios=False, max_runs=execution.get("max_runs"), check_metrics=False
    )
    return run_sweep(exp, folder, resume=(folder / "manifest.json").exists(), **execution)


def _values(runs: pd.DataFrame, pair: Pair, metric: str) -> dict[int, np.ndarray]:
    """mask -> the metric per replication (NaN where a run failed)."""
    names = {pair.name_of(m): m for m in _all_masks_in(runs, pair)}
    ok = runs[runs["status"] == "ok"]
    reps = int(runs["replication"].max()) + 1
    out: dict[int, np.ndarray] = {}
    for sc in runs["scenario"].unique():
        if sc not in names:
            continue
        v = np.full(reps, math.nan)
        good = ok[ok["scenario"] == sc]
        if metric in good:
            v[good["replication"].to_numpy(int)] = good[metric].to_numpy(float)
        out[names[sc]] = v
    return out


def _all_masks_in(runs: pd.DataFrame, pair: Pair) -> list[int]:
    out = []
    for sc in runs["scenario"].unique():
        if sc == pair.a_name:
            out.append(0)
        elif sc == pair.b_name:
            out.append(pair.full)
        elif isinstance(sc, str) and sc.startswith("mix_"):
            bits = sc[4:]
            out.append(sum(1 << i for i, c in enumerate(bits) if c == "1"))
    return out


def analyse(
    pair: Pair,
    runs: pd.DataFrame,
    metrics: Sequence[str],
    method: str,
    orders: Sequence[Sequence[int]],
    inter_levers: Sequence[int],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Shapley values, intervals and interactions of every metric from the runs.

    Replications with a failed run (or a NaN value) in any subset an estimate uses are left
    out of that metric, so every value stays paired.

    Returns:
        (values table, interactions table, per-metric summary for attribution.json).
    """
    n = pair.n
    rows, irows, summary = [], [], {}
    for metric in metrics:
        y = _values(runs, pair, metric)
        if method == "exact":
            need = list(range(1 << n))
        else:
            need = sorted({m for o in orders for m in chain(o)})
        need_i = interaction_masks(n, inter_levers) if method == "sampled" else []
        missing = [m for m in [*need, *need_i] if m not in y]
        if missing:
            raise ExperimentError(
                pair.b_file, metric, f"subset {pair.name_of(missing[0])} has no runs"
            )
        good = np.all([np.isfinite(y[m]) for m in need], axis=0)
        reps = int(good.sum())
        yy = {m: v[good] for m, v in y.items()}
        a_vals, b_vals = yy[0], yy[pair.full]
        total = b_vals - a_vals
        tot, tlo, thi = _ci(total)
        if reps == 0:
            phi_r = np.full((0, n), math.nan)
            perm_se = perm_half = np.full(n, math.nan)
        elif method == "exact":
            phi_r = exact_shapley(np.stack([yy[m] for m in range(1 << n)]))
            perm_se = perm_half = np.full(n, math.nan)
        else:
            phi_r, per_order = sampled_shapley(yy, orders, n)
            perm_se, perm_half = pair_error(per_order)
        phis = []
        for i, lever in enumerate(pair.levers):
            m, lo, hi = _ci(phi_r[:, i]) if reps else (math.nan,) * 3
            half = (hi - lo) / 2 if np.isfinite(lo) else math.nan
            total_half = math.hypot(half, perm_half[i]) if np.isfinite(perm_half[i]) else half
            phis.append(m)
            rows.append(
                {
                    "metric": metric,
                    "lever": lever.name,
                    "label_en": lever.label("en"),
                    "label_zh": lever.label("zh"),
                    "declared": lever.declared,
                    "scope": lever_scope(lever.name),
                    "n_params": len(lever.changes),
                    "changes": lever.summary(),
                    "phi": m,
                    "ci_low": lo,
                    "ci_high": hi,
                    "excludes_zero": bool(np.isfinite(total_half) and abs(m) > total_half),
                    "perm_se": float(perm_se[i]),
                    "perm_half_width": float(perm_half[i]),
                    "total_half_width": total_half,
                    "share": m / tot if tot else math.nan,
                    "method": method,
                    "replications": reps,
                    "permutations": len(orders) if method == "sampled" else math.nan,
                    "a_mean": float(np.mean(a_vals)) if reps else math.nan,
                    "b_mean": float(np.mean(b_vals)) if reps else math.nan,
                    "total": tot,
                    "total_ci_low": tlo,
                    "total_ci_high": thi,
                }
            )
        # interactions
        pairs = (
            itertools.combinations(range(n), 2)
            if method == "exact"
            else itertools.combinations(inter_levers, 2)
        )
        good_i = good & np.all([np.isfinite(y[m]) for m in need_i], axis=0) if need_i else good
        yi = {m: v[good_i] for m, v in y.items()}
        full = pair.full
        stack = np.stack([yi[m] for m in range(1 << n)]) if method == "exact" else None
        for i, j in pairs:
            row = {
                "metric": metric,
                "lever_i": pair.levers[i].name,
                "lever_j": pair.levers[j].name,
                "replications": int(good_i.sum()),
            }
            if stack is not None:
                row["index"], row["index_ci_low"], row["index_ci_high"] = _ci(
                    interaction_index(stack, i, j)
                )
            else:
                row["index"] = row["index_ci_low"] = row["index_ci_high"] = math.nan
            for tag, s in (("at_a", 0), ("at_b", full ^ (1 << i) ^ (1 << j))):
                v, lo, hi = _ci(delta(yi, s, i, j))
                row.update({tag: v, f"{tag}_ci_low": lo, f"{tag}_ci_high": hi})
            irows.append(row)
        s_phi = float(np.sum(phis)) if reps else math.nan
        summary[metric] = {
            "a_mean": float(np.mean(a_vals)) if reps else None,
            "b_mean": float(np.mean(b_vals)) if reps else None,
            "total": tot,
            "total_ci": [tlo, thi],
            "sum_phi": s_phi,
            "additivity_error": abs(s_phi - tot) if reps else None,
            "replications": reps,
        }
    values = pd.DataFrame(rows, columns=[c for c in VALUE_COLUMNS if c != "rank"])
    values.insert(1, "rank", _ranks(values, "phi"))
    inter = pd.DataFrame(irows, columns=[c for c in INTERACTION_COLUMNS if c != "rank"])
    size = (
        inter["index"]
        .abs()
        .where(inter["index"].notna(), np.fmax(inter["at_a"].abs(), inter["at_b"].abs()))
    )
    inter.insert(1, "rank", _ranks(inter.assign(_size=size), "_size"))
    values["metric"] = pd.Categorical(values["metric"], list(metrics))
    values = values.sort_values(["metric", "rank"], kind="stable", ignore_index=True)
    values["metric"] = values["metric"].astype(str)
    inter["metric"] = pd.Categorical(inter["metric"], list(metrics))
    inter = inter.sort_values(["metric", "rank"], kind="stable", ignore_index=True)
    inter["metric"] = inter["metric"].astype(str)
    return values, inter.reindex(columns=list(INTERACTION_COLUMNS)), summary


def _ranks(df: pd.DataFrame, col: str) -> list[int]:
    """Rank 1 = largest |col| within each metric (ties in the table's order)."""
    out = [0] * len(df)
    for _, g in df.groupby("metric", sort=False):
        mag = g[col].abs().fillna(-1.0).to_numpy()
        order = np.argsort(-mag, kind="stable")
        for r, k in enumerate(order, 1):
            out[df.index.get_loc(g.index[k])] = r
    return out


# --------------------------------------------------------------------------- the runner


def run_attribution(
    a: str | Path,
    b: str | Path,
    out: str | Path | None = None,
    *,
    metrics: Sequence[str] | None = None,
    sets: Sequence[str] = (),
    replications: int | None = None,
    weeks: int | None = None,
    warmup_weeks: int | None = None,
    root_seed: int = ROOT_SEED,
    exact_max: int = EXACT_MAX,
    permutations: int = PERMUTATIONS,
    interaction_levers: int = INTERACTION_LEVERS,
    workers: int | None = None,
    executor: str | Any = "local",
    scheduler: str | None = None,
    resume: bool = False,
    model_fn: ModelFn | None = None,
    progress: bool | None = None,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
    log: Callable[[str], None] | None = None,
) -> AttributionResult:
    """Decompose the difference between scenarios A and B among the levers that differ.

    Args:
        a, b: Scenario files (A is the start, B the end: values explain B − A).
        out: Results folder (default: a new `results/attribution-<A>-<B>-<timestamp>`).
        metrics: Summary metrics to attribute (default `METRICS`; the first is the primary one,
            which picks the levers whose interactions a sampled attribution measures).
        sets: `a.b.c=VALUE` overrides of both scenarios (a smaller street, say).
        replications: Replications per subset (default `REPLICATIONS`; when resuming, the
            folder's, and more extends it).
        weeks, warmup_weeks: Override run.weeks and run.warmup_weeks of every run.
        root_seed: Seeds of the replications and of the sampled orders.
        exact_max: Most levers for the exact computation (all 2^n subsets).
        permutations: Sampled orders when there are more levers (rounded up to even).
        interaction_levers: Levers (largest |phi|) whose pairs a sampled attribution measures.
        workers, executor, scheduler: As for `linkage sweep`.
        resume: Continue an interrupted attribution in `out` (same scenarios and settings).
        model_fn: Evaluate `model_fn(params, seed)` instead of the simulation (tests).
        progress: Progress bars (default: when stderr is a terminal).
        command: The command line, for the manifests.
        results_root: Where default folders go.
        max_runs: Refuse to plan more runs (default `experiments.engine.spec.MAX_RUNS`).
        log: Called with a line at each stage (default: silent).

    Returns:
        An `AttributionResult`; the tables are also in the folder.

    Raises:
        ScenarioError, InputError: bad scenario, option or results folder, or a folder another
            process is writing.
    """
    from experiments.engine.store import read_manifest
    from experiments.engine.sweep import default_out

    say = log or (lambda _m: None)
    metrics = list(dict.fromkeys(metrics or METRICS))
    if model_fn is None:
        bad = unknown_metrics(metrics)
        if bad:
            raise ExperimentError("--metric", "--metric", f"unknown metric '{bad[0]}'")
    for flag, v, least in (
        ("--exact-max", exact_max, 0),
        ("--permutations", permutations, 2),
        ("--interaction-levers", interaction_levers, 0),
    ):
        if v < least:
            raise ExperimentError(flag, flag, f"must be at least {least} (got {v})")
    if exact_max > 16:
        raise ExperimentError("--exact-max", "--exact-max", f"at most 16 (got {exact_max})")
    run_sets = [
        f"run.{k}={v}"
        for k, v in (("weeks", weeks), ("warmup_weeks", warmup_weeks))
        if v is not None
    ]
    pair = load_pair(a, b, sets, run_sets)
    if out is None:
        if resume:
            raise ExperimentError(a, "--resume", "give the folder to resume with --out DIR")
        out = default_out(f"attribution-{pair.a_name}-{pair.b_name}", Path(results_root))
    out = check_out(out)
    meta_path = out / META
    old = read_manifest(meta_path) if resume and meta_path.exists() else {}
    if resume and not old:
        raise ExperimentError(out, "--resume", f"no {META} there to resume")
    if not resume and meta_path.exists():
        raise ExperimentError(out, "--out", "already holds results; use --resume or another folder")
    if replications is None:
        replications = (old.get("settings") or {}).get("replications") or REPLICATIONS
    settings = Settings(
        a=str(pair.a_file),
        b=str(pair.b_file),
        sets=tuple(sets),
        metrics=tuple(metrics),
        replications=int(replications),
        weeks=weeks,
        warmup_weeks=warmup_weeks,
        root_seed=int(root_seed),
        exact_max=int(exact_max),
        permutations=int(permutations),
        interaction_levers=int(interaction_levers),
    )
    if old:
        was = dict(old.get("settings") or {})
        now = asdict(settings)
        for key in now:
            if key == "replications":
                continue
            before = was.get(key)
            here = list(now[key]) if isinstance(now[key], tuple) else now[key]
            if before != here:
                raise ExperimentError(
                    out, "--resume", f"the folder was started with {key} {before!r}, not {here!r}"
                )
    with FolderLock(out):
        return _attribute_locked(pair, out, settings, old, model_fn, executor, scheduler, say, {
            "workers": workers,
            "executor": executor,
            "scheduler": scheduler,
            "progress": progress,
            "command": command,
            "max_runs": max_runs,
            "results_root": results_root,
        })  # fmt: skip


def _attribute_locked(
    pair: Pair,
    out: Path,
    settings: Settings,
    old: dict[str, Any],
    model_fn: ModelFn | None,
    executor: str | Any,
    scheduler: str | None,
    say: Callable[[str], None],
    execution: dict[str, Any],
) -> AttributionResult:
    """`run_attribution` once the folder is checked and this process owns it."""
    from experiments.analyses.sensitivity import simulation

    n = pair.n
    exact = n <= settings.exact_max
    method = "exact" if exact else "sampled"
    orders = [] if exact else sample_orders(n, settings.permutations, settings.root_seed)
    masks = list(range(1 << n)) if exact else sorted({m for o in orders for m in chain(o)})
    reps = settings.replications
    n_inter = min(settings.interaction_levers, n) if not exact else 0
    extra = len(interaction_masks(n, range(n_inter))) if n_inter >= 2 else 0
    if len(masks) > MAX_SUBSETS:
        raise ExperimentError(pair.b_file, "--exact-max", f"{len(masks):,} subsets: too many")
    check_run_count(
        (len(masks) + extra) * reps,
        execution.get("max_runs"),
        pair.b_file,
        "--replications" if exact else "--permutations",
    )
    for m in masks:
        check_subset(pair, m)
    levers_meta = [
        {
            "name": lv.name,
            "label_en": lv.label("en"),
            "label_zh": lv.label("zh"),
            "declared": lv.declared,
            "scope": lever_scope(lv.name),
            "changes": [
                {"path": p, "a": None if x is MISSING else x, "b": None if y is MISSING else y}
                for p, x, y in lv.changes
            ],
        }
        for lv in pair.levers
    ]
    meta: dict[str, Any] = {
        "attribution": f"{pair.a_name} -> {pair.b_name}",
        "a": {"name": pair.a_name, "file": str(pair.a_file), **_labels(pair, "a")},
        "b": {"name": pair.b_name, "file": str(pair.b_file), **_labels(pair, "b")},
        "settings": asdict(settings),
        "method": method,
        "why": (
            f"{n} levers <= --exact-max {settings.exact_max}: every one of the 2^{n} = "
            f"{1 << n:,} subsets runs"
            if exact
            else f"{n} levers > --exact-max {settings.exact_max}: 2^{n} = {1 << n:,} subsets "
            f"would be too many; {len(orders)} sampled orders (antithetic pairs) pass through "
            f"{len(masks):,} of them"
        ),
        "levers": levers_meta,
        "orders": [list(o) for o in orders],
        "started": old.get("started") or _now(),
        "status": "running",
    }
    _write_json(out / META, meta)
    t0 = time.perf_counter()
    sweeps = []
    try:
        with simulation(model_fn, "dask" if scheduler else executor):
            say(f"{method}: {n} levers, {len(masks)} subsets x {reps} replications")
            sweeps.append(
                _run_masks(
                    pair, masks, out, out / EXPERIMENT_FILE, "attribution", settings, execution
                )
            )
            runs = pd.read_parquet(out / "runs.parquet")
            inter_levers: list[int] = []
            if n_inter >= 2:
                v, _, _ = analyse(pair, runs, settings.metrics[:1], method, orders, [])
                by = v.set_index("lever")["phi"].abs()
                ranked = sorted(range(n), key=lambda i: (-by[pair.levers[i].name], i))
                inter_levers = sorted(ranked[:n_inter])
                new = [m for m in interaction_masks(n, inter_levers) if m not in set(masks)]
                if new:
                    say(f"interactions of {n_inter} levers: {len(new)} more subsets")
                    folder = out / INTERACTIONS_DIR
                    folder.mkdir(exist_ok=True)
                    sweeps.append(
                        _run_masks(
                            pair,
                            new,
                            folder,
                            out / f"{INTERACTIONS_DIR}_experiment.yaml",
                            "attribution-interactions",
                            settings,
                            execution,
                        )
                    )
                    runs = pd.concat(
                        [runs, pd.read_parquet(folder / "runs.parquet")], ignore_index=True
                    )
        values, inter, summary = analyse(pair, runs, settings.metrics, method, orders, inter_levers)
    except BaseException as e:
        meta["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        with contextlib.suppress(OSError):
            _write_json(out / META, meta)
        raise
    write_csv(values, out / CSV)
    write_csv(inter, out / INTERACTIONS_CSV)
    a_p = load_scenario(pair.a_file, [*pair.sets, *_run_sets(settings)]).params
    meta.update(
        status="completed",
        finished=_now(),
        elapsed_s=round(time.perf_counter() - t0, 1),
        subsets=len(set(masks) | set(interaction_masks(n, inter_levers) if inter_levers else ())),
        runs=sum(s.total for s in sweeps),
        runs_failed=sum(s.errors for s in sweeps),
        interaction_levers=[pair.levers[i].name for i in inter_levers],
        street={
            "n_residents": a_p.street.n_residents,
            "n_communities": a_p.street.n_communities,
            "weeks": a_p.run.weeks,
            "warmup_weeks": a_p.run.warmup_weeks,
        },
        metrics={
            m: {
                **summary[m],
                "values": _records(values[values["metric"] == m]),
                "interactions": _records(inter[inter["metric"] == m]),
            }
            for m in settings.metrics
        },
    )
    _write_json(out / META, meta)
    return AttributionResult(out, values, inter, meta, list(pair.levers), sweeps)


def _labels(pair: Pair, key: str) -> dict[str, str]:
    return {f"label_{lang}": v for lang, v in pair.labels.get(key, {}).items()}


def _run_sets(settings: Settings) -> list[str]:
    out = []
    if settings.weeks is not None:
        out.append(f"run.weeks={settings.weeks}")
    if settings.warmup_weeks is not None:
        out.append(f"run.warmup_weeks={settings.warmup_weeks}")
    return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    recs = df.drop(columns=["metric"]).to_dict(orient="records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in recs]


# --------------------------------------------------------------------------- text


def _rate(metric: str) -> bool:
    return metric.endswith("_rate") or metric.startswith("satisfaction_")


def _fmt(x: Any, metric: str, signed: bool = False, unit: bool = True) -> str:
    """A value (or a signed difference) for the terminal: shares in % (differences in
    percentage points, " pts" when `unit`)."""
    if x is None or not np.isfinite(x):
        return "–"
    if _rate(metric):
        v = 100 * x
        text = f"{v:+.1f}" if signed else f"{v:.1f}"
        return text + ((" pts" if unit else "") if signed else "%")
    a = abs(x)
    d = 0 if a >= 100 else (1 if a >= 10 else 2)
    return f"{x:+,.{d}f}" if signed else f"{x:,.{d}f}"


def format_table(res: AttributionResult, metric: str | None = None) -> str:
    """The attribution of one metric (default: the primary one) as text for the terminal."""
    meta = res.meta
    metric = metric or meta["settings"]["metrics"][0]
    s = meta["metrics"][metric]
    t = res.values[res.values["metric"] == metric].sort_values("rank")
    sampled = meta["method"] == "sampled"

    def f(x: Any) -> str:
        return _fmt(x, metric, True, unit=False)

    unit = " (percentage points)" if _rate(metric) else ""
    lines = [
        f"{metric}: {meta['a']['name']} {_fmt(s['a_mean'], metric)} -> {meta['b']['name']} "
        f"{_fmt(s['b_mean'], metric)}; B - A = {_fmt(s['total'], metric, True)} "
        f"(95% CI {f(s['total_ci'][0])} to {f(s['total_ci'][1])}, {s['replications']} paired "
        "replications)",
        f"Shapley values{unit}, largest first:",
    ]
    head = f"  {'rank':>4}  {'lever':<22} {'value':>9}  {'95% CI (replications)':<22}"
    if sampled:
        head += f" {'± orders':>9} {'± both':>8}"
    lines += [head, "  " + "-" * (len(head) - 2)]
    for _, r in t.iterrows():
        ci = f"[{f(r['ci_low'])}, {f(r['ci_high'])}]"
        line = f"  {int(r['rank']):>4}  {r['lever'][:22]:<22} {f(r['phi']):>9}  {ci:<22}"
        if sampled:
            line += (
                f" {f(r['perm_half_width']).lstrip('+'):>9}"
                f" {f(r['total_half_width']).lstrip('+'):>8}"
            )
        lines.append(line + (" *" if r["excludes_zero"] else ""))
    err = s["additivity_error"]
    if err is None:
        lines.append("  no replication has every subset")
    else:
        why = (
            "they add up to B - A exactly when every subset runs"
            if not sampled
            else "they add up to B - A in every sampled order, hence also on average; the "
            "error of sampling orders is the '± orders' column (95%, over the antithetic pairs)"
        )
        lines.append(
            f"  sum of the values {f(s['sum_phi'])} = B - A {f(s['total'])} "
            f"(difference {err:.1e}: {why})"
        )
    lines.append(
        "  * the value's 95% interval excludes 0"
        + (" (± both: replications and orders combined)" if sampled else "")
    )
    it = res.interactions[res.interactions["metric"] == metric].sort_values("rank").head(5)
    if len(it):
        lines.append(
            "largest two-way interactions"
            + (
                " (Shapley interaction index; δ at A and at B):"
                if not sampled
                else f" among the {len(meta['interaction_levers'])} largest levers "
                "(δ at A and at B):"
            )
        )
        for _, r in it.iterrows():
            parts = []
            if np.isfinite(r["index"]):
                parts.append(
                    f"index {f(r['index'])} [{f(r['index_ci_low'])}, {f(r['index_ci_high'])}]"
                )
            for tag, name in (("at_a", "at A"), ("at_b", "at B")):
                parts.append(
                    f"{name} {f(r[tag])} [{f(r[tag + '_ci_low'])}, {f(r[tag + '_ci_high'])}]"
                )
            lines.append(f"  {r['lever_i']} x {r['lever_j']}: " + "; ".join(parts))
    return "\n".join(lines)


def format_levers(res: AttributionResult) -> str:
    """The levers and what each changes."""
    lines = [f"{len(res.levers)} levers differ ({res.meta['why']}):"]
    for lv in res.levers:
        tag = "declared" if lv.declared else "derived"
        lines.append(f"  {lv.name:<20} [{tag}; {len(lv.changes)} params] {lv.summary()}")
    return "\n".join(lines)
