"""The live model behind the workshop dashboard: controls, a stepping run, and a paired run.

Nothing here imports Solara, so the logic is tested without a browser:

- `Controls` is what the trainer sets (mode, scale, levers); `controls_for_mode` reads a mode's
  defaults from `scenarios/modes/*.yaml` at workshop scale, `Controls.overrides` turns the
  controls back into `a.b.c=VALUE` overrides of that scenario file.
- `LiveRun` wraps one `LinkageModel`: step, time each step, live monitors, weekly series.
- `Session` holds the main run and an optional second mode run with the same seed (side by
  side), stepped together under one lock (the play loop steps in a worker thread while the page
  renders).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from experiments.engine.resources import scenarios_dir
from experiments.engine.scenarios import load_scenario
from model import CHANNELS, GROUPS, POLICIES, LinkageModel, release_model

MODES_DIR = scenarios_dir() / "modes"
"""Where the linkage-mode scenario files live."""

MODE_ORDER = (
    "siloed",
    "cultivation_purchase",
    "so_sw",
    "so_volunteer",
    "sw_volunteer",
    "full_linkage",
    "five_society",
)
"""The linkage modes, from the siloed baseline to full four-society linkage and five-society
linkage (五社联动)."""

ALLOCATION_KEYS = ("procurement", "posts", "venture", "incubation", "timebank", "block_grant")
"""Budget shares the dashboard exposes (`funding.allocation.*`)."""

RESULTS_ENV = "LINKAGE_RESULTS"
"""Environment variable naming the results folder where the dashboard looks for attributions
(`linkage dashboard --results DIR`; default `results` in the working directory)."""

WORKSHOP_RESIDENTS = 8_000  # residents: a small street so one step takes tens of milliseconds
WORKSHOP_COMMUNITIES = 6
WORKSHOP_WEEKS = 260  # weeks: five years, as the default run
ROLLING_WEEKS = 4  # weeks averaged by the live monitors


@dataclass(frozen=True)
class ModeInfo:
    """One linkage mode as its scenario file describes it (`description_zh`: in Chinese only,
    for the Chinese page; `description` mixes English with the Chinese terms)."""

    name: str
    path: Path
    label_zh: str
    label_en: str
    description: str
    description_zh: str = ""


@lru_cache(maxsize=1)
def modes() -> dict[str, ModeInfo]:
    """The linkage modes found in `scenarios/modes/`, in `MODE_ORDER` (others after, by name)."""
    found = {}
    for path in sorted(MODES_DIR.glob("*.yaml")):
        sc = load_scenario(path)
        found[sc.name] = ModeInfo(
            name=sc.name,
            path=path,
            label_zh=str(sc.meta.get("label_zh", sc.name)),
            label_en=str(sc.meta.get("label_en", sc.name)),
            description=" ".join(sc.description.split()),
            description_zh=" ".join(str(sc.meta.get("description_zh", "")).split()),
        )
    order = [m for m in MODE_ORDER if m in found] + sorted(set(found) - set(MODE_ORDER))
    return {m: found[m] for m in order}


@dataclass(frozen=True)
class Controls:
    """Everything the trainer sets before pressing reset.

    Attributes:
        mode: Linkage mode (scenario file stem's `name`).
        seed: Run seed; the paired run uses the same one.
        n_residents: Residents of the workshop street.
        n_communities: Communities of the workshop street.
        weeks: Run length in weeks.
        policies: Names of the enabled policies (`policies.<name>.enabled`).
        joint_interval: Weeks between joint meetings (`policies.joint_meeting.interval_weeks`).
        budget: Yearly budget in yuan (special fund + lottery fund, in the mode's proportion).
        allocation: Shares of the programme budget by channel (`funding.allocation.*`).
        sw_per_10k: Certified social workers per 10,000 residents (`providers.sw_per_10k`).
        recruitment_rate: Weekly chance a resident becomes an active volunteer.
        registered_share: Registered volunteers at start, share of residents.
    """

    mode: str
    seed: int = 1
    n_residents: int = WORKSHOP_RESIDENTS
    n_communities: int = WORKSHOP_COMMUNITIES
    weeks: int = WORKSHOP_WEEKS
    policies: frozenset[str] = field(default_factory=frozenset)
    joint_interval: int = 4
    budget: float = 0.0
    allocation: tuple[tuple[str, float], ...] = ()
    sw_per_10k: float = 6.6
    recruitment_rate: float = 0.0004
    registered_share: float = 0.12

    @property
    def shares(self) -> dict[str, float]:
        """The allocation as a mapping."""
        return dict(self.allocation)

    def effective_shares(self) -> dict[str, float]:
        """The allocation the model gets: scaled down proportionally when the shares exceed 1."""
        sh = self.shares
        total = sum(sh.values())
        if total > 1.0:
            return {k: v / total for k, v in sh.items()}
        return sh

    def mode_defaults(self) -> Controls:
        """The controls of this mode's file on the same street, seed and run length."""
        return controls_for_mode(
            self.mode,
            seed=self.seed,
            n_residents=self.n_residents,
            n_communities=self.n_communities,
            weeks=self.weeks,
        )

    def with_policy(self, name: str, on: bool) -> Controls:
        """A copy with one policy switched on or off."""
        pol = set(self.policies)
        (pol.add if on else pol.discard)(name)
        return replace(self, policies=frozenset(pol))

    def with_share(self, channel: str, value: float) -> Controls:
        """A copy with one budget share changed."""
        sh = self.shares
        sh[channel] = float(value)
        return replace(self, allocation=tuple((k, sh.get(k, 0.0)) for k in ALLOCATION_KEYS))

    def overrides(self, base_funds: tuple[float, float]) -> list[str]:
        """`a.b.c=VALUE` overrides of the mode's scenario file that realise these controls.

        Args:
            base_funds: The mode file's (special_fund, lottery_fund), whose proportion the
                budget keeps.
        """
        special, lottery = base_funds
        total = special + lottery
        frac = special / total if total > 0 else 1.0
        out = [
            f"street.n_residents={int(self.n_residents)}",
            f"street.n_communities={int(self.n_communities)}",
            f"run.weeks={int(self.weeks)}",
            f"run.warmup_weeks={min(52, int(self.weeks) - 1)}",
            f"funding.special_fund={_num(self.budget * frac)}",
            f"funding.lottery_fund={_num(self.budget * (1 - frac))}",
            f"providers.sw_per_10k={_num(self.sw_per_10k)}",
            f"volunteers.recruitment_rate={_num(self.recruitment_rate)}",
            f"volunteers.registered_share={_num(self.registered_share)}",
            f"policies.joint_meeting.interval_weeks={int(self.joint_interval)}",
        ]
        out += [f"funding.allocation.{k}={_num(v)}" for k, v in self.effective_shares().items()]
        out += [
            f"policies.{name}.enabled={'true' if name in self.policies else 'false'}"
            for name in POLICIES
        ]
        return out


def _num(value: float) -> str:
    """A number as YAML reads it back exactly (no exponent: YAML 1.1 reads `1e-05` as text)."""
    return np.format_float_positional(float(value), trim="-")


def _file_defaults(mode: str):
    """The mode's parameters as its file sets them (no workshop overrides)."""
    return load_scenario(modes()[mode].path).params


@lru_cache(maxsize=64)
def controls_for_mode(
    mode: str,
    *,
    seed: int = 1,
    n_residents: int = WORKSHOP_RESIDENTS,
    n_communities: int = WORKSHOP_COMMUNITIES,
    weeks: int = WORKSHOP_WEEKS,
) -> Controls:
    """The controls a mode's scenario file sets, at workshop scale.

    The budget keeps the file's budget per resident, so a smaller street gets a smaller budget.
    Cached: `Controls` is immutable.

    Args:
        mode: A key of `modes()`.
        seed: Run seed.
        n_residents: Workshop street size.
        n_communities: Communities of the workshop street.
        weeks: Run length.

    Raises:
        KeyError: for an unknown mode.
    """
    p = _file_defaults(mode)
    f = p.funding
    budget = (f.special_fund + f.lottery_fund) * n_residents / p.street.n_residents
    return Controls(
        mode=mode,
        seed=seed,
        n_residents=n_residents,
        n_communities=n_communities,
        weeks=weeks,
        policies=frozenset(name for name in POLICIES if getattr(p.policies, name).enabled),
        joint_interval=p.policies.joint_meeting.interval_weeks,
        budget=float(round(budget, -4)),  # whole 10,000 yuan (the slider's unit)
        allocation=tuple((k, float(getattr(f.allocation, k))) for k in ALLOCATION_KEYS),
        sw_per_10k=p.providers.sw_per_10k,
        recruitment_rate=p.volunteers.recruitment_rate,
        registered_share=p.volunteers.registered_share,
    )


def build_scenario(controls: Controls):
    """Load the mode's scenario file with the controls applied (validated like any scenario)."""
    p = _file_defaults(controls.mode)
    funds = (p.funding.special_fund, p.funding.lottery_fund)
    return load_scenario(modes()[controls.mode].path, controls.overrides(funds))


def _rolling(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of the finite values (NaN when no weight)."""
    ok = np.isfinite(values) & (weights > 0)
    w = weights[ok].sum()
    return float((values[ok] * weights[ok]).sum() / w) if w > 0 else float("nan")


class LiveRun:
    """One model built from controls, stepped week by week.

    Args:
        controls: What to build.
    """

    def __init__(self, controls: Controls) -> None:
        self.controls = controls
        self.scenario = build_scenario(controls)
        t0 = time.perf_counter()
        self.model = LinkageModel(self.scenario.params, seed=controls.seed)
        self.build_ms = 1e3 * (time.perf_counter() - t0)
        self.step_ms: list[float] = []

    @property
    def week(self) -> int:
        """Weeks simulated so far."""
        return self.model.week

    @property
    def done(self) -> bool:
        """Whether the run reached its last week."""
        return self.model.week >= self.model.p.run.weeks

    def step(self) -> bool:
        """Advance one week (no-op when done); returns whether a week was simulated."""
        if self.done:
            return False
        t0 = time.perf_counter()
        self.model.step()
        self.step_ms.append(1e3 * (time.perf_counter() - t0))
        if self.done:
            self.model.finalize()
        return True

    def last_step_ms(self) -> float:
        """Duration of the latest step (NaN before the first)."""
        return self.step_ms[-1] if self.step_ms else float("nan")

    def median_step_ms(self) -> float:
        """Median step duration so far (NaN before the first)."""
        return float(np.median(self.step_ms)) if self.step_ms else float("nan")

    def series(self) -> dict[str, np.ndarray]:
        """The weekly series recorded so far (copies, safe to plot from another thread)."""
        n = min(self.model.week, self.model.p.run.weeks)
        return {k: v[:n].copy() for k, v in self.model.recorder.data.items()}

    def monitors(self) -> dict[str, float]:
        """The big numbers: recent need satisfaction and wait, spending, volunteers, time bank.

        Satisfaction and wait are averaged over the last `ROLLING_WEEKS` weeks (weighted by
        resolved and met needs); counts are the latest week's; spending is the total so far and
        this budget year's.
        """
        d = self.model.recorder.data
        n = min(self.model.week, self.model.p.run.weeks)
        out = dict.fromkeys(MONITOR_KEYS, float("nan"))
        out["week"] = float(self.model.week)
        if n == 0:
            out.update(spending_total=0.0, spending_year=0.0)
            return out
        win = slice(max(0, n - ROLLING_WEEKS), n)
        resolved = d["needs_met"][win] + d["needs_abandoned"][win]
        out["need_satisfaction"] = _rolling(d["need_satisfaction_rate"][win], resolved)
        out["mean_wait_hours"] = _rolling(d["mean_wait_hours"][win], d["needs_met"][win])
        out["spending_total"] = float(d["gov_spending_total"][:n].sum())
        out["spending_year"] = float(d["gov_spending_total"][(n - 1) // 52 * 52 : n].sum())
        out["active_volunteers"] = float(d["active_volunteers"][n - 1])
        out["timebank_balance"] = float(d["timebank_balance"][n - 1])
        out["needs_waiting"] = float(d["needs_pending"][n - 1])
        out["sw_count"] = float(d["sw_count"][n - 1])
        out["so_count"] = float(d["so_count"][n - 1])
        return out


MONITOR_KEYS = (
    "week",
    "need_satisfaction",
    "mean_wait_hours",
    "spending_total",
    "spending_year",
    "active_volunteers",
    "timebank_balance",
    "needs_waiting",
    "sw_count",
    "so_count",
)
"""Keys of `LiveRun.monitors()`."""


@lru_cache(maxsize=1)
def base_policies() -> frozenset[str]:
    """Policies on in `scenarios/base.yaml` (the typical street of today)."""
    p = load_scenario(MODES_DIR.parent / "base.yaml").params
    return frozenset(n for n in POLICIES if getattr(p.policies, n).enabled)


def paired_controls(main: Controls, other_mode: str) -> Controls:
    """Controls of a second mode for a side-by-side run: that mode's own levers, with the main
    run's seed, street, length and yearly budget (a fair comparison)."""
    c = controls_for_mode(
        other_mode,
        seed=main.seed,
        n_residents=main.n_residents,
        n_communities=main.n_communities,
        weeks=main.weeks,
    )
    return replace(c, budget=main.budget)


class Session:
    """The dashboard's runs: the main one, and optionally a second mode with the same seed.

    Args:
        controls: Controls of the main run.
        compare: Mode of the paired run (None: no side-by-side run).
    """

    def __init__(self, controls: Controls, compare: str | None = None) -> None:
        self.lock = threading.RLock()
        self.main = LiveRun(controls)
        self.other: LiveRun | None = None
        self.set_compare(compare)

    @property
    def controls(self) -> Controls:
        """Controls of the main run."""
        return self.main.controls

    def reset(self, controls: Controls) -> None:
        """Rebuild the main run (and the paired run, to its week 0) from these controls."""
        with self.lock:
            old = [self.main, self.other]
            self.main = LiveRun(controls)
            if self.other is not None:
                self.other = LiveRun(paired_controls(controls, self.other.controls.mode))
            _release(old)

    def set_compare(self, mode: str | None) -> None:
        """Start a paired run of `mode`, caught up to the main run's week (None: stop comparing)."""
        with self.lock:
            old = [getattr(self, "other", None)]
            if mode is None:
                self.other = None
                _release(old)
                return
            self.other = LiveRun(paired_controls(self.main.controls, mode))
            _release(old)
            while self.other.week < self.main.week and self.other.step():
                pass

    def step(self, weeks: int = 1) -> int:
        """Advance both runs by up to `weeks` weeks; returns the weeks the main run advanced."""
        done = 0
        with self.lock:
            for _ in range(weeks):
                if not self.main.step():
                    break
                if self.other is not None:
                    self.other.step()
                done += 1
        return done

    @property
    def done(self) -> bool:
        """Whether the main run has finished."""
        return self.main.done


def _release(runs: list[LiveRun | None]) -> None:
    """Let the replaced runs' models be freed: Mesa 3.3 keeps every model reachable from a
    class-level id counter (see `model.release_model`); a workshop resets dozens of times."""
    import gc

    for run in runs:
        if run is not None:
            release_model(run.model)
    gc.collect()


def mode_attribution(a: str, b: str) -> dict | None:
    """The newest precomputed attribution (`linkage attribute`, or the one `linkage demo`
    writes for siloed -> full linkage) between modes `a` and `b` in the results folder, as
    a -> b; None when there is none. The dashboard does not compute one: a sampled attribution
    takes hundreds of runs, minutes even on the workshop street."""
    import os

    from experiments.interfaces.report.attribution import find_attribution

    root = Path(os.environ.get(RESULTS_ENV) or "results")
    return find_attribution(root, a, b)


def default_controls(mode: str = "full_linkage") -> Controls:
    """Controls the dashboard starts with."""
    return controls_for_mode(mode)


__all__ = [
    "ALLOCATION_KEYS",
    "CHANNELS",
    "GROUPS",
    "MODE_ORDER",
    "MONITOR_KEYS",
    "Controls",
    "LiveRun",
    "ModeInfo",
    "Session",
    "base_policies",
    "build_scenario",
    "controls_for_mode",
    "default_controls",
    "mode_attribution",
    "modes",
    "paired_controls",
]
