"""Social work: professionalization (岗位, 考试, 转型), needs surveys and resident leaders (需求调查,
居民骨干), team co-building (队伍联建), social worker + volunteer co-delivery (社工+志愿者), and the
joint meeting (联席会议)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from model.agents import WEEK
from model.policies.base import Policy, PolicyParams
from model.residents import V_ACTIVE
from model.schema import ASSUMPTION, LEVER, P

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel


def sw_per_community(model: LinkageModel) -> np.ndarray:
    """Deprecated: use `model.workforce.social_workers_per_community()`."""
    warnings.warn(
        "sw_per_community is deprecated: use model.workforce.social_workers_per_community()",
        DeprecationWarning,
        stacklevel=2,
    )
    return model.workforce.social_workers_per_community()


# ====================================================================== professionalization
class ProfessionalizationParams(PolicyParams):
    exam_pass: float = P(
        0.1,
        0,
        1,
        "probability/year",
        "Chance a community worker passes the social-work exam in a year, untrained.",
        ASSUMPTION + " (national pass rates are about 20%)",
        plausible=(0.05, 0.3),
    )
    training_boost: float = P(
        0.15,
        0,
        1,
        "probability/year",
        "Extra pass chance from exam training.",
        ASSUMPTION,
        plausible=(0.0, 0.3),
    )
    transformed_admin_share: float = P(
        0.85,
        0,
        1,
        "share",
        "Administrative share of a community worker who became a community social worker "
        "(default: `providers.cw_admin_share`'s default, 0.85; the exam changes the "
        "qualification, not the workload).",
        ASSUMPTION + " (no source for a lighter administrative load after the exam)",
        plausible=(0.6, 0.95),
    )
    graduates_per_10k: float = P(
        0.5,
        0,
        20,
        "per 10,000 residents per year",
        "Social-work graduates recruited into the street's labour pool each year.",
        ASSUMPTION,
        plausible=(0.0, 2),
    )


class Professionalization(Policy):
    """Community workers train and pass exams to become social workers; graduates are recruited."""

    name = "professionalization"
    label_zh = "社会工作专业化"
    seed_text = (
        "探索完善社会工作专业岗位设置范围、数量结构、配备比例……通过建立职业水平考试鼓励制度、"
        "教育培养制度等,推进现有社区工作者专业化提升转换……积极招录全日制高校社会工作专业毕业生到社区就业"
    )
    Params = ProfessionalizationParams

    def __init__(self, pars: ProfessionalizationParams) -> None:
        super().__init__(pars)
        self.passed = 0

    def apply(self, model: LinkageModel) -> None:
        if model.week % 52 != 26:  # the exam is held mid-year
            return
        pr = self.pars
        rng = model.streams.weekly("exams", model.week)
        p_pass = min(1.0, pr.exam_pass + pr.training_boost)
        for cw in model.workforce.community_workers():
            if cw.skill < 2 and rng.random() < p_pass:
                model.workforce.qualify_as_social_worker(cw, pr.transformed_admin_share)
                self.passed += 1
        model.workforce.recruit_graduates(
            pr.graduates_per_10k * model.p.street.n_residents / 10_000.0
        )


# ====================================================================== surveys and leaders
class SurveysParams(PolicyParams):
    survey_share: float = P(
        0.1,
        0,
        0.9,
        "share",
        "Share of a social worker's service hours spent on needs surveys and visits.",
        ASSUMPTION,
        plausible=(0.05, 0.3),
    )
    discovery_per_hour: float = P(
        0.05,
        0,
        1,
        "probability/week per survey hour per 1,000 residents",
        "Weekly discovery chance of a hidden need, per weekly survey hour per 1,000 residents.",
        ASSUMPTION,
        plausible=(0.01, 0.1),
    )
    leaders_per_sw: float = P(
        2.0,
        0,
        100,
        "leaders per SW-year",
        "Resident leaders (骨干) a social worker cultivates per year.",
        ASSUMPTION,
        plausible=(0.5, 5),
    )
    recruits_per_leader: float = P(
        3.0,
        0,
        100,
        "volunteers per leader-year",
        "Volunteers a resident leader mobilizes per year.",
        ASSUMPTION,
        plausible=(1, 6),
    )


class SurveysAndLeaders(Policy):
    """Social workers' needs surveys reveal hidden needs; cultivated leaders mobilize volunteers."""

    name = "surveys"
    label_zh = "需求调查与居民骨干培育"
    seed_text = "定期开展社区居民需求调查……发现、挖掘和培养居民骨干"
    Params = SurveysParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.workforce.reserve_sw_hours(self.pars.survey_share)

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        res = model.residents
        n_sw = model.workforce.social_workers_per_community()
        pp = model.p.providers
        survey_hours = n_sw * pp.sw_hours * (1 - pp.sw_admin_share) * pr.survey_share
        per_1000 = survey_hours / np.maximum(
            1.0, np.array([c.n_residents for c in model.population.communities]) / 1000.0
        )
        model.population.set_outreach_discovery(np.minimum(0.5, pr.discovery_per_hour * per_1000))
        rng = model.streams.weekly("leaders", model.week)
        new = np.minimum(
            rng.poisson(n_sw * pr.leaders_per_sw / 52.0), model.population.leader_room()
        )
        for c in np.flatnonzero(new):
            block = res.members(int(c))
            cand = block.start + np.flatnonzero(~res.leader[block])
            if len(cand):
                res.leader[rng.choice(cand, size=min(len(cand), int(new[c])), replace=False)] = True
        leaders = np.bincount(res.community[res.leader], minlength=res.n_communities)
        recruits = rng.poisson(leaders * pr.recruits_per_leader / 52.0 * model.volunteers.room())
        recruiting = np.flatnonzero(recruits).tolist()
        if not recruiting:
            return
        # Candidates of every community at once (residents are numbered community by community);
        # activating a volunteer changes only its own community's candidates.
        free = np.flatnonzero(res.vol_state != V_ACTIVE)
        bounds = np.searchsorted(free, res.community_start).tolist()
        for c in recruiting:
            cand = free[bounds[c] : bounds[c + 1]]
            if len(cand):
                for r in rng.choice(cand, size=min(len(cand), int(recruits[c])), replace=False):
                    model.volunteers.activate(int(r))


# ====================================================================== team co-building
class TeamBuildingParams(PolicyParams):
    volunteers_per_sw: int = P(
        15,
        0,
        1000,
        "volunteers",
        "Volunteers one embedded social worker can supervise.",
        ASSUMPTION,
        plausible=(5, 30),
    )
    skill_gain: float = P(
        0.01,
        0,
        1,
        "probability/week",
        "Weekly chance a supervised skill-0 volunteer reaches skill 1.",
        ASSUMPTION,
        plausible=(0.002, 0.03),
    )
    hazard_mult: float = P(
        0.8,
        0,
        1,
        "multiplier",
        "Dropout hazard of supervised volunteers (x).",
        ASSUMPTION,
        plausible=(0.6, 1),
    )
    referrals: bool = P(
        True,
        None,
        None,
        "switch",
        "Embedded social workers refer needs across organizations and communities.",
        LEVER,
    )


class TeamBuilding(Policy):
    """Social workers embedded in volunteer teams and organizations (专干但不单干)."""

    name = "team_building"
    label_zh = "队伍联建"
    seed_text = "社会工作者……可以为社会组织、志愿者提供服务方式专业化与能力建设等方面的支持"
    Params = TeamBuildingParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.volunteers.reduce_hazard(supervised=self.pars.hazard_mult)
        if self.pars.referrals:
            model.desk.enable_referrals()

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        res = model.residents
        rng = model.streams.weekly("team_building", model.week)
        if model.week % 4 == 0:  # supervision assignments are revised monthly
            act = np.flatnonzero(res.vol_state == V_ACTIVE)
            cap = model.workforce.social_workers_per_community() * pr.volunteers_per_sw
            # By community, then by propensity (highest first; ties in resident order): the active
            # residents of each community are a block of `act`, sorted block by block.
            blocks = np.split(act, np.searchsorted(act, res.community_start[1:-1]))
            order = np.concatenate(
                [b[np.argsort(-res.vol_propensity[b], kind="stable")] for b in blocks]
            )
            comm = res.community[order]
            first = np.searchsorted(comm, comm, side="left")
            rank = np.arange(len(order)) - first
            res.supervised[act] = False
            res.supervised[order[rank < cap[comm]]] = True
        cand = np.flatnonzero(res.supervised & (res.vol_skill == 0) & (res.vol_state == V_ACTIVE))
        model.volunteers.train(cand[rng.random(len(cand)) < pr.skill_gain].tolist())


# ====================================================================== co-delivery
class CoDeliveryParams(PolicyParams):
    share: float = P(
        0.3,
        0,
        0.9,
        "share",
        "Share of a professional case's hours an assisting volunteer takes over.",
        ASSUMPTION,
        plausible=(0.1, 0.5),
    )
    learn: float = P(
        0.2,
        0,
        1,
        "probability",
        "Chance an assisting skill-0 volunteer reaches skill 1 after a case.",
        ASSUMPTION,
        plausible=(0.05, 0.4),
    )
    planned: bool = P(
        True,
        None,
        None,
        "switch",
        "Assists are planned: when no volunteer of the community is idle on shift, one with "
        "pledged hours left this week comes for the session (false: only an idle volunteer "
        "on shift assists).",
        LEVER,
    )


class CoDelivery(Policy):
    """A social worker leads, a volunteer assists: fewer professional hours per case; volunteers learn."""

    name = "codelivery"
    label_zh = "社工+志愿者"
    seed_text = "形成……社会工作者+志愿者模式等多种服务模式类型"
    Params = CoDeliveryParams

    def initialize(self, model: LinkageModel) -> None:
        super().initialize(model)
        model.desk.enable_codelivery(self.pars.share, self.pars.learn, self.pars.planned)
        model.desk.enable_referrals()


# ====================================================================== joint meeting
class JointMeetingParams(PolicyParams):
    interval_weeks: int = P(
        4,
        1,
        52,
        "weeks",
        "Weeks between joint meetings.",
        ASSUMPTION + " (monthly)",
        plausible=(2, 13),
    )
    cases_per_community: float = P(
        3.0,
        0,
        100,
        "cases per meeting",
        "Complex cases a meeting can take on as joint cases, per community.",
        ASSUMPTION,
        plausible=(1, 6),
    )
    wait_hours: float = P(
        72.0,
        0,
        10_000,
        "hours",
        "Needs waiting longer than this in a community queue whose community has no provider "
        "of their level are escalated to the street (cross-community cases).",
        ASSUMPTION,
        plausible=(24, 336),
    )
    hours_per_attendee: float = P(
        2.0,
        0,
        40,
        "hours",
        "Service hours one attendee gives up in a meeting week (one community worker per "
        "community, one staff member or social worker per organization).",
        ASSUMPTION,
        plausible=(1, 4),
    )


class JointMeeting(Policy):
    """The four societies meet to resolve together the cases no single provider can.

    In the seed's words, the meeting is held 「对本辖区内“四社联动”工作中出现的重大问题、涉及居民群众切身利益
    的重要事项等……共同协商解决,推进社区工作开展和难题化解」. Every `interval_weeks` it takes on the oldest
    complex needs (waiting, or in an open case) as joint cases: a social worker, an organization
    and volunteers together, so no complexity penalty and the team bonus on their resolution
    (the platform does not do this). It also escalates cross-community cases: needs waiting
    longer than `wait_hours` in a community with no provider of their level go to the street
    queue. Its cost is staff time: in a meeting week the attendees' service hours fall by
    `hours_per_attendee`.
    """

    name = "joint_meeting"
    label_zh = "联席会议"
    seed_text = "建立“四社联动”联席会议制度"
    Params = JointMeetingParams

    def __init__(self, pars: JointMeetingParams) -> None:
        super().__init__(pars)
        self.meeting_hours = 0.0  # staff hours spent in joint meetings over the run
        self.joint_cases = 0  # needs taken on as joint cases
        self.escalated = 0  # cross-community cases moved to the street queue

    def apply(self, model: LinkageModel) -> None:
        pr = self.pars
        if model.week % pr.interval_weeks:
            return
        desk = model.desk
        nt = model.needs
        now = model.week * WEEK
        ids = desk.waiting_in_communities()
        old = ids[now - nt.t_post[ids] > pr.wait_hours]
        for nid in old.tolist():
            if not desk.has_adequate(int(nt.community[nid]), int(nt.level[nid])):
                desk.escalate(nid)
                self.escalated += 1
        limit = int(pr.cases_per_community * len(model.population.communities))
        self.joint_cases += len(desk.take_joint_cases(limit))
        attendees = [com.workers[0] for com in model.population.communities if com.workers]
        attendees += [org.staff[0] for org in model.organizations if org.staff]
        self.meeting_hours += model.workforce.attend_meeting(
            attendees, pr.hours_per_attendee, model.week
        )
