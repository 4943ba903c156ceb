"""Budget allocation search: candidates, successive halving on common random numbers, refinement,
confirmation, files; a synthetic objective with a known best split goes through the same
executors and results store as the model (the executors' call into the model is swapped)."""

from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analyses.optimize import (
    Split,
    initial_candidates,
    load_problem,
    neighbours,
    round_units,
    run_optimize,
)
from experiments.interfaces.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent

BEST = {
    "procurement": 0.4,
    "posts": 0.2,
    "venture_incubation": 0.1,
    "timebank": 0.15,
    "block_grant": 0.15,
}
"""The known best split of the synthetic problem (platform on)."""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def synthetic(params, seed):
    """0.8 - 2 |shares - BEST|^2 + 0.02 (platform on), plus noise.

    The noise has a large part common to every split run with the same seed (sd 0.05, ten times
    the gap between the best split and its neighbours: independent seeds could not tell them
    apart) and a small part of its own (sd 0.005): common random numbers make it solvable.
    """
    a = params.funding.allocation
    x = {
        "procurement": a.procurement,
        "posts": a.posts,
        "venture_incubation": a.venture + a.incubation,
        "timebank": a.timebank,
        "block_grant": a.block_grant,
    }
    on = bool(params.policies.platform.enabled)
    f = 0.8 - 2 * sum((x[k] - BEST[k]) ** 2 for k in BEST) + 0.02 * on
    common = np.random.default_rng(seed).normal(0, 0.05)
    own = np.random.default_rng([seed, *(round(v * 1000) for v in x.values()), on]).normal(0, 0.005)
    summary = {
        "need_satisfaction_rate": f + common + own,
        "cost_per_need_met": 100.0 - 50 * f,
        "satisfaction_min_group": f - 0.1,
        "gov_spending_total": params.funding.special_fund,
    }
    return types.SimpleNamespace(summary=summary, timeseries=None, invariant_violations=[])


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    write(tmp_path / "street.yaml", "name: street\npolicies: {purchase: {enabled: true}}\n")
    return write(
        tmp_path / "opt.yaml",
        """
        name: synth
        scenario: street.yaml
        budget: 1000000
        root_seed: 3
        search:
          candidates: 16
          min_replications: 1
          refine_moves: [0.1, 0.05]
          refine_iterations: 3
          confirm_replications: 6
        """,
    )


def test_finds_the_known_best_split_with_noise(problem_file: Path, tmp_path: Path) -> None:
    res = run_optimize(
        problem_file, tmp_path / "out", workers=2, model_fn=synthetic, progress=False
    )
    print(f"\n{res.runs} runs, best {res.best['label']}, {res.elapsed_s:.1f} s")
    for k, v in BEST.items():
        assert res.best["shares"][k] == pytest.approx(v), k
    assert res.best["platform"] is True
    lo, hi = res.best["ci"]
    assert lo < res.best["mean"] < hi
    final = pd.read_csv(res.path / "optimize_final.csv")
    assert final["rank"].tolist() == list(range(1, len(final) + 1)) and len(final) >= 3
    assert final["diff_vs_best"].iloc[1:].le(0).all()
    explored = pd.read_csv(res.path / "optimize.csv")
    assert len(explored) > 40 and explored["finalist"].any()
    assert (res.path / "optimize.png").stat().st_size > 10_000
    meta = json.loads((res.path / "optimize.json").read_text())
    assert meta["status"] == "completed" and meta["best"]["label"] == res.best["label"]
    # every split of the confirmation round ran the same seeds (common random numbers)
    confirm = pd.read_parquet(res.path / "rounds" / "confirm" / "runs.parquet")
    seeds = confirm.groupby("point")["seed"].apply(tuple)
    assert seeds.nunique() == 1 and len(seeds.iloc[0]) == 6
    # the money follows the split: the synthetic 'model' saw the budget as the special fund
    assert (confirm["funding.allocation.procurement"] >= 0).all()
    # resume re-runs nothing and finds the same
    again = run_optimize(
        problem_file, tmp_path / "out", workers=1, model_fn=synthetic, progress=False, resume=True
    )
    assert again.best == res.best
    with pytest.raises(Exception, match="already holds results"):
        run_optimize(problem_file, tmp_path / "out", model_fn=synthetic, progress=False)


def test_candidates_are_valid_splits_on_the_grid(problem_file: Path) -> None:
    pb = load_problem(problem_file)
    cands = initial_candidates(pb, 16, seed=1)
    assert len(cands) == 16 == len(set(cands))
    assert {c.platform for c in cands} == {True, False}
    for c in cands:
        assert sum(c.units) == pb.grid == 20 and min(c.units) >= 0
        a = pb.assignments(c)
        alloc = sum(v for k, v in a.items() if k.startswith("funding.allocation."))
        assert alloc == pytest.approx(1.0)
        if a["funding.allocation.timebank"] > 0:
            assert a["policies.time_bank.enabled"] is True
    s = Split((8, 4, 2, 3, 3), True)
    nb = neighbours(pb, s, 0.1)
    assert nb[0] == s and Split(s.units, False) in nb
    assert len(nb) == 1 + 5 * 4 + 1  # every move between two of the five shares, and the toggle
    assert round_units(np.array([0.333, 0.333, 0.334]), 20) == (7, 6, 7)


def test_budget_and_objective_from_the_command_line(tmp_path: Path, capsys) -> None:
    """The real model on a tiny street, through `linkage optimize`."""
    write(
        tmp_path / "opt.yaml",
        f"""
        name: tiny_budget
        scenario: {REPO / "scenarios" / "modes" / "full_linkage.yaml"}
        channels: [posts, timebank, platform]
        weeks: 12
        warmup_weeks: 4
        constants: {{street.n_residents: 1000, street.n_communities: 2}}
        search: {{candidates: 4, min_replications: 1, eta: 2, finalists: 2, step: 0.25, refine_moves: [], confirm_replications: 2}}
        """,
    )
    out = tmp_path / "out"
    code = cli_main(
        [
            "optimize",
            str(tmp_path / "opt.yaml"),
            "--budget",
            "100000",
            "--objective",
            "worst_group",
            "--out",
            str(out),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "best split for worst_group (satisfaction_min_group) at 100,000 yuan/year" in text
    final = pd.read_csv(out / "optimize_final.csv")
    assert final["spending_total_per_year"].gt(0).all() and final["replications"].eq(2).all()
    rnd = (out / "rounds" / "confirm.yaml").read_text()
    assert "funding.special_fund: 100000.0" in rnd and "funding.lottery_fund: 0.0" in rnd
    runs = pd.read_parquet(out / "rounds" / "confirm" / "runs.parquet")
    assert (runs["status"] == "ok").all() and (runs["violations"].isna()).all()
    assert cli_main(["optimize", str(tmp_path / "opt.yaml"), "--out", str(tmp_path / "x")]) == 2
    assert "budget" in capsys.readouterr().err
