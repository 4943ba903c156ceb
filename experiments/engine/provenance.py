"""Provenance for every output: package versions, git hash, time (Covasim's `set_metadata`)."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("four-society-linkage", "mesa", "simpy", "numpy", "pandas", "pyarrow", "pydantic")


def git_hash(root: str | Path | None = None) -> str | None:
    """The current commit of the repository holding this package (None outside git)."""
    root = Path(root) if root else Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def provenance() -> dict:
    """Versions, git hash, host and creation time."""
    return {
        "versions": versions(),
        "git_hash": git_hash(),
        "host": platform.node(),
        "created": now_iso(),
    }
