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
    "charity_match",
)
"""Spending channels of the government budget (DESIGN.md, plus block grants to communities and
the public matching of charitable donations, 配捐)."""

ASSUMPTION = "assumption"
"""Source of a number no publication gives: it must carry a plausible range (`P(plausible=...)`)."""

LEVER = "lever: a decision of the street or the government, not an uncertainty"
"""Source of a decision (allocation shares, switches of a mechanism's variant)."""

SETTING = "setting: describes the street being modelled (give your own)"
"""Source of a description of the street (its size, its communities)."""

DISTRIBUTIONS = ("uniform", "loguniform", "triangular")
"""How a plausible range is sampled: uniform, log-uniform, or triangular with its mode at the
default."""


def P(
    default: Any,
    lo: float | None,
    hi: float | None,
    unit: str,
    desc: str,
    source: str,
    *,
    plausible: tuple[float, float] | None = None,
    dist: str = "uniform",
) -> Any:
    """A documented parameter: default, inclusive valid range, unit and source.

    Args:
        default: The default value.
        lo: Least valid value (inclusive), or None.
        hi: Largest valid value (inclusive), or None.
        unit: Unit of the value.
        desc: What it is.
        source: Where the default comes from: a figure in docs/sources.md, `ASSUMPTION`,
            `LEVER` or `SETTING`.
        plausible: The range of values that are plausible where nobody knows the number (an
            uncertainty of robustness studies, EMA's sense); required when the source is an
            assumption. Must lie within [lo, hi] and contain the default.
        dist: How the plausible range is sampled (`DISTRIBUTIONS`).
    """
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if plausible is not None:
        a, b = float(plausible[0]), float(plausible[1])
        if not a < b:
            raise ValueError(f"plausible range must be (low, high) with low < high: {plausible}")
        if (lo is not None and a < lo) or (hi is not None and b > hi):
            raise ValueError(f"plausible range {plausible} outside the valid range [{lo}, {hi}]")
        if not isinstance(default, bool) and not a <= default <= b:
            raise ValueError(f"default {default} outside its plausible range {plausible}")
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"dist must be one of {DISTRIBUTIONS}, got {dist!r}")
        if dist == "loguniform" and a <= 0:
            raise ValueError("a log-uniform plausible range needs a positive low end")
        extra["plausible"] = [a, b]
        extra["dist"] = dist
    return Field(default, ge=lo, le=hi, description=desc, json_schema_extra=extra)


def plausible_range(field: Any) -> tuple[float, float, str] | None:
    """A field's plausible range and distribution (`P(plausible=...)`), or None."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "plausible" not in extra:
        return None
    a, b = extra["plausible"]
    return float(a), float(b), str(extra.get("dist", "uniform"))


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
