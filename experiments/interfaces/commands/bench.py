"""`linkage bench [--quick] [--json FILE]`: measure the model's speed and memory.

Prints a table (population update vs one Mesa agent per resident, whole model vs a bare SimPy
M/M/c queue, the default run's time, memory and phase shares, 10^4-10^6 residents, the
linkage-modes study on 1 and 2 workers, a dashboard step) with the targets of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` sub-command."""
    p = sub.add_parser(
        "bench",
        help="measure speed and memory against reference implementations",
        description="Benchmark the model: the population update against one Mesa agent per "
        "resident, the whole model against a bare SimPy M/M/c queue, the default run's time, "
        "memory and phases, 10^4-10^6 residents, the linkage-modes study on 1 and 2 workers, "
        "and a dashboard step. Timings are wall-clock: run it on an otherwise idle machine.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller and fewer runs (10^4 and 10^5 residents, short runs): about 15 s",
    )
    p.add_argument(
        "--json", dest="json_out", metavar="FILE", help="also write every figure as JSON"
    )
    p.set_defaults(func=main)


def _clean(x):
    """JSON without NaN/inf (they become null)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table, write the JSON; exit 0."""
    from experiments.bench import FULL, QUICK, format_table, run_bench

    if args.json_out:
        out = Path(args.json_out)
        if out.parent and not out.parent.exists():
            from experiments.engine.errors import InputError

            raise InputError(f"--json: folder {out.parent} does not exist")
    result = run_bench(
        QUICK if args.quick else FULL,
        quick=args.quick,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(format_table(result))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(_clean(result.to_json()), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        print(f"wrote {args.json_out}")
    return 0
