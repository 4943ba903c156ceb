"""Experiments: specs, designs, seeds, executors, the results store and comparisons.

Every sweep here is tiny (12 weeks, 3,000 residents, 3 communities): a run takes about 0.1 s.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from experiments import load_results
from experiments.analyses.compare import mean_ci, t_critical
from experiments.engine.errors import ScenarioError
from experiments.engine.executors import Task, execute_task
from experiments.engine.scenarios import parse_value
from experiments.engine.seeds import replication_seed, replication_seeds
from experiments.engine.spec import format_value, load_experiment
from experiments.engine.sweep import plan, run_sweep

REPO = Path(__file__).resolve().parent.parent
TINY = {
    "run": {"weeks": 12, "warmup_weeks": 2},
    "street": {"n_residents": 3000, "n_communities": 3},
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def tiny_scenarios(folder: Path) -> None:
    """base.yaml (a tiny street) and more_volunteers.yaml (a lever changed)."""
    write(
        folder / "base.yaml",
        """
        name: base
        run: {weeks: 12, warmup_weeks: 2}
        street: {n_residents: 3000, n_communities: 3}
        """,
    )
    write(
        folder / "more_volunteers.yaml",
        """
        extends: base.yaml
        name: more_volunteers
        volunteers: {registered_share: 0.2}
        """,
    )


EXPERIMENT = """
name: tiny
description: two scenarios, one lever, one uncertainty
scenarios:
  base: base.yaml
  more_volunteers: more_volunteers.yaml
baseline: base
levers:
  providers.sw_per_10k: {values: [3, 12]}
uncertainties:
  volunteers.retention_annual: {values: [0.65]}
replications: 4
root_seed: 11
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments.interfaces.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=300,
    )


def runs_without_time(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path / "runs.parquet").drop(columns="wall_time_s")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    tiny_scenarios(folder)
    write(folder / "exp.yaml", EXPERIMENT)
    return folder


@pytest.fixture(scope="module")
def reference(tiny: Path) -> Path:
    """The tiny experiment, run in this process (--workers 1)."""
    res = run_sweep(tiny / "exp.yaml", tiny / "ref", workers=1, progress=False)
    assert res.ok == res.total == 16 and res.errors == 0
    return res.path


# --- seeds and designs -------------------------------------------------------------------


def test_replication_seeds_match_spawn_and_do_not_depend_on_count() -> None:
    seeds = replication_seeds(20240601, 5)
    children = np.random.SeedSequence(20240601).spawn(5)
    assert seeds == [int(c.generate_state(1)[0]) for c in children]
    assert seeds == [replication_seed(20240601, r) for r in range(5)]
    assert replication_seeds(20240601, 8)[:5] == seeds
    assert len(set(replication_seeds(1, 1000))) == 1000


@pytest.mark.parametrize(
    "value", [1e-05, 1e20, 0.1, 6.6, -2.5e-7, 3, True, False, "true", "3", "a b", None]
)
def test_override_values_read_back_exactly(value: object) -> None:
    back = parse_value(format_value(value))
    assert back == value and type(back) is type(value)


def test_designs(tmp_path: Path) -> None:
    tiny_scenarios(tmp_path)
    head = "scenarios: [base.yaml]\n"
    grid = write(
        tmp_path / "grid.yaml",
        head + "levers:\n  providers.sw_per_10k: {values: [3, 6]}\n"
        "  volunteers.registered_share: {range: [0.1, 0.3], levels: 3}\n",
    )
    exp = load_experiment(grid)
    assert len(exp.points) == 6
    assert exp.points[0] == {"providers.sw_per_10k": 3, "volunteers.registered_share": 0.1}
    assert exp.points[-1] == {"providers.sw_per_10k": 6, "volunteers.registered_share": 0.3}
    lists = write(
        tmp_path / "lists.yaml",
        head + "design: lists\nlevers:\n  providers.sw_per_10k: {values: [3, 6, 9]}\n"
        "uncertainties:\n  volunteers.retention_annual: {values: [0.5, 0.6, 0.7]}\n",
    )
    assert [tuple(p.values()) for p in load_experiment(lists).points] == [
        (3, 0.5),
        (6, 0.6),
        (9, 0.7),
    ]
    for design in ("lhs", "sobol"):
        f = write(
            tmp_path / f"{design}.yaml",
            head + f"design: {design}\nsamples: 16\nlevers:\n"
            "  providers.sw_per_10k: {range: [2, 20]}\n"
            "  providers.embedded_orgs: {range: [1, 6], integer: true}\n"
            "uncertainties:\n  service.service_time: {values: [exponential, lognormal]}\n",
        )
        pts = load_experiment(f).points
        assert len(pts) == 16 and pts == load_experiment(f).points  # a pure function of the seed
        sw = np.array([p["providers.sw_per_10k"] for p in pts])
        assert sw.min() >= 2 and sw.max() <= 20 and len(set(sw)) == 16
        orgs = {p["providers.embedded_orgs"] for p in pts}
        assert orgs <= set(range(1, 7)) and all(isinstance(v, int) for v in orgs)
        assert {p["service.service_time"] for p in pts} == {"exponential", "lognormal"}
        if design == "lhs":  # one point in each of the 16 strata
            assert sorted(np.floor((sw - 2) / 18 * 16).astype(int)) == list(range(16))


def test_plan_pairs_seeds_across_scenarios_and_points(tiny: Path) -> None:
    tasks = plan(load_experiment(tiny / "exp.yaml"))
    assert len(tasks) == 2 * 2 * 4 and len({t.run_id for t in tasks}) == len(tasks)
    by_rep: dict[int, set[int]] = {}
    for t in tasks:
        by_rep.setdefault(t.replication, set()).add(t.seed)
    assert all(len(s) == 1 for s in by_rep.values())  # one seed per replication
    assert len({next(iter(s)) for s in by_rep.values()}) == 4
    assert tasks[0].overrides[-2:] == ("providers.sw_per_10k=3", "volunteers.retention_annual=0.65")


# --- bad input -----------------------------------------------------------------------------


BAD = [
    ("replicatons: 3\n", "replicatons", "unknown key"),
    (
        "levers:\n  providers.sw_per_10k: {valuez: [1]}\n",
        "levers.providers.sw_per_10k.valuez",
        "unknown key",
    ),
    (
        "levers:\n  providers.sw_per_10k: {range: [5, 1]}\n",
        "levers.providers.sw_per_10k",
        "low < high",
    ),
    (
        "levers:\n  providers.sw_per_1k: {values: [1, 2]}\n",
        "levers.providers.sw_per_1k",
        "unknown key",
    ),
    ("levers:\n  providers.sw_per_10k: {values: [1, 500]}\n", "levers.providers.sw_per_10k", "500"),
    ("baseline: nope\n", "baseline", "not one of the scenarios"),
    ("design: lhs\nlevers:\n  providers.sw_per_10k: {range: [1, 5]}\n", "samples", "needs"),
    (
        "design: lists\nlevers:\n  providers.sw_per_10k: {values: [1, 2]}\n  providers.sw_hours: {values: [30]}\n",
        "design",
        "equal length",
    ),
    ("constants: {street.n_residentz: 10}\n", "constants", "unknown key"),
    ("replications: 0\n", "replications", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("extra", "field", "problem"), BAD)
def test_bad_experiment_names_file_and_field(
    tmp_path: Path, extra: str, field: str, problem: str
) -> None:
    tiny_scenarios(tmp_path)
    f = write(tmp_path / "bad.yaml", "scenarios: {base: base.yaml}\n" + extra)
    with pytest.raises(ScenarioError) as e:
        load_experiment(f)
    assert e.value.file == str(f)
    assert e.value.field == field and problem in e.value.problem


def test_bad_experiment_exits_2_with_one_line(tmp_path: Path) -> None:
    tiny_scenarios(tmp_path)
    f = write(tmp_path / "bad.yaml", "scenarios: [base.yaml]\nreplicatons: 3\n")
    r = cli("sweep", str(f), "--out", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and str(f) in lines[0]
        and "replicatons" in lines[0]
        and "unknown key" in lines[0]
    )
    assert not (tmp_path / "out").exists()
    r = cli("sweep", str(tmp_path / "missing.yaml"))
    assert (
        r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "missing.yaml" in r.stderr
    )


def test_shipped_experiments_are_valid() -> None:
    for name, n_scen, n_points in (
        ("linkage_modes", 8, 1),
        ("funding_strategies", 6, 1),
        ("parameter_sweep", 1, 27),
    ):
        exp = load_experiment(REPO / "experiments" / f"{name}.yaml")
        assert (len(exp.scenarios), len(exp.points)) == (n_scen, n_points)


# --- running --------------------------------------------------------------------------------


def test_results_folder(reference: Path) -> None:
    runs = pd.read_parquet(reference / "runs.parquet")
    head = [
        "experiment",
        "scenario",
        "point",
        "run_id",
        "providers.sw_per_10k",
        "volunteers.retention_annual",
    ]
    assert list(runs.columns[:6]) == head
    assert list(runs.columns[6:10]) == ["replication", "seed", "status", "error"]
    assert runs.columns[-1] == "wall_time_s" and "need_satisfaction_rate" in runs.columns
    assert (runs["status"] == "ok").all() and runs["run_id"].is_unique
    order = runs[["scenario", "point", "replication"]].apply(tuple, axis=1).tolist()
    rank = {"base": 0, "more_volunteers": 1}
    assert order == sorted(order, key=lambda k: (rank[k[0]], k[1], k[2]))
    ts = pd.read_parquet(reference / "timeseries.parquet")
    assert list(ts.columns[:5]) == ["run_id", "scenario", "point", "replication", "week"]
    assert len(ts) == 16 * 12 and set(ts["run_id"]) == set(runs["run_id"])
    res = load_results(reference)
    assert res.manifest["experiment"] == "tiny" and res.manifest["status"] == "completed"
    assert res.manifest["scenarios"][0]["params"]["street"]["n_residents"] == 3000
    env = res.manifest["environment"]
    assert {"python", "numpy", "mesa", "simpy", "pandas", "pyarrow"} <= set(env["versions"])
    assert "git_hash" in env and len(env["model_source_sha256"]) == 64
    assert "replications: 4" in res.manifest["experiment_text"]
    assert res.parameters == ["providers.sw_per_10k", "volunteers.retention_annual"]
    assert len(res.timeseries) == len(ts)


def test_same_results_with_1_and_2_workers_and_dask(tiny: Path, reference: Path) -> None:
    two = cli(
        "sweep",
        str(tiny / "exp.yaml"),
        "--workers",
        "2",
        "--out",
        str(tiny / "two"),
        "--no-progress",
    )
    assert two.returncode == 0, two.stderr
    assert_frame_equal(runs_without_time(tiny / "two"), runs_without_time(reference))
    assert_frame_equal(
        pd.read_parquet(tiny / "two" / "timeseries.parquet"),
        pd.read_parquet(reference / "timeseries.parquet"),
    )
    pytest.importorskip("distributed")
    res = run_sweep(tiny / "exp.yaml", tiny / "dask", executor="dask", workers=2, progress=False)
    assert res.ok == 16
    assert_frame_equal(runs_without_time(tiny / "dask"), runs_without_time(reference))
    assert_frame_equal(
        pd.read_parquet(tiny / "dask" / "timeseries.parquet"),
        pd.read_parquet(reference / "timeseries.parquet"),
    )


def test_common_random_numbers_shrink_paired_variance(tiny: Path) -> None:
    """Same seed for both scenarios vs independent seeds: the paired difference varies less."""
    n, metric = 10, "need_satisfaction_rate"

    def metric_of(scenario: str, root: int, r: int) -> float:
        task = Task("x", scenario, str(tiny / f"{scenario}.yaml"), (), r, replication_seed(root, r))
        out = execute_task(task)
        assert out.status == "ok", out.error
        return out.summary[metric]

    a = np.array([metric_of("base", 1, r) for r in range(n)])
    b_common = np.array([metric_of("more_volunteers", 1, r) for r in range(n)])
    b_indep = np.array([metric_of("more_volunteers", 2, r) for r in range(n)])
    var_crn = np.var(b_common - a, ddof=1)
    var_ind = np.var(b_indep - a, ddof=1)
    print(
        f"\nvariance of the paired difference in {metric}: common seeds {var_crn:.3g}, independent seeds {var_ind:.3g}"
    )
    assert var_crn < var_ind / 2


def test_failing_run_is_recorded_and_the_sweep_goes_on(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import experiments.engine.executors as ex

    bad_seed = replication_seed(11, 2)
    real = ex.simulate

    def flaky(params: object, seed: int) -> object:
        if seed == bad_seed and params.volunteers.registered_share == 0.2:
            raise RuntimeError("boom in week 7")
        return real(params, seed)

    monkeypatch.setattr(ex, "simulate", flaky)
    res = run_sweep(tiny / "exp.yaml", tiny / "flaky", workers=1, progress=False)
    assert (res.ok, res.errors) == (14, 2) and "boom in week 7" in res.first_error
    runs = pd.read_parquet(tiny / "flaky" / "runs.parquet")
    bad = runs[runs["status"] == "error"]
    assert len(runs) == 16 and list(bad["run_id"]) == [
        "more_volunteers:p0:r2",
        "more_volunteers:p1:r2",
    ]
    assert (bad["error"] == "RuntimeError: boom in week 7").all()
    assert bad["need_satisfaction_rate"].isna().all() and runs["error"].isna().sum() == 14
    table = load_results(tiny / "flaky").compare(metrics=["need_satisfaction_rate"])
    assert table.set_index("scenario").loc["more_volunteers", "n"].tolist() == [3, 3]


def test_metrics_and_timeseries_selection(tmp_path: Path) -> None:
    tiny_scenarios(tmp_path)
    f = write(
        tmp_path / "sel.yaml",
        """
        name: sel
        scenarios: [base.yaml]
        replications: 2
        weeks: 10
        metrics: [need_satisfaction_rate, mean_wait_hours]
        timeseries: [needs_met]
        """,
    )
    run_sweep(f, tmp_path / "out", workers=1, progress=False)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert list(runs.columns[-3:]) == ["need_satisfaction_rate", "mean_wait_hours", "wall_time_s"]
    ts = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    assert list(ts.columns) == ["run_id", "scenario", "point", "replication", "week", "needs_met"]
    assert len(ts) == 2 * 10
    f.write_text(f.read_text().replace("mean_wait_hours", "mean_wait_hourz"))
    r = cli("sweep", str(f), "--workers", "1", "--out", str(tmp_path / "out2"), "--no-progress")
    assert r.returncode == 2 and "metrics" in r.stderr and "mean_wait_hourz" in r.stderr


# --- comparing ------------------------------------------------------------------------------


def test_t_critical_and_mean_ci() -> None:
    assert t_critical(1) == pytest.approx(12.706, abs=1e-3)
    assert t_critical(19) == pytest.approx(2.093, abs=1e-3)
    n, m, sd, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0, np.nan]))
    assert (n, m, sd) == (3, 2.0, 1.0)
    assert hi - m == pytest.approx(4.303 / math.sqrt(3), abs=1e-3) and m - lo == pytest.approx(
        hi - m
    )


def test_compare_command(reference: Path) -> None:
    r = cli("compare", str(reference), "--metric", "need_satisfaction_rate", "active_volunteers")
    assert r.returncode == 0, r.stderr
    assert (
        "need_satisfaction_rate" in r.stdout
        and "Δ vs base" in r.stdout
        and "(baseline)" in r.stdout
    )
    table = pd.read_csv(reference / "compare.csv")
    assert set(table["metric"]) == {"need_satisfaction_rate", "active_volunteers"}
    assert len(table) == 2 * 2 * 2  # metric x scenario x point
    base = table[table["scenario"] == "base"]
    assert (base["diff"] == 0).all() and (base["n_pairs"] == 4).all()
    runs = pd.read_parquet(reference / "runs.parquet")
    row = table[
        (table["scenario"] == "more_volunteers")
        & (table["point"] == 1)
        & (table["metric"] == "active_volunteers")
    ].iloc[0]
    a = runs[(runs["scenario"] == "base") & (runs["point"] == 1)]["active_volunteers"].to_numpy()
    b = runs[(runs["scenario"] == "more_volunteers") & (runs["point"] == 1)][
        "active_volunteers"
    ].to_numpy()
    assert (
        row["diff"] == pytest.approx((b - a).mean())
        and row["diff_ci_low"] <= row["diff"] <= row["diff_ci_high"]
    )
    assert row["mean"] == pytest.approx(b.mean()) and row["diff"] > 0
    bad = cli("compare", str(reference), "--baseline", "nope")
    assert (
        bad.returncode == 2 and "nope" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    )
    out = reference.parent / "mine.csv"
    assert cli("compare", str(reference), "--csv", str(out)).returncode == 0 and out.exists()
