"""Executors: run simulation tasks in this process, in local processes, or on a Dask cluster.

A task names a scenario file, overrides and a seed; the worker loads the scenario itself (so a
remote Dask worker needs the same files, not pickled parameter objects), runs the model and
returns the summary, the weekly time series and the wall time, or the error if it raised.
Every executor yields outcomes as they complete; the order of completion never matters because
the results store sorts runs into a canonical order.

- `InProcessExecutor`: one run after another in this process (`--workers 1`).
- `LocalExecutor`: a `ProcessPoolExecutor` with the fork start method where there is one
  (importing mesa makes spawn the default, which is much slower to start).
- `DaskExecutor`: a `distributed.LocalCluster` on the loopback interface, or an existing
  scheduler; each run is submitted with `pure=False` and its own key.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

MAX_ATTEMPTS = 2  # a task whose worker process died is tried this many times in all
GC_GROWTH_MB = 16.0  # a full garbage collection once a process grew this much since the last
DASK_CONNECT_TIMEOUT_S = 10  # how long to wait for a Dask scheduler before giving up


@dataclass(frozen=True)
class Task:
    """One simulation run: a scenario file with overrides, and a seed.

    Attributes:
        run_id: Unique within the experiment, stable across sessions.
        scenario: The scenario's name in the experiment.
        scenario_path: Absolute path of the scenario file.
        overrides: `dotted.key=VALUE` strings applied to the scenario, in order.
        replication: Replication index (0-based).
        seed: The run's seed (the same for replication r of every scenario, and of every point
            unless each point draws its own: `Experiment.seed_per_point`).
        scenario_index: Position of the scenario in the experiment (for canonical order).
        point: Index of the parameter point (0 when nothing is varied).
        params: The varied parameters' values at this point, as (name, value) pairs.
    """

    run_id: str
    scenario: str
    scenario_path: str
    overrides: tuple[str, ...]
    replication: int
    seed: int
    scenario_index: int = 0
    point: int = 0
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def order(self) -> tuple[int, int, int]:
        """Canonical sort key: scenario order, parameter point, replication."""
        return (self.scenario_index, self.point, self.replication)


@dataclass
class Outcome:
    """What one task produced. `status` is 'ok' or 'error' (then `error` says why)."""

    task: Task
    status: str
    summary: dict[str, float] = field(default_factory=dict)
    timeseries: Any = None  # pandas.DataFrame, or None
    wall_time_s: float = 0.0
    error: str | None = None
    traceback: str | None = None
    violations: list[str] = field(default_factory=list)
    rss_mb: float | None = None  # memory of the process that ran it, after the run


def rss_mb() -> float | None:
    """Resident memory of this process in MB (Linux: now; elsewhere: the peak so far)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (ImportError, OSError):
        return None
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


class MemoryGuard:
    """Keeps a process that runs model after model from growing: a full garbage collection
    whenever its memory grew by `GC_GROWTH_MB` since the last one.

    A finished model sits in reference cycles (its agents point back to it), which only a full
    collection frees, and Python seldom runs one on its own in a process like this. Collecting
    after every run would cost about 0.1 s each (walking every object of numpy, pandas...):
    noticeable for short runs. Collecting on growth frees the default street's model (~30 MB)
    after every run and a small one every ten or twenty runs; with the freed heap given back to
    the system (`malloc_trim` on glibc), memory stays within about `GC_GROWTH_MB` of where it
    started, however many runs follow.
    """

    def __init__(self, growth_mb: float = GC_GROWTH_MB) -> None:
        self.growth_mb = growth_mb
        self.floor: float | None = None

    def after_run(self) -> float | None:
        """Collect if needed; returns the memory (MB) after it."""
        now = rss_mb()
        if now is None:  # cannot tell: collect every time
            gc.collect()
            return None
        if self.floor is None:
            self.floor = now
        elif now - self.floor > self.growth_mb:
            gc.collect()
            _trim()
            now = rss_mb() or now
            self.floor = now
        return now


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (ImportError, OSError, AttributeError):  # not glibc
        return None


def _trim() -> None:
    """Give freed heap memory back to the system (glibc keeps it otherwise, and the freed
    models' memory comes back in pieces too small to reuse whole, so the process would creep
    up by a few MB at each collection)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_guard = MemoryGuard()


def simulate(params: Any, seed: int) -> Any:
    """Run the model once (the only call into `model`); tests may replace it."""
    from model import run_model

    return run_model(params, seed)


def _summary(raw: dict) -> dict[str, float]:
    out = {}
    for k, v in raw.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"summary metric '{k}' is not a number: {v!r}") from None
    return out


def execute_task(task: Task) -> Outcome:
    """Run one task; never raises for a failing run (the outcome then has status 'error')."""
    t0 = time.perf_counter()
    try:
        from experiments.engine.scenarios import load_scenario

        scenario = load_scenario(task.scenario_path, list(task.overrides))
        result = simulate(scenario.params, task.seed)
        summary = _summary(result.summary)
        ts = getattr(result, "timeseries", None)
        out = Outcome(task, "ok", summary, ts, time.perf_counter() - t0)
        out.violations = [str(v) for v in getattr(result, "invariant_violations", None) or []]
    except Exception as e:  # noqa: BLE001 - a failing run is data, not a crash
        out = Outcome(
            task,
            "error",
            wall_time_s=time.perf_counter() - t0,
            error=_error_line(e),
            traceback=traceback.format_exc(),
        )
    result = None  # the model's results go with the outcome; nothing else keeps them
    out.rss_mb = _guard.after_run()
    return out


def _error_line(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    return " ".join(text.split())  # one line


def failed(task: Task, message: str) -> Outcome:
    """An error outcome for a task whose worker, not the model, failed."""
    return Outcome(task, "error", error=message)


class Executor:
    """Runs tasks and yields their outcomes as they complete."""

    name = "executor"
    workers = 1

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:  # pragma: no cover - interface
        raise NotImplementedError

    def check(self) -> None:
        """Fail now, as an `InputError`, if the executor cannot work (e.g. no scheduler)."""

    def close(self) -> None:
        """Stop workers and free resources (also done when `run` finishes or is closed)."""

    def describe(self) -> dict[str, Any]:
        """A record of the executor for the manifest."""
        return {"executor": self.name, "workers": self.workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs tasks one after another in this process (no pool, easiest to debug and profile)."""

    name = "inprocess"

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield execute_task(task)  # looked up at call time, so tests can replace it


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)  # the sweep was killed: do not run on as an orphan


def _worker_init(parent: int) -> None:
    """In each pool process: Ctrl-C is the parent's to handle; exit when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def fork_context() -> multiprocessing.context.BaseContext | None:
    """The fork start method where the platform has it (Linux), else the default."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


class LocalExecutor(Executor):
    """Runs tasks in a pool of local processes (fork start method on Linux).

    Args:
        workers: Number of processes (default: `os.cpu_count()`).
        inflight: Tasks submitted ahead of completion (default: 2 per worker), so that a sweep
            of a million runs never holds a million futures.
    """

    name = "local"

    def __init__(self, workers: int | None = None, inflight: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.inflight = inflight or 2 * self.workers
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=fork_context(),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        return self._pool

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        todo = iter(tasks)
        retry: deque[Task] = deque()
        attempts: dict[str, int] = {}
        running: dict[Any, Task] = {}
        pool = self._start()
        try:
            while True:
                while len(running) < self.inflight:
                    task = retry.popleft() if retry else next(todo, None)
                    if task is None:
                        break
                    attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
                    running[pool.submit(execute_task, task)] = task
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    task = running.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if attempts[task.run_id] < MAX_ATTEMPTS:
                            retry.append(task)
                        else:
                            yield failed(
                                task, "WorkerDied: the worker process died during this run"
                            )
                if broken:  # every other running task is lost with the pool: try them again
                    for task in running.values():
                        retry.append(task)
                    running.clear()
                    self._shutdown()
                    pool = self._start()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # do not wait for runs nobody will record
            with contextlib.suppress(Exception):
                p.terminate()
        for p in procs:
            with contextlib.suppress(Exception):
                p.join(timeout=5)

    def close(self) -> None:
        self._shutdown()


class DaskExecutor(Executor):
    """Runs tasks on Dask distributed: a new LocalCluster, or the scheduler at `scheduler`.

    Args:
        workers: Worker processes of the LocalCluster (default: `os.cpu_count()`); ignored
            with `scheduler`.
        scheduler: Address of a running scheduler, e.g. "tcp://10.0.0.5:8786". Its workers
            need this package installed and the scenario files at the same paths.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            from experiments.engine.errors import InputError

            raise InputError(
                "--executor: dask: the 'distributed' package is not installed "
                "(pip install 'four-society-linkage[dask]')"
            ) from None
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.scheduler = scheduler
        self._client = None
        self._cluster = None

    def describe(self) -> dict[str, Any]:
        import dask
        import distributed

        out = super().describe()
        out.update(scheduler=self.scheduler or "LocalCluster(127.0.0.1)", dask=dask.__version__)
        out["distributed"] = distributed.__version__
        return out

    def check(self) -> None:
        """Connect to the scheduler now (a few seconds at most), so that a wrong address is
        one line before anything is written, not a traceback after a long wait."""
        if self.scheduler:
            self._connect()

    def _connect(self) -> Any:
        from distributed import Client, LocalCluster

        if self._client is not None:
            return self._client
        if self.scheduler:
            self._client = connect_scheduler(self.scheduler)
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        return self._client

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        from distributed import as_completed

        client = self._connect()
        token = uuid.uuid4().hex[:12]  # keys unique across sweeps sharing one scheduler
        slots = max(2, 2 * sum(client.nthreads().values()))
        todo = iter(tasks)
        running: dict[Any, Task] = {}
        pending = as_completed()

        def submit() -> bool:
            task = next(todo, None)
            if task is None:
                return False
            key = f"linkage-run-{token}-{task.run_id}"
            fut = client.submit(execute_task, task, pure=False, key=key)
            running[fut] = task
            pending.add(fut)
            return True

        try:
            while len(running) < slots and submit():
                pass
            for fut in pending:
                task = running.pop(fut)
                try:
                    out = fut.result()
                except Exception as e:  # noqa: BLE001 - the worker died, not the model
                    out = failed(task, f"DaskError: {_error_line(e)}")
                fut.release()
                yield out
                submit()
        finally:
            for fut in running:
                fut.cancel()
            self.close()

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def connect_scheduler(address: str, timeout: float = DASK_CONNECT_TIMEOUT_S) -> Any:
    """A Dask `Client` of the scheduler at `address`.

    Raises:
        InputError: a malformed address, or no scheduler answering within `timeout` seconds.
    """
    import logging

    from distributed import Client

    from experiments.engine.errors import InputError

    if len(address) > 300 or any(c.isspace() for c in address):
        raise InputError(f"--scheduler: not a scheduler address: {address[:60]!r}")
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its own retry messages: the one line below says it all
    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as e:
        why = " ".join(str(e).split())[:160] or type(e).__name__
        raise InputError(
            f"--scheduler: no Dask scheduler answered at {address} within {timeout:g} s ({why})"
        ) from None
    except (ValueError, TypeError) as e:
        why = " ".join(str(e).split())[:160]
        raise InputError(f"--scheduler: not a scheduler address: {address} ({why})") from None
    except (Exception, MemoryError) as e:  # noqa: BLE001 - e.g. something else answers there
        why = " ".join(f"{type(e).__name__}: {e}".split())[:160]
        raise InputError(
            f"--scheduler: {address} does not answer as a Dask scheduler ({why})"
        ) from None
    finally:
        quiet.setLevel(level)


def make_executor(
    kind: str = "local", workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """The executor for `--executor KIND --workers N [--scheduler ADDRESS]`.

    `local` with one worker runs in this process; `dask` starts a LocalCluster unless given a
    scheduler address.
    """
    if kind == "dask" or scheduler:
        return DaskExecutor(workers, scheduler)
    if kind != "local":
        raise ValueError(f"unknown executor '{kind}' (local or dask)")
    n = workers or os.cpu_count() or 1
    return InProcessExecutor() if n <= 1 else LocalExecutor(n)
