"""`LinkageModel`: one street (街道) of communities, one Mesa step per week.

The model holds the shared tables (resident arrays, need catalog and need table), the SimPy
environment (continuous time within a week), the subsystems that own everything else and the
order of a week. Each subsystem owns its state, its part of the week and its records:

- `population` (model.population): communities, need arrival, discovery, venue slots, trust;
- `workforce` (model.workforce): social workers, community workers, staff; hiring, the labour
  pool, block-grant staff and their wages;
- `organizations` (model.organizations): founding, teams, funds, contracts, closure;
- `volunteers` (model.volunteers): activation, records, stars, turnover, participation, and
  its `time_bank` (model.time_bank): rules, ledger, redemption;
- `careers` (model.careers): social workers' turnover, vacancies refilled from the labour
  pool, supervision;
- `gov` (model.finance): the budget year, channel envelopes and all spending;
- `charity` (model.charity): the community charity fund (社会慈善资源), its donors, matching,
  micro-project grants and ledger (off unless the charity policy runs);
- `desk` (model.service): rosters, queues, matching and service (SimPy processes on `env`);
- `recorder` (model.metrics): the weekly time series and the summary.

The order of one step is written once, in `LinkageModel.step`, a comment per phase (Starsim's
loop); `tests/test_model.py` pins it. Policies (model.policies) plug in through one lifecycle:
initialize once, apply each week at phase 2, finalize at the end; they act through the
subsystems' own methods.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from typing import Any

import mesa
import numpy as np
import simpy

from model.agents import WEEK
from model.careers import Careers
from model.charity import Charity
from model.clock import Clock
from model.finance import QUARTER_WEEKS, Government
from model.mesa_compat import RecorderCollector, apply_flat, seed_from
from model.metrics import Recorder
from model.needs import IN_SERVICE, MET, Catalog, NeedTable
from model.organizations import Organizations
from model.params import Params
from model.policies import build_policies
from model.population import Population
from model.residents import V_NONE, Residents
from model.service import ServiceDesk
from model.streams import Streams
from model.time_bank import TimeBank
from model.volunteers import Volunteers
from model.workforce import Workforce

STEP_ORDER = (
    "budget_year",
    "policies",
    "residents",
    "volunteer_turnover",
    "raise_needs",
    "service",
    "close_week",
)
"""The phases of one weekly step, in order."""


@contextlib.contextmanager
def _gc_frozen():
    """Exclude the objects that exist now (the imported libraries, the model as built) from
    Python's cyclic garbage collection while the block runs, and give them back afterwards.

    A run allocates many short-lived objects, so the collector runs often, and each full
    collection walked every object of numpy, pandas, mesa, pydantic...: about a sixth of a run's
    time (docs/performance.md). Objects made during the run are collected as usual; after it,
    `gc.unfreeze` returns the frozen ones to the collector, so nothing leaks. No effect on results.

    The youngest generation is also collected less often (every 20,000 net allocations instead
    of 700): almost everything a run allocates is freed by reference counting, and each young
    collection also scanned the week's live service records (about 5% of a run). The old
    thresholds come back afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class LinkageModel(mesa.Model):
    """The four-society linkage model of one street.

    Mesa's conventions hold (`model.mesa_compat`): flat keyword parameters
    (`LinkageModel(n_residents=10_000, weeks=20, rng=3)`, or dotted paths through `**{...}`),
    `running` turns False after `run.weeks`, and `datacollector` reads the weekly records, so
    `mesa.batch_run(LinkageModel, parameters={...}, ...)` works.

    Args:
        params: Parameters (`Params`, or a mapping validated into one); defaults if None.
        seed: The run's seed; every random stream derives from it.
        rng: Mesa's name for the seed (an int, a SeedSequence or a Generator); give one of the two.
        **flat: Single parameters by field name or dotted path, applied over `params`.
    """

    def __init__(
        self,
        params: Params | dict | None = None,
        *,
        seed: int | None = None,
        rng: Any = None,
        **flat: Any,
    ) -> None:
        if params is None:
            params = Params()
        elif not isinstance(params, Params):
            params = Params.model_validate(params)
        params = apply_flat(params, flat)
        seed = seed_from(seed, rng)
        self.streams = streams = Streams(seed)
        super().__init__(
            rng=np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(1,)))
        )
        self.p = p = params
        self.seed = seed
        self.clock = clock = Clock()
        self.phase_log: list[str] = []
        # The shared tables: residents (people arrays), the need catalog and every need raised.
        self.catalog = Catalog.from_params(p)
        self.needs = NeedTable()
        self.residents = res = Residents(p, streams.get("population"))
        # Continuous time within a week (hours): the service desk's processes run on it.
        self.env = simpy.Environment()
        # The subsystems, wired to what each needs. Mesa agents are created in this order: the
        # government, the communities, then the set-up's providers (unique ids follow it).
        self.desk = ServiceDesk(self.env, p.service, p.street.n_communities, self.needs, streams)
        self.gov = Government(self, p.funding)
        time_bank = TimeBank(res.community, self.catalog.names, self.gov, clock)
        self.population = Population(self, p, res, self.catalog, self.needs, streams, time_bank)
        self.volunteers = Volunteers(self, p, res, self.needs, self.desk, time_bank, streams, clock)
        self.desk.volunteers = self.volunteers  # the desk reports volunteers' services to them
        self.workforce = Workforce(self, p, self.desk, self.population.communities, streams)
        self.organizations = Organizations(
            self, p, res, self.workforce, self.volunteers, self.desk, streams
        )
        # Social workers' turnover, vacancies and supervision (nobody quits unless switched on).
        self.careers = Careers(self, p.careers)
        # The fifth society's charitable channel (off until the charity policy sets it up).
        self.charity = Charity(self)
        self.recorder = Recorder(self)
        # The street as it is at the start (one stream, drawn in this order).
        rng = streams.get("init_providers")
        self.workforce.staff_communities(rng)
        self.organizations.found_initial(rng)
        self.volunteers.enrol_initial(rng)
        self.organizations.recruit_initial_teams()
        self.policies = build_policies(p.policies)
        for pol in self.policies:
            pol.initialize(self)
        self.datacollector = RecorderCollector(self)  # Mesa's interface, no per-step cost

    @property
    def week(self) -> int:
        """The current week (weeks completed so far)."""
        return self.clock.week

    # ================================================================== the step
    def step(self) -> None:
        """Advance one week: the phases of STEP_ORDER, in order, each calling the subsystem that
        owns that part of the week."""
        week = self.week
        self.phase_log.clear()
        # 1. budget_year: at a year's first week the government opens its budget envelopes
        #    (policies' overheads off the top) and the residents' committees staff up with
        #    their block grants.
        if week % 52 == 0:
            self.gov.open_budget_year(week // 52, (pol.overhead(self) for pol in self.policies))
            self.workforce.staff_block_grants(self.gov.remaining("block_grant"))
        elif week % QUARTER_WEEKS == 0:  # weeks 13, 26 and 39 of the year
            # Budget execution: what a channel cannot use moves to the fallback channel; the
            # residents' committees re-staff with what block grants now hold.
            weeks_left = 52 - week % 52
            self.gov.review_quarter(week % 52, (pol.committed(self) for pol in self.policies))
            self.workforce.staff_block_grants(self.gov.remaining("block_grant"), weeks_left)
        self.phase_log.append("budget_year")
        # 2. policies: each active policy acts through the subsystems it concerns
        #    (procurement, meetings, surveys, training...).
        for pol in self.policies:
            pol.apply(self)
        self.phase_log.append("policies")
        # 3. residents: everyone ages a week, trust relaxes (vectorized).
        self.population.age(week)
        self.phase_log.append("residents")
        # 4. volunteer_turnover: dropouts by hazard, recruits by propensity and trust; social
        #    workers quit (when turnover is on) and vacant posts are refilled.
        self.volunteers.turnover(week)
        self.careers.turnover(week)
        self.phase_log.append("volunteer_turnover")
        # 5. raise_needs: new needs, discovery of hidden needs, venue slots; the needs due
        #    this week are posted to the desk after its matching delay.
        self.desk.schedule(self.population.raise_needs(week, self.desk.matching_delay))
        self.phase_log.append("raise_needs")
        # 6. service: SimPy runs the week (matching, queueing, reneging, service, ratings,
        #    volunteers' records and time-bank deposits and redemptions).
        self.env.run(until=(week + 1) * WEEK)
        self.phase_log.append("service")
        # 7. close_week: overdue needs abandoned, trust moves with the week's outcomes, dormant
        #    credits expire, block-grant staff are paid, organizations close their books and
        #    keep up their teams (or exit), the week is recorded and the weekly counters start
        #    again.
        self.desk.expire(self.population.abandon_overdue(week))
        met, abandoned = self.desk.outcomes()
        self.population.apply_outcomes(met, abandoned)
        self.volunteers.time_bank.expire_dormant(week)
        self.workforce.pay_block_staff(self.gov)
        self.organizations.close_books()
        self.organizations.upkeep(week)
        self.recorder.record_week(met, abandoned)
        if (week + 1) % 52 == 0:
            self.gov.close_year()  # unspent money is returned
        self.desk.reset_week()
        self.volunteers.time_bank.reset_week()
        self.gov.reset_week()
        self.phase_log.append("close_week")
        self.clock.advance()
        self.running = self.week < self.p.run.weeks  # Mesa's stop signal

    def run(self, weeks: int | None = None) -> None:
        """Run `weeks` steps (default: the remaining weeks of `run.weeks`), then finalize."""
        end = self.p.run.weeks if weeks is None else self.week + weeks
        with _gc_frozen():
            while self.week < end:
                self.step()
        if self.week >= self.p.run.weeks:
            self.finalize()

    def finalize(self) -> None:
        """Let each policy act once after the last week."""
        for pol in self.policies:
            pol.finalize(self)

    # ================================================================== results
    def summary(self) -> dict[str, float]:
        """Summary metrics after the warm-up (the contract of DESIGN.md)."""
        return self.recorder.summary()

    def timeseries(self):
        """Weekly metrics as a pandas DataFrame."""
        return self.recorder.timeseries()


_MOVED = {
    "MEAN_TENURE_YEARS": ("model.volunteers", "MEAN_TENURE_YEARS"),
    "BASE_DISCOVERY": ("model.population", "BASE_DISCOVERY"),
}


def __getattr__(name: str):
    """Deprecated import paths: constants that moved to the subsystem owning them."""
    if name in _MOVED:
        module, attr = _MOVED[name]
        warnings.warn(
            f"model.model.{name} is deprecated: import it from {module}",
            DeprecationWarning,
            stacklevel=2,
        )
        import importlib

        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LinkageModel", "STEP_ORDER", "IN_SERVICE", "MET", "V_NONE"]
