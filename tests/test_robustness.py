"""Robustness studies: strategies across plausible futures, paired, and where rankings flip.

A synthetic model with a known flip (strategy A better iff u1 > 0.5) goes through exactly the
model's code path (the executors' single call into the model is swapped for it, as
tests/test_sensitivity.py does for the Ishigami function), and scenario discovery must recover
the flip's condition. A tiny real street then checks that every strategy meets the same futures
with the same seeds, that 1 worker, 2 workers and Dask give the same bytes, that a study killed
with SIGKILL resumes to the same bytes, and that the report has its "How sure is this?" section
in both languages.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analyses import discovery
from experiments.analyses import robustness as rob
from experiments.interfaces.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent
U1 = "street.initial_trust"  # the synthetic model's u1 (any tree parameter that takes [0, 1])
NEEDS_EMA = pytest.mark.skipif(
    not discovery.available(), reason="EMA Workbench missing: pip install '.[robustness]'"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def synthetic(params, seed):
    """Strategy A (the platform on) scores 0.5 + (u1 - 0.5), strategy B 0.5 - (u1 - 0.5), plus
    a little noise from the run's seed: A is better exactly when u1 > 0.5."""
    u1 = params.street.initial_trust
    sign = 1.0 if params.policies.platform.enabled else -1.0
    noise = np.random.default_rng(seed).normal(0.0, 0.01)
    y = 0.5 + sign * (u1 - 0.5) + noise
    return types.SimpleNamespace(summary={"y": y}, timeseries=None, invariant_violations=[])


@pytest.fixture(scope="module")
def synthetic_study(tmp_path_factory: pytest.TempPathFactory) -> rob.RobustnessResult:
    d = tmp_path_factory.mktemp("synthetic")
    write(
        d / "a.yaml",
        "name: a\nlabel_en: Strategy A\nlabel_zh: 策略A\npolicies: {platform: {enabled: true}}\n",
    )
    write(d / "b.yaml", "name: b\nlabel_en: Strategy B\nlabel_zh: 策略B\n")
    write(
        d / "study.yaml",
        f"""
        name: synthetic
        strategies: [a.yaml, b.yaml]
        uncertainties:
          {U1}: {{range: [0, 1]}}
          service.below_level_quality: {{range: [0, 1]}}
          volunteers.active_share: {{range: [0, 1]}}
        futures: 200
        outcomes: {{y: higher}}
        satisficing: {{y: {{min: 0.5}}}}
        """,
    )
    study = rob.load_robustness(d / "study.yaml", check_metrics=False)
    return rob.run_robustness(study, d / "out", workers=2, model_fn=synthetic, progress=False)


@NEEDS_EMA
def test_synthetic_flip_is_recovered_by_scenario_discovery(synthetic_study) -> None:
    flips = synthetic_study.analysis.flips
    assert len(flips) == 1
    f = flips.iloc[0]
    print("\n" + f["text_en"] + "\n" + f["text_zh"])
    assert f["status"] == "box" and 80 <= f["flips"] <= 120
    cond = json.loads(f["conditions"])
    assert [c["parameter"] for c in cond] == [U1], "the box restricts u1 and nothing else"
    edge = cond[0]["high"] if f["challenger"] == "b" else cond[0]["low"]
    limits = (cond[0]["low"], cond[0]["high"])
    assert sum(v is None for v in limits) == 1, "one side of u1 only"
    assert abs(edge - 0.5) <= 0.05, edge
    assert f["coverage"] >= 0.9 and f["density"] >= 0.9
    assert "initial trust" in f["text_en"] and "信任度" in f["text_zh"]
    assert "coverage" in f["text_en"] and "覆盖率" in f["text_zh"]


def test_win_probabilities_regret_and_satisficing(synthetic_study) -> None:
    a = synthetic_study.analysis
    w = a.wins.set_index(["strategy", "other"])
    for s in ("a", "b"):  # a strategy against itself: a tie, 0.5
        assert w.loc[(s, s), "p_win"] == 0.5 and w.loc[(s, s), "itself"]
        assert w.loc[(s, s), "ties"] == w.loc[(s, s), "futures"] == 200
    assert w.loc[("a", "b"), "p_win"] + w.loc[("b", "a"), "p_win"] == pytest.approx(1.0)
    assert 0.4 <= w.loc[("a", "b"), "p_win"] <= 0.6  # u1 > 0.5 in half the futures
    reg = a.regret.set_index("strategy")
    # regret: |2 (u1 - 0.5)| where the other is better, else 0; mean 0.25 over a uniform u1
    for s in ("a", "b"):
        assert reg.loc[s, "regret_mean"] == pytest.approx(0.25, abs=0.03)
        assert reg.loc[s, "regret_p90"] == pytest.approx(0.8, abs=0.05)
        assert reg.loc[s, "best_share"] == pytest.approx(0.5, abs=0.1)
    sat = a.satisficing.set_index(["strategy", "criterion"])["share"]
    assert sat[("a", "all")] == sat[("a", "y >= 0.5")] == pytest.approx(0.5, abs=0.1)
    files = {p.name for p in synthetic_study.path.iterdir()}
    assert {rob.META, *rob.FILES.values()} <= files
    meta = json.loads((synthetic_study.path / rob.META).read_text(encoding="utf-8"))
    assert meta["futures"] == 200 and meta["primary"] == "y"


def test_paired_futures_are_the_same_values_and_seeds(synthetic_study) -> None:
    runs = pd.read_parquet(synthetic_study.path / "runs.parquet")
    params = synthetic_study.study.uncertainties
    by = {s: g.sort_values("point").reset_index(drop=True) for s, g in runs.groupby("scenario")}
    a, b = by["a"], by["b"]
    assert len(a) == len(b) == 200
    pd.testing.assert_frame_equal(a[["point", "seed", *params]], b[["point", "seed", *params]])
    assert a["seed"].nunique() == 200, "each future draws its own seed"
    u = a[U1].to_numpy()
    assert np.histogram(u, bins=10, range=(0, 1))[0].tolist() == [20] * 10  # Latin hypercube
    again = rob.load_robustness(synthetic_study.study.path, check_metrics=False)
    assert again.exp.points == synthetic_study.study.exp.points  # a pure function of root_seed


def test_without_ema_workbench_discovery_says_how_to_get_it(synthetic_study, monkeypatch) -> None:
    monkeypatch.setattr(discovery, "prim_module", lambda: None)
    runs = pd.read_parquet(synthetic_study.path / "runs.parquet")
    a = rob.analyze(synthetic_study.study, runs)
    f = a.flips.iloc[0]
    assert f["status"] == "needs_extra" and "pip install" in f["text_en"]
    assert a.wins.equals(synthetic_study.analysis.wins)  # the rest does not need it


# --------------------------------------------------------------------------- a tiny real street

TINY = """
name: tiny_robust
strategies:
  siloed: {scenarios}/modes/siloed.yaml
  full_linkage: {scenarios}/modes/full_linkage.yaml
uncertainties:
  - policies.platform.delay_hours
  - volunteers.retention_annual
  - providers.embedded_orgs
futures: 8
root_seed: 7
weeks: 14
warmup_weeks: 4
satisficing:
  need_satisfaction_rate: {{min: 0.6}}
  gov_spending_annual: {{max: budget}}
constants:
  street.n_residents: 1500
  street.n_communities: 2
  funding.special_fund: 60000
  funding.lottery_fund: 18000
"""
OUTPUTS = (rob.META, *rob.FILES.values())


def robustness_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.interfaces.cli", "robustness", *args]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tiny")
    write(d / "study.yaml", TINY.format(scenarios=REPO / "scenarios"))
    assert (
        cli_main(
            ["robustness", str(d / "study.yaml"), "--out", str(d / "w1"), "--workers", "1"]
            + ["--no-progress"]
        )
        == 0
    )
    return d


def assert_same_bytes(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra = pd.read_parquet(a / "runs.parquet").drop(columns="wall_time_s")
    rb = pd.read_parquet(b / "runs.parquet").drop(columns="wall_time_s")
    pd.testing.assert_frame_equal(ra, rb)


def test_tiny_street_runs_every_strategy_in_the_same_futures(tiny: Path) -> None:
    out = tiny / "w1"
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * 8 and (runs["status"] == "ok").all()
    assert set(runs["providers.embedded_orgs"]) <= set(range(1, 11))  # whole numbers
    assert runs["providers.embedded_orgs"].dtype.kind == "i"
    cols = ["point", "seed", "policies.platform.delay_hours", "volunteers.retention_annual"]
    s, f = (
        runs[runs["scenario"] == k].sort_values("point")[cols] for k in ("siloed", "full_linkage")
    )
    pd.testing.assert_frame_equal(s.reset_index(drop=True), f.reset_index(drop=True))
    sat = pd.read_csv(out / rob.FILES["satisficing"])
    budget = sat[sat["criterion"] == "gov_spending_annual <= budget"]
    assert (budget["share"] == 1.0).all()  # the model never spends beyond its budget
    assert (out / "robustness.png").exists()


def test_same_bytes_with_two_workers_and_dask(tiny: Path) -> None:
    for name, extra in (
        ("w2", ["--workers", "2"]),
        ("dask", ["--executor", "dask", "--workers", "2"]),
    ):
        r = subprocess.run(
            robustness_cmd(
                str(tiny / "study.yaml"), "--out", str(tiny / name), *extra, "--no-progress"
            ),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        assert_same_bytes(tiny / "w1", tiny / name)


def test_sigkill_then_resume_gives_the_same_bytes(tiny: Path) -> None:
    out = tiny / "killed"
    proc = subprocess.Popen(
        robustness_cmd(
            str(tiny / "study.yaml"), "--out", str(out), "--workers", "2", "--no-progress"
        ),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    journal = out / "journal.jsonl"
    try:
        end = time.monotonic() + 120
        while not (journal.exists() and journal.read_bytes().count(b"\n") >= 3):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < end, "no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    done = journal.read_bytes().count(b"\n")
    assert 3 <= done < 16 and not (out / rob.META).exists()
    r = subprocess.run(
        robustness_cmd(str(tiny / "study.yaml"), "--out", str(out), "--resume", "--no-progress"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert_same_bytes(tiny / "w1", out)


# --------------------------------------------------------------------------- the report


@NEEDS_EMA
def test_report_says_how_sure_in_both_languages(synthetic_study, tmp_path: Path) -> None:
    from experiments.engine.sweep import run_sweep
    from experiments.interfaces.report.build import build_report

    # a robustness folder gets a report of its own
    for lang, title, box in (
        ("en", "How sure is this?", "coverage"),
        ("zh", "结论有多可靠?", "覆盖率"),
    ):
        rep = build_report(synthetic_study.path, lang=lang, out=tmp_path / f"own_{lang}")
        page = rep.html.read_text(encoding="utf-8")
        assert title in page and box in page and "50%" in page
        assert (rep.folder / "robustness.png").stat().st_size > 10_000
    # a sweep's folder that holds one gets the section in its report
    write(
        tmp_path / "base.yaml",
        "name: base\nrun: {weeks: 6, warmup_weeks: 2}\nstreet: {n_residents: 400, n_communities: 1}\n",
    )
    write(tmp_path / "exp.yaml", "name: small\nscenarios: [base.yaml]\nreplications: 2\n")
    sweep = run_sweep(tmp_path / "exp.yaml", tmp_path / "sweep", workers=1, progress=False)
    shutil.copytree(synthetic_study.path, sweep.path / "robustness")
    for lang, title in (("en", "How sure is this?"), ("zh", "结论有多可靠?")):
        rep = build_report(sweep.path, lang=lang, out=tmp_path / f"sweep_{lang}")
        page = rep.html.read_text(encoding="utf-8")
        assert title in page and page.count("<h2>") > 5
        f = synthetic_study.analysis.flips.iloc[0]
        assert f["text_zh" if lang == "zh" else "text_en"] in page.replace("&#x27;", "'")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            "uncertainties: [volunteers.retention_anual]",
            "did you mean 'volunteers.retention_annual'",
        ),
        ("uncertainties: [street.n_residents]", "no plausible range"),
        ("uncertainties: some", "all-assumptions"),
        ("outcomes: [needs_arisen]", "say whether more or less"),
        ("futures: 1", "futures"),
        ("strategies: [../a.yaml]", "at least two"),
    ],
)
def test_bad_study_is_one_line(change: str, where: str, tmp_path: Path, capsys) -> None:
    write(tmp_path / "a.yaml", "name: a\n")
    write(tmp_path / "b.yaml", "name: b\n")
    base = (
        "strategies: [a.yaml, b.yaml]\nuncertainties: [volunteers.retention_annual]\nfutures: 4\n"
    )
    key = change.split(":")[0]
    lines = [x for x in base.splitlines() if not x.startswith(key + ":")]
    study = write(
        tmp_path / "sub" / "s.yaml",
        "\n".join([*lines, change]).replace("a.yaml, b", "../a.yaml, ../b") + "\n",
    )
    assert cli_main(["robustness", str(study), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and where in err and str(study) in err, err
    assert not (tmp_path / "o").exists()


@NEEDS_EMA
def test_report_summary_is_written_from_the_tables(synthetic_study) -> None:
    from experiments.interfaces.report.robustness import pct, summary

    meta, tables = rob.read_study(synthetic_study.path)
    reg = tables["regret"].sort_values(["regret_mean", "regret_p90"], kind="stable").iloc[0]
    w = tables["wins"]
    least = w[(w["strategy"] == reg["strategy"]) & ~w["itself"].astype(bool)]["p_win"].min()
    label = {"a": "Strategy A", "b": "Strategy B"}[reg["strategy"]]
    en = summary(meta, tables, "en")
    assert en.startswith(f"On y, {label} has the least mean regret"), en
    assert f"best strategy in {pct(reg['best_share'])} of the futures" in en
    assert f"at least {pct(least)}" in en
    assert "ranking of 1 of the 1 pairs flips in some futures; PRIM finds conditions for 1" in en
    zh = summary(meta, tables, "zh")
    assert {"a": "策略A", "b": "策略B"}[reg["strategy"]] in zh and "PRIM为其中1对" in zh
    # without scenario discovery the summary does not speak of PRIM
    tables["flips"] = tables["flips"].assign(status="needs_extra")
    assert "PRIM" not in summary(meta, tables, "en") and "PRIM" not in summary(meta, tables, "zh")
