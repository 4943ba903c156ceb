"""Validation: the model reproduces what is known, and says how sure it is.

Three kinds of checks, each a function returning `Row`s (name, target, measured, tolerance,
pass), which `linkage validate-model` prints as a table:

- **Analytic queues.** `scenarios/validation/mmc.yaml` reduces the service flow to the textbook
  M/M/c queue (one community, one need type served only by c always-on social workers, Poisson
  arrivals, exponential service, no policies); `mmc_abandon.yaml` adds exponential patience
  (M/M/c+M, Erlang A). Replications with independent seeds are compared against the Erlang C
  formulas and against the numerically solved birth-death chain of Erlang A, and Little's law
  L_q = lambda W_q ties the live queue (sampled inside the SimPy run) to the need table.
- **Time-bank ledger.** Every deposit, redemption and expiry is recorded per account while the
  model runs (`LedgerAudit`); deposited - redeemed - expired must equal the balance of every
  account and of the whole bank.
- **Calibration.** Volunteer retention, registered and active volunteers, hours per registered
  volunteer and time-bank flows against the published figures of `docs/sources.md`
  (sources in `docs/validation.md`).

Statistical tolerance: a check passes when |mean(measured - target)| <= 3.5 standard errors of
the mean over replications (the SE is estimated from the replications themselves). For a
correct model, a normal mean falls outside 3.5 SE with probability 0.05%; with the t
distribution of 10-20 replications the chance is 0.2-0.7% per check. That keeps false alarms
rare over a table of about a dozen statistical checks (queue tests here once failed a 95%
interval by chance, see shared/NOTES.md), while a systematic error of a few percent still shows.
Seeds derive from one root seed, so the table is reproducible on any machine.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from experiments.engine.resources import scenarios_dir

SCENARIOS = scenarios_dir()
VALIDATION_DIR = SCENARIOS / "validation"
WEEK = 168.0
SE_TOL = 3.5
"""Tolerance of statistical checks, in standard errors of the mean over replications."""

CALIBRATION_STREET = ("street.n_residents=10000", "street.n_communities=5")
"""Calibration runs use a 10,000-resident street of 5 communities (volunteer and time-bank
figures are per capita, so the street's size does not matter beyond noise)."""


# ====================================================================== rows and settings
@dataclass
class Row:
    """One validation check.

    Attributes:
        group: 'analytic', 'ledger' or 'calibration'.
        name: What is checked.
        target: The known value (formula, published figure, or the centre of a published range).
        measured: What the model gives (mean over replications).
        tolerance: Allowed |measured - target| (for ranges: half the range width).
        passed: Whether the check passes.
        note: How the target and tolerance were set (source, replications, SE).
    """

    group: str
    name: str
    target: float
    measured: float
    tolerance: float
    passed: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict (for JSON output)."""
        d = asdict(self)
        d["pass"] = d.pop("passed")
        return d


@dataclass(frozen=True)
class Settings:
    """How much simulation the checks spend.

    Attributes:
        queue_reps: Replications per queueing case.
        queue_weeks: Measured weeks per queueing replication (after 2 weeks of warm-up).
        calib_reps: Replications per calibration scenario.
        calib_weeks: Length of a calibration run (weeks; the first 52 are warm-up).
        ledger_weeks: Length of each time-bank ledger run (two runs).
        pattern_reps: Replications of each patterns configuration (default street).
        pattern_weeks: Length of a patterns run (weeks; the first 52 are warm-up).
        bounds_reps: Replications of the 10-year full-linkage run (P14; 0 skips it).
        bounds_weeks: Length of that run (weeks).
        workers: Processes running replications (1: in this process).
        root_seed: Seed from which every replication seed is spawned.
        loads: (c, rho) pairs of the Erlang C cases.
    """

    queue_reps: int = 30
    queue_weeks: int = 12
    calib_reps: int = 4
    calib_weeks: int = 156
    ledger_weeks: int = 60
    pattern_reps: int = 6
    pattern_weeks: int = 104
    bounds_reps: int = 3
    bounds_weeks: int = 520
    workers: int = 1
    root_seed: int = 20240909
    loads: tuple[tuple[int, float], ...] = ((5, 0.5), (5, 0.8), (5, 0.9), (3, 0.8))
    abandon_cases: tuple[tuple[int, float, float], ...] = field(default=((5, 1.0, 2.0),))


FULL = Settings()
QUICK = Settings(
    queue_reps=16,
    queue_weeks=6,
    calib_reps=3,
    calib_weeks=130,
    ledger_weeks=40,
    pattern_reps=4,
    bounds_reps=0,
    loads=((5, 0.5), (5, 0.8), (5, 0.9)),
)


def seeds(root: int, n: int, key: int = 0) -> list[int]:
    """`n` independent replication seeds spawned from `root` (and a key per case)."""
    ss = np.random.SeedSequence(entropy=root, spawn_key=(key,))
    return [int(c.generate_state(1)[0]) for c in ss.spawn(n)]


_JOB: tuple[Callable[[Any], Any], list[Any]] | None = None


def _call(i: int) -> Any:
    fn, items = _JOB  # type: ignore[misc]  # set in the parent before the fork
    return fn(items[i])


def run_parallel(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 1) -> list[Any]:
    """`[fn(x) for x in items]`, in `workers` forked processes when workers > 1 (order kept).

    With the fork start method the children inherit `fn` and `items`, so neither needs to be
    picklable (closures are fine); only the results travel back.
    """
    global _JOB
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        with multiprocessing.get_context().Pool(min(workers, len(items))) as pool:
            return pool.map(fn, items, chunksize=1)
    _JOB = (fn, items)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(items))) as pool:
            return pool.map(_call, range(len(items)), chunksize=1)
    finally:
        _JOB = None


def mean_se(x: Iterable[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (SE 0 for fewer than two values)."""
    a = np.asarray(list(x), dtype=float)
    if len(a) < 2:
        return float(a.mean()) if len(a) else float("nan"), 0.0
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a)))


def stat_row(
    group: str,
    name: str,
    measured: Iterable[float],
    target: Iterable[float],
    note: str = "",
    min_tol: float = 0.0,
) -> Row:
    """A statistical check: mean over replications of (measured - target) within 3.5 SE of 0.

    Args:
        group: Row group.
        name: What is checked.
        measured: One measurement per replication.
        target: The formula's value for each replication (its own arrival rate, say).
        note: Extra text for the note column.
        min_tol: Least tolerance (for checks with few replications, whose SE is itself noisy).
    """
    m = np.asarray(list(measured), dtype=float)
    t = np.asarray(list(target), dtype=float)
    diff_mean, diff_se = mean_se(m - t)
    tol = max(SE_TOL * diff_se, min_tol)
    ok = bool(np.isfinite(diff_mean) and abs(diff_mean) <= tol)
    text = f"{len(m)} reps, SE {diff_se:.3g}"
    if min_tol > 0:
        text += f", tolerance at least {min_tol:g}"
    return Row(
        group, name, float(t.mean()), float(m.mean()), tol, ok, f"{text}; {note}" if note else text
    )


def range_row(
    group: str, name: str, measured: Iterable[float], lo: float, hi: float, note: str = ""
) -> Row:
    """A calibration check against a published range [lo, hi] (the mean over replications must
    fall inside; the row shows the range's centre and half-width)."""
    m, se = mean_se(measured)
    ok = bool(lo <= m <= hi)
    return Row(
        group,
        name,
        (lo + hi) / 2,
        m,
        (hi - lo) / 2,
        ok,
        f"range [{lo:g}, {hi:g}]; SE {se:.3g}; {note}".rstrip("; "),
    )


# ====================================================================== queueing formulas
def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival waits in an M/M/c queue with offered load a = lam/mu.

    Uses the stable Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)).
    """
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def mmc(lam: float, mu: float, c: int) -> dict[str, float]:
    """Stationary M/M/c metrics (Erlang C).

    Args:
        lam: Arrival rate (per hour).
        mu: Service rate of one server (per hour).
        c: Servers.

    Returns:
        p_wait (an arrival waits), wq (mean wait in queue), lq (mean number waiting), util
        (server utilization rho = lam / (c mu)).
    """
    a = lam / mu
    if a >= c:
        raise ValueError(f"unstable queue: rho = {a / c:.3f} >= 1")
    pw = erlang_c(c, a)
    wq = pw / (c * mu - lam)
    return {"p_wait": pw, "wq": wq, "lq": lam * wq, "util": a / c, "p_abandon": 0.0}


def mmc_abandon(
    lam: float, mu: float, c: int, theta: float, tail: float = 1e-16
) -> dict[str, float]:
    """Stationary M/M/c+M (Erlang A) metrics from the birth-death chain, solved numerically.

    States n = needs in the system; births at rate lam; deaths at min(n, c) mu + max(n - c, 0)
    theta (service plus abandonment of each waiting need). The state space is truncated where
    the stationary probability falls below `tail` relative to its largest value.

    Args:
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Servers.
        theta: Abandonment rate of one waiting need (1 / mean patience).
        tail: Truncation threshold.

    Returns:
        p_wait (an arrival finds all servers busy, by PASTA), p_abandon (= theta L_q / lam),
        wq (mean time in queue over all arrivals, = L_q / lam by Little's law), lq, util
        (mean busy servers / c).
    """
    if theta <= 0:
        return mmc(lam, mu, c)
    logp = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        logp.append(logp[-1] + math.log(lam / death))
        if n > c and death > lam and logp[-1] - max(logp) < math.log(tail):
            break
    lp = np.array(logp)
    p = np.exp(lp - lp.max())
    p /= p.sum()
    states = np.arange(len(p))
    lq = float((np.maximum(states - c, 0) * p).sum())
    return {
        "p_wait": float(p[c:].sum()),
        "p_abandon": theta * lq / lam,
        "wq": lq / lam,
        "lq": lq,
        "util": float((np.minimum(states, c) * p).sum()) / c,
    }


# ====================================================================== queue scenarios
def queue_params(
    scenario: str = "mmc.yaml",
    c: int = 5,
    rho: float = 0.8,
    weeks: int = 8,
    warmup: int = 2,
    patience: float | None = None,
    extra: Iterable[str] = (),
):
    """Params of a validation queue scenario with c servers at offered load rho (at trust 0.5).

    The need rate per 1,000 residents per week is set so that lam = rho c mu per hour when the
    expression factor 0.5 + trust is 1; the realized trust makes it slightly different, so the
    checks use each run's own arrival rate (`design_rate`).

    Args:
        scenario: File under scenarios/validation/.
        c: Social workers (servers).
        rho: Offered load lam / (c mu) at trust 0.5.
        weeks: Measured weeks (after the warm-up).
        warmup: Warm-up weeks (the queue starts empty).
        patience: Mean patience in hours (None: the scenario's).
        extra: More `a.b=VALUE` overrides.
    """
    from experiments.engine.scenarios import apply_overrides, build_params, resolve
    from model.params import default_needs

    path = VALIDATION_DIR / scenario
    data = resolve(path)
    # The scenario's `needs:` edits the default catalog; its one non-null entry is the queue's
    # need type, and every default type it does not name is removed too (future defaults).
    need = next(k for k, v in data["needs"].items() if v is not None)
    data["needs"].update({k: None for k in default_needs() if k not in data["needs"]})
    hours = float(data["needs"][need]["hours"])
    n_res = int(data["street"]["n_residents"])
    rate = rho * c / hours * WEEK * 1000.0 / n_res
    over = [
        f"providers.embedded_core_sw={c}",
        f"run.weeks={weeks + warmup}",
        f"run.warmup_weeks={warmup}",
        *(f"needs.{need}.rates.{g}={rate!r}" for g in data["needs"][need]["rates"]),
    ]
    if patience is not None:
        over.append(f"needs.{need}.patience={patience!r}")
    params = build_params(apply_overrides(data, [*over, *extra]), path)
    # The model hires social workers only from the street's labour pool: more servers than the
    # pool would be silently fewer servers, and the queue checked would not be M/M/c.
    pp = params.providers
    pool = pp.sw_per_10k * params.street.n_residents / 10_000.0
    asked = pp.embedded_orgs * pp.embedded_core_sw
    if asked > pool + 1e-9:
        from experiments.engine.errors import ScenarioError

        raise ScenarioError(
            path,
            "providers.embedded_core_sw",
            f"the queue asks for {asked} servers but the labour pool holds {pool:g} social "
            "workers (providers.sw_per_10k x street.n_residents / 10,000); raise "
            "providers.sw_per_10k",
        )
    return params


def design_rate(model) -> float:
    """The arrival rate (needs per hour) the model's need process has right now: the sum over
    residents of their need rate times their expression factor 0.5 + trust (`Residents.draw_needs`
    thins a Poisson process by (0.5 + trust) / 1.5, so the result is again Poisson)."""
    res = model.residents
    per_res = model.catalog.rates.sum(axis=1)[res.group]
    return float((per_res * (0.5 + res.trust.astype(float))).sum() / WEEK)


def providers_census(model) -> dict[str, int]:
    """Providers on the roster by agent class (the analytic cases want only social workers)."""
    from model.agents import Provider

    out: dict[str, int] = {}
    for a in model.agents:
        if isinstance(a, Provider) and a.on_roster:
            out[type(a).__name__] = out.get(type(a).__name__, 0) + 1
    return out


def measure_queue(params, seed: int, sample_dt: float = 0.5) -> dict[str, float]:
    """Run one replication of a validation queue and measure it.

    The measurement window is [warm-up end, run end - 24 h): needs raised in it form the cohort
    (the last day lets the cohort finish waiting). A SimPy process samples the live queue (needs
    WAITING whose patience has not run out) every `sample_dt` hours from a random phase, which
    gives the time-average queue length L_q independently of the need table.

    Returns:
        lam_design, lam (realized arrivals / window), p_wait, wq (mean time in queue of all
        arrivals, abandoned ones until they gave up), lq (sampled), p_abandon, util (busy
        share of the c servers from service intervals), c, mu, unfinished (cohort needs still
        waiting at the end).
    """
    from model import LinkageModel
    from model.agents import SocialWorker
    from model.needs import ABANDONED, IN_SERVICE, MET, WAITING

    m = LinkageModel(params, seed=seed)
    p = m.p
    t0 = p.run.warmup_weeks * WEEK
    t_end = p.run.weeks * WEEK
    t1 = t_end - 24.0
    lam_start = design_rate(m)
    nt = m.needs
    samples: list[int] = []
    phase = float(np.random.default_rng(seed).random()) * sample_dt

    def sampler():
        env = m.desk.env
        yield env.timeout(t0 + phase)
        while env.now < t1:
            n = nt.n
            st = nt.status[:n]
            samples.append(int(((st == WAITING) & (nt.deadline[:n] > env.now)).sum()))
            yield env.timeout(sample_dt)

    m.desk.env.process(sampler())
    m.run()
    lam_end = design_rate(m)
    c = len(m.agents_by_type.get(SocialWorker, ()))
    mu = 1.0 / float(m.catalog.hours.mean())
    tr = nt.view("t_raise")
    st = nt.view("status")
    cohort = np.flatnonzero((tr >= t0) & (tr < t1))
    s = st[cohort]
    left = np.where(
        np.isin(s, (MET, IN_SERVICE)),
        nt.t_start[cohort],
        np.where(s == ABANDONED, nt.t_end[cohort], t_end),
    )
    wait = left - tr[cohort]
    # Busy time of the servers inside the window, from every need's service interval.
    served = np.isin(st, (MET, IN_SERVICE))
    a = nt.view("t_start")[served]
    b = np.where(st[served] == MET, nt.view("t_end")[served], t_end)
    busy = np.clip(np.minimum(b, t1) - np.maximum(a, t0), 0.0, None).sum()
    span = t1 - t0
    return {
        "lam_design": 0.5 * (lam_start + lam_end),
        "lam": len(cohort) / span,
        "n": float(len(cohort)),
        "p_wait": float((wait > 1e-9).mean()),
        "wq": float(wait.mean()),
        "lq": float(np.mean(samples)),
        "p_abandon": float((s == ABANDONED).mean()),
        "util": float(busy / (c * span)) if c else float("nan"),
        "c": float(c),
        "mu": mu,
        "unfinished": float((s == WAITING).sum()),
    }


def _measure_case(args: tuple) -> dict[str, float]:
    params, seed = args
    return measure_queue(params, seed)


def queue_rows(settings: Settings = FULL) -> list[Row]:
    """Erlang C (M/M/c) and Erlang A (M/M/c+M) checks, plus Little's law, over replications."""
    rows: list[Row] = []
    cases: list[tuple[str, Any, Callable[[dict], dict], tuple[str, ...]]] = []
    for c, rho in settings.loads:
        pars = queue_params("mmc.yaml", c=c, rho=rho, weeks=settings.queue_weeks)
        cases.append(
            (
                f"M/M/{c} rho={rho:g}",
                pars,
                lambda r: mmc(r["lam_design"], r["mu"], int(r["c"])),
                ("p_wait", "wq", "util"),
            )
        )
    for c, rho, patience in settings.abandon_cases:
        pars = queue_params(
            "mmc_abandon.yaml", c=c, rho=rho, weeks=settings.queue_weeks, patience=patience
        )
        theta = 1.0 / patience
        cases.append(
            (
                f"M/M/{c}+M rho={rho:g} patience={patience:g}h",
                pars,
                lambda r, th=theta: mmc_abandon(r["lam_design"], r["mu"], int(r["c"]), th),
                ("p_abandon", "p_wait", "wq"),
            )
        )
    jobs = []
    for k, (_, pars, _, _) in enumerate(cases):
        jobs += [(pars, s) for s in seeds(settings.root_seed, settings.queue_reps, key=k + 1)]
    results = run_parallel(_measure_case, jobs, settings.workers)
    labels = {
        "p_wait": "P(wait)",
        "wq": "mean wait W_q (h)",
        "util": "utilization",
        "p_abandon": "abandonment share",
    }
    lam_m: list[float] = []
    lam_t: list[float] = []
    for k, (label, _, formula, keys) in enumerate(cases):
        reps = results[k * settings.queue_reps : (k + 1) * settings.queue_reps]
        theory = [formula(r) for r in reps]
        for key in keys:
            rows.append(
                stat_row(
                    "analytic",
                    f"{label}: {labels[key]}",
                    [r[key] for r in reps],
                    [t[key] for t in theory],
                    "Erlang formula at each run's own arrival rate",
                )
            )
        rows.append(
            stat_row(
                "analytic",
                f"{label}: Little L_q = lam W_q",
                [r["lq"] for r in reps],
                [r["lam"] * r["wq"] for r in reps],
                "L_q sampled from the live queue",
            )
        )
        lam_m += [r["lam"] / r["lam_design"] for r in reps]
        lam_t += [1.0] * len(reps)
    rows.append(
        stat_row(
            "analytic",
            "arrivals: realized / design rate (Poisson thinning by trust)",
            lam_m,
            lam_t,
            "all queue runs",
        )
    )
    return rows


# ====================================================================== time-bank ledger
class LedgerAudit:
    """Per-account time-bank ledger recorded while a model runs.

    Wraps, on the instances, the volunteers' `served` (a service's deposit), the time bank's
    `redeem` and its `expire_dormant`, so every change of an account is attributed to a deposit,
    a redemption or an expiry and checked event by event:

    - a deposit is min(hours served, cap - balance) when the bank is on, the need type is
      bankable and the need's resident is one of the bank's registered recipients, else 0;
    - a redemption is min(need hours, balance), or 0 when credits are not portable and the
      provider works in another community;
    - an expiry empties a whole account that has been dormant for `expiry_weeks`.

    Any other change of a balance shows as a gap between the balance and the audit's own
    per-account sums (`account_gap`).

    Args:
        model: A model not yet run.
    """

    def __init__(self, model) -> None:
        self.model = m = model
        bank = m.volunteers.time_bank
        n = m.residents.n
        self.deposited = np.zeros(n)
        self.redeemed = np.zeros(n)
        self.expired = np.zeros(n)
        self.errors: list[str] = []
        self.events = {"deposits": 0, "redemptions": 0, "expiries": 0}
        served, redeem, expire = m.volunteers.served, bank.redeem, bank.expire_dormant

        def volunteer_served(v, hours, rating, nid=-1):
            r = v.resident
            before = float(bank.balance[r])
            served(v, hours, rating, nid)
            dep = float(bank.balance[r]) - before
            bankable = nid < 0 or bool(
                bank.bankable[m.needs.ntype[nid]] and bank.recipient[m.needs.resident[nid]]
            )
            expect = min(hours, max(0.0, bank.cap - before)) if bank.enabled and bankable else 0.0
            if abs(dep - expect) > 1e-9:
                self._error(
                    f"week {m.week}: deposit {dep:.6f} h for resident {r}, expected {expect:.6f}"
                )
            self.deposited[r] += dep
            self.events["deposits"] += dep > 0

        def timebank_redeem(r, hours, s):
            before = float(bank.balance[r])
            redeem(r, hours, s)
            red = before - float(bank.balance[r])
            same = bank.portable or s.community == m.residents.community[r]
            expect = min(hours, before) if same else 0.0
            if abs(red - expect) > 1e-9:
                self._error(
                    f"week {m.week}: redemption {red:.6f} h by resident {r}, expected {expect:.6f}"
                )
            self.redeemed[r] += red
            self.events["redemptions"] += red > 0

        def expire_dormant(week):
            before = bank.balance.copy()
            last = bank.last_active.copy()
            expire(week)
            drop = before - bank.balance
            changed = np.flatnonzero(np.abs(drop) > 0)
            if len(changed):
                if bank.expiry_weeks <= 0 or (week - last[changed] < bank.expiry_weeks).any():
                    self._error(f"week {week}: balances expired on accounts not dormant")
                if np.abs(bank.balance[changed]).max() > 0:
                    self._error(f"week {week}: an expiry left credit on the account")
            self.expired += drop
            self.events["expiries"] += len(changed)

        m.volunteers.served = volunteer_served
        bank.redeem = timebank_redeem
        bank.expire_dormant = expire_dormant

    def _error(self, text: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(text)

    def account_gap(self) -> np.ndarray:
        """balance - (deposited - redeemed - expired) for every account."""
        balance = self.model.volunteers.time_bank.balance
        return balance - (self.deposited - self.redeemed - self.expired)

    def violations(self) -> list[str]:
        """Every ledger problem found (empty when the books balance)."""
        bank = self.model.volunteers.time_bank
        tb = bank.totals
        out = list(self.errors)
        gap = np.abs(self.account_gap())
        scale = max(1.0, float(self.deposited.sum()))
        if gap.max(initial=0.0) > 1e-9 * scale:
            r = int(gap.argmax())
            out.append(
                f"account {r}: balance {bank.balance[r]:.6f} != deposited - redeemed - expired ({gap[r]:.3g} off)"
            )
        for key, arr in (
            ("deposited", self.deposited),
            ("redeemed", self.redeemed),
            ("expired", self.expired),
        ):
            if abs(tb[key] - arr.sum()) > 1e-9 * scale:
                out.append(f"bank total {key} {tb[key]:.6f} != sum over accounts {arr.sum():.6f}")
        total = tb["deposited"] - tb["redeemed"] - tb["expired"]
        if abs(float(bank.balance.sum()) - total) > 1e-9 * scale:
            out.append("bank balance != deposited - redeemed - expired")
        return out


def ledger_params(weeks: int = 60, extra: Iterable[str] = ()):
    """Params of `scenarios/validation/timebank_ledger.yaml` (a time bank under stress)."""
    from experiments.engine.scenarios import apply_overrides, build_params, resolve

    path = VALIDATION_DIR / "timebank_ledger.yaml"
    return build_params(apply_overrides(resolve(path), [f"run.weeks={weeks}", *extra]), path)


def audit_run(params, seed: int) -> tuple[Any, LedgerAudit]:
    """Run a model under a `LedgerAudit`; returns both."""
    from model import LinkageModel

    m = LinkageModel(params, seed=seed)
    audit = LedgerAudit(m)
    m.run()
    return m, audit


def _ledger_case(args: tuple) -> dict[str, Any]:
    params, seed = args
    m, audit = audit_run(params, seed)
    return {
        "gap": float(np.abs(audit.account_gap()).max(initial=0.0)),
        "violations": audit.violations(),
        "events": dict(audit.events),
        "deposited": float(m.volunteers.time_bank.totals["deposited"]),
    }


def ledger_rows(settings: Settings = FULL) -> list[Row]:
    """The time bank's books balance per account and in total (a run with deposits, cap hits,
    redemptions and expiries)."""
    jobs = [
        (ledger_params(settings.ledger_weeks), s) for s in seeds(settings.root_seed, 2, key=100)
    ]
    out = run_parallel(_ledger_case, jobs, settings.workers)
    gap = max(o["gap"] for o in out)
    tol = 1e-9 * max(1.0, max(o["deposited"] for o in out))
    viol = [v for o in out for v in o["violations"]]
    ev = {k: sum(o["events"][k] for o in out) for k in ("deposits", "redemptions", "expiries")}
    exercised = all(v > 0 for v in ev.values())
    note = f"{len(out)} runs of scenarios/validation/timebank_ledger.yaml; {ev['deposits']} deposits, {ev['redemptions']} redemptions, {ev['expiries']} expiries checked one by one"
    if viol:
        note += "; " + viol[0]
    if not exercised:
        note += "; not every flow occurred"
    name = "time bank: max |balance - (deposited - redeemed - expired)| over accounts (h)"
    return [Row("ledger", name, 0.0, gap, tol, gap <= tol and not viol and exercised, note)]


# ====================================================================== calibration
def _calib_case(args: tuple) -> dict[str, Any]:
    rel, overrides, seed = args
    from experiments.engine.scenarios import load_scenario
    from model import LinkageModel

    sc = load_scenario(SCENARIOS / rel, list(overrides))
    m = LinkageModel(sc.params, seed=seed)
    m.run()
    s = m.summary()
    ts = m.timeseries()
    y1 = ts[ts["week"] < 52]
    y2 = ts[ts["week"] < 104]
    n_res = sc.params.street.n_residents
    return {
        "summary": s,
        "registered_share": s["registered_volunteers"] / n_res,
        "active_share": s["active_volunteers"] / s["registered_volunteers"]
        if s["registered_volunteers"]
        else float("nan"),
        "y1_deposit_per_registered": float(
            y1["timebank_hours_deposited"].sum() / y1["registered_volunteers"].mean()
        )
        if y1["registered_volunteers"].mean() > 0
        else float("nan"),
        "y2_redeem_ratio": float(
            y2["timebank_hours_redeemed"].sum() / y2["timebank_hours_deposited"].sum()
        )
        if y2["timebank_hours_deposited"].sum() > 0
        else float("nan"),
    }


def calibration_rows(settings: Settings = FULL) -> list[Row]:
    """Volunteer and time-bank figures of the model against the published targets.

    Runs `scenarios/base.yaml` on a 10,000-resident street with paired seeds: as it is (star
    rating and recognition on), with volunteer management off, with it off and no tenure effect
    (the hazard mechanism alone), and with the time bank switched on.
    """
    n = settings.calib_reps
    street = (*CALIBRATION_STREET, f"run.weeks={settings.calib_weeks}", "run.warmup_weeks=52")
    ss = seeds(settings.root_seed, n, key=200)
    configs = [
        ("base.yaml", (*street, "policies.volunteer_mgmt.enabled=false")),
        ("base.yaml", street),
        (
            "base.yaml",
            (*street, "policies.volunteer_mgmt.enabled=false", "volunteers.tenure_effect=0"),
        ),
        ("base.yaml", (*street, "policies.time_bank.enabled=true")),
    ]
    jobs = [(rel, ov, s) for rel, ov in configs for s in ss]
    out = run_parallel(_calib_case, jobs, settings.workers)
    off, on, flat, tb = (out[k * n : (k + 1) * n] for k in range(4))
    rows: list[Row] = []
    ret_off = [o["summary"]["volunteer_retention_annual"] for o in off]
    ret_on = [o["summary"]["volunteer_retention_annual"] for o in on]
    m_off, se_off = mean_se(ret_off)
    rows.append(
        Row(
            "calibration",
            "annual volunteer retention, no recognition (base, volunteer_mgmt off)",
            0.65,
            m_off,
            0.05,
            abs(m_off - 0.65) <= 0.05,
            f"{n} reps, SE {se_off:.3f}; CNCS / Hager & Brudney 2004: about 65% of volunteers return next year; tolerance 0.05",
        )
    )
    rows.append(
        stat_row(
            "calibration",
            "hazard mechanism: retention with tenure_effect=0 equals retention_annual",
            [o["summary"]["volunteer_retention_annual"] for o in flat],
            [0.65] * n,
            "base, volunteer_mgmt off, volunteers.tenure_effect=0",
            min_tol=0.01,
        )
    )
    d_mean, d_se = mean_se(np.subtract(ret_on, ret_off))
    rows.append(
        Row(
            "calibration",
            "retention gain from star rating + recognition (base vs volunteer_mgmt off)",
            0.0,
            d_mean,
            float("nan"),
            d_mean > 0 and d_mean > 2.0 * d_se,
            f"{n} paired reps, SE {d_se:.4f}; must be > 0 and > 2 SE; Walk, Zhang & Littlepage: recognition predicts retention",
        )
    )
    rows.append(
        range_row(
            "calibration",
            "registered volunteers / residents (base)",
            [o["registered_share"] for o in on],
            0.05,
            0.25,
            "docs/sources.md suggested range; 169 million registered nationally (about 0.12)",
        )
    )
    rows.append(
        range_row(
            "calibration",
            "active / registered volunteers (base)",
            [o["active_share"] for o in on],
            0.28,
            0.90,
            "Ningbo 2022 / national system: 28%-90% depending on definition",
        )
    )
    rows.append(
        range_row(
            "calibration",
            "volunteer hours on duty per registered volunteer per year (base)",
            [o["summary"]["volunteer_duty_hours_per_registered_year"] for o in on],
            4.2,
            13.0,
            "Ningbo 2022: about 4.2; national cumulative: about 13 (service records count time on duty; hours spent on residents' needs alone are lower, see volunteer_hours_per_registered_year)",
        )
    )
    rows.append(
        range_row(
            "calibration",
            "time bank, first 2 years: hours redeemed / deposited (base + time_bank)",
            [o["y2_redeem_ratio"] for o in tb],
            0.0,
            0.1,
            "docs/sources.md: withdrawals rare (< 0.1); Taiwan: 11 withdrawals in over 10 years",
        )
    )
    rows.append(
        band_row(
            "time bank, first year: hours banked per registered volunteer (base + time_bank)",
            [o["y1_deposit_per_registered"] for o in tb],
            0.57,
            5.0,
            "Nanjing's launch year (14,076 h / 24,535 volunteers = 0.57) is a floor: its bank "
            "enrolled volunteers during that year, while the model's bank opens with every "
            "volunteer enrolled; the top is pattern P11's (Shanghai about 3.5 h a year)",
            group="calibration",
        )
    )
    return rows


# ====================================================================== patterns
PATTERN_SCENARIO = "base.yaml"
"""The default street the patterns are measured on (scenarios/base.yaml: 50,000 residents)."""

BOUNDS = {
    "community organizations per community": ("orgs_per_community", 10.0, "6.5, 5.7"),
    "registered volunteers / residents": ("registered_share", 0.25, "5.7"),
    "active volunteers / residents": ("active_share", 0.10, "assumption"),
    "resident leaders per 1,000 residents": ("leaders_per_1000", 5.0, "assumption"),
    "time-bank balance per registered volunteer (h)": ("tb_per_registered", 50.0, "5.9"),
}
"""P14: quantity -> (measure, upper bound, source in docs/sources.md); docs/validation.md."""


def pattern_measures(m) -> dict[str, float]:
    """Everything the patterns read from one finished run (`linkage validate-model`, group
    'patterns'): the summary's year after the warm-up, the need table's elderly life care, the
    evaluation's grades and the time bank's flows by year."""
    from model.needs import F_RESOLVED, MET
    from model.schema import GROUPS

    s = m.summary()
    p = m.p
    nt = m.needs
    n_res = p.street.n_residents
    cohort = np.flatnonzero(nt.view("t_raise") >= p.run.warmup_weeks * WEEK)
    out = {k: float(s[k]) for k in s if not k.startswith("satisfaction_c")}
    out["sw_per_10k"] = s["sw_count"] / n_res * 1e4
    if "life_care" in m.catalog.names:
        k = m.catalog.names.index("life_care")
        care = cohort[(nt.ntype[cohort] == k) & (nt.group[cohort] == GROUPS.index("elderly"))]
        ok = (nt.status[care] == MET) & (nt.flags[care] & F_RESOLVED > 0)
        out["elderly_care_unmet"] = float(1.0 - ok.mean()) if len(care) else float("nan")
    ev = next((pol for pol in m.policies if pol.name == "evaluation"), None)
    scores = np.asarray(ev.scores if ev is not None else [], dtype=float)
    out["eval_n"] = float(len(scores))
    if ev is not None and len(scores):
        out["eval_fail_share"] = float((scores < ev.pars.pass_mark).mean())
        out["eval_excellent_share"] = float((scores >= ev.pars.excellent).mean())
    ts = m.timeseries()
    dep = ts["timebank_hours_deposited"].to_numpy()
    red = ts["timebank_hours_redeemed"].to_numpy()
    reg = ts["registered_volunteers"].to_numpy()
    first = slice(0, min(104, len(ts)))
    out["tb_redeem_ratio"] = float(red[first].sum() / dep[first].sum()) if dep[first].sum() else 0.0
    post = slice(p.run.warmup_weeks, len(ts))
    years = (len(ts) - p.run.warmup_weeks) / 52.0
    # Quits are few on one street (2-4 a year): P15 counts every week of a five-year run,
    # warm-up too (the posts are staffed from week 0).
    sw_years = float(ts["sw_count"].sum()) / 52.0
    out["sw_quit_rate_run"] = float(ts["sw_quits"].sum()) / sw_years if sw_years else float("nan")
    out["tb_deposit_per_registered"] = (
        float(dep[post].sum() / reg[post].mean() / years) if reg[post].mean() else float("nan")
    )
    return out


def _pattern_case(args: tuple) -> dict[str, float]:
    rel, overrides, seed = args
    from experiments.engine.scenarios import load_scenario
    from model import LinkageModel

    sc = load_scenario(SCENARIOS / rel, list(overrides))
    m = LinkageModel(sc.params, seed=seed)
    m.run()
    return pattern_measures(m)


def _bounds_case(args: tuple) -> dict[str, list[float]]:
    """Ten years (or `weeks`) of full linkage, sampled at each year's end."""
    rel, overrides, seed = args
    from experiments.engine.scenarios import load_scenario
    from model import LinkageModel
    from model.residents import V_ACTIVE

    sc = load_scenario(SCENARIOS / rel, list(overrides))
    m = LinkageModel(sc.params, seed=seed)
    res = m.residents
    out: dict[str, list[float]] = {k: [] for k, _, _ in BOUNDS.values()}
    out["sw_count"] = []
    while m.week < m.p.run.weeks:
        m.run(weeks=min(52, m.p.run.weeks - m.week))
        registered = int(np.count_nonzero(res.vol_state > 0))
        out["orgs_per_community"].append(float(m.organizations.community_orgs().mean()))
        out["registered_share"].append(registered / res.n)
        out["active_share"].append(float(np.count_nonzero(res.vol_state == V_ACTIVE)) / res.n)
        out["leaders_per_1000"].append(float(res.leader.sum()) / res.n * 1000.0)
        bal = float(m.volunteers.time_bank.balance.sum())
        out["tb_per_registered"].append(bal / registered if registered else 0.0)
        out["sw_count"].append(float(m.workforce.sw_employed()))
    return out


def band_row(
    name: str,
    values: Iterable[float],
    lo: float,
    hi: float,
    note: str,
    group: str = "patterns",
) -> Row:
    """A pattern's band [lo, hi] (either end may be infinite): passes when the mean over
    replications lies inside, unless it lies within one standard error of a finite bound with
    fewer than 8 replications ("unstable": no band passes by noise; rerun with more)."""
    vals = list(values)
    m, se = mean_se(vals)
    n = len(vals)
    inside = bool(np.isfinite(m) and lo <= m <= hi)
    near = min(abs(m - b) for b in (lo, hi) if np.isfinite(b)) if np.isfinite(m) else 0.0
    unstable = inside and n < 8 and near < se
    if np.isfinite(lo) and np.isfinite(hi):
        target, tol, band = (lo + hi) / 2, (hi - lo) / 2, f"[{lo:g}, {hi:g}]"
    elif np.isfinite(lo):
        target, tol, band = lo, float("nan"), f">= {lo:g}"
    else:
        target, tol, band = hi, float("nan"), f"<= {hi:g}"
    text = f"band {band}; {n} reps, SE {se:.3g}"
    if unstable:
        text += "; UNSTABLE: within 1 SE of a bound, rerun with more replications"
    return Row(group, name, target, m, tol, inside and not unstable, f"{text}; {note}")


def pattern_jobs(settings: Settings = FULL) -> list[tuple[str, tuple[str, ...], int]]:
    """The patterns' runs: the default street as it is, with the time bank, with volunteer
    management off and no tenure effect (the hazard mechanism alone), and as it is for five
    years (P15: social workers' quits are few, 2-4 a street-year), paired seeds."""
    street = (f"run.weeks={settings.pattern_weeks}", "run.warmup_weeks=52")
    ss = seeds(settings.root_seed, settings.pattern_reps, key=300)
    configs = [
        street,
        (*street, "policies.time_bank.enabled=true"),
        (*street, "policies.volunteer_mgmt.enabled=false", "volunteers.tenure_effect=0"),
        (f"run.weeks={max(260, settings.pattern_weeks)}", "run.warmup_weeks=52"),
    ]
    return [(PATTERN_SCENARIO, ov, s) for ov in configs for s in ss]


def patterns_rows(settings: Settings = FULL) -> list[Row]:
    """The patterns P1-P15 the default street must reproduce at once (docs/validation.md has
    each source and why its band is that wide)."""
    n = settings.pattern_reps
    jobs = pattern_jobs(settings)
    bounds_jobs = [
        ("modes/full_linkage.yaml", (f"run.weeks={settings.bounds_weeks}",), s)
        for s in seeds(settings.root_seed, settings.bounds_reps, key=301)
    ]
    out = run_parallel(_pattern_case, jobs, settings.workers)
    base, tb, flat, long = (out[k * n : (k + 1) * n] for k in range(4))

    def col(runs: list[dict], key: str) -> list[float]:
        return [r.get(key, float("nan")) for r in runs]

    inf = float("inf")
    rows = [
        band_row(
            "P1 working social workers per 10,000 residents",
            col(base, "sw_per_10k"),
            1.0,
            5.5,
            "stations ~0.7-1 (1.4, 3.1, 3.6); Shenzhen sector 5.5 (1.4)",
        ),
        band_row(
            "P2 social workers' busy share of duty time (overtime counted)",
            col(base, "sw_utilization"),
            0.85,
            inf,
            "professional time is scarce: England 45.9 h worked of 37.2 contracted (1.18); "
            "heavy community workloads (2.4)",
        ),
        band_row(
            "P3 open professional cases per social worker",
            col(base, "sw_open_cases"),
            5.0,
            16.3,
            "England 16.3 per FTE is a statutory upper bound (1.16)",
        ),
        band_row(
            "P4 social-worker contacts per social-worker year",
            col(base, "sw_contacts_per_sw_year"),
            290,
            1350,
            "Shandong stations 291; Shenzhen 840-1,350 person-times (3.2, 1.4)",
        ),
        band_row(
            "P5 volunteer hours served per registered volunteer per year",
            col(base, "volunteer_hours_per_registered_year"),
            4.2,
            6.4,
            "Ningbo 2022 4.2; national registry increments 4.7-6.4 a year (5.1)",
        ),
        band_row(
            "P6 annual volunteer retention (recognition and evaluation on)",
            col(base, "volunteer_retention_annual"),
            0.65,
            0.80,
            "65% person-level without recognition; 80% organization-reported median",
        ),
        stat_row(
            "patterns",
            "P7 retention without recognition, tenure effect 0 (mechanism)",
            col(flat, "volunteer_retention_annual"),
            [0.65] * n,
            "the hazard is set from 0.65",
            min_tol=0.02,
        ),
        band_row(
            "P8 community social organizations per community",
            col(base, "community_orgs_per_community"),
            2.0,
            4.0,
            "national 2.8 per committee (6.4)",
        ),
        band_row(
            "P9 elderly residents' life-care needs not resolved",
            col(base, "elderly_care_unmet"),
            0.50,
            0.75,
            "> 50% of disabled elderly get care that does not fully meet their needs (4.6)",
        ),
        band_row(
            "P10 time bank, first 2 years: hours redeemed / deposited (base + time bank)",
            col(tb, "tb_redeem_ratio"),
            0.0,
            0.05,
            "Suzhou none in 7 years, Wenzhou almost none; Taiwan 11 in 10 years (5.10)",
        ),
        band_row(
            "P11 time bank: hours deposited per registered volunteer per year",
            col(tb, "tb_deposit_per_registered"),
            1.5,
            5.0,
            "Shanghai pilot about 3.5 h a year (5.9)",
        ),
        band_row(  # one-sided: a share cannot fall below 0, so only the upper bound tests it
            "P12 evaluation: share of reviews failing (< pass mark)",
            col(base, "eval_fail_share"),
            -inf,
            0.055,
            "Shenzhen 2014: none below B, 3 of 156 at B (7.2)",
        ),
        band_row(
            "P13 evaluation: share graded excellent (>= 85)",
            col(base, "eval_excellent_share"),
            0.02,
            0.15,
            "Shenzhen 2014: A+ 10 of 156 (7.2)",
        ),
        band_row(
            "P15 social workers' annual quit rate (turnover on; five years, every week)",
            col(long, "sw_quit_rate_run"),
            0.10,
            0.30,
            "Shenzhen 17.6-22.2% (2011-2014), Shanghai, Dongguan and other cities about 20% "
            "(1.7, 1.9, 1.10); wide for the few quits of one street-year",
        ),
    ]
    if bounds_jobs:
        ten = run_parallel(_bounds_case, bounds_jobs, settings.workers)
        years = settings.bounds_weeks // 52
        for name, (key, bound, src) in BOUNDS.items():
            worst = [max(r[key]) for r in ten]  # each run's highest year
            rows.append(
                band_row(
                    f"P14 {years} years of full linkage: {name}, highest year",
                    worst,
                    -inf,
                    bound,
                    f"every year at most {bound:g} ({src})",
                )
            )
    return rows


# ====================================================================== all checks
def run_all(
    settings: Settings = FULL,
    groups: Iterable[str] = ("analytic", "ledger", "calibration", "patterns"),
) -> list[Row]:
    """Every validation check, in table order."""
    groups = set(groups)
    rows: list[Row] = []
    if "analytic" in groups:
        rows += queue_rows(settings)
    if "ledger" in groups:
        rows += ledger_rows(settings)
    if "calibration" in groups:
        rows += calibration_rows(settings)
    if "patterns" in groups:
        rows += patterns_rows(settings)
    return rows


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 0.01:
        return f"{x:.4f}"
    return f"{x:.2e}"


def format_rows(rows: list[Row], notes: bool = True) -> str:
    """The rows as an aligned text table (group, check, target, measured, tolerance, result)."""
    head = ("group", "check", "target", "measured", "tolerance", "result")
    body = [
        (
            r.group,
            r.name,
            _fmt(r.target),
            _fmt(r.measured),
            _fmt(r.tolerance),
            "PASS" if r.passed else "FAIL",
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in (head, *body)) for i in range(len(head))]
    lines = []
    for k, line in enumerate((head, *body)):
        cells = [
            str(v).ljust(widths[i]) if i < 2 else str(v).rjust(widths[i])
            for i, v in enumerate(line)
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    if notes:
        lines.append("")
        lines += [f"  {r.name}: {r.note}" for r in rows if r.note]
    return "\n".join(lines)


def markdown_rows(
    rows: list[Row],
    settings: Settings,
    mode: str = "full",
    groups: Iterable[str] = (),
    wall: float | None = None,
) -> str:
    """The rows as a Markdown table with how they were made (for docs/validation.md)."""
    n_fail = sum(not r.passed for r in rows)
    cmd = "linkage validate-model" + (" --quick" if mode == "quick" else "")
    cmd += "".join(f" --only {g}" for g in groups if set(groups) != set(GROUPS))
    lines = [
        f"Made by `{cmd} --markdown docs/validation.md` ({mode}: root seed "
        f"{settings.root_seed}; {settings.pattern_reps} pattern replications x "
        f"{settings.pattern_weeks} weeks, {settings.bounds_reps} x {settings.bounds_weeks} weeks "
        f"of full linkage): **{len(rows) - n_fail} of {len(rows)} checks pass**"
        + (f", {n_fail} fail (see below)" if n_fail else "")
        + (f"; {wall:.0f} s on this machine." if wall is not None else "."),
        "",
        "| group | check | target | measured | tolerance | result | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (
            r.group,
            r.name,
            _fmt(r.target),
            _fmt(r.measured),
            _fmt(r.tolerance),
            "PASS" if r.passed else "**FAIL**",
            r.note,
        )
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


GROUPS = ("analytic", "ledger", "calibration", "patterns")
"""Every group of checks, in table order."""


def default_workers() -> int:
    """Two processes where there are two cores or more (the machine is shared)."""
    return max(1, min(2, os.cpu_count() or 1))


__all__ = [
    "FULL",
    "GROUPS",
    "QUICK",
    "LedgerAudit",
    "Row",
    "Settings",
    "audit_run",
    "band_row",
    "calibration_rows",
    "design_rate",
    "erlang_c",
    "format_rows",
    "ledger_rows",
    "markdown_rows",
    "measure_queue",
    "mmc",
    "mmc_abandon",
    "pattern_measures",
    "patterns_rows",
    "providers_census",
    "queue_params",
    "queue_rows",
    "run_all",
]
