"""The decision-maker's report (`linkage report`) and `linkage demo`, on tiny real sweeps.

Each sweep runs the shipped scenario files on a 3,000-resident street of 3 communities for 30
weeks (4 of warm-up) through the real sweep engine: a run takes a fraction of a second.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from experiments.engine.sweep import run_sweep
from experiments.interfaces.cli import main as cli_main
from experiments.interfaces.report.build import build_report
from experiments.interfaces.report.cost_outcome import efficient_frontier
from experiments.interfaces.report.fonts import find_cjk_font
from experiments.interfaces.report.labels import HEADLINE, scenario_labels

REPO = Path(__file__).resolve().parent.parent
TINY = {
    "run.weeks": 30,
    "run.warmup_weeks": 4,
    "street.n_residents": 3000,
    "street.n_communities": 3,
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_experiment(folder: Path, name: str = "tiny_modes", extra: str = "") -> Path:
    """An experiment file: siloed vs full linkage on the tiny street, 3 replications."""
    folder.mkdir(parents=True, exist_ok=True)
    consts = "\n".join(f"  {k}: {v}" for k, v in TINY.items())
    text = textwrap.dedent(
        f"""
        name: {name}
        description: Siloed against full linkage on a tiny street.
        scenarios:
          siloed: {REPO / "scenarios/modes/siloed.yaml"}
          full_linkage: {REPO / "scenarios/modes/full_linkage.yaml"}
        baseline: siloed
        replications: 3
        root_seed: 7
        """
    ).lstrip()
    path = folder / f"{name}.yaml"
    path.write_text(text + "constants:\n" + consts + "\n" + extra, encoding="utf-8")
    return path


def sweep(folder: Path, **kw) -> Path:
    res = run_sweep(tiny_experiment(folder, **kw), folder / "results", workers=1, progress=False)
    assert res.errors == 0, res.first_error
    return res.path


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def report(results):
    return build_report(results)


def t95(df: int) -> float:
    try:
        from scipy import stats
    except ImportError:  # pragma: no cover - scipy comes with the 'sensitivity' extra
        return {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}[df]
    return float(stats.t.ppf(0.975, df))


# --- the report's files --------------------------------------------------------------------


def test_report_html_embeds_every_figure(report, results):
    assert report.folder == results / "report"
    page = report.html.read_text(encoding="utf-8")
    names = {p.stem for p in report.figures}
    assert names == {
        "cost_outcome",
        "timeseries",
        "equity_groups",
        "equity_communities",
        "spending",
        "timebank",
    }
    assert page.count("data:image/png;base64,") == len(report.figures)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    for key in ("Full four-society linkage", "Siloed (baseline)", "Need satisfaction"):
        assert key in page
    assert {p.name for p in report.csvs} == {
        "headline.csv",
        "equity.csv",
        "spending.csv",
        "weekly.csv",
    }


def test_figures_are_valid_pngs(report):
    import matplotlib.image as mpimg

    for path in report.figures:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE, path.name
        assert len(data) > 10_000, path.name
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            w, h = im.size
        assert w > 400 and h > 400, (path.name, w, h)
        assert mpimg.imread(path).shape[:2] == (h, w)


def test_headline_csv_equals_numbers_from_runs_parquet(report, results):
    head = pd.read_csv(report.folder / "headline.csv")
    runs = pd.read_parquet(results / "runs.parquet")
    runs = runs[runs["status"] == "ok"]
    base = runs[runs["scenario"] == "siloed"].set_index("replication")
    assert set(head["metric"]) == {m.key for m in HEADLINE}
    assert len(head) == 2 * len(HEADLINE)
    for _, r in head.iterrows():
        g = runs[runs["scenario"] == r["scenario"]].set_index("replication")
        v = g[r["metric"]].to_numpy(float)
        n = len(v)
        half = t95(n - 1) * v.std(ddof=1) / math.sqrt(n)
        assert r["n"] == n == 3
        assert r["mean"] == pytest.approx(v.mean(), rel=1e-12)
        assert r["ci_low"] == pytest.approx(v.mean() - half, rel=1e-9)
        assert r["ci_high"] == pytest.approx(v.mean() + half, rel=1e-9)
        d = g[r["metric"]] - base.loc[g.index, r["metric"]]  # paired by replication
        if r["scenario"] == "siloed":
            assert r["diff"] == 0
            assert not r["excludes_zero"]
            continue
        dh = t95(n - 1) * d.std(ddof=1) / math.sqrt(n)
        assert r["diff"] == pytest.approx(d.mean(), rel=1e-9, abs=1e-12)
        assert r["diff_ci_low"] == pytest.approx(d.mean() - dh, rel=1e-9, abs=1e-12)
        assert r["diff_ci_high"] == pytest.approx(d.mean() + dh, rel=1e-9, abs=1e-12)
        assert r["excludes_zero"] == bool(d.mean() - dh > 0 or d.mean() + dh < 0)


def test_spending_by_channel_adds_up_to_the_annual_total(report):
    sp = pd.read_csv(report.folder / "spending.csv")
    for scen, g in sp.groupby("scenario"):
        channels = g[g["metric"].str.startswith("annual_spending_")]["mean"].sum()
        total = g[g["metric"] == "gov_spending_annual"]["mean"].iloc[0]
        assert channels == pytest.approx(total, rel=1e-9), scen


def test_weekly_csv_has_the_series_behind_the_figures(report, results):
    weekly = pd.read_csv(report.folder / "weekly.csv")
    ts = pd.read_parquet(results / "timeseries.parquet")
    got = weekly[(weekly["metric"] == "active_volunteers") & (weekly["arm"] == "full_linkage")]
    want = ts[ts["scenario"] == "full_linkage"].groupby("week")["active_volunteers"].mean()
    assert np.allclose(got.set_index("week")["mean"].sort_index(), want.sort_index())
    assert set(weekly["metric"]) >= {"need_satisfaction_rate", "timebank_liability_yuan"}


def test_summaries_state_the_numbers_and_only_clear_differences(report):
    from experiments.interfaces.report.text import summary

    head = report.headline
    eq = pd.read_csv(report.folder / "equity.csv")
    text = summary(report.data, "full_linkage", head, eq)
    sat = head[(head["scenario"] == "full_linkage") & (head["metric"] == "need_satisfaction_rate")]
    r = sat.iloc[0]
    m = 100 * r["mean"]
    assert text.startswith("Full four-society linkage: Need satisfaction ")
    assert f"satisfaction {m:.0f}%" in text or f"satisfaction {m:.1f}%" in text
    claim = "above the baseline" if r["diff"] > 0 else "below the baseline"
    assert (claim in text) == bool(r["excludes_zero"])
    assert ("no clear difference" in text) == (not r["excludes_zero"])
    assert text in report.html.read_text(encoding="utf-8")


# --- Chinese -------------------------------------------------------------------------------


def test_chinese_report_has_no_missing_glyphs(results, tmp_path):
    if find_cjk_font() is None:
        pytest.skip(
            "no CJK font on this machine (apt-get install fonts-wqy-microhei, or pip install mplfonts)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rep = build_report(results, lang="zh", out=tmp_path / "zh")
    glyph = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not glyph, glyph[:3]
    page = rep.html.read_text(encoding="utf-8")
    for key in ("需求满足率", "四社联动", "各行其是", "主要结论", "谁被落下了"):
        assert key in page
    assert page.count("data:image/png;base64,") == len(rep.figures) == 6
    head = pd.read_csv(rep.folder / "headline.csv")
    assert "需求满足率" in set(head["metric_label"])


@pytest.fixture
def no_cjk_fonts(monkeypatch):
    """The font finder pointed at a machine without CJK fonts: no system or mplfonts files, and
    matplotlib knowing only its bundled fonts (DejaVu, and Last Resort, which draws boxes)."""
    import matplotlib

    import experiments.interfaces.report.fonts as fonts

    bundled = str(Path(matplotlib.get_data_path()) / "fonts")
    monkeypatch.setattr(fonts, "system_cjk_files", list)
    monkeypatch.setattr(fonts, "mplfonts_files", list)
    everything = fonts.installed_fonts
    monkeypatch.setattr(
        fonts, "installed_fonts", lambda: [f for f in everything() if f[1].startswith(bundled)]
    )
    fonts.find_cjk_font.cache_clear()
    yield
    fonts.find_cjk_font.cache_clear()


def test_chinese_without_a_font_fails_in_one_line(results, no_cjk_fonts, capsys):
    import experiments.interfaces.report.fonts as fonts

    assert any("Last Resort" in name for name, _, _ in fonts.installed_fonts())
    assert fonts.find_cjk_font() is None
    assert cli_main(["report", str(results), "--lang", "zh"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "fonts-wqy-microhei" in err and "mplfonts" in err


# --- the command line ----------------------------------------------------------------------


def test_cli_prints_the_headline_and_the_report(results, tmp_path, capsys):
    out = tmp_path / "rep"
    assert cli_main(["report", str(results), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Full four-society linkage" in text and "Siloed (baseline)" in text
    assert str(out / "report.html") in text
    assert (out / "report.html").exists() and (out / "headline.csv").exists()


def test_other_baseline(results):
    from experiments.interfaces.report.data import load_report_data
    from experiments.interfaces.report.tables import headline_table

    head = headline_table(load_report_data(str(results), baseline="full_linkage"))
    assert (head[head["scenario"] == "full_linkage"]["diff"] == 0).all()
    sat = head[(head["scenario"] == "siloed") & (head["metric"] == "need_satisfaction_rate")]
    assert sat["diff"].iloc[0] < 0


@pytest.mark.parametrize("case", ["missing", "no_runs", "baseline"])
def test_bad_input_exits_2_with_one_line(case, results, tmp_path, capsys):
    if case == "missing":
        args = ["report", str(tmp_path / "nowhere")]
    elif case == "no_runs":
        (tmp_path / "empty").mkdir()
        args = ["report", str(tmp_path / "empty")]
    else:
        args = ["report", str(results), "--baseline", "nonexistent", "--out", str(tmp_path)]
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    if case == "baseline":
        assert "nonexistent" in err and "siloed" in err
    if case == "no_runs":
        assert "runs.parquet" in err


# --- parameter points, labels, frontier --------------------------------------------------


def test_report_of_an_experiment_with_a_lever_and_no_time_series(tmp_path):
    lever = "levers:\n  providers.sw_per_10k: {values: [3, 12]}\ntimeseries: false\n"
    path = sweep(tmp_path, name="tiny_lever", extra=lever)
    rep = build_report(path)
    names = {p.stem for p in rep.figures}
    assert names == {"cost_outcome", "equity_groups", "equity_communities", "spending"}
    page = rep.html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert "keeps no weekly time series" in page
    arms = rep.data.arms
    assert len(arms) == 4
    assert any("sw_per_10k=12" in rep.data.labels[a] for a in arms)
    sat = rep.headline[rep.headline["metric"] == "need_satisfaction_rate"]
    base = sat[sat["scenario"] == "siloed"]
    assert (base["diff"] == 0).all() and len(base) == 2  # one baseline per parameter point


def test_scenario_labels_fall_back_to_names(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text("name: mine\nlabel_zh: 我的\nlabel_en: Mine\n", encoding="utf-8")
    manifest = {
        "scenarios": [
            {"name": "mine", "file": str(own)},
            {"name": "renamed", "file": str(own)},  # the experiment renamed it: no label
            {"name": "gone", "file": str(tmp_path / "missing.yaml")},
        ]
    }
    names = ["mine", "renamed", "gone", "unlisted"]
    assert scenario_labels(manifest, names, "zh") == {
        "mine": "我的",
        "renamed": "renamed",
        "gone": "gone",
        "unlisted": "unlisted",
    }
    assert scenario_labels(manifest, names, "en")["mine"] == "Mine"


def test_efficient_frontier():
    costs = [1.0, 2.0, 2.0, 3.0, 4.0, math.nan]
    outcomes = [50.0, 60.0, 55.0, 58.0, 80.0, 99.0]
    assert efficient_frontier(costs, outcomes) == [0, 1, 4]


# --- linkage demo ---------------------------------------------------------------------------


def test_demo_runs_both_studies_and_writes_reports(tmp_path, monkeypatch, capsys):
    import experiments.interfaces.commands.demo as demo

    consts = "\n".join(f"  {k}: {v}" for k, v in TINY.items() if not k.startswith("run."))
    robust = tmp_path / "exp" / "robustness_modes.yaml"
    robust.parent.mkdir(parents=True, exist_ok=True)
    robust.write_text(
        textwrap.dedent(
            f"""
            name: robustness_modes
            strategies:
              siloed: {REPO / "scenarios/modes/siloed.yaml"}
              full_linkage: {REPO / "scenarios/modes/full_linkage.yaml"}
            uncertainties: [volunteers.retention_annual, policies.platform.delay_hours]
            futures: 200
            weeks: 65
            warmup_weeks: 13
            """
        ).lstrip()
        + "constants:\n"
        + consts
        + "\n",
        encoding="utf-8",
    )
    files = {
        "linkage_modes": tiny_experiment(tmp_path / "exp", "linkage_modes"),
        "funding_strategies": tiny_experiment(tmp_path / "exp", "funding_strategies"),
        "robustness_modes": robust,
    }
    monkeypatch.setattr(demo, "experiment_file", lambda name: files[name])
    tiny = {"residents": 600, "communities": 1, "weeks": 8, "warmup_weeks": 2}
    monkeypatch.setattr(
        demo,
        "ATTRIBUTION",
        {**tiny, "replications": 2, "permutations": 2, "interaction_levers": 2},
    )
    monkeypatch.setattr(demo, "ROBUSTNESS_WEEKS", (8, 2))  # the demo's own short runs
    out = tmp_path / "results"
    argv = ["demo", "--replications", "2", "--weeks", "20", "--workers", "1", "--futures", "3"]
    assert cli_main([*argv, "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    for name in ("linkage_modes", "funding_strategies"):
        folders = list(out.glob(f"{name}-*"))
        assert len(folders) == 1
        assert (folders[0] / "report" / "report.html").exists()
        assert str(folders[0] / "report" / "report.html") in text
        runs = pd.read_parquet(folders[0] / "runs.parquet")
        assert len(runs) == 4 and (runs["status"] == "ok").all()
        page = (folders[0] / "report" / "report.html").read_text(encoding="utf-8")
        # the modes' report says how sure it is, from 3 futures of 8-week runs
        assert ("How sure is this?" in page) == (name == "linkage_modes")
    rob = pd.read_parquet(next(out.glob("linkage_modes-*")) / "robustness" / "runs.parquet")
    assert len(rob) == 2 * 3 and (rob["status"] == "ok").all()
    meta = (next(out.glob("linkage_modes-*")) / "robustness" / "robustness.json").read_text()
    assert '"weeks": 8' in meta and '"futures": 3' in meta
    assert "Full four-society linkage" in text
    # the modes report opens with the attribution of siloed -> full linkage, and says its size
    modes = next(out.glob("linkage_modes-*"))
    assert (modes / "attribution" / "attribution.json").is_file()
    page = (modes / "report" / "report.html").read_text(encoding="utf-8")
    assert page.index("Which lever made the difference") < page.index("Key findings")
    assert "a street of 600 residents in 1 community, 8 weeks per run" in page
    assert not list(out.glob("funding_strategies-*/attribution"))


def test_sensitivity_and_budget_search_outputs_are_included(results, tmp_path):
    """When `linkage sensitivity` / `linkage optimize` outputs sit in a results folder, the
    report shows their tables and embeds their charts."""
    import shutil

    import matplotlib.pyplot as plt

    folder = tmp_path / "res"
    shutil.copytree(results, folder)
    pd.DataFrame(
        {
            "outcome": ["need_satisfaction_rate"] * 2,
            "parameter": ["policies.platform.delay_hours", "providers.sw_admin_share"],
            "rank": [1, 2],
            "S1": [0.8, 0.05],
            "ST": [0.86, 0.08],
        }
    ).to_csv(folder / "sensitivity.csv", index=False)
    pd.DataFrame({"split": ["best"], "need_satisfaction_rate": [0.83]}).to_csv(
        folder / "optimize_final.csv", index=False
    )
    for name in ("sensitivity_need_satisfaction_rate.png", "optimize.png"):
        fig, ax = plt.subplots()
        ax.bar([0, 1], [0.86, 0.08])
        fig.savefig(folder / name)
        plt.close(fig)
    rep = build_report(folder, out=tmp_path / "rep")
    page = rep.html.read_text(encoding="utf-8")
    assert "Which levers matter" in page and "policies.platform.delay_hours" in page
    assert "Budget allocation search" in page
    assert (tmp_path / "rep" / "sensitivity_need_satisfaction_rate.png").exists()
    assert page.count("data:image/png;base64") == len(list((tmp_path / "rep").glob("*.png")))


# --- say only what is true ------------------------------------------------------------------


def _rewrite(results: Path, folder: Path, change) -> Path:
    """A copy of a results folder whose runs.parquet `change(runs)` edits."""
    import shutil

    shutil.copytree(results, folder)
    runs = pd.read_parquet(folder / "runs.parquet")
    change(runs)
    runs.to_parquet(folder / "runs.parquet", index=False)
    return folder


def _findings(page: str) -> str:
    import html as h
    import re

    a = page.index("<ul class='findings'>")
    return h.unescape(re.sub(r"<[^>]+>", " ", page[a : page.index("</ul>", a)]))


def test_spending_that_differs_is_said_to_differ_never_to_be_equal(results, tmp_path):
    """Same budget, spending 15% of it apart: the first finding says so, with each share."""

    def spend(runs: pd.DataFrame) -> None:
        full = runs["scenario"] == "full_linkage"
        budget = 2_600_000.0
        runs.loc[~full, "gov_spending_annual"] = budget * np.array([0.84, 0.85, 0.86])
        runs.loc[full, "gov_spending_annual"] = budget * np.array([0.69, 0.70, 0.71])
        runs["gov_returned_annual"] = budget - runs["gov_spending_annual"]

    rep = build_report(_rewrite(results, tmp_path / "r", spend))
    text = _findings(rep.html.read_text(encoding="utf-8"))
    first = text.strip()
    assert first.startswith(
        "Every scenario has the same yearly budget, 2.6 million yuan, but they do not spend the same"
    )
    # each strategy's execution rate and the money it returned, in the first paragraph
    assert (
        "Siloed (baseline) 2.2 million yuan (85% of its budget executed, "
        "0.39 million yuan returned unspent at year end)" in first
    )
    assert (
        "Full four-society linkage 1.8 million yuan (70% of its budget executed, "
        "0.78 million yuan returned unspent at year end)" in first
    )
    assert "15% of the budget (more than 3%)" in first
    for claim in ("spend the same amount", "spends the same", "spend about the same"):
        assert claim not in text
    zh = build_report(tmp_path / "r", lang="zh", out=tmp_path / "zh") if find_cjk_font() else None
    if zh is not None:
        assert "实际支出并不相同" in _findings(zh.html.read_text(encoding="utf-8"))


def test_equal_spending_is_said_only_when_the_numbers_show_it(results, tmp_path):
    def spend(runs: pd.DataFrame) -> None:
        runs["gov_spending_annual"] = 2_600_000.0 * np.tile([0.900, 0.905, 0.910], 2)

    rep = build_report(_rewrite(results, tmp_path / "r", spend))
    text = _findings(rep.html.read_text(encoding="utf-8"))
    assert "and they spend about the same (within 3% of the budget" in text


def test_different_budgets_are_named(tmp_path):
    exp = tiny_experiment(tmp_path, "budgets")
    text = exp.read_text(encoding="utf-8").replace(
        f"  full_linkage: {REPO / 'scenarios/modes/full_linkage.yaml'}",
        f"  rich:\n    file: {REPO / 'scenarios/modes/siloed.yaml'}\n"
        "    set: {funding.special_fund: 3000000}",
    )
    exp.write_text(text, encoding="utf-8")
    res = run_sweep(exp, tmp_path / "results", workers=1, progress=False)
    page = build_report(res.path).html.read_text(encoding="utf-8")
    text = _findings(page)
    assert (
        "The scenarios have different yearly budgets (2.6 million yuan to 3.6 million yuan)" in text
    )
    assert "same yearly budget" not in text


def test_no_clear_difference_is_never_called_a_difference(results, tmp_path):
    """A difference whose paired interval includes 0: no 'above/below', no 'significant', no
    highlighted cell; the least-served group is named only when its interval is below the
    next group's."""

    def noise(runs: pd.DataFrame) -> None:
        base = runs[runs["scenario"] == "siloed"].sort_values("replication")
        full = runs.index[runs["scenario"] == "full_linkage"]
        order = runs.loc[full].sort_values("replication").index
        v = base["need_satisfaction_rate"].to_numpy() + np.array([0.02, -0.03, 0.012])
        runs.loc[order, "need_satisfaction_rate"] = v
        for g in ("elderly", "minor", "migrant", "disabled", "low_income"):
            runs[f"satisfaction_{g}"] = 0.6 + 0.01 * np.tile([1.0, -1.0, 0.5], 2)

    rep = build_report(_rewrite(results, tmp_path / "r", noise))
    page = rep.html.read_text(encoding="utf-8")
    sat = rep.headline[
        (rep.headline["scenario"] == "full_linkage")
        & (rep.headline["metric"] == "need_satisfaction_rate")
    ].iloc[0]
    assert sat["diff_ci_low"] < 0 < sat["diff_ci_high"] and not sat["excludes_zero"]
    text = _findings(page)
    assert "no clear difference from the baseline" in text
    assert "points above the baseline" not in text and "points below the baseline" not in text
    assert "significant" not in page.lower()
    assert "Least-served group" not in text and "so the order is uncertain" in text


def test_charitable_channel_is_shown_beside_public_money(tmp_path):
    """五社联动 against the siloed baseline: the spending table carries the charity fund's
    donations, matching and grants per year, and the page shows them beside public money; the
    numbers are those of the runs."""
    folder = tmp_path / "five"
    folder.mkdir()
    consts = "\n".join(f"  {k}: {v}" for k, v in TINY.items())
    exp = folder / "five.yaml"
    exp.write_text(
        textwrap.dedent(
            f"""
            name: five
            scenarios:
              siloed: {REPO / "scenarios/modes/siloed.yaml"}
              five_society: {REPO / "scenarios/modes/five_society.yaml"}
            baseline: siloed
            replications: 2
            root_seed: 3
            """
        ).lstrip()
        + "constants:\n"
        + consts
        + "\n",
        encoding="utf-8",
    )
    res = run_sweep(exp, folder / "results", workers=1, progress=False)
    assert res.errors == 0, res.first_error
    rep = build_report(res.path)
    spend = pd.read_csv(rep.folder / "spending.csv", encoding="utf-8-sig")
    don = spend[(spend["metric"] == "annual_charity_donations")].set_index("arm")["mean"]
    assert don["siloed"] == 0 and don["five_society"] > 0
    runs = rep.data.runs
    per_year = runs[runs["scenario"] == "five_society"]["charity_donations"].mean() * 52 / 26
    assert math.isclose(don["five_society"], per_year, rel_tol=1e-6)
    page = rep.html.read_text(encoding="utf-8")
    assert "The charitable channel beside public money" in page and "Donations / year" in page


def test_an_experiment_entry_reusing_a_file_shows_its_own_label(tmp_path):
    """The modes study runs full_linkage.yaml twice; the second entry (equal intake delay) used
    to show its raw id in the report. The experiment's `label_en`/`label_zh` reach the report
    through the manifest."""
    from experiments.engine.spec import load_experiment
    from experiments.engine.sweep import resolved_scenarios

    exp = load_experiment(REPO / "experiments" / "linkage_modes.yaml")
    manifest = {"scenarios": resolved_scenarios(exp, 4, 0)}
    names = [e.name for e in exp.scenarios]
    zh = scenario_labels(manifest, names, "zh")
    en = scenario_labels(manifest, names, "en")
    assert en["full_linkage_equal_delay"] == "Full linkage at equal intake delay"
    assert zh["full_linkage_equal_delay"] == "四社联动(受理时延相同)"
    assert zh["full_linkage"] == "四社联动" and "full_linkage" not in en.values()
