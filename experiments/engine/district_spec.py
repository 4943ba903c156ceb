"""District files: many streets from a table, one budget across them (`linkage district FILE`).

A district file is a scenario file (`extends:` a base scenario for the mechanisms; any other
parameter key applies to every street) with a few keys of its own:

```yaml
name: example_district
label_en: An example district of 20 streets
label_zh: 示例城区(20个街道)
extends: ../base.yaml          # required: the mechanisms every street runs
table: example.csv             # the street and community table (.csv or .xlsx), beside this file
sheet: communities             # .xlsx only (default: the sheet 'communities' or '社区')
budget: 52000000               # yuan per year for the whole district
rule: need_weighted            # per_resident | need_weighted | equal | performance
compare:                       # optional: an alternative, paired by seed
  rule: per_resident           #   another split of the same budget, and/or
  extends: ../modes/full_linkage.yaml   # other mechanisms
performance:                   # how the performance rule works (when a rule uses it)
  metric: need_satisfaction_rate
  pilot_weeks: 52
  pilot_rule: per_resident
replications: 3
root_seed: 20240601
run: {weeks: 260, warmup_weeks: 52}   # parameters for every street, as in a scenario
```

The budget replaces each street's `funding.special_fund` (its share of the district budget)
and `funding.lottery_fund` (0): a street's money is exactly its share. The table replaces its
residents and communities (`street.communities`, `model.community_table`).

`load_district` reads the file, the table and the scenarios it extends, and validates them all
before anything runs; every problem raises `ScenarioError` (one line: file, field, problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    model_validator,
)

from experiments.engine.district_table import DistrictTable, read_table
from experiments.engine.errors import ScenarioError
from experiments.engine.input_files import read_text, short_repr
from experiments.engine.resources import locate
from experiments.engine.scenarios import (
    META_KEYS,
    apply_overrides,
    build_params,
    check_name,
    format_loc,
    read_yaml,
    resolve,
    scenario_name,
)
from experiments.engine.spec import _NumbersNotBool, override
from model.params import Params

RULES = ("per_resident", "need_weighted", "equal", "performance")
"""How the district budget is split across streets (`experiments.analyses.district`)."""
PERFORMANCE_METRICS = {
    "need_satisfaction_rate": +1,
    "needs_met_rate": +1,
    "satisfaction_min_group": +1,
    "cost_per_need_met": -1,
}
"""Metrics the performance rule may judge a street on, and whether higher is better."""
DISTRICT_KEYS = (
    "table",
    "sheet",
    "budget",
    "rule",
    "compare",
    "performance",
    "replications",
    "root_seed",
)
"""Keys of a district file that are not parameters of the streets."""

Rule = Literal["per_resident", "need_weighted", "equal", "performance"]


class PerformanceSpec(_NumbersNotBool):
    """The performance rule: a pilot year of every street sets the shares of the study."""

    metric: Literal[
        "need_satisfaction_rate", "needs_met_rate", "satisfaction_min_group", "cost_per_need_met"
    ] = Field("need_satisfaction_rate", description="What the pilot judges a street on.")
    pilot_weeks: int = Field(52, ge=4, le=520, description="Length of the pilot (weeks).")
    pilot_warmup_weeks: int = Field(
        0, ge=0, le=259, description="Weeks of the pilot left out of its judgement."
    )
    pilot_rule: Literal["per_resident", "need_weighted", "equal"] = Field(
        "per_resident", description="How the budget is split in the pilot."
    )
    weight: float = Field(
        1.0,
        ge=0,
        le=10,
        description="share ∝ residents x (score / district score) ^ weight; 0 is per resident.",
    )

    @model_validator(mode="after")
    def _check(self) -> PerformanceSpec:
        if self.pilot_warmup_weeks >= self.pilot_weeks:
            raise ValueError(
                f"pilot_warmup_weeks ({self.pilot_warmup_weeks}) must be less than pilot_weeks "
                f"({self.pilot_weeks})"
            )
        return self


class CompareSpec(_NumbersNotBool):
    """The alternative the district is compared with, street by street and paired by seed."""

    rule: Rule | None = Field(None, description="Another split rule (default: the same).")
    extends: str | None = Field(None, description="Other mechanisms (default: the same).")

    @model_validator(mode="after")
    def _check(self) -> CompareSpec:
        if self.rule is None and self.extends is None:
            raise ValueError("give 'rule' (another split), 'extends' (other mechanisms) or both")
        return self


class DistrictSpec(_NumbersNotBool):
    """The district keys of a district file, validated."""

    table: str = Field(description="The street and community table (.csv or .xlsx).")
    sheet: str | None = Field(None, max_length=100, description="The sheet of an .xlsx table.")
    budget: float = Field(gt=0, le=1e12, description="Yuan per year for the whole district.")
    rule: Rule = Field("per_resident", description="How the budget is split across streets.")
    compare: CompareSpec | None = None
    performance: PerformanceSpec = Field(default_factory=PerformanceSpec)
    replications: int = Field(3, ge=1, le=10_000)
    root_seed: int = Field(20240601, ge=0, lt=2**63)


@dataclass(frozen=True)
class Mechanisms:
    """A base scenario and the district's parameters on it: what every street runs."""

    file: Path
    name: str
    label_en: str
    label_zh: str
    params: Params


@dataclass
class District:
    """A loaded, validated district file.

    Attributes:
        path: The district file.
        text: Its text (kept in the results).
        name: Its name (`name:` or the file stem).
        meta: label_en, label_zh, description (when given).
        spec: The district keys.
        table: The streets and their communities.
        base: The mechanisms of the district's own rule.
        compare_base: The mechanisms of the comparison (None: no comparison, or only the rule
            changes there, and then it is `base`).
        overrides: The district file's own parameter keys as `dotted.key=VALUE` strings,
            applied to every street before its table and budget.
    """

    path: Path
    text: str
    name: str
    meta: dict[str, Any]
    spec: DistrictSpec
    table: DistrictTable
    base: Mechanisms
    compare_base: Mechanisms | None = None
    overrides: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rules(self) -> list[str]:
        """The rules the district runs: its own, and the comparison's when it has one."""
        out = [self.spec.rule]
        if self.spec.compare is not None:
            out.append(self.spec.compare.rule or self.spec.rule)
        return out

    @property
    def uses_performance(self) -> bool:
        return "performance" in self.rules


def flatten(data: dict[str, Any], file: Path, prefix: str = "") -> list[str]:
    """Nested parameter keys as `dotted.key=VALUE` overrides (lists and empty mappings whole).

    Raises:
        ScenarioError: a key with a dot or '=' in it (it could not be written as a path).
    """
    out = []
    for k, v in data.items():
        key = str(k)
        if "." in key or "=" in key or not key.strip():
            raise ScenarioError(file, prefix + key, "a parameter key may not hold '.' or '='")
        if isinstance(v, dict) and v:
            out += flatten(v, file, f"{prefix}{key}.")
        else:
            out.append(override(prefix + key, v))
    return out


def _spec_error(path: Path, e: ValidationError) -> ScenarioError:
    err = e.errors()[0]
    loc = format_loc(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required"
    inp = err.get("input")
    if err["type"] not in ("extra_forbidden", "missing") and not isinstance(inp, dict):
        msg = f"{msg} (got {short_repr(inp)})"
    return ScenarioError(path, loc, msg)


def _mechanisms(path: Path, ref: Any, where: str, overrides: list[str]) -> Mechanisms:
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError(path, where, "must name a base scenario file (e.g. ../base.yaml)")
    file = locate(path.parent / ref).resolve()
    if not file.is_file():
        raise ScenarioError(path, where, f"base scenario not found: {ref}")
    own = read_yaml(file)
    data = apply_overrides(resolve(file), overrides, source=str(path))
    try:
        params = build_params(data, path)
    except ScenarioError as e:
        raise ScenarioError(path, e.field, f"{e.problem} (on {file.name})") from None
    name = scenario_name(own, file)
    return Mechanisms(
        file=file,
        name=name,
        label_en=str(own.get("label_en") or name),
        label_zh=str(own.get("label_zh") or own.get("label_en") or name),
        params=params,
    )


def load_district(path: str | Path) -> District:
    """Read, validate and resolve a district file, its table and its base scenarios.

    Args:
        path: The district YAML file.

    Returns:
        The district.

    Raises:
        ScenarioError: naming the file (the district file, its table or a base scenario), the
            field (or row and column) and the problem.
    """
    path = locate(path)
    own = read_yaml(path)
    for key in own:
        if not isinstance(key, str):
            raise ScenarioError(path, short_repr(key), "keys must be text")
    if "extends" not in own:
        raise ScenarioError(
            path, "extends", "required: the base scenario whose mechanisms every street runs"
        )
    try:
        spec = DistrictSpec.model_validate({k: v for k, v in own.items() if k in DISTRICT_KEYS})
    except ValidationError as e:
        raise _spec_error(path, e) from None
    name = check_name(own["name"], path) if own.get("name") is not None else path.stem
    meta = {}
    for k in ("label_en", "label_zh", "description", "description_zh"):
        if own.get(k) is not None:
            if not isinstance(own[k], str):
                raise ScenarioError(path, k, "must be text")
            meta[k] = own[k]
    params_part = {k: v for k, v in own.items() if k not in DISTRICT_KEYS and k not in META_KEYS}
    if isinstance(params_part.get("street"), dict):
        for k in ("communities", "n_residents", "n_communities"):
            if k in params_part["street"]:
                raise ScenarioError(
                    path, f"street.{k}", "set by the district's table; leave it out here"
                )
    if isinstance(params_part.get("funding"), dict):
        for k in ("special_fund", "lottery_fund"):
            if k in params_part["funding"]:
                raise ScenarioError(
                    path, f"funding.{k}", "set by the district's budget; leave it out here"
                )
    overrides = flatten(params_part, path)
    base = _mechanisms(path, own["extends"], "extends", overrides)
    compare_base = None
    if spec.compare is not None:
        if spec.compare.extends is not None:
            compare_base = _mechanisms(path, spec.compare.extends, "compare.extends", overrides)
        same_rule = (spec.compare.rule or spec.rule) == spec.rule
        same_base = compare_base is None or compare_base.file == base.file
        if same_rule and same_base:
            raise ScenarioError(
                path, "compare", "the same rule and mechanisms as the district itself"
            )
    table_path = locate(path.parent / spec.table)
    table = read_table(table_path, spec.sheet)
    names = [s.name for s in table.streets]
    if len(names) < 1:  # pragma: no cover - read_table refuses an empty table
        raise ScenarioError(table_path, "(file)", "no streets")
    return District(
        path=path,
        text=read_text(path),
        name=name,
        meta=meta,
        spec=spec,
        table=table,
        base=base,
        compare_base=compare_base,
        overrides=tuple(overrides),
    )
