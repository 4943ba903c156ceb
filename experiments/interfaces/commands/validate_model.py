"""`linkage validate-model [--quick]`: the evidence that the model reproduces what is known.

Runs the analytic queueing checks (Erlang C, Erlang A, Little's law), the time-bank ledger audit,
the calibration targets and the patterns the default street must reproduce at once
(`experiments.analyses.validation`), prints a pass/fail table with the numbers, and exits 0 when
every check passes, 1 otherwise. `--markdown docs/validation.md` also writes the table into that
file (between its `validation-table` markers). See docs/validation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from experiments.engine.outputs import to_json

GROUPS = ("analytic", "ledger", "calibration", "patterns")
"""As `experiments.analyses.validation.GROUPS` (kept here so `--help` imports no model)."""
MARKER = "validation-table"
"""Markers of the generated table in docs/validation.md."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate-model` sub-command."""
    p = sub.add_parser(
        "validate-model",
        help="check the model against queueing formulas and published figures",
        description="Run the validation checks (analytic queues, time-bank ledger, calibration "
        "targets, patterns of the default street) and print a pass/fail table. Exit 0 when all "
        "pass, 1 otherwise.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer replications and shorter runs, no 10-year run (about half the time)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        metavar="GROUP",
        help=f"run only this group of checks (repeatable; one of {', '.join(GROUPS)})",
    )
    p.add_argument("--workers", type=int, help="processes (default: 2, or 1 on a single core)")
    p.add_argument("--seed", type=int, help="root seed of the replications (default: fixed)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the rows as JSON")
    p.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write the table into FILE between '<!-- validation-table:start -->' and "
        "'<!-- validation-table:end -->' (docs/validation.md)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the checks and print the table; 0 when all pass, 1 otherwise."""
    from experiments.analyses import validation as v

    settings = v.QUICK if args.quick else v.FULL
    changes: dict[str, int] = {"workers": args.workers if args.workers else v.default_workers()}
    if args.seed is not None:
        changes["root_seed"] = args.seed
    if changes["workers"] < 1:
        from experiments.engine.errors import InputError

        raise InputError("--workers must be at least 1")
    settings = dataclasses.replace(settings, **changes)
    markdown = getattr(args, "markdown", None)
    if markdown:
        from experiments.engine.outputs import check_marked_section

        check_marked_section(markdown, MARKER)  # before the long run, not after
    groups = tuple(args.only) if args.only else GROUPS
    mode = "quick" if args.quick else "full"
    print(
        f"validating the model ({mode}: {settings.queue_reps} queue replications x "
        f"{settings.queue_weeks} weeks, {settings.calib_reps} calibration replications x "
        f"{settings.calib_weeks} weeks, {settings.pattern_reps} pattern replications x "
        f"{settings.pattern_weeks} weeks, {settings.bounds_reps} x {settings.bounds_weeks} weeks "
        f"of full linkage; {settings.workers} worker(s), root seed {settings.root_seed})",
        flush=True,
    )
    t0 = time.perf_counter()
    rows = v.run_all(settings, groups)
    wall = time.perf_counter() - t0
    print(v.format_rows(rows))
    n_fail = sum(not r.passed for r in rows)
    print()
    print(
        f"statistical checks pass when |mean(measured - target)| <= {v.SE_TOL} standard errors "
        "over replications; ranges show their centre and half-width (docs/validation.md)."
    )
    print(f"{len(rows) - n_fail} of {len(rows)} checks passed, {n_fail} failed ({wall:.0f} s)")
    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "settings": dataclasses.asdict(settings),
            "rows": [r.as_dict() for r in rows],
            "wall_time_s": round(wall, 1),
        }
        out.write_text(to_json(payload, indent=2) + "\n", encoding="utf-8")  # NaN as null
        print(f"wrote {out}")
    if markdown:
        from experiments.engine.outputs import replace_marked_section

        text = v.markdown_rows(rows, settings, mode, groups, wall)
        replace_marked_section(markdown, MARKER, text)
        print(f"wrote the table into {markdown}")
    return 1 if n_fail else 0
