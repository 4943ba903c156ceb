"""`linkage optimize FILE --budget YUAN`: the best split of a budget across funding channels."""

from __future__ import annotations

import argparse
import shlex
import sys

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `optimize` sub-command."""
    p = subparsers.add_parser(
        "optimize",
        help="search the split of a fixed budget across funding channels",
        description=(
            "Search how a fixed annual budget should be split across procurement, posts, "
            "venture grants + incubation, the time-bank subsidy and the platform, to maximise "
            "need satisfaction (or minimise cost per need met, or lift the worst-off group). "
            "Successive halving on common random numbers, a refinement around the leader and a "
            "confirmation round; writes optimize.csv, optimize_final.csv and optimize.png."
        ),
    )
    p.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        help="optimize file, e.g. experiments/budget_allocation.yaml",
    )
    p.add_argument(
        "--budget", type=float, metavar="YUAN", help="annual budget (default: the file's 'budget')"
    )
    p.add_argument(
        "--objective",
        choices=("satisfaction", "cost_per_need", "worst_group"),
        help="need_satisfaction_rate (max), cost_per_need_met (min) or satisfaction_min_group (max); default: the file's",
    )
    add_execution_options(p, resume_help="continue an interrupted search in --out DIR")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the search; print the best split, its interval and the runner-ups."""
    from experiments.analyses.optimize import format_result, run_optimize
    from experiments.engine.errors import InputError

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be at least 1 (got {args.workers})")
    if args.budget is not None and not (0 < args.budget < float("inf")):
        raise InputError(f"--budget: must be a positive number of yuan (got {args.budget:g})")
    check_counts(args, {})
    stop_on_sigterm()
    try:
        res = run_optimize(
            args.experiment,
            args.out,
            budget=args.budget,
            objective=args.objective,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=False if args.no_progress else None,
            log=lambda line: print(line, flush=True),
            command=shlex.join(["linkage", *sys.argv[1:]]),
            max_runs=args.max_runs,
        )
    except KeyboardInterrupt:
        where = f" --out {args.out}" if args.out else " --out DIR"
        print(
            f"interrupted; continue with: linkage optimize {args.experiment} --resume{where}",
            file=sys.stderr,
        )
        raise
    print(format_result(res))
    print(
        f"{res.runs} runs ({res.errors} failed) in {res.elapsed_s:.0f} s; results: {res.path}/optimize_final.csv, optimize.csv, optimize.png"
    )
    return 1 if res.errors else 0
