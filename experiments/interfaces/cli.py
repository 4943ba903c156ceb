"""The `linkage` command line.

Each sub-command lives in its own module under `experiments/interfaces/commands/` and exposes
`register(subparsers)`; this file only wires them and turns input errors into exit code 2 with
one line (file, field, problem), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from experiments.engine.errors import InputError, ScenarioError

COMMANDS = (
    "run",
    "validate",
    "params",
    "sweep",
    "compare",
    "report",
    "demo",
    "dashboard",
    "bench",
    "sensitivity",
    "optimize",
    "attribute",
    "robustness",
    "validate_model",
    "district",
    "levers",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linkage",
        description="Four-Society Linkage Simulator (四社联动): run, sweep, compare and report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"experiments.interfaces.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"experiments.interfaces.commands.{name}":
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `linkage` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ScenarioError as e:
        print(f"error: {e.file}: {e.field}: {e.problem}", file=sys.stderr)
        return 2
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a read-only folder, a full disk, a path that cannot be used
        where = e.filename if e.filename is not None else "(file system)"
        print(f"error: {where}: (file): {e.strerror or e}", file=sys.stderr)
        return 2
    except RecursionError:  # a last resort: inputs are refused long before this depth
        print("error: (input): (structure): nested too deeply to read", file=sys.stderr)
        return 2
    except MemoryError:  # a last resort: sizes are checked before anything is allocated
        print("error: (input): (size): not enough memory for this input", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    # Under `python -m`, this file is `__main__`; the error types it catches come from
    # `experiments.engine.errors`, the same classes the commands raise.
    sys.exit(main())
