"""The fixed-seed baseline: base.yaml on a small street must give exactly the stored summary.

Any change of the model's numbers shows up here, key by key. When the change is intended,
refresh the stored file with `make baseline` (`python -m tests.make_baseline`) and commit it
with the change; nothing else writes it.
"""

from __future__ import annotations

import json
import math

import pytest
from make_baseline import BASELINE, OVERRIDES, SCENARIO, SEED, compute

REL = 1e-9
"""Relative tolerance: floating-point noise only (sums in another order), nothing real."""


def same(a: float, b: float) -> bool:
    """Equal within REL, or both NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def test_baseline_summary_unchanged():
    if not BASELINE.exists():
        pytest.fail(f"{BASELINE} is missing: run `make baseline`")
    stored = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert (stored["scenario"], tuple(stored["overrides"]), stored["seed"]) == (
        SCENARIO,
        OVERRIDES,
        SEED,
    ), "baseline settings changed: run `make baseline`"
    now = compute()
    old = stored["summary"]
    missing = sorted(set(old) - set(now))
    added = sorted(set(now) - set(old))
    changed = [
        f"{k}: stored {old[k]!r}, now {now[k]!r}"
        for k in sorted(set(old) & set(now))
        if not same(float(old[k]), now[k])
    ]
    problems = (
        [f"missing keys: {missing}"] * bool(missing)
        + [f"new keys: {added}"] * bool(added)
        + changed
    )
    assert not problems, (
        "summary differs from tests/baseline/base_summary.json (if intended, run `make baseline`):\n  "
        + "\n  ".join(problems)
    )


def test_same_helper():
    assert same(1.0, 1.0 + 1e-12) and not same(1.0, 1.0001)
    assert same(float("nan"), float("nan")) and not same(float("nan"), 0.0)
