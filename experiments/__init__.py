"""Experiments: run many simulations of the model and analyse them.

Kept light on purpose: importing `experiments` imports nothing heavy. Use
`experiments.load_results(path)` in a notebook to get a results folder's runs, time series and
manifest in one call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from experiments.compare import Results

__all__ = ["load_results"]


def load_results(path: str | Path) -> Results:
    """Load a results folder written by `linkage sweep` (see `experiments.compare.Results`)."""
    from experiments.compare import load_results as _load

    return _load(path)
