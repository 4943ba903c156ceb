"""Social-work methods: group work (小组工作) stretches social workers' hours; community work
(社区工作) raises discovery of hidden needs and trust. Paired seeds on the small street, base
street otherwise, 104 weeks."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import scenario_params

from model import run_model

SEEDS = tuple(range(1, 7))
SHORT = ("run.weeks=104", "run.warmup_weeks=26")


@functools.lru_cache(maxsize=32)
def run(overrides: tuple[str, ...], seed: int) -> dict[str, float]:
    r = run_model(scenario_params("base.yaml", *SHORT, *overrides), seed=seed)
    assert r.invariant_violations == [], r.invariant_violations
    return r.summary


def paired(on: tuple[str, ...], key: str) -> np.ndarray:
    return np.array([run(on, s)[key] - run((), s)[key] for s in SEEDS])


def ci95(d: np.ndarray) -> tuple[float, float]:
    half = 2.571 * d.std(ddof=1) / np.sqrt(len(d))  # t(0.975, 5 df)
    return float(d.mean() - half), float(d.mean() + half)


@pytest.mark.xfail(
    strict=True,
    reason="does not bind in the calibrated street of issue 18: social workers' utilization "
    "-4.6 pt [-14.8, +5.7] and professional satisfaction +1.1 pt [-2.1, +4.3] on six seeds "
    "(written before that calibration: -1.9 pt, SE 0.14); a finding to fix, in the closing note",
)
def test_group_work_serves_the_same_needs_with_fewer_social_worker_hours():
    """Groups of 8, 30% of group-suited needs, a session 1.5 times an individual one: social
    workers' utilization falls by about 0.019 (standard error 0.0014 over six seeds when
    written) while need satisfaction does not fall (social workers are not the bottleneck of
    the base street; the freed hours are what a scarce workforce gains)."""
    on = ("policies.group_work.enabled=true",)
    _, hi = ci95(paired(on, "sw_utilization"))
    assert hi < 0
    assert paired(on, "need_satisfaction_rate").mean() > -0.003


def test_community_work_raises_discovery_and_trust():
    """10% of social workers' hours on community work: hidden-need discovery up by about 0.09
    and mean trust by about 0.03 (standard errors 0.003 and 0.001 when written); 95% CIs
    exclude zero."""
    on = ("policies.community_work.enabled=true",)
    lo, _ = ci95(paired(on, "hidden_discovered_share"))
    assert lo > 0
    lo, _ = ci95(paired(on, "trust_mean"))
    assert lo > 0


def test_the_full_catalog_covers_the_seeds_service_fields():
    """scenarios/catalogs/seed_fields.yaml adds the five service fields the seed names that the
    default catalog lacks; their needs arise and are served."""
    from model import LinkageModel
    from model.needs import MET

    m = LinkageModel(
        scenario_params("catalogs/seed_fields.yaml", "run.weeks=30", "run.warmup_weeks=4"), seed=1
    )
    m.run()
    new = {
        "social_assistance": "社会救助",
        "youth_rights": "青少年权益保护",
        "vulnerable_family_support": "弱势家庭支持",
        "dispute_mediation": "矛盾调解",
        "public_safety_sanitation": "公共安全、环境卫生",
    }
    cat = m.catalog
    for name, zh in new.items():
        k = cat.names.index(name)
        assert cat.labels_zh[k] == zh
        ids = np.flatnonzero(m.needs.view("ntype") == k)
        assert len(ids) > 0, name
        assert (m.needs.view("status")[ids] == MET).any(), name
