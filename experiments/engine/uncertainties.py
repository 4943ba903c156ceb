"""The parameter tree's uncertainties: every leaf parameter, its plausible range and how to
sample it.

Each assumed parameter of the tree carries a plausible range (`model.schema.P(plausible=...)`,
read with `model.schema.plausible_range`). An experiment's `uncertainties:` may name them
instead of spelling ranges out (`experiments.engine.spec`):

- `all-assumptions`: every parameter with a plausible range whose source is neither a decision
  (`LEVER`) nor a description of the street (`SETTING`), except the run's own settings
  (`run.*`: how long to simulate is a choice of the study, not a fact about the world) and what
  the experiment fixes itself (its `constants:` and `levers:`);
- a list of dotted paths: those parameters, with the ranges of the tree.

The need catalog (`needs.<type>.*`) is a mapping of entries, not fixed fields: it has no
plausible ranges and cannot be named here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from model.params import Params
from model.schema import LEVER, SETTING, plausible_range

ALL_ASSUMPTIONS = "all-assumptions"
"""The `uncertainties:` keyword that samples every assumption of the tree."""

NOT_UNCERTAIN_PREFIXES = ("run.",)
"""Sections never sampled by `all-assumptions`: the run's own settings."""


@dataclass(frozen=True)
class Leaf:
    """One parameter of the tree.

    Attributes:
        path: Dotted path (`volunteers.retention_annual`).
        unit: Unit of the value.
        description: What it is (the field's description).
        source: Where its default comes from.
        default: The tree's default.
        integer: Whether it takes whole numbers.
        plausible: (low, high, distribution), or None.
    """

    path: str
    unit: str
    description: str
    source: str
    default: Any
    integer: bool
    plausible: tuple[float, float, str] | None

    @property
    def is_assumption(self) -> bool:
        """A plausible range whose source is neither a lever nor a setting."""
        return (
            self.plausible is not None
            and not self.source.startswith((LEVER, SETTING))
            and not self.path.startswith(NOT_UNCERTAIN_PREFIXES)
        )


def _section(field: Any) -> type[BaseModel] | None:
    ann = field.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    if field.default_factory is not None:
        default = field.default_factory()
        if isinstance(default, BaseModel):
            return type(default)
    return None


def _walk(cls: type[BaseModel], defaults: Any, prefix: str) -> list[Leaf]:
    out: list[Leaf] = []
    for name, f in cls.model_fields.items():
        value = getattr(defaults, name)
        sub = _section(f)
        if sub is not None:
            out.extend(_walk(sub, value, f"{prefix}{name}."))
            continue
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        out.append(
            Leaf(
                path=f"{prefix}{name}",
                unit=str(extra.get("unit", "")),
                description=f.description or "",
                source=str(extra.get("source", "")),
                default=value,
                integer=f.annotation is int,
                plausible=plausible_range(f),
            )
        )
    return out


@functools.lru_cache(maxsize=1)
def leaves() -> dict[str, Leaf]:
    """Every leaf parameter of the tree (policies' sections included), by dotted path."""
    return {leaf.path: leaf for leaf in _walk(Params, Params(), "")}


def assumptions() -> list[Leaf]:
    """The parameters `all-assumptions` samples (before the experiment's own exclusions)."""
    return [leaf for leaf in leaves().values() if leaf.is_assumption]
