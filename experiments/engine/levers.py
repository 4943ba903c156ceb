"""Levers: named groups of parameters that a scenario changes together.

Every parameter path of the parameter tree belongs to exactly one lever (`lever_of`):

- a policy's name (`platform`, `time_bank`, ...) governs `policies.<name>.*` (its switch and
  its settings);
- `allocation` governs `funding.allocation.*` (the shares add up to 1, so they move together);
- any other top-level section's name (`funding`, `providers`, `volunteers`, `street`, `service`,
  `needs`, `run`) governs the rest of that section.

A scenario file may declare the levers it sets (`levers: [platform, credit, allocation]`);
declarations add up along `extends:` (a file's levers are its own and those of the files it
extends). The linkage modes are the siloed baseline plus exactly their declared levers
(`tests/test_modes.py` compares the resolved parameter trees), and `linkage attribute`
decomposes the difference between two scenarios into the levers whose parameters differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from model import POLICIES, Params

ALLOCATION = "allocation"
"""The lever of the budget shares (`funding.allocation.*`)."""

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
    "codelivery": ("社工+志愿者协作", "SW + volunteer co-delivery"),
    "charity": ("社会慈善资源", "Social charitable resources (community fund)"),
    "supervision": ("社会工作督导", "Supervision of social workers"),
    "group_work": ("小组工作", "Group work"),
    "community_work": ("社区工作", "Community work"),
    "consultation": ("社区协商(议事会)", "Consultation councils"),
    "claiming": ("社会组织认领服务", "Organizations claim services"),
}
"""Short names of the policies (Chinese, English): the dashboard's and the attribution's."""

SECTION_NAMES: dict[str, tuple[str, str]] = {
    ALLOCATION: ("预算分配", "Budget split"),
    "funding": ("预算规模", "Budget size"),
    "careers": ("社工流失与空缺", "Social workers' turnover"),
    "providers": ("服务提供者", "Providers"),
    "volunteers": ("志愿者参数", "Volunteer settings"),
    "street": ("街道设定", "Street settings"),
    "service": ("服务设定", "Service settings"),
    "needs": ("需求目录", "Need catalog"),
    "run": ("运行设定", "Run settings"),
}
"""Names of the levers that are not policies (Chinese, English)."""


def sections() -> tuple[str, ...]:
    """The top-level sections of the parameter tree, except `policies`."""
    return tuple(k for k in Params.model_fields if k != "policies")


def known_levers() -> tuple[str, ...]:
    """Every lever name, in a fixed order: the policies (registry order), `allocation`, then
    the other sections."""
    return (*POLICIES, ALLOCATION, *sections())


def lever_of(path: str) -> str:
    """The lever that governs a dotted parameter path.

    Examples: `policies.platform.enabled` -> `platform`; `funding.allocation.posts` ->
    `allocation`; `funding.special_fund` -> `funding`; `providers.sw_per_10k` -> `providers`.
    """
    parts = path.split(".")
    if parts[0] == "policies" and len(parts) > 1:
        return parts[1]
    if parts[:2] == ["funding", ALLOCATION]:
        return ALLOCATION
    return parts[0]


def lever_scope(name: str) -> str:
    """The parameter paths a lever governs, as text (`policies.platform.*`)."""
    if name in POLICIES:
        return f"policies.{name}.*"
    if name == ALLOCATION:
        return "funding.allocation.*"
    if name == "funding":
        return "funding.* (except funding.allocation.*)"
    return f"{name}.*"


def lever_label(name: str, lang: str = "en") -> str:
    """A lever's display name in `lang` ("en" or "zh"); the name itself when it has none."""
    pair = POLICY_NAMES.get(name) or SECTION_NAMES.get(name)
    if pair is None:
        return name
    return pair[0] if lang == "zh" else pair[1]


def check_levers(value: Any, file: str | Path) -> list[str]:
    """Validate a `levers:` declaration: a list of known lever names, each once.

    Raises:
        ScenarioError: naming the file, `levers` and the problem.
    """
    from experiments.engine.errors import ScenarioError
    from experiments.engine.input_files import short_repr

    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(
            file, "levers", f"must be a list of lever names (got {short_repr(value)})"
        )
    known = known_levers()
    for v in value:
        if v not in known:
            from experiments.engine.spec import did_you_mean

            raise ScenarioError(
                file,
                "levers",
                f"unknown lever {short_repr(v)}{did_you_mean(v, known)} (a lever is a policy "
                "name, 'allocation', or a section: " + ", ".join(sections()) + ")",
            )
    dup = sorted({v for v in value if value.count(v) > 1})
    if dup:
        raise ScenarioError(file, "levers", f"listed twice: {', '.join(dup)}")
    return list(value)


def merge_levers(base: Iterable[str] | None, own: Iterable[str] | None) -> list[str]:
    """Levers of a file that extends another: the base's, then its own new ones."""
    out = list(base or [])
    out += [v for v in own or [] if v not in out]
    return out


MISSING = object()
"""Marks a key that one of two trees does not have."""


def differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> dict[str, tuple]:
    """Where two parameter trees differ: dotted path -> (value in a, value in b).

    Mappings are compared key by key, recursively; anything else (numbers, text, lists) is a
    leaf. A key only one tree has is one difference, its whole subtree (the other side is
    `MISSING`).
    """
    out: dict[str, tuple] = {}
    for k in list(a) + [k for k in b if k not in a]:
        path = f"{prefix}{k}"
        va, vb = a.get(k, MISSING), b.get(k, MISSING)
        if isinstance(va, dict) and isinstance(vb, dict):
            out.update(differences(va, vb, path + "."))
        elif va != vb or type(va) is not type(vb):
            out[path] = (va, vb)
    return out


def group_by_lever(paths: Iterable[str], declared: Iterable[str] = ()) -> dict[str, list[str]]:
    """Paths grouped by their lever: declared levers first (in their order), then the others in
    `known_levers()` order."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(lever_of(p), []).append(p)
    order = list(dict.fromkeys([*declared, *known_levers()]))
    rank = {name: i for i, name in enumerate(order)}
    return {k: groups[k] for k in sorted(groups, key=lambda n: (rank.get(n, len(rank)), n))}


def param_tree(params: Params) -> dict[str, Any]:
    """The full parameter tree of a run (every default filled in), as plain data."""
    return params.model_dump(mode="json")
