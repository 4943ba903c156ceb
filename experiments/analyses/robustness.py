"""How sure is the advice? Strategies compared across plausible futures (robust decision making).

A robustness study runs every strategy (a scenario file: a linkage mode, a funding strategy...)
in the same N *futures*: points of the uncertainty space drawn by a Latin hypercube over the
uncertainties' plausible ranges, each transformed by its distribution (a pure function of
`root_seed`). The comparison is paired: every strategy meets the same futures (identical
parameter values) and the same random numbers (replication r of future f has one seed,
`experiments.engine.seeds.point_seed`, for every strategy; different futures draw different
seeds). The runs go through the sweep engine (`experiments.engine.sweep.run_sweep`: parallel,
resumable after any kill, local processes or Dask).

A study file (YAML, validated whole before anything runs; unknown keys are errors):

```yaml
name: robustness_modes
label_en: How sure is the advice on linkage modes?
label_zh: 联动模式建议有多可靠?
strategies:                      # a list of scenario files, or a mapping name -> file
  siloed: ../scenarios/modes/siloed.yaml
  full_linkage: ../scenarios/modes/full_linkage.yaml
uncertainties: all-assumptions   # or a list of dotted paths, or a mapping of ranges
futures: 200                     # N futures (Latin hypercube)
replications: 1                  # runs per strategy and future (averaged)
root_seed: 20240620
weeks: 52
warmup_weeks: 13
outcomes:                        # the first leads the report; each is ranked
  - need_satisfaction_rate       # known metrics know their direction; others:
  - cost_per_need_met            #   {metric: higher} or {metric: lower}
  - satisfaction_min_group
satisficing:                     # a future is good enough when all of these hold
  need_satisfaction_rate: {min: 0.7}
  gov_spending_annual: {max: budget}   # budget: the run's special + lottery fund per year
discovery: {threshold: 0.5, max_dims: 3, min_cases: 5, screen: 3}
constants: {street.n_residents: 10000}
```

What it writes into the results folder, beside the sweep's `runs.parquet` and manifest:

- `robustness_values.csv`: strategy, future, outcome, value (mean over replications);
- `robustness_futures.csv`: each future's uncertainty values;
- `robustness_distributions.csv`: per strategy and outcome, the distribution across futures
  (mean, sd, min, 5/25/50/75/95th percentiles, max);
- `robustness_wins.csv`: per outcome and ordered pair, the futures in which the strategy beats,
  ties and loses to the other, and its win probability (ties count half; a strategy against
  itself is 0.5 and marked `itself`);
- `robustness_regret.csv`: per strategy and outcome, the regret (how far it falls short of the
  best strategy of each future, in the outcome's unit): mean, 90th percentile, maximum, and the
  share of futures in which it is the best;
- `robustness_satisficing.csv`: per strategy, the share of futures in which it meets every
  threshold (criterion `all`) and each threshold alone;
- `robustness_flips.csv`: per outcome and pair of strategies, how often the ranking flips and,
  with EMA Workbench's PRIM (`experiments.analyses.discovery`), the box of conditions under
  which it does, with its coverage and density, in English and Chinese;
- `robustness.json`: all of the above and the study's settings (strict JSON).

Every number is a function of the runs: the same runs give the same bytes, whatever executor or
number of workers made them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from experiments.analyses import discovery, parameter_words
from experiments.analyses.sensitivity import ModelFn, simulation
from experiments.engine.errors import ExperimentError, ScenarioError
from experiments.engine.folders import FolderLock, check_out
from experiments.engine.input_files import read_text, short_repr
from experiments.engine.outputs import to_json, write_csv
from experiments.engine.resources import locate
from experiments.engine.scenarios import read_yaml
from experiments.engine.seeds import design_rng
from experiments.engine.spec import (
    MAX_SAMPLES,
    Experiment,
    ScenarioRef,
    experiment_from_data,
    latin_hypercube,
    spec_error,
    unit_to_value,
)
from experiments.engine.uncertainties import ALL_ASSUMPTIONS

META = "robustness.json"
FILES = {
    "values": "robustness_values.csv",
    "futures": "robustness_futures.csv",
    "distributions": "robustness_distributions.csv",
    "wins": "robustness_wins.csv",
    "regret": "robustness_regret.csv",
    "satisficing": "robustness_satisficing.csv",
    "flips": "robustness_flips.csv",
}
"""The tables a study writes (key -> file name)."""

DEFAULT_OUTCOMES = ("need_satisfaction_rate", "cost_per_need_met", "satisfaction_min_group")
"""Outcomes when a study names none: need satisfaction, cost per need met, the worst-off
group's satisfaction."""

BETTER: dict[str, str] = {
    "need_satisfaction_rate": "higher",
    "needs_met_rate": "higher",
    "level0_needs_met_rate": "higher",
    "professional_needs_satisfaction": "higher",
    "professional_match_rate": "higher",
    "hidden_discovered_share": "higher",
    "service_quality_mean": "higher",
    "trust_mean": "higher",
    "active_volunteers": "higher",
    "volunteer_retention_annual": "higher",
    "needs_met": "higher",
    "cost_per_need_met": "lower",
    "gov_cost_accrual": "lower",
    "gov_spending_annual": "lower",
    "gov_spending_total": "lower",
    "mean_wait_hours": "lower",
    "p90_wait_hours": "lower",
    "needs_abandoned": "lower",
    "needs_pending": "lower",
    "equity_group_gap": "lower",
    "equity_community_gap": "lower",
    "timebank_liability_yuan": "lower",
}
"""Which direction is better, for the metrics that have one (`satisfaction_*`: higher; `cost_*`
and `*_cost_per_*`: lower)."""

QUANTILES = (("p05", 0.05), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p95", 0.95))


def better_of(metric: str) -> str | None:
    """ "higher" or "lower" when the metric has a known better direction, else None."""
    if metric in BETTER:
        return BETTER[metric]
    if metric.startswith("satisfaction_"):
        return "higher"
    if metric.startswith("cost_") or "_cost_per_" in metric:
        return "lower"
    return None


# --------------------------------------------------------------------------- the study file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML reads `yes` as true; no field here takes one
            raise ValueError("true/false is not allowed here")
        return value


class Threshold(_Strict):
    """One satisficing criterion: the metric at least `min`, or at most `max` (a number, or
    `budget`: the run's yearly budget, special fund plus lottery fund)."""

    min: float | Literal["budget"] | None = None
    max: float | Literal["budget"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Threshold:
        if (self.min is None) == (self.max is None):
            raise ValueError("give either 'min' or 'max'")
        return self

    @property
    def op(self) -> str:
        """ ">=" or "<="."""
        return ">=" if self.min is not None else "<="

    @property
    def bound(self) -> float | str:
        """The number, or "budget"."""
        return self.min if self.min is not None else self.max  # type: ignore[return-value]


class DiscoverySpec(_Strict):
    """Settings of scenario discovery (`experiments.analyses.discovery`)."""

    threshold: float = Field(0.5, gt=0, le=1, description="Least density of a reported box.")
    max_dims: int = Field(3, ge=1, le=10, description="Most parameters a box restricts.")
    min_cases: int = Field(5, ge=1, description="Fewest flips worth looking for conditions.")
    screen: int = Field(
        3,
        ge=0,
        le=1000,
        description="PRIM looks at this many uncertainties, those most rank-correlated with the "
        "pair's difference (0: all of them).",
    )


class RobustnessSpec(_Strict):
    """The validated content of a robustness study file."""

    name: str | None = None
    label_en: str | None = None
    label_zh: str | None = None
    description: str = ""
    strategies: list[str] | dict[str, str | ScenarioRef]
    uncertainties: dict[str, Any] | list[Any] | str = ALL_ASSUMPTIONS
    futures: int = Field(ge=2, le=MAX_SAMPLES)
    replications: int = Field(1, ge=1, le=10_000)
    root_seed: int = Field(20240620, ge=0, lt=2**63)
    weeks: int | None = Field(None, ge=1, le=5200)
    warmup_weeks: int | None = Field(None, ge=0, le=2600)
    outcomes: list[str] | dict[str, Literal["higher", "lower"]] = list(DEFAULT_OUTCOMES)
    satisficing: dict[str, Threshold] = Field(default_factory=dict)
    discovery: DiscoverySpec = Field(default_factory=DiscoverySpec)
    constants: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> RobustnessSpec:
        if len(self.strategies) < 2:
            raise ValueError("strategies: name at least two strategies to compare")
        if not self.outcomes:
            raise ValueError("outcomes: name at least one outcome")
        if isinstance(self.outcomes, list):
            dup = sorted({m for m in self.outcomes if self.outcomes.count(m) > 1})
            if dup:
                raise ValueError(f"outcomes: listed twice: {', '.join(dup)}")
        return self


@dataclass
class Study:
    """A loaded robustness study: its strategies, uncertainties and futures.

    Attributes:
        path: The study file.
        spec: Its validated content.
        exp: The experiment the sweep engine runs: strategies x futures x replications, with
            a seed per future and replication.
        outcomes: (metric, "higher" | "lower"), the first ranking the strategies.
        unit: The Latin hypercube on [0, 1)^D, one row per future.
        labels: Strategy -> {"en": label, "zh": label}.
    """

    path: Path
    spec: RobustnessSpec
    exp: Experiment
    outcomes: list[tuple[str, str]]
    unit: np.ndarray
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The study's name (its results folders are named after it)."""
        return self.exp.name

    @property
    def strategies(self) -> list[str]:
        """Strategy names, in the file's order."""
        return [s.name for s in self.exp.scenarios]

    @property
    def uncertainties(self) -> list[str]:
        """The sampled parameters (dotted paths)."""
        return [p.name for p in self.exp.parameters]

    @property
    def primary(self) -> str:
        """The outcome that ranks the strategies."""
        return self.outcomes[0][0]


RENAMED = {"scenarios": "strategies", "samples": "futures", "metrics": "outcomes"}
"""Fields of the experiment a study becomes -> the study file's own names (for errors)."""


def _rename(e: ScenarioError, path: Path) -> ScenarioError:
    head, dot, rest = e.field.partition(".")
    fld = RENAMED.get(head, head) + dot + rest
    return ExperimentError(path, fld, e.problem) if e.file == str(path) else e


def _labels(exp: Experiment) -> dict[str, dict[str, str]]:
    out = {}
    for s in exp.scenarios:
        own = read_yaml(s.file)
        same = own.get("name", s.file.stem) == s.name or s.file.stem == s.name
        out[s.name] = {
            lang: str(own.get(f"label_{lang}") or own.get("label_en") or s.name) if same else s.name
            for lang in ("en", "zh")
        }
    return out


def load_robustness(
    path: str | Path,
    *,
    max_runs: int | None = None,
    check_metrics: bool = True,
    validate_scenarios: bool = True,
    futures: int | None = None,
    weeks: int | None = None,
    warmup_weeks: int | None = None,
) -> Study:
    """Read, validate and resolve a robustness study file; draw its futures.

    Args:
        path: The study's YAML file.
        max_runs: Refuse a study of more runs (default `experiments.engine.spec.MAX_RUNS`),
            counted before the futures are drawn.
        check_metrics: Refuse outcomes the model does not report (off when a test replaces
            the model).
        validate_scenarios: Load every strategy with each uncertainty's extreme values first.
        futures: Draw this many futures instead of the file's `futures`.
        weeks, warmup_weeks: Run this many weeks (of which this many warm-up) instead of the
            file's `weeks` and `warmup_weeks`.

    Raises:
        ScenarioError: naming the file, the field and the problem (one line, exit 2).
    """
    path = locate(path)
    data = read_yaml(path)
    if isinstance(data, dict):
        given = {"futures": futures, "weeks": weeks, "warmup_weeks": warmup_weeks}
        data = {**data, **{k: v for k, v in given.items() if v is not None}}
    try:
        spec = RobustnessSpec.model_validate(data)
    except ValidationError as e:
        raise spec_error(path, e) from None
    if isinstance(spec.outcomes, dict):
        outcomes = list(spec.outcomes.items())
    else:
        outcomes = []
        for m in spec.outcomes:
            better = better_of(m)
            if better is None:
                raise ExperimentError(
                    path,
                    "outcomes",
                    f"say whether more or less of {short_repr(m)} is better "
                    f"(outcomes: {{{m}: higher}} or {{{m}: lower}})",
                )
            outcomes.append((m, better))
    metrics = list(dict.fromkeys([m for m, _ in outcomes] + list(spec.satisficing)))
    exp_data = {
        "name": spec.name or path.stem,
        "label_en": spec.label_en,
        "label_zh": spec.label_zh,
        "description": spec.description,
        "scenarios": data["strategies"],
        "uncertainties": data.get("uncertainties", ALL_ASSUMPTIONS),
        "design": "lhs",
        "samples": spec.futures,
        "replications": spec.replications,
        "root_seed": spec.root_seed,
        "metrics": metrics,
        "timeseries": False,
        "constants": data.get("constants", {}),
    }
    for key in ("weeks", "warmup_weeks"):
        if getattr(spec, key) is not None:
            exp_data[key] = getattr(spec, key)
    try:
        exp = experiment_from_data(
            exp_data,
            path,
            read_text(path),
            validate_scenarios=validate_scenarios,
            max_runs=max_runs,
            check_metrics=check_metrics,
        )
    except ScenarioError as e:
        raise _rename(e, path) from None
    if not exp.parameters:
        raise ExperimentError(path, "uncertainties", "name at least one uncertainty")
    unit = latin_hypercube(spec.futures, len(exp.parameters), design_rng(spec.root_seed))
    points = [
        {p.name: unit_to_value(p.spec, u) for p, u in zip(exp.parameters, row, strict=True)}
        for row in unit
    ]
    exp = dataclasses.replace(exp, points=points, seed_per_point=True)
    return Study(path, spec, exp, outcomes, unit, _labels(exp))


# --------------------------------------------------------------------------- analysis


@dataclass
class Analysis:
    """The tables of a finished study (see the module's docstring)."""

    values: pd.DataFrame
    futures: pd.DataFrame
    distributions: pd.DataFrame
    wins: pd.DataFrame
    regret: pd.DataFrame
    satisficing: pd.DataFrame
    flips: pd.DataFrame
    futures_used: dict[str, int] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by key of `FILES`."""
        return {k: getattr(self, k) for k in FILES}


def future_values(runs: pd.DataFrame, strategies: list[str], metric: str, n: int) -> pd.DataFrame:
    """One metric per future (rows 0..n-1) and strategy (columns): the mean over the
    replications that finished; NaN where none did or the value is not finite."""
    ok = runs[runs["status"] == "ok"]
    vals = pd.to_numeric(ok[metric], errors="coerce").where(lambda v: np.isfinite(v))
    table = (
        pd.DataFrame({"scenario": ok["scenario"], "point": ok["point"], "v": vals})
        .groupby(["point", "scenario"])["v"]
        .mean()
        .unstack("scenario")
    )
    return table.reindex(index=range(n), columns=strategies).astype(float)


def _paired(m: pd.DataFrame) -> pd.DataFrame:
    """The futures in which every strategy has a value."""
    return m[m.notna().all(axis=1)]


def distributions(values: dict[str, pd.DataFrame], outcomes: list[tuple[str, str]]) -> pd.DataFrame:
    """Per strategy and outcome, the distribution across the paired futures."""
    rows = []
    for metric, better in outcomes:
        m = _paired(values[metric])
        for s in m.columns:
            v = m[s].to_numpy(float)
            row = {"strategy": s, "outcome": metric, "better": better, "futures": len(v)}
            if len(v):
                row.update(
                    mean=float(v.mean()),
                    sd=float(v.std(ddof=1)) if len(v) > 1 else math.nan,
                    min=float(v.min()),
                    **{k: float(np.quantile(v, q)) for k, q in QUANTILES},
                    max=float(v.max()),
                )
            rows.append(row)
    cols = ["strategy", "outcome", "better", "futures", "mean", "sd", "min"]
    cols += [k for k, _ in QUANTILES] + ["max"]
    return pd.DataFrame(rows).reindex(columns=cols)


def wins(values: dict[str, pd.DataFrame], outcomes: list[tuple[str, str]]) -> pd.DataFrame:
    """Per outcome and ordered pair of strategies: futures won, tied and lost, and the win
    probability (ties count half). A strategy against itself: 0.5, marked `itself`."""
    rows = []
    for metric, better in outcomes:
        sign = 1.0 if better == "higher" else -1.0
        m = _paired(values[metric])
        n = len(m)
        for a in m.columns:
            for b in m.columns:
                if a == b:
                    w, t, lo = 0, n, 0
                else:
                    d = sign * (m[a].to_numpy(float) - m[b].to_numpy(float))
                    w, t, lo = int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())
                rows.append(
                    {
                        "outcome": metric,
                        "strategy": a,
                        "other": b,
                        "futures": n,
                        "wins": w,
                        "ties": t,
                        "losses": lo,
                        "p_win": (w + 0.5 * t) / n if n else math.nan,
                        "itself": a == b,
                    }
                )
    return pd.DataFrame(rows)


def regret(values: dict[str, pd.DataFrame], outcomes: list[tuple[str, str]]) -> pd.DataFrame:
    """Per strategy and outcome: how far it falls short of the best strategy of each future
    (in the outcome's unit, never negative): mean, 90th percentile, maximum, and the share of
    futures in which it is the best (regret zero)."""
    rows = []
    for metric, better in outcomes:
        sign = 1.0 if better == "higher" else -1.0
        m = _paired(values[metric])
        score = sign * m.to_numpy(float)
        best = score.max(axis=1, initial=-np.inf, where=np.isfinite(score))[:, None]
        r = best - score
        for j, s in enumerate(m.columns):
            v = r[:, j]
            rows.append(
                {
                    "strategy": s,
                    "outcome": metric,
                    "better": better,
                    "futures": len(v),
                    "regret_mean": float(v.mean()) if len(v) else math.nan,
                    "regret_p90": float(np.quantile(v, 0.9)) if len(v) else math.nan,
                    "regret_max": float(v.max()) if len(v) else math.nan,
                    "best_share": float((v == 0).mean()) if len(v) else math.nan,
                }
            )
    return pd.DataFrame(rows)


def satisficing(
    values: dict[str, pd.DataFrame],
    criteria: dict[str, Threshold],
    budgets: pd.DataFrame | None,
    strategies: list[str],
) -> pd.DataFrame:
    """Per strategy: the share of futures in which it meets every criterion (`all`) and each
    criterion alone. A future counts where every criterion's metric has a value."""
    if not criteria:
        return pd.DataFrame(columns=["strategy", "criterion", "futures", "met", "share"])
    met: dict[str, pd.DataFrame] = {}
    for metric, th in criteria.items():
        m = values[metric]
        if th.bound == "budget":
            if budgets is None:
                raise ValueError("a 'budget' threshold needs the runs' budgets")
            bound = budgets.reindex(index=m.index, columns=m.columns)
        else:
            bound = pd.DataFrame(float(th.bound), index=m.index, columns=m.columns)
        ok = (m >= bound) if th.op == ">=" else (m <= bound)
        met[metric] = ok.where(m.notna())
    rows = []
    for s in strategies:
        have = np.logical_and.reduce([met[c][s].notna().to_numpy() for c in met])
        n = int(have.sum())
        both = np.logical_and.reduce([met[c][s].fillna(False).astype(bool).to_numpy() for c in met])
        items = [("all", int((both & have).sum()))]
        items += [
            (f"{c} {criteria[c].op} {criteria[c].bound}", int(met[c][s][have].sum())) for c in met
        ]
        for crit, k in items:
            rows.append(
                {
                    "strategy": s,
                    "criterion": crit,
                    "futures": n,
                    "met": k,
                    "share": k / n if n else math.nan,
                }
            )
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def flip_text(row: dict[str, Any], labels: dict[str, dict[str, str]], lang: str) -> str:
    """One pair's flip in words, from its numbers (status, counts, box and its statistics)."""
    zh = lang == "zh"
    on = parameter_words.outcome(row["outcome"], lang)
    text = _flip_text(row, labels, lang)
    return f"在{on}上,{text}" if zh else f"On {on}, {text}"


def _flip_text(row: dict[str, Any], labels: dict[str, dict[str, str]], lang: str) -> str:
    zh = lang == "zh"
    w = labels.get(row["winner"], {}).get(lang, row["winner"])
    c = labels.get(row["challenger"], {}).get(lang, row["challenger"])
    n, k = row["futures"], row["flips"]
    share = _pct(k / n) if n else "–"
    status = row["status"]
    if status == "never":
        return (
            f"在全部{n}个未来情景中,{w}都优于{c}。" if zh else f"{w} beats {c} in all {n} futures."
        )
    if status == "rare":
        return (
            f"在{n}个未来情景中{w}仅有{k}个不如{c},太少,无法找出条件。"
            if zh
            else f"{w} loses to {c} in only {k} of {n} futures: too few to look for conditions."
        )
    head = (
        f"在{n}个未来情景中{w}有{k}个({share})不如{c}"
        if zh
        else f"{w} loses to {c} in {k} of {n} futures ({share})"
    )
    if status == "needs_extra":
        return (
            f"{head};寻找其条件需要情景发现:{discovery.EXTRA_HINT}。"
            if zh
            else f"{head}; finding where needs scenario discovery: {discovery.EXTRA_HINT}."
        )
    if status == "no_box":
        thr = _pct(row["threshold"])
        return (
            f"{head};这些情景较为分散,PRIM找不到使其落后比例至少达到{thr}的不确定性区域。"
            if zh
            else f"{head}, scattered: PRIM finds no region of the uncertainties in which it "
            f"loses in at least {thr} of the futures."
        )
    conds = row["conditions_zh"] if zh else row["conditions_en"]
    cov, dens = _pct(row["coverage"]), _pct(row["density"])
    if zh:
        return (
            f"{head};其中{cov}(覆盖率)出现在{conds}时,"
            f"而在这类情景中{w}有{dens}不如{c}(密度,{row['box_flips']}/{row['box_futures']})。"
        )
    return (
        f"{head}; {cov} of these flips (coverage) happen where {conds}, and there it loses in "
        f"{dens} of the futures (density, {row['box_flips']} of {row['box_futures']})."
    )


def screen(x: pd.DataFrame, diff: np.ndarray, k: int) -> list[str]:
    """The `k` uncertainties most related to a pair's difference, by the absolute Spearman rank
    correlation (ties: the study's order); categorical ones always stay. `k` 0: all.

    PRIM peels one dimension at a time; among ninety uncertainties that play no part, some
    peel off a few flips by chance and the box drifts (Bryant and Lempert 2010 screen first).
    """
    cols = list(x.columns)
    if k <= 0 or len(cols) <= k:
        return cols
    num = [c for c in cols if pd.api.types.is_numeric_dtype(x[c]) and x[c].dtype != bool]
    r = pd.Series(np.asarray(diff, dtype=float), index=x.index).rank()
    score = {}
    for c in num:
        xr = x[c].rank()
        rho = np.corrcoef(xr, r)[0, 1] if xr.std() > 0 and r.std() > 0 else 0.0
        score[c] = abs(float(rho)) if np.isfinite(rho) else 0.0
    top = sorted(num, key=lambda c: (-score[c], cols.index(c)))[:k]
    return [c for c in cols if c in top or c not in num]


def flips(
    values: dict[str, pd.DataFrame],
    outcome: tuple[str, str],
    x: pd.DataFrame,
    spec: DiscoverySpec,
    labels: dict[str, dict[str, str]],
    discover: bool = True,
) -> pd.DataFrame:
    """Per pair of strategies, on one outcome: how often the usual loser wins, and where.

    The usual winner W of a pair wins in at least half the paired futures (ties count half);
    the futures in which the other, C, does strictly better are the flips. Status: `never`
    (no flip), `rare` (fewer than `min_cases`), `box` (PRIM found conditions), `no_box` (it
    found none dense enough), `needs_extra` (EMA Workbench is not installed), `skipped`
    (discovery turned off). PRIM sees the `screen` uncertainties most related to the pair's
    difference (`screen`; listed in the column `screened`).
    """
    metric, better = outcome
    sign = 1.0 if better == "higher" else -1.0
    m = _paired(values[metric])
    xs = x.loc[m.index]
    names = list(m.columns)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            d = sign * (m[a].to_numpy(float) - m[b].to_numpy(float))
            n = len(d)
            p_a = ((d > 0).sum() + 0.5 * (d == 0).sum()) / n if n else math.nan
            w, c = (a, b) if p_a >= 0.5 else (b, a)
            cases = (d < 0) if w == a else (d > 0)
            k = int(cases.sum())
            row: dict[str, Any] = {
                "outcome": metric,
                "winner": w,
                "challenger": c,
                "futures": n,
                "flips": k,
                "flip_share": k / n if n else math.nan,
                "p_winner": p_a if w == a else 1 - p_a,
                "status": "never",
                "threshold": spec.threshold,
                "coverage": math.nan,
                "density": math.nan,
                "mass": math.nan,
                "box_futures": None,
                "box_flips": None,
                "screened": "",
                "conditions": "",
                "conditions_en": "",
                "conditions_zh": "",
            }
            if k == 0:
                pass
            elif k < spec.min_cases:
                row["status"] = "rare"
            elif not discover:
                row["status"] = "skipped"
            elif not discovery.available():
                row["status"] = "needs_extra"
            else:
                dims = screen(xs, (d if w == b else -d), spec.screen)
                row["screened"] = json.dumps(dims, ensure_ascii=False)
                box = discovery.find_box(xs[dims], cases, spec.threshold, spec.max_dims)
                if box is None:
                    row["status"] = "no_box"
                else:
                    row.update(
                        status="box",
                        coverage=box.coverage,
                        density=box.density,
                        mass=box.mass,
                        box_futures=box.n,
                        box_flips=box.k,
                        conditions=json.dumps(
                            [r.as_dict() for r in box.restrictions], ensure_ascii=False
                        ),
                        conditions_en=discovery.box_words(box, "en"),
                        conditions_zh=discovery.box_words(box, "zh"),
                    )
            row["text_en"] = flip_text(row, labels, "en")
            row["text_zh"] = flip_text(row, labels, "zh")
            rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["box_futures"] = out["box_futures"].astype("Int64")
        out["box_flips"] = out["box_flips"].astype("Int64")
    return out


def budgets_of(study: Study, scenarios: list[dict[str, Any]]) -> pd.DataFrame:
    """The yearly budget (special fund + lottery fund) of each future (rows) and strategy
    (columns): the strategy's own, unless the future samples the funds."""
    n = len(study.exp.points)
    out = pd.DataFrame(index=range(n), columns=study.strategies, dtype=float)
    params = {s["name"]: s["params"] for s in scenarios}
    for s in study.strategies:
        f = params[s]["funding"]
        for i, point in enumerate(study.exp.points):
            special = point.get("funding.special_fund", f["special_fund"])
            lottery = point.get("funding.lottery_fund", f["lottery_fund"])
            out.loc[i, s] = float(special) + float(lottery)
    return out


def analyze(
    study: Study,
    runs: pd.DataFrame,
    scenarios: list[dict[str, Any]] | None = None,
    discover: bool = True,
) -> Analysis:
    """The tables of a study from its runs (`runs.parquet`).

    Args:
        study: The loaded study.
        runs: Its runs, one row per (strategy, future, replication).
        scenarios: The manifest's resolved scenarios (for `budget` thresholds).
        discover: Run scenario discovery (PRIM) on the flips.
    """
    n = len(study.exp.points)
    strategies = study.strategies
    metrics = list(dict.fromkeys([m for m, _ in study.outcomes] + list(study.spec.satisficing)))
    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        have = ", ".join(c for c in runs.columns if c not in ("experiment", "scenario", "run_id"))
        raise ExperimentError(
            study.path, "outcomes", f"unknown metric {', '.join(missing)} (the runs have: {have})"
        )
    values = {m: future_values(runs, strategies, m, n) for m in metrics}
    futures = pd.DataFrame(study.exp.points)
    futures.insert(0, "future", range(n))
    long = []
    for metric, _ in study.outcomes:
        t = values[metric].reset_index(names="future")
        t = t.melt(id_vars="future", var_name="strategy", value_name="value")
        long.append(t.assign(outcome=metric))
    vals = pd.concat(long, ignore_index=True)
    vals["strategy"] = pd.Categorical(vals["strategy"], strategies, ordered=True)
    vals = vals.sort_values(["strategy", "outcome", "future"], kind="stable")
    vals["strategy"] = vals["strategy"].astype(str)
    vals = vals[["strategy", "future", "outcome", "value"]].reset_index(drop=True)
    needs_budget = any(t.bound == "budget" for t in study.spec.satisficing.values())
    budgets = budgets_of(study, scenarios) if needs_budget and scenarios else None
    return Analysis(
        values=vals,
        futures=futures,
        distributions=distributions(values, study.outcomes),
        wins=wins(values, study.outcomes),
        regret=regret(values, study.outcomes),
        satisficing=satisficing(values, study.spec.satisficing, budgets, strategies),
        flips=pd.concat(
            [
                flips(
                    values,
                    outcome,
                    futures.drop(columns="future"),
                    study.spec.discovery,
                    study.labels,
                    discover,
                )
                for outcome in study.outcomes
            ],
            ignore_index=True,
        ),
        futures_used={m: len(_paired(values[m])) for m, _ in study.outcomes},
    )


# --------------------------------------------------------------------------- the runner


@dataclass
class RobustnessResult:
    """What `run_robustness` did: the results folder, the study, its tables and the sweep."""

    path: Path
    study: Study
    analysis: Analysis
    sweep: Any  # experiments.engine.sweep.SweepResult
    meta: dict[str, Any] = field(default_factory=dict)


def meta_of(study: Study, analysis: Analysis, sweep: Any, discover: bool) -> dict[str, Any]:
    """The content of robustness.json (no timestamps or timings: same runs, same bytes)."""
    spec = study.spec
    return {
        "kind": "robustness",
        "name": study.name,
        "label_en": spec.label_en,
        "label_zh": spec.label_zh,
        "description": spec.description,
        "study_file": str(study.path.resolve()),
        "strategies": [{"name": s, **study.labels.get(s, {})} for s in study.strategies],
        "outcomes": [{"name": m, "better": b} for m, b in study.outcomes],
        "primary": study.primary,
        "uncertainties": [
            {
                "name": p.name,
                "low": p.spec.range[0] if p.spec.range else None,
                "high": p.spec.range[1] if p.spec.range else None,
                "dist": p.spec.dist,
                "mode": p.spec.mode,
                "integer": p.spec.integer,
                "values": p.spec.values,
            }
            for p in study.exp.parameters
        ],
        "futures": len(study.exp.points),
        "futures_used": analysis.futures_used,
        "replications": spec.replications,
        "root_seed": spec.root_seed,
        "weeks": spec.weeks,
        "warmup_weeks": spec.warmup_weeks,
        "constants": spec.constants,
        "design": "Latin hypercube over the uncertainties (numpy), each transformed by its "
        "distribution; one seed per future and replication, shared by every strategy",
        "satisficing": [
            {"metric": m, "op": t.op, "bound": t.bound} for m, t in spec.satisficing.items()
        ],
        "discovery": {
            **spec.discovery.model_dump(),
            "enabled": discover,
            "available": discovery.available(),
            "ema_workbench": discovery.ema_version(),
            "install": None if discovery.available() else discovery.EXTRA_HINT,
        },
        "runs": sweep.total,
        "runs_ok": sweep.ok,
        "runs_failed": sweep.errors,
        "status": "completed",
        "files": dict(FILES),
        "tables": {
            k: v.to_dict(orient="records")
            for k, v in analysis.tables().items()
            if k not in ("values", "futures")
        },
    }


def _latest(name: str, root: Path) -> Path | None:
    from experiments.engine.folders import safe_name

    found = [p for p in root.glob(f"{safe_name(name)}-*") if (p / "manifest.json").exists()]
    return max(found, key=lambda p: (p / "manifest.json").stat().st_mtime) if found else None


def run_robustness(
    study: str | Path | Study,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: str | Any = "local",
    scheduler: str | None = None,
    resume: bool = False,
    model_fn: ModelFn | None = None,
    progress: bool | None = None,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
    discover: bool = True,
) -> RobustnessResult:
    """Run (or resume) a robustness study and write its tables.

    Args:
        study: The study file, or a loaded `Study`.
        out: Results folder (default: a new `results/<name>-<timestamp>`; with `resume`, the
            newest folder of this study).
        workers, executor, scheduler: As for `linkage sweep`.
        resume: Run only what the folder does not hold yet, then analyse.
        model_fn: Evaluate `model_fn(params, seed)` instead of the simulation (tests, synthetic
            models); runs through the same executors and store.
        progress: Show a progress bar (default: when stderr is a terminal).
        command: The command line, for the manifest.
        results_root: Where default folders go.
        max_runs: Refuse a study of more runs (default `experiments.engine.spec.MAX_RUNS`).
        discover: Look for the conditions of flips with PRIM (when EMA Workbench is there).

    Raises:
        ScenarioError, InputError: bad study file, option or results folder, or a folder
            another process is writing.
    """
    from experiments.engine.store import ResultsStore, atomic_write_bytes
    from experiments.engine.sweep import default_out, run_sweep

    if not isinstance(study, Study):
        study = load_robustness(study, max_runs=max_runs, check_metrics=model_fn is None)
    root = Path(results_root)
    if out is None:
        out = (_latest(study.name, root) if resume else None) or default_out(study.name, root)
        if resume and not Path(out).exists():
            raise ExperimentError(
                root, "--resume", f"no earlier results of '{study.name}' found; give --out DIR"
            )
    out = check_out(out)
    if not resume and ((out / META).exists() or (out / "manifest.json").exists()):
        raise ExperimentError(out, "--out", "already holds results; use --resume or another folder")
    with FolderLock(out):
        with contextlib.ExitStack() as stack:
            stack.enter_context(simulation(model_fn, "dask" if scheduler else executor))
            sweep = run_sweep(
                study.exp,
                out,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                resume=resume,
                progress=progress,
                command=command,
                results_root=root,
                max_runs=max_runs,
            )
        runs = pd.read_parquet(out / "runs.parquet")
        scenarios = ResultsStore(out).read_manifest().get("scenarios", [])
        analysis = analyze(study, runs, scenarios, discover)
        for key, table in analysis.tables().items():
            write_csv(table, out / FILES[key])
        meta = meta_of(study, analysis, sweep, discover)
        text = to_json(meta, indent=2, ensure_ascii=False) + "\n"
        atomic_write_bytes(out / META, text.encode("utf-8"))
    return RobustnessResult(out, study, analysis, sweep, meta)


def read_study(folder: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """A finished study's robustness.json and tables (for the report).

    Raises:
        ExperimentError: the folder holds no finished robustness study.
    """
    folder = Path(folder)
    if not (folder / META).is_file():
        raise ExperimentError(folder, META, "not found: not a robustness results folder")
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    if meta.get("kind") != "robustness":
        raise ExperimentError(folder / META, "kind", "not a robustness study")
    tables = {}
    for key, name in FILES.items():
        path = folder / name
        tables[key] = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    return meta, tables


def find_studies(folder: str | Path) -> list[Path]:
    """The robustness results folders at `folder` or one level below it."""
    folder = Path(folder)
    if (folder / META).is_file():
        return [folder]
    return sorted(p.parent for p in folder.glob(f"*/{META}"))
