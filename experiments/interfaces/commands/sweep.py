"""`linkage sweep EXPERIMENT`: run every scenario x parameter point x replication."""

from __future__ import annotations

import argparse
import shlex
import sys

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run an experiment file (scenarios x parameters x replications)",
        description=(
            "Run an experiment: every scenario, parameter point and replication, in parallel. "
            "Each finished run is saved at once, so a stopped sweep continues with --resume."
        ),
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file")
    add_execution_options(p, resume_help="run only what the results folder does not hold yet")
    p.add_argument(
        "--retry-errors", action="store_true", help="with --resume, also rerun runs that failed"
    )
    p.add_argument(
        "--replications", type=int, metavar="N", help="override the experiment's replications"
    )
    p.add_argument("--weeks", type=int, metavar="N", help="override run.weeks of every run")
    p.add_argument(
        "--warmup-weeks", type=int, metavar="N", help="override run.warmup_weeks of every run"
    )
    p.set_defaults(func=handle)


def _positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        from experiments.engine.errors import InputError

        raise InputError(f"{name}: must be at least {minimum} (got {value})")


def handle(args: argparse.Namespace) -> int:
    """Run the sweep; exit 0 when every run succeeded, 1 when some failed."""
    from experiments.engine.sweep import run_sweep

    _positive("--workers", args.workers)
    _positive("--replications", args.replications)
    _positive("--weeks", args.weeks)
    _positive("--warmup-weeks", args.warmup_weeks, 0)
    check_counts(args, {})
    stop_on_sigterm()  # `kill` saves the manifest like Ctrl-C
    res = run_sweep(
        args.experiment,
        args.out,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        replications=args.replications,
        weeks=args.weeks,
        warmup_weeks=args.warmup_weeks,
        retry_errors=args.retry_errors,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
        max_runs=args.max_runs,
    )
    done = f"{res.ran} runs in {res.elapsed_s:.1f} s" + (
        f" ({res.skipped} already done)" if res.skipped else ""
    )
    print(f"{res.ok} ok, {res.errors} failed of {res.total} runs; {done}")
    print(f"results: {res.path}  (next: linkage compare {res.path})")
    if res.violations:
        print(
            f"warning: {res.violations} runs broke model invariants (column 'violations')",
            file=sys.stderr,
        )
    if res.errors:
        print(f"first failure: {res.first_error}", file=sys.stderr)
        return 1
    return 0
