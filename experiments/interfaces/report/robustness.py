"""The report's "How sure is this?" section: a robustness study's win probabilities, regret,
satisficing shares, flip conditions (PRIM boxes) and one figure, in English or Chinese.

Every sentence is written from the study's numbers (`experiments.analyses.robustness`): the
section names the strategy with the least mean regret on the first outcome, how often it beats
each other strategy, and each ranking that flips with the conditions PRIM found.

- `sections(folder, lang)`: the section for every robustness study at `folder` or one level
  below it (the demo puts one in the linkage-modes results folder), for `linkage report`.
- `write_report(folder, lang, out)`: a report of its own for a robustness results folder.
- `figure(values, meta, lang)`: the outcome distributions per strategy across futures.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.analyses.robustness import find_studies, read_study
from experiments.engine.folders import check_out, tmp_path
from experiments.interfaces.report.fonts import figure_fonts, font_rc
from experiments.interfaces.report.html import CSS, esc, img
from experiments.interfaces.report.labels import HEADLINE, pick
from experiments.interfaces.report.plotting import DPI, png

FIGURE = "robustness.png"

HORIZONTAL: dict[str, Any] = (
    {"orientation": "horizontal"}
    if tuple(int(x) for x in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)
"""Horizontal boxes: `orientation=` since Matplotlib 3.10 (`vert=` is deprecated from 3.11)."""

OUTCOME_NAMES: dict[str, tuple[str, str, str]] = {
    **{m.key: (m.en, m.zh, m.kind) for m in HEADLINE},
    "satisfaction_min_group": (
        "Worst-off group's need satisfaction",
        "最弱势群体的需求满足率",
        "rate",
    ),
    "gov_cost_accrual": ("Accrual cost (yuan)", "权责发生制成本(元)", "yuan"),
    "gov_spending_total": ("Government spending (yuan)", "政府支出(元)", "yuan"),
}
"""Outcome -> (English name, Chinese name, kind: rate, yuan, hours or count)."""

TEXT: dict[str, tuple[str, str]] = {
    "title": ("How sure is this?", "结论有多可靠?"),
    "intro": (
        "The comparisons above hold at one point of the model's assumptions. Here every "
        "strategy met the same {n} futures, each drawn (Latin hypercube) from the plausible "
        "ranges of {d} assumptions, with the same random numbers{runs}.",
        "上文的比较基于模型假设的一个取值。这里每个策略都经历了同样的{n}个未来情景:每个情景从{d}个假设参数的"
        "合理范围中抽取(拉丁超立方抽样),并使用相同的随机数{runs}。",
    ),
    "own_intro": (
        "Every strategy met the same {n} futures, each drawn (Latin hypercube) from the "
        "plausible ranges of {d} assumptions, with the same random numbers{runs}.",
        "每个策略都经历了同样的{n}个未来情景:每个情景从{d}个假设参数的合理范围中抽取(拉丁超立方抽样),"
        "并使用相同的随机数{runs}。",
    ),
    "wins": ("Win probabilities", "胜出概率"),
    "wins_note": (
        "Share of the futures in which the row's strategy does better than the column's on "
        "{outcome} (ties count half; a strategy against itself is a tie, 50%).",
        "在{outcome}上,行策略优于列策略的未来情景比例(平局计一半;策略与自身比较记为平局,50%)。",
    ),
    "regret": ("Regret", "遗憾值"),
    "regret_note": (
        "How far each strategy falls short of the best strategy of each future: mean and 90th "
        "percentile across futures, and the share of futures in which it is the best.",
        "各策略在每个未来情景中与该情景最佳策略的差距:跨情景的均值和90%分位数,以及它成为最佳策略的情景比例。",
    ),
    "satisficing": ("Good enough?", "是否足够好?"),
    "satisficing_note": (
        "Share of the futures in which a strategy meets every threshold: {criteria}.",
        "策略满足全部门槛的未来情景比例:{criteria}。",
    ),
    "flips": ("Where the ranking flips", "排序在哪些情况下会翻转"),
    "flips_note": (
        "For each outcome and pair of strategies whose ranking flips in some futures: how often "
        "the usual loser wins, and the conditions PRIM (EMA Workbench) finds for it. Coverage: "
        "share of the flips inside the box; density: share of the futures inside the box in "
        "which the ranking flips. Pairs with fewer than {min_cases} flips are not searched.",
        "对每个结果指标和每一对在部分情景中排序翻转的策略:通常落后的一方胜出的频率,以及PRIM(EMA "
        "Workbench)找到的条件。覆盖率:翻转情景落在该区域内的比例;密度:该区域内发生翻转的情景比例。"
        "翻转少于{min_cases}次的策略对不做搜索。",
    ),
    "runs": (
        " ({weeks}-week runs, the first {warmup} weeks of them warm-up{street})",
        "(每次运行{weeks}周,其中前{warmup}周为预热{street})",
    ),
    "street": (", on a street of {n:,} residents", ",街道居民{n:,}人"),
    "outcome": ("outcome", "结果指标"),
    "no_flips": ("No ranking flips in any future.", "在所有未来情景中,排序都没有翻转。"),
    "figure_note": (
        "Each outcome across the {n} futures, per strategy: the box spans the middle half, the "
        "whiskers the 5th to 95th percentiles; dots are single futures.",
        "各策略在{n}个未来情景中的结果分布:箱体为中间一半,须线为第5至第95百分位;圆点为单个情景。",
    ),
    "figure_title": ("Outcomes across {n} futures, per strategy", "各策略在{n}个未来情景中的结果"),
    "strategy": ("Strategy", "策略"),
    "mean": ("mean", "均值"),
    "p90": ("90th percentile", "90%分位数"),
    "best": ("best in", "最佳情景比例"),
    "share": ("share of futures", "情景比例"),
    "pair": ("usual winner / challenger", "通常胜出方 / 挑战方"),
    "flip_share": ("flips", "翻转比例"),
    "coverage": ("coverage", "覆盖率"),
    "density": ("density", "密度"),
    "conditions": ("conditions (PRIM box)", "条件(PRIM区域)"),
    "futures": ("futures", "个情景"),
    "report": ("Robustness report", "稳健性报告"),
    "files": ("Tables", "表格"),
}


def tr(key: str, lang: str, **fmt: Any) -> str:
    """A text of the section in `lang`."""
    return pick(TEXT, key, lang, **fmt)


def outcome_name(metric: str, lang: str) -> str:
    """An outcome's name in `lang` (the metric's key when it has none)."""
    en, zh, _ = OUTCOME_NAMES.get(metric, (metric, metric, "count"))
    return zh if lang == "zh" else en


def kind_of(metric: str) -> str:
    """How an outcome's numbers are written: rate, yuan, hours or count."""
    if metric in OUTCOME_NAMES:
        return OUTCOME_NAMES[metric][2]
    return "rate" if metric.endswith("_rate") or metric.startswith("satisfaction_") else "count"


def fmt(x: float, metric: str, lang: str, regret: bool = False) -> str:
    """A value (or a regret: percentage points for rates) of an outcome."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    kind = kind_of(metric)
    if kind == "rate":
        if regret:
            return f"{100 * x:.1f}{'个百分点' if lang == 'zh' else ' pts'}"
        return f"{100 * x:.1f}%"
    if kind == "yuan":
        return f"{x:,.0f}{'元' if lang == 'zh' else ' yuan'}"
    return f"{x:,.1f}"


def pct(x: float) -> str:
    """A share in whole percent."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def criteria_words(meta: dict[str, Any], lang: str) -> dict[str, str]:
    """Satisficing criterion (as in robustness_satisficing.csv) -> its words in `lang`
    ("Need satisfaction ≥ 70.0%", "政府年支出 ≤ 预算")."""
    out = {}
    for c in meta.get("satisficing", []):
        m, op, bound = c["metric"], c["op"], c["bound"]
        if bound == "budget":
            value = "预算" if lang == "zh" else "the budget"
        else:
            value = fmt(float(bound), m, lang)
        out[f"{m} {op} {bound}"] = f"{outcome_name(m, lang)} {'≥' if op == '>=' else '≤'} {value}"
    return out


def labels_of(meta: dict[str, Any], lang: str) -> dict[str, str]:
    """Strategy name -> its label in `lang`."""
    return {s["name"]: str(s.get(lang) or s["name"]) for s in meta.get("strategies", [])}


# --------------------------------------------------------------------------- the figure


def figure(values: pd.DataFrame, meta: dict[str, Any], lang: str) -> Figure | None:
    """The outcome distributions per strategy across futures: one panel per outcome."""
    if values.empty:
        return None
    labels = labels_of(meta, lang)
    strategies = [s["name"] for s in meta["strategies"]]
    outcomes = [o["name"] for o in meta["outcomes"]]
    n = len(outcomes)
    fig = Figure(figsize=(4.2 * n, 0.55 * len(strategies) + 1.8), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    rng = np.random.default_rng(0)  # jitter of the dots: fixed, so the same data, same pixels
    ys = np.arange(len(strategies))[::-1]
    for ax, metric in zip(axes, outcomes, strict=True):
        sub = values[values["outcome"] == metric]
        scale = 100.0 if kind_of(metric) == "rate" else 1.0
        data = [
            sub.loc[sub["strategy"] == s, "value"].dropna().to_numpy(float) * scale
            for s in strategies
        ]
        ok = [i for i, d in enumerate(data) if len(d)]
        if ok:
            ax.boxplot(
                [data[i] for i in ok],
                positions=ys[ok],
                **HORIZONTAL,
                whis=(5, 95),
                widths=0.55,
                showfliers=False,
                medianprops={"color": "#1f5f8b", "lw": 2},
            )
        for i, d in enumerate(data):
            jitter = rng.uniform(-0.18, 0.18, len(d))
            ax.plot(d, ys[i] + jitter, "o", ms=2.2, alpha=0.35, color="#444444", mec="none")
        unit = " (%)" if scale == 100 else ""
        ax.set_xlabel(outcome_name(metric, lang) + unit)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ys, [labels.get(s, s) for s in strategies])
    fig.suptitle(tr("figure_title", lang, n=meta.get("futures", "?")), fontsize="medium")
    return fig


def figure_png(values: pd.DataFrame, meta: dict[str, Any], lang: str) -> bytes | None:
    """The figure as PNG bytes, drawn with the language's fonts (None without data)."""
    with figure_fonts(font_rc(lang)):
        fig = figure(values, meta, lang)
        return png(fig) if fig is not None else None


# --------------------------------------------------------------------------- the section


def _table(head: list[str], rows: list[list[str]], first_num: int = 1) -> str:
    h = "".join(f"<th>{esc(x)}</th>" for x in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{esc(c)}</td>" if j >= first_num else f"<td>{esc(c)}</td>"
            for j, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def summary(meta: dict[str, Any], tables: dict[str, pd.DataFrame], lang: str) -> str:
    """The section's first paragraph: the most robust strategy on the first outcome, from the
    regret and win tables."""
    zh = lang == "zh"
    primary = meta["primary"]
    labels = labels_of(meta, lang)
    reg = tables["regret"]
    reg = reg[reg["outcome"] == primary]
    if reg.empty or reg["regret_mean"].isna().all():
        return ""
    best = reg.sort_values(["regret_mean", "regret_p90"], kind="stable").iloc[0]
    s = best["strategy"]
    wins = tables["wins"]
    w = wins[(wins["outcome"] == primary) & (wins["strategy"] == s) & ~wins["itself"]]
    name = outcome_name(primary, lang)
    if w.empty:
        return ""
    lo = w.sort_values("p_win", kind="stable").iloc[0]
    other = labels.get(lo["other"], lo["other"])
    out = (
        f"在{name}上,{labels.get(s, s)}的平均遗憾值最小({fmt(best['regret_mean'], primary, lang, True)}),"
        f"在{pct(best['best_share'])}的情景中是最佳策略;它对其他每个策略的胜出概率至少为{pct(lo['p_win'])}"
        f"(最低的是对{other})。"
        if zh
        else f"On {name[:1].lower() + name[1:]}, {labels.get(s, s)} has the least mean regret "
        f"({fmt(best['regret_mean'], primary, lang, True)}) and is the best strategy in "
        f"{pct(best['best_share'])} of the futures; its win probability against every other "
        f"strategy is at least {pct(lo['p_win'])} (least against {other})."
    )
    flips = tables["flips"]
    flips = flips[flips["outcome"] == primary] if not flips.empty else flips
    if not flips.empty:
        k = int((flips["flips"] > 0).sum())
        boxes = int((flips["status"] == "box").sum())
        if k == 0:
            out += (
                f"在{name}上,{len(flips)}对策略的排序在所有情景中都没有翻转。"
                if zh
                else f" On this outcome the ranking of none of the {len(flips)} pairs flips in "
                "any future."
            )
        elif flips["status"].isin(["box", "no_box"]).any():  # PRIM looked
            out += (
                f"在{name}上,{len(flips)}对策略中有{k}对的排序在部分情景中翻转,"
                f"PRIM为其中{boxes}对找到了条件(见下)。"
                if zh
                else f" On this outcome the ranking of {k} of the {len(flips)} pairs flips in "
                f"some futures; PRIM finds conditions for {boxes} of them (below)."
            )
        else:  # too few flips to look, or scenario discovery off or not installed
            out += (
                f"在{name}上,{len(flips)}对策略中有{k}对的排序在部分情景中翻转(见下)。"
                if zh
                else f" On this outcome the ranking of {k} of the {len(flips)} pairs flips in "
                "some futures (below)."
            )
    return out


def runs_text(meta: dict[str, Any], lang: str) -> str:
    """How long the study's runs are, and its street's size when the study sets it ("" when
    the study leaves both to the strategies' own files)."""
    weeks, warmup = meta.get("weeks"), meta.get("warmup_weeks")
    if weeks is None or warmup is None:
        return ""
    n = (meta.get("constants") or {}).get("street.n_residents")
    street = tr("street", lang, n=int(n)) if isinstance(n, int | float) else ""
    return tr("runs", lang, weeks=weeks, warmup=warmup, street=street)


def section(
    folder: Path, lang: str, own: bool = False, figure_name: str = FIGURE
) -> tuple[str, dict[str, bytes]]:
    """The "How sure is this?" section of one robustness results folder.

    Returns:
        (HTML, PNG bytes by file name).
    """
    meta, tables = read_study(folder)
    zh = lang == "zh"
    labels = labels_of(meta, lang)
    strategies = [s["name"] for s in meta["strategies"]]
    primary = meta["primary"]
    pname = outcome_name(primary, lang)
    n, d = meta.get("futures", 0), len(meta.get("uncertainties", []))
    parts = [
        f"<h2>{esc(tr('title', lang))}</h2>",
        f"<p>{esc(tr('own_intro' if own else 'intro', lang, n=n, d=d, runs=runs_text(meta, lang)))}</p>",
    ]
    text = summary(meta, tables, lang)
    if text:
        parts.append(f"<p>{esc(text)}</p>")
    pngs: dict[str, bytes] = {}
    pic = figure_png(tables["values"], meta, lang)
    if pic is not None:
        pngs[figure_name] = pic
        note = tr("figure_note", lang, n=n)
        parts.append(f"<figure>{img(pic, note)}<figcaption>{esc(note)}</figcaption></figure>")
    wins = tables["wins"]
    w = wins[wins["outcome"] == primary] if not wins.empty else wins
    if not w.empty:
        parts.append(f"<h3>{esc(tr('wins', lang))}</h3>")
        parts.append(f"<p class='sub'>{esc(tr('wins_note', lang, outcome=pname))}</p>")
        p = w.set_index(["strategy", "other"])["p_win"]
        rows = [
            [labels.get(a, a)] + [pct(p.get((a, b), math.nan)) for b in strategies]
            for a in strategies
        ]
        parts.append(_table([tr("strategy", lang), *(labels.get(b, b) for b in strategies)], rows))
    reg = tables["regret"]
    if not reg.empty:
        parts.append(f"<h3>{esc(tr('regret', lang))}</h3>")
        parts.append(f"<p class='sub'>{esc(tr('regret_note', lang))}</p>")
        outcomes = [o["name"] for o in meta["outcomes"]]
        head = [tr("strategy", lang)]
        for m in outcomes:
            nm = outcome_name(m, lang)
            head += [f"{nm}: {tr('mean', lang)}", f"{tr('p90', lang)}", tr("best", lang)]
        rows = []
        for s in strategies:
            row = [labels.get(s, s)]
            for m in outcomes:
                r = reg[(reg["strategy"] == s) & (reg["outcome"] == m)]
                if r.empty:
                    row += ["–", "–", "–"]
                    continue
                r = r.iloc[0]
                row += [
                    fmt(r["regret_mean"], m, lang, True),
                    fmt(r["regret_p90"], m, lang, True),
                    pct(r["best_share"]),
                ]
            rows.append(row)
        parts.append(_table(head, rows))
    sat = tables["satisficing"]
    if not sat.empty:
        crit = [c for c in dict.fromkeys(sat["criterion"]) if c != "all"]
        words = criteria_words(meta, lang)
        names = [words.get(c, c) for c in crit]
        sep = ";" if zh else "; "
        parts.append(f"<h3>{esc(tr('satisficing', lang))}</h3>")
        parts.append(
            f"<p class='sub'>{esc(tr('satisficing_note', lang, criteria=sep.join(names)))}</p>"
        )
        rows = []
        for s in strategies:
            r = sat[sat["strategy"] == s].set_index("criterion")["share"]
            rows.append([labels.get(s, s)] + [pct(r.get(c, math.nan)) for c in ["all", *crit]])
        parts.append(_table([tr("strategy", lang), "全部" if zh else "all", *names], rows))
    flips = tables["flips"]
    parts.append(f"<h3>{esc(tr('flips', lang))}</h3>")
    min_cases = (meta.get("discovery") or {}).get("min_cases", "?")
    parts.append(f"<p class='sub'>{esc(tr('flips_note', lang, min_cases=min_cases))}</p>")
    if flips.empty or (flips["flips"] == 0).all():
        parts.append(f"<p>{esc(tr('no_flips', lang))}</p>")
    else:
        order = {o["name"]: i for i, o in enumerate(meta["outcomes"])}
        f = flips[flips["flips"] > 0].assign(_o=flips["outcome"].map(order))
        f = f.sort_values(["_o", "flip_share"], ascending=[True, False], kind="stable")
        rows = []
        for _, r in f.iterrows():
            boxed = r["status"] == "box"
            cond = r["conditions_zh" if zh else "conditions_en"] if boxed else ""
            rows.append(
                [
                    outcome_name(r["outcome"], lang),
                    f"{labels.get(r['winner'], r['winner'])} / "
                    f"{labels.get(r['challenger'], r['challenger'])}",
                    f"{int(r['flips'])}/{int(r['futures'])}",
                    pct(r["coverage"]) if boxed else "–",
                    pct(r["density"]) if boxed else "–",
                    cond if isinstance(cond, str) else "",
                ]
            )
        parts.append(
            _table(
                [
                    tr("outcome", lang),
                    tr("pair", lang),
                    tr("flip_share", lang),
                    tr("coverage", lang),
                    tr("density", lang),
                    tr("conditions", lang),
                ],
                rows,
                first_num=2,
            )
        )
        said = f[f["status"] != "rare"]  # the table says which pairs flip too rarely to search
        if not said.empty:
            parts.append(
                "<ul class='findings'>"
                + "".join(
                    f"<li>{esc(r['text_zh' if zh else 'text_en'])}</li>" for _, r in said.iterrows()
                )
                + "</ul>"
            )
    return "\n".join(parts), pngs


def sections(folder: str | Path, lang: str) -> tuple[str, dict[str, bytes]]:
    """The section of every robustness study at `folder` or one level below it."""
    html: list[str] = []
    pngs: dict[str, bytes] = {}
    studies = find_studies(folder)
    for i, study in enumerate(studies):
        name = FIGURE if len(studies) == 1 else f"robustness_{i + 1}.png"
        h, p = section(study, lang, figure_name=name)
        html.append(h)
        pngs.update(p)
    return "\n".join(html), pngs


def is_study(folder: str | Path) -> bool:
    """Whether `folder` is a robustness results folder."""
    return (Path(folder) / "robustness.json").is_file()


def _write(path: Path, data: bytes) -> None:
    tmp = tmp_path(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_report(
    folder: str | Path, lang: str, out: str | Path | None = None
) -> tuple[Path, Path, list[Path], list[Path]]:
    """A report of its own for a robustness results folder.

    Returns:
        (report folder, report.html, figures, tables).
    """
    folder = Path(folder)
    meta, _ = read_study(folder)
    font_rc(lang)
    target = Path(out) if out is not None else folder / "report"
    check_out(target)
    target.mkdir(parents=True, exist_ok=True)
    body, pngs = section(folder, lang, own=True)
    figs = []
    for name, data in pngs.items():
        _write(target / name, data)
        figs.append(target / name)
    title = meta.get(f"label_{lang}") or meta.get("label_en") or meta.get("name", "")
    files = [folder / f for f in meta.get("files", {}).values() if (folder / f).is_file()]
    links = "".join(
        f"<li><a href='{esc(os.path.relpath(p, target))}'>{esc(p.name)}</a></li>" for p in files
    )
    html_lang = "zh-CN" if lang == "zh" else "en"
    page = (
        f"<!DOCTYPE html>\n<html lang='{html_lang}'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{esc(tr('report', lang))}: {esc(title)}</title>\n<style>{CSS}</style>\n"
        f"</head>\n<body><main>\n<h1>{esc(tr('report', lang))}: {esc(title)}</h1>\n"
        f"<p class='sub'>{esc(meta.get('description') or '')}</p>\n{body}\n"
        f"<h3>{esc(tr('files', lang))}</h3><ul>{links}</ul>\n</main></body>\n</html>\n"
    )
    path = target / "report.html"
    _write(path, page.encode("utf-8"))
    return target, path, figs, files
