"""Words and numbers of the report, in English and Chinese.

Every string a reader sees comes from here: metric names, units, group and channel names, and
the number formats (English "1.9 million yuan", Chinese "190万元").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGS = ("en", "zh")

GROUPS = ("elderly", "minor", "migrant", "disabled", "low_income")
"""Resident groups shown in the equity section (summary keys `satisfaction_<group>`)."""

CHANNELS = (
    "procurement",
    "posts",
    "venture",
    "timebank",
    "evaluation",
    "platform",
    "incubation",
    "block_grant",
    "charity_match",
)
"""Spending channels (summary keys `spending_<channel>`), in stacking order."""


@dataclass(frozen=True)
class Metric:
    """A headline metric: summary key, names, kind of number and which direction is better.

    Attributes:
        key: Column of runs.parquet.
        en: English name.
        zh: Chinese name.
        kind: "rate" (a share, shown in %), "hours", "yuan" or "count".
        better: +1 when higher is better, -1 when lower is better, 0 when neither.
    """

    key: str
    en: str
    zh: str
    kind: str
    better: int

    def name(self, lang: str) -> str:
        """The metric's name in `lang`."""
        return self.zh if lang == "zh" else self.en


HEADLINE = (
    Metric("need_satisfaction_rate", "Need satisfaction", "需求满足率", "rate", +1),
    Metric("mean_wait_hours", "Mean wait (h)", "平均等待(小时)", "hours", -1),
    Metric("p90_wait_hours", "90th-percentile wait (h)", "90%分位等待(小时)", "hours", -1),
    Metric("gov_spending_annual", "Government spending / year", "政府年支出", "yuan", 0),
    Metric(
        "cost_per_need_met",
        "Cost per need met, accrual (yuan)",
        "每满足一项需求的成本(权责发生制,元)",
        "yuan",
        -1,
    ),
    Metric(
        "cost_per_need_met_cash",
        "Cost per need met, cash (yuan)",
        "每满足一项需求的成本(现金,元)",
        "yuan",
        -1,
    ),
    Metric("budget_execution_rate", "Budget execution", "预算执行率", "rate", 0),
    Metric("active_volunteers", "Active volunteers", "活跃志愿者(人)", "count", +1),
)
"""The headline table's columns, in order. Cost per need met divides the accrual cost (cash
plus the change in the time bank's liability) by the needs met; the cash figure is beside it."""

OPTIONAL = frozenset({"cost_per_need_met_cash", "budget_execution_rate"})
"""Headline metrics a results folder written before they existed may lack (left out then)."""

MONEY_KEYS = frozenset({"gov_spending_annual", "gov_cost_accrual_annual"})
"""Yearly money columns shown in the money unit (M yuan / 万元)."""

GROUP_NAMES = {
    "elderly": ("Elderly", "老年人"),
    "minor": ("Minors", "未成年人"),
    "migrant": ("Migrant workers", "外来务工人员"),
    "disabled": ("Disabled residents", "残疾人"),
    "low_income": ("Low-income families", "低收入家庭"),
    "general": ("Other residents", "其他居民"),
}

CHANNEL_NAMES = {
    "procurement": ("Project procurement", "项目购买"),
    "posts": ("Post purchase", "岗位购买"),
    "venture": ("Venture philanthropy", "公益创投"),
    "timebank": ("Time-bank backstop", "时间银行兜底"),
    "evaluation": ("Third-party evaluation", "第三方评估"),
    "platform": ("Information platform", "信息平台"),
    "incubation": ("Incubation", "孵化"),
    "block_grant": ("Block grants", "整笔拨款"),
    "charity_match": ("Matching of donations", "慈善配捐"),
}

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Decision report", "决策参考报告"),
    "baseline": ("baseline", "基线"),
    "scenario": ("Scenario", "情景"),
    "findings": ("Key findings", "主要结论"),
    "headline": ("Headline numbers", "核心指标"),
    "headline_note": (
        "Mean over replications with its 95% confidence interval; below it, the difference to "
        "the baseline, paired by replication (the same random numbers), with its 95% interval. "
        "Highlighted: the interval of the difference excludes zero (green: better, red: worse, "
        "yellow: spending changed). Summary metrics exclude the warm-up weeks.",
        "各情景重复运行的均值及其95%置信区间;下方为与基线的差值(按重复次数配对,使用相同随机数)及其95%"
        "置信区间。着色表示差值的置信区间不含0(绿色:更好,红色:更差,黄色:支出变化)。汇总指标不含预热期。",
    ),
    "cost_outcome": ("Cost and outcome", "成本与成效"),
    "cost_outcome_note": (
        "Each point is a scenario (mean with 95% intervals). Filled points on the dashed line "
        "form the efficient frontier of the means: no other scenario has a higher mean need "
        "satisfaction at a lower mean cost. Cost is accrual: cash spending plus the change in "
        "the time bank's liability (credits at the shadow price); a small mark shows the cash "
        "figure where it differs. Where error bars overlap, the ranking is uncertain.",
        "每个点代表一个情景(均值及95%置信区间)。虚线上的实心点构成均值的有效前沿:没有其他情景能以更低的"
        "平均成本达到更高的平均需求满足率。成本按权责发生制计:现金支出加上时间银行负债(按影子价格计)的变化;"
        "与现金支出不同时,以小标记显示现金数。误差线相互重叠时,排序并不确定。",
    ),
    "over_time": ("Over time", "随时间变化"),
    "over_time_note": (
        "Weekly values, mean over replications with a 95% band; need satisfaction is a 4-week "
        "moving average. The grey area is the warm-up, excluded from the summary numbers.",
        "每周数值,重复运行的均值及95%置信带;需求满足率为4周移动平均。灰色区域为预热期,不计入汇总指标。",
    ),
    "equity": ("Who is left behind", "谁被落下了"),
    "by_group": ("Need satisfaction by resident group", "各居民群体的需求满足率"),
    "by_community": ("Need satisfaction by community", "各社区的需求满足率"),
    "equity_groups_note": (
        "Need satisfaction by resident group (left) and the paired difference to the baseline "
        "in percentage points (right), with 95% intervals.",
        "各居民群体的需求满足率(左)及与基线的配对差值(百分点,右),含95%置信区间。",
    ),
    "equity_comm_note": (
        "Need satisfaction by community (mean over replications); in brackets the difference "
        "to the baseline in percentage points.",
        "各社区的需求满足率(重复运行均值);括号内为与基线相比的差值(百分点)。",
    ),
    "spending": ("Where the money goes", "资金去向"),
    "spending_note": (
        "Government spending per year by channel (mean over replications, after the warm-up).",
        "按渠道划分的政府年支出(重复运行均值,不含预热期)。",
    ),
    "charity": ("The charitable channel beside public money", "慈善资源与公共资金"),
    "charity_note": (
        "Per year, after the warm-up (mean over replications, 95% interval, paired difference "
        "to the baseline): the government's spending, of which matching of donations (配捐); "
        "donations to the community charity fund from residents, units and firms; the fund's "
        "grants to community organizations' micro-projects.",
        "每年(不含预热期;重复运行均值、95%置信区间及与基线的配对差值):政府支出及其中的慈善配捐;"
        "居民、驻区单位和企业向社区慈善基金的捐赠;基金对社区社会组织公益微项目的资助。",
    ),
    "public_spending": ("Public spending / year", "政府年支出"),
    "charity_donations": ("Donations / year", "年捐赠"),
    "charity_matched": ("Public matching / year", "年配捐"),
    "charity_grants": ("Charity grants / year", "年慈善资助"),
    "timebank": ("Time bank", "时间银行"),
    "timebank_note": (
        "Hours deposited, redeemed and expired per week (4-week moving average), the balance "
        "of unredeemed hours and its value as a liability in yuan; mean with a 95% band.",
        "每周存入、兑换和过期的小时数(4周移动平均)、未兑换余额及其折算的负债(元);均值及95%置信带。",
    ),
    "timebank_none": (
        "No scenario of this experiment uses the time bank.",
        "本实验没有情景使用时间银行。",
    ),
    "no_weekly": (
        "This results folder keeps no weekly time series (the experiment set 'timeseries: false').",
        "该结果目录未保存每周时间序列(实验设置了 'timeseries: false')。",
    ),
    "method": ("Method and files", "方法与文件"),
    "method_text": (
        "Each scenario ran {reps} replications of {weeks} weeks ({warmup} weeks of warm-up "
        "excluded from the summary numbers). Replication r of every scenario used the same "
        "seed, so differences to the baseline are paired (common random numbers) and their "
        "intervals come from the paired differences. Intervals are Student-t 95% confidence "
        "intervals over replications.",
        "每个情景重复运行 {reps} 次,每次 {weeks} 周(前 {warmup} 周为预热期,不计入汇总指标)。"
        "各情景的第 r 次重复使用相同的随机种子,因此与基线的差值是配对的(共同随机数),其区间由配对差值计算。"
        "区间为基于重复运行的 t 分布95%置信区间。",
    ),
    "files": ("Tables for spreadsheets", "表格(可用电子表格打开)"),
    "provenance": ("Provenance", "来源信息"),
    "week": ("Week", "周"),
    "need_sat_pct": ("Need satisfaction (%)", "需求满足率(%)"),
    "active_vol": ("Active volunteers", "活跃志愿者(人)"),
    "spend_axis": ("Government spending per year ({unit})", "政府年支出({unit})"),
    "accrual_axis": (
        "Cost per year, accrual: cash + change in time-bank liability ({unit})",
        "年成本(权责发生制:现金 + 时间银行负债变化,{unit})",
    ),
    "cash_marker": ("cash spending (where it differs)", "现金支出(与权责发生制不同时)"),
    "diff_pp": ("Difference to baseline (points)", "与基线的差值(百分点)"),
    "community": ("Community", "社区"),
    "frontier": ("efficient frontier", "有效前沿"),
    "dominated": (
        "dominated (another costs less and achieves more)",
        "被占优(另有情景花费更少、成效更高)",
    ),
    "tb_flows": ("Hours per week", "每周小时数"),
    "tb_balance": ("Unredeemed balance (hours)", "未兑换余额(小时)"),
    "tb_liability": ("Liability ({unit})", "负债({unit})"),
    "deposited": ("deposited", "存入"),
    "redeemed": ("redeemed", "兑换"),
    "expired": ("expired", "过期"),
    "warmup": ("warm-up", "预热期"),
    "total": ("total", "合计"),
    "runs": ("runs", "次运行"),
}


def pick(table: dict[str, tuple[str, str]], key: str, lang: str, **fmt: Any) -> str:
    """The (English, Chinese) text `key` of `table` in `lang`, formatted with `fmt`."""
    en, zh = table[key]
    s = zh if lang == "zh" else en
    return s.format(**fmt) if fmt else s


def t(key: str, lang: str, **fmt: Any) -> str:
    """The text `key` in `lang`, formatted with `fmt`."""
    return pick(TEXT, key, lang, **fmt)


def group_name(group: str, lang: str) -> str:
    """Display name of a resident group."""
    en, zh = GROUP_NAMES.get(group, (group, group))
    return zh if lang == "zh" else en


def channel_name(channel: str, lang: str) -> str:
    """Display name of a spending channel."""
    en, zh = CHANNEL_NAMES.get(channel, (channel, channel))
    return zh if lang == "zh" else en


def community_name(index: int, lang: str) -> str:
    """Display name of community `index` (0-based): "C01" / "社区1"."""
    return f"社区{index + 1}" if lang == "zh" else f"C{index + 1:02d}"


# --- numbers ----------------------------------------------------------------------------


def isnan(x: Any) -> bool:
    """True for None and NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def money_unit(lang: str) -> tuple[float, str]:
    """Divisor and unit for large sums of money: million yuan, or 万元."""
    return (1e4, "万元") if lang == "zh" else (1e6, "million yuan")


def _sig(x: float, digits: int = 2) -> str:
    """`x` with about `digits` significant digits, thousands separators, no trailing zeros."""
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:,.{decimals}f}"


def money(x: float, lang: str) -> str:
    """A sum of money in words: "1.9 million yuan" / "190万元" (small sums in plain yuan)."""
    if isnan(x):
        return "–"
    div, unit = money_unit(lang)
    if abs(x) < div / 10:
        return f"{x:,.0f}元" if lang == "zh" else f"{x:,.0f} yuan"
    v = x / div
    num = _sig(v, 2 if abs(v) < 100 else 3) if abs(v) < 1000 else f"{v:,.0f}"
    return f"{num}{unit}" if lang == "zh" else f"{num} {unit}"


def number(x: float, kind: str, lang: str = "en") -> str:
    """A metric value for tables: rates in %, hours with a decimal, yuan and counts whole."""
    if isnan(x):
        return "–"
    if kind == "rate":
        return f"{100 * x:.1f}%"
    if kind == "hours":
        return f"{x:,.1f}"
    if kind == "yuan":
        return f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def diff(x: float, kind: str, lang: str = "en") -> str:
    """A signed difference: rates in percentage points, others like `number`."""
    if isnan(x):
        return "–"
    if kind == "rate":
        unit = "个百分点" if lang == "zh" else " pts"
        return f"{100 * x:+.1f}{unit}"
    body = number(abs(x), kind, lang)
    return ("+" if x >= 0 else "−") + body


def interval(lo: float, hi: float, kind: str, signed: bool = False, lang: str = "en") -> str:
    """A 95% interval "[a, b]"; rates in % (or percentage points when `signed`)."""
    if isnan(lo) or isnan(hi):
        return ""
    if kind == "rate":
        f = (lambda v: f"{100 * v:+.1f}") if signed else (lambda v: f"{100 * v:.1f}")
    else:
        f = (lambda v: diff(v, kind, lang)) if signed else (lambda v: number(v, kind, lang))
    return f"[{f(lo)}, {f(hi)}]"


# --- scenario names ----------------------------------------------------------------------


def _own_labels(file: str | Path) -> dict[str, Any]:
    """The scenario file's own name and labels (not inherited through `extends`)."""
    import yaml

    try:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def scenario_labels(manifest: dict[str, Any], scenarios: list[str], lang: str) -> dict[str, str]:
    """Display names of the scenarios: the experiment's `label_<lang>` for the entry, else
    `label_<lang>` of their files, else their names.

    A file's label is used only when the experiment kept the file's own name for it (an
    experiment that runs one file twice under two names gets the names). Duplicate labels get
    the scenario name appended.

    Args:
        manifest: The results folder's manifest (its `scenarios` list names the files).
        scenarios: Scenario names, in order.
        lang: "en" or "zh".

    Returns:
        Scenario name -> display name.
    """
    entries = {s.get("name"): s for s in manifest.get("scenarios", []) or []}
    out: dict[str, str] = {}
    for name in scenarios:
        label = name
        entry = entries.get(name) or {}
        file = entry.get("file")
        given = entry.get(f"label_{lang}") or entry.get("label_en")
        if given:  # the experiment's own name for this entry
            label = str(given)
        elif file:
            own = _own_labels(file)
            if name in (own.get("name"), Path(file).stem):
                label = str(own.get(f"label_{lang}") or own.get("label_en") or name)
        out[name] = label
    counts: dict[str, int] = {}
    for v in out.values():
        counts[v] = counts.get(v, 0) + 1
    return {k: (f"{v} ({k})" if counts[v] > 1 and v != k else v) for k, v in out.items()}


def experiment_label(manifest: dict[str, Any], lang: str, fallback: str = "") -> str:
    """An experiment's human title: `label_zh` / `label_en` of its file, else its name in words
    ("linkage_modes" -> "Linkage modes"), never the bare id when a label exists."""
    spec = manifest.get("spec") or {}
    label = spec.get(f"label_{lang}") or spec.get("label_en")
    if label:
        return str(label)
    name = str(manifest.get("experiment") or fallback)
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def mentions_baseline(label: str) -> bool:
    """Whether a display name already says it is the baseline."""
    return "baseline" in label.lower() or "基线" in label
