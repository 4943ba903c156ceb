"""What a new user meets first: defaults, short runs, progress in logs, missing extras, labels,
help texts, aligned Chinese tables and percentages in `compare`."""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.engine.errors import ScenarioError
from experiments.engine.scenarios import load_scenario
from experiments.interfaces.cli import build_parser
from experiments.interfaces.cli import main as cli_main
from model import Params

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--set", "street.n_residents=3000", "--set", "street.n_communities=2"]


def test_params_defaults_are_the_typical_street_of_base_yaml():
    assert Params() == load_scenario(REPO / "scenarios/base.yaml").params


# ---------------------------------------------------------------------- linkage run
def test_a_short_run_shortens_the_warm_up_with_a_note(tmp_path, capsys):
    code = cli_main(
        ["run", str(REPO / "scenarios/base.yaml"), "--weeks", "10", "--out", str(tmp_path), *SMALL]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "warm-up shortened to 2 weeks" in err and "--warmup-weeks" in err
    assert (tmp_path / "summary.json").exists()


def test_run_warmup_weeks_is_used_and_checked(tmp_path, capsys):
    out = tmp_path / "a"
    args = ["run", str(REPO / "scenarios/base.yaml"), "--weeks", "8", "--out", str(out), *SMALL]
    assert cli_main([*args, "--warmup-weeks", "3"]) == 0
    assert "run.warmup_weeks=3" in (out / "manifest.json").read_text()
    assert "shortened" not in capsys.readouterr().err
    assert cli_main([*args, "--warmup-weeks", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --warmup-weeks: must be less than --weeks (8 >= 8)"


# ---------------------------------------------------------------------- progress in a log
def test_sweep_without_a_terminal_prints_progress_lines(tmp_path, monkeypatch):
    from experiments.engine.sweep import run_sweep

    exp = tmp_path / "tiny.yaml"
    exp.write_text(
        textwrap.dedent(
            f"""
            name: tiny
            scenarios: [{REPO / "scenarios/base.yaml"}]
            replications: 10
            weeks: 3
            warmup_weeks: 1
            constants: {{street.n_residents: 1000, street.n_communities: 1}}
            """
        )
    )
    log = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stderr", log)
    res = run_sweep(exp, tmp_path / "out", workers=1)
    assert res.ok == 10
    lines = log.getvalue().splitlines()
    assert lines[0] == "tiny: 10 runs to do"
    assert lines[-1].startswith("tiny: 10/10 runs (100%)")
    assert 3 <= len(lines) <= 12  # one line per 10% (or per minute), not one per run


# ---------------------------------------------------------------------- dashboard extra
def test_dashboard_without_its_extra_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a)
    )
    assert cli_main(["dashboard"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install" in err[0] and "[dashboard]" in err[0]


# ---------------------------------------------------------------------- validation queues
def test_a_queue_with_more_servers_than_the_labour_pool_is_an_error():
    from experiments.analyses.validation import queue_params

    assert queue_params("mmc.yaml", c=10, rho=0.5, weeks=2).providers.embedded_core_sw == 10
    with pytest.raises(ScenarioError, match="asks for 11 servers but the labour pool holds 10"):
        queue_params("mmc.yaml", c=11, rho=0.5, weeks=2)


# ---------------------------------------------------------------------- help and labels
def test_report_help_prints_a_single_percent_sign():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = sub.choices["report"].format_help()
    assert "95%" in text and "95%%" not in text


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    from experiments.engine.sweep import run_sweep

    folder = tmp_path_factory.mktemp("labels")
    exp = folder / "tiny_modes.yaml"
    exp.write_text(
        textwrap.dedent(
            f"""
            name: tiny_modes
            label_en: Siloed against full linkage
            label_zh: 各行其是与四社联动
            scenarios:
              siloed: {REPO / "scenarios/modes/siloed.yaml"}
              full_linkage: {REPO / "scenarios/modes/full_linkage.yaml"}
            replications: 3
            weeks: 12
            warmup_weeks: 2
            constants: {{street.n_residents: 3000, street.n_communities: 2}}
            """
        )
    )
    return run_sweep(exp, folder / "out", workers=1, progress=False).path


def test_report_titles_show_the_label_not_the_id(tiny_results, tmp_path, capsys):
    from experiments.interfaces.report.build import build_report

    en = build_report(tiny_results, out=tmp_path / "en").html.read_text(encoding="utf-8")
    assert "<h1>Decision report: Siloed against full linkage</h1>" in en
    assert "tiny_modes</h1>" not in en
    from experiments.interfaces.report.fonts import find_cjk_font

    if find_cjk_font() is not None:
        zh = build_report(tiny_results, lang="zh", out=tmp_path / "zh").html
        assert "<h1>决策参考报告: 各行其是与四社联动</h1>" in zh.read_text(encoding="utf-8")


def test_chinese_headline_table_is_aligned_by_display_width(tiny_results):
    from experiments.interfaces.commands.report import _width, headline_text
    from experiments.interfaces.report.build import load_report_data
    from experiments.interfaces.report.tables import headline_table

    data = load_report_data(tiny_results, lang="zh")
    text = headline_text(data, headline_table(data))
    rows = [r for r in text.splitlines()[:-1] if not r.startswith("─")]
    assert any("四社联动" in r for r in rows)
    # every row ends its numeric columns at the same display column as the header
    assert len({_width(r) for r in rows}) == 1, rows
    assert "−" not in text  # U+2212 is two columns wide in some CJK terminals


def test_compare_prints_shares_as_percentages(tiny_results, capsys):
    assert cli_main(["compare", str(tiny_results)]) == 0
    out = capsys.readouterr().out
    block = out.split("need_satisfaction_rate", 1)[1].split("\n\n", 1)[0]
    assert "%" in block and " pts" in block
    assert "0." not in block.split("─")[-1].split("pts")[0].split("%")[0]


def test_the_chinese_explain_tab_has_no_english_paragraphs():
    from experiments.interfaces.dashboard.state import modes

    for info in modes().values():
        assert info.description_zh, info.name
        assert not any("a" <= c.lower() <= "z" for c in info.description_zh), info.name
