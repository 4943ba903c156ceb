"""Shared plotting helpers: figure size and resolution, colours per arm, error bars, bands,
legends and PNG output. Figures use matplotlib's object API on the Agg canvas (no pyplot).
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.interfaces.report.data import ReportData

DPI = 150
BASE_COLOR = "#6b6b6b"
SMOOTH_WEEKS = 4


def arm_colors(data: ReportData) -> dict[str, str]:
    """A colour per arm: grey for the baseline, the tab10/tab20 palette for the others."""
    others = [a for a in data.arms if a not in data.baseline_arms]
    name = "tab10" if len(others) <= 9 else "tab20"
    palette = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps[name].colors]
    palette = [c for c in palette if c not in ("#7f7f7f", "#c7c7c7")]
    out = {a: BASE_COLOR for a in data.baseline_arms}
    for i, a in enumerate(others):
        out[a] = palette[i % len(palette)]
    return out


def err(mean: float, lo: float, hi: float, scale: float = 1.0) -> list[list[float]]:
    """Asymmetric error-bar lengths [[below], [above]] of an interval (0 where it is NaN)."""
    lo_e = (mean - lo) * scale if np.isfinite(lo) else 0.0
    hi_e = (hi - mean) * scale if np.isfinite(hi) else 0.0
    return [[max(0.0, lo_e)], [max(0.0, hi_e)]]


def warmup(ax, data: ReportData) -> None:
    """Shade the warm-up weeks."""
    if data.warmup:
        ax.axvspan(0, data.warmup, color="#000000", alpha=0.07, lw=0)


def band(ax, bands: pd.DataFrame, arm: str, color: str, scale: float = 1.0, **kw) -> None:
    """Plot one arm's weekly mean as a line and its 95% interval as a shaded band.

    Args:
        ax: The axes.
        bands: Output of `data.weekly_band`.
        arm: The arm to draw.
        color: Its colour.
        scale: Multiply values by this (e.g. 100 for percent).
        **kw: Passed to `ax.plot`.
    """
    b = bands[bands["arm"] == arm]
    if b.empty:
        return
    ax.plot(b["week"], b["mean"] * scale, color=color, lw=1.6, **kw)
    lo, hi = b["lo"].to_numpy(float) * scale, b["hi"].to_numpy(float) * scale
    if np.isfinite(lo).any():
        ax.fill_between(b["week"], lo, hi, color=color, alpha=0.15, lw=0)


def arm_legend(
    fig: Figure, data: ReportData, colors: dict[str, str], arms: list[str] | None = None
) -> None:
    """A legend of the arms' colours below the figure."""
    arms = data.arms if arms is None else arms
    handles = [Line2D([], [], color=colors[a], lw=2.5, label=data.display(a)) for a in arms]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=min(3, len(handles)),
        fontsize=9,
        frameon=False,
    )


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()
