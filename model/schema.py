"""Building blocks of the parameter tree: the documented-parameter helper, the base section and
the fixed vocabularies (resident groups, spending channels). Kept apart from `model.params` so
that agents and policies can use them without import cycles."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GROUPS: tuple[str, ...] = ("elderly", "minor", "migrant", "disabled", "low_income", "general")
"""Resident groups, in array order (the index stored in `Residents.group`)."""

CHANNELS: tuple[str, ...] = (
    "procurement",
    "posts",
    "venture",
    "timebank",
    "evaluation",
    "platform",
    "incubation",
    "block_grant",
)
"""Spending channels of the government budget (DESIGN.md, plus block grants to communities)."""

ASSUMPTION = "assumption"


def P(default: Any, lo: float | None, hi: float | None, unit: str, desc: str, source: str) -> Any:
    """A documented parameter: default, inclusive valid range, unit and source."""
    extra = {"unit": unit, "source": source}
    return Field(default, ge=lo, le=hi, description=desc, json_schema_extra=extra)


class Section(BaseModel):
    """Base of every parameter section: unknown keys are errors; assignment is validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
