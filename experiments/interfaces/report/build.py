"""Build a report from a results folder: tables (CSV), figures (PNG) and report.html."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.engine.errors import ExperimentError
from experiments.engine.folders import check_out, tmp_path
from experiments.interfaces.report import attribution, html, robustness, tables, text
from experiments.interfaces.report.data import ReportData, load_report_data
from experiments.interfaces.report.figures import render_figures
from experiments.interfaces.report.fonts import font_rc
from experiments.interfaces.report.labels import LANGS

REPORT_DIR = "report"
"""Reports go to RESULTS/report/ unless another folder is given."""


@dataclass
class Report:
    """What `build_report` wrote.

    Attributes:
        folder: The report folder.
        html: Path of report.html.
        figures: Paths of the PNG figures, in the report's order.
        csvs: Paths of the CSV tables.
        headline: The headline table (long: one row per arm and metric).
        data: The data the report was built from.
    """

    folder: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    csvs: list[Path] = field(default_factory=list)
    headline: pd.DataFrame | None = None
    data: ReportData | None = None


def _write(path: Path, data: bytes) -> None:
    tmp = tmp_path(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build_report(
    results: str | Path,
    lang: str = "en",
    baseline: str | None = None,
    out: str | Path | None = None,
) -> Report:
    """Write the decision-maker's report of a results folder.

    Args:
        results: A results folder written by `linkage sweep` (with the "How sure is this?"
            section of a robustness study in a folder inside it), or by `linkage robustness`.
        lang: "en" (default) or "zh".
        baseline: Baseline scenario (default: the experiment's, else the first scenario).
        out: Report folder (default: RESULTS/report/).

    Returns:
        What was written.

    Raises:
        ExperimentError: not a results folder, no successful runs, unknown baseline, bad lang.
        FontError: `lang` is "zh" and no font draws Chinese.
    """
    if lang not in LANGS:
        raise ExperimentError("--lang", "--lang", f"unknown language '{lang}' (en or zh)")
    if robustness.is_study(results):  # a robustness study: a report of its own
        return Report(*robustness.write_report(results, lang, out))
    data = load_report_data(str(results), baseline, lang)
    rc = font_rc(lang)  # fail early (before any work) when Chinese cannot be drawn
    folder = Path(out) if out is not None else data.results.path / REPORT_DIR
    check_out(folder)  # a file, or somebody else's non-empty folder, is refused
    folder.mkdir(parents=True, exist_ok=True)
    tabs = {
        "headline": tables.headline_table(data),
        "equity": tables.equity_table(data),
        "spending": tables.spending_table(data),
        "weekly": tables.weekly_table(data),
    }
    csvs = tables.write_csvs(tabs, folder)
    figures = render_figures(data, tabs, rc)
    fig_paths = []
    for name, png in figures.items():
        path = folder / f"{name}.png"
        _write(path, png)
        fig_paths.append(path)
    findings = text.summaries(data, tabs["headline"], tabs["equity"], tabs["spending"])
    extra, extra_pngs = html.analysis_sections(data.results.path, lang)
    first, first_pngs = attribution.section(data.results.path, lang)  # read first, if any
    sure, sure_pngs = robustness.sections(data.results.path, lang)  # "How sure is this?"
    extra, extra_pngs = extra + sure, {**extra_pngs, **sure_pngs}
    for name, png in {**first_pngs, **extra_pngs}.items():
        path = folder / name
        _write(path, png)
        fig_paths.append(path)
    page = html.page(
        data,
        tabs["headline"],
        tabs["equity"],
        figures,
        findings,
        [p.name for p in csvs],
        extra,
        first=first,
        spend=tabs["spending"],
    )
    html_path = folder / "report.html"
    _write(html_path, page.encode("utf-8"))
    return Report(folder, html_path, fig_paths, csvs, tabs["headline"], data)
