"""Shared test helpers: small, fast streets built from the real parameter tree."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from experiments.engine.scenarios import apply_overrides, build_params, resolve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

SMALL = [
    "street.n_residents=10000",
    "street.n_communities=5",
    "run.weeks=104",
    "run.warmup_weeks=26",
]
"""A 10,000-resident street of 5 communities for two years: big enough for clear effects, about
a second per run."""


def scenario_params(rel: str, *overrides: str, small: bool = True):
    """Params of a shipped scenario file, on the small street unless `small` is False."""
    path = SCENARIOS / rel
    data = apply_overrides(resolve(path), (SMALL if small else []) + list(overrides))
    return build_params(data, path)


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    os.environ.setdefault("PYTHONHASHSEED", "0")
