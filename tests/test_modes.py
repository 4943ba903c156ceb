"""Clean modes: every linkage mode is the siloed baseline plus exactly the levers it declares.

The parameter trees are compared after everything is resolved (defaults, `extends:`), so a lever
a mode inherits from a file it extends counts as much as one it sets itself: redesigning the
baseline is a change to `scenarios/modes/siloed.yaml` only, and a mode that changes anything
its `levers:` do not name fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.engine.levers import known_levers, lever_scope
from experiments.engine.scenarios import ScenarioError, lever_changes, load_scenario

MODES = Path(__file__).resolve().parents[1] / "scenarios" / "modes"
BASELINE = MODES / "siloed.yaml"
MODE_FILES = sorted(p for p in MODES.glob("*.yaml") if p != BASELINE)


def test_there_are_modes_and_the_baseline_declares_no_lever() -> None:
    assert len(MODE_FILES) >= 5
    assert load_scenario(BASELINE).levers == []


@pytest.mark.parametrize("path", MODE_FILES, ids=lambda p: p.stem)
def test_mode_is_the_baseline_plus_exactly_its_declared_levers(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.levers, f"{path.name}: declares no levers"
    changes = lever_changes(BASELINE, path)
    undeclared = {k: v for k, v in changes.items() if k not in sc.levers}
    assert not undeclared, (
        f"{path.name} changes parameters outside its declared levers: "
        + "; ".join(f"{k} ({lever_scope(k)}): {[p for p, *_ in v]}" for k, v in undeclared.items())
    )
    idle = [lv for lv in sc.levers if lv not in changes]
    assert not idle, f"{path.name} declares levers that change nothing: {idle}"
    # the mode extends the baseline, so a new baseline reaches every mode
    assert "extends: siloed.yaml" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MODE_FILES, ids=lambda p: p.stem)
def test_description_names_every_declared_lever_in_both_languages(path: Path) -> None:
    """The description says what the mode does: each declared lever is named (en and zh)."""
    from experiments.engine.levers import lever_label

    sc = load_scenario(path)
    words = {
        "en": " ".join(sc.description.split()).lower(),
        "zh": str(sc.meta.get("description_zh", "")),
    }
    en_terms = {
        "purchase": "purchase", "evaluation": "evaluation", "cultivation": "cultivation",
        "professionalization": "professionalization", "surveys": "surveys",
        "team_building": "team", "volunteer_mgmt": "volunteer management",
        "project_teams": "project teams", "mobilization": "mobilization",
        "codelivery": "co-delivery", "time_bank": "time bank", "allocation": "budget split",
        "platform": "platform", "credit": "credit", "joint_meeting": "joint meeting",
        "charity": "charit", "supervision": "supervision", "group_work": "group work",
        "community_work": "community work", "consultation": "consultation", "claiming": "claim",
    }  # fmt: skip
    if sc.name == "full_linkage":  # "all policies" names them at once
        assert "all policies except the charity fund" in words["en"]
        assert "除第五社(社会慈善资源)外的全部政策开启" in words["zh"]
        assert "budget split" in words["en"] and "预算分配" in words["zh"]
        return
    if sc.name == "five_society":  # full linkage's policies, at once, plus charity
        assert (
            "all policies of full linkage" in words["en"]
            and "完整联动的全部政策开启" in words["zh"]
        )
        assert "budget split" in words["en"] and "预算分配" in words["zh"]
        assert "charit" in words["en"] and "社会慈善资源" in words["zh"]
        return
    for lever in sc.levers:
        assert en_terms[lever] in words["en"], (path.name, lever)
        zh = lever_label(lever, "zh")
        assert zh in words["zh"] or zh[:4] in words["zh"], (path.name, lever, zh)


def test_full_linkage_runs_every_policy_the_lever_table_puts_in_it() -> None:
    """ "All policies except the charity fund" is true: full linkage's policy levers are exactly
    those `LEVERS` marks in_full (the removal table's arms), and five-society linkage is full
    linkage plus the charity fund."""
    from experiments.analyses.levers import LEVERS

    full = set(load_scenario(MODES / "full_linkage.yaml").levers) - {"allocation"}
    assert full == {lv.policy for lv in LEVERS if lv.in_full}
    five = set(load_scenario(MODES / "five_society.yaml").levers) - {"allocation"}
    assert five == full | {"charity"}
    assert {"supervision", "group_work", "community_work"} <= full


def test_a_mode_with_an_undeclared_change_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "sneaky.yaml"
    bad.write_text(
        f"extends: {MODES / 'so_sw.yaml'}\nname: sneaky\npolicies: {{credit: {{enabled: true}}}}\n",
        encoding="utf-8",
    )
    sc = load_scenario(bad)
    changes = lever_changes(BASELINE, bad)
    assert "credit" in changes and "credit" not in sc.levers


def test_levers_must_be_known_names(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nlevers: [platfrom]\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(bad)
    assert e.value.field == "levers" and "platform" in e.value.problem
    assert "allocation" in known_levers()
