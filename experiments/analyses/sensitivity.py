"""Global sensitivity analysis: which levers and uncertainties move the outcomes (SALib).

`run_sensitivity` reads an experiment file (its `levers:` and `uncertainties:` with `range:` or
`values:`), draws a SALib design over them, runs every point through the ordinary sweep
machinery (`experiments.engine.sweep.run_sweep`: the same executors, results store, resume and
manifest as `linkage sweep`), averages the replications of each point (replication r of every
point runs with the same seed: common random numbers) and analyses each outcome with SALib:

- `sobol`: Saltelli/Sobol' sampling (`SALib.sample.sobol`, N(D+2) points for D parameters, no
  second-order terms) and `SALib.analyze.sobol`: first-order (S1) and total (ST) indices with
  bootstrap confidence intervals. N is the experiment's `samples` (rounded up to a power of 2).
- `morris`: Morris trajectories (`SALib.sample.morris`, r(D+1) points for r = `samples`) and
  `SALib.analyze.morris`: mu* (mean absolute elementary effect, in outcome units per
  normalised step of the input) with its confidence interval, mu and sigma (spread: interaction
  or non-linearity).

Weekly time series are not kept unless the file sets `timeseries:` itself.

Every parameter is sampled on [0, 1] and mapped to its value as the experiment's designs map
it: `low + u (high - low)` for a `range` (floored for `integer: true`), the ⌊u·k⌋-th entry for
`values` (a categorical factor). Indices are invariant under this affine map.

Files written into the results folder, next to the sweep's `runs.parquet` and `manifest.json`:

`sensitivity.csv`, one row per (scenario, outcome, parameter):
    scenario, outcome, method ("sobol" or "morris"), rank (1 = most influential: by ST, or by
    mu*), parameter (dotted path), kind ("lever" or "uncertainty"), low, high (the range; empty
    for a categorical parameter), S1, S1_conf, ST, ST_conf (Sobol; the *_conf columns are the
    half-widths of the 95% bootstrap intervals), mu, mu_star, mu_star_conf, sigma (Morris),
    n_points, replications, outcome_mean, outcome_sd (over the point means), noise_share (share
    of the variance of the point means that is replication noise; empty with 1 replication),
    figure (the PNG of this scenario and outcome), note (why indices are missing, if they are).
`sensitivity_<outcome>.png` (one scenario) or `sensitivity_<scenario>_<outcome>.png`:
    the parameters ranked, as horizontal bars (ST and S1, or mu* and sigma) with 95% intervals.
`sensitivity.json`: the method, sample size, sampler seed, parameters, outcomes and timings.

Sobol' estimates from few samples are noisy and can be slightly negative; read the intervals.
With common random numbers, a parameter the model never reads (a lever switched off in the
scenario) gives bit-identical runs, hence a total index of exactly zero.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine import executors
from experiments.engine.folders import FolderLock, check_out, safe_name
from experiments.engine.outputs import to_json, write_csv
from experiments.engine.seeds import design_rng
from experiments.engine.spec import (
    MAX_SAMPLES,
    Experiment,
    ExperimentError,
    Parameter,
    check_run_count,
    load_experiment,
    unknown_metrics,
)
from experiments.engine.spec import unit_to_value as spec_unit_to_value

OUTCOMES = (
    "need_satisfaction_rate",
    "cost_per_need_met",
    "gov_spending_total",
    "satisfaction_min_group",
)
"""Outcomes analysed when none are named."""

METHODS = ("sobol", "morris")
CSV = "sensitivity.csv"
META = "sensitivity.json"
CONF_LEVEL = 0.95
NUM_RESAMPLES = 200
COLUMNS = (
    "scenario", "outcome", "method", "rank", "parameter", "kind", "low", "high",
    "S1", "S1_conf", "ST", "ST_conf", "mu", "mu_star", "mu_star_conf", "sigma",
    "n_points", "replications", "outcome_mean", "outcome_sd", "noise_share", "figure", "note",
)  # fmt: skip

ModelFn = Callable[[Any, int], Any]
"""`model_fn(params, seed)` returning an object with a `summary` dict, like `model.run_model`."""


# --------------------------------------------------------------------------- the model hook


@contextlib.contextmanager
def simulation(model_fn: ModelFn | None, executor: Any = "local") -> Iterator[None]:
    """Let the executors call `model_fn(params, seed)` instead of the simulation.

    Replaces `experiments.engine.executors.simulate` (the executors' single call into the model) for
    the duration of the block. Local pool workers are forked inside the block and inherit it;
    a Dask cluster's workers would not, so a custom function refuses the Dask executor.
    """
    if model_fn is None:
        yield
        return
    if executor == "dask" or getattr(executor, "name", None) == "dask":
        raise ValueError("a custom model_fn runs only with the local executors, not Dask")
    old = executors.simulate
    executors.simulate = model_fn
    try:
        yield
    finally:
        executors.simulate = old


# --------------------------------------------------------------------------- the design


@dataclass
class Design:
    """A SALib sample over an experiment's parameters.

    Attributes:
        method: "sobol" or "morris".
        samples: Base sample size N (Sobol') or number of trajectories r (Morris).
        parameters: The varied parameters, in the experiment's order.
        unit: The SALib sample on [0, 1]^D, one row per point.
        points: The parameter values of each point (what the runs are given).
        seed: The sampler's seed (a function of the experiment's root_seed).
        num_levels: Morris grid levels.
    """

    method: str
    samples: int
    parameters: list[Parameter]
    unit: np.ndarray
    points: list[dict[str, Any]]
    seed: int
    num_levels: int = 4

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem (every parameter on [0, 1])."""
        return problem_of(self.parameters)


def problem_of(parameters: list[Parameter]) -> dict[str, Any]:
    """The SALib problem of the parameters, each on the unit interval."""
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[0.0, 1.0]] * len(parameters),
    }


def unit_to_value(p: Parameter, u: float) -> Any:
    """The value of parameter `p` at unit coordinate `u` (as the experiment designs map it,
    through its distribution: `experiments.engine.spec.unit_to_value`)."""
    return spec_unit_to_value(p.spec, u)


def sampler_seed(root_seed: int) -> int:
    """The SALib sampler's seed: drawn from the experiment's design stream."""
    return int(design_rng(root_seed).integers(2**31 - 1))


def make_design(
    exp: Experiment,
    method: str = "sobol",
    samples: int | None = None,
    num_levels: int = 4,
    *,
    replications: int | None = None,
    max_runs: int | None = None,
) -> Design:
    """Draw the SALib design of an experiment (a pure function of its root_seed).

    Args:
        exp: The loaded experiment; its levers and uncertainties are the factors.
        method: "sobol" (Saltelli/Sobol' sampling, no second order) or "morris".
        samples: N (rounded up to a power of 2) or trajectories (default: the spec's).
        num_levels: Morris grid levels.
        replications: Replications per point (default: the spec's), for the run count.
        max_runs: Refuse a design of more runs (default `experiments.engine.spec.MAX_RUNS`), counted
            before any point is drawn.

    Raises:
        ExperimentError: no parameters, no sample size, too many runs, or an unknown method.
    """
    try:
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        from experiments.engine.errors import InputError

        raise InputError(
            "sensitivity analysis needs SALib (pip install 'four-society-linkage[sensitivity]')"
        ) from None
    if method not in METHODS:
        raise ExperimentError(exp.path, "--method", f"must be sobol or morris, got '{method}'")
    params = list(exp.parameters)
    if len(params) < 2:
        raise ExperimentError(
            exp.path, "levers", "sensitivity analysis needs at least two levers or uncertainties"
        )
    n = samples if samples is not None else exp.spec.samples
    field = "--samples" if samples is not None else "samples"
    if n is None or n < 2:
        raise ExperimentError(
            exp.path, "samples", "give 'samples: N' (N >= 2) in the file or --samples N"
        )
    if n > MAX_SAMPLES:
        raise ExperimentError(exp.path, field, f"at most {MAX_SAMPLES:,} (got {n:,})")
    if method == "sobol":
        n = 1 << max(1, math.ceil(math.log2(n)))
    d = len(params)
    n_points = n * (d + 2) if method == "sobol" else n * (d + 1)
    reps = exp.spec.replications if replications is None else replications
    check_run_count(n_points * len(exp.scenarios) * reps, max_runs, exp.path, field)
    seed = sampler_seed(exp.spec.root_seed)
    problem = problem_of(params)
    if method == "sobol":
        unit = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    else:
        unit = morris_sample.sample(problem, n, num_levels=num_levels, seed=seed)
    points = [
        {p.name: unit_to_value(p, u) for p, u in zip(params, row, strict=True)} for row in unit
    ]
    return Design(method, n, params, np.asarray(unit, dtype=float), points, seed, num_levels)


def design_experiment(exp: Experiment, design: Design) -> Experiment:
    """The experiment with the design's points in place of its own."""
    return dataclasses.replace(exp, points=design.points)


# --------------------------------------------------------------------------- analysis


def point_means(
    runs: pd.DataFrame, scenario: str, outcome: str, n_points: int
) -> tuple[np.ndarray, float]:
    """Mean of `outcome` over the successful replications of each point, and the noise share.

    Returns:
        The means in point order (NaN where a point has no successful run) and the share of the
        variance of those means that is replication noise (NaN with one replication).
    """
    ok = runs[(runs["scenario"] == scenario) & (runs["status"] == "ok")]
    g = ok.groupby("point")[outcome]
    means = g.mean().reindex(range(n_points)).to_numpy(dtype=float)
    counts = g.count().reindex(range(n_points)).to_numpy(dtype=float)
    noise = math.nan
    if not np.all(np.isfinite(means)):
        return means, noise
    var_means = float(np.var(means, ddof=1)) if len(means) > 1 else math.nan
    if counts.min() > 1 and var_means > 0:
        within = g.var(ddof=1).reindex(range(n_points)).to_numpy(dtype=float)
        noise = float(np.nanmean(within / counts) / var_means)
    return means, noise


def analyze(design: Design, y: np.ndarray, seed: int | None = None) -> dict[str, np.ndarray]:
    """SALib analysis of one outcome (point means `y`, in design order).

    Returns:
        Arrays per index name: S1, S1_conf, ST, ST_conf (sobol) or mu, mu_star, mu_star_conf,
        sigma (morris).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    seed = design.seed if seed is None else seed
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if design.method == "sobol":
            r = sobol_analyze.analyze(
                design.problem,
                y,
                calc_second_order=False,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=seed,
            )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            r = morris_analyze.analyze(
                design.problem,
                design.unit,
                y,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                num_levels=design.num_levels,
                seed=seed,
            )
            keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    return {k: np.asarray(r[k], dtype=float) for k in keys}


def figure_name(outcome: str, scenario: str, single: bool) -> str:
    """File name of the chart of one scenario and outcome."""
    stem = outcome if single else f"{scenario}_{outcome}"
    return f"sensitivity_{re.sub(r'[^A-Za-z0-9_.-]+', '_', stem)}.png"


def analyze_runs(
    runs: pd.DataFrame, design: Design, scenarios: list[str], outcomes: list[str]
) -> pd.DataFrame:
    """The sensitivity table (columns `COLUMNS`) of a finished design's runs."""
    rows = []
    n = len(design.points)
    for sc in scenarios:
        for outcome in outcomes:
            y, noise = point_means(runs, sc, outcome, n)
            reps = int(runs[(runs["scenario"] == sc)].groupby("point").size().max())
            note = ""
            idx: dict[str, np.ndarray] = {}
            if not np.all(np.isfinite(y)):
                note = f"{int((~np.isfinite(y)).sum())} points have no value (failed runs or NaN)"
            elif np.ptp(y) == 0:
                note = "the outcome did not vary"
            else:
                idx = analyze(design, y)
            rank_key = "ST" if design.method == "sobol" else "mu_star"
            order = (
                np.argsort(-np.nan_to_num(idx[rank_key], nan=-np.inf), kind="stable")
                if idx
                else np.arange(len(design.parameters))
            )
            ranks = np.empty(len(order), dtype=int)
            ranks[order] = np.arange(1, len(order) + 1)
            fin = y[np.isfinite(y)]
            for j, p in enumerate(design.parameters):
                lo, hi = p.spec.range if p.spec.range is not None else (math.nan, math.nan)
                row = {
                    "scenario": sc,
                    "outcome": outcome,
                    "method": design.method,
                    "rank": int(ranks[j]) if idx else None,
                    "parameter": p.name,
                    "kind": p.kind,
                    "low": lo,
                    "high": hi,
                    "n_points": n,
                    "replications": reps,
                    "outcome_mean": float(fin.mean()) if len(fin) else math.nan,
                    "outcome_sd": float(fin.std(ddof=1)) if len(fin) > 1 else math.nan,
                    "noise_share": noise,
                    "figure": figure_name(outcome, sc, len(scenarios) == 1) if idx else "",
                    "note": note,
                }
                row.update({k: float(v[j]) for k, v in idx.items()})
                rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return table.sort_values(["scenario", "outcome", "rank"], kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- charts


def plot_outcome(table: pd.DataFrame, path: Path, title: str) -> Path:
    """A ranked horizontal bar chart of one scenario and outcome's indices, with 95% intervals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = table.sort_values("rank", ascending=False)  # rank 1 at the top
    y = np.arange(len(t))
    fig = Figure(figsize=(8, 1.2 + 0.38 * len(t)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    h = 0.38
    if t["method"].iloc[0] == "sobol":
        bars = (
            ("ST", "ST_conf", "total (ST)", "#1f5f8b"),
            ("S1", "S1_conf", "first order (S1)", "#8ecae6"),
        )
        ax.set_xlabel("Sobol' index (share of output variance), 95% bootstrap interval")
        ax.axvline(0, color="black", lw=0.8)
    else:
        bars = (
            ("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)", "#1f5f8b"),
            ("sigma", None, "sigma (interactions, non-linearity)", "#8ecae6"),
        )
        ax.set_xlabel(f"Morris elementary effects ({t['outcome'].iloc[0]} per normalised step)")
    for k, (col, conf, label, color) in enumerate(bars):
        err = t[conf].to_numpy() if conf else None
        ax.barh(
            y + (h / 2 if k == 0 else -h / 2),
            t[col],
            height=h,
            xerr=err,
            color=color,
            label=label,
            capsize=2,
            error_kw={"lw": 0.8},
        )
    ax.set_yticks(
        y,
        [
            f"{p}  [{'L' if k == 'lever' else 'U'}]"
            for p, k in zip(t["parameter"], t["kind"], strict=True)
        ],
    )
    ax.legend(loc="lower right", fontsize="small")
    fig.suptitle(title, fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=120)
    return path


def plot_all(table: pd.DataFrame, folder: Path, design: Design, replications: int) -> list[Path]:
    """One chart per scenario and outcome that has indices; returns the files written."""
    out = []
    for (sc, outcome), t in table.groupby(["scenario", "outcome"], sort=False):
        if not t["figure"].iloc[0]:
            continue
        what = "Sobol' indices" if design.method == "sobol" else "Morris screening"
        n = f"N={design.samples}" if design.method == "sobol" else f"r={design.samples}"
        title = (
            f"{outcome} — {sc}\n{what}: {n}, {len(design.points)} points x {replications} "
            f"replication{'s' if replications != 1 else ''}\n[L] lever, [U] uncertainty"
        )
        out.append(plot_outcome(t, folder / t["figure"].iloc[0], title))
    return out


# --------------------------------------------------------------------------- the runner


@dataclass
class SensitivityResult:
    """What `run_sensitivity` did: the results folder, the index table and the files."""

    path: Path
    table: pd.DataFrame
    design: Design
    sweep: Any  # experiments.engine.sweep.SweepResult
    figures: list[Path] = field(default_factory=list)

    def top(self, outcome: str, k: int = 5, scenario: str | None = None) -> pd.DataFrame:
        """The `k` highest-ranked parameters of one outcome."""
        t = self.table[self.table["outcome"] == outcome]
        if scenario is not None:
            t = t[t["scenario"] == scenario]
        return t.sort_values("rank").head(k)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _latest(name: str, root: Path) -> Path | None:
    found = [p.parent for p in root.glob(f"{safe_name(name)}-*/{META}")]
    return max(found, key=lambda p: (p / META).stat().st_mtime) if found else None


def _settings(
    out: Path, resume: bool, method: str | None, samples: int | None, levels: int | None
) -> tuple[str, int | None, int, dict[str, Any]]:
    """Method, samples and levels: as given, or as stored in the folder when resuming."""
    meta: dict[str, Any] = {}
    if resume and (out / META).exists():
        from experiments.engine.store import read_manifest

        meta = read_manifest(out / META)
        if not all(k in meta for k in ("method", "samples_requested", "num_levels")):
            raise ExperimentError(out / META, "(file)", "not a sensitivity.json of linkage")
        for flag, given, key in (
            ("--method", method, "method"),
            ("--samples", samples, "samples_requested"),
            ("--levels", levels, "num_levels"),
        ):
            if given is not None and given != meta.get(key):
                raise ExperimentError(
                    out, flag, f"the folder was started with {key} {meta.get(key)}, not {given}"
                )
        return meta["method"], meta["samples_requested"], meta["num_levels"], meta
    return method or "sobol", samples, levels or 4, meta


def run_sensitivity(
    experiment: str | Path | Experiment,
    out: str | Path | None = None,
    *,
    method: str | None = None,
    samples: int | None = None,
    num_levels: int | None = None,
    outcomes: list[str] | None = None,
    replications: int | None = None,
    workers: int | None = None,
    executor: str | Any = "local",
    scheduler: str | None = None,
    resume: bool = False,
    model_fn: ModelFn | None = None,
    progress: bool | None = None,
    plots: bool = True,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
) -> SensitivityResult:
    """Sample, run (resumably, in parallel) and analyse a global sensitivity experiment.

    Args:
        experiment: The experiment file (levers and uncertainties with ranges), or a loaded one.
        out: Results folder (default: a new `results/<name>-<timestamp>`; with `resume`, the
            newest sensitivity folder of this experiment).
        method: "sobol" (default) or "morris"; when resuming, the folder's.
        samples: Sobol' base N or Morris trajectories (default: the spec's `samples`).
        num_levels: Morris grid levels (default 4).
        outcomes: Summary metrics to analyse (default: the spec's `metrics`, else `OUTCOMES`).
        replications: Override the spec's replications (averaged per point).
        workers, executor, scheduler: As for `linkage sweep`.
        resume: Run only what the folder does not hold yet, then analyse.
        model_fn: Evaluate `model_fn(params, seed)` instead of the simulation (tests, synthetic
            functions); runs through the same executors and store.
        progress: Show a progress bar (default: when stderr is a terminal).
        plots: Write the PNG charts.
        command: The command line, for the manifests.
        results_root: Where default folders go.
        max_runs: Refuse a design of more runs (default `experiments.engine.spec.MAX_RUNS`).

    Returns:
        A `SensitivityResult`; the table is also in `<out>/sensitivity.csv`.

    Raises:
        ScenarioError, InputError: bad experiment, option or results folder, or a folder
            another process is writing.
    """
    from experiments.engine.sweep import default_out

    if isinstance(experiment, Experiment):
        exp = experiment
    else:
        exp = load_experiment(
            experiment,
            max_runs=max_runs,
            replications=replications,
            check_metrics=model_fn is None,
        )
    root = Path(results_root)
    if out is None:
        out = (_latest(exp.name, root) if resume else None) or default_out(exp.name, root)
        if resume and not Path(out).exists():
            raise ExperimentError(
                root, "--resume", f"no earlier sensitivity results of '{exp.name}'; give --out DIR"
            )
    out = check_out(out)
    if not resume and ((out / META).exists() or (out / "manifest.json").exists()):
        raise ExperimentError(out, "--out", "already holds results; use --resume or another folder")
    if outcomes is not None and model_fn is None:
        bad = unknown_metrics(list(outcomes))
        if bad:
            raise ExperimentError(exp.path, "--outcome", f"unknown metric {', '.join(bad)}")
    with FolderLock(out):
        return _sensitivity_locked(
            exp, out, method, samples, num_levels, outcomes, replications, workers,
            executor, scheduler, resume, model_fn, progress, plots, command, root, max_runs,
        )  # fmt: skip


def _sensitivity_locked(
    exp: Experiment,
    out: Path,
    method: str | None,
    samples: int | None,
    num_levels: int | None,
    outcomes: list[str] | None,
    replications: int | None,
    workers: int | None,
    executor: str | Any,
    scheduler: str | None,
    resume: bool,
    model_fn: ModelFn | None,
    progress: bool | None,
    plots: bool,
    command: str | None,
    root: Path,
    max_runs: int | None,
) -> SensitivityResult:
    """`run_sensitivity` once the folder is checked and this process owns it."""
    from experiments.engine.sweep import run_sweep

    if samples is None and not (resume and (out / META).exists()):
        samples = exp.spec.samples
    method, req_samples, num_levels, meta = _settings(out, resume, method, samples, num_levels)
    design = make_design(
        exp, method, req_samples, num_levels, replications=replications, max_runs=max_runs
    )
    if outcomes is None:
        outcomes = list(meta.get("outcomes") or exp.spec.metrics or OUTCOMES)
    update: dict[str, Any] = {}
    if exp.spec.metrics is not None:
        update["metrics"] = list(dict.fromkeys([*exp.spec.metrics, *outcomes]))
    if "timeseries" not in exp.spec.model_fields_set:
        update["timeseries"] = False  # not used here; a file may still ask for them
    exp = dataclasses.replace(exp, spec=exp.spec.model_copy(update=update))
    meta = {
        "method": method,
        "samples_requested": req_samples,
        "samples": design.samples,
        "num_levels": num_levels,
        "calc_second_order": False,
        "sampler_seed": design.seed,
        "root_seed": exp.spec.root_seed,
        "n_points": len(design.points),
        "parameters": [
            {
                "name": p.name,
                "kind": p.kind,
                "range": list(p.spec.range) if p.spec.range is not None else None,
                "values": p.spec.values,
                "integer": p.spec.integer,
            }
            for p in design.parameters
        ],
        "scenarios": [s.name for s in exp.scenarios],
        "outcomes": list(outcomes),
        "experiment_file": str(exp.path.resolve()),
        "started": meta.get("started") or _now(),
        "status": "running",
    }
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / META, meta)
    t0 = time.perf_counter()
    try:
        with simulation(model_fn, "dask" if scheduler else executor):
            sweep = run_sweep(
                design_experiment(exp, design),
                out,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                resume=resume and (out / "manifest.json").exists(),
                replications=replications,
                progress=progress,
                command=command,
                results_root=root,
                max_runs=max_runs,
            )
    except BaseException as e:
        meta["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        with contextlib.suppress(OSError):
            _write_json(out / META, meta)
        raise
    runs = pd.read_parquet(out / "runs.parquet")
    missing = [m for m in outcomes if m not in runs.columns]
    if missing:
        have = ", ".join(c for c in runs.columns if c not in ("experiment", "scenario", "run_id"))
        raise ExperimentError(
            exp.path, "outcomes", f"unknown metric {', '.join(missing)} (the runs have: {have})"
        )
    table = analyze_runs(runs, design, [s.name for s in exp.scenarios], list(outcomes))
    write_csv(table, out / CSV)
    reps = int(table["replications"].max()) if len(table) else 0
    figures = plot_all(table, out, design, reps) if plots else []
    meta.update(
        status="completed",
        finished=_now(),
        replications=reps,
        runs=sweep.total,
        runs_ok=sweep.ok,
        runs_failed=sweep.errors,
        elapsed_s=round(time.perf_counter() - t0, 1),
        figures=[f.name for f in figures],
    )
    _write_json(out / META, meta)
    return SensitivityResult(out, table, design, sweep, figures)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from experiments.engine.store import atomic_write_bytes

    text = to_json(data, indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def format_ranking(table: pd.DataFrame, k: int = 5) -> str:
    """The top `k` parameters of each scenario and outcome, as text for the terminal."""
    lines = []
    for (sc, outcome), t in table.groupby(["scenario", "outcome"], sort=False):
        t = t.sort_values("rank")
        head = f"{outcome} ({sc})"
        if t["note"].iloc[0]:
            lines.append(f"{head}: {t['note'].iloc[0]}")
            continue
        lines.append(
            head
            + (
                f", noise share {t['noise_share'].iloc[0]:.0%}"
                if np.isfinite(t["noise_share"].iloc[0])
                else ""
            )
        )
        for _, r in t.head(k).iterrows():
            if r["method"] == "sobol":
                vals = f"ST {r['ST']:6.3f} ± {r['ST_conf']:.3f}   S1 {r['S1']:6.3f} ± {r['S1_conf']:.3f}"
            else:
                vals = f"mu* {r['mu_star']:.4g} ± {r['mu_star_conf']:.2g}   sigma {r['sigma']:.4g}"
            lines.append(f"  {int(r['rank']):2d}. {r['parameter']:<40s} {vals}")
    return "\n".join(lines)
