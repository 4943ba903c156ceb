"""The report of a district study (`linkage report DIR` on a folder of `linkage district`).

Writes DIR/report/ (or `--out`): report.html (self-contained), three figures as PNG
(`district_ranked.png`: every street's need satisfaction per arm, ranked, with the district
total; `district_gains.png`: the paired gain of each street from the compared arm;
`district_budget.png`: each street's budget per resident under each rule) and the district's
CSV tables. Every sentence of the findings is computed from the numbers in the tables beside it.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.errors import ExperimentError
from experiments.engine.folders import check_out, tmp_path
from experiments.interfaces.report.fonts import figure_fonts, font_rc
from experiments.interfaces.report.html import CSS, esc, img
from experiments.interfaces.report.labels import LANGS

REPORT_DIR = "report"
CSVS = ("streets", "totals", "gains", "communities")

WORDS = {
    "title": ("District report", "城区报告"),
    "streets_word": ("streets", "个街道"),
    "communities_word": ("communities", "个社区"),
    "residents_word": ("residents", "名居民"),
    "budget": ("budget", "预算"),
    "per_year": ("yuan per year", "元/年"),
    "replications": ("replications", "次重复"),
    "findings": ("Findings", "主要发现"),
    "totals": ("District totals", "全区合计"),
    "totals_note": (
        "Mean over replications with its 95% interval; the difference is paired by seed (each "
        "street runs the same seeds in both arms); * marks an interval that excludes zero. "
        "Rates are over all the district's needs (each street weighted by its needs); the Gini "
        "coefficient is of the streets' satisfaction, weighted by residents.",
        "各次重复的均值及95%置信区间;差值按随机种子配对(每个街道在两组中使用相同的种子);"
        "* 表示区间不含0。比率按全区所有需求计算(各街道按其需求数加权);基尼系数为各街道满足率"
        "按常住人口加权的基尼系数。",
    ),
    "per_street": ("Streets", "各街道结果"),
    "per_street_note": (
        "Need satisfaction per street and arm (mean [95% interval]); the gain is the paired "
        "difference of the second arm to the first; rank 1 gains most.",
        "各街道各组的需求满足率(均值[95%置信区间]);增益为第二组相对第一组的配对差值;"
        "名次1为增益最大。",
    ),
    "ranked": ("Need satisfaction by street, ranked", "各街道需求满足率排序"),
    "gains_fig": ("Which streets gain most", "哪些街道受益最多"),
    "budget_fig": ("Budget per resident by street", "各街道人均预算"),
    "communities": ("Communities", "各社区结果"),
    "metric": ("metric", "指标"),
    "difference": ("difference", "差值"),
    "street": ("street", "街道"),
    "residents": ("residents", "常住人口"),
    "urban_share": ("urban share", "城市社区人口占比"),
    "budget_per_resident": ("budget / resident (yuan)", "人均预算(元)"),
    "satisfaction": ("satisfaction", "满足率"),
    "gain": ("gain (points)", "增益(百分点)"),
    "rank": ("rank", "名次"),
    "district_total": ("district", "全区"),
    "method": ("Method", "方法"),
    "files": ("Files", "文件"),
    "community": ("community", "社区"),
}

METRIC_NAMES = {
    "need_satisfaction_rate": ("Need satisfaction", "需求满足率", "rate"),
    "needs_met_rate": ("Needs met", "需求满足比例(数量)", "rate"),
    "mean_wait_hours": ("Mean wait (h)", "平均等待(小时)", "hours"),
    "cost_per_need_met": ("Cost per need met (yuan)", "每满足一项需求的成本(元)", "yuan"),
    "gov_spending_annual": ("Government spending / year (yuan)", "政府年支出(元)", "yuan"),
    "active_volunteers": ("Active volunteers", "活跃志愿者(人)", "count"),
    "needs_arisen": ("Needs raised (after warm-up)", "需求总数(预热期后)", "count"),
    "needs_met": ("Needs met (after warm-up)", "已满足需求(预热期后)", "count"),
    "worst_street_satisfaction": ("Worst street's satisfaction", "最差街道满足率", "rate"),
    "best_street_satisfaction": ("Best street's satisfaction", "最好街道满足率", "rate"),
    "best_worst_ratio": ("Best / worst street", "最好/最差街道之比", "ratio"),
    "gini_streets": ("Gini between streets", "街道间基尼系数", "ratio"),
}


def w(key: str, lang: str) -> str:
    """A word of the report in `lang`."""
    en, zh = WORDS[key]
    return zh if lang == "zh" else en


def is_district_folder(path: str | Path) -> bool:
    """Whether `path` is a results folder of `linkage district`."""
    return (Path(path) / "district.json").is_file()


def fmt(x: float, kind: str, signed: bool = False) -> str:
    """A number as the tables show it (rates in %, differences of rates in points)."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    s = "+" if signed else ""
    if kind == "rate":
        return f"{100 * x:{s},.1f}" + ("" if signed else "%")
    if kind == "hours":
        return f"{x:{s},.1f}"
    if kind == "ratio":
        return f"{x:{s},.3f}"
    return f"{x:{s},.0f}"


@dataclass
class DistrictReport:
    """What `build_district_report` wrote."""

    folder: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    csvs: list[Path] = field(default_factory=list)
    text: str = ""


def _write(path: Path, data: bytes) -> None:
    tmp = tmp_path(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _arms(meta: dict[str, Any]) -> list[dict[str, Any]]:
    return list(meta.get("arms") or [])


def _label(arm: dict[str, Any], lang: str) -> str:
    return str(arm.get("label_zh" if lang == "zh" else "label_en") or arm["key"])


def _total(totals: pd.DataFrame, arm: str, metric: str) -> dict[str, Any]:
    row = totals[(totals["arm"] == arm) & (totals["metric"] == metric)]
    return row.iloc[0].to_dict() if len(row) else {}


def findings(res: dict[str, Any], lang: str) -> list[str]:
    """The findings, each sentence computed from the tables."""
    meta, totals, gains = res["meta"], res["totals"], res["gains"]
    arms = _arms(meta)
    zh = lang == "zh"
    out = []
    for a in arms:
        sat = _total(totals, a["key"], "need_satisfaction_rate")
        worst = _total(totals, a["key"], "worst_street_satisfaction")
        ratio = _total(totals, a["key"], "best_worst_ratio")
        gini = _total(totals, a["key"], "gini_streets")
        if zh:
            out.append(
                f"{_label(a, lang)}:全区需求满足率 {fmt(sat.get('mean'), 'rate')}"
                f"(95%区间 {fmt(sat.get('ci_low'), 'rate')}–{fmt(sat.get('ci_high'), 'rate')});"
                f"最差街道 {fmt(worst.get('mean'), 'rate')},最好/最差之比 "
                f"{fmt(ratio.get('mean'), 'ratio')},街道间基尼系数 {fmt(gini.get('mean'), 'ratio')}。"
            )
        else:
            out.append(
                f"{_label(a, lang)}: district need satisfaction {fmt(sat.get('mean'), 'rate')} "
                f"(95% interval {fmt(sat.get('ci_low'), 'rate')} to "
                f"{fmt(sat.get('ci_high'), 'rate')}); worst street "
                f"{fmt(worst.get('mean'), 'rate')}, best/worst ratio "
                f"{fmt(ratio.get('mean'), 'ratio')}, Gini between streets "
                f"{fmt(gini.get('mean'), 'ratio')}."
            )
    if len(arms) == 2:
        a, b = arms
        d = _total(totals, "difference", "need_satisfaction_rate")
        n = int(d.get("n") or 0)
        lo, hi, m = d.get("ci_low"), d.get("ci_high"), d.get("mean")
        same = m == 0 and lo == 0 and hi == 0
        if same:
            verdict = (
                "两组在每次重复中结果完全相同"
                if zh
                else "the two arms gave the same result in every replication"
            )
        elif d.get("excludes_zero"):
            direction = ("更高" if m > 0 else "更低") if zh else ("higher" if m > 0 else "lower")
            verdict = (
                f"区间不含0:{_label(b, lang)}的全区满足率{direction}"
                if zh
                else f"the interval excludes zero: {direction} under {_label(b, lang)}"
            )
        else:
            verdict = (
                f"区间含0:{n}次重复无法把两者区分开"
                if zh
                else f"the interval includes zero: {n} replications cannot tell them apart"
            )
        if zh:
            out.append(
                f"{_label(b, lang)}减{_label(a, lang)}(按种子配对):全区满足率差 "
                f"{fmt(m, 'rate', True)} 个百分点(95%区间 {fmt(lo, 'rate', True)} 至 "
                f"{fmt(hi, 'rate', True)}),{verdict}。"
            )
        else:
            out.append(
                f"{_label(b, lang)} minus {_label(a, lang)} (paired by seed): district "
                f"satisfaction {fmt(m, 'rate', True)} points (95% interval "
                f"{fmt(lo, 'rate', True)} to {fmt(hi, 'rate', True)}); {verdict}."
            )
        if gains is not None and len(gains):
            up = gains[gains["satisfaction_gain_excludes_zero"] & (gains["satisfaction_gain"] > 0)]
            down = gains[
                gains["satisfaction_gain_excludes_zero"] & (gains["satisfaction_gain"] < 0)
            ]
            top = gains.iloc[0]
            if (gains["satisfaction_gain"].fillna(0) == 0).all():
                out.append(
                    f"{len(gains)}个街道的满足率在两组之间均无变化。"
                    if zh
                    else f"None of the {len(gains)} streets' satisfaction changed between the arms."
                )
            elif zh:
                out.append(
                    f"{len(gains)}个街道中,{len(up)}个街道的增益区间全部大于0,{len(down)}个全部"
                    f"小于0;增益最大的是{top['street']}({fmt(top['satisfaction_gain'], 'rate', True)}"
                    f" 个百分点,区间 {fmt(top['satisfaction_gain_ci_low'], 'rate', True)} 至 "
                    f"{fmt(top['satisfaction_gain_ci_high'], 'rate', True)})。"
                )
            else:
                out.append(
                    f"Of {len(gains)} streets, {len(up)} gain with an interval above zero and "
                    f"{len(down)} lose with an interval below zero; the largest gain is "
                    f"{top['street']} ({fmt(top['satisfaction_gain'], 'rate', True)} points, "
                    f"interval {fmt(top['satisfaction_gain_ci_low'], 'rate', True)} to "
                    f"{fmt(top['satisfaction_gain_ci_high'], 'rate', True)})."
                )
    return out


def _street_order(streets: pd.DataFrame, first: str) -> list[str]:
    s = streets[streets["arm"] == first].sort_values("need_satisfaction_rate", ascending=True)
    return s["street"].tolist()


def figure_ranked(res: dict[str, Any], lang: str, rc: dict[str, Any]) -> bytes:
    """Every street's satisfaction per arm (mean and 95% interval), ranked by the first arm,
    with each arm's district total as a vertical line."""
    from matplotlib.figure import Figure

    from experiments.interfaces.report.plotting import png

    meta, streets, totals = res["meta"], res["streets"], res["totals"]
    arms = _arms(meta)
    order = _street_order(streets, arms[0]["key"])
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    with figure_fonts(rc):
        fig = Figure(figsize=(8.5, max(3.0, 0.32 * len(order) + 1.6)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(order))
        off = np.linspace(-0.18, 0.18, len(arms)) if len(arms) > 1 else [0.0]
        for k, a in enumerate(arms):
            s = streets[streets["arm"] == a["key"]].set_index("street").loc[order]
            m = s["need_satisfaction_rate"].to_numpy(float) * 100
            lo = s["need_satisfaction_rate_ci_low"].to_numpy(float) * 100
            hi = s["need_satisfaction_rate_ci_high"].to_numpy(float) * 100
            xerr = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
            ax.errorbar(
                m, y + off[k], xerr=xerr, fmt="o", ms=4, color=colors[k % 4], capsize=2,
                label=_label(a, lang),
            )  # fmt: skip
            tot = _total(totals, a["key"], "need_satisfaction_rate").get("mean")
            if tot is not None and math.isfinite(tot):
                ax.axvline(100 * tot, color=colors[k % 4], ls="--", lw=1, alpha=0.8)
        ax.set_yticks(y, order)
        ax.set_xlabel(
            "需求满足率(%,虚线为全区)"
            if lang == "zh"
            else "need satisfaction (%; dashed: district)"
        )
        ax.set_title(w("ranked", lang))
        ax.grid(axis="x", alpha=0.3)
        fig.legend(loc="outside lower center", ncol=len(arms), fontsize=8, frameon=False)
        return png(fig)


def figure_gains(res: dict[str, Any], lang: str, rc: dict[str, Any]) -> bytes:
    """The paired gain of every street (second arm minus first) with its 95% interval, sorted,
    and the district's."""
    from matplotlib.figure import Figure

    from experiments.interfaces.report.plotting import png

    gains, totals, meta = res["gains"], res["totals"], res["meta"]
    arms = _arms(meta)
    g = gains.sort_values("satisfaction_gain", ascending=True)
    names = [*g["street"].tolist(), w("district_total", lang)]
    d = _total(totals, "difference", "need_satisfaction_rate")
    m = np.append(g["satisfaction_gain"].to_numpy(float), d.get("mean", np.nan)) * 100
    lo = np.append(g["satisfaction_gain_ci_low"].to_numpy(float), d.get("ci_low", np.nan)) * 100
    hi = np.append(g["satisfaction_gain_ci_high"].to_numpy(float), d.get("ci_high", np.nan)) * 100
    with figure_fonts(rc):
        fig = Figure(figsize=(8.5, max(3.0, 0.32 * len(names) + 1.6)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(names))
        xerr = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
        colors = ["#2b8a3e" if v > 0 else "#c92a2a" for v in np.nan_to_num(m)]
        colors[-1] = "#333333"
        ax.barh(y, np.nan_to_num(m), color=colors, alpha=0.55)
        ax.errorbar(m, y, xerr=xerr, fmt="none", ecolor="#222222", capsize=2, lw=1)
        ax.axvline(0, color="#000000", lw=0.8)
        ax.set_yticks(y, names)
        b, a = _label(arms[1], lang), _label(arms[0], lang)
        ax.set_xlabel(
            f"满足率差(百分点):{b} 减 {a},按种子配对"
            if lang == "zh"
            else f"satisfaction gain (points): {b} minus {a}, paired by seed"
        )
        ax.set_title(w("gains_fig", lang))
        ax.grid(axis="x", alpha=0.3)
        return png(fig)


def figure_budget(res: dict[str, Any], lang: str, rc: dict[str, Any]) -> bytes:
    """Each street's budget per resident under each arm's rule (same street order as the ranked
    chart)."""
    from matplotlib.figure import Figure

    from experiments.interfaces.report.plotting import png

    streets, meta = res["streets"], res["meta"]
    arms = _arms(meta)
    order = _street_order(streets, arms[0]["key"])
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    with figure_fonts(rc):
        fig = Figure(figsize=(8.5, max(3.0, 0.32 * len(order) + 1.6)), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(order))
        h = 0.8 / len(arms)
        for k, a in enumerate(arms):
            s = streets[streets["arm"] == a["key"]].set_index("street").loc[order]
            ax.barh(
                y - 0.4 + h * (k + 0.5), s["budget_per_resident"].to_numpy(float), height=h,
                color=colors[k % 4], label=_label(a, lang),
            )  # fmt: skip
        ax.set_yticks(y, order)
        ax.set_xlabel("人均预算(元/年)" if lang == "zh" else "budget per resident (yuan / year)")
        ax.set_title(w("budget_fig", lang))
        ax.grid(axis="x", alpha=0.3)
        fig.legend(loc="outside lower center", ncol=len(arms), fontsize=8, frameon=False)
        return png(fig)


def totals_html(res: dict[str, Any], lang: str) -> str:
    """The district totals: one row per metric, a column per arm (and the difference)."""
    totals, arms = res["totals"], _arms(res["meta"])
    cols = [_label(a, lang) for a in arms]
    if len(arms) == 2:
        cols.append(f"{w('difference', lang)} ({_label(arms[1], lang)} − {_label(arms[0], lang)})")
    head = f"<tr><th>{esc(w('metric', lang))}</th>" + "".join(f"<th>{esc(c)}</th>" for c in cols)
    rows = [head + "</tr>"]
    for metric, (en, zh, kind) in METRIC_NAMES.items():
        cells = []
        keys = [a["key"] for a in arms] + (["difference"] if len(arms) == 2 else [])
        for key in keys:
            r = _total(totals, key, metric)
            signed = key == "difference"
            v = fmt(r.get("mean"), kind, signed)
            if signed and kind == "rate":
                v += " pts" if lang != "zh" else " 个百分点"
            ci = f"[{fmt(r.get('ci_low'), kind, signed)}, {fmt(r.get('ci_high'), kind, signed)}]"
            star = "*" if signed and r.get("excludes_zero") else ""
            cells.append(
                f"<td class='num'><span class='v'>{esc(v)}{star}</span> "
                f"<span class='ci'>{esc(ci)}</span></td>"
            )
        rows.append(f"<tr><td>{esc(zh if lang == 'zh' else en)}</td>{''.join(cells)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def streets_html(res: dict[str, Any], lang: str) -> str:
    """One row per street: residents, urban share, budget per resident and satisfaction per
    arm, and the paired gain with its rank."""
    streets, gains, arms = res["streets"], res["gains"], _arms(res["meta"])
    order = _street_order(streets, arms[0]["key"])[::-1]
    head = [w("street", lang), w("residents", lang), w("urban_share", lang)]
    for a in arms:
        head += [
            f"{w('budget_per_resident', lang)}: {_label(a, lang)}",
            f"{w('satisfaction', lang)}: {_label(a, lang)}",
        ]
    if gains is not None:
        head += [w("gain", lang), w("rank", lang)]
    rows = ["<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    by_arm = {a["key"]: streets[streets["arm"] == a["key"]].set_index("street") for a in arms}
    g = gains.set_index("street") if gains is not None else None
    for name in order:
        first = by_arm[arms[0]["key"]].loc[name]
        cells = [
            esc(name),
            f"{int(first['residents']):,}",
            fmt(first["urban_share"], "rate"),
        ]
        for a in arms:
            r = by_arm[a["key"]].loc[name]
            cells.append(f"{r['budget_per_resident']:,.1f}")
            cells.append(
                f"<span class='v'>{fmt(r['need_satisfaction_rate'], 'rate')}</span> <span class='ci'>"
                f"[{fmt(r['need_satisfaction_rate_ci_low'], 'rate')}, "
                f"{fmt(r['need_satisfaction_rate_ci_high'], 'rate')}]</span>"
            )
        if g is not None:
            r = g.loc[name]
            star = "*" if r["satisfaction_gain_excludes_zero"] else ""
            cells.append(
                f"<span class='v'>{fmt(r['satisfaction_gain'], 'rate', True)}{star}</span> "
                f"<span class='ci'>[{fmt(r['satisfaction_gain_ci_low'], 'rate', True)}, "
                f"{fmt(r['satisfaction_gain_ci_high'], 'rate', True)}]</span>"
            )
            cells.append(str(int(r["rank"])))
        rows.append(
            "<tr>"
            + "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>" for i, c in enumerate(cells))
            + "</tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def communities_html(res: dict[str, Any], lang: str) -> str:
    """Satisfaction per community and arm, in a collapsed section."""
    comm, arms = res["communities"], _arms(res["meta"])
    if comm is None or comm.empty:
        return ""
    head = [w("street", lang), w("community", lang), w("residents", lang)]
    head += [f"{w('satisfaction', lang)}: {_label(a, lang)}" for a in arms]
    rows = ["<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    first = comm[comm["arm"] == arms[0]["key"]].reset_index(drop=True)
    others = [comm[comm["arm"] == a["key"]].reset_index(drop=True) for a in arms]
    for i, r in first.iterrows():
        cells = [esc(r["street"]), esc(r["community"]), f"{int(r['residents']):,}"]
        cells += [fmt(o.loc[i, "satisfaction"], "rate") for o in others]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f"<details><summary>{esc(w('communities', lang))} ({len(first)})</summary><table>"
        + "".join(rows)
        + "</table></details>"
    )


def method_text(meta: dict[str, Any], lang: str) -> str:
    """How the study was made, from its settings."""
    arms = _arms(meta)
    reps = meta.get("settings", {}).get("replications")
    rules = ", ".join(f"{_label(a, lang)} ({a['rule']}, {a['scenario_name']})" for a in arms)
    pilot = meta.get("pilot")
    if lang == "zh":
        text = (
            f"每个街道按表格中的社区构建为一个街道模型,预算按规则在街道间分配;每个街道重复{reps}次,"
            f"街道之间使用独立的随机种子流,两组在同一街道使用相同种子(配对比较)。各组:{rules}。"
        )
        if pilot:
            text += (
                f"绩效规则:先以{pilot['rule']}分配运行{pilot['weeks']}周试点,按各街道试点的"
                f"{pilot['metric']}(重复均值)决定之后的分配(权重指数 {pilot['weight']})。"
            )
        return text
    text = (
        f"Each street is one run of the street model built from its communities in the table; "
        f"the budget is split across streets by each arm's rule. Every street runs {reps} "
        f"replications on its own seed stream (streets are independent); both arms share each "
        f"street's seeds, so differences are paired. Arms: {rules}."
    )
    if pilot:
        text += (
            f" Performance rule: a pilot of {pilot['weeks']} weeks with the budget split "
            f"{pilot['rule']} scored each street on {pilot['metric']} (mean over replications); "
            f"that score set the study's split (weight {pilot['weight']})."
        )
    return text


def build_district_report(
    results: str | Path, lang: str = "en", out: str | Path | None = None
) -> DistrictReport:
    """Write the report of a district results folder.

    Args:
        results: A results folder of `linkage district`.
        lang: "en" or "zh".
        out: Report folder (default: RESULTS/report/).

    Raises:
        ExperimentError: not a finished district folder, or a bad language.
        FontError: `lang` is "zh" and no font draws Chinese.
    """
    from experiments.analyses.district import load_district_results

    if lang not in LANGS:
        raise ExperimentError("--lang", "--lang", f"unknown language '{lang}' (en or zh)")
    res = load_district_results(results)
    rc = font_rc(lang)
    folder = Path(out) if out is not None else Path(results) / REPORT_DIR
    check_out(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = res["meta"]
    figs = {"district_ranked": figure_ranked(res, lang, rc)}
    if res["gains"] is not None:
        figs["district_gains"] = figure_gains(res, lang, rc)
    figs["district_budget"] = figure_budget(res, lang, rc)
    fig_paths = []
    for name, data in figs.items():
        path = folder / f"{name}.png"
        _write(path, data)
        fig_paths.append(path)
    csvs = []
    for name in CSVS:
        src = Path(results) / f"district_{name}.csv"
        if src.exists():
            dst = folder / src.name
            shutil.copyfile(src, dst)
            csvs.append(dst)
    found = findings(res, lang)
    label = meta.get("meta", {}).get("label_zh" if lang == "zh" else "label_en") or meta.get(
        "district"
    )
    sub = (
        f"{meta.get('streets')} {w('streets_word', lang)} · {meta.get('communities')} "
        f"{w('communities_word', lang)} · {int(meta.get('residents', 0)):,} "
        f"{w('residents_word', lang)} · {w('budget', lang)} {meta.get('budget', 0):,.0f} "
        f"{w('per_year', lang)} · {meta.get('settings', {}).get('replications')} "
        f"{w('replications', lang)}"
    )

    def fig(name: str, caption: str) -> str:
        if name not in figs:
            return ""
        return f"<figure>{img(figs[name], caption)}<figcaption>{esc(caption)}</figcaption></figure>"

    body = [
        f"<h1>{esc(w('title', lang))}: {esc(label)}</h1>",
        f"<p class='meta'>{esc(sub)}</p>",
        f"<h2>{esc(w('findings', lang))}</h2>",
        "<ul class='findings'>" + "".join(f"<li>{esc(p)}</li>" for p in found) + "</ul>",
        f"<h2>{esc(w('totals', lang))}</h2>",
        f"<p class='sub'>{esc(w('totals_note', lang))}</p>",
        totals_html(res, lang),
        f"<h2>{esc(w('per_street', lang))}</h2>",
        f"<p class='sub'>{esc(w('per_street_note', lang))}</p>",
        fig("district_ranked", w("ranked", lang)),
        fig("district_gains", w("gains_fig", lang)),
        streets_html(res, lang),
        fig("district_budget", w("budget_fig", lang)),
        communities_html(res, lang),
        f"<h2>{esc(w('method', lang))}</h2>",
        f"<p>{esc(method_text(meta, lang))}</p>",
        f"<h3>{esc(w('files', lang))}</h3>",
        "<ul>" + "".join(f"<li><a href='{esc(p.name)}'>{esc(p.name)}</a></li>" for p in csvs),
        "</ul>",
    ]
    html_lang = "zh-CN" if lang == "zh" else "en"
    page = (
        f"<!DOCTYPE html>\n<html lang='{html_lang}'>\n<head>\n<meta charset='utf-8'>\n"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{esc(w('title', lang))}: {esc(label)}</title>\n<style>{CSS}</style>\n</head>\n"
        "<body><main>\n" + "\n".join(b for b in body if b) + "\n</main></body>\n</html>\n"
    )
    html_path = folder / "report.html"
    _write(html_path, page.encode("utf-8"))
    return DistrictReport(folder, html_path, fig_paths, csvs, "\n".join(found))
