"""`linkage report RESULTS`: the decision-maker's report of a results folder.

Writes RESULTS/report/ (or `--out DIR`): report.html (self-contained, figures embedded as
base64 PNG), the figures as PNG files, and the tables as CSV (headline.csv, equity.csv,
spending.csv, weekly.csv). Prints the headline table and where the report is.
"""

from __future__ import annotations

import argparse
import math
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from experiments.interfaces.report.data import ReportData


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="write the decision-maker's report (HTML, PNG figures, CSV tables) of a results folder",
        description=(
            "Headline numbers per scenario with 95% intervals and paired differences to the "
            "baseline, a cost-outcome chart with the efficient frontier, time series, equity "
            "by resident group and community, spending by channel and the time-bank ledger. "
            "Writes RESULTS/report/report.html (self-contained), the figures as PNG and the "
            "tables as CSV."
        ),
    )
    p.add_argument(
        "results",
        metavar="RESULTS",
        help="results folder written by 'linkage sweep', 'linkage robustness' or 'linkage district'",
    )
    p.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the report (default en)"
    )
    p.add_argument(
        "--baseline",
        metavar="SCENARIO",
        help="baseline scenario (default: the experiment's, else the first)",
    )
    p.add_argument("--out", metavar="DIR", help="report folder (default: RESULTS/report)")
    p.set_defaults(func=handle)


SHORT_EN = {
    "need_satisfaction_rate": "satisfaction",
    "mean_wait_hours": "wait (h)",
    "p90_wait_hours": "p90 wait (h)",
    "gov_spending_annual": "spending/yr (M yuan)",
    "cost_per_need_met": "yuan/need met (accrual)",
    "cost_per_need_met_cash": "(cash)",
    "budget_execution_rate": "executed",
    "active_volunteers": "volunteers",
}
SHORT_ZH = {
    "need_satisfaction_rate": "需求满足率",
    "mean_wait_hours": "平均等待(时)",
    "p90_wait_hours": "90%分位等待(时)",
    "gov_spending_annual": "年支出({unit})",
    "cost_per_need_met": "每项需求成本(权责,元)",
    "cost_per_need_met_cash": "(现金)",
    "budget_execution_rate": "执行率",
    "active_volunteers": "活跃志愿者",
}


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(s))
    return fill + s if right else s + fill


def headline_text(data: ReportData, head: pd.DataFrame) -> str:
    """The headline table for the terminal: one line per scenario; `*` marks a difference to
    the baseline whose 95% interval excludes zero."""
    from experiments.interfaces.report.labels import (
        HEADLINE,
        diff,
        mentions_baseline,
        money_unit,
        number,
    )
    from experiments.interfaces.report.tables import row

    zh = data.lang == "zh"
    div, unit = money_unit(data.lang)
    dec = 1 if zh else 2
    names = SHORT_ZH if zh else SHORT_EN
    cols = [names[m.key].format(unit=unit) for m in HEADLINE]
    table = [[("情景" if zh else "scenario"), *cols]]
    for a in data.arms:
        is_base = a in data.baseline_arms
        suffix = is_base and not mentions_baseline(data.labels[a])
        line = [data.labels[a] + ((" (基线)" if zh else " (baseline)") if suffix else "")]
        for m in HEADLINE:
            r = row(head, a, m.key)
            if r is None or math.isnan(r["mean"]):
                line.append("–")
                continue
            money = m.key == "gov_spending_annual"
            text = f"{r['mean'] / div:,.{dec}f}" if money else number(r["mean"], m.kind, "en")
            if not is_base and not math.isnan(r["diff"]):
                if money:
                    d = ("+" if r["diff"] >= 0 else "-") + f"{abs(r['diff']) / div:,.{dec}f}"
                else:  # an ASCII minus: U+2212 is two columns wide in some CJK terminals
                    d = diff(r["diff"], m.kind, "en").replace(" pts", "").replace("−", "-")
                text += f" ({d}{'*' if r['excludes_zero'] else ''})"
            line.append(text)
        table.append(line)
    widths = [max(_width(r[i]) for r in table) for i in range(len(table[0]))]
    out = []
    for k, r in enumerate(table):
        # numbers and their headers right-aligned, by display width (a Chinese character
        # takes two columns)
        cells = [_pad(r[0], widths[0])] + [
            _pad(c, w, right=True) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("─" * max(_width(x) for x in out))
    note = (
        "括号内为与基线的配对差值(满足率为百分点);* 表示95%置信区间不含0"
        if zh
        else "in brackets: paired difference to the baseline (satisfaction in points); "
        "* its 95% CI excludes 0"
    )
    return "\n".join([*out, note])


def handle(args: argparse.Namespace) -> int:
    """Build the report, print the headline table and the report's location."""
    from experiments.interfaces.report.build import build_report
    from experiments.interfaces.report.district import is_district_folder

    if is_district_folder(args.results):  # a folder of `linkage district`
        return district_report(args)

    rep = build_report(args.results, lang=args.lang, baseline=args.baseline, out=args.out)
    data = rep.data
    if data is None:  # a robustness study's own report
        print(f"report: {rep.html}\n        {len(rep.figures)} figures (PNG) in {rep.folder}")
        return 0
    from experiments.interfaces.report.labels import experiment_label

    name = experiment_label(data.results.manifest, data.lang, data.results.path.name)
    base = data.labels.get(data.baseline, data.baseline)
    print(f"{name}: {len(data.runs)} runs, {len(data.arms)} scenarios, baseline {base}\n")
    print(headline_text(data, rep.headline))
    print(f"\nreport: {rep.html}")
    print(
        f"        {len(rep.figures)} figures (PNG) and {len(rep.csvs)} tables (CSV) in {rep.folder}"
    )
    return 0


def district_report(args: argparse.Namespace) -> int:
    """The report of a district study: print its findings and where the report is."""
    from experiments.engine.errors import InputError
    from experiments.interfaces.report.district import build_district_report

    if args.baseline is not None:
        raise InputError(
            "--baseline: a district report compares its arms in the order of the district file"
        )
    rep = build_district_report(args.results, lang=args.lang, out=args.out)
    print(rep.text)
    print(f"\nreport: {rep.html}")
    print(
        f"        {len(rep.figures)} figures (PNG) and {len(rep.csvs)} tables (CSV) in {rep.folder}"
    )
    return 0
