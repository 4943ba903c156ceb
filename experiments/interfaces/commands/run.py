"""`linkage run SCENARIO`: one simulation, a summary table, and its files in an output folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from experiments.engine.errors import InputError
from experiments.engine.folders import check_out, safe_name
from experiments.engine.outputs import to_json, write_csv
from experiments.engine.provenance import provenance
from experiments.engine.scenarios import load_scenario

HEADLINE = (
    ("need_satisfaction_rate", "need satisfaction", "{:.1%}"),
    ("needs_met_rate", "needs met", "{:.1%}"),
    ("needs_arisen", "needs arisen", "{:,.0f}"),
    ("needs_met", "needs met (count)", "{:,.0f}"),
    ("needs_abandoned", "needs abandoned", "{:,.0f}"),
    ("needs_pending", "needs pending at end", "{:,.0f}"),
    ("mean_wait_hours", "mean wait (h)", "{:.1f}"),
    ("p90_wait_hours", "90th pct wait (h)", "{:.1f}"),
    ("professional_match_rate", "served at required level", "{:.1%}"),
    ("gov_spending_annual", "government spending / year (yuan)", "{:,.0f}"),
    ("budget_execution_rate", "budget executed (spent / allocated)", "{:.1%}"),
    ("gov_returned_annual", "returned unspent / year (yuan)", "{:,.0f}"),
    ("gov_cost_accrual_annual", "cost / year, accrual (yuan)", "{:,.0f}"),
    ("cost_per_need_met", "cost per need met, accrual (yuan)", "{:,.1f}"),
    ("cost_per_need_met_cash", "cost per need met, cash (yuan)", "{:,.1f}"),
    ("active_volunteers", "active volunteers (mean)", "{:,.0f}"),
    ("volunteer_retention_annual", "volunteer retention / year", "{:.1%}"),
    ("sw_count", "social workers employed (mean)", "{:.1f}"),
    ("sw_utilization", "social-worker utilization", "{:.1%}"),
    ("so_count", "social organizations at end", "{:.0f}"),
    ("contract_resolution_rate", "contracted services resolved", "{:.1%}"),
    ("contracts_terminated_share", "contracts ended early by evaluation", "{:.1%}"),
    ("rectification_notices_per_contract", "rectification notices / contract", "{:.2f}"),
    ("timebank_balance", "time-bank balance (h)", "{:,.0f}"),
    ("referrals", "referrals", "{:,.0f}"),
    ("joint_meeting_resolutions", "joint-meeting resolutions", "{:,.0f}"),
    ("satisfaction_min_group", "worst-off group satisfaction", "{:.1%}"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one scenario and print its summary")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", type=int, default=1, help="run seed (default 1)")
    p.add_argument("--weeks", type=int, metavar="N", help="override run.weeks")
    p.add_argument(
        "--warmup-weeks",
        type=int,
        metavar="N",
        help=(
            "override run.warmup_weeks (default: the scenario's; when --weeks is not longer "
            "than that, the warm-up becomes a quarter of --weeks, with a note)"
        ),
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="a.b.c=VALUE",
        help="override a parameter (repeatable)",
    )
    p.add_argument("--out", help="output folder (default: results/run-<scenario>-<time>)")
    p.add_argument(
        "--parquet", action="store_true", help="write the time series as Parquet instead of CSV"
    )
    p.set_defaults(func=main)


def format_summary(summary: dict[str, float]) -> str:
    """The headline metrics as an aligned two-column table."""
    width = max(len(label) for _, label, _ in HEADLINE)
    lines = []
    for key, label, fmt in HEADLINE:
        v = summary.get(key)
        text = "n/a" if v is None or v != v else fmt.format(v)
        lines.append(f"  {label:<{width}}  {text:>14}")
    return "\n".join(lines)


def run_overrides(args: argparse.Namespace) -> list[str]:
    """The `--set` overrides plus those of --weeks and --warmup-weeks.

    `--weeks N` alone keeps the scenario's warm-up when it is shorter than N weeks; otherwise
    (a short run of a scenario with a 52-week warm-up) the warm-up becomes N // 4 weeks and a
    note on stderr says so, rather than failing on a warm-up longer than the run.
    """
    if args.weeks is not None and args.weeks < 1:
        raise InputError(f"--weeks: must be at least 1 (got {args.weeks})")
    if args.warmup_weeks is not None and args.warmup_weeks < 0:
        raise InputError(f"--warmup-weeks: must be at least 0 (got {args.warmup_weeks})")
    if args.weeks is not None and args.warmup_weeks is not None and args.warmup_weeks >= args.weeks:
        raise InputError(
            f"--warmup-weeks: must be less than --weeks ({args.warmup_weeks} >= {args.weeks})"
        )
    overrides = list(args.overrides)
    if args.weeks is not None:
        overrides.append(f"run.weeks={args.weeks}")
    if args.warmup_weeks is not None:
        overrides.append(f"run.warmup_weeks={args.warmup_weeks}")
    elif args.weeks is not None:
        own = load_scenario(args.scenario, list(args.overrides)).params.run.warmup_weeks
        if own >= args.weeks:
            short = args.weeks // 4
            overrides.append(f"run.warmup_weeks={short}")
            print(
                f"note: the scenario's {own}-week warm-up does not fit in --weeks {args.weeks}; "
                f"warm-up shortened to {short} weeks (a quarter of the run; "
                "set it with --warmup-weeks)",
                file=sys.stderr,
            )
    return overrides


def main(args: argparse.Namespace) -> int:
    from model import LinkageModel, check_invariants

    overrides = run_overrides(args)
    if not 0 <= args.seed < 2**63:
        raise InputError(f"--seed: must be a whole number from 0 to 2**63-1 (got {args.seed})")
    sc = load_scenario(args.scenario, overrides)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else Path("results") / f"run-{safe_name(sc.name)}-{stamp}"
    check_out(out)  # before the simulation: a bad --out must not throw a finished run away
    t0 = time.perf_counter()
    model = LinkageModel(sc.params, seed=args.seed)
    model.run()
    wall = time.perf_counter() - t0
    summary = model.summary()
    violations = check_invariants(model, summary)
    ts = model.timeseries()
    try:
        _write_outputs(out, args, sc, summary, ts, overrides, wall, violations)
    except OSError as e:  # a full disk, a folder made read-only meanwhile
        raise InputError(f"{e.filename or out}: --out: cannot write ({e.strerror or e})") from None
    print(
        f"{sc.name}: {sc.params.run.weeks} weeks, seed {args.seed}, {sc.params.street.n_residents:,} residents, {wall:.1f} s"
    )
    print(format_summary(summary))
    if violations:
        print("INVARIANT VIOLATIONS: " + "; ".join(violations), file=sys.stderr)
    print(
        f"wrote {out}/ (summary.json, timeseries.{'parquet' if args.parquet else 'csv'}, params.yaml, manifest.json)"
    )
    return 1 if violations else 0


def _write_outputs(out, args, sc, summary, ts, overrides, wall, violations) -> None:
    """summary.json, the time series, params.yaml and manifest.json of one run."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(to_json(summary, indent=2, sort_keys=True) + "\n")
    if args.parquet:
        ts.to_parquet(out / "timeseries.parquet", index=False)
    else:
        write_csv(ts, out / "timeseries.csv")
    (out / "params.yaml").write_text(
        yaml.safe_dump(sc.params.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    )
    manifest = {
        "command": "linkage " + " ".join(sys.argv[1:]) if sys.argv else "linkage run",
        "scenario": sc.name,
        "scenario_file": sc.path,
        "overrides": overrides,
        "seed": args.seed,
        "weeks": sc.params.run.weeks,
        "wall_time_s": round(wall, 3),
        "invariant_violations": violations,
        **provenance(),
    }
    (out / "manifest.json").write_text(to_json(manifest, indent=2, ensure_ascii=False) + "\n")
