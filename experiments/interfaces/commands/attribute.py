"""`linkage attribute A.yaml B.yaml`: which lever made the difference between two scenarios."""

from __future__ import annotations

import argparse
import shlex
import sys

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `attribute` sub-command."""
    from experiments.analyses.attribution import (
        EXACT_MAX,
        INTERACTION_LEVERS,
        PERMUTATIONS,
        REPLICATIONS,
    )

    p = subparsers.add_parser(
        "attribute",
        help="which lever made the difference: Shapley values of the levers between two scenarios",
        description=(
            "Decompose the difference B - A of outcome metrics among the levers whose "
            "parameters differ (declared under 'levers:' in the scenario files, else one per "
            "policy section, the whole budget split, and one per other section). Runs A with "
            "every subset of the levers set to B's values (exact Shapley values up to "
            f"--exact-max levers, default {EXACT_MAX}: 2^{EXACT_MAX} = 1,024 subsets; beyond, "
            "sampled orders in antithetic pairs), every subset on the same replication seeds, "
            "through the sweep engine (parallel, resumable). Writes attribution.csv, "
            "interactions.csv, attribution.json and a waterfall chart into the results folder."
        ),
    )
    p.add_argument("a", metavar="A.yaml", help="scenario to start from")
    p.add_argument("b", metavar="B.yaml", help="scenario to end at (values explain B - A)")
    p.add_argument(
        "--metric",
        dest="metrics",
        action="append",
        metavar="METRIC",
        help="summary metric to attribute (repeatable; the first is the primary one; default: "
        "need_satisfaction_rate mean_wait_hours cost_per_need_met gov_spending_annual "
        "active_volunteers satisfaction_min_group)",
    )
    p.add_argument(
        "--replications",
        type=int,
        metavar="N",
        help=f"replications per subset (default {REPLICATIONS}; more extends a resumed folder)",
    )
    p.add_argument("--weeks", type=int, metavar="N", help="override run.weeks of every run")
    p.add_argument(
        "--warmup-weeks", type=int, metavar="N", help="override run.warmup_weeks of every run"
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="a.b.c=VALUE",
        help="override a parameter of both scenarios (repeatable), e.g. a smaller street",
    )
    p.add_argument(
        "--exact-max",
        type=int,
        default=EXACT_MAX,
        metavar="N",
        help=f"most levers for exact Shapley values over all 2^n subsets (default {EXACT_MAX}: "
        "1,024 subsets, about a night of runs on the default street; beyond, the subsets "
        "double with every lever while a sampled order needs at most n-1 new ones)",
    )
    p.add_argument(
        "--permutations",
        type=int,
        default=PERMUTATIONS,
        metavar="M",
        help=f"sampled orders beyond --exact-max levers (default {PERMUTATIONS}, in antithetic "
        "pairs; each subset runs once however many orders pass through it)",
    )
    p.add_argument(
        "--interaction-levers",
        type=int,
        default=INTERACTION_LEVERS,
        metavar="K",
        help=f"with sampled orders, measure the pairwise interactions of the K levers of largest "
        f"value (default {INTERACTION_LEVERS}; exact attributions measure every pair)",
    )
    p.add_argument("--seed", type=int, default=None, metavar="N", help="root seed")
    add_execution_options(p, resume_help="continue an interrupted attribution in --out DIR")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the attribution; print the levers, the table and where the files are."""
    from experiments.analyses.attribution import (
        ROOT_SEED,
        format_levers,
        format_table,
        run_attribution,
    )
    from experiments.interfaces.report.attribution import write_charts

    check_counts(
        args,
        {"workers": 1, "replications": 1, "weeks": 1, "warmup_weeks": 0, "permutations": 2},
    )
    if args.seed is not None and args.seed < 0:
        from experiments.engine.errors import InputError

        raise InputError(f"--seed: must be at least 0 (got {args.seed})")
    stop_on_sigterm()
    res = run_attribution(
        args.a,
        args.b,
        args.out,
        metrics=args.metrics,
        sets=args.sets,
        replications=args.replications,
        weeks=args.weeks,
        warmup_weeks=args.warmup_weeks,
        root_seed=ROOT_SEED if args.seed is None else args.seed,
        exact_max=args.exact_max,
        permutations=args.permutations,
        interaction_levers=args.interaction_levers,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
        max_runs=args.max_runs,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    charts = write_charts(res.meta, res.path)
    print(format_levers(res))
    print()
    print(format_table(res))
    others = [m for m in res.meta["settings"]["metrics"][1:]]
    if others:
        print("\nother metrics (Shapley values; * the 95% interval excludes 0):")
        t = res.values
        for m in others:
            sub = t[t["metric"] == m].sort_values("rank").head(5)
            vals = ", ".join(
                f"{r.lever} {r.phi:+.4g}{'*' if r.excludes_zero else ''}" for r in sub.itertuples()
            )
            s = res.meta["metrics"][m]
            print(f"  {m}: B - A {s['total']:+.4g}; largest: {vals}")
    print(
        f"\n{res.runs} runs ({res.ran} run now, {res.errors} failed); results: {res.path} "
        f"(attribution.csv, interactions.csv, attribution.json, "
        f"{', '.join(c.name for c in charts)})"
    )
    if res.errors:
        print("some runs failed; the values use the replications without failures", file=sys.stderr)
        return 1
    return 0
