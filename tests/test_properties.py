"""Property-based tests: random valid parameter sets and seeds on small streets.

For each example (at most 3,000 residents and 30 weeks), a handful of parameters are drawn
within their valid ranges, every policy is switched on or off at random, and the run must:

- satisfy `check_invariants` (needs conserved, spending within budget and channels adding up,
  time bank balanced);
- keep the time bank's books per account (`LedgerAudit`: every deposit, redemption and expiry
  accounted for, event by event);
- give summary metrics that are finite and non-negative where they must be (counts, hours,
  spending), never negative anywhere, and rates within [0, 1] (NaN only where a rate has no
  denominator, such as no needs in a short run).

Examples are derandomized by default (the same examples on every run, so `make test` is
stable); set `LINKAGE_HYPOTHESIS=explore` for fresh random examples and more of them.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.analyses.validation import LedgerAudit
from model import POLICIES, LinkageModel, Params, check_invariants

settings.register_profile(
    "default",
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    max_examples=int(os.environ.get("LINKAGE_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("LINKAGE_HYPOTHESIS", "default")

NEVER_NAN = (
    "needs_arisen",
    "needs_met",
    "needs_abandoned",
    "needs_pending",
    "gov_spending_total",
    "active_volunteers",
    "registered_volunteers",
    "volunteer_hours",
    "volunteer_hours_per_registered_year",
    "timebank_hours_deposited",
    "timebank_hours_redeemed",
    "timebank_hours_expired",
    "timebank_balance",
    "timebank_liability_yuan",
    "so_count",
    "sw_count",
    "referrals",
    "joint_meeting_resolutions",
    "trust_mean",
    "volunteer_retention_annual",
)
"""Counts, hours and money: always a finite number (spending_<channel> are added below)."""

RATES = (
    "need_satisfaction_rate",
    "needs_met_rate",
    "professional_match_rate",
    "service_quality_mean",
    "professional_needs_satisfaction",
    "hidden_discovered_share",
    "level0_needs_met_rate",
    "volunteer_retention_annual",
    "sw_utilization",
    "trust_mean",
    "satisfaction_min_group",
    "equity_group_gap",
    "equity_community_gap",
)
"""Shares and rates: within [0, 1] when defined (satisfaction_<group|community> added below)."""


def unit(lo: float = 0.0, hi: float = 1.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def parameter_sets(draw) -> dict:
    """A random valid parameter mapping for a small street, with random policy switches."""
    weeks = draw(st.integers(4, 30))
    shares = [draw(unit()) for _ in range(5)]
    scale = draw(unit(0.0, 1.0)) / max(sum(shares), 1e-9)
    alloc = dict(
        zip(
            ("procurement", "posts", "venture", "incubation", "timebank"),
            (s * scale for s in shares),
            strict=True,
        )
    )
    alloc["block_grant"] = max(0.0, 1.0 - sum(alloc.values()))  # shares add up to 1
    return {
        "run": {"weeks": weeks, "warmup_weeks": draw(st.integers(0, weeks - 1))},
        "street": {
            "n_residents": draw(st.integers(300, 3000)),
            "n_communities": draw(st.integers(1, 5)),
            "community_size_cv": draw(unit(0.0, 0.8)),
            "initial_trust": draw(unit()),
            "trust_gain": draw(unit(0.0, 0.2)),
            "trust_loss": draw(unit(0.0, 0.2)),
        },
        "service": {
            "service_time": draw(st.sampled_from(["exponential", "lognormal", "fixed"])),
            "patience_dist": draw(st.sampled_from(["exponential", "fixed", "none"])),
            "matching_delay_hours": draw(unit(0.0, 120.0)),
            "work_days": draw(st.integers(1, 7)),
            "shift_start_hour": draw(unit(0.0, 23.0)),
            "sw_takes_level0": draw(st.booleans()),
        },
        "providers": {
            "sw_per_10k": draw(unit(0.0, 30.0)),
            "sw_admin_share": draw(unit(0.0, 0.95)),
            "cw_per_community": draw(unit(0.0, 8.0)),
            "embedded_orgs": draw(st.integers(0, 4)),
            "embedded_core_sw": draw(st.integers(0, 4)),
            "embedded_reserve": draw(unit(0.0, 300_000.0)),
            "donations": draw(unit(0.0, 3000.0)),
            "closure_weeks": draw(st.integers(1, 26)),
            # staff_salary >= 1,000: 0 crashes the model (test_validation_queues.py,
            # test_zero_staff_salary_with_block_grant_budget, a known bug).
            "staff_salary": draw(unit(1000.0, 100_000.0)),
        },
        "volunteers": {
            "registered_share": draw(unit(0.0, 0.3)),
            "active_share": draw(unit()),
            "participation": draw(unit(0.01, 1.0)),
            "retention_annual": draw(unit(0.3, 1.0)),
            "recruitment_rate": draw(unit(0.0, 0.002)),
        },
        "funding": {
            "special_fund": draw(unit(0.0, 5e6)),
            "lottery_fund": draw(unit(0.0, 2e6)),
            "allocation": alloc,
        },
        "policies": {
            **{name: {"enabled": draw(st.booleans())} for name in POLICIES},
            "time_bank": {
                "enabled": draw(st.booleans()),
                "cap": draw(unit(1.0, 50.0)),
                "portable": draw(st.booleans()),
                "redeem_share": draw(unit()),
                "expiry_weeks": draw(st.integers(0, 12)),
                "recipient_share": draw(unit()),
            },
        },
    }


SIGNED = frozenset({"gov_cost_accrual", "gov_cost_accrual_annual", "cost_per_need_met"})
"""Accrual costs may be negative: credits that expire extinguish the time bank's liability,
which can exceed the cash spent in the same weeks (a street with no budget and a short expiry)."""


def check_summary(s: dict[str, float]) -> list[str]:
    """Problems with a summary's values (empty when all are plausible)."""
    bad = []
    never_nan = set(NEVER_NAN) | {k for k in s if k.startswith("spending_")}
    rates = set(RATES) | {k for k in s if k.startswith("satisfaction_")}
    for k, v in s.items():
        if not isinstance(v, float):
            bad.append(f"{k} is {type(v).__name__}, not float")
            continue
        if math.isnan(v):
            if k in never_nan:
                bad.append(f"{k} is NaN")
            continue
        if math.isinf(v):
            bad.append(f"{k} is infinite")
        elif v < 0 and k not in SIGNED:
            bad.append(f"{k} = {v} < 0")
        elif k in rates and v > 1 + 1e-12:
            bad.append(f"{k} = {v} > 1")
    if s["needs_arisen"] != s["needs_met"] + s["needs_abandoned"] + s["needs_pending"]:
        bad.append("needs not conserved in the summary")
    return bad


@settings(settings.get_profile(PROFILE))
@given(data=parameter_sets(), seed=st.integers(0, 2**32 - 1))
def test_random_valid_parameters_keep_invariants(data, seed):
    params = Params.model_validate(data)
    m = LinkageModel(params, seed=seed)
    audit = LedgerAudit(m)
    m.run()
    s = m.summary()
    assert check_invariants(m, s) == []
    assert audit.violations() == []
    assert check_summary(s) == []


def test_check_summary_catches_bad_values():
    """The property's own checker flags NaN counts, negative values and rates above 1."""
    good = {k: 0.5 for k in (*NEVER_NAN, *RATES)} | {
        "needs_arisen": 2.0,
        "needs_met": 1.0,
        "needs_abandoned": 1.0,
        "needs_pending": 0.0,
    }
    assert check_summary(good) == []
    assert check_summary(good | {"needs_met_rate": float("nan")}) == []
    assert check_summary(good | {"sw_count": float("nan")}) == ["sw_count is NaN"]
    assert check_summary(good | {"volunteer_hours": -1.0}) == ["volunteer_hours = -1.0 < 0"]
    assert check_summary(good | {"satisfaction_c00": 1.5}) == ["satisfaction_c00 = 1.5 > 1"]
    with pytest.raises(AssertionError):
        assert check_summary(good | {"needs_pending": 1.0}) == []
