"""`linkage demo`: both studies, their reports, and the headline tables, in a few minutes.

Runs the linkage-modes study (six modes against the siloed baseline), a small robustness study
of the modes (64 plausible futures, 39-week runs on a reduced street, into the modes' results
folder, so that their report says how sure its advice is) and the funding-strategies
study (five ways to spend the budget against block grants) one after the other, each on all
cores through the local executor (on 2 cores this beats running the two studies side by side,
which leaves a core idle once the shorter study ends), then writes each study's report into
its results folder: `results/<study>-<timestamp>/report/report.html`.

The default size (6 replications of 156 weeks on the full 50,000-resident street) keeps the
95% intervals of the headline differences to a few points; `--replications` and `--weeks`
trade time for precision.

After the linkage-modes study, an attribution of siloed → full linkage (`linkage attribute`:
which lever made the difference) runs into its results folder (`attribution/`), on a smaller
street for this part only (`ATTRIBUTION`: 5,000 residents in 2 communities with the budget
scaled to them, 104 weeks, 3 replications, 8 sampled orders; about two minutes on 2 cores),
and the modes report opens with its waterfall (the report states that size). `--no-attribution`
leaves it out.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from experiments.interfaces.commands import stop_on_sigterm

STUDIES = ("linkage_modes", "funding_strategies")
"""Experiment files (experiments/<name>.yaml) the demo runs, in order."""

DEFAULT_REPLICATIONS = 6
DEFAULT_WEEKS = 156
ATTRIBUTION = {
    "residents": 5_000,
    "communities": 2,
    "weeks": 104,
    "warmup_weeks": 26,
    "replications": 3,
    "permutations": 8,
    "interaction_levers": 4,
}
"""Size of the demo's attribution (siloed -> full linkage), smaller than the studies'."""
ROBUSTNESS = "robustness_modes"
"""The robustness study run into the linkage-modes results folder ("How sure is this?")."""
DEFAULT_FUTURES = 64
ROBUSTNESS_WEEKS = (39, 13)
"""Weeks per run of the demo's robustness study, and of them warm-up: shorter than the study
file's, to keep the demo to minutes (half a year measured after a quarter of warm-up)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the linkage-modes and funding-strategies studies and write their reports",
        description=(
            "Run the linkage-modes study and the funding-strategies study with a few "
            "replications, write each one's report (HTML, PNG, CSV) into its results folder, "
            "and print the headline tables."
        ),
    )
    p.add_argument(
        "--replications",
        type=int,
        default=DEFAULT_REPLICATIONS,
        metavar="N",
        help=f"replications per scenario (default {DEFAULT_REPLICATIONS})",
    )
    p.add_argument(
        "--weeks",
        type=int,
        default=DEFAULT_WEEKS,
        metavar="N",
        help=(
            f"weeks per run (default {DEFAULT_WEEKS}); the first 52 are warm-up, "
            "a quarter of the run when it is 104 weeks or shorter"
        ),
    )
    p.add_argument(
        "--futures",
        type=int,
        default=DEFAULT_FUTURES,
        metavar="N",
        help=f"futures of the modes' robustness study (default {DEFAULT_FUTURES}; 0 skips it)",
    )
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default="results",
        help="where the results folders go (default: results)",
    )
    p.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the reports (default en)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--no-attribution",
        action="store_true",
        help="skip the attribution of siloed -> full linkage (which lever made the difference)",
    )
    p.set_defaults(func=handle)


def experiment_file(name: str) -> Path:
    """The shipped experiment file of a study (experiments/<name>.yaml)."""
    from experiments.engine.resources import experiments_dir

    return experiments_dir() / f"{name}.yaml"


def robustness_study(out: Path, args: argparse.Namespace) -> int:
    """The modes across `args.futures` plausible futures (`experiments/robustness_modes.yaml`,
    a reduced street), into the modes' results folder so that their report has the section
    "How sure is this?"; returns the number of failed runs."""
    from experiments.analyses.robustness import load_robustness, run_robustness

    weeks, warmup = ROBUSTNESS_WEEKS
    study = load_robustness(
        experiment_file(ROBUSTNESS), futures=args.futures, weeks=weeks, warmup_weeks=warmup
    )
    print(
        f"      + {ROBUSTNESS}: {len(study.strategies)} modes x {args.futures} futures "
        f"({weeks} weeks of which {warmup} warm-up, reduced street) -> {out}",
        file=sys.stderr,
        flush=True,
    )
    t0 = time.perf_counter()
    res = run_robustness(
        study,
        out,
        workers=args.workers,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
    )
    sw = res.sweep
    print(
        f"      {sw.ok} ok, {sw.errors} failed of {sw.total} runs, analysed in "
        f"{time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return sw.errors


def handle(args: argparse.Namespace) -> int:
    """Run both studies, write their reports, print the headline tables."""
    from experiments.engine.errors import InputError
    from experiments.engine.sweep import default_out, run_sweep
    from experiments.interfaces.commands.report import headline_text
    from experiments.interfaces.report.build import build_report
    from experiments.interfaces.report.fonts import font_rc

    for flag, v in (("--replications", args.replications), ("--weeks", args.weeks)):
        if v < 1:
            raise InputError(f"{flag}: must be at least 1 (got {v})")
    if args.futures != 0 and args.futures < 2:
        raise InputError(f"--futures: must be 0 (none) or at least 2 (got {args.futures})")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be at least 1 (got {args.workers})")
    warmup = 52 if args.weeks > 104 else args.weeks // 4
    font_rc(args.lang)  # before hours of work: fail now if Chinese cannot be drawn
    stop_on_sigterm()
    root = Path(args.out)
    t0 = time.perf_counter()
    reports = []
    failed = 0
    for k, name in enumerate(STUDIES, 1):
        out = default_out(name, root)
        print(
            f"[{k}/{len(STUDIES)}] {name}: {args.replications} replications x {args.weeks} weeks "
            f"-> {out}",
            file=sys.stderr,
            flush=True,
        )
        res = run_sweep(
            experiment_file(name),
            out,
            workers=args.workers,
            replications=args.replications,
            weeks=args.weeks,
            warmup_weeks=warmup,
            progress=False if args.no_progress else None,
            command=shlex.join(["linkage", *sys.argv[1:]]),
            results_root=root,
        )
        failed += res.errors
        print(
            f"      {res.ok} ok, {res.errors} failed of {res.total} runs in {res.elapsed_s:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        if name == "linkage_modes" and res.ok and not getattr(args, "no_attribution", False):
            failed += demo_attribution(res.path / "attribution", args)
        if name == "linkage_modes" and args.futures and res.ok:
            failed += robustness_study(res.path / "robustness", args)
        if res.ok:
            reports.append(build_report(res.path, lang=args.lang))
    wall = time.perf_counter() - t0
    from experiments.interfaces.report.labels import experiment_label

    for rep in reports:
        data = rep.data
        title = experiment_label(data.results.manifest, data.lang)
        print(f"\n== {title} ==")  # the table marks its baseline
        print(headline_text(data, rep.headline))
    print("\nreports:")
    for rep in reports:
        print(f"  {rep.html}")
    print(f"done in {wall:.0f} s")
    return 1 if failed else 0


def demo_attribution(out: Path, args: argparse.Namespace) -> int:
    """Attribute siloed -> full linkage into `out` at the `ATTRIBUTION` size (the budget scaled
    to the smaller street); print its table and time. Returns the failed runs."""
    from experiments.analyses.attribution import format_table, run_attribution
    from experiments.engine.resources import scenarios_dir
    from experiments.engine.scenarios import load_scenario

    a, b = (
        scenarios_dir() / "modes" / "siloed.yaml",
        scenarios_dir() / "modes" / "full_linkage.yaml",
    )
    size = ATTRIBUTION
    p = load_scenario(a).params
    scale = size["residents"] / p.street.n_residents
    sets = [
        f"street.n_residents={size['residents']}",
        f"street.n_communities={size['communities']}",
        f"funding.special_fund={round(p.funding.special_fund * scale)}",
        f"funding.lottery_fund={round(p.funding.lottery_fund * scale)}",
    ]
    print(
        f"      attribution siloed -> full_linkage ({size['residents']:,} residents, "
        f"{size['weeks']} weeks, {size['replications']} replications, "
        f"{size['permutations']} orders) -> {out}",
        file=sys.stderr,
        flush=True,
    )
    t0 = time.perf_counter()
    res = run_attribution(
        a,
        b,
        out,
        sets=sets,
        replications=size["replications"],
        weeks=size["weeks"],
        warmup_weeks=size["warmup_weeks"],
        permutations=size["permutations"],
        interaction_levers=size["interaction_levers"],
        workers=args.workers,
        progress=False if args.no_progress else None,
        command=shlex.join(["linkage", *sys.argv[1:]]),
    )
    print(
        f"      {res.runs} runs ({res.errors} failed) in {time.perf_counter() - t0:.0f} s\n"
        + format_table(res),
        file=sys.stderr,
        flush=True,
    )
    return res.errors
