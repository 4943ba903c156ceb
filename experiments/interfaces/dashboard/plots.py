"""The dashboard's live plots as matplotlib figures (built with `Figure`, no pyplot state, so
they are safe to draw while the play loop steps the model in another thread).

Each function takes the weekly series of a run (`LiveRun.series()`) and a label language.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from experiments.interfaces.dashboard.i18n import channel_name, figure_lang, group_name, t
from model import CHANNELS, GROUPS

Series = dict[str, np.ndarray]

SIZE = (6.0, 3.0)  # inches; three small plots side by side or stacked
DPI = 90


def rolling(values: np.ndarray, weights: np.ndarray | None = None, window: int = 4) -> np.ndarray:
    """Trailing weighted mean over `window` weeks, ignoring NaN (NaN where nothing to average)."""
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & (w > 0)
    num = np.cumsum(np.where(ok, v * w, 0.0))
    den = np.cumsum(np.where(ok, w, 0.0))
    num[window:] = num[window:] - num[:-window]
    den[window:] = den[window:] - den[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def satisfaction(s: Series, window: int = 4) -> np.ndarray:
    """Need satisfaction, rolling, weighted by needs resolved."""
    return rolling(s["need_satisfaction_rate"], s["needs_met"] + s["needs_abandoned"], window)


def mean_wait(s: Series, window: int = 4) -> np.ndarray:
    """Mean wait of met needs in hours, rolling, weighted by needs met."""
    return rolling(s["mean_wait_hours"], s["needs_met"], window)


COMPARE_METRICS: dict[str, tuple[str, Callable[[Series], np.ndarray]]] = {
    "need_satisfaction": ("need_satisfaction", satisfaction),
    "mean_wait_hours": ("mean_wait_hours", mean_wait),
    "needs_abandoned": ("cmp_abandoned", lambda s: rolling(s["needs_abandoned"])),
    "spending": ("cum_spending", lambda s: np.cumsum(s["gov_spending_total"]) / 1e4),
    "active_volunteers": ("active_volunteers", lambda s: s["active_volunteers"]),
    "timebank_balance": ("timebank_balance", lambda s: s["timebank_balance"]),
}
"""Metrics of the side-by-side plot: key -> (label key, series function)."""


def _axes(title: str) -> tuple[Figure, object]:
    fig = Figure(figsize=SIZE, dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.15)
    ax = fig.add_subplot(111)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    return fig, ax


def _weeks(s: Series) -> np.ndarray:
    return np.arange(len(s["needs_met"]))


def needs_figure(s: Series, lang: str) -> Figure:
    """Needs met, abandoned and waiting per week."""
    lang = figure_lang(lang)
    fig, ax = _axes(t("plot_needs", lang))
    x = _weeks(s)
    for key, color in (
        ("needs_met", "#2e8b57"),
        ("needs_abandoned", "#d62728"),
        ("needs_pending", "#1f77b4"),
    ):
        ax.plot(x, s[key], color=color, lw=1.4, label=t(key, lang))
    ax.set_xlabel(t("week", lang))
    ax.set_ylabel(t("needs", lang))
    ax.set_xlim(0, max(10, len(x)))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def groups_figure(s: Series, lang: str) -> Figure:
    """Need satisfaction by resident group (8-week trailing mean)."""
    lang = figure_lang(lang)
    fig, ax = _axes(t("plot_groups", lang))
    x = _weeks(s)
    for g in GROUPS:
        ax.plot(x, rolling(s[f"satisfaction_{g}"], window=8), lw=1.3, label=group_name(g, lang))
    ax.set_xlabel(t("week", lang))
    ax.set_ylabel(t("share", lang))
    ax.set_xlim(0, max(10, len(x)))
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    return fig


def spending_figure(s: Series, lang: str) -> Figure:
    """Cumulative government spending by channel (10,000 yuan), stacked."""
    lang = figure_lang(lang)
    fig, ax = _axes(t("plot_spending", lang))
    x = _weeks(s)
    used = [c for c in CHANNELS if s[f"spending_{c}"].sum() > 0]
    if used and len(x):
        ys = [np.cumsum(s[f"spending_{c}"]) / 1e4 for c in used]
        ax.stackplot(x, ys, labels=[channel_name(c, lang) for c in used], alpha=0.85)
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel(t("week", lang))
    ax.set_xlim(0, max(10, len(x)))
    ax.set_ylim(bottom=0)
    return fig


def has_charity(s: Series) -> bool:
    """Whether the run has a community charity fund that received anything."""
    return bool(len(s["charity_donations"]) and s["charity_donations"].sum() > 0)


def charity_figure(s: Series, lang: str) -> Figure:
    """The charitable channel beside public money: cumulative government spending, donations to
    the community charity fund, the public matching it received and its grants (10,000 yuan)."""
    lang = figure_lang(lang)
    fig, ax = _axes(t("plot_charity", lang))
    x = _weeks(s)
    for key, col, color, ls in (
        ("public_spending", "gov_spending_total", "#555555", "-"),
        ("charity_donations", "charity_donations", "#c9a227", "-"),
        ("charity_matched", "charity_matched", "#1f77b4", "--"),
        ("charity_grants", "charity_grants", "#2e8b57", "-"),
    ):
        ax.plot(x, np.cumsum(s[col]) / 1e4, color=color, lw=1.4, ls=ls, label=t(key, lang))
    ax.set_xlabel(t("week", lang))
    ax.set_xlim(0, max(10, len(x)))
    ax.set_yscale("symlog", linthresh=1.0)  # public money is tens of times the charity's
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def volunteers_figure(s: Series, lang: str) -> Figure:
    """Active volunteers and the time-bank balance (hours, right axis)."""
    lang = figure_lang(lang)
    fig, ax = _axes(t("plot_volunteers", lang))
    fig.subplots_adjust(right=0.88)
    x = _weeks(s)
    ax.plot(x, s["active_volunteers"], color="#f0a040", lw=1.6, label=t("active_volunteers", lang))
    ax.set_xlabel(t("week", lang))
    ax.set_xlim(0, max(10, len(x)))
    ax.set_ylim(0, max(10.0, float(s["active_volunteers"].max()) * 1.15 if len(x) else 10.0))
    ax2 = ax.twinx()
    ax2.plot(
        x,
        s["timebank_balance"],
        color="#7b4fa0",
        lw=1.4,
        ls="--",
        label=t("timebank_balance", lang),
    )
    ax2.set_ylim(
        bottom=0, top=max(10.0, float(s["timebank_balance"].max()) * 1.1 if len(x) else 10.0)
    )
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="lower right")
    return fig


def compare_figure(
    a: Series, b: Series, label_a: str, label_b: str, metric: str, lang: str
) -> Figure:
    """One metric of two runs on one plot.

    Args:
        a: Series of the main run.
        b: Series of the paired run.
        label_a: Legend label of the main run.
        label_b: Legend label of the paired run.
        metric: A key of `COMPARE_METRICS`.
        lang: Label language.
    """
    lang = figure_lang(lang)
    label_key, fn = COMPARE_METRICS[metric]
    fig = Figure(figsize=(8.0, 3.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot(111)
    ax.set_title(t(label_key, lang), fontsize=11)
    ax.grid(alpha=0.3)
    ax.plot(_weeks(a), fn(a), color="#4a78c2", lw=1.8, label=label_a)
    ax.plot(_weeks(b), fn(b), color="#e6550d", lw=1.8, label=label_b)
    ax.set_xlabel(t("week", lang))
    ax.set_xlim(0, max(10, len(a["needs_met"])))
    ax.legend(fontsize=9, loc="best")
    return fig
