"""Parameters and outcomes in plain words, English and Chinese: the names and values that the
conditions of scenario discovery are written in ("the platform's matching delay is above 12 h").

`name(path, lang)` gives a short name: from `NAMES` where the parameter has one, else from the
parameter tree's description (its first clause, without the parenthesis), so a parameter added
to the tree later is named too. `value(path, x, lang)` writes a value in the parameter's unit
(shares in %, hours, yuan, weeks).
"""

from __future__ import annotations

import math
import re

from experiments.engine.uncertainties import leaves

NAMES: dict[str, tuple[str, str]] = {
    "street.community_size_cv": ("the spread of community sizes", "社区规模差异"),
    "street.groups.migrant": ("the share of migrant workers", "外来务工人员比例"),
    "street.groups.low_income": ("the share of low-income families", "低收入家庭比例"),
    "street.venue_hours": ("activity-room hours per community", "每个社区的活动室时长"),
    "street.activity_group_size": ("the size of an activity group", "小组活动人数"),
    "street.initial_trust": ("residents' initial trust", "居民初始信任度"),
    "street.trust_gain": ("the trust gained per need met", "需求满足带来的信任增加"),
    "street.trust_loss": ("the trust lost per need abandoned", "需求放弃造成的信任损失"),
    "service.lognormal_sigma": ("the spread of service times", "服务时长的离散程度"),
    "service.matching_delay_hours": (
        "the matching delay without the platform",
        "无平台时的需求对接延迟",
    ),
    "service.below_level_quality": (
        "the quality of under-qualified service",
        "低资质服务的质量",
    ),
    "service.fallback_wait_hours": (
        "the wait before under-qualified service",
        "转由低资质人员服务前的等待",
    ),
    "service.quality_mean": ("providers' mean quality", "服务者平均质量"),
    "service.quality_sd": ("the spread of provider quality", "服务者质量差异"),
    "service.rating_noise": ("the noise of residents' ratings", "居民评价的噪声"),
    "service.reputation_alpha": ("the weight of the newest rating", "最新评价的权重"),
    "service.shift_start_hour": ("the start of staff shifts", "工作人员上班时间"),
    "service.work_days": ("the working days of staff", "工作人员每周工作天数"),
    "providers.sw_per_10k": (
        "the number of social workers per 10,000 residents",
        "每万居民社会工作者数",
    ),
    "providers.sw_hours": ("a social worker's weekly hours", "社工每周工作时长"),
    "providers.sw_admin_share": (
        "social workers' administrative share",
        "社工行政事务占比",
    ),
    "providers.staff_salary": ("the cost of service staff", "服务人员用工成本"),
    "providers.cw_hours": ("a community worker's weekly hours", "社区工作者每周工作时长"),
    "providers.cw_service_days": (
        "the service days of community workers",
        "社区工作者每周服务天数",
    ),
    "providers.cw_admin_share": (
        "community workers' administrative share",
        "社区工作者行政事务占比",
    ),
    "providers.embedded_orgs": ("the number of embedded social-work agencies", "嵌入式社工机构数"),
    "providers.endogenous_orgs_per_community": (
        "the number of community organizations per community",
        "每个社区的社区社会组织数",
    ),
    "providers.embedded_core_sw": (
        "the number of self-funded social workers per agency",
        "机构自有社工数",
    ),
    "providers.embedded_reserve": ("an agency's starting funds", "机构启动资金"),
    "providers.endogenous_reserve": (
        "a community organization's starting funds",
        "社区社会组织启动资金",
    ),
    "providers.endogenous_team": (
        "the volunteer team of a community organization",
        "社区社会组织的志愿者队伍",
    ),
    "providers.donations": ("organizations' donations and fees", "组织的捐赠与收费"),
    "providers.activity_cost": (
        "a community organization's running cost",
        "社区社会组织运营成本",
    ),
    "providers.closure_weeks": (
        "the weeks in deficit before an organization closes",
        "组织亏损至关闭的周数",
    ),
    "volunteers.registered_share": ("the share of registered volunteers", "注册志愿者比例"),
    "volunteers.active_share": ("the active share of volunteers", "志愿者活跃比例"),
    "volunteers.participation": ("volunteers' weekly participation", "志愿者每周参与率"),
    "volunteers.retention_annual": ("the retention of volunteers", "志愿者年留存率"),
    "volunteers.tenure_effect": ("the effect of tenure on dropout", "服务年限对流失的影响"),
    "volunteers.recruitment_rate": ("the recruitment of volunteers", "志愿者招募率"),
    "volunteers.initial_skill1_share": (
        "the share of trained volunteers at start",
        "初始受训志愿者比例",
    ),
    "funding.special_fund": ("the special fund", "专项资金"),
    "funding.lottery_fund": ("the lottery welfare fund", "福利彩票公益金"),
    "policies.platform.delay_hours": (
        "the platform's matching delay",
        "信息平台的需求对接延迟",
    ),
    "policies.platform.discovery": (
        "the platform's discovery of hidden needs",
        "信息平台发现隐性需求的概率",
    ),
    "policies.platform.cost_per_10k": ("the platform's running cost", "信息平台运营成本"),
    "policies.credit.procurement_weight": (
        "the weight of published reputation",
        "信用公示在采购中的权重",
    ),
    "policies.evaluation.cost": ("the cost of an evaluation", "第三方评估费用"),
    "policies.evaluation.noise_sd": ("the noise of evaluation scores", "评估打分的误差"),
    "policies.evaluation.bonus_excellent": (
        "the bid bonus for an excellent evaluation",
        "评估优秀的投标加分",
    ),
    "policies.evaluation.bonus_good": (
        "the bid bonus for a good evaluation",
        "评估良好的投标加分",
    ),
    "policies.purchase.w_price": ("the weight of price in bids", "投标评分中价格的权重"),
    "policies.purchase.w_quality": ("the weight of quality in bids", "投标评分中质量的权重"),
    "policies.purchase.markup_min": ("the least bid markup", "投标最低加价率"),
    "policies.purchase.markup_max": ("the largest bid markup", "投标最高加价率"),
    "policies.purchase.expected_utilization": (
        "the utilization bidders expect",
        "投标方预期的利用率",
    ),
    "policies.purchase.assessment_noise": (
        "the noise of the buyer's quality guess",
        "购买方质量判断的误差",
    ),
    "policies.purchase.max_projects": (
        "the most projects one agency may hold",
        "单个机构可承接的项目数",
    ),
    "policies.purchase.fixed_share": (
        "the fixed share of instalments",
        "分期拨付中的固定部分",
    ),
    "policies.purchase.post_price": ("the price of a social-work post", "社工岗位购买价格"),
    "policies.purchase.venture_grant": ("a venture-philanthropy grant", "公益创投资助额"),
    "policies.project_teams.team_size": (
        "the number of volunteers a project mobilizes",
        "项目动员的志愿者人数",
    ),
    "policies.project_teams.hazard_mult": (
        "the dropout of project-team volunteers",
        "项目团队志愿者的流失系数",
    ),
    "policies.cultivation.founding_rate": (
        "the founding rate of organizations",
        "社会组织成立率",
    ),
    "policies.cultivation.incubation": ("the strength of incubation", "孵化支持力度"),
    "policies.cultivation.registration_cost": ("the cost of registration", "登记注册成本"),
    "policies.cultivation.incubation_cost": ("the cost of incubation", "孵化费用"),
    "policies.cultivation.growth_rate": (
        "incubated organizations' growth",
        "孵化组织的能力成长",
    ),
    "policies.professionalization.exam_pass": ("the social-work exam pass rate", "社工考试通过率"),
    "policies.professionalization.training_boost": (
        "the effect of exam training",
        "考前培训的效果",
    ),
    "policies.professionalization.transformed_admin_share": (
        "the administrative share of transformed community workers",
        "转型社工的行政事务占比",
    ),
    "policies.professionalization.graduates_per_10k": (
        "the number of social-work graduates recruited",
        "引进的社工专业毕业生",
    ),
    "policies.surveys.survey_share": (
        "the time social workers spend on surveys",
        "社工走访调查时间占比",
    ),
    "policies.surveys.discovery_per_hour": (
        "the needs a survey hour discovers",
        "每小时走访发现的需求",
    ),
    "policies.surveys.leaders_per_sw": (
        "the number of resident leaders a social worker cultivates",
        "社工培育的居民骨干数",
    ),
    "policies.surveys.recruits_per_leader": (
        "the number of volunteers a leader mobilizes",
        "骨干动员的志愿者数",
    ),
    "policies.volunteer_mgmt.recognition_mult": (
        "the dropout of recognized volunteers",
        "获星级认定志愿者的流失系数",
    ),
    "policies.volunteer_mgmt.training_rate": ("the training of volunteers", "志愿者培训率"),
    "policies.time_bank.redeem_share": ("the redemption of time-bank credit", "时间银行兑换率"),
    "policies.time_bank.shadow_price": (
        "the shadow price of a credit hour",
        "每小时储蓄的影子价格",
    ),
    "policies.time_bank.expiry_weeks": (
        "the weeks before dormant credit expires",
        "休眠账户失效周数",
    ),
    "policies.time_bank.credit_hazard_mult": (
        "the dropout of credit holders",
        "持有储蓄志愿者的流失系数",
    ),
    "policies.time_bank.subsidy_per_volunteer": (
        "the time-bank subsidy per volunteer",
        "时间银行人均补贴",
    ),
    "policies.time_bank.participation_boost": (
        "the participation boost of a subsidized bank",
        "补贴带来的参与提升",
    ),
    "policies.mobilization.party_members_per_1000": (
        "the number of party members reporting to the community",
        "到社区报到的在职党员",
    ),
    "policies.mobilization.mutual_aid_mult": (
        "the effect of mutual aid on recruitment",
        "邻里互助对招募的作用",
    ),
    "policies.joint_meeting.interval_weeks": (
        "the interval between joint meetings",
        "联席会议间隔",
    ),
    "policies.joint_meeting.wait_hours": (
        "the wait before a need is escalated",
        "需求提交联席会议前的等待",
    ),
    "policies.joint_meeting.hours_per_attendee": (
        "the hours a joint meeting takes",
        "联席会议占用时长",
    ),
    "policies.team_building.volunteers_per_sw": (
        "the number of volunteers one social worker supervises",
        "每名社工督导的志愿者数",
    ),
    "policies.team_building.skill_gain": (
        "the skill gain of supervised volunteers",
        "受督导志愿者的技能提升",
    ),
    "policies.team_building.hazard_mult": (
        "the dropout of supervised volunteers",
        "受督导志愿者的流失系数",
    ),
    "policies.codelivery.share": (
        "the hours volunteers take over in co-delivery",
        "协作中志愿者承担的时长占比",
    ),
    "policies.codelivery.learn": (
        "what volunteers learn from co-delivery",
        "协作中志愿者的学习效果",
    ),
}
"""Short names of the parameters with a plausible range: dotted path -> (English, Chinese)."""


OUTCOMES: dict[str, tuple[str, str]] = {
    "need_satisfaction_rate": ("need satisfaction", "需求满足率"),
    "cost_per_need_met": ("cost per need met", "每满足一项需求的成本"),
    "gov_cost_accrual": ("accrual cost", "权责发生制成本"),
    "satisfaction_min_group": ("the worst-off group's need satisfaction", "最弱势群体的需求满足率"),
    "mean_wait_hours": ("the mean wait", "平均等待时间"),
    "p90_wait_hours": ("the 90th-percentile wait", "90%分位等待时间"),
    "gov_spending_annual": ("government spending per year", "政府年支出"),
    "active_volunteers": ("active volunteers", "活跃志愿者"),
}
"""Outcomes in words (lower case, for sentences): metric -> (English, Chinese)."""


def outcome(metric: str, lang: str = "en") -> str:
    """An outcome's name for a sentence in `lang` (the metric's key when it has none)."""
    en, zh = OUTCOMES.get(metric, (metric, metric))
    return zh if lang == "zh" else en


def _from_description(path: str) -> str:
    leaf = leaves().get(path)
    text = leaf.description if leaf is not None else ""
    text = re.sub(r"\s*\([^)]*\)", "", text).strip().rstrip(".")
    text = re.split(r"[;:]", text)[0].strip()
    if not text:
        return path
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def name(path: str, lang: str = "en") -> str:
    """A parameter's short name in `lang` (English from the tree's description when it has no
    entry in `NAMES`; Chinese then names it by its dotted path as well)."""
    if path in NAMES:
        en, zh = NAMES[path]
        return zh if lang == "zh" else en
    en = _from_description(path)
    return f"{en}({path})" if lang == "zh" else en


def _sig(x: float, digits: int = 3) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:,.{decimals}f}"


def value(path: str, x: float, lang: str = "en") -> str:
    """A value of a parameter in its unit: shares in %, hours, yuan, weeks, else the number."""
    leaf = leaves().get(path)
    unit = leaf.unit if leaf is not None else ""
    zh = lang == "zh"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if ("share" in unit and "per" not in unit) or unit.startswith("probability"):
        return f"{_sig(100 * x, 2)}%"
    num = f"{x:,}" if isinstance(x, int) else _sig(x, 2)
    if unit == "hours":
        return f"{num}{'小时' if zh else ' h'}"
    if unit.startswith("yuan"):
        return f"{num}元" if zh else f"{num} yuan"
    if unit == "weeks":
        return f"{num}{'周' if zh else ' weeks'}"
    return num
