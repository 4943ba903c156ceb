"""Uncertainties are data: every parameter whose default is an assumption carries a plausible
range (low, high, distribution) next to its default, checked when the tree is defined."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from model import Params
from model.schema import ASSUMPTION, P, plausible_range


def _fields(cls: type[BaseModel], prefix: str = ""):
    """(dotted path, field) of every leaf parameter of a section, recursively."""
    for name, f in cls.model_fields.items():
        sub = f.annotation if isinstance(f.annotation, type) else None
        if sub is None and f.default_factory is not None:
            default = f.default_factory()
            sub = type(default) if isinstance(default, BaseModel) else None
        if sub is not None and issubclass(sub, BaseModel):
            yield from _fields(sub, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", f


def _source(field) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return str(extra.get("source", ""))


LEAVES = dict(_fields(Params))


def test_every_assumption_has_a_plausible_range():
    missing = [
        path
        for path, f in LEAVES.items()
        if _source(f).startswith(ASSUMPTION) and plausible_range(f) is None
    ]
    assert not missing, f"assumptions without a plausible range: {missing}"
    # The tree has many: the robustness studies sample them.
    assert sum(plausible_range(f) is not None for f in LEAVES.values()) >= 60


def test_plausible_ranges_hold_their_default_and_lie_within_the_valid_range():
    defaults = Params().model_dump()
    for path, f in LEAVES.items():
        pr = plausible_range(f)
        if pr is None:
            continue
        lo, hi, dist = pr
        value = defaults
        for key in path.split("."):
            value = value[key]
        assert lo < hi and lo <= value <= hi, path
        assert dist in ("uniform", "loguniform", "triangular"), path


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"plausible": (2.0, 1.0)}, "low < high"),
        ({"plausible": (0.5, 2.0)}, "outside the valid range"),
        ({"plausible": (0.6, 0.9)}, "outside its plausible range"),
        ({"plausible": (0.1, 0.9), "dist": "normal"}, "dist must be one of"),
        ({"plausible": (0.0, 0.9), "dist": "loguniform"}, "positive low end"),
    ],
)
def test_a_bad_plausible_range_is_refused_where_the_tree_is_defined(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        P(0.5, 0, 1, "share", "A share.", ASSUMPTION, **kwargs)
