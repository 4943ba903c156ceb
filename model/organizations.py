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
  by credit publicity).

Iterating over the subsystem gives the organizations open now, in founding order:
`for org in model.organizations`, `len(model.organizations)`.
"""

from __future__ import annotations

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
        credit_weight: Weight of published reputation in procurement scores (0: unpublished).
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
        self.credit_weight = 0.0

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

    # ------------------------------------------------------------------ founding
    def found_initial(self, rng: np.random.Generator) -> None:
        """The set-up's organizations: embedded agencies with their core social workers, spread
        over communities, then each community's own organizations."""
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
                self.found(c, pp.endogenous_reserve)

    def found(self, community: int, funds: float) -> SocialOrganization:
        """A community social organization is founded with a volunteer team from its residents.

        Args:
            community: Its home community.
            funds: Its starting funds (yuan).

        Returns:
            The new organization.
        """
        org = SocialOrganization(self.model, "endogenous", community, funds)
        res = self.residents
        block = res.members(community)
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
        return org

    @staticmethod
    def enlist(org: SocialOrganization, v: Volunteer) -> None:
        """Volunteer `v` joins the team of `org`."""
        v.team = org
        org.team.append(v)

    # ------------------------------------------------------------------ books
    def close_books(self) -> None:
        """A week's books: donations in, wages and activity costs out; one staff member without
        a contract is laid off when the runway is short; an organization closes after
        `closure_weeks` weeks below zero."""
        pp = self.p.providers
        for org in self.operating():
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

    # ------------------------------------------------------------------ contracts
    def award_contract(
        self,
        org: SocialOrganization,
        community: int,
        area: str,
        value: float,
        price: float,
        start_week: int,
        end_week: int,
        n_staff: int,
    ) -> Contract:
        """Award a project to `org` and staff it: its free staff of the right kind first (moved
        to the project's community), new hires otherwise (let go when the project ends).

        Args:
            org: The winning organization.
            community: The community served.
            area: 'professional' (social workers) or 'care' (service staff).
            value: Contract value (yuan).
            price: Bid price per delivered hour (yuan).
            start_week: First week.
            end_week: Week it ends.
            n_staff: Providers assigned to it.

        Returns:
            The contract.
        """
        con = Contract(org, community, area, value, price, value / price, start_week, end_week)
        wf = self.workforce
        rng = self.streams.get("contract_staff")
        free = sorted(
            (s for s in org.staff if s.contract is None), key=lambda s: s.community != community
        )
        for _ in range(n_staff):
            want_sw = area == "professional"
            s = next((x for x in free if (x.skill == 2) == want_sw), None)
            if s is not None:
                free.remove(s)
                self.desk.relocate(s, community)
            else:
                q = float(np.clip(wf.draw_quality(rng, 1)[0] + org.quality_offset, 0.05, 1.0))
                if want_sw and wf.sw_available() >= 1:
                    s = wf.hire(SocialWorker, community, 2, "sw", q, employer=org)
                else:
                    s = wf.hire(ServiceStaff, community, 1, "staff", q, employer=org)
                s.contract_hire = True
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
        con.org.funds += amount
        con.org.income_total += amount
