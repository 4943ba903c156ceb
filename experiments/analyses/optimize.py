"""Budget allocation search: how should a fixed annual budget be split across channels?

`run_optimize` searches the split of one annual budget (`funding.special_fund`, with the lottery
fund set to 0) across the funding channels `procurement`, `posts`, `venture_incubation`
(venture grants and incubation, in a fixed ratio), `timebank` and the `platform`, with block
grants to the residents' committees taking the remainder, to maximise an objective:

- `satisfaction`: need_satisfaction_rate (maximise; the default),
- `cost_per_need`: cost_per_need_met (minimise),
- `worst_group`: satisfaction_min_group, the worst-off resident group (maximise).

Shares are of the programme budget (what is left after the platform's and the evaluations'
costs, which the model takes off the top) on a grid of `step` (5% by default). The platform is an
on/off decision, not a share: its effect in the model does not grow with money, so the question
is whether to pay its cost (`policies.platform.cost_per_10k` per 10,000 residents, off the top)
or to spend that on the programme. A channel
that gets money has its policy switched on (time bank, cultivation for incubation, purchase and
its sub-switches); a channel without money keeps the scenario's switch (in `model.model`, money
for a channel whose policy is off would go to block grants instead).

Method (noise-aware, all on common random numbers):

1. Candidates: the scenario's own split, the equal split, every single-channel split, and
   quasi-random splits (a scrambled Sobol' sequence, from scipy, mapped onto the simplex of
   shares, crossed with platform on/off), rounded to the grid.
2. Successive halving (Jamieson & Talwalkar 2016; Karnin et al. 2013): every candidate of a round
   runs the same new replication seeds; the best 1/eta by mean over all its replications so far
   go on with eta times more replications, until `finalists` remain.
3. Refinement (a compass search): for each move size in `refine_moves`, the leader and every
   split that moves that much of the budget from one channel to another (and the platform
   toggled) go through another successive-halving bracket, repeated while the leader changes
   (at most `refine_iterations` brackets per move size).
4. Confirmation: the finalists of every bracket run `confirm_replications` fresh common seeds.
   The best split, its interval and the runner-ups come from these runs only, so the estimate
   is not inflated by having been selected on the same noise (winner's curse). Paired
   differences to the best (same seeds) say which runner-ups are statistically tied with it.

Every round is an ordinary experiment (a generated `lists` design in `DIR/rounds/<label>.yaml`)
run by `experiments.engine.sweep.run_sweep` into `DIR/rounds/<label>/`: the same executors, durable
store and resume as `linkage sweep`. Files written into `DIR`:

`optimize.csv`, one row per candidate and bracket explored: bracket, candidate, label, the
    shares (procurement, posts, venture_incubation, timebank, block_grant; venture and
    incubation separately), platform (on/off, empty when not searched), rounds (how many rounds
    it ran), replications, mean, ci_low, ci_high (95% t interval of the objective metric;
    rounds have their own seeds, so compare splits by `gap` instead), gap, gap_ci_low,
    gap_ci_high (paired difference to the bracket's leader on the seeds they share), the means
    of need_satisfaction_rate, cost_per_need_met, satisfaction_min_group and
    gov_spending_total, finalist (ran the bracket's last round), eliminated_after (round).
`optimize_final.csv`, the confirmed finalists: rank, candidate, label, shares, platform,
    replications, mean, ci_low, ci_high, diff_vs_best, diff_ci_low, diff_ci_high (paired),
    tied_with_best, the other metrics' means, spending_total_per_year and spending by channel
    per year (spending_<channel>_per_year, yuan; measured after the warm-up, scaled to a year).
`optimize.png`: the confirmed splits (paired difference to the best) and the best explored
    splits (paired gap to their bracket's leader), with their shares as stacked bars.
`optimize.json`: settings, the best split, its interval, the share ranges among the splits
    tied with it, and timings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationError, model_validator

from experiments.analyses.compare import mean_ci
from experiments.engine.errors import ScenarioError
from experiments.engine.folders import FolderLock, check_out
from experiments.engine.input_files import read_text, short_repr
from experiments.engine.outputs import to_json, write_csv
from experiments.engine.scenarios import check_name, format_loc, load_scenario, read_yaml
from experiments.engine.spec import (
    ExperimentError,
    _NumbersNotBool,
    check_run_count,
    load_experiment,
    override,
)

PARTS = ("procurement", "posts", "venture_incubation", "timebank")
"""Channels whose money is a share of the programme budget."""
CHANNELS = (*PARTS, "platform")
OBJECTIVES: dict[str, tuple[str, float]] = {
    "satisfaction": ("need_satisfaction_rate", 1.0),
    "cost_per_need": ("cost_per_need_met", -1.0),
    "worst_group": ("satisfaction_min_group", 1.0),
}
"""Objective name -> (summary metric, +1 maximise / -1 minimise)."""
REPORTED = (
    "need_satisfaction_rate",
    "cost_per_need_met",
    "satisfaction_min_group",
    "gov_spending_total",
)
SPEND = (
    "procurement",
    "posts",
    "venture",
    "incubation",
    "timebank",
    "platform",
    "evaluation",
    "block_grant",
)
ALLOCATION = ("procurement", "posts", "venture", "incubation", "timebank", "block_grant")
MAX_BUDGET = 1e10  # yuan per year: the upper bound of funding.special_fund
SEED_KEY = 0x0B7E  # spawn key of the optimizer's round seeds
CONFIRM = 1000  # bracket number of the confirmation round's seeds
META = "optimize.json"
SHORT = {
    "procurement": "proc",
    "posts": "posts",
    "venture_incubation": "v+i",
    "timebank": "tb",
    "block_grant": "block",
}


# --------------------------------------------------------------------------- the spec


class SearchSettings(_NumbersNotBool):
    """How hard to search (the `search:` section of an optimize file)."""

    candidates: int = Field(24, ge=2, le=100_000, description="Splits in the first bracket.")
    min_replications: int = Field(
        2, ge=1, le=10_000, description="Replications per split in round 0."
    )
    eta: int = Field(3, ge=2, le=100, description="Keep 1/eta each round; eta x more replications.")
    finalists: int = Field(3, ge=1, le=10_000, description="Splits left at the end of a bracket.")
    step: float = Field(0.05, gt=0, le=0.5, description="Grid of shares.")
    refine_moves: list[float] = Field(
        [0.1], max_length=20, description="Move sizes of the refinement, largest first."
    )
    refine_iterations: int = Field(
        2, ge=1, le=100, description="Most refinement brackets per move size."
    )
    confirm_replications: int = Field(
        12, ge=2, le=100_000, description="Fresh replications per finalist."
    )

    @model_validator(mode="after")
    def _grid(self) -> SearchSettings:
        g = 1 / self.step
        if abs(g - round(g)) > 1e-6:
            raise ValueError(f"step must divide 1 (e.g. 0.05, 0.1), got {self.step}")
        for m in self.refine_moves:
            k = m / self.step
            if m <= 0 or abs(k - round(k)) > 1e-6:
                raise ValueError(f"refine_moves must be positive multiples of step, got {m}")
        return self


class OptimizeSpec(_NumbersNotBool):
    """The content of an optimize file such as `experiments/budget_allocation.yaml`."""

    name: str | None = None
    description: str = ""
    scenario: str = Field(description="Scenario file (relative to this file).")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides of the scenario.")
    constants: dict[str, Any] = Field(default_factory=dict, description="Overrides of every run.")
    weeks: int | None = Field(None, ge=1, le=5200)
    warmup_weeks: int | None = Field(None, ge=0, le=2600)
    root_seed: int = Field(20240601, ge=0, lt=2**63)
    budget: float | None = Field(
        None, gt=0, le=MAX_BUDGET, description="Yuan per year (--budget overrides)."
    )
    objective: Literal["satisfaction", "cost_per_need", "worst_group"] = "satisfaction"
    channels: list[
        Literal["procurement", "posts", "venture_incubation", "timebank", "platform"]
    ] = Field(default_factory=lambda: list(CHANNELS))
    venture_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Venture share of venture_incubation (default: the scenario's ratio).",
    )
    search: SearchSettings = Field(default_factory=SearchSettings)

    @model_validator(mode="after")
    def _check(self) -> OptimizeSpec:
        if not self.channels:
            raise ValueError("channels: list at least one channel")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels: a channel is listed twice")
        return self


@dataclass(frozen=True)
class Split:
    """One candidate: grid units per searched share channel plus block grants (summing to the
    grid size), and the platform switch (None when the platform is not searched)."""

    units: tuple[int, ...]
    platform: bool | None


@dataclass
class Problem:
    """A loaded optimize file with its budget and objective resolved."""

    path: Path
    text: str
    spec: OptimizeSpec
    name: str
    scenario: Path
    budget: float
    objective: str
    parts: tuple[str, ...]
    grid: int
    venture_share: float
    base: dict[str, Any]  # the scenario's switches and split (with set and constants)
    measured_weeks: int

    @property
    def metric(self) -> str:
        """The summary metric of the objective."""
        return OBJECTIVES[self.objective][0]

    @property
    def sign(self) -> float:
        """+1 to maximise the metric, -1 to minimise it."""
        return OBJECTIVES[self.objective][1]

    def base_value(self, key: str) -> Any:
        """The scenario's value of a policy switch set by `assignments`."""
        parts = key.split(".")
        name = parts[2] if parts[1] == "purchase" and parts[2] != "enabled" else parts[1]
        return self.base[name]

    @property
    def searches_platform(self) -> bool:
        """Whether the platform (on/off) is part of the search."""
        return "platform" in self.spec.channels

    def shares(self, s: Split) -> dict[str, float]:
        """Shares of the programme budget by channel (all of `PARTS` and block_grant)."""
        out = dict.fromkeys(PARTS, 0.0)
        for name, u in zip((*self.parts, "block_grant"), s.units, strict=True):
            out[name] = round(u / self.grid, 10)
        return out

    def label(self, s: Split) -> str:
        """A short label such as 'proc 40 · posts 20 · v+i 10 · tb 15 · block 15 · platform'."""
        sh = self.shares(s)
        text = " · ".join(f"{SHORT[k]} {sh[k] * 100:.0f}" for k in (*self.parts, "block_grant"))
        if s.platform is not None:
            text += " · platform" if s.platform else " · no platform"
        return text

    def assignments(self, s: Split) -> dict[str, Any]:
        """The parameter values of a split: allocation shares and policy switches."""
        sh = self.shares(s)
        vi = sh["venture_incubation"]
        alloc = {
            "procurement": sh["procurement"],
            "posts": sh["posts"],
            "venture": round(vi * self.venture_share, 10),
            "incubation": round(vi * (1 - self.venture_share), 10),
            "timebank": sh["timebank"],
        }
        alloc["block_grant"] = round(max(0.0, 1 - sum(alloc.values())), 10)
        b = self.base
        out: dict[str, Any] = {f"funding.allocation.{k}": v for k, v in alloc.items()}
        out["policies.time_bank.enabled"] = b["time_bank"] or alloc["timebank"] > 0
        out["policies.cultivation.enabled"] = b["cultivation"] or alloc["incubation"] > 0
        buys = {"project_purchase": "procurement", "post_purchase": "posts", "venture": "venture"}
        out["policies.purchase.enabled"] = b["purchase"] or any(alloc[c] > 0 for c in buys.values())
        for switch, ch in buys.items():
            out[f"policies.purchase.{switch}"] = b[switch] or alloc[ch] > 0
        if s.platform is not None:
            out["policies.platform.enabled"] = s.platform
        return out


def _spec_error(path: Path, e: ValidationError) -> ScenarioError:
    err = e.errors()[0]
    loc, msg = format_loc(err["loc"]), err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required"
    elif not isinstance(err.get("input"), dict):
        msg = f"{msg} (got {short_repr(err.get('input'))})"
    if msg.startswith("channels:"):
        loc, msg = msg.split(": ", 1)
    return ScenarioError(path, loc, msg)


def planned_runs(spec: OptimizeSpec) -> int:
    """The most runs a search can take (every bracket at full size, every finalist confirmed),
    computed without running anything."""
    st = spec.search

    def bracket(n: int) -> int:
        total, alive, reps = 0, n, st.min_replications
        while True:
            total += alive * reps
            if alive <= st.finalists:
                return total
            alive = max(st.finalists, math.ceil(alive / st.eta))
            reps *= st.eta

    k = sum(c in PARTS for c in spec.channels) + 1  # share channels and block grants
    neighbours = 1 + k * (k - 1) + ("platform" in spec.channels)
    refinements = len(st.refine_moves) * st.refine_iterations
    confirm = (1 + refinements) * st.finalists * st.confirm_replications
    return bracket(st.candidates) + refinements * bracket(neighbours) + confirm


def load_problem(
    path: str | Path,
    budget: float | None = None,
    objective: str | None = None,
    max_runs: int | None = None,
) -> Problem:
    """Read and validate an optimize file; `budget` and `objective` override the file's.

    Args:
        path: The optimize file.
        budget, objective: Override the file's.
        max_runs: Refuse a search that could take more runs (default
            `experiments.engine.spec.MAX_RUNS`), counted before anything runs.

    Raises:
        ScenarioError: naming the file, the field and the problem.
    """
    path = Path(path)
    data = read_yaml(path)
    try:
        spec = OptimizeSpec.model_validate(data)
    except ValidationError as e:
        raise _spec_error(path, e) from None
    if spec.name is not None:
        check_name(spec.name, path)
    check_run_count(planned_runs(spec), max_runs, path, "search")
    budget = budget if budget is not None else spec.budget
    if budget is None or not budget > 0 or not math.isfinite(budget):
        raise ExperimentError(path, "budget", "give a positive budget: 'budget: YUAN' or --budget")
    if budget > MAX_BUDGET:
        raise ExperimentError(
            path, "budget", f"at most {MAX_BUDGET:g} yuan a year (got {budget:g})"
        )
    objective = objective or spec.objective
    if objective not in OBJECTIVES:
        raise ExperimentError(path, "--objective", f"must be one of {', '.join(OBJECTIVES)}")
    scen = (path.parent / spec.scenario).resolve()
    if not scen.exists():
        raise ScenarioError(path, "scenario", f"scenario file not found: {spec.scenario}")
    overrides = [override(k, v) for k, v in spec.constants.items()]
    overrides += [override(k, v) for k, v in spec.set.items()]
    if spec.weeks is not None:
        overrides.append(f"run.weeks={spec.weeks}")
    if spec.warmup_weeks is not None:
        overrides.append(f"run.warmup_weeks={spec.warmup_weeks}")
    try:
        params = load_scenario(scen, overrides).params
    except ScenarioError as e:
        raise ScenarioError(path, "set/constants", f"{e.field}: {e.problem}") from None
    pol, alloc = params.policies, params.funding.allocation
    vi = alloc.venture + alloc.incubation
    venture_share = spec.venture_share
    if venture_share is None:
        venture_share = alloc.venture / vi if vi > 0 else 2 / 3
    base = {
        "time_bank": pol.time_bank.enabled,
        "cultivation": pol.cultivation.enabled,
        "purchase": pol.purchase.enabled,
        "project_purchase": pol.purchase.enabled and pol.purchase.project_purchase,
        "post_purchase": pol.purchase.enabled and pol.purchase.post_purchase,
        "venture": pol.purchase.enabled and pol.purchase.venture,
        "platform": pol.platform.enabled,
        "allocation": alloc.model_dump(),
    }
    return Problem(
        path=path,
        text=read_text(path),
        spec=spec,
        name=spec.name or path.stem,
        scenario=scen,
        budget=float(budget),
        objective=objective,
        parts=tuple(c for c in PARTS if c in spec.channels),
        grid=round(1 / spec.search.step),
        venture_share=float(venture_share),
        base=base,
        measured_weeks=params.run.weeks - params.run.warmup_weeks,
    )


# --------------------------------------------------------------------------- candidates


def round_units(x: np.ndarray, grid: int) -> tuple[int, ...]:
    """Shares (summing to 1) to whole grid units summing to `grid` (largest remainders)."""
    raw = np.asarray(x, dtype=float) * grid
    units = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - units), kind="stable")[: grid - int(units.sum())]:
        units[i] += 1
    return tuple(int(u) for u in units)


def scenario_split(pb: Problem) -> Split:
    """The scenario's own allocation, mapped onto the searched channels (rest: block grants)."""
    a = pb.base["allocation"]
    sh = {
        "procurement": a["procurement"],
        "posts": a["posts"],
        "venture_incubation": a["venture"] + a["incubation"],
        "timebank": a["timebank"],
    }
    x = [sh[c] for c in pb.parts]
    x.append(max(0.0, 1 - sum(x)))
    return Split(
        round_units(np.array(x) / sum(x), pb.grid),
        pb.base["platform"] if pb.searches_platform else None,
    )


def initial_candidates(pb: Problem, n: int, seed: int) -> list[Split]:
    """Anchors (scenario, equal, single-channel splits) and quasi-random splits, `n` in all."""
    k = len(pb.parts)
    on = True if pb.searches_platform else None
    out = [scenario_split(pb)]
    if k:
        out.append(Split(round_units(np.r_[np.ones(k) / k, 0.0], pb.grid), on))
        for i in range(k):
            out.append(Split(tuple(pb.grid if j == i else 0 for j in range(k + 1)), on))
    if pb.searches_platform:
        out.append(Split(out[0].units, not out[0].platform))
    dims = k + (1 if pb.searches_platform else 0)
    if dims:
        m = 1 << max(1, math.ceil(math.log2(4 * n)))
        try:
            from scipy.stats import qmc

            u = qmc.Sobol(dims, scramble=True, rng=np.random.default_rng(seed)).random(m)
        except ImportError:  # scipy is optional: plain pseudo-random splits
            u = np.random.default_rng(seed).random((m, dims))
        for row in u:
            if len(dict.fromkeys(out)) >= n:
                break
            cuts = np.sort(row[:k])
            x = np.diff(np.r_[0.0, cuts, 1.0])  # uniform on the simplex of k + 1 parts
            p = bool(row[k] < 0.5) if pb.searches_platform else None
            out.append(Split(round_units(x, pb.grid), p))
    return list(dict.fromkeys(out))[:n]


def neighbours(pb: Problem, s: Split, move: float) -> list[Split]:
    """The split itself, every split that moves `move` of the budget from one share to
    another, and the split with the platform toggled."""
    m = round(move * pb.grid)
    out = [s]
    n = len(s.units)
    for i in range(n):
        for j in range(n):
            if i != j and s.units[i] >= m:
                u = list(s.units)
                u[i] -= m
                u[j] += m
                out.append(Split(tuple(u), s.platform))
    if s.platform is not None:
        out.append(Split(s.units, not s.platform))
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- running rounds


def round_seed(root_seed: int, bracket: int, rnd: int) -> int:
    """Root seed of one round's experiment: its replications are common to its candidates."""
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(SEED_KEY, bracket, rnd))
    return int(ss.generate_state(1)[0])


def round_experiment(pb: Problem, label: str, cands: list[Split], reps: int, seed: int) -> dict:
    """The experiment file (as a mapping) that runs `cands` x `reps` with common seeds."""
    spec = pb.spec
    sets = {**spec.set, "funding.special_fund": pb.budget, "funding.lottery_fund": 0.0}
    rows = [pb.assignments(c) for c in cands]
    levers = {
        k: {"values": [r[k] for r in rows]}
        for k in rows[0]
        if k.startswith(("funding.", "policies.platform."))
        or any(r[k] != pb.base_value(k) for r in rows)
    }  # a policy switch only where some split changes it (fewer overrides per run)
    exp: dict[str, Any] = {
        "name": f"{pb.name}-{label}",
        "description": f"generated by linkage optimize ({pb.name}, {label}): {len(cands)} splits",
        "scenarios": {pb.scenario.stem: {"file": str(pb.scenario), "set": sets}},
        "levers": levers,
        "design": "lists",
        "replications": reps,
        "root_seed": seed,
        "timeseries": False,
        "constants": dict(spec.constants),
    }
    if spec.weeks is not None:
        exp["weeks"] = spec.weeks
    if spec.warmup_weeks is not None:
        exp["warmup_weeks"] = spec.warmup_weeks
    return exp


@dataclass
class Runner:
    """Runs rounds of an optimization into `<out>/rounds/`, resumably."""

    pb: Problem
    out: Path
    workers: int | None = None
    executor: Any = "local"
    scheduler: str | None = None
    progress: bool | None = None
    command: str | None = None
    log: Callable[[str], None] = print
    max_runs: int | None = None
    runs: int = 0
    ran: int = 0
    errors: int = 0

    def run(self, label: str, cands: list[Split], reps: int, seed: int) -> pd.DataFrame:
        """Run one round; returns its runs (column `point` indexes `cands`)."""
        from experiments.engine.sweep import run_sweep

        folder = self.out / "rounds"
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / f"{label}.yaml"
        text = yaml.safe_dump(
            round_experiment(self.pb, label, cands, reps, seed),
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
        if not file.exists() or file.read_text(encoding="utf-8") != text:
            file.write_text(text, encoding="utf-8")
        exp = load_experiment(file, validate_scenarios=False)
        res = run_sweep(
            exp,
            folder / label,
            workers=self.workers,
            executor=self.executor,
            scheduler=self.scheduler,
            resume=(folder / label / "manifest.json").exists(),
            progress=self.progress,
            command=self.command,
            max_runs=self.max_runs,
        )
        self.runs += res.total
        self.ran += res.ran
        self.errors += res.errors
        if not res.ok:
            raise ExperimentError(file, label, f"every run failed; the first: {res.first_error}")
        runs = pd.read_parquet(folder / label / "runs.parquet")
        if self.pb.metric not in runs.columns:
            raise ExperimentError(
                self.pb.path, "objective", f"the runs have no metric '{self.pb.metric}'"
            )
        bad = runs["status"] != "ok"
        runs.loc[bad, [c for c in runs.columns if c in (self.pb.metric, *REPORTED)]] = np.nan
        return runs.sort_values(["point", "replication"], ignore_index=True)


@dataclass
class Tally:
    """The runs of one candidate within a bracket (or the confirmation round)."""

    split: Split
    values: dict[str, list[float]] = field(default_factory=dict)
    rounds: int = 0
    eliminated_after: int | None = None

    def add(self, rows: pd.DataFrame, metrics: list[str]) -> None:
        """Append one round's runs of this candidate (in replication order)."""
        for m in metrics:
            self.values.setdefault(m, []).extend(
                rows[m].astype(float).tolist() if m in rows else [math.nan] * len(rows)
            )
        self.rounds += 1

    def score(self, metric: str, sign: float) -> float:
        """sign x mean (NaN: a failed run or no need met counts as the worst)."""
        v = np.asarray(self.values.get(metric, []), dtype=float)
        if not len(v) or np.isnan(v).any():
            return -math.inf
        return float(sign * v.mean())


def _metrics(pb: Problem) -> list[str]:
    return list(dict.fromkeys([pb.metric, *REPORTED, *(f"spending_{c}" for c in SPEND)]))


def halving(runner: Runner, cands: list[Split], bracket: int) -> list[Tally]:
    """One successive-halving bracket over `cands`; returns every candidate's tally (finalists
    are those with the most rounds)."""
    pb, st = runner.pb, runner.pb.spec.search
    tallies = [Tally(c) for c in cands]
    alive = list(range(len(cands)))
    reps, rnd = st.min_replications, 0
    while True:
        runs = runner.run(
            f"b{bracket}-r{rnd}",
            [cands[i] for i in alive],
            reps,
            round_seed(pb.spec.root_seed, bracket, rnd),
        )
        for j, i in enumerate(alive):
            tallies[i].add(runs[runs["point"] == j], _metrics(pb))
        ranked = sorted(alive, key=lambda i: -tallies[i].score(pb.metric, pb.sign))
        best = tallies[ranked[0]]
        runner.log(
            f"bracket {bracket} round {rnd}: {len(alive)} splits x {reps} replications; "
            f"leader {pb.label(best.split)} ({pb.metric} {best.score(pb.metric, pb.sign) * pb.sign:.4g})"
        )
        if len(alive) <= st.finalists:
            return tallies
        keep = max(st.finalists, math.ceil(len(alive) / st.eta))
        for i in ranked[keep:]:
            tallies[i].eliminated_after = rnd
        alive = ranked[:keep]
        reps *= st.eta
        rnd += 1


def finalists(tallies: list[Tally], pb: Problem) -> list[int]:
    """Indices of the candidates that ran the bracket's last round, best first."""
    last = max(t.rounds for t in tallies)
    return sorted(
        (i for i, t in enumerate(tallies) if t.rounds == last),
        key=lambda i: -tallies[i].score(pb.metric, pb.sign),
    )


def leader(tallies: list[Tally], pb: Problem) -> Split:
    """The best split of a bracket's last round."""
    return tallies[finalists(tallies, pb)[0]].split


# --------------------------------------------------------------------------- tables


def _share_columns(pb: Problem, s: Split) -> dict[str, Any]:
    sh = pb.shares(s)
    a = pb.assignments(s)
    out = {k: sh[k] for k in (*PARTS, "block_grant")}
    out["venture"] = a["funding.allocation.venture"]
    out["incubation"] = a["funding.allocation.incubation"]
    out["platform"] = s.platform
    return out


def _mean(v: list[float]) -> float:
    a = np.asarray(v, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else math.nan


def explored_table(pb: Problem, brackets: list[list[Tally]]) -> pd.DataFrame:
    """One row per candidate and bracket (the `optimize.csv` table).

    Rounds have their own seeds, so the means of splits eliminated in different rounds are not
    comparable; `gap` is: the paired difference to the bracket's leader over the runs they
    share (the leader ran every round), with its 95% interval, in objective-metric units.
    """
    rows = []
    for b, tallies in enumerate(brackets):
        last = max(t.rounds for t in tallies)
        lead = np.asarray(tallies[finalists(tallies, pb)[0]].values[pb.metric], dtype=float)
        for i, t in enumerate(tallies):
            v = np.asarray(t.values[pb.metric], dtype=float)
            n, m, _, lo, hi = mean_ci(v)
            _, gap, _, glo, ghi = mean_ci(v - lead[: len(v)])
            row = {"bracket": b, "candidate": f"b{b}-c{i:03d}", "label": pb.label(t.split)}
            row.update(_share_columns(pb, t.split))
            row.update(rounds=t.rounds, replications=n, mean=m, ci_low=lo, ci_high=hi)
            row.update(gap=gap, gap_ci_low=glo, gap_ci_high=ghi)
            row.update({k: _mean(t.values[k]) for k in REPORTED})
            row.update(finalist=t.rounds == last, eliminated_after=t.eliminated_after)
            rows.append(row)
    return pd.DataFrame(rows)


def final_table(pb: Problem, tallies: list[Tally], ids: list[str]) -> pd.DataFrame:
    """The confirmed finalists, best first, with paired differences to the best."""
    order = sorted(range(len(tallies)), key=lambda i: -tallies[i].score(pb.metric, pb.sign))
    best = np.asarray(tallies[order[0]].values[pb.metric], dtype=float)
    years = pb.measured_weeks / 52.0
    rows = []
    for rank, i in enumerate(order, 1):
        t = tallies[i]
        v = np.asarray(t.values[pb.metric], dtype=float)
        n, m, _, lo, hi = mean_ci(v)
        d = v - best
        _, dm, dsd, dlo, dhi = mean_ci(d)
        if rank == 1:
            dlo = dhi = 0.0
        row = {"rank": rank, "candidate": ids[i], "label": pb.label(t.split)}
        row.update(_share_columns(pb, t.split))
        row.update(
            replications=n,
            mean=m,
            ci_low=lo,
            ci_high=hi,
            diff_vs_best=dm,
            diff_ci_low=dlo,
            diff_ci_high=dhi,
        )
        row["tied_with_best"] = bool(rank == 1 or (dlo <= 0 <= dhi) or (dsd == 0 and dm == 0))
        row.update({k: _mean(t.values[k]) for k in REPORTED})
        row["spending_total_per_year"] = _mean(t.values["gov_spending_total"]) / years
        for c in SPEND:
            row[f"spending_{c}_per_year"] = _mean(t.values[f"spending_{c}"]) / years
        rows.append(row)
    return pd.DataFrame(rows)


def tied_ranges(pb: Problem, final: pd.DataFrame) -> dict[str, list[float]]:
    """For each share, the lowest and highest value among the splits tied with the best."""
    tied = final[final["tied_with_best"]]
    return {c: [float(tied[c].min()), float(tied[c].max())] for c in (*pb.parts, "block_grant")}


# --------------------------------------------------------------------------- chart


PALETTE = ("#1f5f8b", "#8ecae6", "#e07b39", "#6a994e", "#c9c9c9")


def _shares_panel(bx: Any, pb: Problem, t: pd.DataFrame, legend: bool) -> None:
    """Stacked bars of each row's shares, and a mark where the platform is on."""
    y = np.arange(len(t))
    left = np.zeros(len(t))
    for c, col in zip((*PARTS, "block_grant"), PALETTE, strict=True):
        if c in pb.parts or c == "block_grant":
            name = "venture + incubation" if c == "venture_incubation" else c.replace("_", " ")
            bx.barh(y, t[c], left=left, color=col, label=name)
            left += t[c].to_numpy(dtype=float)
    if pb.searches_platform:
        on = t["platform"].astype(bool).to_numpy()
        bx.scatter(
            np.full(on.sum(), 1.03),
            y[on],
            marker="s",
            color="black",
            s=12,
            clip_on=False,
            label="platform on",
        )
    bx.set_xlim(0, 1.06)
    if legend:
        bx.legend(fontsize="x-small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)


def _gaps_panel(ax: Any, t: pd.DataFrame, col: str, lo: str, hi: str, colors: list[str]) -> None:
    """Paired differences with 95% intervals, one row each (top row first)."""
    y = np.arange(len(t))
    err = np.nan_to_num(np.vstack([t[col] - t[lo], t[hi] - t[col]]))
    for yi, x, e0, e1, c in zip(y, t[col], err[0], err[1], colors, strict=True):
        ax.errorbar([x], [yi], xerr=[[e0], [e1]], fmt="o", color=c, capsize=2, ms=4, lw=1)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, t["label"], fontsize="x-small")
    ax.grid(axis="x", alpha=0.3)


def plot_explored(
    pb: Problem, explored: pd.DataFrame, final: pd.DataFrame, path: Path, top: int = 25
) -> Path:
    """Top: the confirmed splits, paired difference to the best. Bottom: the explored splits
    (best `top` by paired gap to their bracket's leader). Right: their shares."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    conf = final.iloc[::-1].reset_index(drop=True)  # best at the top
    ex = explored.assign(_g=pb.sign * explored["gap"].fillna(-np.inf))
    ex = ex.sort_values(["_g", "replications"], ascending=False).drop_duplicates("label").head(top)
    ex = ex.iloc[::-1].reset_index(drop=True)
    fig = Figure(figsize=(12, 2.8 + 0.27 * (len(conf) + len(ex))), layout="constrained")
    FigureCanvasAgg(fig)
    (a1, b1), (a2, b2) = fig.subplots(
        2, 2, width_ratios=[1, 1.2], height_ratios=[len(conf) + 1.5, len(ex) + 1.5]
    )
    b1.sharey(a1)
    b2.sharey(a2)
    unit = f"{pb.metric} ({'higher' if pb.sign > 0 else 'lower'} is better)"
    colors = ["#1f5f8b" if tied else "#b0b0b0" for tied in conf["tied_with_best"]]
    _gaps_panel(a1, conf, "diff_vs_best", "diff_ci_low", "diff_ci_high", colors)
    a1.set_title(
        f"confirmed on {int(conf['replications'].max())} fresh common seeds: difference to the "
        "best (blue: tied with it)",
        fontsize="small",
    )
    a1.set_xlabel(f"paired difference in {unit}, 95% interval", fontsize="small")
    stage = {True: "#e07b39", False: "#b0b0b0"}
    _gaps_panel(
        a2, ex, "gap", "gap_ci_low", "gap_ci_high", [stage[bool(f)] for f in ex["finalist"]]
    )
    a2.set_title(
        f"explored: {len(explored)} splits in {explored['bracket'].nunique()} brackets; gap to "
        "the bracket's leader on shared seeds (orange: bracket finalist)",
        fontsize="small",
    )
    a2.set_xlabel(f"paired difference in {unit}, 95% interval", fontsize="small")
    _shares_panel(b1, pb, conf, legend=True)
    _shares_panel(b2, pb, ex, legend=False)
    b2.set_xlabel("share of the programme budget", fontsize="small")
    for b in (b1, b2):
        b.tick_params(labelleft=False)
    best = final.iloc[0]
    fig.suptitle(
        f"{pb.name}: {pb.budget:,.0f} yuan/year, objective {pb.metric}; best: {best['label']} "
        f"({best['mean']:.4g}, 95% CI {best['ci_low']:.4g}–{best['ci_high']:.4g})",
        fontsize="medium",
    )
    fig.savefig(path, dpi=120)
    return path


# --------------------------------------------------------------------------- the search


@dataclass
class OptimizeResult:
    """What `run_optimize` found: the confirmed ranking (best first) and every explored split."""

    path: Path
    problem: Problem
    final: pd.DataFrame
    explored: pd.DataFrame
    best: dict[str, Any]
    runs: int
    errors: int
    elapsed_s: float


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from experiments.engine.store import atomic_write_bytes

    text = to_json(data, indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def _settings(pb: Problem) -> dict[str, Any]:
    return {
        "budget": pb.budget,
        "objective": pb.objective,
        "file_sha256": hashlib.sha256(pb.text.encode("utf-8")).hexdigest(),
    }


def run_optimize(
    file: str | Path,
    out: str | Path | None = None,
    *,
    budget: float | None = None,
    objective: str | None = None,
    workers: int | None = None,
    executor: str | Any = "local",
    scheduler: str | None = None,
    resume: bool = False,
    model_fn: Callable[[Any, int], Any] | None = None,
    progress: bool | None = None,
    plots: bool = True,
    log: Callable[[str], None] | None = None,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
) -> OptimizeResult:
    """Search the best split of a fixed annual budget across funding channels.

    Args:
        file: The optimize file (see `experiments/budget_allocation.yaml`).
        out: Results folder (default: a new `results/<name>-<timestamp>`).
        budget: Yuan per year (default: the file's `budget`).
        objective: "satisfaction", "cost_per_need" or "worst_group" (default: the file's).
        workers, executor, scheduler: As for `linkage sweep`.
        resume: Continue an interrupted search in `out` (same file, budget and objective).
        model_fn: Evaluate `model_fn(params, seed)` instead of the simulation (tests).
        progress: Progress bars per round (default: when stderr is a terminal).
        plots: Write `optimize.png`.
        log: Called with one line per round (default: silent).
        command: The command line, for the manifests.
        results_root: Where default folders go.
        max_runs: Refuse a search that could take more runs (default
            `experiments.engine.spec.MAX_RUNS`).

    Returns:
        An `OptimizeResult`; tables and chart are also written into the folder.

    Raises:
        ScenarioError, InputError: bad file, option or results folder, or a folder another
            process is writing.
    """
    from experiments.engine.sweep import default_out

    pb = load_problem(file, budget, objective, max_runs)
    if out is None:
        if resume:
            raise ExperimentError(file, "--resume", "give the folder to resume with --out DIR")
        out = default_out(pb.name, Path(results_root))
    out = check_out(out)
    with FolderLock(out):
        return _optimize_locked(
            pb, out, workers, executor, scheduler, resume, model_fn, progress, plots, log,
            command, max_runs,
        )  # fmt: skip


def _optimize_locked(
    pb: Problem,
    out: Path,
    workers: int | None,
    executor: str | Any,
    scheduler: str | None,
    resume: bool,
    model_fn: Callable[[Any, int], Any] | None,
    progress: bool | None,
    plots: bool,
    log: Callable[[str], None] | None,
    command: str | None,
    max_runs: int | None,
) -> OptimizeResult:
    """`run_optimize` once the folder is checked and this process owns it."""
    from experiments.engine.store import read_manifest

    meta_path = out / META
    if meta_path.exists() and not resume:
        raise ExperimentError(out, "--out", "already holds results; use --resume or another folder")
    if resume:
        if not meta_path.exists():
            raise ExperimentError(out, "--resume", f"no {META} there to resume")
        old = read_manifest(meta_path).get("settings", {})
        if old != _settings(pb):
            raise ExperimentError(
                out, "--resume", f"the folder was started with other settings: {short_repr(old)}"
            )
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "optimize": pb.name,
        "file": str(pb.path.resolve()),
        "file_text": pb.text,
        "settings": _settings(pb),
        "started": _now(),
        "status": "running",
    }
    _write_json(meta_path, meta)
    runner = Runner(
        pb,
        out,
        workers,
        executor,
        scheduler,
        progress,
        command,
        log or (lambda _m: None),
        max_runs=max_runs,
    )
    runner.log(f"results folder: {out}")
    try:
        return _search(pb, out, runner, meta, meta_path, model_fn, executor, scheduler, plots)
    except BaseException as e:
        meta["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        with contextlib.suppress(OSError):
            _write_json(meta_path, meta)
        raise


def _search(
    pb: Problem,
    out: Path,
    runner: Runner,
    meta: dict[str, Any],
    meta_path: Path,
    model_fn: Callable[[Any, int], Any] | None,
    executor: str | Any,
    scheduler: str | None,
    plots: bool,
) -> OptimizeResult:
    """The search itself: brackets, refinement, confirmation, tables and chart."""
    from experiments.analyses.sensitivity import simulation

    st = pb.spec.search
    t0 = time.perf_counter()
    with simulation(model_fn, "dask" if scheduler else executor):
        cands = initial_candidates(pb, st.candidates, round_seed(pb.spec.root_seed, 0, 999))
        brackets = [halving(runner, cands, 0)]
        for move in st.refine_moves:  # compass search: repeat a move size until the leader stays
            for _ in range(st.refine_iterations):
                incumbent = leader(brackets[-1], pb)
                brackets.append(halving(runner, neighbours(pb, incumbent, move), len(brackets)))
                if leader(brackets[-1], pb) == incumbent:
                    break
        pool: dict[Split, str] = {}  # the finalists of every bracket, by first appearance
        for b, tallies in enumerate(brackets):
            for i in finalists(tallies, pb):
                pool.setdefault(tallies[i].split, f"b{b}-c{i:03d}")
        chosen = list(pool)
        runs = runner.run(
            "confirm", chosen, st.confirm_replications, round_seed(pb.spec.root_seed, CONFIRM, 0)
        )
        confirmed = []
        for j, s in enumerate(chosen):
            t = Tally(s)
            t.add(runs[runs["point"] == j], _metrics(pb))
            confirmed.append(t)
    explored = explored_table(pb, brackets)
    final = final_table(pb, confirmed, list(pool.values()))
    write_csv(explored, out / "optimize.csv")
    write_csv(final, out / "optimize_final.csv")
    if plots:
        plot_explored(pb, explored, final, out / "optimize.png")
    top = final.iloc[0]
    best = {
        "label": top["label"],
        "shares": {c: float(top[c]) for c in (*pb.parts, "block_grant")},
        "venture": float(top["venture"]),
        "incubation": float(top["incubation"]),
        "platform": None if top["platform"] is None else bool(top["platform"]),
        "metric": pb.metric,
        "mean": float(top["mean"]),
        "ci": [float(top["ci_low"]), float(top["ci_high"])],
        "replications": int(top["replications"]),
        "tied_share_ranges": tied_ranges(pb, final),
        "n_tied": int(final["tied_with_best"].sum()),
    }
    elapsed = time.perf_counter() - t0
    meta.update(
        status="completed",
        finished=_now(),
        best=best,
        runs=runner.runs,
        runs_failed=runner.errors,
        elapsed_s=round(elapsed, 1),
        candidates_explored=len(explored),
    )
    _write_json(meta_path, meta)
    return OptimizeResult(out, pb, final, explored, best, runner.runs, runner.errors, elapsed)


def format_result(res: OptimizeResult, k: int = 5) -> str:
    """The best split, its interval and the runner-ups, as text for the terminal."""
    pb, b = res.problem, res.best
    fmt = "{:.4g}"
    ties = b["n_tied"] - 1
    ranges = ", ".join(
        f"{SHORT[c]} {lo * 100:.0f}–{hi * 100:.0f}%"
        for c, (lo, hi) in b["tied_share_ranges"].items()
    )
    lines = [
        f"best split for {pb.objective} ({pb.metric}) at {pb.budget:,.0f} yuan/year:",
        f"  {b['label']}",
        f"  {pb.metric} {fmt.format(b['mean'])}  (95% CI {fmt.format(b['ci'][0])} – "
        f"{fmt.format(b['ci'][1])}, {b['replications']} fresh replications)",
        f"  {ties} runner-up{'s are' if ties != 1 else ' is'} statistically tied with it"
        + (f"; shares among the tied splits: {ranges}" if ties else ""),
        "runner-ups: mean, and paired difference to the best with its 95% CI (same seeds, so "
        "much narrower than the level's interval):",
    ]
    for _, r in res.final.iloc[1 : k + 1].iterrows():
        lines.append(
            f"  {int(r['rank'])}. {r['label']}: {fmt.format(r['mean'])} "
            f"({r['diff_vs_best']:+.3g}, {r['diff_ci_low']:+.3g} to {r['diff_ci_high']:+.3g})"
            + ("  tied" if r["tied_with_best"] else "")
        )
    return "\n".join(lines)
