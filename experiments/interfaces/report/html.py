"""The report as one self-contained HTML page: inline CSS, figures as base64 PNG."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.interfaces.report.data import ReportData
from experiments.interfaces.report.labels import (
    GROUPS,
    HEADLINE,
    MONEY_KEYS,
    Metric,
    experiment_label,
    group_name,
    mentions_baseline,
    money_unit,
    t,
)
from experiments.interfaces.report.labels import diff as fmt_diff
from experiments.interfaces.report.labels import number as fmt_number
from experiments.interfaces.report.tables import row

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",
 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;
 background:#fafafa;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.7em;margin:.2em 0}h2{margin-top:1.8em;border-bottom:2px solid #e4e4e4;
 padding-bottom:.2em;font-size:1.3em}
.sub{color:#555}.meta{color:#666;font-size:.85em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0;width:100%}
th,td{border:1px solid #ddd;padding:5px 7px;vertical-align:top}
th{background:#f2f2f2;text-align:left;font-weight:600}
td.num{text-align:right;white-space:nowrap}
.v{font-weight:600}.ci{color:#777;font-size:.85em}
.d{margin-top:3px;padding:1px 4px;border-radius:3px;display:inline-block}
.better{background:#d8f1d8}.worse{background:#f8d7d7}.changed{background:#fbf0c4}
.lowest{outline:2px solid #d9822b;outline-offset:-2px}
tr.base td{background:#f7f7f7}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.88em;margin-top:.3em}
ul.findings li{margin:.45em 0}
code{background:#f2f2f2;padding:0 3px;border-radius:3px}
"""

FIGURE_NOTES = {
    "cost_outcome": "cost_outcome_note",
    "timeseries": "over_time_note",
    "equity_groups": "equity_groups_note",
    "equity_communities": "equity_comm_note",
    "spending": "spending_note",
    "timebank": "timebank_note",
}


def esc(s: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(s), quote=True)


def img(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def _verdict(m: Metric, r: pd.Series) -> str:
    if not bool(r.get("excludes_zero", False)):
        return ""
    if m.better == 0:
        return "changed"
    return "better" if (r["diff"] > 0) == (m.better > 0) else "worse"


def _cell(m: Metric, r: pd.Series | None, is_base: bool, lang: str) -> str:
    if r is None or (isinstance(r["mean"], float) and math.isnan(r["mean"])):
        return '<td class="num">–</td>'
    scale = 1.0
    kind = m.kind
    decimals = None
    if m.key in MONEY_KEYS:
        scale = 1 / money_unit(lang)[0]
        kind, decimals = "hours", (1 if lang == "zh" else 2)

    def f(x: float) -> str:
        return (
            fmt_number(x * scale, kind, lang) if decimals is None else f"{x * scale:,.{decimals}f}"
        )

    parts = [f'<div class="v">{f(r["mean"])}</div>']
    if not (math.isnan(r["ci_low"]) or math.isnan(r["ci_high"])):
        parts.append(f'<div class="ci">[{f(r["ci_low"])}, {f(r["ci_high"])}]</div>')
    if not is_base and not math.isnan(r["diff"]):

        def fd(x: float) -> str:
            if decimals is None:
                return fmt_diff(x * scale, kind, lang)
            return ("+" if x >= 0 else "−") + f"{abs(x) * scale:,.{decimals}f}"

        d = fd(r["diff"])
        ci = ""
        if not (math.isnan(r["diff_ci_low"]) or math.isnan(r["diff_ci_high"])):
            lo, hi = fd(r["diff_ci_low"]), fd(r["diff_ci_high"])
            if kind == "rate":
                lo, hi = (x.replace("个百分点", "").replace(" pts", "") for x in (lo, hi))
            ci = f' <span class="ci">[{lo}, {hi}]</span>'
        parts.append(f'<div class="d {_verdict(m, r)}">Δ {d}{ci}</div>')
    return f'<td class="num">{"".join(parts)}</td>'


def headline_html(data: ReportData, head: pd.DataFrame) -> str:
    """The headline table: one row per arm, one column per headline metric."""
    lang = data.lang
    unit = money_unit(lang)[1]
    heads = [esc(t("scenario", lang))]
    for m in HEADLINE:
        name = m.name(lang)
        if m.key in MONEY_KEYS:
            name += f"({unit})" if lang == "zh" else f" ({unit})"
        heads.append(esc(name))
    lines = [
        "<table class='headline'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr></thead><tbody>"
    ]
    for a in data.arms:
        is_base = a in data.baseline_arms
        suffix = is_base and not mentions_baseline(data.labels[a])
        label = esc(data.labels[a]) + (
            f" <span class='ci'>({esc(t('baseline', lang))})</span>" if suffix else ""
        )
        cells = "".join(_cell(m, row(head, a, m.key), is_base, lang) for m in HEADLINE)
        lines.append(f"<tr class='{'base' if is_base else ''}'><td>{label}</td>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def equity_html(data: ReportData, eq: pd.DataFrame) -> str:
    """Need satisfaction by group: one row per arm; the lowest group of each row outlined."""
    lang = data.lang
    groups = [g for g in GROUPS if f"satisfaction_{g}" in data.runs]
    if not groups:
        return ""
    heads = [t("scenario", lang), *(group_name(g, lang) for g in groups)]
    lines = [
        "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in heads) + "</tr></thead><tbody>"
    ]
    m = Metric("", "", "", "rate", +1)
    for a in data.arms:
        is_base = a in data.baseline_arms
        rows = [row(eq, a, f"satisfaction_{g}") for g in groups]
        means = [float(r["mean"]) if r is not None else math.nan for r in rows]
        finite = [v for v in means if not math.isnan(v)]
        low = min(finite) if finite else None
        cells = []
        for r, v in zip(rows, means, strict=True):
            cell = _cell(m, r, is_base, lang)
            if low is not None and v == low:
                cell = cell.replace('<td class="num">', '<td class="num lowest">', 1)
            cells.append(cell)
        lines.append(
            f"<tr class='{'base' if is_base else ''}'><td>{esc(data.display(a))}</td>{''.join(cells)}</tr>"
        )
    lines.append("</tbody></table>")
    return "\n".join(lines)


def charity_html(data: ReportData, spend: pd.DataFrame) -> str:
    """The charitable channel beside public money, one row per arm: public spending a year,
    public matching, donations and grants of the community charity fund ("" when no arm has a
    fund)."""
    lang = data.lang
    keys = ("gov_spending_annual", "annual_charity_matched", "annual_charity_donations")
    keys += ("annual_charity_grants",)
    if not any(
        (r := row(spend, a, "annual_charity_donations")) is not None and r["mean"] > 0
        for a in data.arms
    ):
        return ""
    heads = [t("scenario", lang), t("public_spending", lang)]
    heads += [t(k.removeprefix("annual_"), lang) for k in keys[1:]]
    lines = [
        f"<h3>{esc(t('charity', lang))}</h3>",
        f"<p class='sub'>{esc(t('charity_note', lang))}</p>",
        "<table><thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in heads)
        + "</tr></thead><tbody>",
    ]
    for a in data.arms:
        is_base = a in data.baseline_arms
        cells = "".join(
            _cell(Metric(f"charity:{k}", "", "", "yuan", 0), row(spend, a, k), is_base, lang)
            for k in keys
        )
        lines.append(
            f"<tr class='{'base' if is_base else ''}'><td>{esc(data.display(a))}</td>{cells}</tr>"
        )
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _provenance(data: ReportData) -> str:
    man = data.results.manifest
    env = man.get("environment") or {}
    versions = env.get("versions") or env.get("packages") or {}
    git = env.get("git") or {}
    commit = env.get("git_hash") or git.get("commit") or ""
    dirty = env.get("git_dirty") if "git_dirty" in env else git.get("dirty")
    python = versions.get("python") or env.get("python")
    items = [
        ("experiment", man.get("experiment", data.results.path.name)),
        ("experiment file", man.get("experiment_file")),
        ("results folder", str(data.results.path.resolve())),
        ("runs", f"{len(data.runs)} ok of {len(data.results.runs)}"),
        ("finished", man.get("finished")),
        ("git commit", commit[:12] + (" (uncommitted changes)" if commit and dirty else "")),
        ("model source sha256", (env.get("model_source_sha256") or "")[:16]),
        (
            "python / numpy / mesa",
            " / ".join(str(x) for x in (python, versions.get("numpy"), versions.get("mesa")))
            if python
            else "",
        ),
    ]
    return (
        "<table class='meta'>"
        + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items if v)
        + "</table>"
    )


def page(
    data: ReportData,
    head: pd.DataFrame,
    eq: pd.DataFrame,
    figures: dict[str, bytes],
    findings: dict[str, str],
    csv_names: list[str],
    extra: str = "",
    first: str = "",
    spend: pd.DataFrame | None = None,
) -> str:
    """The whole report page.

    Args:
        data: The report's data.
        head: The headline table.
        eq: The equity table.
        figures: PNG bytes by figure name.
        findings: Summary paragraph by arm.
        csv_names: File names of the CSV tables (linked relative to the page).
        extra: HTML of the sensitivity and budget-search sections, when present.
        first: HTML of the section a decision maker reads first (the attribution), when
            present: it comes before the findings.
        spend: The spending table: with it, the charitable channel is shown beside public
            money when any arm has a charity fund.

    Returns:
        The HTML text.
    """
    lang = data.lang
    man = data.results.manifest
    name = experiment_label(man, lang, data.results.path.name)
    desc = (man.get("description") or "").strip()
    base_label = (
        data.labels[next(iter(sorted(data.baseline_arms, key=data.arms.index)))]
        if data.baseline_arms
        else data.baseline
    )
    meta = (
        f"{len(data.arms)} {'个情景' if lang == 'zh' else 'scenarios'} · "
        f"{data.replications} {'次重复' if lang == 'zh' else 'replications'} · "
        f"{data.weeks or '?'} {'周' if lang == 'zh' else 'weeks'} · "
        f"{t('baseline', lang)}: {base_label}"
    )

    no_tb = "no_weekly" if data.weekly.empty else "timebank_none"

    def fig(key: str) -> str:
        if key not in figures:
            return ""
        note = t(FIGURE_NOTES[key], lang)
        return f"<figure>{img(figures[key], note)}<figcaption>{esc(note)}</figcaption></figure>"

    body = [
        f"<h1>{esc(t('title', lang))}: {esc(name)}</h1>",
        f"<p class='sub'>{esc(desc)}</p>" if desc else "",
        f"<p class='meta'>{esc(meta)}</p>",
        first,
        f"<h2>{esc(t('findings', lang))}</h2>",
        "<ul class='findings'>"
        + "".join(f"<li>{esc(p)}</li>" for p in findings.values())
        + "</ul>",
        f"<h2>{esc(t('headline', lang))}</h2>",
        f"<p class='sub'>{esc(t('headline_note', lang))}</p>",
        headline_html(data, head),
        f"<h2>{esc(t('cost_outcome', lang))}</h2>",
        fig("cost_outcome"),
        f"<h2>{esc(t('over_time', lang))}</h2>",
        fig("timeseries") if "timeseries" in figures else f"<p>{esc(t('no_weekly', lang))}</p>",
        f"<h2>{esc(t('equity', lang))}</h2>",
        equity_html(data, eq),
        fig("equity_groups"),
        fig("equity_communities"),
        f"<h2>{esc(t('spending', lang))}</h2>",
        fig("spending"),
        charity_html(data, spend) if spend is not None else "",
        f"<h2>{esc(t('timebank', lang))}</h2>",
        fig("timebank") if "timebank" in figures else f"<p>{esc(t(no_tb, lang))}</p>",
        extra,
        f"<h2>{esc(t('method', lang))}</h2>",
        f"<p>{esc(t('method_text', lang, reps=data.replications, weeks=data.weeks or '?', warmup=data.warmup if data.warmup is not None else '?'))}</p>",
        f"<h3>{esc(t('files', lang))}</h3>",
        "<ul>" + "".join(f"<li><a href='{esc(n)}'>{esc(n)}</a></li>" for n in csv_names) + "</ul>",
        f"<h3>{esc(t('provenance', lang))}</h3>",
        _provenance(data),
    ]
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f"<!DOCTYPE html>\n<html lang='{html_lang}'>\n<head>\n<meta charset='utf-8'>\n"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{esc(t('title', lang))}: {esc(name)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body><main>\n" + "\n".join(b for b in body if b) + "\n</main></body>\n</html>\n"
    )


def _csv_table(df: pd.DataFrame, columns: list[str], rows: int) -> str:
    cols = [c for c in columns if c in df.columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{esc(f'{v:.3g}' if isinstance(v, float) else v)}</td>" for v in r[cols].tolist()
        )
        + "</tr>"
        for _, r in df.head(rows).iterrows()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def analysis_sections(folder: Path, lang: str) -> tuple[str, dict[str, bytes]]:
    """Sections for `linkage sensitivity` and `linkage optimize` outputs found in a results
    folder (sensitivity.csv + sensitivity_*.png; optimize_final.csv + optimize.png).

    Returns:
        (HTML of the sections, PNG bytes by file name to copy next to the report).
    """
    zh = lang == "zh"
    parts: list[str] = []
    pngs: dict[str, bytes] = {}
    sens = folder / "sensitivity.csv"
    if sens.exists():
        df = pd.read_csv(sens)
        parts.append(
            f"<h2>{'哪些杠杆最重要(全局敏感性分析)' if zh else 'Which levers matter (global sensitivity)'}</h2>"
        )
        order = [c for c in ("outcome", "rank") if c in df.columns]
        shown = df.sort_values(order) if order else df
        cols = [
            "outcome",
            "parameter",
            "rank",
            "S1",
            "S1_conf",
            "ST",
            "ST_conf",
            "mu_star",
            "sigma",
        ]
        parts.append(_csv_table(shown, cols, 40))
        for png in sorted(folder.glob("sensitivity_*.png")):
            pngs[png.name] = png.read_bytes()
            parts.append(f"<figure>{img(pngs[png.name], png.stem)}</figure>")
    opt = folder / "optimize_final.csv"
    if opt.exists():
        df = pd.read_csv(opt)
        parts.append(f"<h2>{'预算分配搜索' if zh else 'Budget allocation search'}</h2>")
        parts.append(_csv_table(df, list(df.columns), 10))
        png = folder / "optimize.png"
        if png.exists():
            pngs[png.name] = png.read_bytes()
            parts.append(f"<figure>{img(pngs[png.name], png.stem)}</figure>")
    return "\n".join(parts), pngs
