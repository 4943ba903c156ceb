"""The Four-Society Linkage model (四社联动): parameters, agents, service flow, policies, metrics.

Quick use::

    from model import Params, run_model
    res = run_model(Params(), seed=1)
    res.summary["need_satisfaction_rate"]

This package imports nothing from `experiments/` or any interface and never touches files or
the terminal.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import pandas as pd

from model.metrics import SERIES, check_invariants
from model.model import STEP_ORDER, LinkageModel
from model.params import CHANNELS, GROUPS, Params
from model.policies import REGISTRY as POLICIES

__version__ = "0.1.0"


@dataclass
class RunResult:
    """What one run returns: post-warm-up summary metrics and the weekly time series."""

    summary: dict[str, float]
    timeseries: pd.DataFrame
    params: Params
    seed: int
    invariant_violations: list[str]


def run_model(params: Params | dict | None = None, seed: int = 0) -> RunResult:
    """Run one simulation: a pure function of (parameters, seed).

    Args:
        params: Parameters (defaults if None).
        seed: The run's seed.

    Returns:
        The summary, the weekly time series and any invariant violations (normally none).
    """
    m = LinkageModel(params, seed=seed)
    m.run()
    summary = m.summary()
    out = RunResult(summary, m.timeseries(), m.p, seed, check_invariants(m, summary))
    release_model(m)
    return out


def release_model(model: LinkageModel) -> None:
    """Drop the references Mesa keeps to a finished model, so that its memory can be freed.

    Mesa 3.3 counts agent ids per model in a class-level mapping, `mesa.Agent._ids`, keyed by
    the model itself: every model ever built stays reachable from it, with all its agents and
    arrays (about 30 MB for the default street), and a worker running thousands of runs grows
    without bound. Later Mesa versions (3.5 on Python >= 3.12) keep the counter on the model
    and have no such mapping; then this does nothing. The model must not be used afterwards
    (new agents would restart their ids at 1). A model is in reference cycles (agents point
    back to it), so its memory returns at Python's next full garbage collection.
    """
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, MutableMapping):
        ids.pop(model, None)


__all__ = [
    "CHANNELS",
    "GROUPS",
    "POLICIES",
    "SERIES",
    "STEP_ORDER",
    "LinkageModel",
    "Params",
    "RunResult",
    "check_invariants",
    "release_model",
    "run_model",
    "__version__",
]
