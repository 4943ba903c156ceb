"""Global sensitivity analysis: SALib design -> executors -> results store -> SALib analysis.

The Ishigami function goes through exactly the code path of the model (the executors' single
call into the model, `experiments.engine.executors.simulate`, is swapped for it), so the indices it
gets are those the model would get; a tiny real street then checks that a lever the model never
reads gets a total index of zero, and the command line writes the CSV and charts.
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

from experiments.analyses.sensitivity import (
    COLUMNS,
    make_design,
    run_sensitivity,
    unit_to_value,
)
from experiments.engine.spec import load_experiment
from experiments.interfaces.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: analytic Sobol' indices (Ishigami & Homma 1990;
# Sobol' & Levitan 1999).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
# Three parameters of the real parameter tree that accept [0, 1]; the test's model function maps
# each linearly onto [-pi, pi] (Sobol' indices do not change under such a map).
ISHIGAMI_INPUTS = ("street.initial_trust", "service.below_level_quality", "volunteers.active_share")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def ishigami(params, seed):
    """The Ishigami function of three parameters, as a stand-in for `model.run_model`."""
    u = (
        params.street.initial_trust,
        params.service.below_level_quality,
        params.volunteers.active_share,
    )
    x1, x2, x3 = (-math.pi + 2 * math.pi * v for v in u)
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    return types.SimpleNamespace(summary={"y": y}, timeseries=None, invariant_violations=[])


def test_ishigami_indices_through_the_sweep_machinery(tmp_path: Path) -> None:
    write(tmp_path / "plain.yaml", "name: plain\n")
    ranges = "\n".join(f"  {p}: {{range: [0, 1]}}" for p in ISHIGAMI_INPUTS)
    write(
        tmp_path / "ishigami.yaml",
        f"""
name: ishigami
scenarios: [plain.yaml]
uncertainties:
{ranges}
design: sobol
samples: 1024
replications: 1
timeseries: false
""",
    )
    res = run_sensitivity(
        tmp_path / "ishigami.yaml",
        tmp_path / "out",
        outcomes=["y"],
        workers=2,
        model_fn=ishigami,
        progress=False,
    )
    assert res.sweep.total == 1024 * (3 + 2) and res.sweep.errors == 0
    t = res.table.set_index("parameter").loc[list(ISHIGAMI_INPUTS)]
    print("\n" + t[["S1", "S1_conf", "ST", "ST_conf"]].round(3).to_string())
    # Tolerance 0.05: with N = 1024 (5,120 runs) the Saltelli/Jansen estimators' errors on
    # Ishigami have a 95th percentile of at most 0.022 over 200 sampler seeds (measured with
    # SALib 1.6), so 0.05 is more than twice that while still far below the gaps between the
    # indices (0.13 and more), and the bootstrap intervals must cover the true values.
    for est, conf, true in (("S1", "S1_conf", ISHIGAMI_S1), ("ST", "ST_conf", ISHIGAMI_ST)):
        np.testing.assert_allclose(t[est], true, atol=0.05)
        assert np.all(np.abs(t[est].to_numpy() - np.array(true)) <= t[conf].to_numpy() + 0.01), est
    assert list(t["rank"]) == [1, 2, 3]
    files = sorted(p.name for p in res.path.iterdir())
    assert {"sensitivity.csv", "sensitivity.json", "sensitivity_y.png", "runs.parquet"} <= set(
        files
    )
    csv = pd.read_csv(res.path / "sensitivity.csv")
    assert list(csv.columns) == list(COLUMNS)


def test_design_is_a_pure_function_of_the_seed_and_maps_like_the_spec(tmp_path: Path) -> None:
    write(tmp_path / "plain.yaml", "name: plain\n")
    write(
        tmp_path / "exp.yaml",
        """
        name: d
        scenarios: [plain.yaml]
        levers:
          providers.embedded_orgs: {range: [1, 4], integer: true}
          policies.time_bank.enabled: {values: [false, true]}
        uncertainties:
          volunteers.retention_annual: {range: [0.5, 0.8]}
        design: lhs
        samples: 6
        """,
    )
    exp = load_experiment(tmp_path / "exp.yaml")
    a, b = make_design(exp, "sobol", 6), make_design(exp, "sobol", 6)
    assert a.samples == 8 and len(a.points) == 8 * (3 + 2)  # N rounded up to a power of 2
    assert a.points == b.points
    m = make_design(exp, "morris", 4)
    assert len(m.points) == 4 * (3 + 1)
    orgs, tb, ret = exp.parameters[0], exp.parameters[1], exp.parameters[2]
    assert [unit_to_value(orgs, u) for u in (0, 0.2499, 0.25, 0.99, 1.0)] == [1, 1, 2, 4, 4]
    assert [unit_to_value(tb, u) for u in (0, 0.49, 0.5, 1.0)] == [False, False, True, True]
    assert unit_to_value(ret, 0.5) == pytest.approx(0.65)
    for row in a.points:
        assert row["providers.embedded_orgs"] in (1, 2, 3, 4)
        assert 0.5 <= row["volunteers.retention_annual"] <= 0.8


TINY_MODEL = """
name: tiny_sa
scenarios: [../scenarios/base.yaml]
uncertainties:
  volunteers.registered_share: {range: [0.05, 0.25]}
  providers.sw_per_10k: {range: [2, 20]}
  policies.time_bank.cap: {range: [100, 3000]}
design: sobol
samples: 8
replications: 2
weeks: 16
warmup_weeks: 4
timeseries: false
metrics: [need_satisfaction_rate, cost_per_need_met, gov_spending_total, satisfaction_min_group]
constants:
  street.n_residents: 1500
  street.n_communities: 2
"""


def test_switched_off_lever_gets_zero_total_index_on_the_model(tmp_path: Path) -> None:
    """The time bank is off in base.yaml, so its cap is never read: with common random numbers
    the runs are bit-identical whatever the cap, and its total index is exactly zero."""
    exp_dir = tmp_path / "experiments"
    write(exp_dir / "tiny.yaml", TINY_MODEL)
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    out = tmp_path / "out"
    code = cli_main(
        [
            "sensitivity",
            str(exp_dir / "tiny.yaml"),
            "--out",
            str(out),
            "--workers",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    t = pd.read_csv(out / "sensitivity.csv")
    assert len(t) == 3 * 4 and set(t["method"]) == {"sobol"}
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 * (3 + 2) * 2 and (runs["status"] == "ok").all()
    for outcome, g in t.groupby("outcome"):
        g = g.set_index("parameter")
        cap = g.loc["policies.time_bank.cap"]
        assert abs(cap["ST"]) < 1e-9 and abs(cap["S1"]) < 0.05, outcome
        assert cap["rank"] == 3
        if outcome == "need_satisfaction_rate":
            assert g.drop("policies.time_bank.cap")["ST"].max() > 0.1
        assert (out / g["figure"].iloc[0]).exists()
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["status"] == "completed" and meta["n_points"] == 40 and meta["replications"] == 2
    # resume: nothing left to run, same table; a different method is refused
    again = run_sensitivity(exp_dir / "tiny.yaml", out, resume=True, progress=False)
    assert again.sweep.ran == 0
    np.testing.assert_array_equal(again.table["ST"], t["ST"])
    assert (
        cli_main(
            [
                "sensitivity",
                str(exp_dir / "tiny.yaml"),
                "--out",
                str(out),
                "--resume",
                "--method",
                "morris",
            ]
        )
        == 2
    )


def test_morris_screening_on_the_model(tmp_path: Path) -> None:
    exp_dir = tmp_path / "experiments"
    write(exp_dir / "tiny.yaml", TINY_MODEL)
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    res = run_sensitivity(
        exp_dir / "tiny.yaml",
        tmp_path / "m",
        method="morris",
        samples=4,
        replications=1,
        outcomes=["need_satisfaction_rate"],
        workers=1,
        progress=False,
    )
    t = res.table.set_index("parameter")
    assert len(res.design.points) == 4 * 4
    assert t.loc["policies.time_bank.cap", "mu_star"] == 0
    assert t.loc["policies.time_bank.cap", "rank"] == 3
    assert t["mu_star"].max() > 0 and np.isnan(t["ST"]).all()
    assert (res.path / "sensitivity_need_satisfaction_rate.png").exists()


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "plain.yaml", "name: plain\n")
    write(
        tmp_path / "one.yaml",
        """
        name: one
        scenarios: [plain.yaml]
        uncertainties:
          volunteers.retention_annual: {range: [0.5, 0.8]}
        design: lhs
        samples: 4
        """,
    )
    assert cli_main(["sensitivity", str(tmp_path / "one.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least two" in err
    assert cli_main(["sensitivity", str(tmp_path / "one.yaml"), "--samples", "1"]) == 2


def test_shipped_experiment_is_valid_and_has_an_inert_check() -> None:
    exp = load_experiment(REPO / "experiments" / "sensitivity.yaml")
    names = [p.name for p in exp.parameters]
    assert len(names) >= 10
    assert all(p.spec.range is not None for p in exp.parameters)
    assert "service.matching_delay_hours" in names  # replaced by the platform: must score zero
    d = make_design(exp)
    assert len(d.points) == d.samples * (len(names) + 2)
