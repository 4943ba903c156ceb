"""Plain-language summaries, one per arm, written only from the report's numbers.

A difference to the baseline is called "above"/"below", "more"/"less", "shorter"/"longer"
only when its paired 95% interval excludes zero; otherwise the sentence says there is no clear
difference (or leaves the comparison out). A group is the "least served" only when its interval
is below the next group's. Spending is never said to be equal unless the numbers show it: the
first finding (`spending_finding`) states each arm's yearly spending, its budget execution rate
(share of the budget spent) and the money returned unspent at year end, and calls them "about the same" only when every arm's interval lies within `SPEND_TOLERANCE` of
the budget of each other's.
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.interfaces.report.data import ReportData
from experiments.interfaces.report.labels import GROUPS, group_name, mentions_baseline, money
from experiments.interfaces.report.tables import row, value

SPEND_TOLERANCE = 0.03
"""Spending of the arms counts as "about the same" when all of it (95% intervals included)
lies within this share of the budget."""


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


def _spent_share(data: ReportData, arm: str) -> float:
    """Mean share of its yearly budget an arm spends (NaN when unknown)."""
    col = data.runs.get("budget_spent_share")
    if col is None:
        return math.nan
    v = col[data.runs["arm"] == arm].astype(float)
    return float(v.mean()) if v.notna().any() else math.nan


def _arm_mean(data: ReportData, arm: str, col: str) -> float:
    """Mean of a run column over an arm's runs (NaN when the results lack it)."""
    v = data.runs.get(col)
    if v is None:
        return math.nan
    v = v[data.runs["arm"] == arm].astype(float)
    return float(v.mean()) if v.notna().any() else math.nan


def _next_group(
    data: ReportData, eq: pd.DataFrame, arm: str, lowest: str
) -> tuple[str, float] | None:
    """The group with the next-lowest mean and the low end of its interval."""
    vals = [(g, row(eq, arm, f"satisfaction_{g}")) for g in GROUPS if g != lowest]
    vals = [(g, r) for g, r in vals if r is not None and not math.isnan(float(r["mean"]))]
    if not vals:
        return None
    g, r = min(vals, key=lambda gr: float(gr[1]["mean"]))
    lo = float(r["ci_low"])
    return g, (lo if not math.isnan(lo) else -math.inf)


def spending_finding(data: ReportData, spend: pd.DataFrame) -> str:
    """What each arm spends a year and what share of its budget that is, and whether the arms
    spend about the same (every interval within `SPEND_TOLERANCE` of the budget of the others')
    or not; from the spending table.

    Returns:
        The paragraph, or "" when the table has no spending.
    """
    zh = data.lang == "zh"
    lang = data.lang
    rows = [
        (a, row(spend, a, "gov_spending_annual"), row(spend, a, "annual_budget")) for a in data.arms
    ]
    rows = [(a, s, b) for a, s, b in rows if s is not None and not math.isnan(s["mean"])]
    if not rows:
        return ""
    budgets = [float(b["mean"]) if b is not None else math.nan for _, _, b in rows]
    known = [b for b in budgets if not math.isnan(b) and b > 0]

    def each(a: str, s: pd.Series, b: float) -> str:
        pct = ""
        if b and not math.isnan(b):
            r = 100 * s["mean"] / b
            pct = f"{_f(r, 1 if round(r) == 100 and r < 99.95 else 0)}%"  # 99.5% is not 100%
        back = _arm_mean(data, a, "gov_returned_annual")
        ret = "" if math.isnan(back) else money(back, lang)
        if zh:
            inner = "、".join(
                x
                for x in (f"预算执行率 {pct}" if pct else "", f"年末退回 {ret}" if ret else "")
                if x
            )
            return f"{data.labels[a]} {money(s['mean'], lang)}" + (f"({inner})" if inner else "")
        inner = ", ".join(
            x
            for x in (
                f"{pct} of its budget executed" if pct else "",
                f"{ret} returned unspent at year end" if ret else "",
            )
            if x
        )
        return f"{data.labels[a]} {money(s['mean'], lang)}" + (f" ({inner})" if inner else "")

    listing = ("、" if zh else "; ").join(
        each(a, s, b) for (a, s, _), b in zip(rows, budgets, strict=True)
    )
    if len(known) < len(rows):
        return f"每年支出:{listing}。" if zh else f"Spending per year: {listing}."
    if max(known) - min(known) > 1e-6 * max(known):
        return (
            f"各情景的年度预算不同({money(min(known), lang)}至{money(max(known), lang)});每年支出:{listing}。"
            if zh
            else f"The scenarios have different yearly budgets ({money(min(known), lang)} to "
            f"{money(max(known), lang)}); they spend per year: {listing}."
        )
    budget = known[0]
    lo = min(float(s["ci_low"]) if not math.isnan(s["ci_low"]) else s["mean"] for _, s, _ in rows)
    hi = max(float(s["ci_high"]) if not math.isnan(s["ci_high"]) else s["mean"] for _, s, _ in rows)
    spread = hi - lo
    tol = _f(100 * SPEND_TOLERANCE, 0)
    if len(rows) == 1:
        return (
            f"年度预算 {money(budget, lang)};每年支出:{listing}。"
            if zh
            else (f"The yearly budget is {money(budget, lang)}; spending per year: {listing}.")
        )
    if spread <= SPEND_TOLERANCE * budget:
        return (
            f"各情景的年度预算相同,均为 {money(budget, lang)};支出也大致相同(含置信区间在内相差不超过预算的 "
            f"{tol}%):{listing}。"
            if zh
            else f"Every scenario has the same yearly budget, {money(budget, lang)}, and they "
            f"spend about the same (within {tol}% of the budget of each other, intervals "
            f"included): {listing}."
        )
    means = [float(s["mean"]) for _, s, _ in rows]
    gap = max(means) - min(means)
    return (
        f"各情景的年度预算相同,均为 {money(budget, lang)},但实际支出并不相同:{listing};"
        f"均值相差 {money(gap, lang)},即预算的 {_f(100 * gap / budget, 0)}%(超过 {tol}%)。"
        "因此比较成效时应看每满足一项需求的成本(按实际支出计算),而不只看成效本身。"
        if zh
        else f"Every scenario has the same yearly budget, {money(budget, lang)}, but they do not "
        f"spend the same: {listing}; the means differ by {money(gap, lang)}, "
        f"{_f(100 * gap / budget, 0)}% of the budget (more than {tol}%). Compare them by cost per "
        "need met, which divides by the money actually spent, not by outcomes alone."
    )


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
        share = _spent_share(data, arm)
        if not math.isnan(share):
            pct = _f(100 * share, 0)
            text += f"(预算的 {pct}%)" if zh else f" ({pct}% of its budget)"
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
                text += (
                    ",支出与基线无明显差别" if zh else ", not clearly different from the baseline's"
                )
        if cost is not None and not math.isnan(cost["mean"]):
            c = _f(cost["mean"], 0 if cost["mean"] >= 10 else 1)
            text += f",每满足一项需求 {c} 元" if zh else f", {c} yuan per need met"
            cash = value(head, arm, "cost_per_need_met_cash")
            if not math.isnan(cash) and abs(cash - cost["mean"]) > 0.005 * abs(cost["mean"]):
                k = _f(cash, 0 if cash >= 10 else 1)
                text += (
                    f"(权责发生制,含时间银行负债变化;按现金计 {k} 元)"
                    if zh
                    else f" on accrual, counting new time-bank liability ({k} in cash)"
                )
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
        nxt = _next_group(data, eq, arm, g)
        clear = nxt is not None and r is not None and float(r["ci_high"]) < nxt[1]
        if zh:
            out += (
                f"满足率最低的群体:{name},{_f(100 * v, 0)}%"
                if clear or nxt is None
                else f"满足率均值最低的群体:{name},{_f(100 * v, 0)}%"
                f"(其区间与{group_name(nxt[0], lang)}重叠,次序不确定)"
            )
        else:
            out += (
                f" Least-served group: {name.lower()} at {_f(100 * v, 0)}%"
                if clear or nxt is None
                else f" Lowest mean need satisfaction: {name.lower()} at {_f(100 * v, 0)}% "
                f"(its interval overlaps that of {group_name(nxt[0], lang).lower()}, so the "
                "order is uncertain)"
            )
        if not is_base and r is not None and _sig(r):
            d = 100 * float(r["diff"])
            out += (
                f"(比基线{'高' if d > 0 else '低'} {_f(abs(d), 0)} 个百分点)"
                if zh
                else f" ({'+' if d > 0 else '−'}{_f(abs(d), 0)} points vs the baseline)"
            )
        out += "。" if zh else "."
    return out


def summaries(
    data: ReportData, head: pd.DataFrame, eq: pd.DataFrame, spend: pd.DataFrame | None = None
) -> dict[str, str]:
    """The findings: spending and budgets first (key `SPENDING`, with the spending table),
    then a summary paragraph per arm (the baseline first)."""
    order = sorted(data.arms, key=lambda a: a not in data.baseline_arms)
    out = {}
    text = spending_finding(data, spend) if spend is not None else ""
    if text:
        out[SPENDING] = text
    out.update({a: summary(data, a, head, eq) for a in order})
    return out


SPENDING = "(spending)"
"""Key of the spending finding in `summaries`."""
