"""Scenario discovery: under which conditions does a ranking flip? PRIM, from EMA Workbench.

For a pair of strategies whose ranking flips in some futures, the futures where the usual loser
wins are the cases of interest; PRIM (the Patient Rule Induction Method of Friedman and Fisher,
as implemented in `ema_workbench.analysis.prim`, an optional extra: `pip install
'four-society-linkage[robustness]'`) peels the box of uncertainty values that holds them. This
module only chooses one box on PRIM's peeling trajectory and puts it into words:

1. PRIM peels (peel_alpha 0.05, least mass 0.05) and pastes, giving a trajectory of ever smaller
   boxes, each with its *coverage* (share of all cases of interest inside the box) and its
   *density* (share of the futures inside the box that are cases of interest).
2. Of the boxes on the trajectory, the one with the largest product of coverage and density
   is chosen (a box that holds most cases and little else).
3. Restrictions whose quasi-p value (EMA's one-sided binomial test of Bryant and Lempert 2010)
   exceeds 0.05 are dropped, one at a time (the least significant first; then more, while
   the box restricts more than `max_dims` parameters), and the box's statistics recomputed:
   only conditions the data support are stated, and few enough to read.
4. A box whose density stays below `threshold` (default 0.5: inside it, the ranking flips in at
   least half the futures) is not reported.

`find_box` returns a `Box` (or None when PRIM finds no restriction worth stating), and
`box_words` writes its conditions in English or Chinese with the parameters' plain names
(`experiments.analyses.parameter_words`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.analyses import parameter_words as words
from experiments.engine.uncertainties import leaves

EXTRA_HINT = "pip install 'four-society-linkage[robustness]'"
"""How to get scenario discovery (EMA Workbench)."""

SIGNIFICANCE = 0.05
"""Restrictions whose quasi-p value is above this are dropped."""


@functools.lru_cache(maxsize=1)
def prim_module() -> Any:
    """`ema_workbench.analysis.prim`, or None when EMA Workbench is not installed.

    EMA Workbench warns on import about optional parts it does not find (ipyparallel, altair);
    those warnings say nothing about PRIM and are silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from ema_workbench.analysis import prim
        except ImportError:
            return None
    return prim


def available() -> bool:
    """Whether scenario discovery can run (EMA Workbench is installed)."""
    return prim_module() is not None


def ema_version() -> str | None:
    """The installed EMA Workbench's version, or None."""
    from importlib import metadata

    try:
        return metadata.version("ema_workbench")
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Restriction:
    """One condition of a box: `parameter` between `low` and `high` (None: not restricted on
    that side), or in `values` for a categorical parameter."""

    parameter: str
    low: float | None = None
    high: float | None = None
    values: list[Any] | None = None
    qp: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The restriction as plain data (for JSON)."""
        return {
            "parameter": self.parameter,
            "low": self.low,
            "high": self.high,
            "values": self.values,
            "qp": self.qp,
        }


@dataclass
class Box:
    """A PRIM box: its conditions and statistics.

    Attributes:
        restrictions: The conditions, most significant first.
        coverage: Share of all cases of interest that lie in the box.
        density: Share of the futures in the box that are cases of interest.
        mass: Share of all futures that lie in the box.
        n: Futures in the box.
        k: Cases of interest in the box.
    """

    restrictions: list[Restriction] = field(default_factory=list)
    coverage: float = float("nan")
    density: float = float("nan")
    mass: float = float("nan")
    n: int = 0
    k: int = 0


@contextlib.contextmanager
def _quiet() -> Any:
    """EMA logs every peel at INFO and pandas may warn inside it: keep the terminal clean."""
    logger = logging.getLogger("EMA")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old)


def _restrictions(prim: Any, box: Any, i: int) -> list[Restriction]:
    lim = box.box_lims[i]
    init = prim.box_init
    qp = box.qp[i]
    out = []
    for col in lim.columns:
        lo, hi = lim[col].iloc[0], lim[col].iloc[1]
        lo0, hi0 = init[col].iloc[0], init[col].iloc[1]
        q = [v for v in qp.get(col, []) if v is not None and v >= 0]
        qmin = float(min(q)) if q else None
        if isinstance(lo, set):  # a categorical parameter: the values kept
            if lo != lo0:
                out.append(Restriction(col, values=sorted(lo, key=str), qp=qmin))
            continue
        low = float(lo) if lo > lo0 else None
        high = float(hi) if hi < hi0 else None
        if low is not None or high is not None:
            out.append(Restriction(col, low, high, qp=qmin))
    out.sort(key=lambda r: (r.qp if r.qp is not None else 1.0, r.parameter))
    return out


def _stats(box: Any, i: int) -> tuple[float, float, float, int, int]:
    row = box.peeling_trajectory.iloc[i]
    return (
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        int(row["n"]),
        int(row["k"]),
    )


def find_box(
    x: pd.DataFrame, cases: np.ndarray, threshold: float = 0.5, max_dims: int = 3
) -> Box | None:
    """The box of uncertainty values that holds the cases of interest (PRIM).

    Args:
        x: One row per future, one column per uncertainty (numbers; other columns are
            categorical).
        cases: True where the future is a case of interest (the ranking flips).
        threshold: Least density of a box worth reporting.
        max_dims: Most parameters the chosen box restricts.

    Returns:
        The chosen box, or None when no restriction survives (or EMA Workbench is missing).
    """
    prim = prim_module()
    cases = np.asarray(cases, dtype=bool)
    if prim is None or not cases.any() or cases.all():
        return None
    x = x.reset_index(drop=True).copy()
    for col in x.columns:
        if pd.api.types.is_bool_dtype(x[col]) or not pd.api.types.is_numeric_dtype(x[col]):
            x[col] = x[col].astype(str)  # categorical
        else:  # whole numbers too: EMA 2.5 pastes fractional limits, which pandas 3 refuses
            x[col] = x[col].astype(float)  # in an integer column
    with _quiet():
        # EMA's threshold is both the least density of a box it keeps and the cut that makes
        # y a case of interest (y >= threshold): a tiny one keeps every box, and the choice
        # below applies `threshold` to the trajectory.
        p = prim.Prim(x, cases.astype(float), threshold=1e-9, peel_alpha=0.05, mass_min=0.05)
        box = p.find_box()
        if box is None:
            return None
        traj = box.peeling_trajectory
        traj = traj[traj["res_dim"] >= 1]
        if traj.empty:
            return None
        score = (traj["coverage"] * traj["density"]).rename("score")
        pick = pd.concat([traj, score], axis=1).sort_values(
            ["score", "res_dim", "id"], ascending=[False, True, True]
        )
        box.select(int(pick.index[0]))
        while True:
            rs = _restrictions(p, box, box._cur_box)
            weak = [r for r in rs if r.qp is not None and r.qp > SIGNIFICANCE]
            if len(rs) > max_dims and not weak:
                weak = rs  # too many conditions: the least significant goes first
            if not weak:
                break
            if len(rs) == 1:
                return None  # the only condition is not supported by the data
            worst = max(weak, key=lambda r: (r.qp if r.qp is not None else 1.0, r.parameter))
            box.drop_restriction(worst.parameter)
        rs = _restrictions(p, box, box._cur_box)
        if not rs:
            return None
        coverage, density, mass, n, k = _stats(box, box._cur_box)
    if density < threshold:
        return None
    return Box(rs, coverage, density, mass, n, k)


def condition_words(r: Restriction, lang: str = "en") -> str:
    """One condition in words: "the platform's matching delay is above 12 h"."""
    zh = lang == "zh"
    name = words.name(r.parameter, lang)
    if r.values is not None:
        vals = ", ".join(str(v) for v in r.values)
        return f"{name}为{vals}" if zh else f"{name} is {vals}"
    leaf = leaves().get(r.parameter)
    if leaf is not None and leaf.integer:  # whole numbers: the box's limits as the least and
        least = math.ceil(r.low - 1e-9) if r.low is not None else None  # most values inside
        most = math.floor(r.high + 1e-9) if r.high is not None else None
        a = words.value(r.parameter, least, lang) if least is not None else None
        b = words.value(r.parameter, most, lang) if most is not None else None
        if a is not None and b is not None:
            return f"{name}为{a}至{b}" if zh else f"{name} is {a} to {b}"
        if a is not None:
            return f"{name}不少于{a}" if zh else f"{name} is at least {a}"
        return f"{name}不超过{b}" if zh else f"{name} is at most {b}"
    lo = words.value(r.parameter, r.low, lang) if r.low is not None else None
    hi = words.value(r.parameter, r.high, lang) if r.high is not None else None
    if lo is not None and hi is not None:
        return f"{name}介于{lo}与{hi}之间" if zh else f"{name} is between {lo} and {hi}"
    if lo is not None:
        return f"{name}高于{lo}" if zh else f"{name} is above {lo}"
    return f"{name}低于{hi}" if zh else f"{name} is below {hi}"


def box_words(box: Box, lang: str = "en") -> str:
    """The box's conditions joined in words ("A and B" / "A且B")."""
    parts = [condition_words(r, lang) for r in box.restrictions]
    if lang == "zh":
        return "且".join(parts)
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
