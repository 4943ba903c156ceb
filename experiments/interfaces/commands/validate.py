"""`linkage validate FILE...`: check scenario, experiment, optimize or district files without
running them; every file is checked and reported (exit 2 if any fails)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.engine.errors import InputError, ScenarioError
from experiments.engine.scenarios import load_scenario, read_yaml


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate", help="validate scenario, experiment, budget-allocation or district files"
    )
    p.add_argument("files", nargs="+", help="YAML files")
    p.set_defaults(func=main)


def kind_of(data: dict) -> str:
    """What a file is, from its keys: "problem" (for `linkage optimize`), "district" (for
    `linkage district`), "experiment" or "scenario"."""
    if "scenario" in data and any(k in data for k in ("search", "channels", "budget")):
        return "problem"
    if "table" in data and "extends" in data:
        return "district"
    if "scenarios" in data and ("replications" in data or "design" in data or "levers" in data):
        return "experiment"
    return "scenario"


def check_file(path: str) -> str:
    """Validate one file; returns what it is ("scenario 'base'", ...).

    Raises:
        ScenarioError, InputError: the file's first problem.
    """
    from experiments.engine.resources import locate

    path = str(locate(path))  # a shipped file also from outside the repository
    kind = kind_of(read_yaml(Path(path)))
    if kind == "problem":
        from experiments.analyses.optimize import load_problem

        load_problem(path)
        return "budget-allocation problem"
    if kind == "district":
        from experiments.engine.district_spec import load_district

        district = load_district(path)
        return f"district '{district.name}', {len(district.table.streets)} streets"
    if kind == "experiment":
        from experiments.engine.spec import load_experiment

        return f"experiment '{load_experiment(path).name}'"
    return f"scenario '{load_scenario(path).name}'"


def main(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            what = check_file(f)
        except ScenarioError as e:
            print(f"error: {e.file}: {e.field}: {e.problem}", file=sys.stderr)
            bad += 1
        except InputError as e:
            print(f"error: {f}: {e}", file=sys.stderr)
            bad += 1
        except OSError as e:
            print(f"error: {e.filename or f}: (file): {e.strerror or e}", file=sys.stderr)
            bad += 1
        else:
            print(f"ok: {f} ({what})")
    return 2 if bad else 0
