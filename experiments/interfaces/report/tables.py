"""The report's tables, as DataFrames and as CSV files for spreadsheet users.

All tables are long (one row per arm and metric) with full-precision numbers: `mean`,
`ci_low`/`ci_high` (95% t interval over replications), and the paired difference to the
baseline `diff`, `diff_ci_low`/`diff_ci_high`, plus `excludes_zero` (the difference's
interval excludes 0).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.engine.outputs import write_csv
from experiments.interfaces.report.data import CHARITY_FLOWS, WEEKLY, ReportData, weekly_band
from experiments.interfaces.report.labels import (
    CHANNELS,
    GROUPS,
    HEADLINE,
    channel_name,
    group_name,
    t,
)

COLUMNS = (
    "arm",
    "label",
    "scenario",
    "point",
    "metric",
    "metric_label",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "baseline",
    "n_pairs",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "excludes_zero",
)


def _finish(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    table = table.copy()
    table["metric_label"] = table["metric"].map(names)
    lo, hi = table["diff_ci_low"], table["diff_ci_high"]
    table["excludes_zero"] = ((lo > 0) | (hi < 0)).fillna(False).astype(bool)
    return table[[c for c in COLUMNS if c in table.columns]].reset_index(drop=True)


def headline_table(data: ReportData) -> pd.DataFrame:
    """The headline metrics per arm: mean, CI and paired difference to the baseline."""
    metrics = [m.key for m in HEADLINE if m.key in data.runs]
    return _finish(data.compare(metrics), {m.key: m.name(data.lang) for m in HEADLINE})


def equity_table(data: ReportData) -> pd.DataFrame:
    """Need satisfaction by resident group and by community, per arm, vs the baseline."""
    groups = [f"satisfaction_{g}" for g in GROUPS if f"satisfaction_{g}" in data.runs]
    extra = [
        m
        for m in ("satisfaction_min_group", "equity_group_gap", "equity_community_gap")
        if m in data.runs
    ]
    names = {f"satisfaction_{g}": group_name(g, data.lang) for g in GROUPS}
    for c in data.communities:
        idx = int(c.removeprefix("satisfaction_c"))
        names[c] = f"社区{idx + 1}" if data.lang == "zh" else f"C{idx + 1:02d}"
    names.update(
        satisfaction_min_group="worst-off group" if data.lang != "zh" else "最低群体",
        equity_group_gap="gap between groups" if data.lang != "zh" else "群体间差距",
        equity_community_gap="gap between communities" if data.lang != "zh" else "社区间差距",
    )
    return _finish(data.compare([*groups, *data.communities, *extra]), names)


def spending_table(data: ReportData) -> pd.DataFrame:
    """Government spending per year by channel, per arm, vs the baseline (yuan), the yearly
    budget and the share of it spent; beside it, the charitable channel per year (donations,
    public matching received, grants)."""
    zh = data.lang == "zh"
    metrics = [f"annual_spending_{c}" for c in CHANNELS] + ["gov_spending_annual"]
    metrics += ["annual_budget", "budget_spent_share"]
    extra = ["gov_returned_annual", "gov_cost_accrual_annual"]
    extra += [f"budget_execution_rate_{c}" for c in CHANNELS]
    metrics += [m for m in extra if m in data.runs]
    metrics += [f"annual_{k}" for k in CHARITY_FLOWS]
    names = {f"annual_spending_{c}": channel_name(c, data.lang) for c in CHANNELS}
    names["gov_spending_annual"] = "total (cash)" if not zh else "合计(现金)"
    names["annual_budget"] = "budget" if not zh else "预算"
    names["budget_spent_share"] = "budget execution (spent / budget)" if not zh else "预算执行率"
    names["gov_returned_annual"] = "returned unspent at year end" if not zh else "年末退回(未支出)"
    names["gov_cost_accrual_annual"] = (
        "cost, accrual (cash + change in time-bank liability)"
        if not zh
        else "成本(权责发生制:现金 + 时间银行负债变化)"
    )
    for c in CHANNELS:
        names[f"budget_execution_rate_{c}"] = (
            f"execution rate: {channel_name(c, data.lang)}"
            if not zh
            else f"执行率:{channel_name(c, data.lang)}"
        )
    names.update({f"annual_{k}": t(k, data.lang) for k in CHARITY_FLOWS})
    return _finish(data.compare(metrics), names)


def weekly_table(data: ReportData) -> pd.DataFrame:
    """Per arm and week: mean and 95% interval of each weekly column (unsmoothed)."""
    frames = []
    for col in WEEKLY:
        band = weekly_band(data, col)
        if band.empty:
            continue
        band.insert(2, "metric", col)
        frames.append(band)
    if not frames:
        return pd.DataFrame(columns=["arm", "label", "week", "metric", "n", "mean", "lo", "hi"])
    out = pd.concat(frames, ignore_index=True)
    out.insert(1, "label", out["arm"].map(data.labels))
    return out.rename(columns={"lo": "ci_low", "hi": "ci_high"})


_INDEX: dict[int, tuple[pd.DataFrame, dict[tuple[str, str], pd.Series]]] = {}


def _index(table: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    hit = _INDEX.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    index = {(r["arm"], r["metric"]): r for _, r in table.iterrows()}
    if len(_INDEX) > 32:
        _INDEX.clear()
    _INDEX[id(table)] = (table, index)
    return index


def row(table: pd.DataFrame, arm: str, metric: str) -> pd.Series | None:
    """The row of `table` for one arm and metric, or None (tables must not change after
    their first lookup)."""
    return _index(table).get((arm, metric))


def value(table: pd.DataFrame, arm: str, metric: str, col: str = "mean") -> float:
    """One number of a table (NaN when missing)."""
    r = row(table, arm, metric)
    return float(r[col]) if r is not None and r[col] is not None else float("nan")


def write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each table to `folder/<name>.csv` (UTF-8 with BOM, so Excel reads Chinese)."""
    out = []
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        write_csv(table, path, encoding="utf-8-sig")  # text cells safe from formula injection
        out.append(path)
    return out
