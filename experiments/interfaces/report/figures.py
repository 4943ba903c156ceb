"""The report's figures, drawn with matplotlib's object API on the Agg canvas (no pyplot).

Each `*_figure` function returns a `matplotlib.figure.Figure` (None when the data do not allow
it); `render_figures` draws them all with the language's fonts and returns PNG bytes by file
name. Colours are fixed per arm across figures; the baseline is grey.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.interfaces.report.cost_outcome import cost_outcome_figure, efficient_frontier
from experiments.interfaces.report.data import ReportData, weekly_band
from experiments.interfaces.report.labels import (
    CHANNELS,
    GROUPS,
    channel_name,
    community_name,
    group_name,
    money_unit,
    t,
)
from experiments.interfaces.report.plotting import (
    BASE_COLOR,
    DPI,
    SMOOTH_WEEKS,
    arm_colors,
    arm_legend,
    band,
    err,
    png,
    warmup,
)
from experiments.interfaces.report.tables import value

__all__ = ["efficient_frontier", "render_figures"]


def timeseries_figure(data: ReportData, colors: dict[str, str]) -> Figure | None:
    """Need satisfaction and active volunteers per week: mean over replications, 95% band."""
    sat = weekly_band(data, "need_satisfaction_rate", smooth=SMOOTH_WEEKS)
    vol = weekly_band(data, "active_volunteers")
    if sat.empty and vol.empty:
        return None
    lang = data.lang
    fig = Figure(figsize=(9, 7.2), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for a in data.arms:
        band(ax1, sat, a, colors[a], 100)
        band(ax2, vol, a, colors[a])
    for ax in (ax1, ax2):
        warmup(ax, data)
        ax.grid(alpha=0.3)
    ax1.set_ylabel(t("need_sat_pct", lang))
    ax2.set_ylabel(t("active_vol", lang))
    ax2.set_xlabel(t("week", lang))
    ax1.set_title(t("over_time", lang))
    arm_legend(fig, data, colors)
    return fig


def _errors(eq: pd.DataFrame, arm: str, groups: list[str], col: str) -> np.ndarray:
    """Error-bar lengths (2 x groups, in points) of the mean ("") or the difference ("diff")."""
    lo, hi = (f"{col}_ci_low", f"{col}_ci_high") if col else ("ci_low", "ci_high")
    mid = col or "mean"
    out = []
    for g in groups:
        key = f"satisfaction_{g}"
        e = err(value(eq, arm, key, mid), value(eq, arm, key, lo), value(eq, arm, key, hi), 100)
        out.append([e[0][0], e[1][0]])
    return np.array(out).T


def equity_groups_figure(
    data: ReportData, eq: pd.DataFrame, colors: dict[str, str]
) -> Figure | None:
    """Need satisfaction by resident group (bars) and the paired difference to the baseline."""
    groups = [g for g in GROUPS if f"satisfaction_{g}" in data.runs]
    if not groups:
        return None
    lang = data.lang
    fig = Figure(figsize=(11, 5.4), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.15, 1])
    n = len(data.arms)
    width = 0.8 / n
    x = np.arange(len(groups))
    for k, a in enumerate(data.arms):
        m = [value(eq, a, f"satisfaction_{g}") * 100 for g in groups]
        ax1.bar(
            x - 0.4 + width * (k + 0.5),
            m,
            width,
            yerr=_errors(eq, a, groups, ""),
            color=colors[a],
            capsize=2,
            ecolor="#333333",
            error_kw={"lw": 0.8},
        )
    others = [a for a in data.arms if a not in data.baseline_arms]
    wd = 0.8 / max(1, len(others))
    for k, a in enumerate(others):
        d = [value(eq, a, f"satisfaction_{g}", "diff") * 100 for g in groups]
        yerr = _errors(eq, a, groups, "diff")
        ax2.errorbar(x - 0.4 + wd * (k + 0.5), d, yerr=yerr, fmt="o", color=colors[a], capsize=3)
    ax2.axhline(0, color=BASE_COLOR, lw=1.2)
    names = [
        group_name(g, lang) if lang == "zh" else textwrap.fill(group_name(g, lang), 11)
        for g in groups
    ]
    for ax in (ax1, ax2):
        ax.set_xticks(x, names, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    ax1.set_ylabel(t("need_sat_pct", lang))
    ax1.set_ylim(0, 105)
    ax2.set_ylabel(t("diff_pp", lang))
    fig.suptitle(t("by_group", lang))
    arm_legend(fig, data, colors)
    return fig


def equity_communities_figure(data: ReportData, eq: pd.DataFrame) -> Figure | None:
    """A heatmap of need satisfaction by arm and community, with differences to the baseline."""
    comms = data.communities
    if not comms:
        return None
    lang = data.lang
    vals = np.array([[value(eq, a, c) * 100 for c in comms] for a in data.arms])
    diffs = np.array([[value(eq, a, c, "diff") * 100 for c in comms] for a in data.arms])
    fig = Figure(
        figsize=(max(7.0, 0.85 * len(comms) + 4.5), max(3.2, 0.62 * len(data.arms) + 1.8)),
        dpi=DPI,
        layout="constrained",
    )
    ax = fig.add_subplot()
    finite = vals[np.isfinite(vals)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    im = ax.imshow(
        np.ma.masked_invalid(vals), cmap="RdYlGn", vmin=lo - 2, vmax=hi + 2, aspect="auto"
    )
    for i, a in enumerate(data.arms):
        for j in range(len(comms)):
            v = vals[i, j]
            if not np.isfinite(v):
                continue
            text = f"{v:.0f}"
            if a not in data.baseline_arms and np.isfinite(diffs[i, j]):
                text += f"\n({diffs[i, j]:+.0f})"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="#111111")
    ax.set_xticks(
        range(len(comms)),
        [community_name(int(c.removeprefix("satisfaction_c")), lang) for c in comms],
        fontsize=8,
    )
    ax.set_yticks(range(len(data.arms)), [data.display(a) for a in data.arms], fontsize=9)
    ax.set_xlabel(t("community", lang))
    fig.colorbar(im, ax=ax, label=t("need_sat_pct", lang), shrink=0.9)
    ax.set_title(t("by_community", lang))
    return fig


def spending_figure(data: ReportData, sp: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """Government spending per year by channel: a stacked bar per arm."""
    lang = data.lang
    div, unit = money_unit(lang)
    mat = np.array(
        [[value(sp, a, f"annual_spending_{c}") / div for c in CHANNELS] for a in data.arms]
    )
    mat = np.nan_to_num(mat)
    used = [k for k in range(len(CHANNELS)) if (mat[:, k] > 0).any()]
    fig = Figure(figsize=(10, max(3.4, 0.55 * len(data.arms) + 2.2)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(data.arms))[::-1]
    palette = matplotlib.colormaps["Set2"].colors + matplotlib.colormaps["Pastel1"].colors
    left = np.zeros(len(data.arms))
    for k in used:
        ax.barh(
            y,
            mat[:, k],
            left=left,
            color=palette[k % len(palette)],
            label=channel_name(CHANNELS[k], lang),
            edgecolor="white",
            lw=0.5,
        )
        left += mat[:, k]
    for i in range(len(data.arms)):
        ax.text(
            left[i],
            y[i],
            f" {left[i]:,.{2 if left[i] < 10 else 1 if left[i] < 100 else 0}f}",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(y, [data.display(a) for a in data.arms], fontsize=9)
    ax.set_xlim(0, max(1e-9, left.max()) * 1.15)
    ax.set_xlabel(t("spend_axis", lang, unit=unit))
    ax.set_title(t("spending", lang))
    ax.grid(axis="x", alpha=0.3)
    if used:
        fig.legend(loc="outside lower center", ncol=min(4, len(used)), fontsize=9, frameon=False)
    return fig


def timebank_arms(data: ReportData) -> list[str]:
    """Arms whose time bank took any deposit."""
    w = data.weekly
    if w.empty or "timebank_hours_deposited" not in w:
        return []
    active = w.groupby("arm")["timebank_hours_deposited"].sum()
    return [a for a in data.arms if active.get(a, 0) > 0]


def timebank_figure(data: ReportData, colors: dict[str, str]) -> Figure | None:
    """The time-bank ledger: weekly flows, the unredeemed balance and its liability in yuan."""
    arms = timebank_arms(data)
    if not arms:
        return None
    lang = data.lang
    flows = {
        k: weekly_band(data, f"timebank_hours_{k}", smooth=SMOOTH_WEEKS)
        for k in ("deposited", "redeemed", "expired")
    }
    bal = weekly_band(data, "timebank_balance")
    liab = weekly_band(data, "timebank_liability_yuan")
    div, unit = money_unit(lang)
    top = float(liab["hi"].max()) if len(liab) and np.isfinite(liab["hi"]).any() else 0.0
    if top < div:
        div, unit = 1.0, ("元" if lang == "zh" else "yuan")
    fig = Figure(figsize=(13, 4.8), dpi=DPI, layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    styles = {"deposited": "-", "redeemed": "--", "expired": ":"}
    for a in arms:
        for k, fb in flows.items():
            b = fb[fb["arm"] == a]
            ax1.plot(b["week"], b["mean"], ls=styles[k], color=colors[a], lw=1.5)
        band(ax2, bal, a, colors[a])
        band(ax3, liab, a, colors[a], 1 / div)
    ax1.legend(
        handles=[
            Line2D([], [], ls=s, color="#333333", label=t(k, lang)) for k, s in styles.items()
        ],
        fontsize=9,
    )
    ax1.set_ylabel(t("tb_flows", lang))
    ax2.set_ylabel(t("tb_balance", lang))
    ax3.set_ylabel(t("tb_liability", lang, unit=unit))
    for ax in (ax1, ax2, ax3):
        warmup(ax, data)
        ax.set_xlabel(t("week", lang))
        ax.grid(alpha=0.3)
    fig.suptitle(t("timebank", lang))
    arm_legend(fig, data, colors, arms)
    return fig


def render_figures(data: ReportData, tables: dict[str, pd.DataFrame], rc: dict) -> dict[str, bytes]:
    """Draw every figure the data allows.

    Args:
        data: The report's data.
        tables: The report's tables ("headline", "equity", "spending").
        rc: matplotlib rc settings (fonts; see `fonts.font_rc`).

    Returns:
        PNG bytes by figure name (file stem), in the report's order.
    """
    colors = arm_colors(data)
    makers: list[tuple[str, Callable[[], Figure | None]]] = [
        ("cost_outcome", lambda: cost_outcome_figure(data, tables["headline"], colors)),
        ("timeseries", lambda: timeseries_figure(data, colors)),
        ("equity_groups", lambda: equity_groups_figure(data, tables["equity"], colors)),
        ("equity_communities", lambda: equity_communities_figure(data, tables["equity"])),
        ("spending", lambda: spending_figure(data, tables["spending"], colors)),
        ("timebank", lambda: timebank_figure(data, colors)),
    ]
    out: dict[str, bytes] = {}
    with matplotlib.rc_context(rc):
        for name, make in makers:
            fig = make()
            if fig is not None:
                out[name] = png(fig)
    return out
