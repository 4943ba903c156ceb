"""Labels of the dashboard in Chinese and English, and a CJK font for matplotlib.

`t(key, lang)` looks a label up; a missing key raises (a typo should fail a test, not show a
raw key in a workshop). Policy, group and channel names have their own tables. Chinese terms
follow the seed text (`seeds/000_bf481d7bc8d98b1c.txt`) where it names them.
"""

from __future__ import annotations

from typing import Any

from experiments.interfaces.report.fonts import find_cjk_font, font_rc

LANGS = ("zh", "en")
"""Supported label languages."""

CSS_FONT_STACK = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
"""The browser font stack: the same CJK font as the figures where the machine has it."""

LABELS: dict[str, tuple[str, str]] = {
    # page
    "title": ("四社联动 · 工作坊仪表盘", "Four-Society Linkage · workshop dashboard"),
    "subtitle": (
        "社区、社会组织、社会工作者、社区志愿者联动模拟",
        "Communities, social organizations, social workers and volunteers, linked or not",
    ),
    "language": ("语言", "Language"),
    # controls
    "mode": ("联动模式", "Linkage mode"),
    "custom": ("已调整", "modified"),
    "levers": ("主要杠杆", "Main levers"),
    "more_levers": ("全部 14 项政策", "All 14 policies"),
    "street": ("街道规模(工作坊)", "Street (workshop scale)"),
    "n_residents": ("居民数", "Residents"),
    "n_communities": ("社区数", "Communities"),
    "seed": ("随机种子", "Seed"),
    "joint_interval": ("联席会议间隔(周)", "Joint meeting every (weeks)"),
    "budget": ("年度预算(万元)", "Yearly budget (10k yuan)"),
    "budget_split": ("预算分配", "Budget split"),
    "unallocated": ("未分配", "unallocated"),
    "over_allocated": (
        "合计超过 100%,按比例缩减",
        "shares exceed 100%: scaled down proportionally",
    ),
    "sw_per_10k": ("社会工作者(每万居民)", "Social workers per 10,000 residents"),
    "recruitment_rate": (
        "志愿者招募率(每千居民每周)",
        "Volunteer recruitment (per 1,000 residents per week)",
    ),
    "registered_share": ("初始注册志愿者比例", "Registered volunteers at start"),
    "pending": ("参数已改动:按“重置”生效", "Controls changed: press Reset to apply"),
    # run buttons
    "reset": ("重置", "Reset"),
    "step": ("单步", "Step"),
    "run": ("运行", "Run"),
    "pause": ("暂停", "Pause"),
    "speed": ("速度(每帧周数)", "Speed (weeks per frame)"),
    "finished": ("运行结束", "Run finished"),
    "week_of": ("第 {week} / {weeks} 周", "Week {week} of {weeks}"),
    "step_time": ("单步耗时 {ms:.0f} 毫秒", "step {ms:.0f} ms"),
    # monitors
    "need_satisfaction": ("需求满足率", "Need satisfaction"),
    "mean_wait_hours": ("平均等待(小时)", "Mean wait (hours)"),
    "spending": ("政府支出(万元)", "Spending (10k yuan)"),
    "spending_sub": ("本年 {year:,.1f}", "this year {year:,.1f}"),
    "active_volunteers": ("活跃志愿者", "Active volunteers"),
    "timebank_balance": ("时间银行余额(小时)", "Time-bank balance (hours)"),
    "last_weeks": ("近 {n} 周", "last {n} weeks"),
    "no_data": ("尚未运行", "not run yet"),
    # tabs
    "tab_plots": ("曲线", "Plots"),
    "tab_network": ("联动网络", "Linkage network"),
    "tab_compare": ("模式对比", "Side by side"),
    "tab_explain": ("模式说明", "About this mode"),
    # plots
    "plot_needs": ("每周需求", "Needs per week"),
    "needs_met": ("满足", "met"),
    "needs_abandoned": ("放弃", "abandoned"),
    "needs_pending": ("等待中", "waiting"),
    "plot_groups": ("各群体需求满足率(8 周平均)", "Satisfaction by resident group (8-week mean)"),
    "plot_spending": ("分渠道累计支出(万元)", "Cumulative spending by channel (10k yuan)"),
    "plot_volunteers": ("活跃志愿者与时间银行", "Active volunteers and the time bank"),
    "week": ("周", "week"),
    "needs": ("需求数", "needs"),
    "share": ("比例", "share"),
    # network
    "network_title": ("近 {n} 周的联动", "Linkage in the last {n} weeks"),
    "window": ("时间窗(周)", "Window (weeks)"),
    "node_community": ("社区", "community"),
    "node_embedded": ("嵌入式社工机构", "embedded agency"),
    "node_endogenous": ("社区社会组织", "community organization"),
    "node_sw": ("社会工作者", "social worker"),
    "node_volunteers": ("志愿者队伍", "volunteer team"),
    "node_hub": ("街道平台/联席会议", "street platform / joint meeting"),
    "edge_platform": ("经信息平台匹配", "matched via the platform"),
    "edge_contract": ("购买项目", "project (contract)"),
    "edge_referral": ("转介", "referrals"),
    "edge_codelivery": ("社工+志愿者协作", "co-delivered cases"),
    "edge_escalation": ("联席会议转办", "joint-meeting escalations"),
    "edge_employment": ("雇佣/岗位", "employment / post"),
    "edge_team": ("组织的志愿者队伍", "organization's volunteer team"),
    "edge_supervision": ("社工督导志愿者", "social worker supervises volunteers"),
    "links": ("联动连接", "Links"),
    "network_note": (
        "平台匹配、转介与联席会议转办都把需求送到街道层面,故连到街道平台;社工+志愿者协作按需求所在社区,计入该社区的社工与志愿者队伍(该社区没有社工时连到街道平台)。线宽随数量增加。",
        "Platform matching, referrals and escalations move needs to the street level, so they link to the street hub; co-delivered cases link the need's community's volunteers and its social workers (the hub when it has none). Line width grows with the count.",
    ),
    # explain
    "what_it_is": ("模式简介", "What it is"),
    "levers_set": ("本模式的杠杆", "Levers this mode sets"),
    "seed_sentence": ("政策原文", "The seed's sentence"),
    "policy": ("政策", "Policy"),
    "on": ("开", "on"),
    "off": ("关", "off"),
    "allocation": ("预算分配", "Budget split"),
    "no_levers": ("无:所有政策都关闭。", "None: every policy is off."),
    "star_note": ("★ 相对于典型街道(现行做法)新增的杠杆", "★ added to the typical street of today"),
    "switched_off": ("相对于典型街道关闭:", "Switched off compared with the typical street: "),
    "your_changes": ("你的调整", "Your changes"),
    # compare
    "compare_with": ("对比模式", "Compare with"),
    "compare_none": ("(不对比)", "(none)"),
    "compare_metric": ("指标", "Metric"),
    "compare_hint": (
        "两个模式使用同一随机种子、同一街道和同一年度预算,逐周同步运行。",
        "Both modes run week by week with the same seed, street and yearly budget.",
    ),
    "compare_pick": (
        "选择一个对比模式开始并排运行。",
        "Pick a mode to compare to start a side-by-side run.",
    ),
    "difference": ("差值", "difference"),
    "cmp_abandoned": ("每周放弃的需求(4 周平均)", "Needs abandoned per week (4-week mean)"),
    "cum_spending": ("累计支出(万元)", "Cumulative spending (10k yuan)"),
}

POLICY_NAMES: dict[str, tuple[str, str]] = {
    "platform": ("信息平台", "Information platform"),
    "credit": ("信用公示和评价", "Credit publicity & ratings"),
    "evaluation": ("第三方评估", "Third-party evaluation"),
    "purchase": ("政府购买服务", "Government purchase of services"),
    "project_teams": ("项目运作团队", "Project teams (org + SW + volunteers)"),
    "cultivation": ("培育孵化社区社会组织", "Cultivating community organizations"),
    "professionalization": ("社会工作专业化", "Social-work professionalization"),
    "surveys": ("需求调查与居民骨干", "Needs surveys & resident leaders"),
    "volunteer_mgmt": ("志愿者注册与星级评定", "Volunteer registration & stars"),
    "time_bank": ("志愿服务时间储蓄", "Time bank"),
    "mobilization": ("志愿者动员", "Volunteer mobilization"),
    "joint_meeting": ("联席会议", "Joint meeting"),
    "team_building": ("队伍联建", "Team co-building"),
    "codelivery": ("社工+志愿者", "Social worker + volunteer"),
}

GROUP_NAMES: dict[str, tuple[str, str]] = {
    "elderly": ("老年人", "elderly"),
    "minor": ("未成年人", "minors"),
    "migrant": ("外来务工人员", "migrant workers"),
    "disabled": ("残疾人", "disabled"),
    "low_income": ("低收入家庭", "low-income"),
    "general": ("一般居民", "general"),
}

CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    "procurement": ("项目购买", "project purchase"),
    "posts": ("岗位购买", "post purchase"),
    "venture": ("公益创投", "venture philanthropy"),
    "timebank": ("时间储蓄", "time bank"),
    "evaluation": ("第三方评估", "evaluation"),
    "platform": ("信息平台", "platform"),
    "incubation": ("孵化培育", "incubation"),
    "block_grant": ("居委会拨款", "block grants"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (expected one of {', '.join(LANGS)})")
    return pair[LANGS.index(lang)]


def t(key: str, lang: str, **fmt: object) -> str:
    """The label `key` in `lang`, formatted with `fmt` when given.

    Raises:
        KeyError: for an unknown key.
    """
    text = _pick(LABELS[key], lang)
    return text.format(**fmt) if fmt else text


def policy_name(name: str, lang: str) -> str:
    """A policy's short name."""
    return _pick(POLICY_NAMES[name], lang)


def group_name(name: str, lang: str) -> str:
    """A resident group's name."""
    return _pick(GROUP_NAMES[name], lang)


def channel_name(name: str, lang: str) -> str:
    """A spending channel's name."""
    return _pick(CHANNEL_NAMES[name], lang)


def mode_label(info, lang: str) -> str:
    """A mode's label (`label_zh` / `label_en` of its scenario file)."""
    return info.label_zh if lang == "zh" else info.label_en


def cjk_font() -> str | None:
    """The font that draws Chinese in the figures (`experiments.interfaces.report.fonts.find_cjk_font`),
    or None. Nothing global is set: each figure gets `figure_rc(lang)`."""
    return find_cjk_font()


def figure_lang(lang: str) -> str:
    """Language for figure text: Chinese only when a CJK font is available (no tofu boxes)."""
    return lang if lang != "zh" or cjk_font() is not None else "en"


def figure_rc(lang: str) -> dict[str, Any]:
    """matplotlib rc settings (fonts) for one dashboard figure in `lang`."""
    return font_rc(figure_lang(lang))
