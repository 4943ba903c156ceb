"""Docs stay true: the generated parts of docs/ODD.md and docs/parameters.md match the code."""

from __future__ import annotations

from pathlib import Path

from experiments.interfaces.commands.params import (
    ODD_END,
    ODD_START,
    policy_tables_markdown,
    reference_markdown,
)
from model import POLICIES, STEP_ORDER
from model.metrics import SERIES

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_is_current():
    assert (ROOT / "docs/parameters.md").read_text(encoding="utf-8") == reference_markdown(), (
        "run `make docs`"
    )


def test_odd_policy_tables_are_current():
    text = (ROOT / "docs/ODD.md").read_text(encoding="utf-8")
    block = text[text.index(ODD_START) + len(ODD_START) : text.index(ODD_END)]
    assert block.strip() == policy_tables_markdown().strip(), "run `make docs`"


def test_odd_names_every_policy_phase_and_metric():
    text = (ROOT / "docs/ODD.md").read_text(encoding="utf-8")
    for name in POLICIES:
        assert f"**{name} (" in text, name
    for phase in STEP_ORDER:
        assert f"**{phase}**" in text, phase
    for key in (
        "need_satisfaction_rate",
        "volunteer_retention_annual",
        "equity_group_gap",
        *[k for k in SERIES if not k.startswith(("spending_", "satisfaction_"))],
    ):
        assert key in text, key


def test_parameter_sources_cite_files_inside_the_repository():
    import re

    text = reference_markdown()
    assert "CALIBRATION.md" not in text and "DESIGN.md" not in text
    cited = set(re.findall(r"\b(docs/[\w./-]+\.md)", text))
    assert "docs/sources.md" in cited
    assert all((ROOT / f).is_file() for f in cited)


def test_modes_table_is_current():
    from experiments.interfaces.commands.params import modes_markdown

    assert (ROOT / "docs/modes.md").read_text(encoding="utf-8") == modes_markdown(), (
        "run `make docs`"
    )
