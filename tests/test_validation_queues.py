"""Validation against what is known exactly: queueing formulas and the time bank's books.

The service desk, reduced by `scenarios/validation/mmc.yaml` to an M/M/c queue (and by
`mmc_abandon.yaml` to M/M/c+M), must reproduce the Erlang C formulas, the Erlang A birth-death
chain and Little's law. Tolerances: the mean over 20 replications of (measured - formula) must
lie within 3.5 standard errors of 0 (`experiments.analyses.validation.SE_TOL`; why 3.5: see that module
and shared/NOTES.md). Seeds are fixed, so a failure is reproducible, never a coin toss.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from experiments.analyses import validation as v
from experiments.analyses.validation import (
    LedgerAudit,
    Row,
    Settings,
    audit_run,
    erlang_c,
    ledger_params,
    mmc,
    mmc_abandon,
    providers_census,
    queue_params,
    queue_rows,
)
from model import LinkageModel
from model.agents import Kind, Provider, SocialWorker
from model.needs import MET

TEST_SETTINGS = Settings(
    queue_reps=20,
    queue_weeks=6,
    loads=((5, 0.5), (5, 0.8), (5, 0.9), (3, 0.8)),
    abandon_cases=((5, 1.0, 2.0),),
    workers=2,
    root_seed=9,
)
CASES = (
    "M/M/5 rho=0.5",
    "M/M/5 rho=0.8",
    "M/M/5 rho=0.9",
    "M/M/3 rho=0.8",
    "M/M/5+M rho=1 patience=2h",
)


# ---------------------------------------------------------------------- formulas themselves
def test_queue_formulas_known_values():
    """Erlang C and the Erlang A chain against closed forms they must reduce to."""
    # M/M/1: P(wait) = rho, W_q = rho / (mu - lam).
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc(0.7, 1.0, 1)["wq"] == pytest.approx(0.7 / 0.3)
    # A textbook value: c = 5, a = 4 -> C = 0.5541 (e.g. Kleinrock, Queueing Systems vol. 1).
    assert erlang_c(5, 4.0) == pytest.approx(0.55411, abs=1e-5)
    # Erlang A with almost no abandonment is Erlang C.
    a, c = mmc_abandon(4.0, 1.0, 5, 1e-7), mmc(4.0, 1.0, 5)
    for k in ("p_wait", "wq", "util"):
        assert a[k] == pytest.approx(c[k], rel=1e-4)
    # theta = mu: every need in the system leaves at rate mu, so N ~ Poisson(lam / mu).
    lam, mu, servers = 3.0, 1.0, 2
    r = mmc_abandon(lam, mu, servers, mu)
    pois = [math.exp(-lam) * lam**n / math.factorial(n) for n in range(60)]
    assert r["p_wait"] == pytest.approx(1 - sum(pois[:servers]), rel=1e-9)
    lq = sum(max(n - servers, 0) * p for n, p in enumerate(pois))
    assert r["p_abandon"] == pytest.approx(mu * lq / lam, rel=1e-9)
    with pytest.raises(ValueError, match="unstable"):
        mmc(5.0, 1.0, 5)


# ---------------------------------------------------------------------- the configuration
def test_mmc_scenario_is_exactly_c_always_on_servers():
    """The validation scenario has exactly c social workers, no other provider of any kind,
    one level-2 need type, no policies and no budget; every shift adjoins the next (servers
    never go off duty); nobody is hired, laid off or closed during the run."""
    c = 3
    p = queue_params("mmc.yaml", c=c, rho=0.8, weeks=4)
    m = LinkageModel(p, seed=11)
    assert providers_census(m) == {"SocialWorker": c}
    assert m.desk.roster.tolist() == [[0, 0, c]]
    assert m.catalog.names == ("mmc",) and m.catalog.level.tolist() == [2]
    assert m.catalog.hidden.tolist() == [0.0] and not m.catalog.venue.any()
    assert m.policies == []
    rng = np.random.default_rng(0)
    for s in m.agents_by_type[SocialWorker]:
        for t in rng.uniform(0, p.run.weeks * 168.0, 200):
            start, end = s.next_shift(float(t))
            assert start <= t + 1e-9 < end
    m.run()
    assert providers_census(m) == {"SocialWorker": c}
    assert [type(a).__name__ for a in m.agents if isinstance(a, Provider)] == ["SocialWorker"] * c
    assert all(not o.closed for o in m.organizations) and len(m.organizations) == 1
    assert m.timeseries()["sw_count"].eq(c).all()
    nt = m.needs
    met = nt.view("status") == MET
    assert met.sum() > 1000
    assert (nt.view("provider_kind")[met] == Kind.SOCIAL_WORKER).all()
    assert sum(m.gov.spent_total.values()) == 0.0
    assert m.workforce.sw_available() >= 0


# ---------------------------------------------------------------------- the statistical checks
@pytest.fixture(scope="module")
def queue_table() -> list[Row]:
    return queue_rows(TEST_SETTINGS)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_queue_matches_erlang_formulas_and_littles_law(queue_table, case):
    """P(wait), mean wait and utilization (Erlang C) or abandonment share, P(wait) and mean
    wait (Erlang A), and L_q = lam W_q, each within 3.5 SE over 20 replications."""
    rows = [r for r in queue_table if r.name.startswith(case + ":")]
    assert len(rows) == 4
    bad = [r for r in rows if not r.passed]
    assert not bad, "\n" + v.format_rows(rows)


@pytest.mark.slow
def test_arrivals_are_poisson_at_the_design_rate(queue_table):
    """Realized arrivals over the design rate (sum of each resident's rate x (0.5 + trust))."""
    row = queue_table[-1]
    assert row.name.startswith("arrivals")
    assert row.passed, v.format_rows([row])


def test_statistical_rows_would_catch_a_bias():
    """The 3.5-SE rule flags a 5% bias on data with 1% noise, and passes unbiased data."""
    rng = np.random.default_rng(1)
    truth = np.full(20, 2.0)
    assert v.stat_row("t", "unbiased", truth + rng.normal(0, 0.02, 20), truth).passed
    assert not v.stat_row("t", "biased", truth * 1.05 + rng.normal(0, 0.02, 20), truth).passed


# ---------------------------------------------------------------------- the time-bank ledger
def test_timebank_ledger_balances_per_account():
    """Deposits - redemptions - expiries == balance for every account and for the bank, with
    every flow exercised (cap hits, redemptions, expiries)."""
    m, audit = audit_run(ledger_params(40), seed=4)
    assert audit.violations() == []
    assert min(audit.events.values()) > 0, audit.events
    bank = m.volunteers.time_bank
    assert (bank.balance <= bank.cap + 1e-9).all()
    assert np.abs(audit.account_gap()).max() < 1e-9
    s = m.summary()
    assert s["timebank_balance"] == pytest.approx(float(bank.balance.sum()))


def test_ledger_audit_catches_a_leak():
    """Credit that appears outside deposit/redeem/expiry (a bug) is reported per account."""
    m = LinkageModel(ledger_params(12), seed=4)
    audit = LedgerAudit(m)
    m.run(6)
    m.volunteers.time_bank.balance[7] += 2.5  # a leak: credit from nowhere
    m.run()
    problems = audit.violations()
    assert any("account 7" in p for p in problems)
    assert any("bank balance" in p for p in problems)


# ---------------------------------------------------------------------- regression: zero salary
def test_zero_staff_salary_with_block_grant_budget():
    """`providers.staff_salary` may be 0 (its valid range is 0-1e7), e.g. for a validation
    street where nobody is paid. With a block-grant budget the run must still work."""
    p = queue_params("mmc.yaml", c=2, rho=0.5, weeks=2, extra=["providers.staff_salary=0"])
    m = LinkageModel(p, seed=1)
    m.run()
    assert m.week == p.run.weeks


# ---------------------------------------------------------------------- the command
def test_validate_model_command(monkeypatch, capsys):
    """`linkage validate-model` prints the table and exits 0 only when every check passes."""
    from experiments.interfaces.cli import build_parser
    from experiments.interfaces.commands import validate_model

    good = [Row("analytic", "a check", 1.0, 1.01, 0.05, True, "note")]
    bad = [*good, Row("calibration", "a target", 0.65, 0.72, 0.05, False, "source")]
    seen = {}

    def fake(settings, groups):
        seen["settings"], seen["groups"] = settings, groups
        return list(rows)

    monkeypatch.setattr(v, "run_all", fake)
    parser = build_parser()
    rows = good
    args = parser.parse_args(["validate-model", "--quick", "--only", "analytic", "--workers", "1"])
    assert args.func is validate_model.main
    assert validate_model.main(args) == 0
    assert seen["groups"] == ("analytic",) and seen["settings"].queue_reps == v.QUICK.queue_reps
    out = capsys.readouterr().out
    assert "a check" in out and "PASS" in out and "1 of 1 checks passed" in out
    rows = bad
    assert (
        validate_model.main(
            argparse.Namespace(quick=False, only=None, workers=1, seed=5, json_out=None)
        )
        == 1
    )
    assert seen["settings"].root_seed == 5 and seen["settings"].queue_reps == v.FULL.queue_reps
    assert "FAIL" in capsys.readouterr().out


def test_validate_model_writes_its_table_between_markers(monkeypatch, tmp_path):
    """`--markdown FILE` replaces only the text between the markers; a file without them is
    refused with exit 2 before anything runs."""
    from experiments.interfaces.cli import main

    rows = [Row("patterns", "P1 a band", 3.0, 2.5, 2.0, True, "band [1, 5]; source")]
    calls = []
    monkeypatch.setattr(v, "run_all", lambda settings, groups: calls.append(groups) or rows)
    doc = tmp_path / "validation.md"
    doc.write_text(
        "before\n<!-- validation-table:start (generated) -->\nold\n<!-- validation-table:end -->\n"
        "after\n",
        encoding="utf-8",
    )
    assert (
        main(["validate-model", "--only", "patterns", "--workers", "1", "--markdown", str(doc)])
        == 0
    )
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "| patterns | P1 a band |" in text and "1 of 1 checks pass" in text
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n", encoding="utf-8")
    n = len(calls)
    assert main(["validate-model", "--only", "patterns", "--markdown", str(bare)]) == 2
    assert len(calls) == n and bare.read_text(encoding="utf-8") == "no markers\n"


def test_levers_command_writes_its_tables(monkeypatch, tmp_path, capsys):
    """`linkage levers` runs every arm with the same seeds, prints one line per policy, writes
    the two tables between their markers and exits 0 only when every policy binds when removed
    from full linkage (here: made-up summaries in which each policy's target moves its way)."""
    from experiments.analyses import levers as lv
    from experiments.interfaces.cli import main

    def fake(settings):
        out = {}
        for arm in lv.arms(settings):
            runs = []
            for k in range(settings.reps):
                s = {lever.metric: 0.5 for lever in lv.LEVERS}
                s[lv.NSR] = 0.5 + 0.001 * k
                for lever in lv.LEVERS:
                    if arm in (f"full-{lever.policy}", f"base/{lever.policy}"):
                        s[lever.metric] -= lever.sign * (0.05 + 0.001 * k)
                runs.append(s)
            out[arm] = runs
        return out

    monkeypatch.setattr(lv, "run_levers", fake)
    doc = tmp_path / "v.md"
    doc.write_text("a\n<!-- levers-table:start x -->\n<!-- levers-table:end -->\nb\n", "utf-8")
    assert main(["levers", "--quick", "--reps", "3", "--workers", "1", "--markdown", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "| platform | `equity_community_gap` ↓ |" in text and text.endswith("b\n")
    n_full = sum(lever.in_full for lever in lv.LEVERS)
    assert f"{n_full} of {n_full} policies bind" in capsys.readouterr().out
    assert main(["levers", "--reps", "1"]) == 2
