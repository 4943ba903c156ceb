"""What a report is made of: the results folder's runs and weekly series, arranged by arm.

An *arm* is one scenario at one parameter point (just the scenario when the experiment varies
no parameter). Only runs with status "ok" count. Comparisons use
`experiments.analyses.compare.compare_runs`: means with 95% t intervals, and differences to the
baseline paired by parameter point and replication.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.analyses.attribution import endpoints
from experiments.analyses.compare import Results, compare_runs, load_results, t_critical
from experiments.engine.errors import ExperimentError
from experiments.interfaces.report.labels import (
    CHANNELS,
    GROUPS,
    HEADLINE,
    OPTIONAL,
    mentions_baseline,
    scenario_labels,
)

WEEKLY = (
    "need_satisfaction_rate",
    "active_volunteers",
    "timebank_hours_deposited",
    "timebank_hours_redeemed",
    "timebank_hours_expired",
    "timebank_balance",
    "timebank_liability_yuan",
)
"""Weekly columns the report reads from timeseries.parquet."""


@dataclass
class ReportData:
    """A results folder, ready to report.

    Attributes:
        results: The loaded results folder.
        lang: "en" or "zh".
        baseline: The baseline scenario.
        runs: Successful runs, with an `arm` column.
        arms: Arm keys in the experiment's order.
        labels: Arm key -> display name.
        arm_scenario: Arm key -> scenario name.
        weekly: Successful runs' weekly rows (WEEKLY columns), with `arm`; may be empty.
        weeks: Weeks per run; warmup: warm-up weeks; replications: replications per arm.
    """

    results: Results
    lang: str
    baseline: str
    runs: pd.DataFrame
    arms: list[str]
    labels: dict[str, str]
    arm_scenario: dict[str, str]
    weekly: pd.DataFrame
    weeks: int | None = None
    warmup: int | None = None
    replications: int = 0
    communities: list[str] = field(default_factory=list)

    @property
    def baseline_arms(self) -> set[str]:
        """Arms of the baseline scenario (one per parameter point)."""
        return {a for a, s in self.arm_scenario.items() if s == self.baseline}

    def compare(self, metrics: list[str]) -> pd.DataFrame:
        """`compare_runs` of `metrics` against the baseline, with `arm` and `label` columns."""
        table = compare_runs(
            self.runs,
            self.results.parameters,
            metrics,
            self.baseline,
            source=str(self.results.path),
        )
        if table.empty:
            return table
        table.insert(
            0,
            "arm",
            [
                arm_key(s, p, self.multi_point)
                for s, p in zip(table["scenario"], table["point"], strict=True)
            ],
        )
        table.insert(1, "label", table["arm"].map(self.labels))
        return table

    def display(self, arm: str) -> str:
        """The arm's display name, marked as the baseline when it is one (for figures)."""
        label = self.labels[arm]
        if arm not in self.baseline_arms or mentions_baseline(label):
            return label
        return f"{label}(基线)" if self.lang == "zh" else f"{label} (baseline)"

    @property
    def multi_point(self) -> bool:
        """Whether the experiment varies parameters (several points per scenario)."""
        return self.runs["point"].nunique() > 1


def arm_key(scenario: str, point: int, multi_point: bool) -> str:
    """The arm key of a scenario at a parameter point."""
    return f"{scenario}@p{int(point)}" if multi_point else scenario


def _point_label(row: pd.Series, parameters: list[str]) -> str:
    vals = []
    for p in parameters:
        v = row[p]
        text = f"{v:.4g}" if isinstance(v, float) else str(v)
        vals.append(f"{p.split('.')[-1]}={text}")
    return ", ".join(vals)


def _run_settings(manifest: dict[str, Any]) -> tuple[int | None, int | None]:
    settings = manifest.get("settings") or {}
    weeks, warmup = settings.get("weeks"), settings.get("warmup_weeks")
    scen = manifest.get("scenarios") or []
    run = (scen[0].get("params") or {}).get("run", {}) if scen else {}
    return weeks or run.get("weeks"), warmup if warmup is not None else run.get("warmup_weeks")


CHARITY_FLOWS = ("charity_donations", "charity_matched", "charity_grants")
"""The charitable channel's post-warm-up flows (summary keys), shown beside public money."""


def _annual_spending(runs: pd.DataFrame, weeks: int | None, warmup: int | None) -> pd.DataFrame:
    """Add `annual_spending_<channel>`: each channel's post-warm-up total per year; and the
    charitable channel's flows per year (`annual_charity_donations`, `annual_charity_matched`,
    `annual_charity_grants`), over the same years."""
    total = runs.get("gov_spending_total")
    annual = runs.get("gov_spending_annual")
    if total is not None and annual is not None:
        factor = (annual / total.where(total > 0)).to_numpy(float)
    else:
        factor = np.full(len(runs), np.nan)
    if weeks and warmup is not None and weeks > warmup:
        factor = np.where(np.isfinite(factor), factor, 52.0 / (weeks - warmup))
    out = runs.copy()
    for c in CHANNELS:
        col = f"spending_{c}"
        out[f"annual_spending_{c}"] = out[col].to_numpy(float) * factor if col in out else 0.0
    for k in CHARITY_FLOWS:
        out[f"annual_{k}"] = out[k].to_numpy(float) * factor if k in out else 0.0
    return out


def _budget(runs: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """Add `annual_budget` (the run's `funding.special_fund` + `funding.lottery_fund`, yuan a
    year: its scenario's, or the parameter point's when the experiment varies them) and
    `budget_spent_share` (`gov_spending_annual` / `annual_budget`)."""
    funds = {}
    for s in manifest.get("scenarios") or []:
        f = (s.get("params") or {}).get("funding") or {}
        funds[s.get("name")] = (f.get("special_fund", math.nan), f.get("lottery_fund", math.nan))
    out = runs.copy()
    special = out["scenario"].map(lambda n: funds.get(n, (math.nan, math.nan))[0]).astype(float)
    lottery = out["scenario"].map(lambda n: funds.get(n, (math.nan, math.nan))[1]).astype(float)
    if "funding.special_fund" in out:
        special = out["funding.special_fund"].astype(float)
    if "funding.lottery_fund" in out:
        lottery = out["funding.lottery_fund"].astype(float)
    out["annual_budget"] = special + lottery
    spent = out["gov_spending_annual"].astype(float) if "gov_spending_annual" in out else math.nan
    out["budget_spent_share"] = spent / out["annual_budget"].where(out["annual_budget"] > 0)
    return out


def _read_weekly(res: Results, run_ids: set[str]) -> pd.DataFrame:
    path = res.path / "timeseries.parquet"
    ids = ["run_id", "scenario", "point", "replication", "week"]
    if path.exists():
        import pyarrow.parquet as pq

        have = set(pq.read_schema(path).names)
        df = pd.read_parquet(path, columns=[c for c in (*ids, *WEEKLY) if c in have])
    else:
        df = res.timeseries
    if df.empty or "week" not in df:
        return pd.DataFrame(columns=[*ids, *WEEKLY])
    return df[df["run_id"].isin(run_ids)].reset_index(drop=True)


def load_report_data(path: str, baseline: str | None = None, lang: str = "en") -> ReportData:
    """Load a results folder for the report.

    Args:
        path: A results folder written by `linkage sweep`.
        baseline: The baseline scenario (default: the experiment's, else the first).
        lang: "en" or "zh" (for the display names).

    Returns:
        The report's data.

    Raises:
        ExperimentError: not a results folder, no successful run, or an unknown baseline.
    """
    res = load_results(path)
    ends = endpoints(res.path)
    if ends is not None:  # an attribution's folder: its two scenarios, not every subset
        res.runs = res.runs[res.runs["scenario"].isin(ends)].reset_index(drop=True)
    runs = res.runs
    scenarios = res.scenarios
    baseline = baseline or res.baseline
    if baseline not in scenarios:
        raise ExperimentError(
            res.path, "--baseline", f"unknown scenario '{baseline}' (have: {', '.join(scenarios)})"
        )
    ok = runs[runs["status"] == "ok"].copy()
    if ok.empty:
        raise ExperimentError(res.path, "runs.parquet", "no successful runs to report")
    missing = [m.key for m in HEADLINE if m.key not in ok.columns and m.key not in OPTIONAL]
    if missing:
        raise ExperimentError(
            res.path,
            "runs.parquet",
            f"missing metrics {', '.join(missing)} (was the sweep run with 'metrics:'?)",
        )
    weeks, warmup = _run_settings(res.manifest)
    multi = ok["point"].nunique() > 1
    ok["arm"] = [arm_key(s, p, multi) for s, p in zip(ok["scenario"], ok["point"], strict=True)]
    ok = _budget(_annual_spending(ok, weeks, warmup), res.manifest)
    names = scenario_labels(res.manifest, scenarios, lang)
    arms, labels, arm_scen = [], {}, {}
    order = {s: i for i, s in enumerate(scenarios)}
    firsts = ok.drop_duplicates("arm").sort_values(
        ["scenario", "point"], key=lambda c: c.map(order) if c.name == "scenario" else c
    )
    for _, row in firsts.iterrows():
        a = row["arm"]
        arms.append(a)
        arm_scen[a] = row["scenario"]
        labels[a] = names[row["scenario"]] + (
            f" ({_point_label(row, res.parameters)})" if multi else ""
        )
    weekly = _read_weekly(res, set(ok["run_id"]))
    if not weekly.empty:
        weekly["arm"] = [
            arm_key(s, p, multi) for s, p in zip(weekly["scenario"], weekly["point"], strict=True)
        ]
    reps = int(ok.groupby("arm").size().max())
    comms = sorted(
        c
        for c in ok.columns
        if c.startswith("satisfaction_c") and c[len("satisfaction_c") :].isdigit()
    )
    return ReportData(
        res, lang, baseline, ok, arms, labels, arm_scen, weekly, weeks, warmup, reps, comms
    )


def weekly_band(data: ReportData, column: str, smooth: int = 1) -> pd.DataFrame:
    """Per arm and week: mean over replications and the 95% t interval of the mean.

    Args:
        data: The report's data.
        column: A weekly column.
        smooth: Width of a trailing moving average applied to each run first (1: none).

    Returns:
        Columns arm, week, n, mean, lo, hi (empty if the column is missing).
    """
    w = data.weekly
    if w.empty or column not in w:
        return pd.DataFrame(columns=["arm", "week", "n", "mean", "lo", "hi"])
    df = w[["arm", "run_id", "week", column]].sort_values(["run_id", "week"])
    if smooth > 1:
        df[column] = df.groupby("run_id")[column].transform(
            lambda s: s.rolling(smooth, min_periods=1).mean()
        )
    g = df.groupby(["arm", "week"])[column].agg(["count", "mean", "std"]).reset_index()
    crit = {n: t_critical(int(n) - 1) if n > 1 else math.nan for n in g["count"].unique()}
    tc = g["count"].map(crit)
    half = tc * g["std"] / np.sqrt(g["count"])
    out = pd.DataFrame(
        {
            "arm": g["arm"],
            "week": g["week"],
            "n": g["count"],
            "mean": g["mean"],
            "lo": g["mean"] - half,
            "hi": g["mean"] + half,
        }
    )
    order = {a: i for i, a in enumerate(data.arms)}
    return out.sort_values(
        ["arm", "week"], key=lambda c: c.map(order) if c.name == "arm" else c
    ).reset_index(drop=True)


GROUP_METRICS = tuple(f"satisfaction_{g}" for g in GROUPS)
