"""Building blocks of the parameter tree: the documented-parameter helper, the base section and
the fixed vocabularies (resident groups, spending channels). Kept apart from `model.params` so
that agents and policies can use them without import cycles."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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


def _takes_number(annotation: Any) -> bool:
    """Whether a field's type is a number, or a container of numbers (bool excluded)."""
    if annotation in (int, float):
        return True
    return any(_takes_number(a) for a in getattr(annotation, "__args__", ()))


def no_bool(value: Any) -> Any:
    """Refuse true/false (and containers holding them) where a number is expected: YAML reads
    `yes` as true, and pydantic would take it as 1."""
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, bool) or (
        isinstance(value, list | tuple | dict) and any(isinstance(v, bool) for v in items)
    ):
        raise ValueError("expected a number, got true/false")
    return value


class Section(BaseModel):
    """Base of every parameter section: unknown keys are errors; assignment is validated;
    numbers must be finite (no NaN or infinity) and are never taken from true/false."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_not_bool(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _takes_number(field.annotation):
            return no_bool(value)
        return value
