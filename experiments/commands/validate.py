"""`linkage validate FILE...`: check scenario (or experiment) files without running them."""

from __future__ import annotations

import argparse
import sys

from experiments.scenarios import ScenarioError, load_scenario, read_yaml


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate scenario or experiment files")
    p.add_argument("files", nargs="+", help="YAML files")
    p.set_defaults(func=main)


def _is_experiment(path: str) -> bool:
    try:
        data = read_yaml(__import__("pathlib").Path(path))
    except ScenarioError:
        return False
    return "scenarios" in data and ("replications" in data or "design" in data or "levers" in data)


def _is_problem(path: str) -> bool:
    """A budget-allocation problem for `linkage optimize`."""
    try:
        data = read_yaml(__import__("pathlib").Path(path))
    except ScenarioError:
        return False
    return "scenario" in data and any(k in data for k in ("search", "channels", "budget"))


def main(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            if _is_problem(f):
                from experiments.optimize import load_problem

                load_problem(f)
                print(f"ok: {f} (budget-allocation problem)")
            elif _is_experiment(f):
                from experiments.spec import load_experiment

                exp = load_experiment(f)
                print(f"ok: {f} (experiment '{exp.name}')")
            else:
                sc = load_scenario(f)
                print(f"ok: {f} (scenario '{sc.name}')")
        except ScenarioError as e:
            print(f"error: {e.file}: {e.field}: {e.problem}", file=sys.stderr)
            bad += 1
    return 2 if bad else 0
