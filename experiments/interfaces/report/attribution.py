"""The attribution in the report: a waterfall from A to B and a reading written from its numbers.

Everything here reads an `attribution.json` (written by `linkage attribute`,
`experiments.analyses.attribution`): the command line draws its charts with it, the report
opens with its section (`section`), and the dashboard's side-by-side tab draws a small waterfall.

The reading says only what the numbers show: a change is "up" or "down" only when its 95%
interval excludes zero; a lever "contributes most" only when its interval is clear of the next
lever's; an interaction is "reinforcing" or "overlapping" only when its interval excludes zero.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from experiments.interfaces.report.labels import HEADLINE, money

FIGURE = "attribution"
"""File stem of the waterfall charts (`attribution.png`, `attribution_zh.png`)."""

OTHER_METRICS = {
    "satisfaction_min_group": ("Need satisfaction of the worst-off group", "最低群体需求满足率"),
    "gov_spending_total": ("Government spending", "政府支出"),
}


def metric_name(metric: str, lang: str) -> str:
    """The metric's display name."""
    for m in HEADLINE:
        if m.key == metric:
            return m.name(lang)
    pair = OTHER_METRICS.get(metric)
    if pair:
        return pair[1] if lang == "zh" else pair[0]
    return metric


def is_rate(metric: str) -> bool:
    """Shares shown in percent (differences in percentage points)."""
    return metric.endswith("_rate") or metric.startswith("satisfaction_")


def better(metric: str) -> int:
    """+1 when higher is better, −1 when lower is better, 0 when neither."""
    for m in HEADLINE:
        if m.key == metric:
            return m.better
    return +1 if is_rate(metric) else 0


def fmt(x: Any, metric: str, lang: str, signed: bool = False) -> str:
    """A value (or a difference, `signed`) of `metric` for text: rates in % or points."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    x = float(x)
    if is_rate(metric):
        v = 100 * x
        if signed:
            return f"{v:+.1f}" + ("个百分点" if lang == "zh" else " points")
        return f"{v:.1f}%"
    if metric in ("gov_spending_annual", "gov_spending_total"):
        text = money(abs(x), lang)
        return (("+" if x >= 0 else "−") + text) if signed else money(x, lang)
    a = abs(x)
    d = 0 if a >= 100 else (1 if a >= 10 else 2)
    text = f"{a:,.{d}f}"
    return (("+" if x >= 0 else "−") + text) if signed else f"{x:,.{d}f}"


def _short(x: Any, metric: str, signed: bool = True) -> str:
    """A compact number for chart labels (rates in points, no unit)."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    x = float(x)
    if is_rate(metric):
        return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"
    a = abs(x)
    if a >= 1e5:
        return f"{x / 1e4:+,.0f}万" if signed else f"{x / 1e4:,.0f}万"
    d = 0 if a >= 100 else (1 if a >= 10 else 2)
    return f"{x:+,.{d}f}" if signed else f"{x:,.{d}f}"


def _ci(lo: Any, hi: Any, metric: str, lang: str) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    to = " 至 " if lang == "zh" else " to "
    a, b = fmt(lo, metric, lang, True), fmt(hi, metric, lang, True)
    if is_rate(metric):
        unit = "个百分点" if lang == "zh" else " points"
        a = a.replace(unit, "")
    return f"95%置信区间 {a}{to}{b}" if lang == "zh" else f"95% CI {a}{to}{b}"


def _excludes(lo: Any, hi: Any) -> bool:
    return (
        lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
        and (lo > 0 or hi < 0)
    )  # fmt: skip


def interval(r: dict[str, Any]) -> tuple[float, float]:
    """A value's 95% interval: over replications, widened by the order-sampling error when
    orders were sampled (`total_half_width`)."""
    phi, half = r.get("phi"), r.get("total_half_width")
    if phi is None or half is None or not math.isfinite(half):
        return math.nan, math.nan
    return phi - half, phi + half


def clear(r: dict[str, Any]) -> bool:
    """Whether a value's interval (`interval`) excludes zero."""
    return _excludes(*interval(r))


def _label(meta: dict[str, Any], key: str, lang: str) -> str:
    side = meta.get(key) or {}
    return str(side.get(f"label_{lang}") or side.get("label_en") or side.get("name") or key)


def _lever_label(row: dict[str, Any], lang: str) -> str:
    return str(row.get("label_zh" if lang == "zh" else "label_en") or row.get("lever"))


def primary(meta: dict[str, Any]) -> str:
    """The primary metric of an attribution."""
    return str(meta["settings"]["metrics"][0])


def size_text(meta: dict[str, Any], lang: str) -> str:
    """How big the attribution was: street, weeks, replications, subsets and runs."""
    st = meta.get("street") or {}
    s = meta["settings"]
    m = meta["metrics"][primary(meta)]
    sampled = meta.get("method") == "sampled"
    if lang == "zh":
        how = (
            f"抽样 {len(meta.get('orders') or [])} 个顺序(对偶成对)"
            if sampled
            else f"全部 {2 ** len(meta['levers'])} 个杠杆组合"
        )
        return (
            f"规模:{st.get('n_residents', '?'):,} 名居民、{st.get('n_communities', '?')} 个社区,"
            f"每次运行 {st.get('weeks', '?')} 周(前 {st.get('warmup_weeks', '?')} 周为预热期);"
            f"{how},共 {meta.get('subsets', '?')} 个组合 × {m['replications']} 次配对重复 = "
            f"{meta.get('runs', '?')} 次运行。"
        )
    how = (
        f"{len(meta.get('orders') or [])} sampled orders (antithetic pairs)"
        if sampled
        else f"all {2 ** len(meta['levers']):,} subsets of the levers"
    )
    return (
        f"Size: a street of {st.get('n_residents', '?'):,} residents in "
        f"{st.get('n_communities', '?')} "
        f"{'community' if st.get('n_communities') == 1 else 'communities'}, "
        f"{st.get('weeks', '?')} weeks per run "
        f"({st.get('warmup_weeks', '?')} of warm-up); {how}, {meta.get('subsets', '?')} subsets "
        f"x {m['replications']} paired replications = {meta.get('runs', '?')} runs "
        f"(settings: {', '.join(s['sets']) or 'the scenario files as they are'})."
    )


def reading(meta: dict[str, Any], lang: str = "en", metric: str | None = None) -> str:
    """One paragraph that reads the attribution of `metric` (default: the primary one), written
    only from its numbers.

    Args:
        meta: The attribution (`attribution.json`).
        lang: "en" or "zh".
        metric: The metric.

    Returns:
        The paragraph (plain text).
    """
    zh = lang == "zh"
    metric = metric or primary(meta)
    s = meta["metrics"][metric]
    vals = sorted(s["values"], key=lambda r: r["rank"])
    name = metric_name(metric, lang)
    a, b = _label(meta, "a", lang), _label(meta, "b", lang)
    total = s["total"]
    lo, hi = s["total_ci"]
    reps = s["replications"]
    out = []
    if reps == 0 or total is None:
        return (
            "没有一次重复同时拥有全部组合的结果,无法分解。"
            if zh
            else "No replication holds every subset, so nothing can be attributed."
        )
    ci = _ci(lo, hi, metric, lang)
    if _excludes(lo, hi):
        up = total > 0
        if zh:
            out.append(
                f"从“{a}”到“{b}”,{name}从 {fmt(s['a_mean'], metric, lang)} "
                f"{'升至' if up else '降至'} {fmt(s['b_mean'], metric, lang)},变化 "
                f"{fmt(total, metric, lang, True)}({ci},{reps} 次配对重复)。"
            )
        else:
            out.append(
                f"From {a} to {b}, {name.lower()} {'rises' if up else 'falls'} from "
                f"{fmt(s['a_mean'], metric, lang)} to {fmt(s['b_mean'], metric, lang)}, "
                f"{fmt(total, metric, lang, True)} ({ci}, {reps} paired replications)."
            )
    else:
        out.append(
            f"从“{a}”到“{b}”,{name}的变化为 {fmt(total, metric, lang, True)},与零没有可分辨的差别"
            f"({ci or '只有一次重复,没有区间'})。"
            if zh
            else f"From {a} to {b}, {name.lower()} changes by {fmt(total, metric, lang, True)}, "
            f"which cannot be told apart from zero ({ci or 'one replication: no interval'})."
        )
    n = len(vals)
    sampled = meta.get("method") == "sampled"
    clear_ = [r for r in vals if clear(r)]
    unclear = [r for r in vals if r not in clear_]

    def item(r: dict[str, Any]) -> str:
        body = f"{fmt(r['phi'], metric, lang, True)},{_ci(*interval(r), metric, lang)}"
        if not zh:
            body = body.replace(",", ", ", 1)
        return f"{_lever_label(r, lang)}({body})" if zh else f"{_lever_label(r, lang)} ({body})"

    how = (
        f"沙普利值:每项杠杆在所有开启顺序上的平均贡献{'(由抽样顺序估计)' if sampled else ''}"
        if zh
        else "Shapley values: each lever's contribution averaged over the orders in which the "
        "levers could be switched" + (", estimated from sampled orders" if sampled else "")
    )
    if clear_:
        pos = [r for r in clear_ if r["phi"] > 0]
        neg = [r for r in clear_ if r["phi"] < 0]
        if zh:
            text = f"在两者不同的 {n} 项杠杆中({how}),{len(clear_)} 项的区间不含零"
            if pos:
                text += ";提高的:" + "、".join(item(r) for r in pos)
            if neg:
                text += ";降低的:" + "、".join(item(r) for r in neg)
            out.append(text + "。")
        else:
            text = (
                f"Of the {n} levers that differ ({how}), {len(clear_)} have an interval that "
                "excludes zero"
            )
            if pos:
                text += "; raising it: " + ", ".join(item(r) for r in pos)
            if neg:
                text += "; lowering it: " + ", ".join(item(r) for r in neg)
            out.append(text + ".")
        first = clear_[0]
        second = next((r for r in vals if r is not first), None)
        if first is vals[0] and second is not None:
            if _separated(first, second):
                out.append(
                    f"{_lever_label(first, lang)}的贡献最大,其区间与第二位不重叠。"
                    if zh
                    else f"{_lever_label(first, lang)} contributes the most: its interval is "
                    "clear of the next lever's."
                )
            else:
                out.append(
                    "贡献最大的几项杠杆区间相互重叠,它们的先后次序并不确定。"
                    if zh
                    else "The intervals of the largest contributions overlap, so their order "
                    "is uncertain."
                )
    else:
        out.append(
            f"在两者不同的 {n} 项杠杆中({how}),没有一项的区间不含零:在这一规模下无法区分各杠杆的作用。"
            if zh
            else f"Of the {n} levers that differ ({how}), none has an interval that excludes "
            "zero: at this size their effects cannot be told apart from noise."
        )
    if clear_ and unclear:
        out.append(
            f"其余 {len(unclear)} 项的区间包含零。"
            if zh
            else f"The other {len(unclear)} levers' intervals include zero."
        )
    if sampled:
        worst = max(
            (r["perm_half_width"] for r in vals if r.get("perm_half_width") is not None),
            default=None,
        )
        if worst is not None and math.isfinite(worst):
            out.append(
                f"抽样顺序带来的误差另列(最大 ±{_short(worst, metric, False)}"
                f"{'个百分点' if is_rate(metric) else ''})。"
                if zh
                else "The error from sampling orders is shown separately (at most "
                f"±{_short(worst, metric, False)}{' points' if is_rate(metric) else ''})."
            )
    inter = [r for r in s.get("interactions") or []]
    sig = []
    for r in inter:
        for tag in ("index", "at_a", "at_b"):
            if _excludes(r.get(f"{tag}_ci_low"), r.get(f"{tag}_ci_high")):
                sig.append((abs(r[tag]), tag, r))
    if inter:
        if sig:
            _, tag, r = max(sig, key=lambda x: x[0])
            v = r[tag]
            where = {
                "index": ("(沙普利交互指数)", " (Shapley interaction index)"),
                "at_a": (f"(在“{a}”的基础上)", f" (starting from {a})"),
                "at_b": (f"(在“{b}”的基础上)", f" (starting from {b})"),
            }[tag]
            li = _lever_label(_row_of(vals, r["lever_i"]), lang)
            lj = _lever_label(_row_of(vals, r["lever_j"]), lang)
            if zh:
                kind = "相互加强" if v > 0 else "相互重叠(合起来小于各自作用之和)"
                out.append(
                    f"最大的两两交互是{li}×{lj}:{fmt(v, metric, lang, True)}{where[0]},"
                    f"{_ci(r[tag + '_ci_low'], r[tag + '_ci_high'], metric, lang)},两者{kind}。"
                )
            else:
                kind = (
                    "together they add more than their separate effects"
                    if v > 0
                    else "together they add less than their separate effects (they overlap)"
                )
                out.append(
                    f"The largest two-way interaction is {li} × {lj}: "
                    f"{fmt(v, metric, lang, True)}{where[1]}, "
                    f"{_ci(r[tag + '_ci_low'], r[tag + '_ci_high'], metric, lang)}: {kind}."
                )
        else:
            out.append(
                "所测的两两交互均与零没有可分辨的差别。"
                if zh
                else "No two-way interaction measured can be told apart from zero."
            )
    err = s.get("additivity_error")
    if err is not None and s.get("sum_phi") is not None:
        out.append(
            f"各杠杆的值加总为 {fmt(s['sum_phi'], metric, lang, True)},等于总差值。"
            if zh
            else f"The values add up to {fmt(s['sum_phi'], metric, lang, True)}, the total "
            "difference."
        )
    return ("" if zh else " ").join(out)


def _row_of(vals: list[dict[str, Any]], lever: str) -> dict[str, Any]:
    return next((r for r in vals if r["lever"] == lever), {"lever": lever})


def _separated(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether the intervals of two values do not overlap (a above b in absolute size)."""
    (la, ha), (lb, hb) = interval(a), interval(b)
    if None in (la, ha, lb, hb) or not all(math.isfinite(x) for x in (la, ha, lb, hb)):
        return False
    if a["phi"] >= 0:
        return la > max(hb, -lb) if b["phi"] >= 0 else la > -lb
    return ha < min(lb, -hb) if b["phi"] < 0 else -ha > hb


# --------------------------------------------------------------------------- the chart


COLORS = {"better": "#2e8b57", "worse": "#c0392b", "changed": "#d9a400", "unclear": "#a8a8a8"}


def _color(phi: float, clear: bool, metric: str) -> str:
    if not clear:
        return COLORS["unclear"]
    g = better(metric)
    if g == 0:
        return COLORS["changed"]
    return COLORS["better"] if (phi > 0) == (g > 0) else COLORS["worse"]


def waterfall_figure(
    meta: dict[str, Any], lang: str = "en", metric: str | None = None, compact: bool = False
) -> Figure:
    """A horizontal waterfall from A to B: one floating bar per lever (its Shapley value, with
    its 95% interval, widened by the order-sampling error when orders were sampled), largest
    first; green or red (better or worse) when the interval excludes zero, grey when it does
    not. A and B are bars of their mean; the axis does not start at zero.

    Args:
        meta: The attribution (`attribution.json`).
        lang: Label language.
        metric: The metric (default: the primary one).
        compact: A smaller figure for the dashboard.
    """
    metric = metric or primary(meta)
    s = meta["metrics"][metric]
    vals = sorted(s["values"], key=lambda r: r["rank"])
    scale = 100.0 if is_rate(metric) else 1.0
    small = 7 if compact else 8
    rows = len(vals) + 2
    height = (1.3 + 0.26 * rows) if compact else (1.9 + 0.36 * rows)
    fig = Figure(figsize=(6.6 if compact else 9.5, height), dpi=100 if compact else 150)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    a_mean = (s["a_mean"] or 0.0) * scale
    b_mean = (s["b_mean"] or 0.0) * scale
    labels = [_label(meta, "a", lang)]
    ax.barh(0, a_mean, color="#5b6f8a", height=0.6)
    level, ends = a_mean, [a_mean, b_mean]
    for y, r in enumerate(vals, 1):
        phi = (r["phi"] or 0.0) * scale
        half = r.get("total_half_width")
        half = half * scale if half is not None and math.isfinite(half) else 0.0
        ax.barh(y, phi, left=level, color=_color(phi, clear(r), metric), height=0.6)
        if half:
            ax.errorbar(level + phi, y, xerr=half, fmt="none", ecolor="#333333", capsize=3, lw=1)
        ax.plot([level, level], [y - 1.3, y + 0.3], color="#999999", lw=0.6, ls=":")
        ends += [level, level + phi + half, level + phi - half]
        ax.annotate(
            _short(r["phi"], metric),
            (max(level, level + phi) + half, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=small,
            color="#333333",
        )
        level += phi
        labels.append(_lever_label(r, lang))
    ax.barh(rows - 1, b_mean, color="#2f4b7c", height=0.6)
    labels.append(_label(meta, "b", lang))
    for y, v, mean in ((0, a_mean, s["a_mean"]), (rows - 1, b_mean, s["b_mean"])):
        ax.annotate(
            fmt(mean, metric, lang) if not compact else _short(mean, metric, False),
            (v, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=small,
        )
    lo, hi = min(ends), max(ends)
    pad = 0.08 * (hi - lo or 1.0)
    left = lo - 3 * pad
    if lo >= 0 and left < 0:
        left = 0.0
    ax.set_xlim(left, hi + 3 * pad)
    ax.set_yticks(range(rows), labels, fontsize=7 if compact else 9)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    name = metric_name(metric, lang)
    pct = ("(%)" if lang == "zh" else " (%)") if is_rate(metric) else ""
    ax.set_xlabel(name + pct, fontsize=small + 1)
    ax.tick_params(axis="x", labelsize=small)
    arrow = f"{_label(meta, 'a', lang)} → {_label(meta, 'b', lang)}"
    sampled = meta.get("method") == "sampled"
    if lang == "zh":
        title = f"哪项杠杆带来了差别:{name},{arrow}"
        sub = (
            "条形:各杠杆的沙普利值及95%置信区间"
            + ("(含顺序抽样误差)" if sampled else "")
            + ";绿色更好、红色更差,灰色:区间含零"
        )
    else:
        title = f"Which lever made the difference: {name.lower()}, {arrow}"
        sub = (
            "bars: each lever's Shapley value with its 95% interval"
            + (" (order-sampling error included)" if sampled else "")
            + "\ngreen: better, red: worse, grey: the interval includes zero"
        )
    if compact:
        ax.set_title(title if len(title) <= 72 else title[:69] + "...", fontsize=9)
    else:
        fig.suptitle(title, fontsize=11)
        ax.set_title(sub, fontsize=8.5, color="#555555")
    return fig


def waterfall_png(
    meta: dict[str, Any], lang: str = "en", metric: str | None = None, compact: bool = False
) -> bytes:
    """The waterfall as PNG bytes, drawn with the language's fonts (`font_rc`).

    Raises:
        FontError: `lang` is "zh" and no font draws Chinese.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from experiments.interfaces.report.fonts import figure_fonts, font_rc

    with figure_fonts(font_rc(lang)):
        fig = waterfall_figure(meta, lang, metric, compact)
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def write_charts(meta: dict[str, Any], folder: str | Path) -> list[Path]:
    """Write the waterfall of the primary metric in English (`attribution.png`) and, when a
    font draws Chinese, in Chinese (`attribution_zh.png`); returns the files written."""
    from experiments.interfaces.report.fonts import find_cjk_font

    out = []
    for lang, name in (("en", f"{FIGURE}.png"), ("zh", f"{FIGURE}_zh.png")):
        if lang == "zh" and find_cjk_font() is None:
            continue
        path = Path(folder) / name
        path.write_bytes(waterfall_png(meta, lang))
        out.append(path)
    return out


# --------------------------------------------------------------------------- finding one


def reverse(meta: dict[str, Any]) -> dict[str, Any]:
    """The attribution of B → A from that of A → B: v'(S) = v(N∖S), so every Shapley value,
    total and interval changes sign, an interaction at A becomes one at B (same sign), and the
    Shapley interaction index stays."""
    import copy

    out = copy.deepcopy(meta)
    out["a"], out["b"] = meta["b"], meta["a"]
    for s in out["metrics"].values():
        s["a_mean"], s["b_mean"] = s["b_mean"], s["a_mean"]
        s["total"] = None if s["total"] is None else -s["total"]
        lo, hi = s["total_ci"]
        s["total_ci"] = [None if hi is None else -hi, None if lo is None else -lo]
        if s.get("sum_phi") is not None:
            s["sum_phi"] = -s["sum_phi"]
        for r in s["values"]:
            r["phi"] = None if r["phi"] is None else -r["phi"]
            r["ci_low"], r["ci_high"] = (
                None if r["ci_high"] is None else -r["ci_high"],
                None if r["ci_low"] is None else -r["ci_low"],
            )
        for r in s.get("interactions") or []:
            for k in ("", "_ci_low", "_ci_high"):
                r[f"at_a{k}"], r[f"at_b{k}"] = r.get(f"at_b{k}"), r.get(f"at_a{k}")
    return out


def find_attribution(root: str | Path, a: str, b: str) -> dict[str, Any] | None:
    """The newest finished attribution between scenarios named `a` and `b` under `root` (a
    results folder, or a folder of them: `*/attribution.json`, `*/attribution/...`), as
    A = `a` → B = `b` (reversed when it was computed the other way); None when there is none."""
    from experiments.analyses.attribution import META, read_attribution

    root = Path(root)
    if not root.is_dir():
        return None
    files = [root / META, *root.glob(f"*/{META}"), *root.glob(f"*/attribution/{META}")]
    found = []
    for f in files:
        try:
            meta = read_attribution(f.parent)
        except Exception:  # noqa: BLE001 - a damaged folder is not one to show
            continue
        if meta is None or meta.get("path") != str(f.parent):
            continue
        names = ((meta.get("a") or {}).get("name"), (meta.get("b") or {}).get("name"))
        if names in ((a, b), (b, a)):
            found.append((f.stat().st_mtime, str(f), meta, names == (b, a)))
    if not found:
        return None
    _, _, meta, flipped = max(found, key=lambda x: (x[0], x[1]))
    return reverse(meta) if flipped else meta


# --------------------------------------------------------------------------- the report


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(meta: dict[str, Any], metric: str, lang: str) -> str:
    zh = lang == "zh"
    s = meta["metrics"][metric]
    sampled = meta.get("method") == "sampled"
    heads = (
        ["排名", "杠杆", "改变了什么(A → B)", "沙普利值", "95%置信区间(重复)"]
        if zh
        else ["rank", "lever", "what it changes (A → B)", "Shapley value", "95% CI (replications)"]
    )
    if sampled:
        heads.append("顺序抽样误差 ±" if zh else "order-sampling error ±")
    lines = ["<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in heads) + "</tr>"]
    for r in sorted(s["values"], key=lambda r: r["rank"]):
        cls = " class='d changed'" if clear(r) else ""
        cells = [
            str(r["rank"]),
            _lever_label(r, lang),
            r.get("changes", ""),
        ]
        row = "".join(f"<td>{_esc(c)}</td>" for c in cells)
        row += f"<td class='num'><span{cls}>{_esc(fmt(r['phi'], metric, lang, True))}</span></td>"
        row += f"<td class='num'>{_esc(_ci(r['ci_low'], r['ci_high'], metric, lang))}</td>"
        if sampled:
            row += f"<td class='num'>{_esc(_short(r['perm_half_width'], metric, False))}</td>"
        lines.append(f"<tr>{row}</tr>")
    total = _esc(fmt(s["total"], metric, lang, True))
    lines.append(
        f"<tr class='base'><td></td><td>{'合计(B − A)' if zh else 'total (B − A)'}</td><td></td>"
        f"<td class='num'>{total}</td><td class='num'>"
        f"{_esc(_ci(s['total_ci'][0], s['total_ci'][1], metric, lang))}</td>"
        + ("<td></td>" if sampled else "")
        + "</tr></table>"
    )
    return "\n".join(lines)


def _other_metrics(meta: dict[str, Any], lang: str) -> str:
    """A compact table: the Shapley value of every lever for the other metrics (* = the
    interval excludes zero)."""
    zh = lang == "zh"
    metrics = [m for m in meta["settings"]["metrics"][1:] if m in meta["metrics"]]
    if not metrics:
        return ""
    order = [
        r["lever"]
        for r in sorted(meta["metrics"][primary(meta)]["values"], key=lambda r: r["rank"])
    ]
    head = "".join(f"<th>{_esc(metric_name(m, lang))}</th>" for m in metrics)
    lines = [f"<table><tr><th>{'杠杆' if zh else 'lever'}</th>{head}</tr>"]
    for lever in order:
        cells = []
        label = lever
        for m in metrics:
            r = _row_of(meta["metrics"][m]["values"], lever)
            label = _lever_label(r, lang)
            mark = "*" if "phi" in r and clear(r) else ""
            cells.append(f"<td class='num'>{_esc(fmt(r.get('phi'), m, lang, True))}{mark}</td>")
        lines.append(f"<tr><td>{_esc(label)}</td>{''.join(cells)}</tr>")
    tot = "".join(
        f"<td class='num'>{_esc(fmt(meta['metrics'][m]['total'], m, lang, True))}</td>"
        for m in metrics
    )
    lines.append(f"<tr class='base'><td>{'合计(B − A)' if zh else 'total (B − A)'}</td>{tot}</tr>")
    lines.append("</table>")
    note = "* 95%置信区间不含零。" if zh else "* the 95% interval excludes zero."
    return "\n".join(lines) + f"<p class='meta'>{_esc(note)}</p>"


def section(folder: str | Path, lang: str) -> tuple[str, dict[str, bytes]]:
    """The report's first section when `folder` (or `folder/attribution/`) holds a finished
    attribution: heading, reading, waterfall, tables.

    Returns:
        (HTML, PNG bytes by file name); ("", {}) when there is no attribution.
    """
    from experiments.analyses.attribution import read_attribution

    meta = read_attribution(folder)
    if meta is None:
        return "", {}
    zh = lang == "zh"
    metric = primary(meta)
    png = waterfall_png(meta, lang)
    name = f"{FIGURE}{'_zh' if zh else ''}.png"
    from experiments.interfaces.report.html import img

    title = "哪项杠杆带来了差别" if zh else "Which lever made the difference"
    parts = [
        f"<h2>{_esc(title)}</h2>",
        f"<p>{_esc(reading(meta, lang))}</p>",
        f"<figure>{img(png, title)}<figcaption>{_esc(size_text(meta, lang))}</figcaption></figure>",
        _table(meta, metric, lang),
        _other_metrics(meta, lang),
    ]
    return "\n".join(p for p in parts if p), {name: png}


__all__ = [
    "find_attribution",
    "metric_name",
    "reverse",
    "reading",
    "section",
    "size_text",
    "waterfall_figure",
    "waterfall_png",
    "write_charts",
]
