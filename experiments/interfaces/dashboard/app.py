"""The workshop dashboard (Solara): pick a linkage mode, move levers, step and run, and watch
needs, money, volunteers and the links between the four societies change.

Built on plain Solara components rather than `mesa.visualization.SolaraViz`, whose controls
rebuild the model as `Model(**kwargs)` from flat sliders: a mode here is a scenario file plus
overrides, the page needs two languages, a second run side by side and an explain panel.
The controls follow SolaraViz and NetLogo (reset / step / run-pause, a speed slider).

Run it with `linkage dashboard` (see `experiments.interfaces.commands.dashboard`), or
`solara run experiments.interfaces.dashboard.app`. The language defaults to $LINKAGE_DASHBOARD_LANG.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace

import solara
import solara.lab

from experiments.engine.errors import ScenarioError
from experiments.engine.scenarios import load_scenario
from experiments.interfaces.dashboard import network, plots
from experiments.interfaces.dashboard.i18n import (
    CSS_FONT_STACK,
    LANGS,
    channel_name,
    figure_rc,
    mode_label,
    policy_name,
    t,
)
from experiments.interfaces.dashboard.state import (
    ALLOCATION_KEYS,
    ROLLING_WEEKS,
    Controls,
    Session,
    base_policies,
    default_controls,
    mode_attribution,
    modes,
)
from experiments.interfaces.dashboard.widgets import (
    SMALL,
    Monitor,
    MplFigure,
    Select,
    Slider,
    Switch,
)
from model import POLICIES
from model.policies import build_policies

logger = logging.getLogger(__name__)

LANG_ENV = "LINKAGE_DASHBOARD_LANG"
MAIN_LEVERS = ("platform", "joint_meeting", "time_bank")
"""Policies with a switch among the main levers (the rest are under 'all policies')."""
FRAME_PAUSE_S = 0.05  # seconds the play loop rests between frames (lets clicks through)

CSS = f"""
body, .v-application, .v-application .text-h6, .v-application .body-1 {{ font-family: {CSS_FONT_STACK} !important; }}
.monitor {{ text-align: center; min-width: 150px; }}
.page-title {{ display: block; font-size: 22px; font-weight: 600; }}
.monitor span {{ display: block; }}
.monitor .value {{ font-size: 30px; font-weight: 600; line-height: 1.2; }}
.monitor .label {{ font-size: 13px; color: #555; }}
.monitor .sub {{ font-size: 12px; color: #888; }}
.status {{ font-size: 13px; color: #555; }}
"""


def default_lang() -> str:
    """The page language: $LINKAGE_DASHBOARD_LANG when it is 'zh' or 'en', else Chinese."""
    lang = os.environ.get(LANG_ENV, "zh")
    return lang if lang in LANGS else "zh"


class DashboardState:
    """One browser session's state: reactive controls and a `Session` of live runs.

    Args:
        lang: Label language.
        controls: Starting controls (default: full linkage at workshop scale).
    """

    def __init__(self, lang: str = "zh", controls: Controls | None = None) -> None:
        controls = controls or default_controls()
        self.lang = solara.reactive(lang)
        self.controls = solara.reactive(controls)
        self.session = Session(controls)
        self.tick = solara.reactive(0)
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(1)
        self.compare_mode = solara.reactive(None)
        self.compare_metric = solara.reactive("need_satisfaction")
        self.window = solara.reactive(4)
        self.tab = solara.reactive(0)
        self.error = solara.reactive(None)

    # ------------------------------------------------------------------ actions
    def _changed(self) -> None:
        self.tick.value += 1

    def step(self, weeks: int = 1) -> None:
        """Advance the runs (button and play loop)."""
        self.session.step(weeks)
        if self.session.done:
            self.playing.value = False
        self._changed()

    def reset(self) -> None:
        """Rebuild the runs from the current controls (stops playing)."""
        self.playing.value = False
        try:
            self.session.reset(self.controls.value)
        except ScenarioError as e:
            self.error.value = f"{e.field}: {e.problem}"
            return
        self.error.value = None
        self._changed()

    def set_mode(self, mode: str) -> None:
        """Load a mode's levers (keeping street, seed and length) and rebuild."""
        self.controls.value = replace(self.controls.value, mode=mode).mode_defaults()
        self.reset()

    def set_compare(self, mode: str | None) -> None:
        """Start (or stop, with None) the side-by-side run."""
        self.compare_mode.value = mode
        with self.session.lock:
            self.session.set_compare(mode)
        self._changed()

    def toggle_play(self) -> None:
        """Run or pause."""
        self.playing.value = not self.playing.value and not self.session.done

    def play_loop(self) -> None:
        """While playing: step `speed` weeks, show them, rest a moment."""
        try:
            while self.playing.value and not self.session.done:
                self.step(self.speed.value)
                time.sleep(FRAME_PAUSE_S)
        except Exception as e:  # shown on the page; the trainer can reset
            logger.exception("the play loop stopped")
            self.error.value = f"{type(e).__name__}: {e}"
            self.playing.value = False

    def edit(self, **changes) -> None:
        """Change some controls (applied at the next reset)."""
        self.controls.value = replace(self.controls.value, **changes)

    # ------------------------------------------------------------------ views
    def is_modified(self) -> bool:
        """Whether the controls differ from their mode's defaults."""
        c = self.controls.value
        return c != c.mode_defaults()

    def run_label(self, lang: str) -> str:
        """Legend label of the main run: its mode, marked when modified."""
        c = self.session.controls
        label = mode_label(modes()[c.mode], lang)
        return label + (f" ({t('custom', lang)})" if c != c.mode_defaults() else "")


def _fmt(v: float, spec: str) -> str:
    return "–" if v != v else format(v, spec)


# ====================================================================== components
@solara.component
def ModeChooser(st: DashboardState):
    """The mode select, with a 'modified' chip once a lever moved."""
    lang = st.lang.value
    options = [(name, mode_label(info, lang)) for name, info in modes().items()]
    with solara.Row(style={"align-items": "center"}):
        Select(t("mode", lang), options, st.controls.value.mode, st.set_mode, name="mode")
        if st.is_modified():
            solara.v.Chip(
                children=[t("custom", lang)], color="amber", class_="chip-modified", **SMALL
            )


@solara.component
def RunControls(st: DashboardState):
    """Reset, step, run/pause, speed and the run's status line."""
    lang = st.lang.value
    st.tick.value  # noqa: B018  (re-render on every frame)
    sess = st.session
    playing = st.playing.value
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.Button(
            t("reset", lang),
            icon_name="mdi-restore",
            on_click=st.reset,
            color="primary",
            outlined=True,
            classes=["btn-reset"],
        )
        solara.Button(
            t("step", lang),
            icon_name="mdi-step-forward",
            on_click=lambda: st.step(1),
            disabled=playing or sess.done,
            color="primary",
            outlined=True,
            classes=["btn-step"],
        )
        solara.Button(
            t("pause", lang) if playing else t("run", lang),
            icon_name="mdi-pause" if playing else "mdi-play",
            on_click=st.toggle_play,
            disabled=sess.done and not playing,
            color="primary",
            classes=["btn-play"],
        )
    Slider(t("speed", lang), st.speed.value, st.speed.set, 1, 13, name="speed")
    run = sess.main
    status = t("week_of", lang, week=run.week, weeks=run.model.p.run.weeks)
    if run.step_ms:
        status += " · " + t("step_time", lang, ms=run.median_step_ms())
    solara.Text(status, classes=["status", "run-status"])
    if sess.done:
        solara.Info(t("finished", lang), dense=True)
    if st.controls.value != sess.controls:
        solara.Warning(t("pending", lang), dense=True, classes=["pending"])
    if st.error.value:
        solara.Error(st.error.value, dense=True)


def _policy_switch(st: DashboardState, name: str, lang: str) -> None:
    c = st.controls.value
    Switch(
        policy_name(name, lang),
        name in c.policies,
        lambda on: st.edit(policies=st.controls.value.with_policy(name, on).policies),
        name=name,
    )


@solara.component
def Levers(st: DashboardState):
    """Switches and sliders for the main levers; budget split, all policies and street below."""
    lang = st.lang.value
    c = st.controls.value
    for name in MAIN_LEVERS:
        _policy_switch(st, name, lang)
        if name == "joint_meeting":
            Slider(
                t("joint_interval", lang),
                c.joint_interval,
                lambda v: st.edit(joint_interval=v),
                1,
                13,
                name="joint_interval",
                disabled="joint_meeting" not in c.policies,
            )
    Slider(
        t("budget", lang),
        int(round(c.budget / 1e4)),
        lambda v: st.edit(budget=float(v) * 1e4),
        0,
        300,
        name="budget",
    )
    Slider(
        t("sw_per_10k", lang),
        c.sw_per_10k,
        lambda v: st.edit(sw_per_10k=round(v, 2)),
        0.0,
        30.0,
        0.2,
        "{:.1f}",
        name="sw_per_10k",
    )
    Slider(
        t("recruitment_rate", lang),
        c.recruitment_rate * 1000,
        lambda v: st.edit(recruitment_rate=round(v, 3) / 1000),
        0.0,
        2.0,
        0.05,
        "{:.2f}",
        name="recruitment_rate",
    )
    Slider(
        t("registered_share", lang),
        int(round(c.registered_share * 100)),
        lambda v: st.edit(registered_share=v / 100),
        0,
        40,
        fmt="{}%",
        name="registered_share",
    )
    with solara.Details(t("budget_split", lang)):
        for ch in ALLOCATION_KEYS:
            Slider(
                channel_name(ch, lang),
                int(round(c.shares.get(ch, 0.0) * 100)),
                lambda v, k=ch: st.edit(
                    allocation=st.controls.value.with_share(k, v / 100).allocation
                ),
                0,
                100,
                fmt="{}%",
                name=f"share-{ch}",
            )
        total = sum(c.shares.values())
        if total > 1.0 + 1e-9:
            solara.Warning(f"{total:.0%}: {t('over_allocated', lang)}", dense=True)
        elif total < 1.0 - 1e-9:
            solara.Text(f"{t('unallocated', lang)}: {1 - total:.0%}", classes=["status"])
    with solara.Details(t("more_levers", lang, n=len(POLICIES))):
        for name in POLICIES:
            if name not in MAIN_LEVERS:
                _policy_switch(st, name, lang)
    with solara.Details(t("street", lang)):
        Slider(
            t("n_residents", lang),
            c.n_residents,
            lambda v: st.edit(n_residents=v),
            2000,
            50000,
            1000,
            "{:,}",
            name="n_residents",
        )
        Slider(
            t("n_communities", lang),
            c.n_communities,
            lambda v: st.edit(n_communities=v),
            2,
            15,
            name="n_communities",
        )
        solara.InputInt(t("seed", lang), value=c.seed, on_value=lambda v: st.edit(seed=int(v or 0)))


@solara.component
def Monitors(st: DashboardState):
    """Need satisfaction, wait, spending, volunteers and time bank (and the paired run's)."""
    lang = st.lang.value
    st.tick.value  # noqa: B018
    with st.session.lock:
        m = st.session.main.monitors()
        o = st.session.other.monitors() if st.session.other is not None else None
        other_label = mode_label(modes()[st.session.other.controls.mode], lang) if o else ""
    recent = t("last_weeks", lang, n=ROLLING_WEEKS)
    cells = [
        ("need_satisfaction", lambda d: _fmt(d["need_satisfaction"], ".1%"), recent),
        ("mean_wait_hours", lambda d: _fmt(d["mean_wait_hours"], ".0f"), recent),
        (
            "spending",
            lambda d: _fmt(d["spending_total"] / 1e4, ",.1f"),
            t("spending_sub", lang, year=m["spending_year"] / 1e4),
        ),
        ("active_volunteers", lambda d: _fmt(d["active_volunteers"], ",.0f"), ""),
        ("timebank_balance", lambda d: _fmt(d["timebank_balance"], ",.0f"), ""),
    ]
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        for key, fmt, sub in cells:
            other = f"{other_label}: {fmt(o)}" if o else ""
            Monitor(t(key, lang), fmt(m), sub, other, name=key)


@solara.component
def PlotsView(st: DashboardState):
    """Needs per week, satisfaction by group, spending by channel, volunteers; with a community
    charity fund, its donations, matching and grants beside public money."""
    lang = st.lang.value
    tick = st.tick.value
    with st.session.lock:
        s = st.session.main.series()
    deps = [tick, lang, id(st.session.main)]
    rc = figure_rc(lang)
    with solara.Columns([1, 1], gutters_dense=True):
        MplFigure(lambda: plots.needs_figure(s, lang), deps, name="needs", rc=rc)
        MplFigure(lambda: plots.groups_figure(s, lang), deps, name="groups", rc=rc)
    with solara.Columns([1, 1], gutters_dense=True):
        MplFigure(lambda: plots.spending_figure(s, lang), deps, name="spending", rc=rc)
        MplFigure(lambda: plots.volunteers_figure(s, lang), deps, name="volunteers", rc=rc)
    if plots.has_charity(s):  # the fifth society (五社联动): a community charity fund
        with solara.Columns([1, 1], gutters_dense=True):
            MplFigure(lambda: plots.charity_figure(s, lang), deps, name="charity", rc=rc)


@solara.component
def NetworkView(st: DashboardState):
    """The societies and the flows between them in the last weeks (the workshop view)."""
    lang = st.lang.value
    tick = st.tick.value
    win = st.window.value
    with st.session.lock:
        fl = network.society_flows(st.session.main.model, win)
    totals = fl.totals()
    with solara.Row(style={"max-width": "420px"}):
        Slider(t("window", lang), win, st.window.set, 1, 13, name="window")
    MplFigure(
        lambda: network.draw_flows(fl, lang),
        [tick, lang, win, id(st.session.main)],
        width="min(100%, 960px)",
        name="network",
        rc=figure_rc(lang),
    )
    parts = [
        f"{t('flow_' + k, lang)}: {totals[k]:,.0f}" for k in network.FLOW_KINDS if k != "money"
    ]
    solara.Text(f"{t('links', lang)} — " + " · ".join(parts), classes=["status", "link-counts"])


@solara.component
def CompareView(st: DashboardState):
    """A second mode with the same seed, run in step, on one plot."""
    lang = st.lang.value
    tick = st.tick.value
    options = [(None, t("compare_none", lang))] + [
        (name, mode_label(info, lang)) for name, info in modes().items()
    ]
    metrics = [(key, t(label, lang)) for key, (label, _) in plots.COMPARE_METRICS.items()]
    with solara.Row(gap="12px", style={"flex-wrap": "wrap"}):
        Select(
            t("compare_with", lang), options, st.compare_mode.value, st.set_compare, name="compare"
        )
        Select(
            t("compare_metric", lang),
            metrics,
            st.compare_metric.value,
            st.compare_metric.set,
            name="metric",
            width="320px",
        )
    other = st.session.other
    if other is None:
        solara.Info(t("compare_pick", lang), dense=True)
        return
    with st.session.lock:
        a, b = st.session.main.series(), other.series()
    la, lb = st.run_label(lang), mode_label(modes()[other.controls.mode], lang)
    metric = st.compare_metric.value
    MplFigure(
        lambda: plots.compare_figure(a, b, la, lb, metric, lang),
        [tick, lang, metric, id(other), id(st.session.main)],
        width="min(100%, 900px)",
        name="compare",
        rc=figure_rc(lang),
    )
    solara.Text(t("compare_hint", lang), classes=["status"])
    AttributionView(other.controls.mode, st.controls.value.mode, lang)  # from it to this mode


@solara.component
def AttributionView(a: str, b: str, lang: str):
    """The attribution of the difference between the two modes shown, from the compared mode
    `a` to the main run's mode `b`: a small waterfall from a precomputed `linkage attribute`
    folder (`state.mode_attribution`), or how to make one."""
    from experiments.interfaces.report.attribution import size_text, waterfall_figure

    meta = solara.use_memo(lambda: mode_attribution(a, b), [a, b])
    solara.Markdown(f"#### {t('attr_title', lang)}")
    if meta is None:
        solara.Info(t("attr_none", lang, a=a, b=b), dense=True, classes=["attr-none"])
        return
    MplFigure(
        lambda: waterfall_figure(meta, lang, compact=True),
        [a, b, lang, meta.get("finished")],
        width="min(100%, 760px)",
        name="attribution",
        rc=figure_rc(lang),
    )
    solara.Text(size_text(meta, lang), classes=["status", "attr-size"])
    solara.Text(t("attr_source", lang, path=meta["path"]), classes=["status"])


@solara.component
def ExplainView(st: DashboardState):
    """What the selected mode is, which levers it sets, and the seed's sentence behind each."""
    lang = st.lang.value
    c = st.controls.value
    info = modes()[c.mode]
    p = solara.use_memo(lambda: load_scenario(info.path).params, [c.mode])
    base = solara.use_memo(base_policies, [])
    on = [n for n in POLICIES if getattr(p.policies, n).enabled]
    if lang == "zh":  # the Chinese page in Chinese only
        solara.Markdown(f"### {info.label_zh}")
        solara.Markdown(f"**{t('what_it_is', lang)}。** {info.description_zh or info.description}")
    else:
        solara.Markdown(f"### {info.label_en} · {info.label_zh}")
        solara.Markdown(f"**{t('what_it_is', lang)}.** {info.description}")
    rows = [f"| {t('policy', lang)} | {t('seed_sentence', lang)} |", "|:---|:---|"]
    for n in on:
        cls = POLICIES[n]
        mark = " ★" if n not in base else ""
        term = f"<br>{cls.label_zh}" if cls.label_zh != policy_name(n, lang) else ""
        rows.append(f"| **{policy_name(n, lang)}**{mark}{term} | “{cls.seed_text}” |")
    body = "\n".join(rows) if on else t("no_levers", lang)
    solara.Markdown(f"#### {t('levers_set', lang)}\n\n{body}")
    notes = []
    if any(n not in base for n in on):
        notes.append(t("star_note", lang))
    off = [n for n in POLICIES if n in base and n not in on]
    if off:
        notes.append(t("switched_off", lang) + ", ".join(policy_name(n, lang) for n in off))
    alloc = p.funding.allocation
    active = {ch for pol in build_policies(p.policies) for ch in pol.active_channels()}
    to_block = f" → {channel_name('block_grant', lang)}"
    split = " · ".join(
        f"{channel_name(k, lang)} {getattr(alloc, k):.0%}"
        + ("" if k in active or k == "block_grant" else to_block)
        for k in ALLOCATION_KEYS
        if getattr(alloc, k) > 0
    )
    notes.append(f"**{t('allocation', lang)}:** {split}")
    changes = describe_changes(c, lang)
    if changes:
        notes.append(f"**{t('your_changes', lang)}:** " + "; ".join(changes))
    solara.Markdown("  \n".join(notes))


def describe_changes(c: Controls, lang: str) -> list[str]:
    """How the controls differ from their mode's defaults, in words."""
    base = c.mode_defaults()
    out = [
        f"{policy_name(n, lang)} {t('on', lang)}"
        for n in POLICIES
        if n in c.policies and n not in base.policies
    ]
    out += [
        f"{policy_name(n, lang)} {t('off', lang)}"
        for n in POLICIES
        if n not in c.policies and n in base.policies
    ]
    scalars = (
        ("joint_interval", c.joint_interval, base.joint_interval, "{:d}"),
        ("budget", c.budget / 1e4, base.budget / 1e4, "{:,.0f}"),
        ("sw_per_10k", c.sw_per_10k, base.sw_per_10k, "{:.1f}"),
        ("recruitment_rate", c.recruitment_rate * 1000, base.recruitment_rate * 1000, "{:.2f}"),
        ("registered_share", c.registered_share * 100, base.registered_share * 100, "{:.0f}%"),
    )
    out += [
        f"{t(key, lang)} {fmt.format(old)} → {fmt.format(new)}"
        for key, new, old, fmt in scalars
        if abs(new - old) > 1e-9
    ]
    out += [
        f"{channel_name(k, lang)} {base.shares[k]:.0%} → {v:.0%}"
        for k, v in c.shares.items()
        if abs(v - base.shares.get(k, 0.0)) > 1e-9
    ]
    return out


@solara.component
def Dashboard(st: DashboardState):
    """The whole page for one session."""
    lang = st.lang.value
    solara.lab.use_task(st.play_loop, dependencies=[st.playing.value], prefer_threaded=True)
    solara.Style(CSS)
    solara.Title(t("title", lang))
    with solara.Row(
        justify="space-between", style={"align-items": "center", "padding": "4px 12px"}
    ):
        with solara.Column(gap="0px"):
            solara.Text(t("title", lang), classes=["page-title"])
            solara.Text(t("subtitle", lang), classes=["status"])
        solara.ToggleButtonsSingle(
            value=st.lang,
            children=[solara.Button("中文", value="zh"), solara.Button("English", value="en")],
        )
    with solara.Columns([1, 3], gutters_dense=True):
        with solara.Column(gap="4px"):
            with solara.Card(margin=1):
                ModeChooser(st)
                RunControls(st)
            with solara.Card(t("levers", lang), margin=1):
                Levers(st)
        with solara.Column(gap="4px"):
            Monitors(st)
            ViewTabs(st)


VIEWS = (
    ("tab_plots", PlotsView),
    ("tab_network", NetworkView),
    ("tab_compare", CompareView),
    ("tab_explain", ExplainView),
)
"""The tabs of the main area: (label key, component)."""


@solara.component
def ViewTabs(st: DashboardState):
    """Tab headers, and only the chosen view below them (the others cost nothing)."""
    lang = st.lang.value
    tab = st.tab.value
    solara.v.Tabs(
        v_model=tab,
        on_v_model=lambda i: st.tab.set(int(i)) if i is not None else None,
        color="primary",
        children=[
            solara.v.Tab(children=[t(key, lang)], value=i, class_=f"tab-{key}")
            for i, (key, _) in enumerate(VIEWS)
        ],
    )
    VIEWS[tab][1](st)


@solara.component
def Page():
    """Solara's entry point: one `DashboardState` per browser session."""
    st = solara.use_memo(lambda: DashboardState(default_lang()), [])
    Dashboard(st)
