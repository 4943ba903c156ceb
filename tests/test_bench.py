"""`linkage bench`: every section runs at tiny sizes and reports well-formed figures.

Speeds are never asserted (they depend on the machine and on what else runs on it); the tests
check the JSON structure, that ratios are positive finite numbers, and that the reference
implementations do the same work as the model.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from experiments.bench import Sizes, format_table, run_bench
from experiments.bench.reference import MesaStreet, mmc_queue
from experiments.bench.runner import in_child
from experiments.interfaces.cli import main
from model.params import Params

TINY = Sizes(
    population_residents=2000,
    population_weeks=2,
    population_reps=1,
    service_overrides=("street.n_residents=2000", "street.n_communities=3"),
    service_weeks=3,
    service_reps=1,
    default_overrides=("street.n_residents=2000", "street.n_communities=3"),
    default_weeks=3,
    scale_residents=(1000, 2000),
    scale_weeks=2,
    scale_overrides=("street.n_communities=3",),
    parallel_constants=(("street.n_residents", 1000), ("street.n_communities", 2)),
    parallel_replications=1,
    parallel_weeks=2,
    dashboard_overrides=(("n_residents", 1500), ("n_communities", 3)),
    dashboard_steps=2,
    dashboard_warmup=1,
)
"""Every section at a size that runs in seconds."""


def positive(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def result():
    return run_bench(TINY)


def test_every_section_reports_positive_finite_figures(result):
    s = result.sections
    assert set(s) == set(TINY.sections)
    assert positive(s["population"]["ratio"])
    assert positive(s["population"]["model_resident_weeks_per_s"]) and positive(
        s["population"]["reference_resident_weeks_per_s"]
    )
    v = s["service"]
    for k in (
        "ratio",
        "ratio_met",
        "ratio_cpu",
        "model_resolved_per_s",
        "queue_customers_per_s",
        "model_events_per_resolved",
    ):
        assert positive(v[k]), k
    assert positive(v["ratio_service_phase"])
    # The service phase is part of the run, so it is at least as fast per need as the whole run.
    assert v["service_phase_resolved_per_s"] >= v["model_resolved_per_s"]
    assert v["queue_runs"][0]["customers"] == v["model_runs"][0]["needs_resolved"]  # same work
    assert 5.9 < v["queue_events_per_customer"] < 6.2  # the textbook queue: 6 events a customer
    d = s["default_run"]
    assert positive(d["seconds"]) and positive(d["peak_rss_mb"])
    assert d["invariant_violations"] == []
    assert d["phase_order"] == [
        "budget_year",
        "policies",
        "residents",
        "volunteer_turnover",
        "raise_needs",
        "service",
        "close_week",
    ]
    assert set(d["phase_seconds"]) == {
        "budget_year",
        "policies",
        "residents",
        "volunteer_turnover",
        "raise_needs",
        "service",
        "close_week",
    }
    assert 0.99 < sum(d["phase_share"].values()) < 1.01
    assert [r["residents"] for r in s["scale"]] == [1000, 2000]
    assert all(positive(r["seconds"]) and positive(r["peak_rss_mb"]) for r in s["scale"])
    assert positive(s["parallel"]["speedup"]) and s["parallel"]["workers1"]["runs"] == 8
    # Two rounds, ABBA: 1, 2, 2, 1 workers; the speed-up is the ratio of the totals.
    q = s["parallel"]
    assert q["order"] == [1, 2, 2, 1] and len(q["workers2"]["all_seconds"]) == 2
    assert q["speedup"] == pytest.approx(
        sum(q["workers1"]["all_seconds"]) / sum(q["workers2"]["all_seconds"])
    )
    # The speed-up's two factors come from the runs' own wall times: a run is part of its sweep,
    # so the workers are busy for at most the sweeps' time (no tolerance needed: each run's time
    # is measured inside the sweep's), and both per-run means are positive.
    pr = q["per_run"]
    assert positive(pr["alone_s"]) and positive(pr["side_by_side_s"])
    assert pr["slowdown"] == pytest.approx(pr["side_by_side_s"] / pr["alone_s"])
    assert 0 < pr["busy"] <= 1
    assert positive(s["dashboard"]["median_ms"]) and s["dashboard"]["steps"] == 2


def test_json_has_the_headline_keys_and_raw_figures(result, tmp_path):
    from experiments.interfaces.commands.bench import _clean

    data = json.loads(json.dumps(_clean(result.to_json())))
    for key in (
        "population_ratio",
        "service_ratio",
        "parallel_speedup",
        "default_run_seconds",
        "default_run_peak_mb",
    ):
        assert positive(data[key]), key
    for key in (
        "population",
        "service",
        "default_run",
        "scale",
        "parallel",
        "dashboard",
        "machine",
        "targets",
    ):
        assert key in data
    assert data["machine"]["nproc"] >= 1 and data["machine"]["versions"]["simpy"]
    assert set(data["targets"]) == {
        "population_ratio",
        "service_ratio",
        "scale_peak_gb_1e6",
        "parallel_speedup",
        "dashboard_step_ms",
    }
    assert data["targets"]["scale_peak_gb_1e6"]["met"] is None  # 10^6 residents not measured here
    assert data["population_ratio"] == pytest.approx(data["population"]["ratio"])


def test_table_names_every_measurement(result):
    text = format_table(result)
    for word in (
        "population update",
        "service flow",
        "default run",
        "scale",
        "parallel",
        "dashboard",
        "machine:",
    ):
        assert word in text
    assert "| measurement |" in format_table(result, markdown=True)


def test_reference_street_does_the_same_update():
    """One Mesa agent per resident ages, relaxes trust and raises needs at the model's rate."""
    p = Params.model_validate({"street": {"n_residents": 3000}})
    street = MesaStreet(p, seed=3)
    trust0 = np.mean([a.trust for a in street.agents])
    raised = 0
    for _ in range(20):
        street.step()
        raised += len(street.raised)
    assert len(street.agents) == 3000 and street.week == 20
    assert np.mean([a.age for a in street.agents]) > 0
    # Expected needs: sum over residents of their rate x (0.5 + trust), as Residents.draw_needs.
    expect = 20 * sum(street.rate[a.group] * (0.5 + a.trust) for a in street.agents)
    assert raised == pytest.approx(expect, rel=0.15)
    assert abs(np.mean([a.trust for a in street.agents]) - trust0) < 0.05


def test_mmc_queue_serves_every_customer():
    q = mmc_queue(500, servers=3, load=0.8, seed=1)
    assert q["customers"] == 500 and positive(q["per_second"]) and q["events"] >= 6 * 500


def test_in_child_returns_result_and_peak_memory():
    value, peak = in_child(sum, [1, 2, 3])
    assert value == 6 and (peak is None or peak > 0)


def test_cli_writes_json(tmp_path, monkeypatch, capsys):
    """`linkage bench --quick --json FILE` (sizes shrunk to TINY for the test)."""
    import experiments.bench as bench

    monkeypatch.setattr(bench, "QUICK", TINY)
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["quick"] is True and positive(data["service_ratio"])
    assert "service flow" in capsys.readouterr().out
