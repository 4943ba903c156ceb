"""Participation of residents and community organizations: consultation councils (社区协商:
恳谈会、听证会、议事会) that set part of the project list, and organizations claiming services
(社会组织认领服务) from the community's list of needs nobody has taken up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.agents import WEEK
from model.needs import WAITING
from model.policies.base import Policy, PolicyParams
from model.schema import ASSUMPTION, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


# ====================================================================== consultation
class ConsultationParams(PolicyParams):
    list_share: float = P(
        0.5,
        0,
        1,
        "share",
        "Share of the project list's money that the councils of residents' and organizations' "
        "representatives set (the rest follows the street's own estimate of the needs).",
        ASSUMPTION,
        plausible=(0.2, 1.0),
    )
    voiced_hidden: float = P(
        0.5,
        0,
        1,
        "share",
        "Share of the needs hidden from providers (never posted) that representatives bring to "
        "the councils: residents know needs they never asked a provider to meet.",
        ASSUMPTION,
        plausible=(0.2, 0.8),
    )
    interval_weeks: int = P(
        13,
        1,
        52,
        "weeks",
        "Weeks between two council meetings of a community (恳谈会, 议事会, 居民代表会议).",
        ASSUMPTION + " (quarterly; monthly in some streets)",
        plausible=(4, 26),
    )
    hours_per_attendee: float = P(
        3.0,
        0,
        40,
        "hours",
        "Service hours one attendee gives up in a meeting week (one community worker per "
        "community, one staff member per organization with staff; residents' and volunteer "
        "representatives come in their own time).",
        ASSUMPTION,
        plausible=(1, 6),
    )
    trust_per_meeting: float = P(
        0.002,
        0,
        0.05,
        "trust",
        "Trust added to every resident of a community at each of its council meetings "
        "(residents see their voice heard; trust relaxes towards its start by 0.2% of the gap "
        "a week).",
        ASSUMPTION,
        plausible=(0.0, 0.01),
    )


class Consultation(Policy):
    """Consultation councils: representatives of residents and organizations set part of the project list."""

    name = "consultation"
    label_zh = "社区协商(议事会)"
    seed_text = (
        "邀请社区社会组织代表参与社区恳谈会、听证会、议事会和居民代表会议……"
        "发动社区居民参与制定、实施社区发展规划,参与策划、执行社区服务项目与活动方案"
    )
    Params = ConsultationParams

    def __init__(self, pars: ConsultationParams) -> None:
        super().__init__(pars)
        self.meeting_hours = 0.0  # staff service hours spent in council meetings over the run

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.organizations.let_councils_set_list(self.pars.list_share, self.pars.voiced_hidden)

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        if model.week % pr.interval_weeks:
            return
        comms = model.population.communities
        attendees = [com.workers[0] for com in comms if com.workers]
        attendees += [org.staff[0] for org in model.organizations if org.staff]
        self.meeting_hours += model.workforce.attend_meeting(
            attendees, pr.hours_per_attendee, model.week
        )
        model.population.add_trust(np.full(len(comms), pr.trust_per_meeting))


# ====================================================================== claiming services
class ClaimingParams(PolicyParams):
    listed_after_hours: float = P(
        48.0,
        0,
        1000,
        "hours",
        "A need waiting this long (in its community's queue, or on the platform's street-wide "
        "queue) goes on its community's list of needs to claim (待认领需求).",
        ASSUMPTION,
        plausible=(24, 168),
    )
    claims_per_org: int = P(
        3,
        0,
        100,
        "needs/week",
        "Listed needs one community organization claims in a week (its team serves them in "
        "extra shifts).",
        ASSUMPTION,
        plausible=(1, 8),
    )
    max_extra: float = P(
        0.5,
        0,
        1,
        "probability/week",
        "Most extra participation probability a claiming organization asks of each team member "
        "in a week.",
        ASSUMPTION,
        plausible=(0.2, 1.0),
    )
    cost_per_hour: float = P(
        5.0,
        0,
        1000,
        "yuan/hour",
        "Cost of a claimed service hour (transport, materials) that the organization pays from "
        "its own funds: claiming is not paid by the government.",
        ASSUMPTION,
        plausible=(0.0, 20),
    )


class Claiming(Policy):
    """Community organizations claim the needs nobody took up and serve them with their volunteer teams, unpaid."""

    name = "claiming"
    label_zh = "社会组织认领服务"
    seed_text = "通过政府购买服务、公益创投,以及社会组织认领服务等措施,积极引导社会组织参与社区文化"
    Params = ClaimingParams

    def __init__(self, pars: ClaimingParams) -> None:
        super().__init__(pars)
        self.claimed = 0  # needs claimed over the run
        self.claimed_hours = 0.0

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        nt = model.needs
        now = model.week * WEEK
        ids = np.flatnonzero(nt.view("status") == WAITING)  # community or street queues
        ids = ids[(now - nt.t_post[ids] > pr.listed_after_hours) & (nt.level[ids] <= 1)]
        ids = ids[np.lexsort((ids, nt.t_post[ids]))]  # oldest first
        by_c: dict[int, list[int]] = {}
        for nid in ids.tolist():
            by_c.setdefault(int(nt.community[nid]), []).append(nid)
        extra: dict[int, float] = {}
        orgs = model.organizations
        for org in orgs:
            listed = by_c.get(org.community)
            if org.org_kind != "endogenous" or not org.team or not listed or org.funds <= 0:
                continue
            # Listed needs are of level 0 or 1: a team with any member of skill 1 or more can
            # serve them all (`any` stops at the first such member).
            if any(v.skill >= 1 for v in org.team):
                mine = listed[: pr.claims_per_org]
            else:
                mine = [nid for nid in listed if nt.level[nid] <= 0][: pr.claims_per_org]
            if not mine:
                continue
            for nid in mine:
                listed.remove(nid)
            hours = float(nt.hours[mine].sum())
            team_hours = sum(v.weekly_hours for v in org.team)
            extra[id(org)] = min(pr.max_extra, hours / team_hours)
            orgs.spend_own(org, pr.cost_per_hour * hours)
            self.claimed += len(mine)
            self.claimed_hours += hours
        model.volunteers.pledge_team_shifts(extra)
