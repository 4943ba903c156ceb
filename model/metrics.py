"""Weekly records (preallocated arrays, no per-step DataFrame appends), the run summary, and the
invariants every run must satisfy.

Summary metrics follow DESIGN.md's contract. They count the cohort of needs raised after the
warm-up, so `needs_arisen == needs_met + needs_abandoned + needs_pending` holds by status, and
the flow counters recorded week by week must agree with the need table (`check_invariants`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.agents import WEEK, Kind
from model.needs import (
    ABANDONED,
    F_COMPLEX,
    F_DISCOVERED,
    F_ESCALATED,
    F_HIDDEN,
    F_JOINT,
    F_RESOLVED,
    F_RETURNED,
    IN_SERVICE,
    MET,
    WAITING,
)
from model.params import CHANNELS, GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel

SERIES = (
    "needs_arisen",
    "needs_met",
    "needs_abandoned",
    "needs_pending",
    "needs_resolved",
    "need_satisfaction_rate",
    "mean_wait_hours",
    "active_volunteers",
    "registered_volunteers",
    "volunteer_hours",
    "volunteer_duty_hours",
    "volunteer_dropouts",
    "sw_count",
    "sw_utilization",
    "sw_duty_hours",
    "sw_overtime_hours",
    "sw_sessions",
    "sw_open_cases",
    "so_count",
    "community_orgs",
    "referrals",
    "joint_meeting_resolutions",
    "gov_spending_total",
    *(f"spending_{c}" for c in CHANNELS),
    "timebank_hours_deposited",
    "timebank_hours_redeemed",
    "timebank_hours_expired",
    "timebank_balance",
    "timebank_liability_yuan",
    "trust_mean",
    *(f"satisfaction_{g}" for g in GROUPS),
    "charity_donations",
    "charity_matched",
    "charity_grants",
    "charity_balance",
    "sw_quits",
    "sw_vacancies",
)
"""Columns of the weekly time series (besides `week`)."""


class Recorder:
    """Collects one row of weekly metrics into preallocated arrays.

    Each subsystem keeps its own weekly counters (the population its needs raised, the desk
    its services, the time bank its deposits, the government its spending); the recorder reads
    them at the week's close, before they are reset.

    Args:
        model: The model being recorded.
    """

    def __init__(self, model: LinkageModel) -> None:
        self.model = model
        self.weeks = model.p.run.weeks
        self.data = {k: np.zeros(self.weeks) for k in SERIES}
        self.cum = {"arisen": 0, "met": 0, "abandoned": 0}
        self._prev_active: np.ndarray | None = None

    def open_from(self) -> int:
        """Deprecated: use `model.needs.first_open()`."""
        warnings.warn(
            "Recorder.open_from is deprecated: use model.needs.first_open()",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.model.needs.first_open()

    def record_week(self, met: np.ndarray, ab: np.ndarray) -> None:
        """Record the week just run (nothing past `run.weeks`).

        Args:
            met: Ids of the needs met this week.
            ab: Ids of the needs abandoned this week.
        """
        m = self.model
        w = m.week
        if w >= self.weeks:
            return
        d = self.data
        nt = m.needs
        res = m.residents
        desk = m.desk
        tb = m.volunteers.time_bank
        arisen = m.population.arisen_week
        lo = nt.first_open()
        d["needs_arisen"][w] = arisen
        d["needs_met"][w] = len(met)
        d["needs_abandoned"][w] = len(ab)
        st_open = nt.status[lo : nt.n]
        d["needs_pending"][w] = np.count_nonzero(st_open < MET)  # open needs
        d["needs_resolved"][w] = np.count_nonzero(nt.flags[met] & F_RESOLVED) if len(met) else 0
        self.cum["arisen"] += arisen
        self.cum["met"] += len(met)
        self.cum["abandoned"] += len(ab)
        sat = m.population.satisfaction_of(met)
        resolved = len(met) + len(ab)
        d["need_satisfaction_rate"][w] = sat.sum() / resolved if resolved else np.nan
        d["mean_wait_hours"][w] = (
            float((nt.t_start[met] - nt.t_raise[met]).mean()) if len(met) else np.nan
        )
        g_res = np.bincount(
            np.concatenate([nt.group[met], nt.group[ab]]).astype(np.int64), minlength=len(GROUPS)
        )
        g_sat = np.bincount(nt.group[met].astype(np.int64), weights=sat, minlength=len(GROUPS))
        for gi, g in enumerate(GROUPS):
            d[f"satisfaction_{g}"][w] = g_sat[gi] / g_res[gi] if g_res[gi] else np.nan
        active = res.vol_state == 2
        d["active_volunteers"][w] = np.count_nonzero(active)
        d["registered_volunteers"][w] = np.count_nonzero(res.vol_state > 0)
        if self._prev_active is not None:
            d["volunteer_dropouts"][w] = np.count_nonzero(self._prev_active & ~active)
        self._prev_active = active
        d["volunteer_hours"][w] = desk.week_vol_hours
        d["volunteer_duty_hours"][w] = desk.week_shift[Kind.VOLUNTEER]
        n_sw = m.workforce.sw_employed()
        d["sw_count"][w] = n_sw
        shift = desk.week_shift[Kind.SOCIAL_WORKER]  # scheduled plus overtime
        d["sw_utilization"][w] = (
            min(1.0, desk.week_busy[Kind.SOCIAL_WORKER] / shift) if shift > 0 else np.nan
        )
        d["sw_duty_hours"][w] = shift
        d["sw_overtime_hours"][w] = desk.week_overtime[Kind.SOCIAL_WORKER]
        d["sw_sessions"][w] = desk.week_sessions[Kind.SOCIAL_WORKER]
        # Open professional cases: level-2 needs whose first session began and that are not
        # closed (in a session, between sessions, or waiting for the next one), per SW.
        sl = slice(lo, nt.n)
        open_cases = np.count_nonzero(
            (nt.level[sl] == 2)
            & (st_open >= WAITING)
            & (st_open <= IN_SERVICE)
            & (nt.t_start[sl] > 0)
        )
        d["sw_open_cases"][w] = open_cases / n_sw if n_sw else np.nan
        orgs = m.organizations.operating()
        d["so_count"][w] = len(orgs)
        d["community_orgs"][w] = sum(o.org_kind == "endogenous" for o in orgs)
        d["referrals"][w] = desk.week_referrals
        d["joint_meeting_resolutions"][w] = (
            int((nt.flags[met] & F_ESCALATED).astype(bool).sum()) if len(met) else 0
        )
        total = 0.0
        for c in CHANNELS:
            d[f"spending_{c}"][w] = m.gov.spent_week[c]
            total += m.gov.spent_week[c]
        d["gov_spending_total"][w] = total
        d["timebank_hours_deposited"][w] = tb.week_totals["deposited"]
        d["timebank_hours_redeemed"][w] = tb.week_totals["redeemed"]
        d["timebank_hours_expired"][w] = tb.week_totals["expired"]
        bal = float(tb.balance.sum())
        d["timebank_balance"][w] = bal
        d["timebank_liability_yuan"][w] = bal * tb.price
        d["trust_mean"][w] = float(res.trust.mean())
        ch = m.charity
        d["charity_donations"][w] = ch.week_donated
        d["charity_matched"][w] = ch.week_matched
        d["charity_grants"][w] = ch.week_granted
        d["charity_balance"][w] = ch.balance
        d["sw_quits"][w] = m.careers.quits_week
        d["sw_vacancies"][w] = m.careers.vacant_week

    def _execution(
        self, w0: int, n_weeks: int, spend: dict[str, float], years: float
    ) -> dict[str, float]:
        """Budget execution over the budget years the summary's weeks overlap, each weighted by
        the share of its weeks inside the window: the year's spending (the closed ledger, or, for
        the year still open, spending so far) over its allocation, for the run and per channel;
        money returned at the end of a budget year and money moved to the fallback channel.

        A year counts whole, not pro rata by week: spending is lumpy (contracts are paid at
        signature and at evaluation), so spending in part of a year against that part's share
        of the allocation can exceed 1. The open year's rate is what it has executed so far.
        `spend` (the window's spending) is not used: the ledger is the execution's owner.
        """
        gov = self.model.gov
        alloc = dict.fromkeys(CHANNELS, 0.0)
        spent = dict.fromkeys(CHANNELS, 0.0)
        returned = moved = 0.0
        for year, led in gov.ledger.items():
            share = _overlap(year, w0, n_weeks)
            if share <= 0:
                continue
            closed = year in gov.closed
            for c in CHANNELS:
                alloc[c] += share * led["allocated"][c]
                spent[c] += share * (led["spent"][c] if closed else gov.spent_year[c])
                moved += share * led["moved_out"][c]
                if closed:
                    returned += share * led["returned"][c]
        total_alloc = sum(alloc.values())
        out = {
            "budget_allocated": float(total_alloc),
            "budget_execution_rate": float(sum(spent.values()) / total_alloc)
            if total_alloc > 0
            else float("nan"),
            "gov_returned": float(returned),
            "gov_returned_annual": float(returned / years) if years > 0 else float("nan"),
            "gov_moved_to_fallback": float(moved),
        }
        for c in CHANNELS:
            out[f"budget_execution_rate_{c}"] = (
                float(spent[c] / alloc[c]) if alloc[c] > 1e-9 else float("nan")
            )
        return out

    # ------------------------------------------------------------------ outputs
    def timeseries(self) -> pd.DataFrame:
        """The weeks recorded so far, one row each (`week` and the SERIES columns)."""
        n = min(self.model.week, self.weeks)
        df = pd.DataFrame({k: v[:n] for k, v in self.data.items()})
        df.insert(0, "week", np.arange(n))
        return df

    def summary(self) -> dict[str, float]:
        """Post-warm-up summary metrics (DESIGN.md contract, plus breakdowns)."""
        m = self.model
        p = m.p
        nt = m.needs
        d = self.data
        n_weeks = min(m.week, self.weeks)
        w0 = min(p.run.warmup_weeks, max(0, n_weeks - 1))
        post = slice(w0, n_weeks)
        t_w0 = w0 * WEEK
        cohort = np.flatnonzero(nt.view("t_raise") >= t_w0)
        st = nt.status[cohort]
        met_ids = cohort[st == MET]
        arisen = len(cohort)
        n_met = len(met_ids)
        n_ab = int((st == ABANDONED).sum())
        sat_met = m.population.satisfaction_of(met_ids)
        sat_all = np.zeros(arisen)
        sat_all[st == MET] = sat_met
        waits = nt.t_start[met_ids] - nt.t_raise[met_ids]
        out: dict[str, float] = {
            "needs_arisen": float(arisen),
            "needs_met": float(n_met),
            "needs_abandoned": float(n_ab),
            "needs_pending": float(arisen - n_met - n_ab),
            "need_satisfaction_rate": float(sat_all.mean()) if arisen else float("nan"),
            "needs_met_rate": n_met / arisen if arisen else float("nan"),
            "mean_wait_hours": float(waits.mean()) if n_met else float("nan"),
            "p90_wait_hours": float(np.percentile(waits, 90)) if n_met else float("nan"),
            "professional_match_rate": float((nt.skill[met_ids] >= nt.level[met_ids]).mean())
            if n_met
            else float("nan"),
            "service_quality_mean": float(nt.quality[met_ids].mean()) if n_met else float("nan"),
        }
        fl = nt.flags[cohort]
        resolved = (fl & F_RESOLVED > 0) & (st == MET)
        out["needs_served"] = float(n_met)
        out["needs_resolved"] = float(resolved.sum())
        out["resolution_rate"] = float(resolved.sum()) / n_met if n_met else float("nan")
        out["needs_returned_share"] = (
            float((fl & F_RETURNED > 0).mean()) if arisen else float("nan")
        )
        cx = fl & F_COMPLEX > 0
        out["complex_resolved_share"] = float(resolved[cx].mean()) if cx.any() else float("nan")
        out["joint_cases"] = float((fl & F_JOINT > 0).sum())
        lvl2 = nt.level[cohort] == 2
        out["professional_needs_satisfaction"] = (
            float(sat_all[lvl2].mean()) if lvl2.any() else float("nan")
        )
        care = ~m.catalog.professional[nt.ntype[cohort]]
        out["care_needs_satisfaction"] = float(sat_all[care].mean()) if care.any() else float("nan")
        hid = (fl & F_HIDDEN).astype(bool)
        out["hidden_discovered_share"] = (
            float((fl[hid] & F_DISCOVERED).astype(bool).mean()) if hid.any() else float("nan")
        )
        lvl0 = nt.level[cohort] == 0
        out["level0_needs_met_rate"] = (
            float((st[lvl0] == MET).mean()) if lvl0.any() else float("nan")
        )
        spend = {c: float(d[f"spending_{c}"][post].sum()) for c in CHANNELS}
        total = float(sum(spend.values()))
        years = (n_weeks - w0) / 52.0
        out["gov_spending_total"] = total
        out["gov_spending_annual"] = total / years if years > 0 else float("nan")
        out.update(self._execution(w0, n_weeks, spend, years))
        # Accrual: cash plus the change in the time bank's liability (credits at the shadow
        # price) over the same weeks.
        liab = d["timebank_liability_yuan"]
        l_end = float(liab[n_weeks - 1]) if n_weeks else 0.0
        l_start = float(liab[w0 - 1]) if w0 > 0 else 0.0
        accrual = total + l_end - l_start
        out["gov_cost_accrual"] = float(accrual)
        out["gov_cost_accrual_annual"] = accrual / years if years > 0 else float("nan")
        out["cost_per_need_met"] = accrual / n_met if n_met else float("nan")
        out["cost_per_need_met_cash"] = total / n_met if n_met else float("nan")
        act = d["active_volunteers"][post]
        reg = d["registered_volunteers"][post]
        out["active_volunteers"] = float(act.mean())
        out["registered_volunteers"] = float(reg.mean())
        out["volunteer_hours"] = float(d["volunteer_hours"][post].sum())
        out["volunteer_hours_per_registered_year"] = (
            out["volunteer_hours"] / out["registered_volunteers"] / years
            if out["registered_volunteers"] > 0 and years > 0
            else 0.0
        )
        duty = float(d["volunteer_duty_hours"][post].sum())
        out["volunteer_duty_hours_per_registered_year"] = (
            duty / out["registered_volunteers"] / years
            if out["registered_volunteers"] > 0 and years > 0
            else 0.0
        )
        drops = d["volunteer_dropouts"][post]
        prev_act = d["active_volunteers"][max(0, w0 - 1) : n_weeks - 1]
        k = min(len(drops), len(prev_act))
        wk_rate = (
            float(drops[:k].sum() / prev_act[:k].sum()) if k and prev_act[:k].sum() > 0 else 0.0
        )
        out["volunteer_retention_annual"] = float((1.0 - wk_rate) ** 52)
        out["timebank_hours_deposited"] = float(d["timebank_hours_deposited"][post].sum())
        out["timebank_hours_redeemed"] = float(d["timebank_hours_redeemed"][post].sum())
        out["timebank_hours_expired"] = float(d["timebank_hours_expired"][post].sum())
        tb = m.volunteers.time_bank
        out["timebank_balance"] = float(tb.balance.sum())
        out["timebank_liability_yuan"] = out["timebank_balance"] * tb.price
        out["so_count"] = float(len(m.organizations))
        out["community_orgs_per_community"] = float(
            d["community_orgs"][post].mean() / p.street.n_communities
        )
        out["sw_count"] = float(d["sw_count"][post].mean())
        util = d["sw_utilization"][post]
        out["sw_utilization"] = float(np.nanmean(util)) if np.isfinite(util).any() else float("nan")
        duty = float(d["sw_duty_hours"][post].sum())
        over = float(d["sw_overtime_hours"][post].sum())
        out["sw_overtime_share"] = over / (duty - over) if duty > over else float("nan")
        sw_years = out["sw_count"] * years
        out["sw_contacts_per_sw_year"] = (
            float(d["sw_sessions"][post].sum()) / sw_years if sw_years > 0 else float("nan")
        )
        cases = d["sw_open_cases"][post]
        out["sw_open_cases"] = (
            float(np.nanmean(cases)) if np.isfinite(cases).any() else float("nan")
        )
        cons = [c for c in m.organizations.contract_history if c.start_week >= w0]
        served = sum(c.served for c in cons)
        out["contract_resolution_rate"] = (
            sum(c.resolved for c in cons) / served if served else float("nan")
        )
        # What evaluation did to those contracts: ended early (a failed mid-term review or a
        # severe process-check shortfall), and rectification notices from process checks.
        out["contracts_terminated_share"] = (
            sum(c.terminated for c in cons) / len(cons) if cons else float("nan")
        )
        out["rectification_notices_per_contract"] = (
            sum(c.notices for c in cons) / len(cons) if cons else float("nan")
        )
        out["procurement_need_fit"] = procurement_need_fit(m, w0, n_weeks)
        act_skill = m.residents.vol_skill[m.residents.vol_state == 2]
        out["volunteer_skill1_share"] = (
            float((act_skill >= 1).mean()) if len(act_skill) else float("nan")
        )
        out["referrals"] = float(d["referrals"][post].sum())
        out["joint_meeting_resolutions"] = float(
            (nt.flags[met_ids] & F_ESCALATED).astype(bool).sum()
        )
        out["trust_mean"] = float(m.residents.trust.mean())
        for c in CHANNELS:
            out[f"spending_{c}"] = spend[c]
        # The charitable channel (社会慈善资源), beside public money.
        for k in ("charity_donations", "charity_matched", "charity_grants"):
            out[k] = float(d[k][post].sum())
        out["charity_balance"] = float(m.charity.balance)
        out["charity_projects"] = float(m.charity.projects)
        out["charity_project_hours"] = m.charity.project_hours()
        out["charity_pledged_hours"] = m.charity.pledged_hours()
        # Social workers' careers: quits after the warm-up and their yearly rate; vacant posts.
        quits = float(d["sw_quits"][post].sum())
        out["sw_quits"] = quits
        sw_years = float(d["sw_count"][post].sum()) / 52.0
        out["sw_quit_rate_annual"] = quits / sw_years if sw_years > 0 else 0.0
        out["sw_vacancies"] = float(d["sw_vacancies"][post].mean())
        # Equity: satisfaction by resident group and by community.
        grp = nt.group[cohort]
        by_g = []
        for gi, g in enumerate(GROUPS):
            mask = grp == gi
            v = float(sat_all[mask].mean()) if mask.any() else float("nan")
            out[f"satisfaction_{g}"] = v
            if mask.any() and g != "general":
                by_g.append(v)
        out["satisfaction_min_group"] = float(min(by_g)) if by_g else float("nan")
        out["equity_group_gap"] = float(max(by_g) - min(by_g)) if by_g else float("nan")
        com = nt.community[cohort]
        by_c = []
        for c in range(p.street.n_communities):
            mask = com == c
            v = float(sat_all[mask].mean()) if mask.any() else float("nan")
            out[f"satisfaction_c{c:02d}"] = v
            if mask.any():
                by_c.append(v)
        out["equity_community_gap"] = float(max(by_c) - min(by_c)) if by_c else float("nan")
        return out


def procurement_need_fit(m: LinkageModel, w0: int, n_weeks: int) -> float:
    """How closely the project list follows the needs residents have: for each procurement
    round from week `w0` on, the overlap sum(min(value share, need share)) over (community,
    service area) of the money of the projects put to tender (awarded or not) and of the hours
    of the level-1 and level-2 needs raised in the contract year (hidden or not, met or not);
    the rounds' mean, weighted by money (1: money in exact proportion to needs; NaN: no round).
    """
    nt = m.needs
    nc = m.p.street.n_communities
    prof = m.catalog.professional
    rounds: dict[int, np.ndarray] = {}
    for week, c, area, value in m.organizations.tenders:
        if w0 <= week < n_weeks:
            v = rounds.setdefault(week, np.zeros((nc, 2)))
            v[c, 0 if area == "professional" else 1] += value
    t = nt.view("t_raise")
    fits, weights = [], []
    for start, v in sorted(rounds.items()):
        ids = np.flatnonzero(
            (t >= start * WEEK) & (t < min(start + 52, n_weeks) * WEEK) & (nt.view("level") >= 1)
        )
        area = (~prof[nt.ntype[ids]]).astype(np.int64)
        flat = nt.community[ids].astype(np.int64) * 2 + area
        need = np.bincount(flat, weights=nt.hours[ids], minlength=nc * 2).reshape(nc, 2)
        if need.sum() <= 0 or v.sum() <= 0:
            continue
        fits.append(float(np.minimum(v / v.sum(), need / need.sum()).sum()))
        weights.append(float(v.sum()))
    return float(np.average(fits, weights=weights)) if fits else float("nan")


def _overlap(year: int, w0: int, n_weeks: int) -> float:
    """Share of budget year `year` inside the weeks [w0, n_weeks)."""
    lo, hi = max(w0, 52 * year), min(n_weeks, 52 * year + 52)
    return max(0, hi - lo) / 52.0


def check_invariants(model: LinkageModel, summary: dict[str, float] | None = None) -> list[str]:
    """Invariants every run must satisfy; returns the violations (empty when all hold).

    - needs conserved: arisen == met + abandoned + pending, for the summary cohort and for the
      weekly flow counters against the need table;
    - spending: channels add up to the total, each year within its budget, never negative;
    - budget ledger: per channel and budget year, allocated + moved in == spent + moved out +
      returned (unspent, for the open year), and moves add up to zero;
    - time bank: balance == deposited - redeemed - expired, no account negative or above cap;
    - charity fund: balance == seed + donations + public match - grants, and the weekly records
      add up to the run's totals.
    """
    out: list[str] = []
    s = summary if summary is not None else model.summary()
    if s["needs_arisen"] != s["needs_met"] + s["needs_abandoned"] + s["needs_pending"]:
        out.append("cohort needs not conserved")
    nt = model.needs
    st = nt.view("status")
    rec = model.recorder
    if rec.cum["arisen"] != nt.n:
        out.append(f"flow arisen {rec.cum['arisen']} != table {nt.n}")
    if rec.cum["met"] != int((st == MET).sum()):
        out.append(f"flow met {rec.cum['met']} != table {(st == MET).sum()}")
    if rec.cum["abandoned"] != int((st == ABANDONED).sum()):
        out.append(f"flow abandoned {rec.cum['abandoned']} != table {(st == ABANDONED).sum()}")
    met = st == MET
    if met.any() and (nt.view("t_start")[met] < nt.view("t_raise")[met] - 1e-9).any():
        out.append("a need started before it arose")
    gov = model.gov
    total = sum(gov.spent_total.values())
    series_total = sum(rec.data[f"spending_{c}"].sum() for c in CHANNELS)
    if abs(total - series_total) > 1e-6 * max(1.0, total):
        out.append(f"spending channels {series_total:.2f} != government total {total:.2f}")
    if total > gov.budget_total * (1 + 1e-9) + 1e-6:
        out.append(f"spending {total:.2f} exceeds the budget {gov.budget_total:.2f}")
    if any(v < -1e-9 for v in gov.spent_total.values()):
        out.append("negative spending")
    for c in gov.spent_year:
        if gov.spent_year[c] > gov.envelope[c] * (1 + 1e-9) + 1e-6:
            out.append(f"channel {c} over its envelope")
    for year, led in gov.ledger.items():
        moved = sum(led["moved_in"].values()) - sum(led["moved_out"].values())
        if abs(moved) > 1e-6 * max(1.0, gov.budget):
            out.append(f"budget year {year}: money moved in != money moved out")
        for c in CHANNELS:
            spent = led["spent"][c] if year in gov.closed else gov.spent_year[c]
            left = led["returned"][c] if year in gov.closed else gov.remaining(c)
            gap = led["allocated"][c] + led["moved_in"][c] - spent - led["moved_out"][c] - left
            if abs(gap) > 1e-6 * max(1.0, led["allocated"][c]):
                out.append(
                    f"budget year {year}, channel {c}: allocated + moved in != spent + moved out"
                    " + returned"
                )
    bank = model.volunteers.time_bank
    tb = bank.totals
    bal = float(bank.balance.sum())
    if abs(bal - (tb["deposited"] - tb["redeemed"] - tb["expired"])) > 1e-6 * max(
        1.0, tb["deposited"]
    ):
        out.append(f"time bank: balance {bal:.4f} != deposited - redeemed - expired")
    per_account = bank.balance - (bank.deposited - bank.redeemed - bank.expired)
    if len(per_account) and np.abs(per_account).max() > 1e-6:
        out.append("time bank: an account's balance != its deposits - redemptions - expiries")
    if (bank.balance < -1e-9).any():
        out.append("time bank: negative account")
    if bank.enabled and (bank.balance > bank.cap + 1e-9).any():
        out.append("time bank: account above cap")
    full = model.week <= rec.weeks  # every week run was recorded
    out.extend(model.charity.ledger_errors(rec.data if full else None))
    for k in (
        "need_satisfaction_rate",
        "resolution_rate",
        "contract_resolution_rate",
        "care_needs_satisfaction",
        "professional_needs_satisfaction",
        "needs_met_rate",
        "professional_match_rate",
        "sw_utilization",
        "volunteer_retention_annual",
    ):
        v = s.get(k, float("nan"))
        if np.isfinite(v) and not (-1e-12 <= v <= 1 + 1e-12):
            out.append(f"{k} = {v} outside [0, 1]")
    return out
