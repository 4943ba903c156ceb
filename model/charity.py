"""Social charitable resources (社会慈善资源), the fifth society of 五社联动: a community
foundation or community charity fund and its ledger.

Owns:
- whether the street has a charitable channel (a community foundation, 社区基金会, or a street
  charity fund; set by the charity policy through `configure`) and how its donors behave;
- the fund's ledger: a seed fund, donations in from residents, units based in the community
  (驻区单位) and firms, public matching (配捐) in, grants out; per week and over the run;
- the micro-projects it funds (公益微项目): a grant to a community organization that takes on
  one project worker for the project's weeks (a `ServiceStaff`, paid from the organization's
  books, which the grant fills), who serves residents like any other provider;
- units' pledged service (承诺服务): each budget year, every unit based in the community decides
  whether to pledge staff hours; each pledging unit sends one staff member (a `ServiceStaff` on
  the community's roster, paid by the unit, not by public money) who serves `pledge_hours` a
  week, on one day, for the year.

How donors respond (assumptions with ranges, docs/ODD.md, "Social charitable resources"):
the expected number of gifts of each source is scaled by residents' trust relative to its start
(elasticity `trust_elasticity`), by published credit (with credit publicity, donors give more
and follow organizations' reputations), and by matching (a matching offer changes giving by
`match_response`: positive is crowding-in, negative crowding-out) while the year's matching
envelope lasts. Matching money comes from the government's `charity_match` channel.

Units pledge with probability 1 - (1 - `pledge_share`) x (1 - `pledge_org_share`) ** k, where k
is the number of community organizations open in the unit's community (the residents' committee
mobilizes every unit, each organization adds its own appeal), times the same trust factor as
giving (at most 1).

Every random draw comes from the named streams "charity" (weekly), "charity_projects" and
"charity_pledges" (yearly), so a street without the channel draws nothing and its results are
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.agents import Contract, ServiceStaff

if TYPE_CHECKING:  # pragma: no cover
    from model.agents import Provider, SocialOrganization
    from model.model import LinkageModel

SOURCES = ("residents", "units", "firms")
"""Donor types: residents (居民), units based in the community (驻区单位), firms (企业)."""

MAX_FACTOR = 8.0
"""Largest factor on giving (trust, credit and matching together); higher factors are capped."""

REPUTATION_PRIOR = 0.75
"""An organization's reputation before any rating (model.agents)."""


@dataclass
class DonorSettings:
    """How the street's donors give and how the fund grants (set by the charity policy).

    Attributes:
        seed_fund: Money in the fund at start (yuan).
        resident_giving: Expected giving per resident per year (yuan).
        resident_gift: Size of one resident gift (yuan).
        units_per_community: Units based in each community that give (驻区单位).
        unit_gifts_per_year: Gifts per unit per year.
        unit_gift: Size of one unit gift (yuan).
        firm_gifts_per_year: Gifts by firms to the street's fund per year.
        firm_gift: Mean size of one firm gift (yuan; log-normal).
        trust_elasticity: Giving x (trust / trust at start) ** elasticity.
        publicity_boost: Extra giving when organizations' credit is published (share).
        reputation_elasticity: With published credit, giving x (mean reputation / prior) ** this.
        match_ratio: Public yuan per donated yuan (配捐), 0: no matching.
        match_cap: The matching envelope per year (yuan).
        match_response: Change of giving while a match is offered (share; < 0: crowding out).
        retain_share: Share of the fund kept in reserve, never granted.
        project_weeks: Length of a micro-project (weeks).
        grant_weeks: Weeks between grant rounds.
        pledge_share: Chance a unit pledges service hours in a year, mobilized by the
            residents' committee alone.
        pledge_org_share: Extra chance each open community organization in its community adds.
        pledge_hours: Hours a week a pledging unit's staff member serves (one day a week).
    """

    seed_fund: float = 50_000.0
    resident_giving: float = 0.5
    resident_gift: float = 50.0
    units_per_community: float = 3.0
    unit_gifts_per_year: float = 2.0
    unit_gift: float = 1_000.0
    firm_gifts_per_year: float = 1.0
    firm_gift: float = 10_000.0
    trust_elasticity: float = 1.0
    publicity_boost: float = 0.1
    reputation_elasticity: float = 1.0
    match_ratio: float = 0.0
    match_cap: float = 0.0
    match_response: float = 0.2
    retain_share: float = 0.33
    project_weeks: int = 26
    grant_weeks: int = 4
    pledge_share: float = 0.3
    pledge_org_share: float = 0.1
    pledge_hours: float = 4.0


class Charity:
    """The street's charitable channel: a community foundation / charity fund and its ledger.

    Off until `configure` is called: then every week `run_week` collects donations, draws the
    public match and, every `grant_weeks`, funds micro-projects of community organizations.

    Args:
        model: The model (its residents, organizations, workforce, government and streams).

    Attributes:
        enabled: Whether the street has the channel.
        settings: Donor behaviour and granting rules.
        balance: Money in the fund now (yuan).
        donated: Donations over the run, per source (yuan).
        matched: Public matching received over the run (yuan).
        granted: Grants paid over the run (yuan).
        week_donated, week_matched, week_granted: The same, for the week just run.
        projects: Micro-projects funded over the run.
        project_log: Each micro-project's record (a `Contract` the government does not pay).
    """

    def __init__(self, model: LinkageModel) -> None:
        self.model = model
        self.enabled = False
        self.settings = DonorSettings()
        self.seed_fund = 0.0
        self.balance = 0.0
        self.donated = dict.fromkeys(SOURCES, 0.0)
        self.matched = 0.0
        self.granted = 0.0
        self.projects = 0
        self.week_donated = 0.0
        self.week_matched = 0.0
        self.week_granted = 0.0
        self.trust_ref = 0.5
        self._running: list[tuple[int, Provider]] = []  # (end week, project worker)
        self.project_log: list[Contract] = []
        self.pledged: list[Provider] = []  # units' staff serving this year (承诺服务)
        self.pledges = 0  # unit-years pledged over the run
        self._pledged_done = 0.0  # hours served by pledged staff who have left

    # ------------------------------------------------------------------ set-up
    def configure(self, settings: DonorSettings) -> None:
        """The street sets up its charitable channel with these donors and rules; the seed
        fund is its opening balance."""
        self.enabled = True
        self.settings = settings
        self.seed_fund = float(settings.seed_fund)
        self.balance = self.seed_fund
        self.trust_ref = max(1e-6, float(self.model.residents.trust.mean()))

    def matching_overhead(self) -> float:
        """The yearly matching envelope taken off the top of the budget (yuan)."""
        s = self.settings
        return float(s.match_cap) if self.enabled and s.match_ratio > 0 else 0.0

    # ------------------------------------------------------------------ the week
    def giving_multiplier(self, matching: bool) -> float:
        """Factor on the expected number of gifts this week: trust, published credit and a
        matching offer."""
        s = self.settings
        m = self.model
        trust = max(1e-6, float(m.residents.trust.mean()))
        f = (trust / self.trust_ref) ** s.trust_elasticity
        if m.organizations.credit_weight > 0:  # credit publicity: donors see reputations
            orgs = m.organizations.operating()
            rep = sum(o.reputation for o in orgs) / len(orgs) if orgs else REPUTATION_PRIOR
            f *= (1.0 + s.publicity_boost) * (rep / REPUTATION_PRIOR) ** s.reputation_elasticity
        if matching:
            f *= max(0.0, 1.0 + s.match_response)
        return f

    def run_week(self, week: int) -> None:
        """Collect the week's donations, receive the public match and, on a grant week, fund
        micro-projects; project workers whose project ended leave."""
        self.week_donated = self.week_matched = self.week_granted = 0.0
        if not self.enabled:
            return
        m = self.model
        s = self.settings
        gov = m.gov
        if week % 52 == 0:
            self._renew_pledges(week)
        matching = s.match_ratio > 0 and gov.remaining("charity_match") > 0
        f = self.giving_multiplier(matching)
        rng = m.streams.weekly("charity", week)
        p = m.p.street
        lam = np.array(
            [
                s.resident_giving * p.n_residents / max(s.resident_gift, 1e-9),
                s.units_per_community * p.n_communities * s.unit_gifts_per_year,
                s.firm_gifts_per_year,
            ]
        )
        # Candidate gifts at the highest rate, each kept with chance f / MAX_FACTOR: two
        # scenarios with the same seed see the same candidates and uniforms, so more willing
        # donors give a superset of the gifts (common random numbers for paired comparisons).
        n = rng.poisson(lam * MAX_FACTOR / 52.0)
        keep = min(f, MAX_FACTOR) / MAX_FACTOR
        kept = [rng.random(int(k)) < keep for k in n]
        sigma = 0.5  # spread of firm gifts (log-normal; assumption)
        sizes = rng.lognormal(np.log(s.firm_gift) - sigma**2 / 2, sigma, int(n[2]))
        gifts = (
            float(np.count_nonzero(kept[0]) * s.resident_gift),
            float(np.count_nonzero(kept[1]) * s.unit_gift),
            float(sizes[kept[2]].sum()),
        )
        total = 0.0
        for src, amount in zip(SOURCES, gifts, strict=True):
            self.donated[src] += amount
            total += amount
        self.week_donated = total
        self.balance += total
        if matching and total > 0:
            got = gov.spend("charity_match", s.match_ratio * total)
            self.matched += got
            self.week_matched = got
            self.balance += got
        self._end_projects(week)
        if week % s.grant_weeks == 0:
            self._fund_projects(week)

    # ------------------------------------------------------------------ pledged service
    def pledge_probability(self) -> np.ndarray:
        """Per community, the chance a unit pledges service hours this year: the residents'
        committee and each open community organization mobilize it, scaled by trust."""
        s = self.settings
        m = self.model
        orgs = m.organizations.community_orgs()
        p = 1.0 - (1.0 - s.pledge_share) * (1.0 - s.pledge_org_share) ** orgs
        trust = max(1e-6, float(m.residents.trust.mean()))
        return np.clip(p * (trust / self.trust_ref) ** s.trust_elasticity, 0.0, 1.0)

    def _renew_pledges(self, week: int) -> None:
        """At each budget year's start, last year's pledged staff leave and each unit decides
        again: a pledging unit sends one staff member for `pledge_hours` a week, one day a week."""
        for st in self.pledged:
            self._pledged_done += st.busy_hours
            st.leave()
        self.pledged = []
        s = self.settings
        m = self.model
        pp = m.p.providers
        full = pp.sw_hours * (1 - pp.sw_admin_share)
        if s.pledge_hours <= 0 or s.units_per_community <= 0 or full <= 0:
            return
        rng = m.streams.weekly("charity_pledges", week)
        units = int(round(s.units_per_community))
        probs = self.pledge_probability()
        counts = rng.binomial(units, probs)
        wf = m.workforce
        frac = min(1.0, s.pledge_hours / full)
        for c, k in enumerate(counts.tolist()):
            for q in wf.draw_quality(rng, k).tolist():
                st = wf.hire(ServiceStaff, c, 1, "staff", q, fraction=frac, wage_factor=0.0, days=1)
                self.pledged.append(st)
        self.pledges += int(counts.sum())

    def pledged_hours(self) -> float:
        """Hours of service units' pledged staff delivered over the run."""
        return self._pledged_done + float(sum(st.busy_hours for st in self.pledged))

    # ------------------------------------------------------------------ grants
    def project_cost(self) -> float:
        """Cost of one micro-project: a project worker's wages for the project's weeks."""
        return self.model.p.providers.staff_salary * self.settings.project_weeks / 52.0

    def _fund_projects(self, week: int) -> None:
        """While the fund, less its reserve, covers a project, a community organization gets
        one (weighted by published reputation with credit publicity, else equally)."""
        m = self.model
        cost = self.project_cost()
        if cost <= 0:
            return
        orgs = [o for o in m.organizations.operating() if o.org_kind == "endogenous"]
        if not orgs:
            return
        rng = m.streams.get("charity_projects")
        published = m.organizations.credit_weight > 0
        w = np.array([o.reputation if published else 1.0 for o in orgs], dtype=float)
        w = w / w.sum()
        available = self.balance - self.settings.retain_share * self.balance
        while available >= cost:
            org = orgs[int(rng.choice(len(orgs), p=w))]
            self._grant(org, cost, week, rng)
            available -= cost

    def _grant(
        self, org: SocialOrganization, amount: float, week: int, rng: np.random.Generator
    ) -> None:
        """A grant of `amount` to `org` for a micro-project: it takes on a project worker."""
        self.balance -= amount
        self.granted += amount
        self.week_granted += amount
        self.projects += 1
        org.funds += amount
        org.income_total += amount
        wf = self.model.workforce
        q = float(np.clip(wf.draw_quality(rng, 1)[0] + org.quality_offset, 0.05, 1.0))
        s = wf.hire(ServiceStaff, org.community, 1, "staff", q, employer=org)
        end = week + self.settings.project_weeks
        # The project's own record (not a purchased contract: the government neither pays nor
        # evaluates it, and procurement cannot take its worker): it counts the hours delivered.
        hours = max(1e-9, s.weekly_hours * self.settings.project_weeks)
        con = Contract(org, org.community, "care", amount, amount / hours, hours, week, end)
        con.staff.append(s)
        s.contract = con
        self.project_log.append(con)
        self._running.append((end, s))

    def _end_projects(self, week: int) -> None:
        """Project workers whose project has ended leave."""
        keep = []
        for end, s in self._running:
            if end <= week:
                s.leave()
            else:
                keep.append((end, s))
        self._running = keep

    def project_hours(self) -> float:
        """Hours of service the micro-projects' workers delivered over the run."""
        return float(sum(c.delivered_hours for c in self.project_log))

    # ------------------------------------------------------------------ checks
    def ledger_errors(self, series: dict[str, np.ndarray] | None = None) -> list[str]:
        """The fund's ledger: balance == seed + donations + matching - grants, nothing
        negative, and (given the weekly series) the weeks add up to the run's totals."""
        out = []
        donated = sum(self.donated.values())
        expect = self.seed_fund + donated + self.matched - self.granted
        scale = max(1.0, self.seed_fund + donated + self.matched)
        if abs(self.balance - expect) > 1e-6 * scale:
            out.append(
                f"charity ledger: balance {self.balance:.2f} != seed + donations + match - grants"
                f" {expect:.2f}"
            )
        if self.balance < -1e-6 or min(self.matched, self.granted, donated) < -1e-9:
            out.append("charity ledger: a negative amount")
        if series is not None:
            for key, total in (
                ("charity_donations", donated),
                ("charity_matched", self.matched),
                ("charity_grants", self.granted),
            ):
                if abs(float(series[key].sum()) - total) > 1e-6 * max(1.0, total):
                    out.append(f"charity ledger: weekly {key} do not add up to the run's total")
        return out
