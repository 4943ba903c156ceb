"""Sub-commands of `linkage`: each module exposes `register(subparsers)`.

Options and behaviour shared by the commands that run many simulations (sweep, sensitivity,
optimize, demo) live here, so they read and behave the same everywhere.
"""

from __future__ import annotations

import argparse
import signal

from experiments.engine.spec import MAX_RUNS


def add_execution_options(p: argparse.ArgumentParser, resume_help: str) -> None:
    """Add --out, --workers, --executor, --scheduler, --resume and --no-progress to `p`.

    Args:
        p: The sub-command's parser.
        resume_help: What --resume does for this command.
    """
    p.add_argument(
        "--out", metavar="DIR", help="results folder (default: results/<name>-<timestamp>)"
    )
    p.add_argument(
        "--workers", type=int, help="worker processes (default: all cores; 1 runs in-process)"
    )
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local processes (default) or Dask",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="connect to this Dask scheduler (implies --executor dask)",
    )
    p.add_argument("--resume", action="store_true", help=resume_help)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--max-runs",
        type=int,
        metavar="N",
        help=f"refuse to plan more runs than this (default {MAX_RUNS:,}; counted before the "
        "design is built)",
    )


def check_counts(args: argparse.Namespace, minimum: dict[str, int]) -> None:
    """Refuse option values below their minimum, and a --max-runs below 1.

    Args:
        args: The parsed options.
        minimum: Option name (as in `args`) -> least value allowed.

    Raises:
        InputError: one line naming the option.
    """
    from experiments.engine.errors import InputError

    for name, least in {**minimum, "max_runs": 1}.items():
        v = getattr(args, name, None)
        if v is not None and v < least:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag}: must be at least {least} (got {v})")


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """Treat SIGTERM (`kill`) like Ctrl-C: the command stops the same way and keeps what it has
    finished (the runs saved so far, the manifest)."""
    signal.signal(signal.SIGTERM, _sigterm)
