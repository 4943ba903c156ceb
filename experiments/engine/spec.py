"""Experiment files: which scenarios to run, which parameters to vary, how many replications.

An experiment file is YAML, validated whole before anything runs (unknown keys are errors):

```yaml
name: linkage_modes                 # names the results folder (default: the file's stem)
label_en: Six linkage modes         # the report's title (default: the name, in words)
label_zh: 六种联动模式
description: The six linkage modes against the siloed baseline.
scenarios:                          # a list of scenario files (relative to this file) ...
  - ../scenarios/modes/siloed.yaml
#  ... or a mapping name -> file, or name -> {file: ..., set: {dotted.key: value},
#      label_en: ..., label_zh: ...}  (display names for an entry that reuses a file)
baseline: siloed                    # default: the first scenario
levers:                             # what a decision maker controls
  providers.sw_per_10k: {values: [3, 6.6, 12]}
uncertainties:                      # what nobody controls
  volunteers.retention_annual: {range: [0.5, 0.8]}
#  ... or a list of dotted paths (the plausible ranges of the parameter tree), or the word
#  all-assumptions (every assumed parameter of the tree: experiments.engine.uncertainties)
design: grid                        # grid | lists | lhs | sobol
samples: 64                         # lhs and sobol only
replications: 20
root_seed: 20240601
weeks: 156                          # optional: run.weeks of every run
warmup_weeks: 52                    # optional: run.warmup_weeks of every run
metrics: [need_satisfaction_rate]   # summary metrics to keep (default: all)
timeseries: true                    # true, false, or a list of weekly columns to keep
constants: {street.n_residents: 20000}   # overrides applied to every run
```

Designs: `grid` is the full factorial of every parameter's `values` (a `range` with `levels: N`
gives N evenly spaced values); `lists` zips equal-length `values` lists into points; `lhs` and
`sobol` draw `samples` points over the `range`s (a parameter with `values` is then a categorical
choice; `integer: true` draws whole numbers from the inclusive range, and an integer parameter
of the tree does so by itself). A `range` may say `dist: loguniform` or `dist: triangular`
(with `mode:`, by default the tree's default; the tree's plausible ranges carry their own), and
lhs and sobol draws follow that distribution. The sample is a pure function of `root_seed`.

Every problem raises `experiments.engine.errors.ScenarioError(file, field, problem)`, which the CLI
prints as one line and exits 2.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from experiments.engine.errors import ExperimentError, ScenarioError
from experiments.engine.input_files import read_text, short_repr
from experiments.engine.resources import locate
from experiments.engine.scenarios import (
    apply_overrides,
    build_params,
    check_name,
    format_loc,
    read_yaml,
    resolve,
    scenario_name,
)
from experiments.engine.seeds import design_rng
from model.schema import no_bool

Scalar = bool | int | float | str

MAX_RUNS = 100_000
"""Most runs one command plans by default (`--max-runs` raises it): the design, its points and
tasks are counted before any of them is built, so a typo such as `levels: 1000000000` is
refused at once instead of exhausting memory."""
MAX_LEVELS = 1_000_000
"""Most values one parameter of a grid design takes (`levels:`)."""
MAX_SAMPLES = 10_000_000
"""Most points of an lhs or sobol design (`samples:`, also `--samples`)."""


def check_run_count(runs: int, max_runs: int | None, file: str | Path, field: str) -> None:
    """Refuse a plan of more than `max_runs` runs (None: `MAX_RUNS`).

    Raises:
        ExperimentError: naming the file, the field that sets the size, and the count.
    """
    limit = MAX_RUNS if max_runs is None else max_runs
    if runs > limit:
        raise ExperimentError(file, field, f"{runs:,} runs planned, more than --max-runs {limit:,}")


class _NumbersNotBool(BaseModel):
    """Spec models: numbers are finite and never taken from true/false."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _not_bool(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        ann = field.annotation if field is not None else None
        if ann in (int, float, int | None, float | None, tuple[float, float] | None):
            return no_bool(value)
        return value


class ParameterSpec(_NumbersNotBool):
    """One varied parameter: explicit `values`, or a `range` to sample (or split into levels)."""

    values: list[Scalar] | None = Field(None, description="Explicit values.")
    range: tuple[float, float] | None = Field(None, description="Inclusive [low, high].")
    integer: bool = Field(False, description="Draw whole numbers from the range.")
    levels: int | None = Field(
        None, ge=2, le=MAX_LEVELS, description="Grid design: evenly spaced values over the range."
    )
    dist: Literal["uniform", "loguniform", "triangular"] = Field(
        "uniform", description="How lhs and sobol designs spread draws over the range."
    )
    mode: float | None = Field(
        None, description="Peak of a triangular distribution (default: the tree's default)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ParameterSpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either 'values' or 'range'")
        if self.values is not None:
            if not self.values:
                raise ValueError("'values' must not be empty")
            if self.integer or self.levels is not None:
                raise ValueError("'integer' and 'levels' go with 'range', not 'values'")
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise ValueError(
                    f"range must be [low, high] with low < high, got {list(self.range)}"
                )
            if self.integer and (lo != int(lo) or hi != int(hi)):
                raise ValueError("an integer range needs whole-number ends")
            if self.dist == "loguniform" and lo <= 0:
                raise ValueError("a loguniform range needs a positive low end")
            if self.mode is not None and not lo <= self.mode <= hi:
                raise ValueError(f"mode {self.mode:g} lies outside the range {list(self.range)}")
        elif self.dist != "uniform" or self.mode is not None:
            raise ValueError("'dist' and 'mode' go with 'range', not 'values'")
        if self.mode is not None and self.dist != "triangular":
            raise ValueError("'mode' goes with dist: triangular")
        return self


class ScenarioRef(BaseModel):
    """A scenario of the experiment: a file, plus overrides for this experiment only."""

    model_config = ConfigDict(extra="forbid")

    file: str
    set: dict[str, Any] = Field(default_factory=dict, description="dotted.key: value overrides.")
    label_en: str | None = Field(None, description="Display name in English reports.")
    label_zh: str | None = Field(None, description="Display name in Chinese reports.")


class ExperimentSpec(_NumbersNotBool):
    """The validated content of an experiment file."""

    name: str | None = None
    label_en: str | None = Field(None, description="Title of its report in English.")
    label_zh: str | None = Field(None, description="Title of its report in Chinese.")
    description: str = ""
    scenarios: list[str] | dict[str, str | ScenarioRef]
    baseline: str | None = None
    levers: dict[str, ParameterSpec] = Field(default_factory=dict)
    uncertainties: dict[str, ParameterSpec] = Field(default_factory=dict)
    design: Literal["grid", "lists", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=1, le=MAX_SAMPLES)
    replications: int = Field(10, ge=1, le=1_000_000)
    root_seed: int = Field(20240601, ge=0, lt=2**63)
    weeks: int | None = Field(None, ge=1, le=5200)
    warmup_weeks: int | None = Field(None, ge=0, le=2600)
    metrics: list[str] | None = None
    timeseries: bool | list[str] = True
    constants: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ExperimentSpec:
        if not self.scenarios:
            raise ValueError("scenarios: list at least one scenario file")
        if isinstance(self.timeseries, list):
            bad = [c for c in self.timeseries if c not in timeseries_columns()]
            if bad:
                raise ValueError(
                    f"timeseries: unknown weekly column {short_repr(bad[0])}"
                    + did_you_mean(bad[0], timeseries_columns())
                )
        if self.metrics is not None:
            if not self.metrics:
                raise ValueError("metrics: give at least one metric, or leave it out to keep all")
            dup = sorted({m for m in self.metrics if self.metrics.count(m) > 1})
            if dup:
                raise ValueError(f"metrics: listed twice: {', '.join(dup)}")
        return self


def did_you_mean(name: Any, known: Any) -> str:
    """The text " (did you mean 'x'?)" for the closest known name, or ""."""
    close = difflib.get_close_matches(str(name)[:200], sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def timeseries_columns() -> tuple[str, ...]:
    """The weekly columns a run records (`week` and `model.SERIES`)."""
    from model.metrics import SERIES

    return ("week", *SERIES)


COMMUNITY_METRIC = re.compile(r"satisfaction_c\d{2,3}")
"""Per-community summary metrics (`satisfaction_c00`, ...): as many as the street has."""


@functools.lru_cache(maxsize=1)
def known_metrics() -> frozenset[str]:
    """The summary metrics the model reports, from one tiny run (50 residents, 2 weeks; the
    model's own list, so it cannot drift from it). Per-community ones match
    `COMMUNITY_METRIC`."""
    from model import Params, run_model

    tiny = Params.model_validate(
        {"run": {"weeks": 2, "warmup_weeks": 1}, "street": {"n_residents": 50, "n_communities": 1}}
    )
    return frozenset(k for k in run_model(tiny, 0).summary if not COMMUNITY_METRIC.fullmatch(k))


def unknown_metrics(names: list[str]) -> list[str]:
    """The names in `names` that are not summary metrics of the model."""
    known = known_metrics()
    return [m for m in names if m not in known and not COMMUNITY_METRIC.fullmatch(str(m))]


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario of an experiment, resolved to an absolute file.

    `seed_stream` None (experiment files): replication r runs with the experiment's seed of
    replication r, as every other scenario. An integer: with seed r of that stream
    (`experiments.engine.seeds.stream_seed`), shared only by the scenarios of the same stream
    (a district's streets: one stream per street, shared by the policies compared there).
    """

    index: int
    name: str
    file: Path
    overrides: tuple[str, ...] = ()
    seed_stream: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    """(lang, display name) pairs the experiment gives this entry (`label_en`, `label_zh`)."""


@dataclass(frozen=True)
class Parameter:
    """A varied parameter: its dotted path, kind ('lever' or 'uncertainty') and spec."""

    name: str
    kind: str
    spec: ParameterSpec


@dataclass
class Experiment:
    """A loaded, validated experiment: scenarios, parameter points and run settings."""

    path: Path
    text: str
    spec: ExperimentSpec
    name: str
    scenarios: list[ScenarioEntry]
    baseline: str
    parameters: list[Parameter]
    points: list[dict[str, Any]]
    constants: tuple[str, ...] = field(default_factory=tuple)
    seed_per_point: bool = False
    """Each parameter point draws its own seeds (`seeds.point_seed`) instead of sharing
    replication r's seed with every other point (robustness studies: each future is a world of
    its own, the same for every strategy)."""

    def run_overrides(
        self, weeks: int | None = None, warmup_weeks: int | None = None
    ) -> tuple[str, ...]:
        """Overrides of `run.*` from the spec, or from the given values when not None."""
        weeks = weeks if weeks is not None else self.spec.weeks
        warmup = warmup_weeks if warmup_weeks is not None else self.spec.warmup_weeks
        out = []
        if weeks is not None:
            out.append(f"run.weeks={weeks}")
        if warmup is not None:
            out.append(f"run.warmup_weeks={warmup}")
        return tuple(out)

    def base_overrides(
        self, entry: ScenarioEntry, weeks: int | None = None, warmup_weeks: int | None = None
    ) -> tuple[str, ...]:
        """Overrides shared by every run of a scenario: constants, its own `set`, run length."""
        return (*self.constants, *entry.overrides, *self.run_overrides(weeks, warmup_weeks))

    def point_overrides(self, point: int) -> tuple[str, ...]:
        """Overrides of one parameter point."""
        return tuple(override(k, v) for k, v in self.points[point].items())


def format_value(value: Any) -> str:
    """Write a value so that `yaml.safe_load` reads back exactly the same value.

    `repr(1e-05)` is "1e-05", which YAML 1.1 reads as a string; YAML's own writer gives
    "1.0e-05". Numpy scalars become Python scalars first.
    """
    if isinstance(value, np.generic):
        value = value.item()
    text = yaml.safe_dump(value, default_flow_style=True, width=2**30, allow_unicode=True)
    text = text.removesuffix("\n").removesuffix("\n...")
    return text


def override(key: str, value: Any) -> str:
    """The `dotted.key=VALUE` override string of one value."""
    return f"{key}={format_value(value)}"


def spec_error(path: Path, e: ValidationError) -> ScenarioError:
    """The first problem pydantic found in a study file, as one `ScenarioError` line."""
    return _spec_error(path, e)


def _spec_error(path: Path, e: ValidationError) -> ScenarioError:
    err = e.errors()[0]
    loc = format_loc(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required"
    if msg.startswith(("scenarios:", "metrics:", "timeseries:")):
        loc, msg = msg.split(": ", 1)
    inp = err.get("input")
    if err["type"] not in ("extra_forbidden", "missing") and not isinstance(inp, dict):
        msg = f"{msg} (got {short_repr(inp)})"
    return ScenarioError(path, loc, msg)


def _scenario_entries(path: Path, spec: ExperimentSpec) -> list[ScenarioEntry]:
    entries: list[ScenarioEntry] = []
    if isinstance(spec.scenarios, list):
        items = [(None, f, {}, ()) for f in spec.scenarios]
    else:
        items = [
            (name, ref, {}, ())
            if isinstance(ref, str)
            else (name, ref.file, ref.set, _ref_labels(ref))
            for name, ref in spec.scenarios.items()
        ]
    seen: dict[str, int] = {}
    for i, (name, file, sets, labels) in enumerate(items):
        field_name = f"scenarios.{name if name is not None else i}"
        fpath = locate(path.parent / file).resolve()
        if not fpath.exists():
            raise ScenarioError(path, field_name, f"scenario file not found: {file}")
        if not fpath.is_file():
            raise ScenarioError(path, field_name, f"not a file: {file}")
        if name is None:
            name = scenario_name(read_yaml(fpath), fpath)
        else:
            name = check_name(name, path, field_name)
        if name in seen:
            raise ScenarioError(
                path, field_name, f"two scenarios are named '{name}'; use a mapping name: file"
            )
        seen[name] = i
        entries.append(
            ScenarioEntry(
                i, name, fpath, tuple(override(k, v) for k, v in sets.items()), labels=labels
            )
        )
    return entries


def _ref_labels(ref: ScenarioRef) -> tuple[tuple[str, str], ...]:
    return tuple(
        (lang, text)
        for lang, text in (("en", ref.label_en), ("zh", ref.label_zh))
        if text is not None
    )


def _grid_values(p: Parameter) -> list[Any]:
    if p.spec.values is not None:
        return list(p.spec.values)
    lo, hi = p.spec.range
    vals = np.linspace(lo, hi, p.spec.levels)
    if p.spec.integer:
        return sorted({int(round(v)) for v in vals})
    return [float(v) for v in vals]


def _unit_sample(design: str, d: int, n: int, root_seed: int) -> np.ndarray:
    """`n` points in [0, 1)^d: a Latin hypercube or a scrambled Sobol' sequence."""
    rng = design_rng(root_seed)
    try:
        from scipy.stats import qmc
    except ImportError:
        qmc = None
    if design == "sobol":
        if qmc is None:
            raise ValueError(
                "the sobol design needs scipy (pip install scipy, or the 'sensitivity' extra)"
            )
        m = max(0, math.ceil(math.log2(n)))
        return qmc.Sobol(d, scramble=True, rng=rng).random_base2(m)[:n]
    if qmc is not None:
        return qmc.LatinHypercube(d, rng=rng).random(n)
    return latin_hypercube(n, d, rng)


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points in [0, 1)^d, one in each of n equal strata of every dimension, the strata
    shuffled independently per dimension (numpy only: the same points wherever it runs)."""
    u = (rng.random((n, d)) + np.arange(n)[:, None]) / n
    for j in range(d):
        u[:, j] = u[rng.permutation(n), j]
    return u


def unit_to_value(s: ParameterSpec, u: float) -> Any:
    """The value of a parameter at unit coordinate `u` in [0, 1] (the designs' map).

    `values`: the ⌊u·k⌋-th of k values (a categorical choice). `range`: the inverse of its
    distribution's CDF at u: uniform `low + u (high - low)`, loguniform
    `low (high / low)^u`, triangular with its peak at `mode`. An integer range gives whole
    numbers: uniform ones each with the same chance (⌊low + u (high - low + 1)⌋), the others
    rounded to the nearest.
    """
    u = min(max(float(u), 0.0), 1.0)
    if s.values is not None:
        return s.values[min(int(u * len(s.values)), len(s.values) - 1)]
    lo, hi = s.range
    if s.dist == "uniform":
        if s.integer:
            return int(min(math.floor(lo + u * (hi - lo + 1)), hi))
        return float(lo + u * (hi - lo))
    if s.dist == "loguniform":
        x = lo * (hi / lo) ** u
    else:
        c = s.mode if s.mode is not None else (lo + hi) / 2
        cut = (c - lo) / (hi - lo)
        if u < cut:
            x = lo + math.sqrt(u * (hi - lo) * (c - lo))
        else:
            x = hi - math.sqrt((1 - u) * (hi - lo) * (hi - c))
    x = min(max(x, lo), hi)
    return int(round(x)) if s.integer else float(x)


def _from_unit(p: Parameter, u: float) -> Any:
    return unit_to_value(p.spec, u)


def design_points(spec: ExperimentSpec, parameters: list[Parameter]) -> list[dict[str, Any]]:
    """The parameter points of the design, in a fixed order (a pure function of the spec).

    Raises:
        ValueError: as "field: problem" when the design and the parameters do not fit.
    """
    if not parameters:
        if spec.design in ("lhs", "sobol"):
            raise ValueError(f"design: '{spec.design}' needs parameters in levers or uncertainties")
        if spec.samples is not None:
            raise ValueError("samples: only the lhs and sobol designs take samples")
        return [{}]
    names = [p.name for p in parameters]
    if spec.design in ("grid", "lists"):
        if spec.samples is not None:
            raise ValueError("samples: only the lhs and sobol designs take samples")
        for p in parameters:
            if p.spec.values is None and (spec.design == "lists" or p.spec.levels is None):
                need = "values" if spec.design == "lists" else "values, or range with levels"
                raise ValueError(f"{p.kind}s.{p.name}: the {spec.design} design needs {need}")
        if spec.design == "grid":
            combos = itertools.product(*(_grid_values(p) for p in parameters))
            return [dict(zip(names, c, strict=True)) for c in combos]
        lengths = {len(p.spec.values) for p in parameters}
        if len(lengths) > 1:
            detail = ", ".join(f"{p.name}: {len(p.spec.values)}" for p in parameters)
            raise ValueError(
                f"design: the lists design needs values lists of equal length ({detail})"
            )
        return [
            dict(zip(names, c, strict=True))
            for c in zip(*(p.spec.values for p in parameters), strict=True)
        ]
    if spec.samples is None:
        raise ValueError(f"samples: the {spec.design} design needs 'samples: N'")
    u = _unit_sample(spec.design, len(parameters), spec.samples, spec.root_seed)
    return [{p.name: _from_unit(p, row[j]) for j, p in enumerate(parameters)} for row in u]


def expand_uncertainties(data: Any, path: Path, field: str = "uncertainties") -> Any:
    """The experiment's data with `uncertainties:` as a mapping of explicit ranges.

    `all-assumptions` and a list of dotted paths take the ranges of the parameter tree
    (`experiments.engine.uncertainties`); in a mapping, an integer parameter draws whole
    numbers unless it says `integer:` itself, and a triangular one without `mode:` peaks at the
    tree's default.

    Raises:
        ScenarioError: an unknown keyword or path, a path without a plausible range, or a path
            listed twice.
    """
    from experiments.engine.uncertainties import ALL_ASSUMPTIONS, assumptions, leaves

    if not isinstance(data, dict) or field not in data:
        return data
    given = data[field]
    tree = leaves()

    def known(name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise ScenarioError(path, where, f"expected a dotted path (got {short_repr(name)})")
        if name not in tree:
            if name.startswith("needs."):
                raise ScenarioError(
                    path, where, "the need catalog has no plausible ranges; give a range"
                )
            raise ScenarioError(path, where, "unknown parameter" + did_you_mean(name, tree))
        return tree[name]

    def from_tree(leaf: Any) -> dict[str, Any]:
        lo, hi, dist = leaf.plausible
        out: dict[str, Any] = {"range": [lo, hi], "integer": leaf.integer, "dist": dist}
        if dist == "triangular":
            out["mode"] = float(leaf.default)
        return out

    if isinstance(given, str):
        if given != ALL_ASSUMPTIONS:
            raise ScenarioError(
                path,
                field,
                f"give '{ALL_ASSUMPTIONS}', a list of dotted paths, or a mapping of ranges "
                f"(got {short_repr(given)})",
            )
        fixed = set()
        for key in ("constants", "levers"):
            if isinstance(data.get(key), dict):
                fixed |= {str(k) for k in data[key]}
        expanded = {leaf.path: from_tree(leaf) for leaf in assumptions() if leaf.path not in fixed}
        return {**data, field: expanded}
    if isinstance(given, list):
        expanded = {}
        for i, name in enumerate(given):
            leaf = known(name, f"{field}.{i}")
            if name in expanded:
                raise ScenarioError(path, f"{field}.{i}", f"'{name}' is listed twice")
            if leaf.plausible is None:
                raise ScenarioError(
                    path,
                    f"{field}.{name}",
                    "has no plausible range in the parameter tree; give it as a mapping with "
                    "its range",
                )
            expanded[name] = from_tree(leaf)
        return {**data, field: expanded}
    if isinstance(given, dict):
        expanded = {}
        for name, entry in given.items():
            leaf = tree.get(name) if isinstance(name, str) else None
            if leaf is not None and isinstance(entry, dict) and "range" in entry:
                entry = dict(entry)
                if leaf.integer and "integer" not in entry:
                    ends = entry["range"]
                    whole = isinstance(ends, list | tuple) and all(
                        isinstance(v, int | float) and not isinstance(v, bool) and v == int(v)
                        for v in ends
                    )
                    entry["integer"] = whole
                if entry.get("dist") == "triangular" and "mode" not in entry:
                    entry["mode"] = float(leaf.default)
            expanded[name] = entry
        return {**data, field: expanded}
    return data


def _probe_values(p: Parameter) -> list[Any]:
    if p.spec.values is not None:
        return list(dict.fromkeys(p.spec.values))
    lo, hi = p.spec.range
    return [int(lo), int(hi)] if p.spec.integer else [float(lo), float(hi)]


def _validate_against_scenarios(exp: Experiment) -> None:
    """Load every scenario with the shared overrides and with each parameter's extreme values."""
    for entry in exp.scenarios:
        raw = resolve(entry.file)  # a broken scenario file is reported as itself
        steps = [
            ("constants", exp.constants),
            (f"scenarios.{entry.name}.set", entry.overrides),
            ("weeks", exp.run_overrides()),
        ]
        data = raw
        for field_name, overrides in steps:
            try:
                data = apply_overrides(data, list(overrides), source=str(exp.path))
                build_params(data, entry.file)
            except ScenarioError as e:
                raise ScenarioError(
                    exp.path, field_name, f"{e.field}: {e.problem} (scenario '{entry.name}')"
                ) from None
        for p in exp.parameters:
            for v in _probe_values(p):
                try:
                    build_params(
                        apply_overrides(data, [override(p.name, v)], str(exp.path)), entry.file
                    )
                except ScenarioError as e:
                    where = "" if e.field == p.name else f"{e.field}: "
                    raise ScenarioError(
                        exp.path,
                        f"{p.kind}s.{p.name}",
                        f"{where}{e.problem} at value {short_repr(v)} (scenario '{entry.name}')",
                    ) from None


def count_points(spec: ExperimentSpec, parameters: list[Parameter]) -> int:
    """How many parameter points the design has (at most), without building them."""
    if not parameters:
        return 1
    if spec.design == "grid":
        return math.prod(
            len(p.spec.values) if p.spec.values is not None else (p.spec.levels or 1)
            for p in parameters
        )
    if spec.design == "lists":
        return max(len(p.spec.values or ()) for p in parameters)
    return spec.samples or 0


def load_experiment(
    path: str | Path,
    validate_scenarios: bool = True,
    *,
    max_runs: int | None = None,
    replications: int | None = None,
    check_metrics: bool = True,
) -> Experiment:
    """Read, validate and resolve an experiment file.

    Args:
        path: The experiment YAML file.
        validate_scenarios: Also load every scenario with the experiment's overrides and each
            varied parameter's extreme values, so that a typo fails now, not in run 1,000.
        max_runs: Refuse a design of more runs than this (default `MAX_RUNS`), counted before
            the design is built.
        replications: The replications that will run (default: the file's), for that count.
        check_metrics: Refuse `metrics:` the model does not report (off when a test replaces
            the model).

    Returns:
        The experiment, with its parameter points computed.

    Raises:
        ScenarioError: naming the file, the field and the problem.
    """
    path = locate(path)  # a shipped experiment also from outside the repository
    return experiment_from_data(
        read_yaml(path),
        path,
        read_text(path),
        validate_scenarios=validate_scenarios,
        max_runs=max_runs,
        replications=replications,
        check_metrics=check_metrics,
    )


def experiment_from_data(
    data: Any,
    path: Path,
    text: str,
    *,
    validate_scenarios: bool = True,
    max_runs: int | None = None,
    replications: int | None = None,
    check_metrics: bool = True,
) -> Experiment:
    """An experiment from the content of a file (`load_experiment`, or a study whose own file
    format describes an experiment, such as a robustness study).

    Args:
        data: The experiment's mapping, as read from YAML.
        path: The file it came from (scenario paths are relative to it; errors name it).
        text: The file's text, kept in the manifest.
        validate_scenarios, max_runs, replications, check_metrics: As for `load_experiment`.

    Raises:
        ScenarioError: naming the file, the field and the problem.
    """
    data = expand_uncertainties(data, path)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as e:
        raise _spec_error(path, e) from None
    if spec.name is not None:
        check_name(spec.name, path)
    if check_metrics and spec.metrics:
        bad = unknown_metrics(spec.metrics)
        if bad:
            raise ScenarioError(
                path,
                "metrics",
                f"unknown metric {short_repr(bad[0])}" + did_you_mean(bad[0], known_metrics()),
            )
    scenarios = _scenario_entries(path, spec)
    names = [s.name for s in scenarios]
    baseline = spec.baseline if spec.baseline is not None else names[0]
    if baseline not in names:
        raise ScenarioError(
            path, "baseline", f"'{baseline}' is not one of the scenarios ({', '.join(names)})"
        )
    parameters = [Parameter(k, "lever", v) for k, v in spec.levers.items()]
    parameters += [Parameter(k, "uncertainty", v) for k, v in spec.uncertainties.items()]
    both = set(spec.levers) & set(spec.uncertainties)
    if both:
        raise ScenarioError(path, f"uncertainties.{sorted(both)[0]}", "also listed under levers")
    for p in parameters:
        if p.name in spec.constants:
            raise ScenarioError(path, f"constants.{p.name}", f"also varied under {p.kind}s")
        if p.name in ("run.weeks", "run.warmup_weeks") and getattr(spec, p.name[4:]) is not None:
            raise ScenarioError(path, p.name[4:], f"also varied under {p.kind}s.{p.name}")
    n_points = count_points(spec, parameters)
    reps = replications if replications is not None else spec.replications
    check_run_count(
        n_points * len(scenarios) * reps,
        max_runs,
        path,
        "--replications"
        if replications is not None
        else ("samples" if spec.design in ("lhs", "sobol") and parameters else "design"),
    )
    try:
        points = design_points(spec, parameters)
    except ValueError as e:
        loc, _, msg = str(e).partition(": ")
        raise ScenarioError(path, loc, msg) from None
    exp = Experiment(
        path=path,
        text=text,
        spec=spec,
        name=spec.name or path.stem,
        scenarios=scenarios,
        baseline=baseline,
        parameters=parameters,
        points=points,
        constants=tuple(override(k, v) for k, v in spec.constants.items()),
    )
    if validate_scenarios:
        _validate_against_scenarios(exp)
    return exp
