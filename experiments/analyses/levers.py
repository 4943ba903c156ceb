"""Levers that bind: the effect of each linkage lever on the metric it targets, with CIs.

Two tables (`linkage levers`, docs/validation.md):

- **capacity**: on `scenarios/base.yaml`, doubling and halving the working social-worker pool
  (`providers.sw_per_10k`) and the registered volunteer share (`volunteers.registered_share`),
  and full linkage against base, on need satisfaction;
- **policies**: for each policy, its effect on the metric it targets (`LEVERS`,
  in the seed's direction) and on need satisfaction, (a) switched from base (on − off for a
  policy off in base, base − off for one on in base) and (b) removed from full linkage (full −
  full without it).

Every arm runs the same seeds (common random numbers), so each effect is the mean of per-seed
paired differences and its 95% interval is the t interval of those differences.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.analyses.compare import mean_ci
from experiments.analyses.validation import run_parallel, seeds
from experiments.engine.resources import scenarios_dir

SCENARIOS = scenarios_dir()
BASE = "base.yaml"
FULL_LINKAGE = "modes/full_linkage.yaml"
NSR = "need_satisfaction_rate"


@dataclass(frozen=True)
class Lever:
    """A policy and the metric it targets.

    Attributes:
        policy: Key in `policies:`.
        metric: Summary metric the policy targets.
        sign: +1 when the seed expects the metric to rise, -1 when to fall.
        why: Why this metric (one line).
        in_full: Whether full linkage runs the policy (else it has no "removed from full
            linkage" arm).
    """

    policy: str
    metric: str
    sign: int
    why: str
    in_full: bool = True


LEVERS: tuple[Lever, ...] = (
    Lever(
        "platform",
        "equity_community_gap",
        -1,
        "any provider of the street sees every need: communities even out (资源共享)",
    ),
    Lever(
        "credit",
        "resolution_rate",
        +1,
        "providers rated below the bar improve under residents' supervision (接受社区居民监督)",
    ),
    Lever("cultivation", "community_orgs_per_community", +1, "organizations are founded"),
    Lever("purchase", "professional_needs_satisfaction", +1, "posts and projects hire SWs"),
    Lever("project_teams", "active_volunteers", +1, "projects mobilize volunteer teams"),
    Lever("evaluation", "contract_resolution_rate", +1, "contracted services resolve more"),
    Lever(
        "professionalization",
        "professional_needs_satisfaction",
        +1,
        "community workers qualify as social workers",
    ),
    Lever("surveys", "hidden_discovered_share", +1, "needs surveys reveal hidden needs"),
    Lever(
        "volunteer_mgmt",
        "volunteer_retention_annual",
        +1,
        "recognition and evaluation keep volunteers",
    ),
    Lever("time_bank", "volunteer_retention_annual", +1, "credit holders stay"),
    Lever("mobilization", "active_volunteers", +1, "mutual aid and party members volunteer"),
    Lever("joint_meeting", "complex_resolved_share", +1, "complex cases become joint cases"),
    Lever("team_building", "volunteer_skill1_share", +1, "supervised volunteers learn"),
    Lever(
        "codelivery",
        "professional_needs_satisfaction",
        +1,
        "a volunteer assists: fewer professional hours per case, a team",
    ),
    Lever(
        "supervision",
        "sw_quit_rate_annual",
        -1,
        "supervised social workers leave less (and serve better)",
    ),
    Lever(
        "group_work",
        "professional_needs_satisfaction",
        +1,
        "group sessions serve several residents at once: social workers' hours stretch",
    ),
    Lever(
        "community_work",
        "hidden_discovered_share",
        +1,
        "community work reveals needs",
    ),
    Lever(
        "charity",
        "charity_donations",
        +1,
        "a community fund gathers donations (五社联动)",
        in_full=False,
    ),
    Lever(
        "consultation",
        "procurement_need_fit",
        +1,
        "representatives set part of the project list from residents' needs (议事会)",
    ),
    Lever(
        "claiming",
        "need_satisfaction_rate",
        +1,
        "community organizations' teams serve the needs nobody took up (认领服务)",
    ),
)
"""The policies, in the order of the tables, with their target metrics (the last six came
with issue 21: supervision, group and community work, the charity fund, consultation and
organizations claiming services)."""

ON_IN_BASE = ("purchase", "evaluation", "volunteer_mgmt")
"""Policies a typical street runs today (on in base.yaml): their base effect is base − off."""

CAPACITY: tuple[tuple[str, str, str], ...] = (
    ("social-worker pool x2", "providers.sw_per_10k", "x2"),
    ("social-worker pool x1/2", "providers.sw_per_10k", "x0.5"),
    ("registered volunteers x2", "volunteers.registered_share", "x2"),
    ("registered volunteers x1/2", "volunteers.registered_share", "x0.5"),
)
"""Capacity levers on base: (label, parameter, change)."""


def scaled_street(residents: int, communities: int | None = None) -> list[str]:
    """Overrides for a smaller (or larger) street of the same kind as the default street:
    `residents` residents in communities of the default size (or `communities` of them), with
    the budget and the embedded agencies scaled with the residents, so every per-resident
    quantity (money, posts, agencies) stays as on the 50,000-resident default street."""
    from model import Params

    p = Params()
    scale = residents / p.street.n_residents
    nc = communities or max(1, round(p.street.n_communities * scale))
    return [
        f"street.n_residents={residents}",
        f"street.n_communities={nc}",
        f"funding.special_fund={p.funding.special_fund * scale!r}",
        f"funding.lottery_fund={p.funding.lottery_fund * scale!r}",
        f"providers.embedded_orgs={max(1, round(p.providers.embedded_orgs * scale))}",
    ]


@dataclass(frozen=True)
class Settings:
    """How much simulation the lever tables spend.

    Attributes:
        reps: Paired seeds per arm.
        weeks: Run length (weeks; the summary counts the weeks after `warmup`).
        warmup: Warm-up weeks.
        street: Street overrides (empty: the default street of 50,000 residents).
        workers: Processes.
        root_seed: Seed from which the replication seeds are spawned.
    """

    reps: int = 6
    weeks: int = 104
    warmup: int = 52
    street: tuple[str, ...] = ()
    workers: int = 1
    root_seed: int = 20240909


FULL = Settings()
QUICK = Settings(reps=4, street=tuple(scaled_street(20_000, 4)))


def _run(args: tuple) -> dict[str, float]:
    rel, overrides, seed = args
    from experiments.engine.scenarios import load_scenario
    from model import LinkageModel

    sc = load_scenario(SCENARIOS / rel, list(overrides))
    m = LinkageModel(sc.params, seed=seed)
    m.run()
    return m.summary()


def _scaled(param: str, change: str) -> str:
    from model import Params

    value = Params()
    for key in param.split("."):
        value = getattr(value, key)
    return f"{param}={float(value) * float(change.lstrip('x'))!r}"


def arms(settings: Settings = FULL) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every arm of the two tables: name -> (scenario, overrides)."""
    run = (*settings.street, f"run.weeks={settings.weeks}", f"run.warmup_weeks={settings.warmup}")
    out: dict[str, tuple[str, tuple[str, ...]]] = {
        "base": (BASE, run),
        "full": (FULL_LINKAGE, run),
    }
    for label, param, change in CAPACITY:
        out[label] = (BASE, (*run, _scaled(param, change)))
    for lv in LEVERS:
        flip = "false" if lv.policy in ON_IN_BASE else "true"
        out[f"base/{lv.policy}"] = (BASE, (*run, f"policies.{lv.policy}.enabled={flip}"))
        if lv.in_full:
            out[f"full-{lv.policy}"] = (
                FULL_LINKAGE,
                (*run, f"policies.{lv.policy}.enabled=false"),
            )
    return out


@dataclass
class Effect:
    """A paired effect: mean difference and its 95% interval over seeds."""

    n: int
    mean: float
    lo: float
    hi: float

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lo > 0 or self.hi < 0)


def effect(a: Sequence[dict], b: Sequence[dict], metric: str) -> Effect:
    """b − a on `metric`, seed by seed, with the t interval of the differences."""
    d = np.array([y[metric] - x[metric] for x, y in zip(a, b, strict=True)], dtype=float)
    n, m, _, lo, hi = mean_ci(d)
    return Effect(n, m, lo, hi)


def run_levers(settings: Settings = FULL) -> dict[str, list[dict[str, float]]]:
    """Run every arm with the same seeds; returns arm -> summaries (in seed order)."""
    table = arms(settings)
    ss = seeds(settings.root_seed, settings.reps, key=400)
    jobs = [(rel, ov, s) for rel, ov in table.values() for s in ss]
    out = run_parallel(_run, jobs, settings.workers)
    n = settings.reps
    return {name: out[k * n : (k + 1) * n] for k, name in enumerate(table)}


def lever_effects(runs: dict[str, list[dict[str, float]]]) -> list[dict[str, Any]]:
    """The policies table: per lever, its effect on its target and on need satisfaction, from
    base and as removed from full linkage (each as 'the lever's effect': on − off)."""
    rows = []
    for lv in LEVERS:
        on_base = lv.policy in ON_IN_BASE
        base_off, base_on = (
            (runs[f"base/{lv.policy}"], runs["base"])
            if on_base
            else (runs["base"], runs[f"base/{lv.policy}"])
        )
        row = {
            "lever": lv,
            "base": effect(base_off, base_on, lv.metric),
            "full": None,  # not in full linkage
            "base_nsr": effect(base_off, base_on, NSR),
            "full_nsr": None,
        }
        if lv.in_full:
            full_off, full_on = runs[f"full-{lv.policy}"], runs["full"]
            row["full"] = effect(full_off, full_on, lv.metric)
            row["full_nsr"] = effect(full_off, full_on, NSR)
        rows.append(row)
    return rows


def capacity_effects(runs: dict[str, list[dict[str, float]]]) -> list[tuple[str, Effect]]:
    """The capacity table: each capacity lever against base on need satisfaction, and full
    linkage against base."""
    out = [(label, effect(runs["base"], runs[label], NSR)) for label, _, _ in CAPACITY]
    out.append(("full linkage - base", effect(runs["base"], runs["full"], NSR)))
    return out


def binds(e: Effect, sign: int) -> bool:
    """The effect's interval excludes 0 on the side the seed expects (`sign` +1 or -1)."""
    return bool(e.lo > 0) if sign > 0 else bool(e.hi < 0)


def as_records(runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Both tables as plain data (for `--json`)."""
    rows = []
    for r in lever_effects(runs):
        lv = r["lever"]
        rec: dict[str, Any] = {"policy": lv.policy, "metric": lv.metric, "sign": lv.sign}
        for k in ("base", "full", "base_nsr", "full_nsr"):
            e = r[k]
            rec[k] = None if e is None else {"n": e.n, "mean": e.mean, "lo": e.lo, "hi": e.hi}
        rows.append(rec)
    cap = [
        {"lever": label, "n": e.n, "mean": e.mean, "lo": e.lo, "hi": e.hi}
        for label, e in capacity_effects(runs)
    ]
    return {"capacity": cap, "policies": rows}


def _pt(metric: str) -> bool:
    """Metrics shown in percentage points (shares and rates)."""
    return metric.endswith(("_rate", "_share", "satisfaction", "_annual", "_gap")) or metric in (
        NSR,
        "professional_needs_satisfaction",
    )


def _fmt(e: Effect | None, metric: str, sign: int | None = None) -> str:
    if e is None:
        return "not in full linkage"
    if not math.isfinite(e.mean):
        return "-"
    k = 100.0 if _pt(metric) else 1.0
    digits = 1 if k == 100.0 or abs(e.mean) >= 10 else 2
    ok = e.excludes_zero if sign is None else binds(e, sign)
    mark = " ✓" if ok else ""
    return f"{e.mean * k:+.{digits}f} [{e.lo * k:+.{digits}f}, {e.hi * k:+.{digits}f}]{mark}"


def markdown(runs: dict[str, list[dict[str, float]]], settings: Settings) -> str:
    """Both tables as markdown, with how they were made."""
    n = len(runs["base"])
    street = ", ".join(settings.street) if settings.street else "the default street (50,000 "
    street += "" if settings.street else "residents, 10 communities)"
    lines = [
        f"Made by `linkage levers` on {street}: {settings.weeks} weeks, the last "
        f"{settings.weeks - settings.warmup} measured, {n} paired seeds (root seed "
        f"{settings.root_seed}); mean paired difference [95% t interval]; rates and shares in "
        "percentage points; ✓: the interval excludes 0 (on targets: in the seed's direction).",
        "",
        "| capacity lever (base) | need satisfaction |",
        "|---|---|",
    ]
    lines += [f"| {label} | {_fmt(e, NSR)} |" for label, e in capacity_effects(runs)]
    lines += [
        "",
        "| policy | target metric (direction) | base: with − without | full linkage: with − "
        "without | need satisfaction, base | need satisfaction, full |",
        "|---|---|---|---|---|---|",
    ]
    for r in lever_effects(runs):
        lv = r["lever"]
        arrow = "↑" if lv.sign > 0 else "↓"
        lines.append(
            f"| {lv.policy} | `{lv.metric}` {arrow} | {_fmt(r['base'], lv.metric, lv.sign)} | "
            f"{_fmt(r['full'], lv.metric, lv.sign)} | {_fmt(r['base_nsr'], NSR)} | "
            f"{_fmt(r['full_nsr'], NSR)} |"
        )
    return "\n".join(lines)


def summarize(runs: dict[str, list[dict[str, float]]]) -> Iterable[str]:
    """One line per lever for the terminal."""
    for r in lever_effects(runs):
        lv = r["lever"]
        base, full = _fmt(r["base"], lv.metric, lv.sign), _fmt(r["full"], lv.metric, lv.sign)
        yield f"{lv.policy:20s} {lv.metric:34s} base {base}   full {full}"


__all__ = [
    "FULL",
    "LEVERS",
    "QUICK",
    "Lever",
    "Settings",
    "arms",
    "as_records",
    "binds",
    "capacity_effects",
    "effect",
    "lever_effects",
    "markdown",
    "run_levers",
    "scaled_street",
]
