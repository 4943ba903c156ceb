"""Budget execution (预算执行) and accrual accounting: the quarterly review moves money a channel
cannot use to the fallback channel, the ledger balances per channel and year, the accrual cost
adds the change in the time bank's liability, and the funding strategies spend about the same."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from model.finance import Government
from model.metrics import check_invariants
from model.model import LinkageModel
from model.params import FundingParams
from model.schema import CHANNELS
from tests.conftest import scenario_params


def _gov(
    fallback: str = "block_grant", margin: float = 0.0, earmarked: bool = False, **env: float
) -> Government:
    funding = FundingParams(
        fallback=fallback, execution_margin=margin, purchase_earmarked=earmarked
    )
    gov = Government(mesa.Model(rng=1), funding)
    gov.open_year(0, 1_000_000.0, env)
    return gov


# channel envelopes, spending in the first quarter, declared commitments, fallback, margin,
# expected moves at the review (by channel, negative = received)
CASES = [
    pytest.param(
        {"posts": 400_000.0, "block_grant": 100_000.0},
        {"posts": 52_000.0},  # 4,000 a week -> 156,000 for the 39 weeks left
        {},
        "block_grant",
        0.0,
        {"posts": 400_000 - 52_000 - 156_000, "block_grant": -(400_000 - 52_000 - 156_000)},
        id="run-rate: posts keep 39 weeks at their pace, the rest to block grants",
    ),
    pytest.param(
        {"posts": 400_000.0, "block_grant": 100_000.0},
        {"posts": 52_000.0},
        {},
        "block_grant",
        0.1,
        {"posts": 400_000 - 52_000 - 156_000 * 1.1, "block_grant": -(400_000 - 52_000 - 171_600)},
        id="the margin stays with the channel",
    ),
    pytest.param(
        {"venture": 300_000.0, "evaluation": 100_000.0, "block_grant": 50_000.0},
        {"venture": 250_000.0},
        {"venture": 0.0, "evaluation": 40_000.0},
        "block_grant",
        0.0,
        {"venture": 50_000, "evaluation": 60_000, "block_grant": -110_000},
        id="declared: nothing more for venture, evaluations of running contracts",
    ),
    pytest.param(
        {"procurement": 500_000.0, "posts": 100_000.0, "block_grant": 0.0},
        {"procurement": 100_000.0, "posts": 13_000.0},  # posts: 1,000 a week
        {"procurement": 300_000.0},
        "posts",
        0.0,
        {"procurement": 100_000, "posts": 48_000 - 100_000, "block_grant": -48_000},
        id="fallback posts: its own surplus to block grants, the others' surplus to posts",
    ),
    pytest.param(
        {"procurement": 500_000.0},
        {"procurement": 100_000.0},
        {"procurement": 450_000.0},
        "block_grant",
        0.0,
        {},
        id="a channel that needs more than it holds gives up nothing",
    ),
]


@pytest.mark.parametrize(("env", "spent", "declared", "fallback", "margin", "moved"), CASES)
def test_review_moves_unusable_money_to_the_fallback(env, spent, declared, fallback, margin, moved):
    gov = _gov(fallback, margin, **env)
    for c, v in spent.items():
        for _ in range(13):
            assert gov.spend(c, v / 13) == pytest.approx(v / 13)
    before = dict(gov.envelope)
    gov.review_quarter(13, [declared])
    for c in CHANNELS:
        assert before[c] - gov.envelope[c] == pytest.approx(moved.get(c, 0.0), abs=1e-6), c
    led = gov.ledger[0]
    assert sum(led["moved_out"].values()) == pytest.approx(sum(led["moved_in"].values()))


def test_earmarked_purchase_money_is_not_moved_and_is_returned_at_the_year_end():
    """专款专用 (the default): what posts and procurement cannot use stays in their channels at
    the reviews and is returned at the year's end; the other channels still give up theirs."""
    gov = _gov(
        earmarked=True,
        posts=400_000.0,
        procurement=300_000.0,
        timebank=200_000.0,
        block_grant=100_000.0,
    )
    for _ in range(13):
        for c in ("posts", "procurement", "timebank"):
            gov.spend(c, 1_000.0)
    gov.review_quarter(13, [])
    assert gov.envelope["posts"] == pytest.approx(400_000.0)
    assert gov.envelope["procurement"] == pytest.approx(300_000.0)
    assert gov.envelope["timebank"] == pytest.approx(13_000.0 + 39_000.0)
    gov.close_year()
    led = gov.ledger[0]
    assert led["moved_out"]["posts"] == led["moved_out"]["procurement"] == 0.0
    assert led["returned"]["posts"] == pytest.approx(400_000.0 - 13_000.0)
    for c in CHANNELS:
        assert led["allocated"][c] + led["moved_in"][c] == pytest.approx(
            led["spent"][c] + led["moved_out"][c] + led["returned"][c]
        )


def test_year_end_unspent_is_returned_and_the_ledger_balances():
    gov = _gov(posts=400_000.0, block_grant=100_000.0)
    gov.spend("posts", 52_000.0)  # 4,000 a week over the first quarter
    gov.review_quarter(13, [])  # posts keep 156,000 for 39 weeks, 192,000 move
    gov.spend("block_grant", 90_000.0)
    gov.open_year(1, 1_000_000.0, {"posts": 10.0})  # closes year 0
    led = gov.ledger[0]
    assert led["moved_out"]["posts"] == pytest.approx(192_000.0)
    assert led["returned"]["posts"] == pytest.approx(156_000.0)
    assert led["returned"]["block_grant"] == pytest.approx(100_000.0 + 192_000.0 - 90_000.0)
    for c in CHANNELS:
        assert led["allocated"][c] + led["moved_in"][c] == pytest.approx(
            led["spent"][c] + led["moved_out"][c] + led["returned"][c]
        )
    assert 0 in gov.closed and 1 not in gov.closed


def test_a_run_keeps_its_ledger_and_moves_money_it_cannot_use():
    """Project procurement pays per delivered hour: the unpaid part reaches block grants within
    the year, the ledger balances for every channel-year and check_invariants catches a break."""
    m = LinkageModel(scenario_params("funding/project_procurement.yaml"), seed=3)
    m.run()
    s = m.summary()
    assert check_invariants(m, s) == []
    assert s["gov_moved_to_fallback"] > 0
    assert s["budget_execution_rate_block_grant"] > 1.0  # it spent money moved to it
    assert s["budget_execution_rate"] > 0.97
    for year in m.gov.closed:
        led = m.gov.ledger[year]
        for c in CHANNELS:
            assert led["allocated"][c] + led["moved_in"][c] == pytest.approx(
                led["spent"][c] + led["moved_out"][c] + led["returned"][c], abs=1e-6
            )
    m.gov.ledger[0]["moved_in"]["posts"] += 1000.0  # a yuan out of nowhere
    assert any("budget year 0" in v for v in check_invariants(m, s))


def test_accrual_is_cash_plus_change_in_liability():
    m = LinkageModel(scenario_params("funding/timebank_subsidy.yaml"), seed=5)
    m.run()
    s = m.summary()
    ts = m.timeseries()
    w0 = m.p.run.warmup_weeks
    liab = ts["timebank_liability_yuan"].to_numpy()
    change = liab[-1] - liab[w0 - 1]
    assert change > 0  # the bank's liability grows: the accrual cost is above the cash
    assert s["gov_cost_accrual"] == pytest.approx(s["gov_spending_total"] + change)
    assert s["cost_per_need_met"] == pytest.approx(s["gov_cost_accrual"] / s["needs_met"])
    assert s["cost_per_need_met_cash"] == pytest.approx(s["gov_spending_total"] / s["needs_met"])
    assert s["cost_per_need_met"] > s["cost_per_need_met_cash"]


STRATEGIES = (
    "block_grants",
    "post_purchase",
    "project_procurement",
    "venture_incubation",
    "timebank_subsidy",
)


def test_funding_strategies_spend_within_three_percent_of_the_budget():
    """Same budget, same seeds, small street: yearly spending of the five strategies lies within
    3% of the budget of each other over a whole budget year (before the execution rule, 55%
    to 86%)."""
    spent = {}
    for name in STRATEGIES:
        p = scenario_params(f"funding/{name}.yaml", "run.weeks=104", "run.warmup_weeks=52")
        runs = []
        for seed in (11, 12):
            m = LinkageModel(p, seed=seed)
            m.run()
            runs.append(m.summary()["gov_spending_annual"])
        spent[name] = float(np.mean(runs))
    budget = p.funding.special_fund + p.funding.lottery_fund
    spread = max(spent.values()) - min(spent.values())
    assert spread <= 0.03 * budget, spent


@pytest.mark.parametrize("weeks,warmup", [(26, 0), (39, 13), (78, 26)])
def test_execution_rate_of_a_run_ending_mid_year_is_at_most_one(weeks, warmup):
    """Spending is lumpy (contracts are paid at signature): pro rata by week, a run ending
    mid-year showed more than 100% executed (1.057 in the baseline's 26-week run). The rate now
    counts each budget year whole from the ledger, the open year by what it has spent so far."""
    m = LinkageModel(
        scenario_params("base.yaml", f"run.weeks={weeks}", f"run.warmup_weeks={warmup}"), seed=3
    )
    m.run()
    s = m.summary()
    assert 0.0 < s["budget_execution_rate"] <= 1.0 + 1e-9, s["budget_execution_rate"]
    if weeks < 52:  # only the open year 0 in the window: what it has spent so far
        assert s["budget_execution_rate"] == pytest.approx(
            sum(m.gov.spent_year.values()) / sum(m.gov.ledger[0]["allocated"].values())
        )
