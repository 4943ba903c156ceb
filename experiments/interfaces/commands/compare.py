"""`linkage compare RESULTS`: means, 95% CIs and paired differences against the baseline."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `compare` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="compare scenarios of a results folder (mean, 95%% CI, paired difference)",
        description=(
            "Per scenario (and parameter point): the mean and 95% confidence interval of each metric, "
            "and the difference to the baseline paired by replication (same seed), with its own CI. "
            "Writes compare.csv into the results folder."
        ),
    )
    p.add_argument("results", metavar="RESULTS", help="results folder written by 'linkage sweep'")
    p.add_argument(
        "--baseline", metavar="SCENARIO", help="baseline scenario (default: the experiment's)"
    )
    p.add_argument(
        "--metric",
        dest="metrics",
        action="extend",
        nargs="+",
        metavar="M",
        help="metrics to compare (default: all; the headline ones are printed)",
    )
    p.add_argument(
        "--csv", metavar="FILE", help="write the table here (default: RESULTS/compare.csv)"
    )
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the comparison and write the CSV."""
    from experiments.analyses.compare import HEADLINE, format_table, load_results
    from experiments.engine.errors import ExperimentError
    from experiments.engine.input_files import short_repr
    from experiments.engine.outputs import write_csv

    res = load_results(args.results)
    ok = res.runs["status"] == "ok"
    if not ok.any():
        first = next((e for e in res.runs["error"] if isinstance(e, str) and e), None)
        raise ExperimentError(
            res.path,
            "runs",
            f"no successful runs to compare ({len(res.runs)} runs"
            + (f", all failed; the first: {short_repr(first)[1:-1]})" if first else ")"),
        )
    metrics = args.metrics or res.metrics
    table = res.compare(baseline=args.baseline, metrics=metrics)
    shown = args.metrics or [m for m in HEADLINE if m in metrics] or metrics[:6]
    print(
        f"{res.manifest.get('experiment', res.path.name)}: {len(res.runs)} runs, "
        f"{int((res.runs['status'] == 'ok').sum())} ok\n"
    )
    print(format_table(table[table["metric"].isin(shown)], res.parameters))
    out = Path(args.csv) if args.csv else res.path / "compare.csv"
    write_csv(table, out)
    print(f"\ntable of {len(metrics)} metrics written to {out}")
    return 0
