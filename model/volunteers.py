"""Volunteers (社区志愿者): who is active, their records, stars and motivation, turnover, and
the weeks they serve; with the time bank they earn credit in.

Owns:
- the active volunteers (Mesa agents `Volunteer`, by resident) and the residents' volunteer
  arrays they keep up to date (`vol_state`, `vol_since`, `vol_skill`, `vol_hours`,
  `supervised`): activation, lapse, promotion to skill 1;
- service records (hours), stars (the star scheme's thresholds) and motivation (the residents'
  `vol_motivation`: it moves with residents' ratings while volunteer evaluation is on, and
  raises participation and lowers dropout);
- turnover: each week's dropouts (a tenure-dependent hazard, lowered for volunteers with a star,
  holding credit, in a supervised team or motivated), recruits (propensity, trust,
  mobilization), and lapsed registrations cleaned from the register;
- saturation (`room`): every flow of new active volunteers slows as a community's active share
  nears `max_active_share`;
- participation: who of the roster serves in a week, and when (`plan_week`, for the desk);
- the time bank (`time_bank`, `model.time_bank.TimeBank`): deposits follow services here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.agents import WEEK, Volunteer
from model.residents import V_ACTIVE, V_NONE, V_REGISTERED

_TENTH32 = np.float32(0.1)  # the motivation step, made once (not per rating)

if TYPE_CHECKING:  # pragma: no cover
    from model.clock import Clock
    from model.needs import NeedTable
    from model.params import Params
    from model.residents import Residents
    from model.service import ServiceDesk
    from model.streams import Streams
    from model.time_bank import TimeBank

MEAN_TENURE_YEARS = 2.9  # mean tenure of volunteers (docs/sources.md: about 2.9 years)


class Volunteers:
    """The street's volunteers: activation, records, stars, turnover and participation.

    Args:
        model: The Mesa model (volunteers are its agents).
        params: The run's parameters (volunteers and service sections).
        residents: The resident arrays.
        needs: The need table (the type of a need served, for the time bank).
        desk: The service desk (active volunteers are on its roster).
        time_bank: The time bank.
        streams: The run's random streams.
        clock: The model's week.

    Attributes:
        by_resident: Active volunteers' agents by resident index, in activation order.
        time_bank: The time bank volunteers deposit their hours in.
        star_hours: Record hours for 1, 2, ... stars (empty: no star scheme).
        participation_boost: Multiplier of the weekly participation probability.
        team_extra: This week's extra participation of organizations' team members (claimed
            services), by id of the organization.
        recruitment_mult: Multiplier of everyday recruitment.
        recruitment_extra: Residents per 1,000 per year joining regardless of propensity.
        hazard_recognized: Dropout hazard multiplier with at least one star.
        hazard_credit: Dropout hazard multiplier while holding time-bank credit.
        hazard_supervised: Dropout hazard multiplier in a supervised team.
    """

    def __init__(
        self,
        model: mesa.Model,
        params: Params,
        residents: Residents,
        needs: NeedTable,
        desk: ServiceDesk,
        time_bank: TimeBank,
        streams: Streams,
        clock: Clock,
    ) -> None:
        self.model = model
        self.p = params
        self.residents = residents
        self.needs = needs
        self.desk = desk
        self.time_bank = time_bank
        self.streams = streams
        self.clock = clock
        self.by_resident: dict[int, Volunteer] = {}
        # Settings that policies change through the methods below ("policy off" defaults).
        self.star_hours: tuple[float, ...] = ()
        self.participation_boost = 1.0
        self.team_extra: dict[int, float] = {}  # organization id -> extra participation
        self.recruitment_mult = 1.0
        self.recruitment_extra = 0.0
        self.hazard_recognized = 1.0
        self.hazard_credit = 1.0
        self.hazard_supervised = 1.0
        self.feedback = False  # residents' ratings move motivation (volunteer evaluation)

    # ------------------------------------------------------------------ settings
    def recognize_stars(self, star_hours: Sequence[float]) -> None:
        """Introduce a star scheme (ascending record-hour thresholds); volunteers active now
        are rated on their records."""
        self.star_hours = tuple(star_hours)
        for v in self.by_resident.values():
            v.stars = self.stars_for(v.record_hours)

    def reduce_hazard(
        self,
        *,
        recognized: float | None = None,
        credit: float | None = None,
        supervised: float | None = None,
    ) -> None:
        """Lower the weekly dropout hazard of volunteers with a star (`recognized`), holding
        time-bank credit (`credit`) or in a supervised team (`supervised`). Each multiplier
        keeps the lowest value any policy asks for."""
        if recognized is not None:
            self.hazard_recognized = min(self.hazard_recognized, recognized)
        if credit is not None:
            self.hazard_credit = min(self.hazard_credit, credit)
        if supervised is not None:
            self.hazard_supervised = min(self.hazard_supervised, supervised)

    def boost_recruitment(self, mult: float = 1.0, extra_per_1000: float = 0.0) -> None:
        """Raise everyday recruitment (x `mult`) and add residents joining regardless of
        propensity (`extra_per_1000` per 1,000 residents per year)."""
        self.recruitment_mult *= mult
        self.recruitment_extra += extra_per_1000

    def set_participation_boost(self, boost: float) -> None:
        """Multiply the weekly participation probability by `boost` (from now on)."""
        self.participation_boost = boost

    def pledge_team_shifts(self, extra: dict[int, float]) -> None:
        """This week's extra shifts of organizations' teams (claimed services, 认领服务): a
        member of the team of organization `org` serves with its participation probability plus
        `extra[id(org)]` (at most 1)."""
        self.team_extra = extra

    def evaluate_by_ratings(self) -> None:
        """Volunteer evaluation (评价): from now on residents' ratings of a volunteer's services
        move its motivation (m <- m + 0.1 (rating - m))."""
        self.feedback = True

    def room(self) -> np.ndarray:
        """Per community, 1 - active volunteers / (`max_active_share` x residents), in [0, 1]:
        the factor on every flow of new active volunteers."""
        res = self.residents
        cap = self.p.volunteers.max_active_share * res.community_sizes()
        act = np.bincount(res.community[res.vol_state == V_ACTIVE], minlength=res.n_communities)
        return np.clip(1.0 - act / np.maximum(cap, 1e-9), 0.0, 1.0)

    def _motivation_factor(self, residents: np.ndarray, sign: float) -> np.ndarray | float:
        """1 + sign x `motivation_effect` x (motivation - 0.5) for these residents (1 while
        nobody's motivation has moved: volunteer evaluation off)."""
        k = self.p.volunteers.motivation_effect
        if not self.feedback or k == 0:
            return 1.0
        m = self.residents.vol_motivation[residents].astype(np.float64)
        return 1.0 + sign * k * (m - 0.5)

    # ------------------------------------------------------------------ one volunteer
    def stars_for(self, hours: float) -> int:
        """Stars earned by a record of `hours` (thresholds reached)."""
        return bisect.bisect_right(self.star_hours, hours)

    def activate(self, r: int, skill: int = 0) -> Volunteer:
        """Resident `r` becomes an active volunteer (a Mesa agent and a server).

        Args:
            r: Resident index.
            skill: 0 any volunteer, 1 trained.

        Returns:
            The volunteer's agent.
        """
        res = self.residents
        vp = self.p.volunteers
        rng = self.streams.get("volunteers")
        if res.vol_state[r] != V_ACTIVE and res.vol_since[r] >= 0:
            res.vol_since[r] = self.clock.week
        res.vol_state[r] = V_ACTIVE
        hours = rng.uniform(vp.hours_min, vp.hours_max)
        s = self.p.service
        q = min(1.0, max(0.05, rng.normal(s.quality_mean, s.quality_sd)))  # one quality draw
        res.vol_skill[r] = skill
        v = Volunteer(self.model, r, int(res.community[r]), skill, q, hours)
        v.stars = self.stars_for(res.vol_hours[r])
        self.by_resident[r] = v
        self.desk.add_provider(v)
        return v

    def deactivate(self, r: int) -> None:
        """An active volunteer lapses (stays registered); its agent leaves."""
        res = self.residents
        res.vol_state[r] = V_REGISTERED
        res.supervised[r] = False
        v = self.by_resident.pop(r, None)
        if v is not None:
            if v.team is not None and v in v.team.team:
                v.team.team.remove(v)
            v.leave()

    def promote(self, v: Volunteer) -> None:
        """A volunteer trained (or who learned by co-delivery) moves from skill 0 to 1."""
        if v.skill == 0 and v.on_roster:
            self.desk.change_skill(v, 1)
            self.residents.vol_skill[v.resident] = 1

    def train(self, residents: Sequence[int]) -> None:
        """These residents' volunteers (those still active) are trained to skill 1."""
        for r in residents:
            v = self.by_resident.get(r)
            if v is not None:
                self.promote(v)

    def served(self, v: Volunteer, hours: float, rating: float | None, nid: int = -1) -> None:
        """After a volunteer's service (of need `nid`; an assist passes the need assisted):
        its record, stars and motivation, and the time-bank deposit."""
        res = self.residents
        r = v.resident
        total = res.vol_hours.item(r) + hours
        res.vol_hours[r] = total
        v.record_hours += hours
        if self.star_hours:
            v.stars = bisect.bisect_right(self.star_hours, total)  # as stars_for
        if rating is not None and self.feedback:
            m = res.vol_motivation[r]  # float32 arithmetic, as `+=` on the array would do
            res.vol_motivation[r] = m + _TENTH32 * (np.float32(rating) - m)
        if self.time_bank.enabled:
            if nid >= 0:
                nt = self.needs
                # `.item` reads a Python int without making a numpy scalar first
                self.time_bank.deposit(r, hours, nt.ntype.item(nid), nt.resident.item(nid))
            else:
                self.time_bank.deposit(r, hours)

    # ------------------------------------------------------------------ the street's volunteers
    def enrol_initial(self, rng: np.random.Generator) -> None:
        """The set-up's registered and active volunteers (active ones with tenures drawn from
        the mean tenure)."""
        res = self.residents
        vp = self.p.volunteers
        share = self.registered_shares()
        reg = rng.random(res.n) < share * res.vol_propensity / res.vol_propensity.mean()
        res.vol_state[reg] = V_REGISTERED
        act = reg & (rng.random(res.n) < vp.active_share)
        res.vol_since[act] = -(rng.exponential(MEAN_TENURE_YEARS * 52, act.sum())).astype(
            np.int32
        )  # mean tenure 2.9 y
        for r in np.flatnonzero(act):
            self.activate(int(r), skill=int(rng.random() < vp.initial_skill1_share))

    def registered_shares(self) -> float | np.ndarray:
        """The share of residents registered as volunteers at the start: the street's
        `volunteers.registered_share`, or per resident their community's share from the
        community table."""
        table = self.p.street.community_list()
        if table is None:
            return self.p.volunteers.registered_share
        per_community = np.array([c.registered_volunteers / c.residents for c in table])
        return per_community[self.residents.community]

    def turnover(self, week: int) -> None:
        """The week's dropouts (by hazard) and recruits (vectorized draws)."""
        res = self.residents
        vp = self.p.volunteers
        rng = self.streams.weekly("volunteer_turnover", week)
        act = np.flatnonzero(res.vol_state == V_ACTIVE)
        if len(act):
            # The published retention is a population figure: scale the zero-tenure hazard so the
            # average over the starting tenure mix (exponential, mean 2.9 years) matches it.
            base = (
                -math.log(vp.retention_annual) / 52.0 * (1.0 + vp.tenure_effect * MEAN_TENURE_YEARS)
            )
            tenure = np.maximum(0, week - res.vol_since[act]) / 52.0
            hz = base * np.exp(-vp.tenure_effect * tenure)
            if self.star_hours and self.hazard_recognized != 1.0:
                hz = np.where(
                    res.vol_hours[act] >= self.star_hours[0], hz * self.hazard_recognized, hz
                )
            if self.time_bank.enabled and self.hazard_credit != 1.0:
                hz = np.where(self.time_bank.balance[act] > 0, hz * self.hazard_credit, hz)
            if self.hazard_supervised != 1.0:
                hz = np.where(res.supervised[act], hz * self.hazard_supervised, hz)
            hz = hz * self._motivation_factor(act, -1.0)
            drop = act[rng.random(len(act)) < -np.expm1(-hz)]
            for r in drop.tolist():
                self.deactivate(r)
        # Lapsed registrations leave the register (residents move away, records are cleaned).
        lapsed = np.flatnonzero(res.vol_state == V_REGISTERED)
        if len(lapsed) and vp.deregistration_annual > 0:
            p_out = -math.expm1(math.log1p(-min(vp.deregistration_annual, 0.999)) / 52.0)
            res.vol_state[lapsed[rng.random(len(lapsed)) < p_out]] = V_NONE
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
        p_join = p_join * self.room()[res.community[cand]]
        joined = cand[rng.random(len(cand)) * p_max < p_join]
        for r in joined.tolist():
            self.activate(r, skill=0)

    def plan_week(
        self, roster: list[Volunteer], week: int
    ) -> tuple[list[float], list[Volunteer], list[float]]:
        """Who of `roster` serves in `week`, and when: (starts, volunteers, ends), one shift
        each, sorted by start.

        Each volunteer serves in a week with the participation probability, independently of
        other weeks (so the gaps between its active weeks are geometric), one shift of its
        weekly hours starting uniformly in [8 h, WEEK - 4 h - hours] of the week. Drawn for the
        whole roster at once from the week's own stream (common random numbers).
        """
        n = len(roster)
        if not n:
            return [], [], []
        part = min(1.0, self.p.volunteers.participation * self.participation_boost)
        rng = self.streams.weekly("volunteer_shifts", week)
        if self.feedback:
            who = np.fromiter((v.resident for v in roster), dtype=np.int64, count=n)
            part = np.minimum(1.0, part * self._motivation_factor(who, 1.0))
        if self.team_extra:
            extra = self.team_extra
            add = np.fromiter(
                (0.0 if v.team is None else extra.get(id(v.team), 0.0) for v in roster),
                dtype=float,
                count=n,
            )
            part = np.minimum(1.0, part + add)
        serve = np.flatnonzero(rng.random(n) < part)
        pos = rng.random(n)[serve]
        length = np.array([roster[i].weekly_hours for i in serve.tolist()], dtype=float)
        start = week * WEEK + 8.0 + pos * (np.maximum(8.0, WEEK - 4.0 - length) - 8.0)
        order = np.argsort(start, kind="stable")
        who = [roster[i] for i in serve[order].tolist()]
        return start[order].tolist(), who, (start + length)[order].tolist()
