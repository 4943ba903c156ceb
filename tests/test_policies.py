"""Levers that bind: each policy moves the metric it targets in the seed's
direction, and capacity (social workers, volunteers) moves need satisfaction, with a 95% interval
that excludes zero at default settings; full linkage beats the siloed baseline at equal budget;
the ledgers balance.

Every comparison is paired (common random numbers): the same seeds run with the lever off and
on, the effect is the mean of the per-seed differences and its interval the t interval of those
differences. Streets are small versions of the default street (`levers.scaled_street`: the
default community size, budget and agencies per resident), measured over year 2 of 104 weeks:

- panel A: 10,000 residents in 2 communities, 6 paired seeds (volunteer levers and most
  policies);
- panel B: 20,000 residents in 4 communities, 8 paired seeds (the social-worker pool, whose
  three workers on panel A are too few to halve; the platform, whose pooling needs communities;
  evaluation and cultivation, whose effects are small).

The target metric of every policy is `TARGETS` (the same as `experiments.analyses.levers.LEVERS`,
whose `linkage levers` table in docs/validation.md gives the effects on the default street).
Each test's docstring gives the effect and interval measured when it was written.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import scenario_params

from experiments.analyses.compare import mean_ci
from experiments.analyses.levers import LEVERS, ON_IN_BASE, scaled_street
from model import LinkageModel, Params, check_invariants, run_model

RUN = ("run.weeks=104", "run.warmup_weeks=52")
PANEL_A = (*scaled_street(10_000, 2), *RUN)
PANEL_B = (*scaled_street(20_000, 4), *RUN)
SEEDS_A = tuple(range(1, 7))
SEEDS_B = tuple(range(1, 9))
SEEDS_B12 = tuple(range(1, 13))  # cultivation's small effect

TARGETS: dict[str, tuple[str, int]] = {
    "platform": ("equity_community_gap", -1),
    "credit": ("resolution_rate", +1),
    "cultivation": ("community_orgs_per_community", +1),
    "purchase": ("professional_needs_satisfaction", +1),
    "project_teams": ("active_volunteers", +1),
    "evaluation": ("contract_resolution_rate", +1),
    "professionalization": ("professional_needs_satisfaction", +1),
    "surveys": ("hidden_discovered_share", +1),
    "volunteer_mgmt": ("volunteer_retention_annual", +1),
    "time_bank": ("volunteer_retention_annual", +1),
    "mobilization": ("active_volunteers", +1),
    "joint_meeting": ("complex_resolved_share", +1),
    "team_building": ("volunteer_skill1_share", +1),
    "codelivery": ("professional_needs_satisfaction", +1),
    "supervision": ("sw_quit_rate_annual", -1),
    "group_work": ("professional_needs_satisfaction", +1),
    "community_work": ("hidden_discovered_share", +1),
    "charity": ("charity_donations", +1),
    "consultation": ("procurement_need_fit", +1),
    "claiming": ("need_satisfaction_rate", +1),
}
"""Policy -> (summary metric it targets, +1 when the seed expects it to rise, -1 to fall)."""


@functools.lru_cache(maxsize=512)
def summary(rel: str, overrides: tuple[str, ...], seed: int) -> dict[str, float]:
    """One run's summary on a shipped scenario with `overrides` (no implicit small street),
    cached: the arms share their base runs."""
    return run_model(scenario_params(rel, *overrides, small=False), seed=seed).summary


def paired_ci(
    rel: str,
    off: tuple[str, ...],
    on: tuple[str, ...],
    key: str,
    seeds: tuple[int, ...],
    rel_on: str | None = None,
) -> tuple[float, float, float]:
    """Mean paired difference (on - off) of `key` and its 95% t interval."""
    d = np.array(
        [summary(rel_on or rel, on, s)[key] - summary(rel, off, s)[key] for s in seeds],
        dtype=float,
    )
    _, m, _, lo, hi = mean_ci(d)
    return m, lo, hi


def binds(effect: tuple[float, float, float], sign: int) -> bool:
    """The interval excludes 0 on the side the seed expects."""
    _, lo, hi = effect
    return lo > 0 if sign > 0 else hi < 0


def policy_effect(policy: str, panel: tuple[str, ...], seeds: tuple[int, ...], rel="base.yaml"):
    """The policy's effect on its target metric in `rel`: on - off (for a policy the scenario
    runs, the scenario minus the scenario without it)."""
    metric, sign = TARGETS[policy]
    switch = f"policies.{policy}.enabled"
    if rel != "base.yaml" or policy in ON_IN_BASE:
        off, on = (*panel, f"{switch}=false"), panel
    else:
        off, on = panel, (*panel, f"{switch}=true")
    return paired_ci(rel, off, on, metric, seeds), sign


def test_targets_are_those_of_the_lever_table():
    """The tests and `linkage levers` (docs/validation.md) judge each policy on one metric."""
    assert {lv.policy: (lv.metric, lv.sign) for lv in LEVERS} == TARGETS
    assert set(TARGETS) == set(Params().policies.model_dump())


# ---------------------------------------------------------------- capacity (need satisfaction)
def test_more_volunteers_raise_need_satisfaction_and_fewer_lower_it():
    """Registered volunteer share x2: +5.4 pt [+4.9, +5.8]; x1/2: -2.9 pt [-4.1, -1.8] (panel A).
    Volunteers serve life care, the bulk of the needs (the seed: 「社区志愿者为社区服务的有效补充」)."""
    share = Params().volunteers.registered_share
    for factor, sign in ((2.0, +1), (0.5, -1)):
        e = paired_ci(
            "base.yaml",
            PANEL_A,
            (*PANEL_A, f"volunteers.registered_share={share * factor!r}"),
            "need_satisfaction_rate",
            SEEDS_A,
        )
        assert binds(e, sign), (factor, e)


def test_more_social_workers_raise_need_satisfaction_and_fewer_lower_it():
    """Working social-worker pool x2 (3 -> 6 per 10,000): need satisfaction +1.9 pt [+1.4, +2.4],
    professional needs' satisfaction +11.9 pt [+11.0, +12.8]; x1/2: need satisfaction -1.0 pt
    [-1.6, -0.4], professional -11.7 pt [-12.5, -10.9] (panel B, 12 seeds, turnover on).
    Professional time binds: social workers are busy over 90% of their duty (P2), and the seed
    names the shortage (专业人才缺乏). Doubling the pool adds about 3.3 social workers on this
    street, not 6: the posts channel pays for about 4 per 10,000.

    Need satisfaction used not to move (x2: +0.5 pt [-0.1, +1.0]): purchase money that found
    no social worker (posts unfilled, professional projects unstaffed) moved at the quarterly
    reviews to block grants, whose community workers served the care needs the missing
    professionals left (x1/2: +9 community workers and +1,100 care needs met over 2 seeds).
    Now purchase money is earmarked (`funding.purchase_earmarked`, 专款专用): what it cannot
    buy is returned at the year's end; and posts are recruited after the projects' staff are
    released and at each quarterly review, so social workers the pool has do not sit idle
    beside unspent post money."""
    pool = Params().providers.sw_per_10k
    for factor, sign in ((2.0, +1), (0.5, -1)):
        over = (*PANEL_B, f"providers.sw_per_10k={pool * factor!r}")
        for key in ("need_satisfaction_rate", "professional_needs_satisfaction"):
            e = paired_ci("base.yaml", PANEL_B, over, key, SEEDS_B12)
            assert binds(e, sign), (factor, key, e)


# ---------------------------------------------------------------- the policies
@pytest.mark.parametrize(
    "policy",
    [
        # measured on panel A when written (target metric, on - off, 95% interval):
        "credit",  # resolution rate +1.5 pt [+0.5, +2.5]
        "purchase",  # professional satisfaction +9.1 pt [+7.6, +10.5]
        "project_teams",  # active volunteers +24 [+17, +32]
        "professionalization",  # professional satisfaction +9.9 pt [+6.4, +13.3]
        "surveys",  # hidden needs discovered +11.5 pt [+10.8, +12.2]
        "volunteer_mgmt",  # retention +9.6 pt [+8.5, +10.6]
        "time_bank",  # retention +2.2 pt [+1.3, +3.1] (recipients only; +3.5 before)
        "mobilization",  # active volunteers +39 [+28, +50]
        "joint_meeting",  # complex cases resolved +10.0 pt [+6.4, +13.6]
        "team_building",  # skill-1 volunteers +4.2 pt [+2.9, +5.4]
        "codelivery",  # professional satisfaction +11.9 pt [+9.4, +14.4]
        "community_work",  # hidden needs discovered (issue 21)
        "charity",  # donations to the community fund (issue 21)
        "consultation",  # project list fit to the need mix +2.9 pt [+1.4, +4.4]
        "claiming",  # need satisfaction +1.6 pt [+0.7, +2.4]
        # supervision: test_supervision_lowers_social_workers_quits (panel B, 12 seeds);
        # group_work: tests/test_methods.py (professional satisfaction +3.7 pt [+2.8, +4.5])
    ],
)
def test_policy_moves_its_target(policy):
    """Each policy, switched in base on panel A, moves its target metric in the seed's
    direction with a 95% interval that excludes 0."""
    e, sign = policy_effect(policy, PANEL_A, SEEDS_A)
    assert binds(e, sign), (policy, TARGETS[policy], e)


def test_supervision_lowers_social_workers_quits():
    """Supervision (督导) in base, turnover on (the default): the social workers' yearly quit
    rate falls by 5.6 pt [-10.9, -0.3] (panel B, 12 seeds; base 17%, published 18-22%: pattern
    P15). Its quality gain (+0.05 on social workers' sessions) is diluted in the street's mean
    service quality, which volunteers and community workers mostly deliver (+0.5 pt [-0.1,
    +1.1]); tests/test_careers.py shows it on a street with many social workers."""
    e, sign = policy_effect("supervision", PANEL_B, SEEDS_B12)
    assert binds(e, sign), e


def test_platform_evens_out_communities():
    """The platform pools the street: the gap between the best and worst community's need
    satisfaction falls by 5.1 pt [-7.0, -3.2] (panel B). It does not raise need satisfaction
    in a busy street (-0.3 pt, not significant): the needs it brings in faster wait for the same
    busy providers (docs/validation.md)."""
    e, sign = policy_effect("platform", PANEL_B, SEEDS_B)
    assert binds(e, sign), e


def test_evaluation_raises_the_resolution_of_contracted_services():
    """Third-party evaluation (a failed mid-term review ends the contract, low grades improve,
    good grades win bids, quarterly process checks issue rectification notices): contracted
    services resolve +4.9 pt [+2.4, +7.5] more (panel B, base minus base without evaluation;
    +2.9 pt [+0.1, +5.8] before process evaluation)."""
    e, sign = policy_effect("evaluation", PANEL_B, SEEDS_B)
    assert binds(e, sign), e


def test_process_evaluation_raises_the_resolution_of_contracted_services():
    """Process evaluation (过程评估, quarterly checks of the service records with rectification
    notices and early termination for a severe shortfall) next to the mid-term and final
    reviews: contracted services resolve +2.2 pt [+1.2, +3.2] more (panel B, base minus base
    with `process_weeks` 0)."""
    metric, sign = TARGETS["evaluation"]
    off = (*PANEL_B, "policies.evaluation.process_weeks=0")
    e = paired_ci("base.yaml", off, PANEL_B, metric, SEEDS_B)
    assert binds(e, sign), e


def test_cultivation_founds_organizations_when_incubation_has_money():
    """Cultivation needs its money: on 培育+购买 (5% of the budget to incubation), removing it
    lowers community organizations per community by 0.17 [0.01, 0.32] (panel B, 12 seeds: the
    effect is small in two years). In base, with no incubation money, its boost is zero by
    design (tests/test_defects.py)."""
    e, sign = policy_effect(
        "cultivation", PANEL_B, SEEDS_B12, rel="modes/cultivation_purchase.yaml"
    )
    assert binds(e, sign), e


def test_full_linkage_beats_siloed_at_equal_budget(capsys):
    """Full 四社联动 against the siloed baseline, same budget, paired seeds (panel B): need
    satisfaction is higher, with a 95% interval above zero."""
    e = paired_ci(
        "modes/siloed.yaml",
        PANEL_B,
        PANEL_B,
        "need_satisfaction_rate",
        SEEDS_B[:4],
        rel_on="modes/full_linkage.yaml",
    )
    budgets = {
        (p.funding.special_fund, p.funding.lottery_fund)
        for p in (
            scenario_params(rel, *PANEL_B, small=False)
            for rel in ("modes/siloed.yaml", "modes/full_linkage.yaml")
        )
    }
    assert len(budgets) == 1
    with capsys.disabled():
        print(
            f"\nfull linkage - siloed, need satisfaction: {e[0]:+.3f} (95% CI {e[1]:+.3f} to "
            f"{e[2]:+.3f}, 4 paired seeds)"
        )
    assert binds(e, +1), e


# ---------------------------------------------------------------- mechanisms
def test_time_bank_portability_raises_redemptions():
    """通存通兑: portable credits can be redeemed with providers of any community."""
    base = (
        *PANEL_A,
        "policies.time_bank.enabled=true",
        "policies.platform.enabled=true",
        "policies.time_bank.redeem_share=0.5",
    )
    d = [
        summary("base.yaml", (*base, "policies.time_bank.portable=true"), s)[
            "timebank_hours_redeemed"
        ]
        - summary("base.yaml", base, s)["timebank_hours_redeemed"]
        for s in SEEDS_A[:3]
    ]
    assert min(d) > 0


def test_time_bank_credits_service_to_its_registered_recipients_only():
    """Only service to the bank's registered recipients (服务对象) earns credit: the share is
    drawn once per resident from its own stream, a non-recipient's need earns nothing, and at
    share 1 every resident is a recipient. Table: share -> recipients drawn, deposits."""
    rows = []
    for share in (0.4, 0.7, 1.0):
        m = LinkageModel(
            scenario_params(
                "base.yaml",
                *PANEL_A,
                "policies.time_bank.enabled=true",
                f"policies.time_bank.recipient_share={share}",
                "run.weeks=26",
                "run.warmup_weeks=0",
                small=False,
            ),
            seed=3,
        )
        bank = m.volunteers.time_bank
        assert bank.recipient.mean() == pytest.approx(share, abs=0.02)
        m.run()
        rows.append(bank.totals["deposited"])
        non = int(np.flatnonzero(~bank.recipient)[0]) if share < 1 else None
        if non is not None:
            care = bank.need_names.index("life_care")
            before = bank.balance[0]
            bank.deposit(0, 2.0, care, non)
            assert bank.balance[0] == before
            yes = int(np.flatnonzero(bank.recipient)[0])
            bank.deposit(0, 2.0, care, yes)
            assert bank.balance[0] == pytest.approx(min(before + 2.0, bank.cap))
    assert rows[0] < rows[1] < rows[2], rows
    # deposits scale with the share of recipients (about share x, within sampling)
    assert rows[0] / rows[2] == pytest.approx(0.4, abs=0.1)
    assert rows[1] / rows[2] == pytest.approx(0.7, abs=0.1)


def test_evaluation_pass_mark_fails_and_terminates_more_contracts():
    """The pass mark is the evaluation's lever: raising it fails more reviews, and a failed
    mid-term review terminates its contract."""
    out = []
    for mark in (60, 75):
        m = LinkageModel(
            scenario_params(
                "base.yaml", *PANEL_A, f"policies.evaluation.pass_mark={mark}", small=False
            ),
            seed=2,
        )
        m.run()
        ev = next(p for p in m.policies if p.name == "evaluation")
        out.append((ev.fails, ev.terminated))
    assert out[1][0] > out[0][0] and out[1][1] > 0


def test_process_checks_warn_below_the_notice_mark_and_end_severe_shortfalls():
    """A process check (the contract's week 13) below `process_warn` issues a rectification
    notice, below `process_terminate` ends the contract; with `process_weeks` 0 none runs. The
    summary counts both on the contracts (`rectification_notices_per_contract`,
    `contracts_terminated_share`)."""
    out = {}
    for name, extra in (
        (
            "warn",
            ("policies.evaluation.process_warn=100", "policies.evaluation.process_terminate=0"),
        ),
        ("end", ("policies.evaluation.process_terminate=100",)),
        ("off", ("policies.evaluation.process_weeks=0",)),
    ):
        m = LinkageModel(
            scenario_params(
                "base.yaml", *PANEL_A, "run.weeks=16", "run.warmup_weeks=0", *extra, small=False
            ),
            seed=3,
        )
        m.run()
        out[name] = (next(p for p in m.policies if p.name == "evaluation"), m)
    ev, m = out["warn"]
    assert len(ev.process_scores) > 0 and ev.warnings == len(ev.process_scores)
    assert ev.process_terminated == 0 and len(m.organizations.contracts) > 0
    history = m.organizations.contract_history
    assert sum(c.notices for c in history) == ev.warnings
    s = m.summary()
    assert s["rectification_notices_per_contract"] == pytest.approx(ev.warnings / len(history))
    assert s["contracts_terminated_share"] == 0.0
    ev, m = out["end"]
    assert ev.process_terminated == len(ev.process_scores) > 0
    assert not m.organizations.contracts
    assert m.summary()["contracts_terminated_share"] == 1.0
    ev, m = out["off"]
    assert ev.process_scores == [] and ev.warnings == 0
    s = m.summary()
    assert s["rectification_notices_per_contract"] == 0.0 and s["contracts_terminated_share"] == 0.0


@pytest.mark.parametrize(
    "rel",
    [
        "modes/full_linkage.yaml",
        "funding/timebank_subsidy.yaml",
        "funding/project_procurement.yaml",
    ],
)
def test_ledgers_balance(rel):
    """Time-bank balance == deposits - redemptions - expiries; every contract payment and post
    salary appears in spending; nothing is spent beyond the budget."""
    m = LinkageModel(
        scenario_params(
            rel, "policies.time_bank.expiry_weeks=20", "policies.time_bank.redeem_share=0.5"
        ),
        seed=9,
    )
    m.run()
    assert check_invariants(m) == []
    bank = m.volunteers.time_bank
    tb = bank.totals
    assert bank.balance.sum() == pytest.approx(tb["deposited"] - tb["redeemed"] - tb["expired"])
    history = m.organizations.contract_history
    assert sum(c.paid for c in history) == pytest.approx(m.gov.spent_total["procurement"])
    assert all(c.paid <= c.value + 1e-6 for c in history)
    assert sum(m.gov.spent_total.values()) <= m.gov.budget_total + 1e-6
