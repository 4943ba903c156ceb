"""`linkage district FILE`: every street of a district table, one budget split across them."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from typing import TYPE_CHECKING

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm

if TYPE_CHECKING:  # pragma: no cover
    from experiments.analyses.district import DistrictResult


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `district` sub-command."""
    p = subparsers.add_parser(
        "district",
        help="run a district: every street of a table, one budget split across them",
        description=(
            "Build each street of a district from its rows of a street and community table "
            "(CSV or Excel), split the district budget across the streets by a rule (per "
            "resident, need-weighted, equal, or performance-based), run every street x "
            "replication (x the compared alternative, paired by seed) through the sweep engine, "
            "and write district totals, per-street outcomes, the spread between streets and "
            "which streets gain most. A stopped study continues with --resume. See "
            "docs/district.md; then: linkage report DIR."
        ),
    )
    p.add_argument("district", metavar="FILE", help="district YAML file")
    add_execution_options(p, resume_help="continue an interrupted study in --out DIR")
    p.add_argument("--replications", type=int, metavar="N", help="override the file's replications")
    p.add_argument(
        "--weeks", type=int, metavar="N", help="override run.weeks of every street (not the pilot)"
    )
    p.add_argument(
        "--warmup-weeks", type=int, metavar="N", help="override run.warmup_weeks of every street"
    )
    p.set_defaults(func=handle)


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{100 * x:+.1f}"


def summary_text(res: DistrictResult, top: int = 5) -> str:
    """The district totals per arm, the spread between streets and the streets that gain most."""
    t = res.tables.totals
    d = res.district
    lines = [
        f"{d.name}: {len(d.table.streets)} streets, {d.table.n_communities} communities, "
        f"{d.table.residents:,} residents; budget {d.spec.budget:,.0f} yuan/year"
    ]

    def get(arm: str, metric: str) -> dict:
        row = t[(t["arm"] == arm) & (t["metric"] == metric)]
        return row.iloc[0].to_dict() if len(row) else {}

    for a in res.arms:
        sat = get(a.key, "need_satisfaction_rate")
        worst = get(a.key, "worst_street_satisfaction")
        gini = get(a.key, "gini_streets")
        lines.append(
            f"  {a.key:<24} satisfaction {_pct(sat.get('mean', math.nan))} "
            f"[{_pct(sat.get('ci_low', math.nan))}, {_pct(sat.get('ci_high', math.nan))}]; "
            f"worst street {_pct(worst.get('mean', math.nan))}; "
            f"Gini between streets {gini.get('mean', math.nan):.3f}"
        )
    if len(res.arms) == 2:
        diff = get("difference", "need_satisfaction_rate")
        sign = "*" if diff.get("excludes_zero") else ""
        lines.append(
            f"  {res.arms[1].key} - {res.arms[0].key}: {_pts(diff.get('mean', math.nan))} points "
            f"[{_pts(diff.get('ci_low', math.nan))}, {_pts(diff.get('ci_high', math.nan))}]{sign} "
            "(paired by seed; * the 95% interval excludes 0)"
        )
        g = res.tables.gains
        if g is not None and len(g):
            lines.append(f"  streets that gain most ({res.arms[1].key} against {res.arms[0].key}):")
            for _, r in g.head(top).iterrows():
                star = "*" if r["satisfaction_gain_excludes_zero"] else ""
                lines.append(
                    f"    {int(r['rank']):>2}. {r['street']}: {_pts(r['satisfaction_gain'])} points "
                    f"[{_pts(r['satisfaction_gain_ci_low'])}, "
                    f"{_pts(r['satisfaction_gain_ci_high'])}]{star}"
                )
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Run the study; print the district summary; exit 1 when some runs failed."""
    from experiments.analyses.district import run_district

    check_counts(args, {"workers": 1, "replications": 1, "weeks": 1, "warmup_weeks": 0})
    stop_on_sigterm()  # `kill` saves what finished, like Ctrl-C
    res = run_district(
        args.district,
        args.out,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        replications=args.replications,
        weeks=args.weeks,
        warmup_weeks=args.warmup_weeks,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
        max_runs=args.max_runs,
        log=lambda line: print(line, flush=True),
    )
    print(summary_text(res))
    print(
        f"{res.ok} ok, {res.errors} failed of {res.runs} runs; {res.ran} run in "
        f"{res.elapsed_s:.1f} s; results: {res.path}  (next: linkage report {res.path})"
    )
    if res.errors:
        print(f"first failure: {res.first_error}", file=sys.stderr)
        return 1
    return 0
