"""`linkage sensitivity EXPERIMENT`: global sensitivity analysis (Sobol' or Morris, SALib)."""

from __future__ import annotations

import argparse
import shlex
import sys

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sensitivity` sub-command."""
    p = subparsers.add_parser(
        "sensitivity",
        help="which levers matter: Sobol' indices or Morris screening over an experiment's ranges",
        description=(
            "Global sensitivity analysis over the levers and uncertainties of an experiment file "
            "(their 'range:' or 'values:'). Samples with SALib, runs every point x replication "
            "like 'linkage sweep' (parallel, resumable), averages replications per point and "
            "writes sensitivity.csv and one ranked chart per outcome into the results folder."
        ),
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file")
    p.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default=None,
        help="Sobol' indices (default) or Morris elementary effects",
    )
    p.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="Sobol' base sample N (power of 2; N(D+2) points) or Morris trajectories "
        "(r(D+1) points); default: the experiment's 'samples'",
    )
    p.add_argument("--levels", type=int, metavar="K", help="Morris grid levels (default 4)")
    p.add_argument(
        "--outcome",
        dest="outcomes",
        action="extend",
        nargs="+",
        metavar="METRIC",
        help="summary metrics to analyse (default: the experiment's metrics, else "
        "need_satisfaction_rate cost_per_need_met gov_spending_total satisfaction_min_group)",
    )
    p.add_argument(
        "--replications", type=int, metavar="N", help="override the experiment's replications"
    )
    add_execution_options(p, resume_help="run only what the folder does not hold yet")
    p.add_argument("--top", type=int, default=5, metavar="K", help="parameters printed per outcome")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the analysis; print the top-ranked parameters per outcome."""
    from experiments.analyses.sensitivity import format_ranking, run_sensitivity
    from experiments.engine.errors import InputError

    for name in ("workers", "samples", "replications", "levels", "top"):
        v = getattr(args, name)
        if v is not None and v < (2 if name in ("samples", "levels") else 1):
            raise InputError(f"--{name}: too small (got {v})")
    if args.levels is not None and args.levels > 1000:
        raise InputError(f"--levels: at most 1000 (got {args.levels})")
    check_counts(args, {})
    stop_on_sigterm()
    res = run_sensitivity(
        args.experiment,
        args.out,
        method=args.method,
        samples=args.samples,
        num_levels=args.levels,
        outcomes=args.outcomes,
        replications=args.replications,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
        max_runs=args.max_runs,
    )
    sw = res.sweep
    d = res.design
    print(
        f"{d.method} ({'N' if d.method == 'sobol' else 'r'}={d.samples}): "
        f"{len(d.parameters)} parameters, {len(d.points)} points, "
        f"{sw.total} runs ({sw.ok} ok, {sw.errors} failed; {sw.ran} run now in {sw.elapsed_s:.1f} s)"
    )
    print(format_ranking(res.table, args.top))
    print(f"results: {res.path}/sensitivity.csv and {len(res.figures)} charts")
    if sw.errors:
        print(f"first failure: {sw.first_error}", file=sys.stderr)
        return 1
    return 0
