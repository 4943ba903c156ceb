"""Social organizations: cultivation (培育孵化), government purchase of services (政府购买服务),
project operation (项目运作) and third-party evaluation (第三方评估)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from model.agents import WEEK, ServiceStaff, SocialOrganization, SocialWorker
from model.needs import F_DISCOVERED, F_HIDDEN, MET
from model.policies.base import Policy, PolicyParams
from model.residents import V_REGISTERED
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel

AREAS = ("professional", "care")


def _next_multiple(week: int, step: int) -> int:
    """The first week from `week` on that is a multiple of `step`."""
    return -(-week // step) * step


# ====================================================================== cultivation
def _last_year_listed(model: LinkageModel) -> np.ndarray:
    """Ids of the level-1 and level-2 needs raised in the last 52 weeks (the project list's
    candidates)."""
    nt = model.needs
    t_from = (model.week - 52) * WEEK
    lo = int(np.searchsorted(nt.view("t_raise") >= t_from, True))
    ids = np.arange(lo, nt.n)
    return ids[(nt.t_raise[ids] >= t_from) & (nt.level[ids] >= 1)]


def _by_community_area(model: LinkageModel, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum `weights` of the needs `ids` per (community, area): area 0 professional, 1 care."""
    nc = model.p.street.n_communities
    area = (~model.catalog.professional[model.needs.ntype[ids]]).astype(np.int64)
    flat = model.needs.community[ids].astype(np.int64) * 2 + area
    return np.bincount(flat, weights=weights, minlength=nc * 2).reshape(nc, 2)


class CultivationParams(PolicyParams):
    founding_rate: float = P(
        0.05,
        0,
        5,
        "per leader-year",
        "Organizations founded per resident leader per year, before incubation and registration ease.",
        ASSUMPTION,
        plausible=(0.01, 0.2),
    )
    incubation: float = P(
        0.5,
        0,
        3,
        "multiplier",
        "Incubation support: founding rate x (1 + incubation x funded share of the incubation "
        "places); also capacity growth of incubated organizations.",
        ASSUMPTION,
        plausible=(0.0, 2),
    )
    registration_ease: float = P(
        0.5,
        0,
        1,
        "0-1",
        "Simpler registration (简化登记): founding x (0.5 + ease); entry cost x (1 - ease).",
        LEVER + " (0 strict registration, 1 filing only)",
    )
    registration_cost: float = P(
        8_000.0,
        0,
        1e7,
        "yuan",
        "Entry cost of registering an organization at strict registration.",
        ASSUMPTION,
        plausible=(2000, 20000),
    )
    incubation_cost: float = P(
        20_000.0,
        0,
        1e7,
        "yuan/org-year",
        "Incubation support per incubated organization per year (channel incubation).",
        ASSUMPTION,
        plausible=(10000, 50000),
    )
    places_per_community: float = P(
        1.0,
        0,
        100,
        "organizations/year",
        "Incubation places per community that a fully funded programme pays for each year; "
        "the founding boost scales with the share of them the incubation envelope pays.",
        ASSUMPTION,
        plausible=(0.5, 3),
    )
    growth_rate: float = P(
        0.02,
        0,
        1,
        "probability/week",
        "Weekly chance that an incubated organization trains a team member to skill 1 and recruits one more.",
        ASSUMPTION,
        plausible=(0.0, 0.05),
    )


class Cultivation(Policy):
    """Founding and growth of community social organizations from resident leaders."""

    name = "cultivation"
    label_zh = "培育孵化社区社会组织"
    seed_text = (
        "简化登记程序,以直接登记和备案管理相结合的方式……积极孵化、培育和发展……社区社会服务组织"
    )
    Params = CultivationParams
    channels = ("incubation",)

    def __init__(self, pars: CultivationParams) -> None:
        super().__init__(pars)
        self.funded = 0.0  # share of this year's incubation places the envelope pays

    def committed(self, model: LinkageModel) -> dict[str, float]:
        """Incubation places are given at the year's start only: nothing more this year."""
        return {"incubation": 0.0}

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        res = model.residents
        orgs = model.organizations
        rng = model.streams.weekly("cultivation", model.week)
        if model.week % 52 == 0:  # incubation places for young community organizations
            places = pr.incubation_cost * pr.places_per_community * res.n_communities
            have = model.gov.remaining("incubation")
            self.funded = min(1.0, have / places) if places > 0 else 0.0
            young = sorted(
                (o for o in orgs if o.org_kind == "endogenous"), key=lambda o: -o.founded_week
            )
            for o in young:
                o.incubated = False
            for o in young:
                if model.gov.spend("incubation", pr.incubation_cost) < pr.incubation_cost - 1e-6:
                    break
                o.incubated = True
                o.receive(pr.incubation_cost * 0.5)  # half the support reaches it as cash
        # Founding: leaders found organizations, faster with funded incubation and easier
        # registration, slower as the community fills up (carrying capacity).
        leaders = np.bincount(res.community[res.leader], minlength=res.n_communities)
        boost = (1 + pr.incubation * self.funded) * (0.5 + pr.registration_ease)
        lam = leaders * pr.founding_rate / 52.0 * boost * orgs.founding_room()
        born = rng.poisson(lam)
        for c in np.flatnonzero(born):
            for _ in range(int(born[c])):
                funds = model.p.providers.endogenous_reserve - pr.registration_cost * (
                    1 - pr.registration_ease
                )
                orgs.found(int(c), funds)
        p_grow = pr.growth_rate * pr.incubation
        room = model.volunteers.room()
        for o in orgs:
            if not o.incubated or rng.random() >= p_grow:
                continue
            novices = [v for v in o.team if v.skill == 0]
            if novices:
                model.volunteers.promote(novices[0])
            block = res.members(o.community)
            pool = block.start + np.flatnonzero(res.vol_state[block] == V_REGISTERED)
            if len(pool) and rng.random() < room[o.community]:
                orgs.enlist(o, model.volunteers.activate(int(rng.choice(pool))))


# ====================================================================== purchase
class PurchaseParams(PolicyParams):
    enabled: bool = Field(
        True, description="Switch the policy on (on by default: a typical street does this today)."
    )
    project_purchase: bool = P(
        True,
        None,
        None,
        "switch",
        "Project purchase (项目购买): competitive bidding on the project list.",
        "seed",
    )
    post_purchase: bool = P(
        True,
        None,
        None,
        "switch",
        "Post purchase (岗位购买): social-work posts in communities.",
        "seed",
    )
    venture: bool = P(
        True,
        None,
        None,
        "switch",
        "Venture philanthropy (公益创投): seed grants to community organizations.",
        "seed",
    )
    w_price: float = P(
        0.4,
        0,
        1,
        "weight",
        "Weight of price in the bid score.",
        ASSUMPTION,
        plausible=(0.2, 0.6),
    )
    w_quality: float = P(
        0.3,
        0,
        1,
        "weight",
        "Weight of the buyer's quality assessment in the bid score.",
        ASSUMPTION,
        plausible=(0.2, 0.5),
    )
    markup_min: float = P(
        0.05, 0, 2, "share", "Least markup of a bid over cost.", ASSUMPTION, plausible=(0, 0.15)
    )
    markup_max: float = P(
        0.3, 0, 2, "share", "Largest markup of a bid over cost.", ASSUMPTION, plausible=(0.15, 0.5)
    )
    expected_utilization: float = P(
        0.75,
        0.1,
        1,
        "share",
        "Utilization bidders expect when pricing an hour.",
        ASSUMPTION,
        plausible=(0.5, 0.9),
    )
    assessment_noise: float = P(
        0.25,
        0,
        1,
        "0-1",
        "Noise of the buyer's guess of an organization's quality (without published ratings "
        "the buyer knows it poorly).",
        ASSUMPTION,
        plausible=(0.1, 0.4),
    )
    max_projects: int = P(
        4,
        1,
        100,
        "projects",
        "Most projects one embedded agency can hold at once (community organizations: 1).",
        ASSUMPTION,
        plausible=(2, 8),
    )
    contract_weeks: int = P(
        52, 4, 520, "weeks", "Contract duration.", "docs/sources.md: one-year cycles"
    )
    payment_weeks: int = P(
        4,
        1,
        52,
        "weeks",
        "Payment interval (monthly, against delivered hours).",
        "docs/sources.md (design): paid monthly",
    )
    fixed_share: float = P(
        0.6,
        0,
        1,
        "share",
        "Share of each instalment paid as a fixed base (分期拨付); the rest pays delivered hours at the bid price.",
        ASSUMPTION,
        plausible=(0.0, 0.8),
    )
    post_price: float = P(
        80_000.0,
        0,
        1e7,
        "yuan/post-year",
        "Price of one purchased social-work post.",
        "docs/sources.md: 80,000",
        plausible=(60000, 150000),
    )
    venture_grant: float = P(
        50_000.0,
        0,
        1e7,
        "yuan",
        "One venture-philanthropy grant.",
        "docs/sources.md: 50,000",
        plausible=(10000, 100000),
    )


class Purchase(Policy):
    """Government purchase of services: posts, a project list with competitive bidding, and
    venture-philanthropy grants."""

    name = "purchase"
    label_zh = "政府购买服务"
    seed_text = "建立购买社区公共服务项目清单……都要通过竞争性选择方式交给社会组织运作。通过政府购买服务、公益创投"
    Params = PurchaseParams

    def __init__(self, pars: PurchaseParams) -> None:
        super().__init__(pars)
        self.posts: list[SocialWorker] = []

    def active_channels(self) -> tuple[str, ...]:
        pr = self.pars
        return tuple(
            c
            for c, on in (
                ("procurement", pr.project_purchase),
                ("posts", pr.post_purchase),
                ("venture", pr.venture),
            )
            if on
        )

    def committed(self, model: LinkageModel) -> dict[str, float]:
        """Procurement: each running contract's instalments still due this year, projected at
        its mean instalment so far (at most its unpaid value); venture grants are given at the
        year's start only. Posts are left to the spending-rate projection."""
        pw = self.pars.payment_weeks
        week = model.week
        year_end = (week // 52 + 1) * 52
        due = 0.0
        for con in model.organizations.contracts:
            paid_n = len(range(_next_multiple(con.start_week, pw), week, pw))
            left_n = len(range(_next_multiple(week, pw), min(con.end_week, year_end), pw))
            mean = con.paid / paid_n if paid_n else con.value * pw / self.pars.contract_weeks
            due += min(max(0.0, con.value - con.paid), left_n * mean)
        return {"procurement": due, "venture": 0.0}

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        week = model.week
        self.posts = model.careers.current(self.posts)  # a vacated post's successor holds it
        model.organizations.end_contracts(week)
        if week % 52 and week % 13 == 0 and pr.post_purchase:
            # At each quarterly review, posts the channel can still pay for are recruited when
            # the labour pool has someone (and, with posts as the fallback, hire with moved money).
            self._posts(model, 52 - week % 52)
        if week % 52 == 0:
            if pr.project_purchase:
                self._procure(model)
                model.organizations.release_project_staff()
            if pr.post_purchase:  # after the projects' staff were released to the labour pool
                self._posts(model)
            if pr.venture:
                self._venture(model)
        for s in self.posts:  # a post left vacant (its holder quit, no successor yet) is not paid
            if s.on_roster:
                model.gov.spend("posts", pr.post_price / 52.0)
        if week % pr.payment_weeks == 0:
            self._pay(model)

    # ------------------------------------------------------------------ posts
    def _posts(self, model: LinkageModel, weeks_left: int = 52) -> None:
        pr = self.pars
        target = int(model.gov.remaining("posts") // (pr.post_price * weeks_left / 52.0))
        if weeks_left == 52:  # a new budget year buys its posts afresh
            self.posts = [s for s in self.posts if s.on_roster]
        # (within a year a post left vacant stays a post: careers refills it)
        while len(self.posts) > target:
            self.posts.pop().leave()
        demand = self._professional_demand(model)
        rng = model.streams.get("posts")
        wf = model.workforce
        while len(self.posts) < target and wf.sw_available() >= 1:
            per = np.array(
                [sum(1 for s in self.posts if s.community == c) for c in range(len(demand))]
            )
            c = int(np.argmax(demand / (per + 1)))
            s = wf.hire(SocialWorker, c, 2, "sw", float(wf.draw_quality(rng, 1)[0]))
            self.posts.append(s)

    def _professional_demand(self, model: LinkageModel) -> np.ndarray:
        hours = self._area_hours(model)
        return hours[:, 0] + 1e-9

    def _area_hours(self, model: LinkageModel) -> np.ndarray:
        """Estimated hours the project list should buy per (community, area).

        From the second year: last year's visible level-1 and level-2 needs that went unmet or
        were served below level, plus the hours purchased staff delivered (continuation). In the
        first year: half the expected visible hours (assumption). Level-0 needs are left to
        volunteers.
        """
        nc = model.p.street.n_communities
        cat = model.catalog
        nt = model.needs
        if model.week >= 52:
            ids = _last_year_listed(model)
            ids = ids[np.isfinite(nt.t_post[ids])]
            gap = (nt.status[ids] != MET) | (nt.skill[ids] < nt.level[ids])
            ids = ids[gap]
            out = _by_community_area(model, ids, nt.hours[ids])
            for con in model.organizations.contract_history:
                if con.end_week == model.week or con.start_week == model.week - 52:
                    out[con.community, AREAS.index(con.area)] += con.delivered_hours
        else:
            res = model.residents
            g_by_c = np.zeros((nc, cat.rates.shape[0]))
            np.add.at(g_by_c, (res.community, res.group), 1.0)
            per_type = (
                g_by_c @ cat.rates * 52 * cat.hours * (1 - cat.hidden) * (cat.level >= 1) * 0.5
            )
            out = np.stack(
                [per_type[:, cat.professional].sum(1), per_type[:, ~cat.professional].sum(1)],
                axis=1,
            )
        return out

    def list_shares(self, model: LinkageModel) -> np.ndarray:
        """Share of the project list's money per (community, area).

        The street's own estimate (`_area_hours`: the gaps providers saw, plus the hours of the
        projects that ran), except for the share that consultation councils set
        (`Organizations.council_share`, 议事会): representatives list the needs residents have
        (`_voiced_hours`), so that share of the money follows the community's need mix.
        """
        hours = self._area_hours(model)
        total = hours.sum()
        if total <= 0:
            return np.zeros_like(hours)
        shares = hours / total
        w = model.organizations.council_share
        if w > 0:
            voiced = self._voiced_hours(model, model.organizations.voiced_hidden)
            if voiced.sum() > 0:
                shares = (1 - w) * shares + w * voiced / voiced.sum()
        return shares

    @staticmethod
    def _voiced_hours(model: LinkageModel, voiced_hidden: float) -> np.ndarray:
        """Hours of the level-1 and level-2 needs residents' representatives bring to the
        councils, per (community, area): every such need raised last year, met or not, but of
        those that stayed hidden from providers only `voiced_hidden`; in the first year, the
        expected needs (the hidden ones likewise)."""
        nc = model.p.street.n_communities
        cat = model.catalog
        nt = model.needs
        if model.week >= 52:
            ids = _last_year_listed(model)
            fl = nt.flags[ids]
            unseen = (fl & F_HIDDEN > 0) & (fl & F_DISCOVERED == 0)
            return _by_community_area(
                model, ids, np.where(unseen, voiced_hidden, 1.0) * nt.hours[ids]
            )
        res = model.residents
        g_by_c = np.zeros((nc, cat.rates.shape[0]))
        np.add.at(g_by_c, (res.community, res.group), 1.0)
        told = 1 - cat.hidden * (1 - voiced_hidden)
        per_type = g_by_c @ cat.rates * 52 * cat.hours * told * (cat.level >= 1)
        return np.stack(
            [per_type[:, cat.professional].sum(1), per_type[:, ~cat.professional].sum(1)], axis=1
        )

    # ------------------------------------------------------------------ projects
    def _price(
        self, org: SocialOrganization, area: str, model: LinkageModel, rng: np.random.Generator
    ) -> float:
        """A bid's price per delivered hour: the wage the bidder pays (a community
        organization: `endogenous_wage_factor` x the salary, as it pays its hires), over the
        hours a post serves in a year at the expected utilization, plus a markup."""
        pp = model.p.providers
        pr = self.pars
        salary = pp.sw_salary if area == "professional" else pp.staff_salary
        if org.org_kind == "endogenous":
            salary *= pp.endogenous_wage_factor
        hours_year = pp.sw_hours * (1 - pp.sw_admin_share) * model.workforce.sw_hours_factor * 52
        return (
            salary
            / hours_year
            / pr.expected_utilization
            * (1 + rng.uniform(pr.markup_min, pr.markup_max))
        )

    def _procure(self, model: LinkageModel) -> None:
        pr = self.pars
        rng = model.streams.weekly("procurement", model.week)
        budget = model.gov.remaining("procurement")
        shares = self.list_shares(model)
        if budget <= 0 or shares.sum() <= 0:
            return
        year = model.week // 52
        projects = sorted(
            (
                (budget * shares[c, a], c, AREAS[a])
                for c in range(shares.shape[0])
                for a in range(2)
            ),
            key=lambda x: (-x[0], x[1], x[2]),
        )
        held = {o.unique_id: 0 for o in model.organizations}
        credit = model.organizations.credit_weight
        for value, c, area in projects:
            model.organizations.tender(model.week, c, area, value)
            bids = []
            for o in model.organizations:
                if o.barred_year == year:
                    continue
                if area == "professional" and o.org_kind != "embedded":
                    continue
                cap = pr.max_projects if o.org_kind == "embedded" else 1
                if held[o.unique_id] >= cap:
                    continue
                price = self._price(o, area, model, rng)
                guess = o.quality + rng.normal(0, pr.assessment_noise)
                bonus = o.bonus if o.bonus_year == year else 0.0
                bids.append((o, price, guess, bonus))
            if not bids:
                continue
            p_max = max(b[1] for b in bids)
            best = max(
                bids,
                key=lambda b: (
                    pr.w_price * (1 - b[1] / p_max)
                    + pr.w_quality * b[2]
                    + credit * b[0].reputation
                    + b[3]
                ),
            )
            org, price = best[0], best[1]
            held[org.unique_id] += 1
            self._award(model, org, c, area, value, price)

    def _award(
        self,
        model: LinkageModel,
        org: SocialOrganization,
        c: int,
        area: str,
        value: float,
        price: float,
    ) -> None:
        """The project goes to `org`, staffed for the hours its value buys at the bid price:
        whole posts and one part-time post (`Organizations.award_contract`)."""
        pr = self.pars
        target = value / price
        pp = model.p.providers
        weekly = pp.sw_hours * (1 - pp.sw_admin_share) * model.workforce.sw_hours_factor
        posts = target / pr.contract_weeks / (weekly * pr.expected_utilization)
        model.organizations.award_contract(
            org, c, area, value, price, model.week, model.week + pr.contract_weeks, posts
        )

    def _pay(self, model: LinkageModel) -> None:
        """Instalments (分期拨付): a fixed base plus the month's delivered hours at the bid
        price, never above what is left of the contract's value."""
        f = self.pars.fixed_share
        for con in model.organizations.contracts:
            base = f * con.value * self.pars.payment_weeks / self.pars.contract_weeks
            due = min(base + (1 - f) * con.month_hours * con.price_per_hour, con.value - con.paid)
            con.month_hours = 0.0
            model.organizations.pay(con, model.gov.spend("procurement", due))

    # ------------------------------------------------------------------ venture
    def _venture(self, model: LinkageModel) -> None:
        pr = self.pars
        rng = model.streams.weekly("venture", model.week)
        cands = [o for o in model.organizations if o.org_kind == "endogenous"]
        if not cands:
            return
        score = np.array([o.quality + rng.normal(0, 0.1) for o in cands])
        for i in np.argsort(-score, kind="stable"):
            if model.gov.remaining("venture") < pr.venture_grant - 1e-6:
                break
            o = cands[int(i)]
            o.funds += model.gov.spend("venture", pr.venture_grant)
            q = float(
                np.clip(model.workforce.draw_quality(rng, 1)[0] + o.quality_offset, 0.05, 1.0)
            )
            model.workforce.hire(ServiceStaff, o.community, 1, "staff", q, employer=o)


# ====================================================================== project teams
class ProjectTeamsParams(PolicyParams):
    team_size: int = P(
        10,
        0,
        1000,
        "volunteers",
        "Registered but inactive volunteers a new project mobilizes into its team.",
        ASSUMPTION,
        plausible=(5, 30),
    )
    hazard_mult: float = P(
        0.85,
        0,
        1,
        "multiplier",
        "Dropout hazard of team volunteers supervised by the project (x).",
        ASSUMPTION,
        plausible=(0.7, 1),
    )


class ProjectTeams(Policy):
    """Project operation: the organization undertakes, its social workers execute, a volunteer
    team from the community assists."""

    name = "project_teams"
    label_zh = "项目运作(社会组织承接、社工执行、志愿者协助)"
    seed_text = (
        "社会组织为服务载体……社区志愿者……可以通过一定的社会组织或在一定的平台与载体上提供志愿服务"
    )
    Params = ProjectTeamsParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.volunteers.reduce_hazard(supervised=self.pars.hazard_mult)
        self._seen: set[int] = set()

    def apply(self, model: LinkageModel) -> None:
        if model.week % 52:
            return
        res = model.residents
        rng = model.streams.weekly("project_teams", model.week)
        room = model.volunteers.room()
        for con in model.organizations.contracts:  # new contracts: purchase runs before
            if id(con) in self._seen:
                continue
            self._seen.add(id(con))
            block = res.members(con.community)
            pool = block.start + np.flatnonzero(res.vol_state[block] == V_REGISTERED)
            k = min(len(pool), round(self.pars.team_size * room[con.community]))
            for r in rng.choice(pool, size=k, replace=False) if k else ():
                model.organizations.enlist(con.org, model.volunteers.activate(int(r)))
                res.supervised[int(r)] = True


# ====================================================================== evaluation
class EvaluationParams(PolicyParams):
    enabled: bool = Field(
        True, description="Switch the policy on (on by default: a typical street does this today)."
    )
    cost: float = P(
        8_000.0,
        0,
        1e7,
        "yuan/contract-year",
        "Cost of evaluating one contract for a year (mid-term review and final evaluation).",
        ASSUMPTION,
        plausible=(3000, 20000),
    )
    w_delivery: float = P(
        0.3,
        0,
        1,
        "weight",
        "Weight of the delivery ratio in the score; the rest is the contract's resolution rate "
        "(the performance of its services).",
        ASSUMPTION,
        plausible=(0.2, 0.5),
    )
    score_offset: float = P(
        13.0,
        0,
        100,
        "points",
        "Points the evaluators' standards take off 100 x performance (how demanding the "
        "indicators are).",
        ASSUMPTION + " (tuned to Shenzhen's grade distribution, docs/sources.md)",
        plausible=(5, 25),
    )
    noise_sd: float = P(
        5.0,
        0,
        50,
        "points",
        "Measurement noise of the 100-point score.",
        ASSUMPTION,
        plausible=(3, 15),
    )
    excellent: float = P(
        85.0,
        0,
        100,
        "points",
        "Excellent from this score.",
        "docs/sources.md: provincial evaluation rules",
    )
    good: float = P(
        75.0,
        0,
        100,
        "points",
        "Good from this score.",
        "docs/sources.md: provincial evaluation rules",
    )
    pass_mark: float = P(
        60.0,
        0,
        100,
        "points",
        "Below this a contract fails: at the mid-term review it is terminated, at the final "
        "evaluation the organization is barred from the next round.",
        "docs/sources.md: provincial evaluation rules; Panyu: a failed evaluation ends the "
        "contract",
    )
    bonus_excellent: float = P(
        0.1,
        0,
        1,
        "score",
        "Bid-score bonus next round for an excellent final evaluation.",
        ASSUMPTION,
        plausible=(0.02, 0.2),
    )
    bonus_good: float = P(
        0.05,
        0,
        1,
        "score",
        "Bid-score bonus next round for a good final evaluation.",
        ASSUMPTION,
        plausible=(0.01, 0.1),
    )
    improve_step: float = P(
        0.03,
        0,
        0.2,
        "quality",
        "Feedback: quality an organization graded below good gains from the evaluators' "
        "recommendations (0: evaluation acts by selection only).",
        ASSUMPTION,
        plausible=(0.0, 0.05),
    )
    process_weeks: int = P(
        13,
        0,
        52,
        "weeks",
        "Process evaluation (过程评估): weeks between checks of a running contract's service "
        "records (delivery and resolution so far) between the mid-term and final reviews; 0: "
        "no process evaluation. Quarterly by default (checks in a contract's weeks 13 and 39).",
        ASSUMPTION + " (quarterly, as the budget's reviews; range monthly to half-yearly)",
        plausible=(4, 26),
    )
    process_cost: float = P(
        1_000.0,
        0,
        1e6,
        "yuan/check",
        "Cost of one process check of one contract (a desk review of the service records and a "
        "site visit).",
        ASSUMPTION,
        plausible=(300, 3000),
    )
    process_warn: float = P(
        70.0,
        0,
        100,
        "points",
        "A process check scoring below this issues a rectification notice (整改通知): the "
        "organization improves by `process_step` before the next review.",
        ASSUMPTION + " (between the pass mark and good)",
        plausible=(60, 80),
    )
    process_step: float = P(
        0.03,
        0,
        0.2,
        "quality",
        "Quality an organization gains from a rectification notice (its supervision and "
        "corrective plan).",
        ASSUMPTION + " (the same order as `improve_step`)",
        plausible=(0.0, 0.06),
    )
    process_terminate: float = P(
        40.0,
        0,
        100,
        "points",
        "A process check scoring below this is a severe shortfall: the contract ends early.",
        ASSUMPTION,
        plausible=(20, 55),
    )


class Evaluation(Policy):
    """Third-party evaluation of every contract: a mid-term review and a final evaluation a year.

    The seed asks to 「加强对社会组织承接项目的过程监督和绩效评估……引入第三方评估」. Each contract is
    scored at mid-term (its 26th week) and at its end (its 52nd): 100 x (`w_delivery` x delivery
    ratio + (1 - `w_delivery`) x resolution rate of its services) - `score_offset` + noise. A
    failed mid-term review terminates the contract (Panyu's rule); a failed final evaluation bars
    the organization from the next round; excellent and good final grades earn a bid bonus next
    round (priority). After each review an organization graded below good improves by
    `improve_step` (the evaluators' feedback). Grades are tuned to Shenzhen's 2014 distribution
    (docs/sources.md).

    Process evaluation (过程评估) joins the performance evaluation: every `process_weeks` of a
    contract, outside the review weeks, the evaluators check its service records with the same
    score (delivery and resolution so far, with measurement noise). Below `process_warn` the
    organization gets a rectification notice and improves by `process_step`; below
    `process_terminate` (a severe shortfall) the contract ends early. Process scores are kept
    apart from the reviews' (`process_scores`): they grade nothing.
    """

    name = "evaluation"
    label_zh = "第三方评估"
    seed_text = "注重过程评估与绩效评估的有机结合,逐渐建立第三方评估制度"
    Params = EvaluationParams
    channels = ("evaluation",)

    def __init__(self, pars: EvaluationParams) -> None:
        super().__init__(pars)
        self.scores: list[float] = []  # every score, mid-term and final
        self.final_scores: list[float] = []
        self.fails = 0
        self.terminated = 0
        self.process_scores: list[float] = []  # every process check's score
        self.warnings = 0  # rectification notices
        self.process_terminated = 0  # contracts ended by a process check

    def overhead(self, model: LinkageModel) -> dict[str, float]:
        """Evaluation is sized to the contracts it will evaluate: last year's awards (in the
        first year, one project per community and area), none when no project is bought."""
        gov = model.gov
        if "procurement" not in gov.programmes or gov.funding.allocation.procurement <= 0:
            return {"evaluation": 0.0}
        if model.week >= 52:
            n = sum(
                1 for c in model.organizations.contract_history if c.start_week == model.week - 52
            )
        else:
            n = 2 * model.p.street.n_communities
        per = self.pars.cost + self.pars.process_cost * len(self.process_phases())
        return {"evaluation": per * n}

    def process_phases(self) -> tuple[int, ...]:
        """Weeks of the year (0-51) with a process check: every `process_weeks` of a contract
        (contracts start with the year), except the review weeks."""
        k = self.pars.process_weeks
        if k <= 0:
            return ()
        return tuple(ph for ph in range(k - 1, 52, k) if ph not in (25, 51))

    def committed(self, model: LinkageModel) -> dict[str, float]:
        """The evaluations still due this year for each running contract: the mid-term review
        (week 25 of the year) and the final evaluation (week 51), half the cost each, and the
        process checks still to come."""
        phase = model.week % 52
        due = 2 if phase <= 25 else 1
        checks = sum(1 for ph in self.process_phases() if ph >= phase)
        per = self.pars.cost / 2 * due + self.pars.process_cost * checks
        return {"evaluation": per * len(model.organizations.contracts)}

    def score(self, con, weeks: int) -> float:
        """The contract's true score after `weeks` of service (before noise)."""
        pr = self.pars
        delivery = min(1.0, con.delivered_hours / max(1e-9, con.target_hours * weeks / 52.0))
        resolution = con.resolved / con.served if con.served else 0.0
        return 100.0 * (pr.w_delivery * delivery + (1.0 - pr.w_delivery) * resolution) - (
            pr.score_offset
        )

    def process_check(self, model: LinkageModel) -> None:
        """A process check of every running contract: a rectification notice below
        `process_warn`, early termination below `process_terminate`."""
        pr = self.pars
        rng = model.streams.weekly("process_evaluation", model.week)
        orgs = model.organizations
        for con in list(orgs.contracts):
            if model.gov.spend("evaluation", pr.process_cost) < pr.process_cost - 1e-6:
                break
            weeks = max(1, model.week + 1 - con.start_week)
            score = float(np.clip(self.score(con, weeks) + rng.normal(0, pr.noise_sd), 0, 100))
            self.process_scores.append(score)
            if score < pr.process_terminate:
                orgs.terminate(con, model.week)
                self.process_terminated += 1
            elif score < pr.process_warn:
                self.warnings += 1
                orgs.rectify(con, pr.process_step)

    def apply(self, model: LinkageModel) -> None:
        phase = model.week % 52
        if phase in self.process_phases():
            self.process_check(model)
            return
        if phase not in (25, 51):
            return
        final = phase == 51
        pr = self.pars
        rng = model.streams.weekly("evaluation", model.week)
        year = model.week // 52 + 1
        orgs = model.organizations
        for con in list(orgs.contracts):  # the contracts purchase awarded
            if model.gov.spend("evaluation", pr.cost / 2) < pr.cost / 2 - 1e-6:
                break
            weeks = max(1, model.week + 1 - con.start_week)
            score = float(np.clip(self.score(con, weeks) + rng.normal(0, pr.noise_sd), 0, 100))
            con.score = score
            self.scores.append(score)
            org = con.org
            if score < pr.pass_mark:
                self.fails += 1
                if final:
                    orgs.grade(org, year, barred=True, bonus=0.0)
                else:
                    orgs.terminate(con, model.week)
                    self.terminated += 1
            elif final:
                bonus = pr.bonus_excellent if score >= pr.excellent else 0.0
                bonus = pr.bonus_good if not bonus and score >= pr.good else bonus
                orgs.grade(org, year, barred=False, bonus=bonus)
            if final:
                self.final_scores.append(score)
            if score < pr.good and pr.improve_step > 0:
                orgs.improve(org, pr.improve_step)
