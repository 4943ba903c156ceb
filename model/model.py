"""`LinkageModel`: one street (街道) of communities, one Mesa step per week.

The order of one step is written once, in `LinkageModel.step`, a comment per phase (Starsim's
loop); `tests/test_model.py` pins it. Policies (model.policies) plug in through one lifecycle:
initialize once, apply each week at phase 2, finalize at the end.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import math
from typing import Any

import mesa
import numpy as np

from model.agents import (
    WEEK,
    Community,
    CommunityWorker,
    Government,
    Provider,
    SocialOrganization,
    SocialWorker,
    Volunteer,
)
from model.mesa_compat import RecorderCollector, apply_flat, seed_from
from model.metrics import Recorder
from model.needs import (
    ABANDONED,
    F_DISCOVERED,
    F_HIDDEN,
    F_REDEEM,
    HELD,
    HIDDEN,
    IN_SERVICE,
    MET,
    WAITING,
    Catalog,
    NeedTable,
)
from model.params import CHANNELS, Params
from model.policies import build_policies
from model.residents import V_ACTIVE, V_NONE, V_REGISTERED, Residents
from model.service import ServiceDesk
from model.streams import Streams

STEP_ORDER = (
    "budget_year",
    "policies",
    "residents",
    "volunteer_turnover",
    "raise_needs",
    "service",
    "close_week",
)
"""The phases of one weekly step, in order."""

MEAN_TENURE_YEARS = 2.9  # mean tenure of volunteers (CALIBRATION.md: mean tenure about 2.9 years)
BASE_DISCOVERY = 0.02  # weekly chance a hidden need surfaces by itself (assumption, range 0-0.05)


@contextlib.contextmanager
def _gc_frozen():
    """Exclude the objects that exist now (the imported libraries, the model as built) from
    Python's cyclic garbage collection while the block runs, and give them back afterwards.

    A run allocates many short-lived objects, so the collector runs often, and each full
    collection walked every object of numpy, pandas, mesa, pydantic...: about a sixth of a run's
    time (docs/performance.md). Objects made during the run are collected as usual; after it,
    `gc.unfreeze` returns the frozen ones to the collector, so nothing leaks. No effect on results.

    The youngest generation is also collected less often (every 20,000 net allocations instead
    of 700): almost everything a run allocates is freed by reference counting, and each young
    collection also scanned the week's live service records (about 5% of a run). The old
    thresholds come back afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class LinkageModel(mesa.Model):
    """The four-society linkage model of one street.

    Mesa's conventions hold (`model.mesa_compat`): flat keyword parameters
    (`LinkageModel(n_residents=10_000, weeks=20, rng=3)`, or dotted paths through `**{...}`),
    `running` turns False after `run.weeks`, and `datacollector` reads the weekly records, so
    `mesa.batch_run(LinkageModel, parameters={...}, ...)` works.

    Args:
        params: Parameters (`Params`, or a mapping validated into one); defaults if None.
        seed: The run's seed; every random stream derives from it.
        rng: Mesa's name for the seed (an int, a SeedSequence or a Generator); give one of the two.
        **flat: Single parameters by field name or dotted path, applied over `params`.
    """

    def __init__(
        self,
        params: Params | dict | None = None,
        *,
        seed: int | None = None,
        rng: Any = None,
        **flat: Any,
    ) -> None:
        if params is None:
            params = Params()
        elif not isinstance(params, Params):
            params = Params.model_validate(params)
        params = apply_flat(params, flat)
        seed = seed_from(seed, rng)
        self.streams = Streams(seed)
        super().__init__(
            rng=np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(1,)))
        )
        self.p = p = params
        self.seed = seed
        self.week = 0
        self.phase_log: list[str] = []
        self.catalog = Catalog.from_params(p)
        self.needs = NeedTable()
        self.residents = Residents(p, self.streams.get("population"))
        self.desk = ServiceDesk(self)
        self.gov = Government(self)
        nc = p.street.n_communities
        sizes = self.residents.community_sizes()
        self.communities = [Community(self, c, sizes[c], p.street.venue_hours) for c in range(nc)]
        # Switches and multipliers that policies set (their defaults are "policy off").
        self.participation_boost = 1.0
        self.discovery_extra = np.zeros(nc)
        self.recruitment_mult = 1.0
        self.recruitment_extra = (
            0.0  # residents per 1,000 per year joining regardless of propensity
        )
        self.hazard_recognized = 1.0  # hazard multiplier for volunteers with a star (recognition)
        self.hazard_credit = 1.0  # hazard multiplier for volunteers holding time-bank credit
        self.hazard_supervised = 1.0  # hazard multiplier for volunteers in a supervised team
        self.star_hours: tuple[float, ...] = ()
        self.timebank_on = False
        self.tb_cap = 0.0
        self.tb_portable = False
        self.tb_redeem_share = 0.0
        self.tb_price = 0.0
        self.tb_expiry_weeks = 0
        self.tb_bankable = np.ones(
            len(p.needs), dtype=bool
        )  # need types whose service earns credit
        self.sw_hours_factor = 1.0
        self.credit_weight = 0.0  # weight of published reputation in procurement (credit policy)  # share of SW service hours left after surveys
        self.extra_channels: set[str] = set()  # channels with an active programme (set by policies)
        self.sw_pool = p.providers.sw_per_10k * p.street.n_residents / 10_000.0
        self.tb = {"deposited": 0.0, "redeemed": 0.0, "expired": 0.0, "backstop_hours": 0.0}
        self.week_tb = {"deposited": 0.0, "redeemed": 0.0, "expired": 0.0}
        self.week_leaders = 0
        self.joint_resolved_ids: set[int] = set()
        self.joint_meeting_hours = 0.0
        self.volunteers: dict[int, Volunteer] = {}
        self.recorder = Recorder(self)
        self._init_providers()
        self.policies = build_policies(p.policies)
        for pol in self.policies:
            pol.initialize(self)
        self.datacollector = RecorderCollector(self)  # Mesa's interface, no per-step cost

    # ================================================================== set-up
    def _quality(self, rng: np.random.Generator, n: int) -> np.ndarray:
        s = self.p.service
        return np.clip(rng.normal(s.quality_mean, s.quality_sd, n), 0.05, 1.0)

    def _init_providers(self) -> None:
        p = self.p
        rng = self.streams.get("init_providers")
        # Community workers (residents' committees).
        n_cw = int(round(p.providers.cw_per_community))
        for com in self.communities:
            for q in self._quality(rng, n_cw):
                com.workers.append(self.hire(CommunityWorker, com.index, 1, "cw", q))
        # Embedded agencies with their core social workers, spread over communities.
        for i in range(p.providers.embedded_orgs):
            org = SocialOrganization(
                self, "embedded", i % len(self.communities), p.providers.embedded_reserve
            )
            for q in self._quality(rng, p.providers.embedded_core_sw):
                if self.sw_available() >= 1:
                    q = float(np.clip(q + org.quality_offset, 0.05, 1.0))
                    self.hire(SocialWorker, org.community, 2, "sw", q, employer=org)
        # Community social organizations.
        n_endo = np.floor(
            p.providers.endogenous_orgs_per_community * np.ones(len(self.communities))
            + rng.random(len(self.communities))
        ).astype(int)
        for c, k in enumerate(n_endo):
            for _ in range(k):
                self.found_organization(c, p.providers.endogenous_reserve)
        # Registered and active volunteers.
        res = self.residents
        vp = p.volunteers
        reg = (
            rng.random(res.n) < vp.registered_share * res.vol_propensity / res.vol_propensity.mean()
        )
        res.vol_state[reg] = V_REGISTERED
        act = reg & (rng.random(res.n) < vp.active_share)
        res.vol_since[act] = -(rng.exponential(MEAN_TENURE_YEARS * 52, act.sum())).astype(
            np.int32
        )  # mean tenure 2.9 y
        for r in np.flatnonzero(act):
            self.activate_volunteer(int(r), skill=int(rng.random() < vp.initial_skill1_share))

    # ================================================================== providers
    def sw_employed(self) -> int:
        return len(self.agents_by_type.get(SocialWorker, ()))

    def sw_available(self) -> float:
        return self.sw_pool - self.sw_employed()

    def hire(
        self,
        cls: type[Provider],
        community: int,
        skill: int,
        role: str,
        quality: float,
        employer: SocialOrganization | None = None,
    ) -> Provider:
        """Create a paid provider and put it on the roster.

        Args:
            cls: SocialWorker, CommunityWorker or ServiceStaff.
            community: Where it works.
            skill: Skill level.
            role: 'sw', 'cw' or 'staff' (sets hours and salary).
            quality: Intrinsic quality.
            employer: The organization paying it (None: the community or the government).
        """
        pp = self.p.providers
        if role == "sw":
            hours = pp.sw_hours * (1 - pp.sw_admin_share) * self.sw_hours_factor
            salary = pp.sw_salary
        elif role == "cw":
            hours = pp.cw_hours * (1 - pp.cw_admin_share)
            salary = pp.staff_salary
        else:
            hours = pp.sw_hours * (1 - pp.sw_admin_share)
            salary = pp.staff_salary
        s = cls(self, community, skill, hours, quality)
        s.salary = salary
        if role == "cw":
            s.days = pp.cw_service_days
        s.employer = employer
        if employer is not None:
            employer.staff.append(s)
        self.desk.add_provider(s)
        return s

    def activate_volunteer(self, r: int, skill: int = 0) -> Volunteer:
        """Resident `r` becomes an active volunteer (a Mesa agent and a server)."""
        res = self.residents
        vp = self.p.volunteers
        rng = self.streams.get("volunteers")
        if res.vol_state[r] != V_ACTIVE and res.vol_since[r] >= 0:
            res.vol_since[r] = self.week
        res.vol_state[r] = V_ACTIVE
        hours = rng.uniform(vp.hours_min, vp.hours_max)
        s = self.p.service
        q = min(1.0, max(0.05, rng.normal(s.quality_mean, s.quality_sd)))  # as _quality, one draw
        res.vol_skill[r] = skill
        v = Volunteer(self, r, int(res.community[r]), skill, q, hours)
        v.stars = self._stars(res.vol_hours[r])
        self.volunteers[r] = v
        self.desk.add_provider(v)
        return v

    def _stars(self, hours: float) -> int:
        return bisect.bisect_right(self.star_hours, hours)  # thresholds reached (ascending)

    def promote_volunteer(self, v: Volunteer) -> None:
        """A volunteer trained (or who learned by co-delivery) moves from skill 0 to 1."""
        if v.skill == 0 and v.on_roster:
            self.desk.change_skill(v, 1)
            self.residents.vol_skill[v.resident] = 1

    def volunteer_served(
        self, v: Volunteer, hours: float, rating: float | None, nid: int = -1
    ) -> None:
        """Service record, stars, motivation and time-bank deposit after a volunteer's service
        (of need `nid`; assisting a social worker passes the need assisted)."""
        res = self.residents
        r = v.resident
        total = float(res.vol_hours[r]) + hours
        res.vol_hours[r] = total
        v.record_hours += hours
        if self.star_hours:
            v.stars = bisect.bisect_right(self.star_hours, total)  # as _stars
        if rating is not None:
            v.motivation += 0.1 * (rating - v.motivation)
        if self.timebank_on and (nid < 0 or self.tb_bankable[self.needs.ntype[nid]]):
            room = max(0.0, self.tb_cap - res.tb_balance[r])
            dep = min(hours, room)
            if dep > 0:
                res.tb_balance[r] += dep
                res.tb_deposited[r] += dep
                res.tb_last[r] = self.week
                self.tb["deposited"] += dep
                self.week_tb["deposited"] += dep

    def timebank_redeem(self, nid: int, s: Provider) -> None:
        """A resident pays for a met need with credits; the backstop pays when a paid provider serves."""
        res = self.residents
        nt = self.needs
        r = int(nt.resident[nid])
        hours = float(nt.hours[nid])
        if not self.tb_portable and s.community != res.community[r]:
            return
        take = min(hours, res.tb_balance[r])
        if take <= 0:
            return
        res.tb_balance[r] -= take
        res.tb_redeemed[r] += take
        res.tb_last[r] = self.week
        self.tb["redeemed"] += take
        self.week_tb["redeemed"] += take
        if s.paid:
            paid = self.gov.spend("timebank", take * self.tb_price)
            self.tb["backstop_hours"] += paid / self.tb_price if self.tb_price > 0 else 0.0

    def found_organization(self, community: int, funds: float) -> SocialOrganization:
        """A community social organization is founded with a volunteer team from its residents."""
        org = SocialOrganization(self, "endogenous", community, funds)
        res = self.residents
        block = res.members(community)
        members = block.start + np.flatnonzero(res.vol_state[block] == V_ACTIVE)
        if len(members):
            rng = self.streams.get("teams")
            pick = rng.choice(
                members, size=min(len(members), self.p.providers.endogenous_team), replace=False
            )
            for r in pick:
                v = self.volunteers.get(int(r))
                if v is not None and v.team is None:
                    v.team = org
                    org.team.append(v)
        return org

    @property
    def organizations(self) -> list[SocialOrganization]:
        return [o for o in self.agents_by_type.get(SocialOrganization, ()) if not o.closed]

    # ================================================================== the step
    def step(self) -> None:
        """Advance one week. The phases, in this order (STEP_ORDER):

        1. budget_year: at a year's first week the government opens its budget envelopes;
        2. policies: each active policy applies (procurement, meetings, surveys, training...);
        3. residents: everyone ages a week, trust relaxes (vectorized);
        4. volunteer_turnover: dropout by hazard and recruitment (vectorized draws);
        5. raise_needs: new needs, discovery of hidden needs, venue slots, posting schedule;
        6. service: SimPy runs the week (matching, queueing, reneging, service, ratings);
        7. close_week: overdue needs abandoned, trust, time-bank expiry, payroll and
           organizations' finances, weekly record.
        """
        self.phase_log.clear()
        self._budget_year()
        self.phase_log.append("budget_year")
        for pol in self.policies:
            pol.apply(self)
        self.phase_log.append("policies")
        self.residents.weekly_update(self.week)
        self.phase_log.append("residents")
        self._volunteer_turnover()
        self.phase_log.append("volunteer_turnover")
        self._raise_needs()
        self.phase_log.append("raise_needs")
        self.desk.env.run(until=(self.week + 1) * WEEK)
        self.phase_log.append("service")
        self._close_week()
        self.phase_log.append("close_week")
        self.week += 1
        self.running = self.week < self.p.run.weeks  # Mesa's stop signal

    def run(self, weeks: int | None = None) -> None:
        """Run `weeks` steps (default: the remaining weeks of `run.weeks`), then finalize."""
        end = self.p.run.weeks if weeks is None else self.week + weeks
        with _gc_frozen():
            while self.week < end:
                self.step()
        if self.week >= self.p.run.weeks:
            self.finalize()

    def finalize(self) -> None:
        for pol in self.policies:
            pol.finalize(self)

    # ------------------------------------------------------------------ phase 1
    def _budget_year(self) -> None:
        if self.week % 52:
            return
        f = self.p.funding
        budget = f.special_fund + f.lottery_fund
        overhead = {ch: 0.0 for ch in CHANNELS}
        for pol in self.policies:
            for ch, amount in pol.overhead(self).items():
                overhead[ch] += amount
        total_over = sum(overhead.values())
        if total_over > budget:  # scale overheads down to the budget
            overhead = {k: v * budget / total_over for k, v in overhead.items()}
            total_over = budget
        programme = budget - total_over
        alloc = f.allocation
        env = dict(overhead)
        for ch in ("procurement", "posts", "venture", "incubation", "timebank", "block_grant"):
            share = getattr(alloc, ch)
            target = ch if (ch == "block_grant" or ch in self.extra_channels) else "block_grant"
            env[target] += programme * share
        self.gov.open_year(self.week // 52, budget, env)
        self._block_grants()

    def _block_grants(self) -> None:
        """Residents' committees spend block grants on more community workers (mostly admin)."""
        pp = self.p.providers
        total = self.gov.remaining("block_grant")
        sizes = np.array([c.n_residents for c in self.communities], dtype=float)
        if pp.staff_salary <= 0:
            target = np.zeros(len(sizes), dtype=int)
        else:
            target = np.floor(total * sizes / sizes.sum() / pp.staff_salary).astype(int)
        rng = self.streams.get("block_grants")
        for com, k in zip(self.communities, target, strict=True):
            while len(com.block_staff) > k:
                com.block_staff.pop().leave()
            while len(com.block_staff) < k:
                com.block_staff.append(
                    self.hire(CommunityWorker, com.index, 1, "cw", float(self._quality(rng, 1)[0]))
                )

    # ------------------------------------------------------------------ phase 4
    def _volunteer_turnover(self) -> None:
        res = self.residents
        vp = self.p.volunteers
        rng = self.streams.weekly("volunteer_turnover", self.week)
        act = np.flatnonzero(res.vol_state == V_ACTIVE)
        if len(act):
            # The published retention is a population figure: scale the zero-tenure hazard so the
            # average over the starting tenure mix (exponential, mean 2.9 years) matches it.
            base = (
                -math.log(vp.retention_annual) / 52.0 * (1.0 + vp.tenure_effect * MEAN_TENURE_YEARS)
            )
            tenure = np.maximum(0, self.week - res.vol_since[act]) / 52.0
            hz = base * np.exp(-vp.tenure_effect * tenure)
            if self.star_hours and self.hazard_recognized != 1.0:
                hz = np.where(
                    res.vol_hours[act] >= self.star_hours[0], hz * self.hazard_recognized, hz
                )
            if self.timebank_on and self.hazard_credit != 1.0:
                hz = np.where(res.tb_balance[act] > 0, hz * self.hazard_credit, hz)
            if self.hazard_supervised != 1.0:
                hz = np.where(res.supervised[act], hz * self.hazard_supervised, hz)
            drop = act[rng.random(len(act)) < -np.expm1(-hz)]
            for r in drop.tolist():
                self.deactivate_volunteer(r)
        # Recruitment: each resident not active joins with probability p_join, raised by their
        # propensity and trust and by policies. p_join is small, so residents are first drawn as
        # candidates at the largest p_join possible (propensity and trust are at most 1), then
        # each candidate is kept with probability p_join / p_max: the same Bernoulli(p_join) per
        # resident, at a cost in candidates (a few hundred) rather than in residents.
        scale = vp.recruitment_rate * self.recruitment_mult / (0.2 * 0.5)
        extra = self.recruitment_extra / 1000.0 / 52.0
        p_max = min(1.0, scale + extra)
        if p_max <= 0:
            return
        k = int(rng.binomial(res.n, p_max))
        cand = (
            np.sort(rng.choice(res.n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
        )
        cand = cand[res.vol_state[cand] != V_ACTIVE]
        p_join = scale * res.vol_propensity[cand].astype(np.float64) * res.trust[cand] + extra
        joined = cand[rng.random(len(cand)) * p_max < p_join]
        for r in joined.tolist():
            self.activate_volunteer(r, skill=0)

    def deactivate_volunteer(self, r: int) -> None:
        """An active volunteer lapses (stays registered); its agent leaves."""
        res = self.residents
        res.vol_state[r] = V_REGISTERED
        res.supervised[r] = False
        v = self.volunteers.pop(r, None)
        if v is not None:
            if v.team is not None and v in v.team.team:
                v.team.team.remove(v)
            v.leave()

    # ------------------------------------------------------------------ phase 5
    def _raise_needs(self) -> None:
        p = self.p
        cat = self.catalog
        res = self.residents
        nt = self.needs
        t0 = self.week * WEEK
        rng = self.streams.weekly("needs", self.week)
        rids, types = res.draw_needs(cat, rng)
        m = len(rids)
        t_raise = t0 + rng.random(m) * WEEK
        pat = cat.patience[types]
        if p.service.patience_dist == "exponential":
            patience = rng.exponential(pat)
        elif p.service.patience_dist == "fixed":
            patience = pat.astype(float)
            rng.random(m)  # keep the stream aligned across patience choices
        else:
            patience = np.full(m, np.inf)
            rng.random(m)
        mean_h = cat.hours[types]
        st = p.service.service_time
        if st == "exponential":
            hours = rng.exponential(mean_h)
        elif st == "lognormal":
            sig = p.service.lognormal_sigma
            hours = mean_h * np.exp(sig * rng.standard_normal(m) - 0.5 * sig * sig)
        else:
            hours = mean_h.astype(float)
            rng.standard_normal(m)
        hidden = rng.random(m) < cat.hidden[types]
        venue = cat.venue[types]
        status = np.where(hidden, HIDDEN, HELD).astype(np.int8)
        t_post = np.where(hidden | venue, np.inf, t_raise + self.desk.matching_delay)
        flags = np.where(hidden, F_HIDDEN, 0).astype(np.uint8)
        if self.timebank_on and self.tb_redeem_share > 0:
            can = (res.tb_balance[rids] >= hours) & (rng.random(m) < self.tb_redeem_share)
            flags[can] |= F_REDEEM
        else:
            rng.random(m)
        nt.add(
            ntype=types,
            level=cat.level[types],
            resident=rids,
            community=res.community[rids],
            group=res.group[rids],
            t_raise=t_raise,
            t_post=t_post,
            deadline=t_raise + patience,
            hours=hours,
            status=status,
            flags=flags,
        )
        self.recorder.arisen_week += m
        # Discovery of hidden needs; venue slots; then schedule everything due this week.
        lo = self.recorder.open_from()
        st_all = nt.status[lo : nt.n]
        ids = lo + np.flatnonzero(st_all == HIDDEN)
        if len(ids):
            comm = nt.community[ids]
            pdisc = (BASE_DISCOVERY + self.discovery_extra[comm]) * (
                0.5 + res.trust[nt.resident[ids]]
            )
            found = ids[rng.random(len(ids)) < np.minimum(pdisc, 1.0)]
            if len(found):
                nt.status[found] = HELD
                nt.flags[found] |= F_DISCOVERED
                when = np.maximum(nt.t_raise[found], t0 + rng.random(len(found)) * WEEK)
                nt.t_post[found] = when + self.desk.matching_delay
        if cat.venue.any():
            self._venue_slots(lo, t0, rng)
        st_all = nt.status[lo : nt.n]
        due = lo + np.flatnonzero((st_all == HELD) & (nt.t_post[lo : nt.n] < t0 + WEEK))
        self.desk.schedule(due)

    def _venue_slots(self, lo: int, t0: float, rng: np.random.Generator) -> None:
        """Group activities wait for venue hours of their community (first come, first served)."""
        nt = self.needs
        cat = self.catalog
        ids = lo + np.flatnonzero((nt.status[lo : nt.n] == HELD) & np.isinf(nt.t_post[lo : nt.n]))
        ids = ids[cat.venue[nt.ntype[ids]]]
        if not len(ids):
            return
        use = cat.venue_hours[nt.ntype[ids]]
        comm = nt.community[ids]
        order = np.lexsort((ids, comm))
        ids, use, comm = ids[order], use[order], comm[order]
        cum = np.cumsum(use)
        starts = np.searchsorted(comm, comm, side="left")
        before = np.where(starts > 0, cum[starts - 1], 0.0)
        within = cum - before
        cap = np.array([c.venue_hours for c in self.communities])[comm]
        ok = ids[within <= cap]
        if len(ok):
            when = np.maximum(nt.t_raise[ok], t0 + rng.random(len(ok)) * WEEK * 0.5)
            nt.t_post[ok] = when + self.desk.matching_delay

    # ------------------------------------------------------------------ phase 7
    def _close_week(self) -> None:
        nt = self.needs
        t_end = (self.week + 1) * WEEK
        lo = self.recorder.open_from()
        st = nt.status[lo : nt.n]
        dl = nt.deadline[lo : nt.n]
        # Still open and not in service: HIDDEN, HELD or WAITING (the lowest status codes).
        over = lo + np.flatnonzero((st <= WAITING) & (dl <= t_end))
        if len(over):
            nt.status[over] = ABANDONED
            nt.t_end[over] = nt.deadline[over]
            nt.queue[over] = -1
            self.desk.expire(over)
        met = np.array(self.desk.met_ids, dtype=np.int64)
        ab = np.array(self.desk.abandoned_ids, dtype=np.int64)
        sat = self.satisfaction_of(met)
        self.residents.apply_outcomes(
            nt.resident[met],
            sat,
            nt.resident[ab],
            self.p.street.trust_gain,
            self.p.street.trust_loss,
        )
        # Accounts are last active in week 0 or later: none is dormant before the expiry period.
        if self.timebank_on and 0 < self.tb_expiry_weeks <= self.week:
            res = self.residents
            dormant = (res.tb_balance > 0) & (self.week - res.tb_last >= self.tb_expiry_weeks)
            if dormant.any():
                amt = float(res.tb_balance[dormant].sum())
                res.tb_expired[dormant] += res.tb_balance[dormant]
                res.tb_balance[dormant] = 0.0
                self.tb["expired"] += amt
                self.week_tb["expired"] += amt
        self._payroll()
        self.recorder.record_week(met, ab)
        self.desk.reset_week()
        self.week_tb = {"deposited": 0.0, "redeemed": 0.0, "expired": 0.0}
        self.gov.spent_week = dict.fromkeys(CHANNELS, 0.0)

    def satisfaction_of(self, ids: np.ndarray) -> np.ndarray:
        """Satisfaction of met needs: 1 at or above the required level, lower below it."""
        if not len(ids):
            return np.zeros(0)
        below = self.needs.skill[ids] < self.needs.level[ids]
        return np.where(below, self.p.service.below_level_quality, 1.0)

    def _payroll(self) -> None:
        """Weekly pay: block-grant community workers from their channel; organizations pay
        their own staff from their funds and close after weeks below zero."""
        for com in self.communities:
            for s in com.block_staff:
                self.gov.spend("block_grant", s.salary / 52.0)
        pp = self.p.providers
        for org in self.organizations:
            cost = org.weekly_cost()
            org.funds += pp.donations - cost
            # Lay off one staff member without a contract when the runway is short.
            if org.funds < 8 * cost:
                free = [s for s in org.staff if s.contract is None]
                if free:
                    free[-1].leave()
            if org.funds < 0:
                org.weeks_negative += 1
                if org.weeks_negative >= pp.closure_weeks:
                    org.close()
            else:
                org.weeks_negative = 0

    # ================================================================== results
    def summary(self) -> dict[str, float]:
        """Summary metrics after the warm-up (the contract of DESIGN.md)."""
        return self.recorder.summary()

    def timeseries(self):
        """Weekly metrics as a pandas DataFrame."""
        return self.recorder.timeseries()


__all__ = ["LinkageModel", "STEP_ORDER", "IN_SERVICE", "MET", "V_NONE"]
