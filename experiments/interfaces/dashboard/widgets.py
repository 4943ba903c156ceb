"""Small Solara widgets in the NetLogo manner: sliders that always show their value, switches,
a select with translated labels, monitors and a matplotlib figure redrawn only on change.

They use ipyvuetify directly where Solara's wrappers fall short (a select whose labels differ
from its values; a compact switch), for Vuetify 3 (ipyvuetify 3) and Vuetify 2 alike. Each
takes a `name` that becomes a CSS class (`slider-<name>`, ...), which the tests use to find it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import solara
from solara.util import IPYVUETIFY_V3

from experiments.interfaces.report.fonts import figure_fonts

COMPACT: dict[str, Any] = {"density": "compact"} if IPYVUETIFY_V3 else {"dense": True}
"""The compact look in either Vuetify version."""
SMALL: dict[str, Any] = {"size": "small"} if IPYVUETIFY_V3 else {"small": True}
"""A small chip or button in either Vuetify version."""


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@solara.component
def MplFigure(
    make: Callable[[], Any],
    dependencies: list,
    width: str = "100%",
    name: str = "figure",
    rc: dict[str, Any] | None = None,
):
    """A matplotlib figure from `make()`, drawn again only when `dependencies` change.

    `rc` (fonts: `experiments.interfaces.dashboard.i18n.figure_rc`) is in force while the figure is built
    and saved, in this session: Solara keeps matplotlib's settings per session, so fonts are
    set per figure, not once per process.
    """

    def draw() -> bytes:
        with figure_fonts(rc or {}):
            return png_bytes(make())

    data = solara.use_memo(draw, [*dependencies, repr(rc)])
    solara.Image(data, format="png", width=width, classes=[f"fig-{name}"])


@solara.component
def Slider(
    label: str,
    value: float,
    on_value: Callable[[float], None],
    min: float,
    max: float,
    step: float = 1,
    fmt: str = "{:g}",
    name: str = "",
    disabled: bool = False,
):
    """A labelled slider with its value always on show (a NetLogo slider)."""
    with solara.Column(gap="0px", classes=["slider", f"slider-{name}"]):
        with solara.Row(justify="space-between", style={"font-size": "13px"}):
            solara.Text(label)
            solara.Text(fmt.format(value), classes=["slider-value"])
        solara.v.Slider(
            v_model=value,
            min=min,
            max=max,
            step=step,
            hide_details=True,
            disabled=disabled,
            on_v_model=lambda v: on_value(type(step)(v)),
            color="primary",
            class_=f"slider-input-{name}",
            **COMPACT,
        )


@solara.component
def Switch(
    label: str,
    value: bool,
    on_value: Callable[[bool], None],
    name: str = "",
    disabled: bool = False,
):
    """A compact on/off switch (a NetLogo switch)."""
    solara.v.Switch(
        label=label,
        v_model=value,
        on_v_model=lambda v: on_value(bool(v)),
        hide_details=True,
        color="primary",
        disabled=disabled,
        class_=f"switch switch-{name}",
        **COMPACT,
    )


@solara.component
def Select(
    label: str,
    options: list[tuple[Any, str]],
    value: Any,
    on_value: Callable[[Any], None],
    name: str = "",
    width: str = "260px",
):
    """A select showing translated labels for its values (`options` is [(value, label), ...])."""
    items = [{"value": v, "title": text, "text": text} for v, text in options]
    solara.v.Select(
        label=label,
        items=items,
        v_model=value,
        on_v_model=on_value,
        hide_details=True,
        class_=f"select select-{name}",
        style_=f"max-width: {width}; min-width: 180px",
        **COMPACT,
    )


@solara.component
def Monitor(label: str, value: str, sub: str = "", other: str = "", name: str = ""):
    """A big number with its label (a NetLogo monitor); `other` shows the paired run's value."""
    with solara.Card(margin=1, classes=["monitor", f"monitor-{name}"]):
        solara.Text(value, classes=["value"])
        solara.Text(label, classes=["label"])
        if sub:
            solara.Text(sub, classes=["sub"])
        if other:
            solara.Text(other, classes=["sub", "other"])
