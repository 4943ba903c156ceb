"""Run an experiment: every scenario x parameter point x replication, resumable.

`run_sweep` plans the tasks, skips those already in the results folder (with `resume`), runs the
rest on an executor, commits each finished run to the store as it completes, and finally writes
the consolidated, canonically ordered `runs.parquet` and `timeseries.parquet` and the manifest.

Tasks are submitted replication by replication (replication 0 of every scenario and point, then
replication 1, ...), so an interrupted sweep holds complete paired comparisons.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from experiments.engine.errors import ExperimentError, ScenarioError
from experiments.engine.executors import Executor, Outcome, Task, make_executor
from experiments.engine.folders import FolderLock, check_out, safe_name
from experiments.engine.scenarios import apply_overrides, build_params, resolve
from experiments.engine.seeds import point_seed, replication_seed, stream_seed
from experiments.engine.spec import Experiment, check_run_count, load_experiment
from experiments.engine.store import ResultsStore

EXTRA_PACKAGES = ("scipy", "dask", "distributed")  # besides experiments.engine.provenance.PACKAGES
REPO = Path(__file__).resolve().parents[2]


@dataclass
class SweepResult:
    """What a sweep did: where the results are and how many runs it holds."""

    path: Path
    total: int
    ok: int
    errors: int
    ran: int
    skipped: int
    elapsed_s: float
    first_error: str | None = None
    violations: int = 0  # runs (of this session) whose model reported broken invariants


def run_id(scenario: str, point: int, replication: int) -> str:
    """The stable id of a run: `<scenario>:p<point>:r<replication>`."""
    return f"{scenario}:p{point}:r{replication}"


def plan(
    exp: Experiment,
    replications: int | None = None,
    weeks: int | None = None,
    warmup_weeks: int | None = None,
) -> list[Task]:
    """All tasks of an experiment in canonical order (scenario, parameter point, replication)."""
    reps = replications if replications is not None else exp.spec.replications
    root = exp.spec.root_seed
    seeds = [replication_seed(root, r) for r in range(reps)]
    if exp.seed_per_point:
        per_point = [[point_seed(root, p, r) for r in range(reps)] for p in range(len(exp.points))]
    tasks = []
    for entry in exp.scenarios:
        base = exp.base_overrides(entry, weeks, warmup_weeks)
        own = (
            seeds
            if entry.seed_stream is None
            else [stream_seed(exp.spec.root_seed, entry.seed_stream, r) for r in range(reps)]
        )
        for point, values in enumerate(exp.points):
            overrides = (*base, *exp.point_overrides(point))
            for r in range(reps):
                tasks.append(
                    Task(
                        run_id=run_id(entry.name, point, r),
                        scenario=entry.name,
                        scenario_path=str(entry.file),
                        overrides=overrides,
                        replication=r,
                        seed=per_point[point][r] if exp.seed_per_point else own[r],
                        scenario_index=entry.index,
                        point=point,
                        params=tuple(values.items()),
                    )
                )
    return tasks


def submission_order(tasks: list[Task]) -> list[Task]:
    """Replication-major order: complete pairs first if the sweep is stopped."""
    return sorted(tasks, key=lambda t: (t.replication, t.point, t.scenario_index))


def resolved_scenarios(
    exp: Experiment, weeks: int | None, warmup_weeks: int | None
) -> list[dict[str, Any]]:
    """Each scenario's parameters with the experiment's shared overrides (for the manifest)."""
    out = []
    for entry in exp.scenarios:
        data = apply_overrides(
            resolve(entry.file), list(exp.base_overrides(entry, weeks, warmup_weeks))
        )
        try:
            params = build_params(data, entry.file)
        except ScenarioError as e:
            field = "--weeks" if (weeks is not None or warmup_weeks is not None) else e.field
            raise ScenarioError(
                exp.path, field, f"{e.field}: {e.problem} (scenario '{entry.name}')"
            ) from None
        out.append(
            {
                "name": entry.name,
                "file": str(entry.file),
                "overrides": list(entry.overrides),
                **{f"label_{lang}": text for lang, text in entry.labels},
                "params": params.model_dump(mode="json"),
            }
        )
    return out


def model_source_hash() -> str | None:
    """SHA-256 of the `model` package's Python sources: the code that made the numbers, even
    when it is not committed."""
    import importlib.util

    spec = importlib.util.find_spec("model")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """Versions, git state, host and a hash of the model's sources, for the manifest."""
    from experiments.engine.provenance import provenance

    env = provenance()
    for name in EXTRA_PACKAGES:
        try:
            env["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env["versions"][name] = None
    env["platform"] = platform.platform()
    env["git_dirty"] = None
    if env.get("git_hash"):
        try:
            st = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=10,
            )
            env["git_dirty"] = bool(st.stdout.strip()) if st.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            pass
    env["model_source_sha256"] = model_source_hash()
    return env


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def default_out(name: str, root: Path = Path("results")) -> Path:
    """A new folder `results/<name>-<YYYYmmdd-HHMMSS>` (suffixed if it already exists)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = safe_name(name)
    out = root / f"{name}-{stamp}"
    n = 2
    while out.exists():
        out = root / f"{name}-{stamp}-{n}"
        n += 1
    return out


def latest_out(name: str, root: Path = Path("results")) -> Path | None:
    """The newest results folder of experiment `name` under `root`, if any."""
    found = sorted(p for p in root.glob(f"{safe_name(name)}-*") if (p / "manifest.json").exists())
    return max(found, key=lambda p: (p / "manifest.json").stat().st_mtime) if found else None


def _check_resume(
    store: ResultsStore, exp: Experiment, tasks: dict[str, Task], scenarios: list[dict]
) -> None:
    manifest = store.read_manifest()
    where = str(store.path)
    if not manifest:
        raise ExperimentError(
            where, "manifest.json", "missing; not a results folder of 'linkage sweep'"
        )
    if manifest.get("experiment") != exp.name:
        raise ExperimentError(
            where, "experiment", f"holds '{manifest.get('experiment')}', not '{exp.name}'"
        )
    for rid, rec in store.records().items():
        task = tasks.get(rid)
        if task is None:
            raise ExperimentError(
                where,
                rid,
                "this finished run is not part of the experiment as planned now "
                "(were scenarios, parameters or --replications reduced?)",
            )
        if rec["seed"] != task.seed or rec["overrides"] != list(task.overrides):
            raise ExperimentError(
                where,
                rid,
                "finished with other settings (seed or overrides) than planned now "
                "(did the experiment file, --weeks or constants change?)",
            )
    old = {s["name"]: s["params"] for s in manifest.get("scenarios", [])}
    for s in scenarios:
        if s["name"] in old and old[s["name"]] != s["params"]:
            raise ExperimentError(
                s["file"],
                "(parameters)",
                f"scenario '{s['name']}' changed since {where} was written; "
                "start a new sweep (or restore the file)",
            )


class LineProgress:
    """Progress for a log file or a pipe (stderr is not a terminal, so no bar): one line when
    the sweep starts, then one every `step_share` of the runs or every `every_s` seconds,
    whichever comes first, and one at the end. The same methods as the tqdm bar it replaces.

    Args:
        total: Runs of the sweep.
        initial: Runs already done (resumed).
        desc: Name shown at the start of each line.
        every_s: Longest silence, in seconds.
        step_share: Share of the runs between two lines.
        stream: Where the lines go (default: stderr).
    """

    def __init__(
        self,
        total: int,
        initial: int,
        desc: str,
        every_s: float = 60.0,
        step_share: float = 0.1,
        stream: Any = None,
    ) -> None:
        self.total, self.n, self.desc = total, initial, desc
        self.every_s = every_s
        self.step = max(1, math.ceil(total * step_share))
        self.stream = stream
        self.errors = 0
        self.t0 = self.last_t = time.monotonic()
        self.start_n = self.last_n = initial
        done = f" ({initial} done before)" if initial else ""
        self.write(f"{desc}: {total - initial} runs to do{done}")

    def write(self, text: str, file: Any = None) -> None:
        """Print a line (as `tqdm.write`)."""
        print(text, file=file or self.stream or sys.stderr, flush=True)

    def set_postfix(self, errors: int = 0, refresh: bool = False) -> None:
        """Remember the failures, shown on the next line."""
        self.errors = errors

    def update(self, k: int = 1) -> None:
        """`k` more runs finished."""
        self.n += k
        now = time.monotonic()
        crossed = self.n // self.step > self.last_n // self.step
        if crossed or self.n >= self.total or now - self.last_t >= self.every_s:
            self._line(now)

    def close(self) -> None:
        """A last line if the last runs were not shown yet."""
        if self.n != self.last_n:
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        elapsed = now - self.t0
        ran = self.n - self.start_n
        left = ""
        if ran > 0 and self.n < self.total:
            left = f", about {(self.total - self.n) * elapsed / ran:.0f} s left"
        failed = f", {self.errors} failed" if self.errors else ""
        share = self.n / self.total if self.total else 1.0
        self.write(
            f"{self.desc}: {self.n}/{self.total} runs ({share:.0%}), {elapsed:.0f} s{left}{failed}"
        )
        self.last_t, self.last_n = now, self.n


def _progress(total: int, initial: int, desc: str, enabled: bool | None) -> Any:
    """A tqdm bar on a terminal; lines (`LineProgress`) when stderr is not one; nothing when
    `enabled` is False."""
    if enabled is None and not sys.stderr.isatty():
        return LineProgress(total, initial, desc)
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the local executor forks worker processes
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="run",
        disable=None if enabled is None else not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
        file=sys.stderr,
    )


def run_sweep(
    experiment: str | Path | Experiment,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    resume: bool = False,
    replications: int | None = None,
    weeks: int | None = None,
    warmup_weeks: int | None = None,
    retry_errors: bool = False,
    progress: bool | None = None,
    command: str | None = None,
    results_root: str | Path = "results",
    max_runs: int | None = None,
    resume_command: str | None = None,
) -> SweepResult:
    """Run (or resume) an experiment and write its results folder.

    Args:
        experiment: The experiment file, or a loaded `Experiment`.
        out: The results folder (default: a new `results/<name>-<timestamp>`; with `resume`,
            the newest folder of this experiment).
        workers: Worker processes (default: all cores, at most one per run); 1 runs in this
            process.
        executor: "local", "dask", or an `Executor` instance.
        scheduler: Dask scheduler address (implies the dask executor).
        resume: Run only what the folder does not hold yet (and what it holds damaged).
        replications: Override the experiment's replications (more, when resuming, extends it).
        weeks: Override run.weeks; warmup_weeks likewise run.warmup_weeks.
        retry_errors: When resuming, run failed runs again too.
        progress: Show a progress bar (default: when stderr is a terminal).
        command: The command line, for the manifest.
        results_root: Where default folders go.
        max_runs: Refuse to plan more runs than this (default `experiments.engine.spec.MAX_RUNS`).
        resume_command: The command that continues this sweep, said when it is interrupted
            (default: `linkage sweep EXPERIMENT --resume --out DIR`).

    Returns:
        A `SweepResult`.

    Raises:
        ScenarioError, InputError: bad experiment file, scenario or results folder, or a
            folder another process is writing.
        KeyboardInterrupt: after saving the manifest; finished runs stay in the folder.
    """
    if isinstance(experiment, Experiment):
        exp = experiment
    else:
        exp = load_experiment(experiment, max_runs=max_runs, replications=replications)
    root = Path(results_root)
    if out is None:
        out = (latest_out(exp.name, root) if resume else None) or default_out(exp.name, root)
        if resume and not Path(out).exists():
            raise ExperimentError(
                root, "--resume", f"no earlier results of '{exp.name}' found; give --out DIR"
            )
    check_out(out, "--out")
    store = ResultsStore(out)
    if resume and not store.exists():
        raise ExperimentError(store.path, "--resume", "no results there to resume")
    with FolderLock(store.path):  # first: a folder in use is refused as such
        return _sweep_locked(
            exp,
            store,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            resume=resume,
            replications=replications,
            weeks=weeks,
            warmup_weeks=warmup_weeks,
            retry_errors=retry_errors,
            progress=progress,
            command=command,
            max_runs=max_runs,
            resume_command=resume_command,
        )


def _sweep_locked(
    exp: Experiment,
    store: ResultsStore,
    *,
    workers: int | None,
    executor: str | Executor,
    scheduler: str | None,
    resume: bool,
    replications: int | None,
    weeks: int | None,
    warmup_weeks: int | None,
    retry_errors: bool,
    progress: bool | None,
    command: str | None,
    max_runs: int | None,
    resume_command: str | None = None,
) -> SweepResult:
    """`run_sweep` once the folder is checked and this process owns it."""
    if not resume and store.exists():
        raise ExperimentError(
            store.path, "--out", "already holds results; use --resume or another folder"
        )
    old_manifest = store.read_manifest() if resume else {}
    settings = dict(old_manifest.get("settings") or {})
    if replications is None:
        replications = settings.get("replications")
    if weeks is None:
        weeks = settings.get("weeks")
    if warmup_weeks is None:
        warmup_weeks = settings.get("warmup_weeks")
    reps = replications if replications is not None else exp.spec.replications
    check_run_count(
        len(exp.points) * len(exp.scenarios) * reps,
        max_runs,
        exp.path,
        "--replications" if replications is not None else "replications",
    )

    scenarios = resolved_scenarios(exp, weeks, warmup_weeks)
    tasks = plan(exp, replications, weeks, warmup_weeks)
    by_id = {t.run_id: t for t in tasks}
    if resume:
        _check_resume(store, exp, by_id, scenarios)
    done = store.records()
    damaged = store.bad_parts(done)
    if damaged:
        print(
            f"warning: {len(damaged)} finished runs in {store.path} have a missing or damaged "
            "time-series part; running them again",
            file=sys.stderr,
        )
        done = {k: v for k, v in done.items() if k not in damaged}
    if retry_errors:
        done = {k: v for k, v in done.items() if v["status"] == "ok"}
    todo = submission_order([t for t in tasks if t.run_id not in done])

    if isinstance(executor, Executor):
        runner = executor
    else:
        n = workers or os.cpu_count() or 1
        runner = make_executor(executor, max(1, min(n, len(todo))), scheduler)
    runner.check()  # e.g. an unreachable Dask scheduler: one line, before anything is written
    session = {
        "command": command or " ".join(sys.argv),
        "start": _now(),
        "end": None,
        "status": "running",
        **runner.describe(),
        "runs_to_do": len(todo),
        "runs_done": 0,
    }
    manifest = old_manifest or {
        "experiment": exp.name,
        "description": exp.spec.description,
        "experiment_file": str(exp.path.resolve()),
        "experiment_text": exp.text,
        "spec": exp.spec.model_dump(mode="json"),
        "baseline": exp.baseline,
        "parameters": [{"name": p.name, "kind": p.kind} for p in exp.parameters],
        "n_points": len(exp.points),
        "scenarios": scenarios,
        "started": session["start"],
        "sessions": [],
    }
    # the experiment file may have changed in ways that keep every finished run valid
    # (metrics, timeseries, more replications): record the one in force now
    manifest.update(experiment_text=exp.text, spec=exp.spec.model_dump(mode="json"))
    manifest["settings"] = {
        "replications": reps,
        "weeks": weeks,
        "warmup_weeks": warmup_weeks,
        "root_seed": exp.spec.root_seed,
        "seeds": "per point and replication" if exp.seed_per_point else "per replication",
    }
    manifest["n_runs"] = len(tasks)
    env = environment()
    before = {x.get("model_source_sha256") for x in manifest.get("sessions", [])} - {None}
    if before and env["model_source_sha256"] not in before:
        print(
            f"warning: the model's source code changed since {store.path} was started; "
            "its runs now come from two versions of the model",
            file=sys.stderr,
        )
    session["model_source_sha256"] = env["model_source_sha256"]
    manifest["environment"] = env
    manifest["status"] = "running"
    manifest["finished"] = None
    manifest["sessions"] = [*manifest.get("sessions", []), session]
    store.open()
    store.write_manifest(manifest)

    keep_ts = exp.spec.timeseries is not False
    n_ok = sum(1 for r in done.values() if r["status"] == "ok")
    n_err = len(done) - n_ok
    first_error: str | None = None
    metrics_checked = exp.spec.metrics is None
    n_viol = 0
    t0 = time.perf_counter()
    bar = _progress(len(tasks), len(tasks) - len(todo), exp.name, progress)

    def record(outcome: Outcome) -> None:
        nonlocal n_ok, n_err, n_viol, metrics_checked, first_error
        store.record(outcome, keep_ts)
        session["runs_done"] += 1
        n_viol += bool(outcome.violations)
        if outcome.status == "ok":
            n_ok += 1
            if not metrics_checked:
                _check_metrics(exp, outcome)
                metrics_checked = True
        else:
            n_err += 1
            if first_error is None:
                first_error = f"{outcome.task.run_id}: {outcome.error}"
                bar.write(f"run {first_error}", file=sys.stderr)
            bar.set_postfix(errors=n_err, refresh=False)
        bar.update(1)

    try:
        with runner:
            for outcome in runner.run(todo):
                record(outcome)
            # a part damaged since it was written is run again, not consolidated
            recs = {k: v for k, v in store.records().items() if k in by_id}
            again = store.bad_parts(recs)
            if again:
                print(
                    f"warning: {len(again)} time-series parts failed their checksum; "
                    "running those runs again",
                    file=sys.stderr,
                )
                for outcome in runner.run(submission_order([by_id[k] for k in again])):
                    record(outcome)
    except BaseException as e:
        bar.close()
        store.close()
        session.update(
            end=_now(), status="interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        )
        manifest["status"] = session["status"]
        with contextlib.suppress(OSError):  # a full disk must not hide the original error
            store.write_manifest(manifest)
        if isinstance(e, KeyboardInterrupt):
            again = resume_command or f"linkage sweep {exp.path} --resume --out {store.path}"
            print(
                f"interrupted: {len(store.records())} of {len(tasks)} runs saved in {store.path}; "
                f"continue with: {again}",
                file=sys.stderr,
            )
        raise
    bar.close()
    store.close()
    store.consolidate(
        exp.name,
        [p.name for p in exp.parameters],
        exp.spec.metrics,
        exp.spec.timeseries,
        run_ids=set(by_id),
    )
    final = [r for k, r in store.records().items() if k in by_id]
    n_ok = sum(1 for r in final if r["status"] == "ok")
    n_err = len(final) - n_ok
    session.update(end=_now(), status="completed")
    manifest.update(status="completed", finished=session["end"], ok=n_ok, errors=n_err)
    store.write_manifest(manifest)
    if first_error is None and n_err:
        first_error = next(
            (
                f"{k}: {r['error']}"
                for k, r in sorted(store.records().items())
                if r["status"] != "ok"
            ),
            None,
        )
    return SweepResult(
        path=store.path,
        total=len(tasks),
        ok=n_ok,
        errors=n_err,
        ran=len(todo),
        skipped=len(tasks) - len(todo),
        elapsed_s=time.perf_counter() - t0,
        first_error=first_error,
        violations=n_viol,
    )


def _check_metrics(exp: Experiment, outcome: Outcome) -> None:
    missing = [m for m in exp.spec.metrics or [] if m not in outcome.summary]
    if missing:
        have = ", ".join(outcome.summary)
        raise ScenarioError(
            exp.path, "metrics", f"unknown metric {', '.join(missing)} (the model reports: {have})"
        )
