"""Social organizations: founding, teams, funds, contracts and closure.

Owns:
- the street's social organizations (Mesa agents `SocialOrganization`): the embedded agencies
  and community organizations of the set-up, and those founded later (cultivation), each with
  a volunteer team drawn from its community's active volunteers;
- their books: a week's donations in, staff wages and activity costs out, a layoff when the
  runway is short, closure after weeks below zero;
- contracts (`Contract`): a purchased project is awarded to an organization, staffed (its free
  staff first, new hires otherwise), paid in instalments and ended; the live contracts and every
  contract of the run are kept here;
- how buyers weigh an organization's published reputation in procurement (`credit_weight`, set
  by credit publicity), and how much of the project list residents' and organizations'
  representatives set (`council_share`, `voiced_hidden`, set by consultation).

Iterating over the subsystem gives the organizations open now, in founding order:
`for org in model.organizations`, `len(model.organizations)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.agents import Contract, ServiceStaff, SocialOrganization, SocialWorker
from model.residents import V_ACTIVE

if TYPE_CHECKING:  # pragma: no cover
    from model.agents import Volunteer
    from model.params import Params
    from model.residents import Residents
    from model.service import ServiceDesk
    from model.streams import Streams
    from model.volunteers import Volunteers
    from model.workforce import Workforce


class Organizations:
    """The street's social organizations, their teams, books and contracts.

    Args:
        model: The Mesa model (organizations are its agents).
        params: The run's parameters (providers section).
        residents: The resident arrays.
        workforce: Hires organizations' staff.
        volunteers: Supplies volunteer teams.
        desk: The service desk (contract staff move to the contract's community).
        streams: The run's random streams.

    Attributes:
        contracts: Contracts running now, in award order.
        contract_history: Every contract awarded in the run, in award order.
        tenders: Every project of the project lists put to tender, as (week, community, area,
            value), whether or not it was awarded.
        credit_weight: Weight of published reputation in procurement scores (0: unpublished).
        council_share: Share of the project list's money that the consultation councils set
            (0: the street sets it alone).
        voiced_hidden: Share of the hidden needs that representatives bring to the councils.
    """

    def __init__(
        self,
        model: mesa.Model,
        params: Params,
        residents: Residents,
        workforce: Workforce,
        volunteers: Volunteers,
        desk: ServiceDesk,
        streams: Streams,
    ) -> None:
        self.model = model
        self.p = params
        self.residents = residents
        self.workforce = workforce
        self.volunteers = volunteers
        self.desk = desk
        self.streams = streams
        self.contracts: list[Contract] = []
        self.contract_history: list[Contract] = []
        self.tenders: list[tuple[int, int, str, float]] = []
        self.credit_weight = 0.0
        self.council_share = 0.0
        self.voiced_hidden = 0.0
        self.exits = 0  # community organizations that exited or dissolved

    # ------------------------------------------------------------------ the organizations
    def operating(self) -> list[SocialOrganization]:
        """The organizations open now, in founding order."""
        return [o for o in self.model.agents_by_type.get(SocialOrganization, ()) if not o.closed]

    def __iter__(self) -> Iterator[SocialOrganization]:
        return iter(self.operating())

    def __len__(self) -> int:
        return len(self.operating())

    def publish_credit(self, weight: float) -> None:
        """Organizations' reputations are published; procurement weighs them by `weight`."""
        self.credit_weight = weight

    def let_councils_set_list(self, share: float, voiced_hidden: float) -> None:
        """Consultation (议事会): representatives set `share` of the project list's money, from
        the needs residents voice, including `voiced_hidden` of the needs hidden from providers."""
        self.council_share = float(share)
        self.voiced_hidden = float(voiced_hidden)

    @staticmethod
    def spend_own(org: SocialOrganization, amount: float) -> None:
        """An organization pays `amount` from its own funds (costs of services it claimed)."""
        org.funds -= amount
        org.spent_own += amount

    @staticmethod
    def improve(org: SocialOrganization, step: float) -> None:
        """An organization improves how it serves (training, supervision): its quality offset
        and every staff member's quality rise by `step` (at most 1)."""
        org.quality_offset += step
        for s in org.staff:
            s.quality = min(1.0, s.quality + step)

    def respond_to_ratings(self, threshold: float, step: float) -> int:
        """Credit publicity's effort response: each organization with staff whose published
        reputation is below `threshold` improves by `step`. Returns how many did."""
        n = 0
        for org in self.operating():
            if org.staff and org.reputation < threshold:
                self.improve(org, step)
                n += 1
        return n

    def rectify(self, con: Contract, step: float) -> None:
        """A rectification notice (整改通知) on `con`: counted on the contract, and its
        organization improves by `step`."""
        con.notices += 1
        if step > 0:
            self.improve(con.org, step)

    def grade(self, org: SocialOrganization, year: int, *, barred: bool, bonus: float) -> None:
        """An evaluation's consequences for `org` in procurement year `year`: barred from
        bidding, or a bid-score bonus."""
        if barred:
            org.barred_year = year
        elif bonus > 0:
            org.bonus_year, org.bonus = year, bonus

    def terminate(self, con: Contract, week: int) -> None:
        """End a contract early (a failed evaluation): its staff are free, nothing more is
        paid on it."""
        con.end_week = week
        con.terminated = True
        self.end_contracts(week)

    # ------------------------------------------------------------------ founding
    def found_initial(self, rng: np.random.Generator) -> None:
        """The set-up's organizations: embedded agencies with their core social workers, spread
        over communities, then each community's own organizations (their volunteer teams come
        with `recruit_initial_teams`, once the set-up's volunteers are active)."""
        pp = self.p.providers
        nc = self.p.street.n_communities
        wf = self.workforce
        for i in range(pp.embedded_orgs):
            org = SocialOrganization(self.model, "embedded", i % nc, pp.embedded_reserve)
            for q in wf.draw_quality(rng, pp.embedded_core_sw):
                if wf.sw_available() >= 1:
                    q = float(np.clip(q + org.quality_offset, 0.05, 1.0))
                    wf.hire(SocialWorker, org.community, 2, "sw", q, employer=org)
        table = self.p.street.community_list()
        if table is not None:  # the community table gives each community's organizations
            n_endo = np.array([c.social_organizations for c in table], dtype=int)
        else:
            n_endo = np.floor(
                pp.endogenous_orgs_per_community * np.ones(nc) + rng.random(nc)
            ).astype(int)
        for c, k in enumerate(n_endo):
            for _ in range(k):
                self.found(c, pp.endogenous_reserve, team=False)

    def recruit_initial_teams(self) -> None:
        """The set-up's community organizations draw their volunteer teams (after the set-up's
        volunteers are active)."""
        for org in self.operating():
            if org.org_kind == "endogenous" and not org.team:
                self._recruit_team(org)

    def found(self, community: int, funds: float, team: bool = True) -> SocialOrganization:
        """A community social organization is founded with a volunteer team from its residents.

        Args:
            community: Its home community.
            funds: Its starting funds (yuan).
            team: Draw its team now (the set-up draws teams later).

        Returns:
            The new organization.
        """
        org = SocialOrganization(self.model, "endogenous", community, funds)
        if team:
            self._recruit_team(org)
        return org

    def _recruit_team(self, org: SocialOrganization) -> None:
        """Up to `endogenous_team` active volunteers of its community not in a team join it."""
        res = self.residents
        block = res.members(org.community)
        members = block.start + np.flatnonzero(res.vol_state[block] == V_ACTIVE)
        if len(members):
            rng = self.streams.get("teams")
            pick = rng.choice(
                members, size=min(len(members), self.p.providers.endogenous_team), replace=False
            )
            for r in pick:
                v = self.volunteers.by_resident.get(int(r))
                if v is not None and v.team is None:
                    self.enlist(org, v)

    @staticmethod
    def enlist(org: SocialOrganization, v: Volunteer) -> None:
        """Volunteer `v` joins the team of `org`."""
        v.team = org
        org.team.append(v)

    def community_orgs(self) -> np.ndarray:
        """Community (endogenous) organizations open now, per community."""
        return np.bincount(
            [o.community for o in self.operating() if o.org_kind == "endogenous"],
            minlength=self.p.street.n_communities,
        ).astype(float)

    def founding_room(self) -> np.ndarray:
        """Per community, 1 - community organizations / carrying capacity (0 when full): the
        factor on the founding rate."""
        cap = self.p.providers.org_capacity_per_community
        return np.clip(1.0 - self.community_orgs() / cap, 0.0, 1.0)

    # ------------------------------------------------------------------ upkeep and exits
    def upkeep(self, week: int) -> None:
        """A week of the community organizations' lives besides money: each refills its team
        (`team_refill_rate` of the gap to `endogenous_team`, from active volunteers of its
        community not in a team); one without a contract exits with the weekly hazard of
        `org_exit_annual`, and one whose team stayed below `org_min_team` for 26 weeks
        dissolves."""
        pp = self.p.providers
        rng = self.streams.weekly("org_upkeep", week)
        res = self.residents
        hazard = -math.expm1(math.log1p(-min(pp.org_exit_annual, 0.999)) / 52.0)
        free_by_c: dict[int, list[Volunteer]] = {}
        for org in self.operating():
            if org.org_kind != "endogenous":
                continue
            gap = pp.endogenous_team - len(org.team)
            k = int(rng.binomial(gap, pp.team_refill_rate)) if gap > 0 else 0
            if k:
                free = free_by_c.get(org.community)
                if free is None:
                    block = res.members(org.community)
                    ids = block.start + np.flatnonzero(res.vol_state[block] == V_ACTIVE)
                    by_r = self.volunteers.by_resident
                    free = [v for r in ids.tolist() if (v := by_r.get(r)) is not None]
                    free_by_c[org.community] = free
                free = [v for v in free if v.team is None]
                free_by_c[org.community] = free
                for i in rng.permutation(len(free))[:k].tolist():
                    self.enlist(org, free[i])
            small = len(org.team) < pp.org_min_team
            org.weeks_small = org.weeks_small + 1 if small else 0
            if org.contracts:
                continue
            if rng.random() < hazard or org.weeks_small >= 26:
                org.close()
                self.exits += 1

    # ------------------------------------------------------------------ books
    def close_books(self) -> None:
        """A week's books: donations in (and, for an embedded agency, its income from outside
        the street's budget), wages and activity costs out; one staff member without a contract
        is laid off when the runway is short; an organization closes after `closure_weeks`
        weeks below zero."""
        pp = self.p.providers
        outside = pp.agency_outside_income / 52.0
        for org in self.operating():
            cost = org.weekly_cost()
            org.funds += pp.donations - cost
            if org.org_kind == "embedded" and outside:
                org.receive(outside)
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

    # ------------------------------------------------------------------ contracts
    def tender(self, week: int, community: int, area: str, value: float) -> None:
        """A project of the project list is put to tender (recorded whether or not awarded)."""
        self.tenders.append((week, community, area, value))

    def award_contract(
        self,
        org: SocialOrganization,
        community: int,
        area: str,
        value: float,
        price: float,
        start_week: int,
        end_week: int,
        posts: float,
    ) -> Contract | None:
        """Award a project to `org` and staff it: `posts` full-time posts, as whole posts plus
        one part-time post for the rest (at least a fifth of a post, hours and salary pro
        rata). Its free staff of the right kind come first (moved to the project's community),
        new hires otherwise (let go when the project ends). A community organization pays its
        hires `endogenous_wage_factor` x the salary (its bids are priced from the same wage).
        A professional post that no social worker of the labour pool can fill stays vacant:
        the contract shrinks to its staffed share of value and hours, and none is signed when
        no post is filled (the money stays in the procurement envelope).

        Args:
            org: The winning organization.
            community: The community served.
            area: 'professional' (social workers) or 'care' (service staff).
            value: Contract value (yuan).
            price: Bid price per delivered hour (yuan).
            start_week: First week.
            end_week: Week it ends.
            posts: Full-time posts the project pays for (may be fractional).

        Returns:
            The contract, or None when none of its posts could be filled.
        """
        n = max(1, math.ceil(posts - 1e-9))
        fractions = [1.0] * (n - 1) + [max(0.2, min(1.0, posts - (n - 1)))]
        wf = self.workforce
        rng = self.streams.get("contract_staff")
        want_sw = area == "professional"
        wage = self.p.providers.endogenous_wage_factor if org.org_kind == "endogenous" else 1.0
        free = sorted(
            (s for s in org.staff if s.contract is None), key=lambda s: s.community != community
        )
        staff = []
        filled = 0.0
        for frac in fractions:
            s = next((x for x in free if (x.skill == 2) == want_sw), None)
            if s is not None:
                free.remove(s)
                self.desk.relocate(s, community)
            elif want_sw and wf.sw_available() < 1:
                continue  # no social worker left in the labour pool: the post stays vacant
            else:
                q = float(np.clip(wf.draw_quality(rng, 1)[0] + org.quality_offset, 0.05, 1.0))
                cls, skill, role = (
                    (SocialWorker, 2, "sw") if want_sw else (ServiceStaff, 1, "staff")
                )
                s = wf.hire(
                    cls, community, skill, role, q, employer=org, fraction=frac, wage_factor=wage
                )
                s.contract_hire = True
            filled += frac
            staff.append(s)
        if not staff:
            return None
        share = filled / sum(fractions)
        value *= share
        con = Contract(org, community, area, value, price, value / price, start_week, end_week)
        for s in staff:
            s.contract = con
            con.staff.append(s)
        org.contracts.append(con)
        self.contracts.append(con)
        self.contract_history.append(con)
        return con

    def end_contracts(self, week: int) -> None:
        """End the contracts due by `week`: their staff are free again."""
        for con in [c for c in self.contracts if c.end_week <= week]:
            self.contracts.remove(con)
            if con in con.org.contracts:
                con.org.contracts.remove(con)
            for s in con.staff:
                s.contract = None

    def release_project_staff(self) -> None:
        """Staff hired for projects that ended are let go."""
        for org in self.operating():
            for st in [
                x for x in org.staff if x.contract is None and getattr(x, "contract_hire", False)
            ]:
                st.leave()

    @staticmethod
    def pay(con: Contract, amount: float) -> None:
        """An instalment of `amount` reaches the contract's organization."""
        con.paid += amount
        con.org.receive(amount)
