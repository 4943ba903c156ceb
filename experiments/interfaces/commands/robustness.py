"""`linkage robustness STUDY`: every strategy in the same plausible futures; how sure is the
advice, and where does it flip (win probabilities, regret, satisficing, PRIM boxes)."""

from __future__ import annotations

import argparse
import shlex
import sys

from experiments.interfaces.commands import add_execution_options, check_counts, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `robustness` sub-command."""
    p = subparsers.add_parser(
        "robustness",
        help="how sure is the advice: strategies across plausible futures, and where they flip",
        description=(
            "Run every strategy of a robustness study in the same N futures (Latin hypercube "
            "over the uncertainties' plausible ranges; the same random numbers for every "
            "strategy) like 'linkage sweep' (parallel, resumable), then write per strategy the "
            "outcome distributions, win probabilities, regret and satisficing shares, the "
            "conditions under which rankings flip (PRIM, with the 'robustness' extra) and a "
            "figure into the results folder."
        ),
    )
    p.add_argument("study", metavar="STUDY", help="robustness study YAML file")
    p.add_argument("--futures", type=int, metavar="N", help="override the study's futures")
    p.add_argument("--weeks", type=int, metavar="N", help="override the study's weeks per run")
    p.add_argument(
        "--warmup-weeks", type=int, metavar="N", help="override the study's warm-up weeks"
    )
    add_execution_options(p, resume_help="run only what the folder does not hold yet")
    p.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the figure (default en)"
    )
    p.add_argument(
        "--no-discovery", action="store_true", help="skip scenario discovery (PRIM) of the flips"
    )
    p.set_defaults(func=handle)


def summary_text(res: object, lang: str = "en") -> str:
    """The terminal summary: regret and satisficing per strategy, win probabilities of the
    first outcome, and every flip in words."""
    from experiments.interfaces.report.robustness import fmt, labels_of, outcome_name, pct

    study, a, meta = res.study, res.analysis, res.meta  # type: ignore[attr-defined]
    labels = labels_of(meta, lang)
    primary = study.primary
    lines = [f"{outcome_name(primary, lang)} across {len(study.exp.points)} futures:"]
    width = max(len(labels[s]) for s in study.strategies)
    reg = a.regret[a.regret["outcome"] == primary].set_index("strategy")
    sat = a.satisficing[a.satisficing["criterion"] == "all"].set_index("strategy")
    dist = a.distributions[a.distributions["outcome"] == primary].set_index("strategy")
    lines.append(
        f"  {'strategy':<{width}}  {'median':>7}  {'regret mean':>11}  {'p90':>9}  {'best':>5}"
        + ("  good enough" if not sat.empty else "")
    )
    for s in study.strategies:
        r = reg.loc[s]
        line = (
            f"  {labels[s]:<{width}}  {fmt(dist.loc[s, 'median'], primary, lang):>7}  "
            f"{fmt(r['regret_mean'], primary, lang, True):>11}  "
            f"{fmt(r['regret_p90'], primary, lang, True):>9}  {pct(r['best_share']):>5}"
        )
        if not sat.empty:
            line += f"  {pct(sat.loc[s, 'share']):>11}"
        lines.append(line)
    w = a.wins[a.wins["outcome"] == primary].set_index(["strategy", "other"])["p_win"]
    lines.append("\nwin probability (row beats column; ties half):")
    short = {s: s[:8] for s in study.strategies}
    lines.append(f"  {'':<{width}}" + "".join(f"  {short[b]:>8}" for b in study.strategies))
    for s in study.strategies:
        lines.append(
            f"  {labels[s]:<{width}}" + "".join(f"  {pct(w[(s, b)]):>8}" for b in study.strategies)
        )
    flips = a.flips[a.flips["flips"] > 0] if not a.flips.empty else a.flips
    if not flips.empty:
        lines.append("\nwhere rankings flip:")
        for _, r in flips.sort_values("flip_share", ascending=False, kind="stable").iterrows():
            lines.append(f"  - {r['text_zh' if lang == 'zh' else 'text_en']}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Run the study, write its figure, print the summary."""
    from experiments.analyses.discovery import EXTRA_HINT, available
    from experiments.analyses.robustness import load_robustness, run_robustness
    from experiments.interfaces.report.fonts import font_rc
    from experiments.interfaces.report.robustness import FIGURE, figure_png

    check_counts(args, {"workers": 1, "futures": 2, "weeks": 1, "warmup_weeks": 0})
    font_rc(args.lang)  # fail now if Chinese cannot be drawn
    study = load_robustness(
        args.study,
        max_runs=args.max_runs,
        futures=args.futures,
        weeks=args.weeks,
        warmup_weeks=args.warmup_weeks,
    )
    stop_on_sigterm()
    res = run_robustness(
        study,
        args.out,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
        max_runs=args.max_runs,
        discover=not args.no_discovery,
    )
    pic = figure_png(res.analysis.values, res.meta, args.lang)
    if pic is not None:
        (res.path / FIGURE).write_bytes(pic)
    sw = res.sweep
    print(
        f"{study.name}: {len(study.strategies)} strategies x {len(study.exp.points)} futures x "
        f"{study.spec.replications} replication(s), {len(study.uncertainties)} uncertainties: "
        f"{sw.total} runs ({sw.ok} ok, {sw.errors} failed; {sw.ran} run now in "
        f"{sw.elapsed_s:.1f} s)\n"
    )
    print(summary_text(res, args.lang))
    if not available() and not args.no_discovery:
        print(f"\nscenario discovery (where rankings flip) needs EMA Workbench: {EXTRA_HINT}")
    print(f"\nresults: {res.path} (robustness_*.csv, robustness.json, {FIGURE})")
    if sw.errors:
        print(f"first failure: {sw.first_error}", file=sys.stderr)
        return 1
    return 0
