"""Attribution (`linkage attribute`): Shapley values of the levers between two scenarios.

A synthetic model function goes through exactly the code path of the model (the executors'
single call into the model is swapped for it, as `tests/test_sensitivity.py` does with the
Ishigami function), so the sweep engine, the store, the pairing of seeds and the estimators are
the ones a real attribution uses; a tiny real street then checks the command line and the report.
"""

from __future__ import annotations

import json
import math
import textwrap
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analyses.attribution import (
    INTERACTION_COLUMNS,
    VALUE_COLUMNS,
    chain,
    exact_shapley,
    load_pair,
    run_attribution,
    sample_orders,
)
from experiments.interfaces.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent
MODES = REPO / "scenarios" / "modes"
SWITCHES = ("platform", "credit", "surveys", "joint_meeting", "cultivation")

# v = A1 x1 + A2 x2 + C x1 x2 (+ noise): phi1 = A1 + C/2, phi2 = A2 + C/2, interaction C.
A1, A2, C = 2.0, 3.0, 1.5
NOISE = 0.05


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def switches(params) -> list[float]:
    return [float(getattr(params.policies, s).enabled) for s in SWITCHES]


def two_levers(params, seed):
    """A1 x1 + A2 x2 + C x1 x2 plus noise that depends on the seed and on the subset."""
    x = switches(params)
    rng = np.random.default_rng([seed, *(int(v) for v in x)])
    y = A1 * x[0] + A2 * x[1] + C * x[0] * x[1] + rng.normal(0.0, NOISE)
    return types.SimpleNamespace(
        summary={"y": y, "seed": float(seed)}, timeseries=None, invariant_violations=[]
    )


def five_levers(params, seed):
    """A non-additive function of five switches (pairs and a triple), with noise."""
    x = switches(params)
    rng = np.random.default_rng([seed, *(int(v) for v in x)])
    y = (
        1.0 * x[0] + 2.0 * x[1] - 0.5 * x[2] + 0.7 * x[3] + 0.1 * x[4]
        + 1.5 * x[0] * x[1] - 0.8 * x[2] * x[3] + 0.6 * x[0] * x[3] * x[4]
        + rng.normal(0.0, NOISE)
    )  # fmt: skip
    return types.SimpleNamespace(summary={"y": y}, timeseries=None, invariant_violations=[])


def pair_files(tmp: Path, n: int) -> tuple[Path, Path]:
    a = write(tmp / "a.yaml", "name: a\n")
    on = "\n".join(f"  {s}: {{enabled: true}}" for s in SWITCHES[:n])
    b = write(tmp / "b.yaml", f"name: b\nlevers: [{', '.join(SWITCHES[:n])}]\npolicies:\n{on}\n")
    return a, b


def test_two_levers_with_a_known_interaction_are_recovered(tmp_path: Path) -> None:
    a, b = pair_files(tmp_path, 2)
    res = run_attribution(
        a, b, tmp_path / "out", metrics=["y"], replications=10, model_fn=two_levers,
        workers=1, progress=False,
    )  # fmt: skip
    assert res.meta["method"] == "exact" and [lv.name for lv in res.levers] == [
        "platform",
        "credit",
    ]
    v = res.values.set_index("lever")
    for lever, true in (("platform", A1 + C / 2), ("credit", A2 + C / 2)):
        r = v.loc[lever]
        assert abs(r["phi"] - true) < 0.05, (lever, r["phi"])
        assert r["ci_low"] - 0.02 <= true <= r["ci_high"] + 0.02, (lever, r["ci_low"], r["ci_high"])
        assert r["excludes_zero"]
    inter = res.interactions.iloc[0]
    assert {inter["lever_i"], inter["lever_j"]} == {"platform", "credit"}
    assert (
        abs(inter["index"] - C) < 0.1
        and inter["index_ci_low"] - 0.05 <= C <= inter["index_ci_high"] + 0.05
    )
    assert inter["at_a"] == pytest.approx(inter["index"]) == pytest.approx(inter["at_b"])
    s = res.meta["metrics"]["y"]
    assert s["sum_phi"] == pytest.approx(s["total"], abs=1e-12)  # efficiency, exactly
    assert list(pd.read_csv(res.path / "attribution.csv").columns) == list(VALUE_COLUMNS)
    assert list(pd.read_csv(res.path / "interactions.csv").columns) == list(INTERACTION_COLUMNS)
    json.loads((res.path / "attribution.json").read_text(), parse_constant=pytest.fail)  # strict
    # paired: every subset ran replication r with the same seed (common random numbers)
    runs = pd.read_parquet(res.path / "runs.parquet")
    assert runs["scenario"].nunique() == 4
    seeds = runs.groupby("replication")["seed"].nunique()
    assert (seeds == 1).all() and runs.groupby("scenario")["seed"].nunique().eq(10).all()
    assert (runs["seed"] == runs["seed"].astype(float)).all()


def test_sampled_orders_add_up_and_equal_exact_for_two_levers(tmp_path: Path) -> None:
    a, b = pair_files(tmp_path, 2)
    common = dict(metrics=["y"], replications=4, model_fn=two_levers, workers=1, progress=False)
    ex = run_attribution(a, b, tmp_path / "exact", **common)
    sa = run_attribution(a, b, tmp_path / "sampled", exact_max=0, permutations=4, **common)
    assert sa.meta["method"] == "sampled"
    # with two levers the two orders (an antithetic pair) are all orders: the same values
    np.testing.assert_allclose(
        sa.values.set_index("lever")["phi"], ex.values.set_index("lever")["phi"], atol=1e-12
    )


def test_additivity_of_sampled_and_exact_values_with_five_levers(tmp_path: Path) -> None:
    a, b = pair_files(tmp_path, 5)
    common = dict(metrics=["y"], replications=3, model_fn=five_levers, progress=False)
    ex = run_attribution(a, b, tmp_path / "exact", workers=2, **common)
    sa = run_attribution(
        a, b, tmp_path / "sampled", exact_max=4, permutations=6, interaction_levers=3,
        workers=2, **common,
    )  # fmt: skip
    for res in (ex, sa):
        s = res.meta["metrics"]["y"]
        assert abs(s["sum_phi"] - s["total"]) < 1e-9, res.meta["method"]
    assert ex.meta["subsets"] == 32 and sa.meta["method"] == "sampled"
    assert sa.meta["subsets"] < 32
    assert np.isfinite(sa.values["perm_half_width"]).all()
    # every sampled order alone adds up to the total (per replication), not only the mean
    runs = pd.read_parquet(sa.path / "runs.parquet")
    pair = load_pair(a, b)
    y = {
        m: runs[runs["scenario"] == pair.name_of(m)].sort_values("replication")["y"].to_numpy()
        for m in range(32)
        if (runs["scenario"] == pair.name_of(m)).any()
    }
    for order in sample_orders(5, 6, sa.meta["settings"]["root_seed"]):
        masks = chain(order)
        steps = sum(y[masks[k + 1]] - y[masks[k]] for k in range(5))
        np.testing.assert_allclose(steps, y[31] - y[0], atol=1e-12)
    # interactions of the 3 largest levers, at A and at B, from a second sweep
    assert sorted(sa.meta["interaction_levers"]) == sorted(
        sa.values.sort_values("rank")["lever"].head(3)
    )
    assert len(sa.interactions) == 3 and sa.interactions["index"].isna().all()
    assert (sa.path / "interactions" / "runs.parquet").exists()
    # the exact Shapley values of the known function (its noise is the only error)
    phi = ex.values.set_index("lever")["phi"]
    x = {"platform": 1.0 + 1.5 / 2 + 0.6 / 3, "credit": 2.0 + 1.5 / 2, "surveys": -0.5 - 0.4}
    for lever, true in x.items():
        assert abs(phi[lever] - true) < 0.08, (lever, phi[lever], true)


def test_exact_shapley_of_a_table() -> None:
    # v(∅)=0, v({0})=1, v({1})=2, v({0,1})=6: phi0 = (1 + 4)/2, phi1 = (2 + 5)/2
    y = np.array([[0.0], [1.0], [2.0], [6.0]])
    np.testing.assert_allclose(exact_shapley(y), [[2.5, 3.5]])


def test_same_bytes_with_one_and_two_workers_and_resume_runs_nothing(tmp_path: Path) -> None:
    a, b = pair_files(tmp_path, 3)
    outs = []
    for w in (1, 2):
        res = run_attribution(
            a, b, tmp_path / f"w{w}", metrics=["y"], replications=3, model_fn=five_levers,
            workers=w, progress=False,
        )  # fmt: skip
        outs.append(res.path)
    for name in ("attribution.csv", "interactions.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    again = run_attribution(
        a, b, outs[0], metrics=["y"], replications=3, model_fn=five_levers, workers=1,
        progress=False, resume=True,
    )  # fmt: skip
    assert again.ran == 0 and again.runs == 8 * 3
    assert (outs[0] / "attribution.csv").read_bytes() == (outs[1] / "attribution.csv").read_bytes()


def test_levers_declared_or_derived_from_the_parameter_trees(tmp_path: Path) -> None:
    pair = load_pair(MODES / "siloed.yaml", MODES / "full_linkage.yaml")
    names = [lv.name for lv in pair.levers]
    assert "allocation" in names and len(names) == len(set(names))
    alloc = next(lv for lv in pair.levers if lv.name == "allocation")
    assert all(p.startswith("funding.allocation.") for p, _, _ in alloc.changes)
    assert all(lv.declared for lv in pair.levers)  # full_linkage declares every lever it sets
    b = write(
        tmp_path / "b.yaml",
        f"""
        extends: {MODES / "siloed.yaml"}
        name: other
        providers: {{sw_per_10k: 9.0}}
        funding: {{special_fund: 2500000, allocation: {{posts: 0.5, procurement: 0.4}}}}
        policies: {{platform: {{enabled: true, delay_hours: 2.0}}}}
        """,
    )
    pair = load_pair(MODES / "siloed.yaml", b)
    got = {lv.name: sorted(p for p, _, _ in lv.changes) for lv in pair.levers}
    assert got == {
        "platform": ["policies.platform.delay_hours", "policies.platform.enabled"],
        "allocation": ["funding.allocation.posts", "funding.allocation.procurement"],
        "providers": ["providers.sw_per_10k"],
        "funding": ["funding.special_fund"],
    }
    assert not any(lv.declared for lv in pair.levers)


def test_command_line_on_a_tiny_street_and_the_report_opens_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = write(
        tmp_path / "b.yaml",
        f"""
        extends: {MODES / "siloed.yaml"}
        name: two_more
        levers: [platform, surveys]
        policies: {{platform: {{enabled: true}}, surveys: {{enabled: true}}}}
        """,
    )
    out = tmp_path / "attr"
    code = cli_main(
        [
            "attribute", str(MODES / "siloed.yaml"), str(b), "--out", str(out),
            "--set", "street.n_residents=600", "--set", "street.n_communities=1",
            "--weeks", "10", "--warmup-weeks", "2", "--replications", "2",
            "--metric", "need_satisfaction_rate", "--metric", "mean_wait_hours",
            "--workers", "1", "--no-progress",
        ]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "2 levers differ" in text and "platform" in text and "surveys" in text
    assert "sum of the values" in text and "= B - A" in text
    for f in ("attribution.csv", "interactions.csv", "attribution.json", "attribution.png"):
        assert (out / f).is_file(), f
    meta = json.loads((out / "attribution.json").read_text())
    assert meta["street"]["n_residents"] == 600 and meta["runs"] == 8
    assert cli_main(["report", str(out)]) == 0
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    first, findings = page.index("Which lever made the difference"), page.index("Key findings")
    assert first < findings
    # the report of an attribution shows A and B, not every subset
    assert "mix_" not in page
    # bad input: one line, exit 2
    capsys.readouterr()
    assert cli_main(["attribute", str(b), str(b), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nothing to attribute" in err
    assert cli_main(["attribute", str(MODES / "siloed.yaml"), str(b), "--metric", "nope"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    assert not math.isnan(meta["metrics"]["need_satisfaction_rate"]["total"])
