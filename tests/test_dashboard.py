"""The workshop dashboard without a browser: controls and runs (state), the linkage network,
the plots, the labels, and the Solara page rendered to widgets (`solara.render`)."""

from __future__ import annotations

import argparse
import socket
import time
from dataclasses import replace

import ipyvuetify as v
import numpy as np
import pytest

pytest.importorskip("solara")
pytest.importorskip("networkx")

import solara  # noqa: E402

from experiments.interfaces.dashboard import app, assets, network, plots  # noqa: E402
from experiments.interfaces.dashboard.i18n import (  # noqa: E402
    CHANNEL_NAMES,
    GROUP_NAMES,
    LABELS,
    POLICY_NAMES,
    t,
)
from experiments.interfaces.dashboard.state import (  # noqa: E402
    MODE_ORDER,
    Controls,
    LiveRun,
    Session,
    build_scenario,
    controls_for_mode,
    modes,
)
from experiments.interfaces.dashboard.widgets import png_bytes  # noqa: E402

SMALL = {"n_residents": 3000, "n_communities": 4, "weeks": 60}
"""A street small enough for a model build and a few steps in well under a second."""


def small(mode: str, **kw) -> Controls:
    return controls_for_mode(mode, **{**SMALL, **kw})


# ====================================================================== state
def test_the_six_modes_are_found_in_order_with_labels():
    found = modes()
    assert tuple(found)[: len(MODE_ORDER)] == MODE_ORDER
    assert found["full_linkage"].label_zh == "四社联动"
    assert found["siloed"].label_en.startswith("Siloed")
    assert all(m.description for m in found.values())


@pytest.mark.parametrize("mode", MODE_ORDER)
def test_controls_rebuild_the_mode_file_at_workshop_scale(mode):
    c = controls_for_mode(mode)
    p = build_scenario(c).params
    file = build_scenario(
        replace(c, n_residents=50_000, n_communities=10, budget=2_600_000.0)
    ).params
    assert (p.street.n_residents, p.street.n_communities) == (8000, 6)
    enabled = {n for n in type(p.policies).model_fields if getattr(p.policies, n).enabled}
    assert enabled == set(c.policies)
    assert p.funding.special_fund + p.funding.lottery_fund == pytest.approx(c.budget)
    # The same budget per resident as the mode file's street of 50,000.
    assert c.budget == pytest.approx(2_600_000 * 8000 / 50_000, abs=5000)
    # Apart from the scale, the controls reproduce the mode file exactly.
    from experiments.engine.scenarios import load_scenario

    orig = load_scenario(modes()[mode].path).params
    assert file.funding.allocation == orig.funding.allocation
    assert file.policies == orig.policies
    assert file.providers == orig.providers and file.volunteers == orig.volunteers


def test_lever_changes_reach_the_parameters():
    c = small("siloed").with_policy("platform", True).with_share("procurement", 0.9)
    c = replace(
        c,
        joint_interval=9,
        sw_per_10k=12.4,
        recruitment_rate=0.00001,
        registered_share=0.2,
        budget=123_000.0,
    )
    p = build_scenario(c).params
    assert p.policies.platform.enabled and p.policies.joint_meeting.interval_weeks == 9
    assert p.providers.sw_per_10k == pytest.approx(12.4)
    assert p.volunteers.recruitment_rate == pytest.approx(1e-5)  # no YAML exponent pitfall
    assert p.volunteers.registered_share == pytest.approx(0.2)
    assert p.funding.special_fund + p.funding.lottery_fund == pytest.approx(123_000)
    total = sum(c.shares.values())
    assert total > 1  # over-allocated shares are scaled down to 1
    assert p.funding.allocation.procurement == pytest.approx(0.9 / total)


def test_live_run_steps_times_and_monitors():
    run = LiveRun(small("full_linkage"))
    m0 = run.monitors()
    assert m0["week"] == 0 and np.isnan(m0["need_satisfaction"])
    for _ in range(3):
        assert run.step()
    m = run.monitors()
    assert run.week == 3 and len(run.step_ms) == 3
    assert 0 < m["need_satisfaction"] <= 1 and m["mean_wait_hours"] > 0
    assert m["active_volunteers"] > 0 and m["spending_total"] > 0
    assert len(run.series()["needs_met"]) == 3


def test_session_pairs_two_modes_on_the_same_seed():
    s = Session(small("siloed"), compare="full_linkage")
    assert s.step(2) == 2
    assert s.main.week == s.other.week == 2
    assert s.other.controls.seed == s.main.controls.seed
    assert s.other.controls.budget == s.main.controls.budget
    s.set_compare("so_sw")  # a new paired run catches up with the main run
    assert s.other.week == 2 and s.other.controls.mode == "so_sw"
    s.reset(small("sw_volunteer"))
    assert s.main.week == 0 and s.other.week == 0 and s.controls.mode == "sw_volunteer"


def test_session_stops_at_the_end_of_the_run():
    s = Session(small("siloed", weeks=3))
    assert s.step(5) == 3 and s.done and s.step() == 0


# ====================================================================== network and plots
@pytest.fixture(scope="module")
def linked_and_siloed():
    # The workshop street: a smaller one has too little budget for purchased projects.
    runs = {m: LiveRun(controls_for_mode(m, weeks=60)) for m in ("full_linkage", "siloed")}
    for r in runs.values():
        for _ in range(6):
            r.step()
    return runs


def test_network_shows_the_four_societies_linked_or_not(linked_and_siloed):
    g = network.linkage_graph(linked_and_siloed["full_linkage"].model, window_weeks=4)
    kinds = {d["kind"] for _, d in g.nodes(data=True)}
    assert {"community", "embedded", "endogenous", "sw", "volunteers", "hub"} <= kinds
    assert sum(1 for _, d in g.nodes(data=True) if d["kind"] == "community") == 6
    counts = network.link_counts(g)
    assert counts["contract"] > 0 and counts["platform"] > 0 and counts["codelivery"] > 0
    silo = network.link_counts(
        network.linkage_graph(linked_and_siloed["siloed"].model, window_weeks=4)
    )
    # Siloed (各行其是): no link any policy makes. A community organization's own volunteer team
    # is there in every mode (the first organizations get their teams: issue 18).
    made_by_policies = [k for k in network.LINK_KINDS if k != "team"]
    assert all(silo[k] == 0 for k in made_by_policies), silo
    assert counts["team"] > 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_figures_draw_in_both_languages(linked_and_siloed, lang):
    from experiments.interfaces.dashboard.i18n import figure_rc
    from experiments.interfaces.report.fonts import figure_fonts

    run = linked_and_siloed["full_linkage"]
    s = run.series()
    other = linked_and_siloed["siloed"].series()
    makers = [
        lambda: plots.needs_figure(s, lang),
        lambda: plots.groups_figure(s, lang),
        lambda: plots.spending_figure(s, lang),
        lambda: plots.volunteers_figure(s, lang),
        lambda: plots.compare_figure(s, other, "A", "B", "need_satisfaction", lang),
        lambda: network.draw_linkage(network.linkage_graph(run.model), lang, 4),
    ]
    for make in makers:  # as the page draws them: fonts per figure (`MplFigure(rc=...)`)
        with figure_fonts(figure_rc(lang)):  # warnings are errors: a missing glyph fails here
            assert png_bytes(make())[:4] == b"\x89PNG"


def test_rolling_mean_is_weighted_and_skips_nan():
    r = plots.rolling(np.array([1.0, np.nan, 3.0, 5.0]), np.array([1.0, 5.0, 1.0, 3.0]), window=2)
    assert r[0] == 1.0 and r[1] == 1.0 and r[2] == 3.0 and r[3] == pytest.approx((3 + 15) / 4)


def test_every_label_exists_in_both_languages():
    from model import CHANNELS, GROUPS, POLICIES

    assert (
        set(POLICY_NAMES) == set(POLICIES)
        and set(GROUP_NAMES) == set(GROUPS)
        and set(CHANNEL_NAMES) == set(CHANNELS)
    )
    for table in (LABELS, POLICY_NAMES, GROUP_NAMES, CHANNEL_NAMES):
        assert all(len(pair) == 2 and all(pair) for pair in table.values())
    assert t("week_of", "en", week=3, weeks=260) == "Week 3 of 260"
    with pytest.raises(KeyError):
        t("no such label", "zh")


# ====================================================================== the page
def _btn(rc, name):
    return rc.find(v.Btn, class_=name).widget


def _image(rc, name):
    import ipywidgets

    found = [w for w in rc.find(ipywidgets.Image).widgets if f"fig-{name}" in w._dom_classes]
    assert len(found) == 1, f"expected one figure '{name}', found {len(found)}"
    return found[0]


def _texts(rc, cls):
    return [
        "".join(map(str, w.children))
        for w in rc.find(v.Html).widgets
        if cls in (w.class_ or "").split()
    ]


@pytest.fixture
def page():
    st = app.DashboardState("en", small("full_linkage"))
    st.tab.value = 3  # the explain tab: no figures to draw unless a test asks for them
    box, rc = solara.render(app.Dashboard(st), handle_error=False)
    yield st, rc
    st.playing.value = False
    rc.close()


def test_page_has_the_controls(page):
    _, rc = page
    for name in ("btn-reset", "btn-step", "btn-play"):
        _btn(rc, name)
    for name in ("platform", "joint_meeting", "time_bank"):
        rc.find(v.Switch, class_=f"switch switch-{name}").assert_single()
    for name in (
        "speed",
        "budget",
        "sw_per_10k",
        "recruitment_rate",
        "registered_share",
        "joint_interval",
    ):
        rc.find(v.Slider, class_=f"slider-input-{name}").assert_single()
    for ch in ("procurement", "posts", "venture", "incubation", "timebank", "block_grant"):
        rc.find(v.Slider, class_=f"slider-input-share-{ch}").assert_single()
    mode = rc.find(v.Select, class_="select select-mode").widget
    assert [i["value"] for i in mode.items][: len(MODE_ORDER)] == list(MODE_ORDER)
    assert mode.v_model == "full_linkage"
    assert {
        "need_satisfaction",
        "mean_wait_hours",
        "spending",
        "active_volunteers",
        "timebank_balance",
    } <= {
        c.split("monitor-")[1]
        for w in rc.find(v.Card).widgets
        for c in (w.class_ or "").split()
        if c.startswith("monitor-")
    }


def test_step_advances_the_model_and_the_monitors(page):
    st, rc = page
    st.tab.value = 0
    assert _texts(rc, "value")[0] == "–"
    _btn(rc, "btn-step").click()
    _btn(rc, "btn-step").click()
    assert st.session.main.week == 2
    assert _texts(rc, "value")[0].endswith("%")
    assert any("Week 2 of 60" in x for x in _texts(rc, "run-status"))
    assert len(_image(rc, "needs").value) > 1000


def test_reset_rebuilds_with_the_chosen_mode_and_levers(page):
    st, rc = page
    _btn(rc, "btn-step").click()
    mode = rc.find(v.Select, class_="select select-mode").widget
    mode.v_model = "so_sw"  # choosing a mode rebuilds the model
    assert st.session.controls.mode == "so_sw" and st.session.main.week == 0
    assert not st.session.main.model.desk.street_scope
    rc.find(v.Switch, class_="switch switch-platform").widget.v_model = True
    rc.find(v.Slider, class_="slider-input-budget").widget.v_model = 55
    assert st.controls.value.budget == 550_000 and "platform" in st.controls.value.policies
    assert st.session.controls.budget != 550_000  # not applied before reset
    rc.find(v.Alert, class_="pending").assert_single()
    rc.find(v.Chip, class_="chip-modified").assert_single()
    _btn(rc, "btn-step").click()
    _btn(rc, "btn-reset").click()
    run = st.session.main
    assert run.week == 0 and run.controls.mode == "so_sw"
    assert (
        run.model.desk.street_scope
        and run.model.p.funding.special_fund + run.model.p.funding.lottery_fund == 550_000
    )
    rc.find(v.Alert, class_="pending").assert_empty()


def test_run_and_pause(page):
    st, rc = page
    _btn(rc, "btn-play").click()
    assert st.playing.value
    deadline = time.monotonic() + 20
    while st.session.main.week < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    _btn(rc, "btn-play").click()
    assert not st.playing.value
    assert st.session.main.week >= 2
    time.sleep(0.3)
    week = st.session.main.week
    time.sleep(0.3)
    assert st.session.main.week == week


def test_tabs_language_and_side_by_side(page):
    st, rc = page
    _btn(rc, "btn-step").click()
    st.tab.value = 1
    _image(rc, "network")
    assert any("Links" in x for x in _texts(rc, "link-counts"))
    st.tab.value = 2
    rc.find(v.Select, class_="select select-compare").widget.v_model = "siloed"
    assert st.session.other is not None and st.session.other.week == 1
    _image(rc, "compare")
    _btn(rc, "btn-step").click()
    assert st.session.other.week == 2
    assert any("Siloed" in x for x in _texts(rc, "other"))
    st.tab.value = 3
    html = " ".join(
        str(getattr(w.template, "template", w.template)) for w in rc.find(v.VuetifyTemplate).widgets
    )
    # The mode in both languages, and the seed's sentence behind one of its levers.
    assert "Full four-society linkage" in html and "打造信息平台" in html
    st.lang.value = "zh"
    assert "重置" in _btn(rc, "btn-reset").children


# ====================================================================== command and assets
def test_dashboard_command_refuses_a_busy_port(capsys):
    from experiments.interfaces.commands import dashboard

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        args = argparse.Namespace(host="127.0.0.1", port=port, lang="en", fetch_assets=False)
        assert dashboard.main(args) == 2
    assert "cannot listen" in capsys.readouterr().err
    assert dashboard.check_address("127.0.0.1", 70000).startswith("--port")


def test_assets_named_by_solaras_page_template(tmp_path):
    need = assets.required_files()
    assert any("solara-vuetify" in spec for spec in need) and any(
        spec.startswith("requirejs@") for spec in need
    )
    assert set(assets.missing_packages(tmp_path)) == set(need)
