"""Where the shipped files are: the scenario files and the experiment files.

In a checkout (and an editable install) they are the repository's `scenarios/` and
`experiments/*.yaml`. A regular install (`pip install .`, a wheel) ships the same files as
package data: the experiment files inside the `experiments` package, the scenario tree as
`experiments/shipped_scenarios/` (pyproject.toml maps that package to the `scenarios/` folder);
they are found with `importlib.resources`.

`locate(path)` lets the commands of the README work from any folder: a path that does not exist
but names a shipped file (`scenarios/base.yaml`, `experiments/linkage_modes.yaml`, or a shipped
experiment's `../scenarios/...` reference) resolves to the shipped copy. An existing file always
wins, and a path that is neither stays as given (the caller then reports it as not found).
"""

from __future__ import annotations

import contextlib
import importlib.resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The folder holding the `experiments` package: the checkout, or site-packages when installed."""

SHIPPED_SCENARIOS = "shipped_scenarios"
"""Folder of the scenario tree inside the installed `experiments` package."""


def in_checkout() -> bool:
    """Whether this package runs from a checkout of the repository (its `scenarios/` beside it)."""
    return (ROOT / "scenarios" / "base.yaml").is_file()


def scenarios_dir() -> Path:
    """The shipped scenario tree: the checkout's `scenarios/`, or the installed copy."""
    if in_checkout():
        return ROOT / "scenarios"
    # An installed wheel is a plain folder, so the resource is a real path.
    return Path(str(importlib.resources.files("experiments") / SHIPPED_SCENARIOS))


def experiments_dir() -> Path:
    """The folder of the shipped experiment files (`linkage_modes.yaml`, ...)."""
    return Path(str(importlib.resources.files("experiments")))


def _shipped(parts: tuple[str, ...]) -> Path | None:
    """The shipped file named by repository-relative `parts` (None if it is not shipped)."""
    if len(parts) >= 2 and parts[0] == "scenarios":
        return scenarios_dir().joinpath(*parts[1:])
    if len(parts) == 2 and parts[0] == "experiments" and parts[1].endswith((".yaml", ".yml")):
        return experiments_dir() / parts[1]
    return None


def locate(path: str | Path) -> Path:
    """`path` itself when it exists, else the shipped file it names, else `path` unchanged.

    Args:
        path: A file path as a user or an experiment file wrote it.

    Returns:
        The path to open.
    """
    p = Path(path)
    if p.exists():
        return p
    candidates: list[tuple[str, ...]] = []
    if not p.is_absolute():
        candidates.append(Path(*[x for x in p.parts if x != "."]).parts)
    with contextlib.suppress(ValueError):
        candidates.append(p.resolve().relative_to(ROOT).parts)
    for parts in candidates:
        shipped = _shipped(parts)
        if shipped is not None and shipped.exists():
            return shipped
    return p
