"""A district study: every street of a table, one budget split across them by a rule.

`run_district` reads a district file (`experiments.engine.district_spec`), splits the budget
across the streets, and runs every street x replication (x the compared alternative) through
the sweep engine (`experiments.engine.sweep.run_sweep`: the same executors, durable results
store and resume as `linkage sweep`). Each street is one run of the street model, built from its
rows of the table (`street.communities`) with its share of the budget as its
`funding.special_fund` (and no lottery fund). Street s runs replication r with seed r of its
own seed stream (`experiments.engine.seeds.stream_seed`): streets are independent worlds, and
the two arms of a comparison share each street's seeds, so their differences are paired.

Split rules (`RULES`):

- `per_resident`: in proportion to residents.
- `need_weighted`: in proportion to the service hours the street's residents are expected to
  need per week: for every resident group g and need type k, residents in g x the catalog's
  rate of k for g x the mean hours of k (the base scenario's need catalog; a group activity's
  hours divided by its group size, as the model counts them). Elderly and disabled residents
  need more hours than others, so old streets get more per resident.
- `equal`: the same amount for every street.
- `performance`: a two-stage study. First every street runs a pilot (`performance.pilot_weeks`,
  default one year, with the budget split by `performance.pilot_rule`, per resident by
  default) on the same seeds; its result on `performance.metric` (mean over the replications)
  is the street's score. The study then splits the budget in proportion to residents x (score /
  the district's residents-weighted mean score) ^ `performance.weight`; for a metric where
  lower is better (cost per need met) the score is inverted. This is a bureau that funds
  streets on last year's results: the pilot is that "last year", the study's runs the years
  after it. The pilot is kept in `DIR/pilot/` (a results folder of its own).

Aggregates (over streets, then mean and 95% t interval over replications; an arm's district
figure of one replication needs every street of that replication):

- district totals: needs raised and met (sums), the need satisfaction rate and the needs-met
  rate over all the district's needs (each street weighted by its needs raised), the mean wait
  (weighted by needs met), government spending per year (sum), the cost per need met (total
  spending / needs met), active volunteers (sum), and the spread between streets: the worst
  and best street's satisfaction, their ratio (best / worst) and the residents-weighted Gini
  coefficient of the streets' satisfaction;
- per street: the street's metrics per arm, and the paired difference (compare - own arm) of
  its satisfaction and mean wait, ranked: which streets gain most;
- per community: satisfaction per arm (`satisfaction_cNN` of the street's runs).

Files written into the results folder `DIR`:

`district.json`: the settings, the district file's text, the table's SHA-256, the arms, every
    street's budget, the district totals and the status.
`district_table.csv`: the table as read, in canonical English columns.
`district_streets.csv`: one row per arm and street: rule, residents, communities, urban share,
    expected need hours per week, pilot score (performance), budget (yuan/year and per
    resident), and each metric of `STREET_METRICS` with `_ci_low`/`_ci_high`.
`district_totals.csv`: one row per arm (and `difference` when there are two: compare - own,
    paired by seed) and district metric: n, mean, ci_low, ci_high, excludes_zero.
`district_gains.csv`: with a comparison, one row per street: the paired difference of
    satisfaction and mean wait with their intervals, rank (1 = gains most).
`district_communities.csv`: one row per arm and community: street, community, residents, urban,
    satisfaction mean and interval.
`runs/`: the sweep (manifest, journal, parts, runs.parquet, timeseries.parquet).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analyses.compare import mean_ci
from experiments.engine.district_spec import (
    PERFORMANCE_METRICS,
    RULES,
    District,
    Mechanisms,
    load_district,
)
from experiments.engine.district_table import Street
from experiments.engine.errors import ExperimentError
from experiments.engine.folders import LOCK, FolderLock, check_out
from experiments.engine.spec import (
    Experiment,
    ExperimentSpec,
    ScenarioEntry,
    check_run_count,
    override,
)
from experiments.engine.store import atomic_write_bytes, read_manifest
from model.needs import Catalog
from model.schema import GROUPS

META = "district.json"
TABLE_COPY = "district_table.csv"
RUNS = "runs"
PILOT = "pilot"

RULE_LABELS = {
    "per_resident": ("per resident", "按常住人口"),
    "need_weighted": ("need-weighted", "按需求加权"),
    "equal": ("equal per street", "各街道平均"),
    "performance": ("performance-based", "按上年绩效"),
}
"""Names of the split rules, English and Chinese."""
assert set(RULE_LABELS) == set(RULES)

STREET_METRICS = (
    "need_satisfaction_rate",
    "needs_met_rate",
    "mean_wait_hours",
    "satisfaction_min_group",
    "cost_per_need_met",
    "gov_spending_annual",
    "active_volunteers",
    "needs_arisen",
    "needs_met",
)
"""Metrics of each street's runs kept in `district_streets.csv`."""

DISTRICT_METRICS = (
    "need_satisfaction_rate",
    "needs_met_rate",
    "mean_wait_hours",
    "cost_per_need_met",
    "gov_spending_annual",
    "active_volunteers",
    "needs_arisen",
    "needs_met",
    "worst_street_satisfaction",
    "best_street_satisfaction",
    "best_worst_ratio",
    "gini_streets",
)
"""District figures of `district_totals.csv`, in order."""

MAIN_METRIC = "need_satisfaction_rate"
"""The outcome streets are ranked on."""


# ----------------------------------------------------------------------------- split rules


def need_hours_per_week(street: Street, catalog: Catalog) -> float:
    """Service hours the street's residents are expected to need per week: residents of each
    group x the catalog's rate of each need type for that group x its mean hours (at the
    catalog rates, before trust thins them, which it does alike everywhere at the start)."""
    residents = street.group_residents()
    per_resident = catalog.rates @ catalog.hours  # [G]: hours per resident per week
    return float(sum(residents[g] * per_resident[i] for i, g in enumerate(GROUPS)))


def split_shares(
    rule: str,
    streets: list[Street],
    catalog: Catalog,
    scores: np.ndarray | None = None,
    weight: float = 1.0,
) -> np.ndarray:
    """Each street's share of the district budget (they add up to 1).

    Args:
        rule: One of `RULES`.
        streets: The streets.
        catalog: The need catalog (need_weighted).
        scores: The streets' pilot scores, higher is better (performance).
        weight: The exponent of the relative score (performance).

    Raises:
        ValueError: an unknown rule, or performance without scores.
    """
    residents = np.array([s.residents for s in streets], dtype=float)
    if rule == "per_resident":
        w = residents
    elif rule == "equal":
        w = np.ones(len(streets))
    elif rule == "need_weighted":
        w = np.array([need_hours_per_week(s, catalog) for s in streets])
        if not w.sum() > 0:
            w = residents  # a catalog without needs: nothing to weigh by
    elif rule == "performance":
        if scores is None:
            raise ValueError("the performance rule needs the pilot's scores")
        sc = np.asarray(scores, dtype=float)
        ok = np.isfinite(sc) & (sc > 0)
        mean = float((sc[ok] * residents[ok]).sum() / residents[ok].sum()) if ok.any() else 1.0
        rel = np.where(ok, sc / mean, 1.0)  # a street without a score counts as average
        w = residents * rel**weight
    else:
        raise ValueError(f"unknown rule '{rule}' (one of {', '.join(RULES)})")
    return w / w.sum()


# ----------------------------------------------------------------------------- arms


@dataclass(frozen=True)
class Arm:
    """One arm of the district study: a split rule on a base scenario's mechanisms.

    Attributes:
        key: Its name in the results (the first part of each scenario name).
        rule: The split rule.
        base: The mechanisms.
        label_en: English label.
        label_zh: Chinese label.
    """

    key: str
    rule: str
    base: Mechanisms
    label_en: str
    label_zh: str


def arms(d: District) -> list[Arm]:
    """The district's own arm, then the comparison's (if any), named by what differs."""
    own = (d.spec.rule, d.base)
    out = [own]
    if d.spec.compare is not None:
        out.append((d.spec.compare.rule or d.spec.rule, d.compare_base or d.base))
    rules_differ = len({r for r, _ in out}) > 1
    bases_differ = len({b.file for _, b in out}) > 1
    result = []
    for rule, base in out:
        en, zh = RULE_LABELS[rule]
        if rules_differ and bases_differ:
            key, le, lz = f"{base.name}+{rule}", f"{base.label_en}, {en}", f"{base.label_zh}·{zh}"
        elif bases_differ:
            key, le, lz = base.name, base.label_en, base.label_zh
        else:
            key, le, lz = rule, f"budget {en}", f"预算{zh}"
        result.append(Arm(key, rule, base, le, lz))
    if len(result) == 2 and result[0].key == result[1].key:  # e.g. two files of the same name
        b = result[1]
        result[1] = Arm(b.key + "_compare", b.rule, b.base, b.label_en, b.label_zh)
    return result


def street_overrides(
    d: District, street: Street, amount: float, run: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The overrides that make a base scenario into one street of the district.

    The district file's own parameters first, then the street's table, its budget and `run`
    (e.g. the pilot's length); the table and the budget always win.
    """
    comms = street.communities_param()
    return (
        *d.overrides,
        "street.communities=null",
        f"street.n_residents={street.residents}",
        f"street.n_communities={len(comms)}",
        *(override(f"street.communities.{k}", v) for k, v in comms.items()),
        override("funding.special_fund", round(float(amount), 2)),
        "funding.lottery_fund=0.0",
        *run,
    )


def scenario_key(arm: str, street: str) -> str:
    """The name of one street of one arm in the results (`<arm>/<street>`)."""
    return f"{arm}/{street}"


def build_experiment(
    d: District,
    label: str,
    plan: list[tuple[Arm, np.ndarray]],
    replications: int,
    run: tuple[str, ...] = (),
) -> Experiment:
    """The sweep of the district: every arm x street, street s on seed stream s.

    Args:
        d: The district.
        label: The experiment's name ("<district>" or "<district>-pilot").
        plan: Each arm with the budget of every street (yuan per year, table order).
        replications: Replications of every street.
        run: Extra overrides of every run (the pilot's length).
    """
    n = len(d.table.streets)
    entries = []
    for a_i, (arm, amounts) in enumerate(plan):
        for s_i, street in enumerate(d.table.streets):
            entries.append(
                ScenarioEntry(
                    index=a_i * n + s_i,
                    name=scenario_key(arm.key, street.name),
                    file=arm.base.file,
                    overrides=street_overrides(d, street, float(amounts[s_i]), run),
                    seed_stream=s_i,
                )
            )
    spec = ExperimentSpec.model_validate(
        {
            "name": label,
            "label_en": d.meta.get("label_en"),
            "label_zh": d.meta.get("label_zh"),
            "description": f"generated by linkage district from {d.path.name}: "
            f"{n} streets x {len(plan)} arms",
            "scenarios": {arm.key: str(arm.base.file) for arm, _ in plan},
            "replications": replications,
            "root_seed": d.spec.root_seed,
        }
    )
    return Experiment(
        path=d.path,
        text=d.text,
        spec=spec,
        name=label,
        scenarios=entries,
        baseline=entries[0].name,
        parameters=[],
        points=[{}],
    )


# ----------------------------------------------------------------------------- aggregates


def weighted_gini(x: np.ndarray, w: np.ndarray) -> float:
    """Gini coefficient of `x` with weights `w` (mean absolute difference over twice the mean;
    0: every street alike)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if not len(x) or not np.isfinite(x).all():
        return math.nan
    mu = float((w * x).sum() / w.sum())
    if mu <= 0:
        return math.nan
    diff = np.abs(x[:, None] - x[None, :])
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() ** 2 * mu))


def district_figures(runs: pd.DataFrame, residents: np.ndarray) -> dict[str, float]:
    """The district's figures of one arm and replication, from its streets' runs (in table
    order); NaN when a street's run is missing or failed."""
    nan = math.nan
    if len(runs) != len(residents) or (runs["status"] != "ok").any():
        return dict.fromkeys(DISTRICT_METRICS, nan)
    col = {c: runs[c].to_numpy(dtype=float) for c in runs.columns if c in STREET_METRICS}
    col["gov_spending_total"] = runs["gov_spending_total"].to_numpy(dtype=float)
    # cost per need met is accrual (cash + change in the time bank's liability), as per street
    cost = "gov_cost_accrual" if "gov_cost_accrual" in runs else "gov_spending_total"
    col["cost"] = runs[cost].to_numpy(dtype=float)
    arisen, met = col["needs_arisen"], col["needs_met"]
    sat = col["need_satisfaction_rate"]
    out = {
        "needs_arisen": float(arisen.sum()),
        "needs_met": float(met.sum()),
        "need_satisfaction_rate": float((sat * arisen).sum() / arisen.sum())
        if arisen.sum()
        else nan,
        "needs_met_rate": float(met.sum() / arisen.sum()) if arisen.sum() else nan,
        "mean_wait_hours": float(np.nansum(col["mean_wait_hours"] * met) / met.sum())
        if met.sum()
        else nan,
        "gov_spending_annual": float(col["gov_spending_annual"].sum()),
        "cost_per_need_met": float(col["cost"].sum() / met.sum()) if met.sum() else nan,
        "active_volunteers": float(col["active_volunteers"].sum()),
    }
    finite = np.isfinite(sat)
    worst = float(sat[finite].min()) if finite.any() else nan
    best = float(sat[finite].max()) if finite.any() else nan
    out["worst_street_satisfaction"] = worst
    out["best_street_satisfaction"] = best
    out["best_worst_ratio"] = best / worst if worst > 0 else nan
    out["gini_streets"] = weighted_gini(sat, residents) if finite.all() else nan
    return out


def _interval(values: np.ndarray) -> dict[str, float]:
    n, m, _sd, lo, hi = mean_ci(np.asarray(values, dtype=float))
    excl = bool(n > 1 and math.isfinite(lo) and (lo > 0 or hi < 0))
    return {"n": n, "mean": m, "ci_low": lo, "ci_high": hi, "excludes_zero": excl}


@dataclass
class DistrictTables:
    """The tables of a district study (see the module docstring)."""

    streets: pd.DataFrame
    totals: pd.DataFrame
    gains: pd.DataFrame | None
    communities: pd.DataFrame


def aggregate(
    d: District,
    plan: list[tuple[Arm, np.ndarray]],
    runs: pd.DataFrame,
    need_hours: np.ndarray,
    scores: np.ndarray | None,
) -> DistrictTables:
    """The per-street, district, gains and per-community tables of the finished runs."""
    streets = d.table.streets
    residents = np.array([s.residents for s in streets], dtype=float)
    runs = runs.copy()
    bad = runs["status"] != "ok"
    metric_cols = [c for c in runs.columns if c in STREET_METRICS or c.startswith("satisfaction_c")]
    runs.loc[bad, metric_cols] = np.nan
    key_of = {
        scenario_key(arm.key, s.name): (a_i, s_i)
        for a_i, (arm, _) in enumerate(plan)
        for s_i, s in enumerate(streets)
    }
    pos = runs["scenario"].map(key_of)
    runs["arm_i"] = [p[0] for p in pos]
    runs["street_i"] = [p[1] for p in pos]
    reps = sorted(runs["replication"].unique())

    # one street per row, per arm
    rows = []
    for a_i, (arm, amounts) in enumerate(plan):
        for s_i, s in enumerate(streets):
            sub = runs[(runs["arm_i"] == a_i) & (runs["street_i"] == s_i)]
            row: dict[str, Any] = {
                "arm": arm.key,
                "rule": arm.rule,
                "mechanisms": arm.base.name,
                "street": s.name,
                "residents": s.residents,
                "communities": len(s.communities),
                "urban_share": round(s.urban_share, 6),
                "need_hours_per_week": round(float(need_hours[s_i]), 3),
                "pilot_score": float(scores[s_i]) if scores is not None else math.nan,
                "budget_yuan": round(float(amounts[s_i]), 2),
                "budget_per_resident": round(float(amounts[s_i]) / s.residents, 4),
                "runs_ok": int((sub["status"] == "ok").sum()),
            }
            for m in STREET_METRICS:
                iv = _interval(sub[m].to_numpy(dtype=float)) if m in sub else _interval([])
                row[m] = iv["mean"]
                row[f"{m}_ci_low"] = iv["ci_low"]
                row[f"{m}_ci_high"] = iv["ci_high"]
            rows.append(row)
    street_table = pd.DataFrame(rows)

    # district figures per arm and replication
    figs: dict[int, pd.DataFrame] = {}
    for a_i in range(len(plan)):
        per_rep = []
        for r in reps:
            sub = runs[(runs["arm_i"] == a_i) & (runs["replication"] == r)].sort_values("street_i")
            per_rep.append({"replication": r, **district_figures(sub, residents)})
        figs[a_i] = pd.DataFrame(per_rep).set_index("replication")
    trows = []
    for a_i, (arm, _) in enumerate(plan):
        for m in DISTRICT_METRICS:
            trows.append(
                {"arm": arm.key, "metric": m, **_interval(figs[a_i][m].to_numpy(dtype=float))}
            )
    if len(plan) == 2:
        for m in DISTRICT_METRICS:
            diff = figs[1][m] - figs[0][m]  # paired: the same replication (seeds)
            trows.append({"arm": "difference", "metric": m, **_interval(diff.to_numpy())})
    totals = pd.DataFrame(trows)

    # which streets gain most (paired by seed)
    gains = None
    if len(plan) == 2:
        grows = []
        for s_i, s in enumerate(streets):
            a = runs[(runs["arm_i"] == 0) & (runs["street_i"] == s_i)].set_index("replication")
            b = runs[(runs["arm_i"] == 1) & (runs["street_i"] == s_i)].set_index("replication")
            row = {
                "street": s.name,
                "residents": s.residents,
                "urban_share": round(s.urban_share, 6),
                "budget_change_yuan": round(float(plan[1][1][s_i] - plan[0][1][s_i]), 2),
            }
            for m in ("need_satisfaction_rate", "mean_wait_hours"):
                d_m = (b[m] - a[m]).dropna().to_numpy(dtype=float)
                iv = _interval(d_m)
                short = "satisfaction" if m == MAIN_METRIC else "wait_hours"
                row[f"{short}_{plan[0][0].key}"] = float(a[m].mean())
                row[f"{short}_{plan[1][0].key}"] = float(b[m].mean())
                row[f"{short}_gain"] = iv["mean"]
                row[f"{short}_gain_ci_low"] = iv["ci_low"]
                row[f"{short}_gain_ci_high"] = iv["ci_high"]
                row[f"{short}_gain_excludes_zero"] = iv["excludes_zero"]
                row["pairs"] = iv["n"]
            grows.append(row)
        gains = pd.DataFrame(grows)
        order = gains["satisfaction_gain"].rank(ascending=False, method="first")
        gains.insert(0, "rank", order.fillna(len(gains)).astype(int))
        gains = gains.sort_values("rank", ignore_index=True)

    # per community
    crows = []
    for a_i, (arm, _) in enumerate(plan):
        for s_i, s in enumerate(streets):
            sub = runs[(runs["arm_i"] == a_i) & (runs["street_i"] == s_i)]
            for c_i, c in enumerate(s.communities):
                colname = f"satisfaction_c{c_i:02d}"
                v = sub[colname].to_numpy(dtype=float) if colname in sub else np.array([])
                iv = _interval(v)
                crows.append(
                    {
                        "arm": arm.key,
                        "street": s.name,
                        "community": c.community,
                        "residents": c.residents,
                        "urban": c.urban,
                        "satisfaction": iv["mean"],
                        "satisfaction_ci_low": iv["ci_low"],
                        "satisfaction_ci_high": iv["ci_high"],
                    }
                )
    return DistrictTables(street_table, totals, gains, pd.DataFrame(crows))


# ----------------------------------------------------------------------------- running


@dataclass
class DistrictResult:
    """What `run_district` did and found.

    Attributes:
        path: The results folder.
        district: The district.
        arms: The arms (own first).
        tables: The result tables.
        runs: Runs of the study (pilot excluded); ok and errors among them.
        ran: Runs this session ran (pilot included).
        elapsed_s: Wall time of this session.
        first_error: The first failed run, if any.
    """

    path: Path
    district: District
    arms: list[Arm]
    tables: DistrictTables
    runs: int
    ok: int
    errors: int
    ran: int = 0
    elapsed_s: float = 0.0
    first_error: str | None = None
    files: list[Path] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from experiments.engine.outputs import to_json

    atomic_write_bytes(path, (to_json(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    from experiments.engine.outputs import csv_safe

    buf = io.StringIO()
    csv_safe(df).to_csv(buf, index=False, lineterminator="\n")
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
    return path


def _settings(d: District, replications: int, weeks: int | None, warmup: int | None) -> dict:
    return {
        "district_file_sha256": hashlib.sha256(d.text.encode("utf-8")).hexdigest(),
        "table_sha256": d.table.sha256,
        "replications": replications,
        "weeks": weeks,
        "warmup_weeks": warmup,
        "root_seed": d.spec.root_seed,
    }


def planned_runs(d: District, replications: int) -> int:
    """Runs the district study makes (pilot included)."""
    n = len(d.table.streets) * replications
    return n * len(d.rules) + (n if d.uses_performance else 0)


def run_district(
    file: str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: str | Any = "local",
    scheduler: str | None = None,
    resume: bool = False,
    replications: int | None = None,
    weeks: int | None = None,
    warmup_weeks: int | None = None,
    progress: bool | None = None,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
    log: Callable[[str], None] | None = None,
) -> DistrictResult:
    """Run a district study (see the module docstring) and write its results folder.

    Args:
        file: The district file.
        out: The results folder (default: a new `results/<name>-<timestamp>`).
        workers, executor, scheduler: As for `linkage sweep`.
        resume: Continue an interrupted study in `out` (same file and table).
        replications: Override the file's replications.
        weeks: Override run.weeks of every street (not of the pilot); warmup_weeks likewise.
        progress: Progress bars (default: when stderr is a terminal).
        command: The command line, for the manifests.
        results_root: Where default folders go.
        max_runs: Refuse a study of more runs than this (pilot included).
        log: Called with a line at each stage (default: silent).

    Returns:
        A `DistrictResult`; the tables are also written into the folder.

    Raises:
        ScenarioError, InputError: bad district file, table, option or results folder, or a
            folder another process is writing.
        KeyboardInterrupt: after saving what finished; `--resume` continues.
    """
    from experiments.engine.sweep import default_out

    d = load_district(file)
    reps = replications if replications is not None else d.spec.replications
    check_run_count(
        planned_runs(d, reps),
        max_runs,
        d.path,
        "--replications" if replications is not None else "replications",
    )
    if out is None:
        if resume:
            raise ExperimentError(d.path, "--resume", "give the folder to resume with --out DIR")
        out = default_out(d.name, Path(results_root))
    out = check_out(out)
    with FolderLock(out):
        return _district_locked(
            d, out, reps, replications, weeks, warmup_weeks, workers, executor, scheduler,
            resume, progress, command, max_runs, log or (lambda _m: None),
        )  # fmt: skip


def _district_locked(
    d: District,
    out: Path,
    reps: int,
    replications: int | None,
    weeks: int | None,
    warmup_weeks: int | None,
    workers: int | None,
    executor: str | Any,
    scheduler: str | None,
    resume: bool,
    progress: bool | None,
    command: str | None,
    max_runs: int | None,
    log: Callable[[str], None],
) -> DistrictResult:
    """`run_district` once the folder is checked and this process owns it."""
    from experiments.engine.sweep import run_sweep

    meta_path = out / META
    if not resume and (meta_path.exists() or any(f.name != LOCK for f in out.iterdir())):
        raise ExperimentError(out, "--out", "already holds results; use --resume or another folder")
    if resume:
        if not meta_path.exists():
            raise ExperimentError(out, "--resume", f"no {META} there to resume")
        old = read_manifest(meta_path)
        stored = old.get("settings", {})
        if replications is None:
            reps = int(stored.get("replications", reps))
        if weeks is None:
            weeks = stored.get("weeks")
        if warmup_weeks is None:
            warmup_weeks = stored.get("warmup_weeks")
        now = _settings(d, reps, weeks, warmup_weeks)
        for k, v in now.items():
            if stored.get(k) != v:
                what = {
                    "district_file_sha256": f"the district file {d.path}",
                    "table_sha256": f"the table {d.table.path}",
                }.get(k, f"--{k.replace('_', '-')}")
                raise ExperimentError(
                    out,
                    "--resume",
                    f"{what} changed since this study started ({short(stored.get(k))} -> "
                    f"{short(v)}); start a new study (or restore it)",
                )
    t0 = time.perf_counter()
    plan_arms = arms(d)
    catalog = Catalog.from_params(d.base.params)
    streets = d.table.streets
    need_hours = np.array([need_hours_per_week(s, catalog) for s in streets])
    meta: dict[str, Any] = {
        "district": d.name,
        "file": str(d.path.resolve()),
        "file_text": d.text,
        "table": str(d.table.path.resolve()),
        "sheet": d.table.sheet,
        "meta": d.meta,
        "settings": _settings(d, reps, weeks, warmup_weeks),
        "budget": d.spec.budget,
        "streets": len(streets),
        "communities": d.table.n_communities,
        "residents": d.table.residents,
        "arms": [
            {
                "key": a.key,
                "rule": a.rule,
                "scenario": str(a.base.file),
                "scenario_name": a.base.name,
                "label_en": a.label_en,
                "label_zh": a.label_zh,
            }
            for a in plan_arms
        ],
        "started": _now(),
        "status": "running",
        "command": command,
    }
    if resume:
        meta["started"] = read_manifest(meta_path).get("started", meta["started"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / TABLE_COPY, d.table.csv_text().encode("utf-8"))
    _write_json(meta_path, meta)
    again = f"linkage district {d.path} --resume --out {out}"
    ran = 0
    try:
        scores = None
        if d.uses_performance:
            perf = d.spec.performance
            pilot_arm = Arm("pilot", perf.pilot_rule, d.base, "pilot", "试点年")
            pilot_amounts = d.spec.budget * split_shares(perf.pilot_rule, streets, catalog)
            pilot = build_experiment(
                d,
                f"{d.name}-pilot",
                [(pilot_arm, pilot_amounts)],
                reps,
                (f"run.weeks={perf.pilot_weeks}", f"run.warmup_weeks={perf.pilot_warmup_weeks}"),
            )
            log(f"pilot: {len(streets)} streets x {reps} replications, {perf.pilot_weeks} weeks")
            res = run_sweep(
                pilot,
                out / PILOT,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                resume=(out / PILOT / "manifest.json").exists(),
                replications=reps,
                progress=progress,
                command=command,
                max_runs=max_runs,
                resume_command=again,
            )
            ran += res.ran
            scores = pilot_scores(out / PILOT, d, pilot_arm, perf.metric)
            meta["pilot"] = {
                "metric": perf.metric,
                "weeks": perf.pilot_weeks,
                "warmup_weeks": perf.pilot_warmup_weeks,
                "rule": perf.pilot_rule,
                "weight": perf.weight,
                "scores": dict(zip([s.name for s in streets], scores.tolist(), strict=True)),
            }
        plan = []
        for arm in plan_arms:
            sign = PERFORMANCE_METRICS[d.spec.performance.metric]
            sc = None if scores is None else (scores if sign > 0 else 1.0 / scores)
            shares = split_shares(
                arm.rule,
                streets,
                Catalog.from_params(arm.base.params),
                sc,
                d.spec.performance.weight,
            )
            plan.append((arm, d.spec.budget * shares))
        meta["budgets"] = {
            arm.key: dict(zip([s.name for s in streets], amounts.round(2).tolist(), strict=True))
            for arm, amounts in plan
        }
        _write_json(meta_path, meta)
        exp = build_experiment(d, d.name, plan, reps)
        log(f"study: {len(streets)} streets x {len(plan)} arms x {reps} replications")
        res = run_sweep(
            exp,
            out / RUNS,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            resume=(out / RUNS / "manifest.json").exists(),
            replications=reps,
            weeks=weeks,
            warmup_weeks=warmup_weeks,
            progress=progress,
            command=command,
            max_runs=max_runs,
            resume_command=again,
        )
        ran += res.ran
    except BaseException as e:
        meta["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        with contextlib.suppress(OSError):
            _write_json(meta_path, meta)
        raise
    runs = pd.read_parquet(out / RUNS / "runs.parquet")
    tables = aggregate(d, plan, runs, need_hours, scores)
    files = [
        _write_csv(tables.streets, out / "district_streets.csv"),
        _write_csv(tables.totals, out / "district_totals.csv"),
        _write_csv(tables.communities, out / "district_communities.csv"),
    ]
    if tables.gains is not None:
        files.append(_write_csv(tables.gains, out / "district_gains.csv"))
    meta.update(
        status="completed",
        finished=_now(),
        runs=res.total,
        ok=res.ok,
        errors=res.errors,
        totals=json.loads(tables.totals.to_json(orient="records")),
    )
    _write_json(meta_path, meta)
    return DistrictResult(
        path=out,
        district=d,
        arms=plan_arms,
        tables=tables,
        runs=res.total,
        ok=res.ok,
        errors=res.errors,
        ran=ran,
        elapsed_s=time.perf_counter() - t0,
        first_error=res.first_error,
        files=files,
    )


def short(value: Any) -> str:
    """A setting for a message (hashes cut to 12 characters)."""
    text = str(value)
    return text[:12] if len(text) == 64 else text


def pilot_scores(folder: Path, d: District, arm: Arm, metric: str) -> np.ndarray:
    """Each street's pilot score: the mean of `metric` over its pilot replications.

    Raises:
        ExperimentError: every pilot run of a street failed.
    """
    runs = pd.read_parquet(folder / "runs.parquet")
    out = []
    for s in d.table.streets:
        sub = runs[(runs["scenario"] == scenario_key(arm.key, s.name)) & (runs["status"] == "ok")]
        v = sub[metric].to_numpy(dtype=float) if metric in sub else np.array([])
        v = v[np.isfinite(v)]
        if not len(v):
            raise ExperimentError(
                folder, s.name, f"no pilot run of this street gave a {metric}; see runs.parquet"
            )
        out.append(float(v.mean()))
    return np.array(out)


def load_district_results(folder: str | Path) -> dict[str, Any]:
    """The tables and settings of a district results folder (for the report).

    Raises:
        ExperimentError: not a finished district results folder.
    """
    folder = Path(folder)
    meta = read_manifest(folder / META)
    if not meta:
        raise ExperimentError(folder, META, "missing; not a results folder of 'linkage district'")
    if meta.get("status") != "completed" or not (folder / "district_streets.csv").exists():
        raise ExperimentError(
            folder,
            META,
            f"the study is {meta.get('status', 'unfinished')}; finish it with: linkage district "
            f"{meta.get('file', 'FILE')} --resume --out {folder}",
        )
    out: dict[str, Any] = {"meta": meta, "folder": folder}
    for name in ("streets", "totals", "gains", "communities"):
        path = folder / f"district_{name}.csv"
        out[name] = pd.read_csv(path) if path.exists() else None
    return out
