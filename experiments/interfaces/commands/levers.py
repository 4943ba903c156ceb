"""`linkage levers [--quick]`: do the levers bind? Paired-seed effects with 95% intervals.

Runs the arms of `experiments.analyses.levers` (capacity levers on base; each
policy switched from base and removed from full linkage), prints one line per lever and, with
`--markdown docs/validation.md`, writes both tables into that file between its `levers-table`
markers. Exit 0 when every policy moves its target metric in the seed's direction with an
interval that excludes 0 when removed from full linkage, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from experiments.engine.outputs import to_json

MARKER = "levers-table"
"""Markers of the generated tables in docs/validation.md."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `levers` sub-command."""
    p = sub.add_parser(
        "levers",
        help="effect of each lever on its target metric, paired seeds, with 95%% intervals",
        description="Capacity levers on base and each policy switched from base and removed "
        "from full linkage: paired-seed effects on the policy's target metric and on need "
        "satisfaction, with 95%% t intervals.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a 20,000-resident street and 4 seeds instead of the default street and 6",
    )
    p.add_argument("--reps", type=int, help="paired seeds per arm")
    p.add_argument("--workers", type=int, help="processes (default: 2, or 1 on a single core)")
    p.add_argument("--seed", type=int, help="root seed of the replications (default: fixed)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the effects")
    p.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write the tables into FILE between '<!-- levers-table:start -->' and "
        "'<!-- levers-table:end -->' (docs/validation.md)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the arms, print the effects; 0 when every policy binds from full linkage."""
    from experiments.analyses import levers as lv
    from experiments.analyses.validation import default_workers
    from experiments.engine.errors import InputError

    settings = lv.QUICK if args.quick else lv.FULL
    changes: dict[str, int] = {"workers": args.workers if args.workers else default_workers()}
    if args.reps is not None:
        changes["reps"] = args.reps
    if args.seed is not None:
        changes["root_seed"] = args.seed
    if changes["workers"] < 1:
        raise InputError("--workers must be at least 1")
    if changes.get("reps", settings.reps) < 2:
        raise InputError("--reps must be at least 2 (an interval needs two paired seeds)")
    settings = dataclasses.replace(settings, **changes)
    if args.markdown:
        from experiments.engine.outputs import check_marked_section

        check_marked_section(args.markdown, MARKER)
    n_arms = len(lv.arms(settings))
    print(
        f"levers: {n_arms} arms x {settings.reps} paired seeds, {settings.weeks} weeks "
        f"({settings.workers} worker(s), root seed {settings.root_seed})",
        flush=True,
    )
    t0 = time.perf_counter()
    runs = lv.run_levers(settings)
    wall = time.perf_counter() - t0
    for line in lv.summarize(runs):
        print(line)
    rows = lv.lever_effects(runs)
    in_full = [r for r in rows if r["full"] is not None]
    binding = [r for r in in_full if lv.binds(r["full"], r["lever"].sign)]
    print(
        f"{len(binding)} of {len(in_full)} policies bind when removed from full linkage "
        f"({wall:.0f} s)"
    )
    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_json(lv.as_records(runs), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    if args.markdown:
        from experiments.engine.outputs import replace_marked_section

        replace_marked_section(args.markdown, MARKER, lv.markdown(runs, settings))
        print(f"wrote the tables into {args.markdown}")
    return 0 if len(binding) == len(in_full) else 1
