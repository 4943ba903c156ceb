"""Plain-language summaries, one per arm, written only from the report's numbers.

A difference to the baseline is called "above"/"below", "more"/"less", "shorter"/"longer"
only when its paired 95% interval excludes zero; otherwise the sentence says there is no clear
difference (or leaves the comparison out).
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.interfaces.report.data import ReportData
from experiments.interfaces.report.labels import GROUPS, group_name, mentions_baseline, money
from experiments.interfaces.report.tables import row, value


def _f(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}".replace("-", "−")


def _decimals(lo: float, hi: float) -> int:
    """Whole points, unless the interval is narrower than 2 points or an end rounds to 0."""
    if math.isnan(lo) or math.isnan(hi):
        return 0
    if (hi - lo) * 100 < 2 or round(100 * lo) == 0 or round(100 * hi) == 0:
        return 1
    return 0


def _pct(mean: float, lo: float, hi: float, lang: str) -> str:
    """Need satisfaction with its interval, e.g. "84% (95% CI 83–85%)"."""
    if math.isnan(lo) or math.isnan(hi):
        return f"{_f(100 * mean, 0)}%"
    d = _decimals(lo, hi)
    ci = f"{_f(100 * lo, d)}–{_f(100 * hi, d)}%"
    return f"{_f(100 * mean, d)}%" + (f"(95%置信区间 {ci})" if lang == "zh" else f" (95% CI {ci})")


def _sig(r: pd.Series | None) -> bool:
    return r is not None and bool(r.get("excludes_zero", False))


def _sat_diff(r: pd.Series, lang: str) -> str:
    d, lo, hi = (float(r[c]) for c in ("diff", "diff_ci_low", "diff_ci_high"))
    if math.isnan(d):
        return ""
    dec = _decimals(lo, hi)
    ci = (
        ""
        if math.isnan(lo)
        else f"{_f(100 * lo, dec)} {'至' if lang == 'zh' else 'to'} {_f(100 * hi, dec)}"
    )
    if _sig(r):
        if lang == "zh":
            return f",比基线{'高' if d > 0 else '低'} {_f(abs(100 * d), dec)} 个百分点(95%置信区间 {ci})"
        return f", {_f(abs(100 * d), dec)} points {'above' if d > 0 else 'below'} the baseline (95% CI {ci})"
    signed = ("+" if d >= 0 else "") + _f(100 * d, 1)
    if lang == "zh":
        return f",与基线无明显差别({signed} 个百分点" + (f",95%置信区间 {ci})" if ci else ")")
    return f", no clear difference from the baseline ({signed} points" + (
        f", 95% CI {ci})" if ci else ")"
    )


def _lowest_group(
    data: ReportData, eq: pd.DataFrame, arm: str
) -> tuple[str, float, pd.Series | None] | None:
    vals = [(g, value(eq, arm, f"satisfaction_{g}")) for g in GROUPS]
    vals = [(g, v) for g, v in vals if not math.isnan(v)]
    if not vals:
        return None
    g, v = min(vals, key=lambda gv: gv[1])
    return g, v, row(eq, arm, f"satisfaction_{g}")


def summary(data: ReportData, arm: str, head: pd.DataFrame, eq: pd.DataFrame) -> str:
    """One paragraph about an arm: need satisfaction, cost, waiting, volunteers, the worst-off
    group, each compared with the baseline where the difference is clear.

    Args:
        data: The report's data.
        arm: The arm.
        head: The headline table.
        eq: The equity table.

    Returns:
        The paragraph (plain text) in the report's language.
    """
    zh = data.lang == "zh"
    lang = data.lang
    is_base = arm in data.baseline_arms
    suffix = is_base and not mentions_baseline(data.labels[arm])
    label = data.labels[arm] + (("(基线)" if zh else " (baseline)") if suffix else "")
    sat = row(head, arm, "need_satisfaction_rate")
    parts = []
    if sat is not None:
        text = ("需求满足率 " if zh else "need satisfaction ") + _pct(
            sat["mean"], sat["ci_low"], sat["ci_high"], lang
        )
        if not is_base:
            text += _sat_diff(sat, lang)
        parts.append(text)
    spend = row(head, arm, "gov_spending_annual")
    cost = row(head, arm, "cost_per_need_met")
    if spend is not None:
        text = (
            f"每年花费 {money(spend['mean'], lang)}"
            if zh
            else f"costs {money(spend['mean'], lang)} a year"
        )
        if not is_base and not math.isnan(spend["diff"]):
            if _sig(spend):
                amount = money(abs(spend["diff"]), lang)
                more = spend["diff"] > 0
                text += (
                    f",比基线{'多' if more else '少'} {amount}"
                    if zh
                    else f", {amount} {'more' if more else 'less'} than the baseline"
                )
            else:
                text += ",与基线大致相同" if zh else ", about the same as the baseline"
        if cost is not None and not math.isnan(cost["mean"]):
            c = _f(cost["mean"], 0 if cost["mean"] >= 10 else 1)
            text += f",每满足一项需求 {c} 元" if zh else f", {c} yuan per need met"
            if not is_base and not math.isnan(cost["diff"]):
                b = _f(cost["mean"] - cost["diff"], 0 if cost["mean"] - cost["diff"] >= 10 else 1)
                text += f"(基线 {b} 元)" if zh else f" (baseline {b})"
        parts.append(text)
    wait = row(head, arm, "mean_wait_hours")
    p90 = value(head, arm, "p90_wait_hours")
    if wait is not None and not math.isnan(wait["mean"]):
        text = (
            f"平均等待 {_f(wait['mean'], 0)} 小时" if zh else f"mean wait {_f(wait['mean'], 0)} h"
        )
        if not math.isnan(p90):
            text += f"(90%分位 {_f(p90, 0)} 小时)" if zh else f" (90th percentile {_f(p90, 0)} h)"
        if not is_base and _sig(wait):
            d = wait["diff"]
            text += (
                f",比基线{'长' if d > 0 else '短'} {_f(abs(d), 0)} 小时"
                if zh
                else f", {_f(abs(d), 0)} h {'longer' if d > 0 else 'shorter'} than the baseline"
            )
        parts.append(text)
    vol = row(head, arm, "active_volunteers")
    if vol is not None and not math.isnan(vol["mean"]):
        text = (
            f"活跃志愿者 {_f(vol['mean'], 0)} 人"
            if zh
            else f"{_f(vol['mean'], 0)} active volunteers"
        )
        if not is_base and _sig(vol):
            d = vol["diff"]
            text += (
                f"(比基线{'多' if d > 0 else '少'} {_f(abs(d), 0)} 人)"
                if zh
                else f" ({'+' if d > 0 else '−'}{_f(abs(d), 0)} vs the baseline)"
            )
        parts.append(text)
    sep = ";" if zh else "; "
    body = sep.join(parts)
    out = f"{label}:{body}。" if zh else f"{label}: {body[:1].upper()}{body[1:]}."
    low = _lowest_group(data, eq, arm)
    if low is not None:
        g, v, r = low
        name = group_name(g, lang)
        if zh:
            out += f"满足率最低的群体:{name},{_f(100 * v, 0)}%"
        else:
            out += f" Least-served group: {name.lower()} at {_f(100 * v, 0)}%"
        if not is_base and r is not None and _sig(r):
            d = 100 * float(r["diff"])
            out += (
                f"(比基线{'高' if d > 0 else '低'} {_f(abs(d), 0)} 个百分点)"
                if zh
                else f" ({'+' if d > 0 else '−'}{_f(abs(d), 0)} points vs the baseline)"
            )
        out += "。" if zh else "."
    return out


def summaries(data: ReportData, head: pd.DataFrame, eq: pd.DataFrame) -> dict[str, str]:
    """A summary paragraph per arm (the baseline first)."""
    order = sorted(data.arms, key=lambda a: a not in data.baseline_arms)
    return {a: summary(data, a, head, eq) for a in order}
