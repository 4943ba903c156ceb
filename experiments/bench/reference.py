"""Reference implementations the benchmark compares the model against (not part of the model).

- `MesaStreet`: the weekly resident update written the textbook agent-based way, one Mesa agent
  per resident, stepped with `shuffle_do` (what `model.residents.Residents` does with numpy).
- `mmc_queue`: a bare SimPy M/M/c queue, one process per customer and a `simpy.Resource` (the
  textbook queue; 6 SimPy events per customer).

Both are written plainly, the way one would without thinking about speed, but without waste:
they are yardsticks, not straw men.
"""

from __future__ import annotations

import bisect
import math
import random
import time

import mesa
import numpy as np
import simpy

from model.needs import Catalog
from model.params import Params
from model.residents import ELDERLY, GENERAL, MINOR, Residents


class ResidentAgent(mesa.Agent):
    """One resident as a Mesa agent: group, age, trust, and a weekly step that does what
    `Residents.weekly_update` plus `Residents.draw_needs` do for the whole population.

    Needs: the resident's weekly need rate over all types, times its expression factor
    (0.5 + trust), as one Bernoulli draw (the rates are small, below 0.06 a week), then the type
    by the catalog's rates for its group. A Bernoulli draw is cheaper than the Poisson draw the
    model makes, so the comparison flatters the reference, if anything.
    """

    def __init__(self, model: MesaStreet, group: int, age: float, trust: float) -> None:
        super().__init__(model)
        self.group = group
        self.age = age
        self.trust = trust

    def step(self) -> None:
        m = self.model
        self.age += 1.0 / 52.0
        self.trust += 0.002 * (m.trust0 - self.trust)
        if m.week % 52 == 51:
            if self.group == GENERAL and self.age >= 60:
                self.group = ELDERLY
            elif self.group == MINOR and self.age >= 18:
                self.group = GENERAL
        if self.random.random() < m.rate[self.group] * (0.5 + self.trust):
            cum = m.cum[self.group]
            k = bisect.bisect_right(cum, self.random.random() * cum[-1])
            m.raised.append((self.unique_id, min(k, len(cum) - 1)))


class MesaStreet(mesa.Model):
    """The reference street: `n` residents as Mesa agents, drawn like `Residents` draws them.

    Args:
        params: Parameters (the street size is `params.street.n_residents`).
        seed: Seed of the model's random streams.
    """

    def __init__(self, params: Params, seed: int = 0) -> None:
        super().__init__(rng=seed)  # Mesa 3.5 deprecates seed=; rng=int is the same on 3.3
        res = Residents(params, np.random.default_rng(seed))
        cat = Catalog.from_params(params)
        self.trust0 = float(params.street.initial_trust)
        self.rate = cat.rates.sum(axis=1).tolist()
        self.cum = [np.cumsum(row).tolist() for row in cat.rates]
        self.week = 0
        self.raised: list[tuple[int, int]] = []
        for g, a, t in zip(res.group.tolist(), res.age.tolist(), res.trust.tolist(), strict=True):
            ResidentAgent(self, g, a, t)

    def step(self) -> None:
        self.raised = []
        self.agents.shuffle_do("step")
        self.week += 1


def mmc_queue(
    customers: int, servers: int = 10, load: float = 0.9, seed: int = 0
) -> dict[str, float]:
    """A bare SimPy M/M/c queue serving `customers` customers; returns its speed.

    One process per customer (arrive, request a `simpy.Resource`, hold it for an exponential
    service time, release), mean service 1 h, Poisson arrivals at `load * servers` per hour:
    6 SimPy events per customer.

    Returns:
        customers, seconds (wall), cpu_seconds, events, per_second (customers per wall second).
    """
    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    lam = load * servers
    served = 0

    def customer():
        nonlocal served
        with desk.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0))
        served += 1

    def source():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer())

    env.process(source())
    t0, c0 = time.perf_counter(), time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    events = next(env._eid)  # SimPy's event counter: events scheduled so far
    return {
        "customers": float(served),
        "seconds": wall,
        "cpu_seconds": cpu,
        "events": float(events),
        "per_second": served / wall if wall > 0 else math.inf,
    }


__all__ = ["MesaStreet", "ResidentAgent", "mmc_queue"]
