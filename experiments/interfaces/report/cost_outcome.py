"""The cost–outcome chart: spending against need satisfaction, with the efficient frontier,
and a small greedy label placer that keeps scenario names off other points and error bars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.interfaces.report.data import ReportData
from experiments.interfaces.report.labels import money_unit, t
from experiments.interfaces.report.plotting import DPI, err
from experiments.interfaces.report.tables import row, value


def efficient_frontier(costs: list[float], outcomes: list[float]) -> list[int]:
    """Indices of the points no other point beats: none costs less (or the same) and achieves
    more. Sorted by cost.

    Args:
        costs: Cost of each point (lower is better).
        outcomes: Outcome of each point (higher is better).

    Returns:
        The frontier's indices, cheapest first (points with NaN are never on it).
    """
    idx = [i for i in range(len(costs)) if not (math.isnan(costs[i]) or math.isnan(outcomes[i]))]
    idx.sort(key=lambda i: (costs[i], -outcomes[i]))
    out, best = [], -math.inf
    for i in idx:
        if outcomes[i] > best:
            out.append(i)
            best = outcomes[i]
    return out


CANDIDATES = (
    (9, 0, "left", "center"), (-9, 0, "right", "center"), (0, 11, "center", "bottom"),
    (0, -11, "center", "top"), (9, 9, "left", "bottom"), (9, -9, "left", "top"),
    (-9, 9, "right", "bottom"), (-9, -9, "right", "top"), (24, 20, "left", "bottom"),
    (24, -20, "left", "top"), (-24, 20, "right", "bottom"), (-24, -20, "right", "top"),
    (0, 30, "center", "bottom"), (0, -30, "center", "top"),
)  # fmt: skip
"""Label positions to try around a point: offset in points, alignment."""


def _overlap(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    fig: Figure, ax, xs: list[float], ys: list[float], errs: list[tuple], labels: list[str]
) -> None:
    """Annotate each point with its label where it covers the fewest other markers, error
    bars and labels (greedy over `CANDIDATES`).

    Args:
        fig: The figure (its layout is run first, so positions are final).
        ax: The axes.
        xs: Point x values; ys likewise.
        errs: Per point (x low, x high, y low, y high) ends of its error bars.
        labels: The labels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    canvas = FigureCanvasAgg(fig)
    if fig.get_layout_engine() is not None:
        fig.get_layout_engine().execute(fig)
    renderer = canvas.get_renderer()
    to_px = ax.transData.transform
    scale = fig.dpi / 72.0
    obstacles = []
    for x, y, (xlo, xhi, ylo, yhi) in zip(xs, ys, errs, strict=True):
        px, py = to_px((x, y))
        obstacles.append(
            Bbox.from_extents(px - 8 * scale, py - 8 * scale, px + 8 * scale, py + 8 * scale)
        )
        (ax0, _), (ax1, _) = to_px((xlo, y)), to_px((xhi, y))
        obstacles.append(Bbox.from_extents(ax0, py - 2 * scale, ax1, py + 2 * scale))
        (_, ay0), (_, ay1) = to_px((x, ylo)), to_px((x, yhi))
        obstacles.append(Bbox.from_extents(px - 2 * scale, ay0, px + 2 * scale, ay1))
    frame = ax.get_window_extent(renderer)
    placed = []
    for i in sorted(range(len(xs)), key=lambda k: -ys[k]):
        best = None
        for dx, dy, ha, va in CANDIDATES:
            ann = ax.annotate(
                labels[i],
                (xs[i], ys[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=9,
            )
            box = ann.get_window_extent(renderer)
            ann.remove()
            own = obstacles[3 * i : 3 * i + 3]
            score = sum(_overlap(box, o) for o in obstacles if not any(o is w for w in own))
            score += sum(_overlap(box, o) for o in own[1:]) * 0.5 + sum(
                _overlap(box, o) for o in placed
            )
            inside = _overlap(box, frame)
            score += 4 * (box.width * box.height - inside)
            score += 0.02 * box.width * box.height * (abs(dx) + abs(dy)) / 20
            if best is None or score < best[0] - 1e-9:
                best = (score, dx, dy, ha, va, box)
            if score == 0:
                break
        _, dx, dy, ha, va, box = best
        far = abs(dx) > 12 or abs(dy) > 12
        ax.annotate(
            labels[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
            fontsize=9, color="#222222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.6} if far else None,
        )  # fmt: skip
        placed.append(box)


def cost_outcome_figure(data: ReportData, head: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """Cost per year (accrual: cash + change in the time bank's liability, when the results
    have it; else cash spending) against need satisfaction, one point per arm with 95% error
    bars; the efficient frontier is dashed and its points filled; a small mark shows the cash
    spending where it differs from the accrual cost."""
    lang = data.lang
    div, unit = money_unit(lang)
    accrual = "gov_cost_accrual_annual" in data.runs
    xkey = "gov_cost_accrual_annual" if accrual else "gov_spending_annual"
    if accrual and row(head, data.arms[0], xkey) is None:
        head = pd.concat([head, data.compare(["gov_cost_accrual_annual"])], ignore_index=True)
    xs, ys, xe, ye, cash = [], [], [], [], []
    for a in data.arms:
        x, xlo, xhi = (value(head, a, xkey, c) for c in ("mean", "ci_low", "ci_high"))
        cash.append(value(head, a, "gov_spending_annual") / div)
        y, ylo, yhi = (
            value(head, a, "need_satisfaction_rate", c) for c in ("mean", "ci_low", "ci_high")
        )
        xs.append(x / div)
        ys.append(100 * y)
        xe.append(err(x, xlo, xhi, 1 / div))
        ye.append(err(y, ylo, yhi, 100))
    front = efficient_frontier(xs, ys)
    fig = Figure(figsize=(9, 5.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    if len(front) > 1:
        ax.plot(
            [xs[i] for i in front], [ys[i] for i in front], "--", color="#333333", lw=1.2, zorder=1
        )
    for i, a in enumerate(data.arms):
        on = i in front
        ax.errorbar(
            xs[i], ys[i], xerr=xe[i], yerr=ye[i], fmt="s" if a in data.baseline_arms else "o",
            ms=9, color=colors[a], mfc=colors[a] if on else "white", mew=2, capsize=3, zorder=3,
        )  # fmt: skip
    handles = [
        Line2D(
            [], [], ls="--", color="#333333", marker="o", mfc="#333333", label=t("frontier", lang)
        ),
        Line2D(
            [], [], ls="", marker="o", mfc="white", mec="#333333", mew=2, label=t("dominated", lang)
        ),
    ]
    differs = [
        i
        for i in range(len(xs))
        if accrual and np.isfinite(cash[i]) and abs(cash[i] - xs[i]) > 1e-3 * max(1e-9, abs(xs[i]))
    ]
    for i in differs:  # the cash figure beside the accrual one
        ax.plot([cash[i], xs[i]], [ys[i], ys[i]], ":", color=colors[data.arms[i]], lw=1, zorder=2)
        ax.plot(cash[i], ys[i], "|", ms=12, mew=2, color=colors[data.arms[i]], zorder=2)
    if differs:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="|",
                ms=12,
                mew=2,
                color="#333333",
                label=t("cash_marker", lang),
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    ax.set_xlabel(t("accrual_axis" if accrual else "spend_axis", lang, unit=unit))
    ax.set_ylabel(t("need_sat_pct", lang))
    ax.set_title(t("cost_outcome", lang))
    ax.grid(alpha=0.3)
    finite = [i for i in range(len(xs)) if np.isfinite(xs[i]) and np.isfinite(ys[i])]
    if finite:
        x0 = min([xs[i] for i in finite] + [cash[i] for i in differs])
        x1 = max([xs[i] for i in finite] + [cash[i] for i in differs])
        y0, y1 = min(ys[i] - ye[i][0][0] for i in finite), max(ys[i] + ye[i][1][0] for i in finite)
        xpad = max((x1 - x0) * 0.06, abs(x1) * 0.03, 1e-9)
        ypad = max((y1 - y0) * 0.08, 1.0)
        longest = max(len(data.display(data.arms[i])) * (2 if lang == "zh" else 1) for i in finite)
        ax.set_xlim(x0 - xpad * (1 + longest / 14), x1 + xpad * (1 + longest / 10))
        ax.set_ylim(y0 - ypad, y1 + ypad)
        errs = [
            (xs[i] - xe[i][0][0], xs[i] + xe[i][1][0], ys[i] - ye[i][0][0], ys[i] + ye[i][1][0])
            for i in finite
        ]
        place_labels(
            fig,
            ax,
            [xs[i] for i in finite],
            [ys[i] for i in finite],
            errs,
            [data.display(data.arms[i]) for i in finite],
        )
    return fig
