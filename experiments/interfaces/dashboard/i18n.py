"""Labels of the dashboard in Chinese and English, and a CJK font for matplotlib.

`t(key, lang)` looks a label up; a missing key raises (a typo should fail a test, not show a
raw key in a workshop). Policy, group and channel names have their own tables. Chinese terms
follow the seed text (`seeds/000_bf481d7bc8d98b1c.txt`) where it names them.
"""

from __future__ import annotations

from typing import Any

from experiments.engine.levers import POLICY_NAMES
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
    "more_levers": ("全部 {n} 项政策", "All {n} policies"),
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
    "plot_charity": (
        "慈善资源与公共资金(累计,万元)",
        "The charitable channel beside public money (cumulative, 10k yuan)",
    ),
    "public_spending": ("政府支出", "public spending"),
    "charity_donations": ("慈善捐赠", "donations"),
    "charity_matched": ("其中配捐", "of which public matching"),
    "charity_grants": ("慈善资助", "charity grants"),
    "week": ("周", "week"),
    "needs": ("需求数", "needs"),
    "share": ("比例", "share"),
    # network: the societies and the flows between them
    "flows_title": (
        "四社之间的联动:近 {n} 周(第 {week} 周)",
        "Flows between the societies, last {n} weeks (week {week})",
    ),
    "window": ("时间窗(周)", "Window (weeks)"),
    "society_community": ("社区", "Community"),
    "society_organizations": ("社会组织", "Organizations"),
    "society_social_workers": ("社会工作者", "Social\nworkers"),
    "society_volunteers": ("社区志愿者", "Volunteers"),
    "society_government": ("政府", "Government"),
    "who_community": ("居委会·社区工作者 {n} 人", "{n} committee & community workers"),
    "who_organizations": ("社会组织 {n} 个", "{n} organizations"),
    "who_social_workers": ("社会工作者 {n} 人", "{n} social workers"),
    "who_volunteers": ("活跃志愿者 {n} 人", "{n} active volunteers"),
    "who_government": ("年度预算 {n}", "budget {n} a year"),
    "met_needs": ("满足需求 {met}", "met {met} needs"),
    "flow_referral": ("转介", "referrals"),
    "flow_escalation": ("联席会议转办", "joint-meeting escalations"),
    "flow_platform": ("平台匹配", "platform matches"),
    "flow_codelivery": ("社工+志愿者协作", "co-delivered cases"),
    "flow_team": ("组织的志愿者队伍", "volunteers in org teams"),
    "flow_supervision": ("社工督导志愿者", "volunteers supervised"),
    "flow_employment": ("机构雇用社工", "SWs employed by orgs"),
    "flow_post": ("社区社工岗位", "SWs in community posts"),
    "flow_money": ("资金", "money"),
    "flows_legend": ("联动(时间窗内合计)", "Flows (totals)"),
    "flows_units": (
        "需求与资金为时间窗内的数量,人员为当前人数;资金单位为元。转介、转办与平台匹配按最终满足需求的一方计入;社区自身满足的需求计入节点。",
        "Needs and money: in the window; people: now. Referrals, escalations and platform "
        "matches point to the society that met the need; needs a community met itself count "
        "on its node. Money in yuan (k = thousand).",
    ),
    "links": ("联动", "Flows"),
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
    "attr_title": ("哪项杠杆带来了差别", "Which lever made the difference"),
    "attr_none": (
        "尚无这两种模式之间的杠杆分解。运行:linkage attribute scenarios/modes/{a}.yaml "
        "scenarios/modes/{b}.yaml(linkage demo 会计算“各行其是 → 四社联动”)。",
        "No attribution of these two modes yet. Run: linkage attribute scenarios/modes/{a}.yaml "
        "scenarios/modes/{b}.yaml (linkage demo computes siloed → full linkage).",
    ),
    "attr_source": (
        "预先计算的结果(模式文件本身,不含你的调整):{path}",
        "Precomputed for the modes' files (your changes are not included): {path}",
    ),
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
    "charity_match": ("慈善配捐", "matching of donations"),
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
