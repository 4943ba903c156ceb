"""Scenario files: YAML, a base plus overrides, validated whole before anything runs.

A scenario file may say `extends: other.yaml` (a path relative to the file). Keys are merged
deeply, the child winning. `name`, `description`, `description_zh`, `label_zh`, `label_en`,
`extends` and `levers` are metadata; everything else is the parameter tree of
`model.params.Params`. `levers:` lists the levers the file sets (`experiments.engine.levers`);
unlike the other keys, the lists add up along `extends:`. Every problem raises `ScenarioError`, which the
CLI prints as one line (file, field, problem) and exits 2.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from experiments.engine.errors import InputFileError, ScenarioError
from experiments.engine.input_files import (
    MAX_VALUE_CHARS,
    YamlLimitError,
    load_yaml,
    read_text,
    short_repr,
    yaml_problem,
)
from experiments.engine.levers import check_levers, merge_levers
from experiments.engine.resources import locate
from model.params import Params

META_KEYS = (
    "name",
    "description",
    "description_zh",
    "extends",
    "label_zh",
    "label_en",
    "levers",
)
MAX_EXTENDS = 32
"""Longest chain of `extends:` (a file, its base, the base's base...)."""
MAX_NAME_CHARS = 120
"""Longest scenario or experiment name (it becomes part of folder and file names)."""


@dataclass
class Scenario:
    """A loaded, validated scenario."""

    name: str
    path: str
    params: Params
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    levers: list[str] = field(default_factory=list)


def deep_merge(base: dict, over: dict) -> dict:
    """Merge `over` into a copy of `base`, recursively for nested mappings."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_yaml(path: Path) -> dict:
    """Read one YAML mapping within the limits of `experiments.engine.input_files`; a missing,
    unreadable, oversized, empty or malformed file, or a non-mapping, is a ScenarioError."""
    path = Path(path)
    try:
        text = read_text(path)
    except InputFileError as e:
        raise ScenarioError(path, e.field, e.problem) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as e:
        raise ScenarioError(path, *yaml_problem(e)) from None
    if data is None:
        raise ScenarioError(path, "(file)", "the file is empty (no keys)")
    if not isinstance(data, dict):
        raise ScenarioError(
            path, "(top level)", f"expected a mapping of keys, got {type(data).__name__}"
        )
    return data


def resolve(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and everything it extends, merged (base first)."""
    path = locate(path).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(_chain[0], "extends", f"cycle of extends: {cycle}")
    if len(_chain) >= MAX_EXTENDS:
        raise ScenarioError(
            _chain[0], "extends", f"chain of extends longer than {MAX_EXTENDS} files"
        )
    data = read_yaml(path)
    base_ref = data.get("extends")
    if base_ref is None:
        return data
    if not isinstance(base_ref, str):
        raise ScenarioError(path, "extends", "must be a file path")
    base_path = locate(path.parent / base_ref).resolve()
    if not base_path.is_file():
        raise ScenarioError(path, "extends", f"base file not found: {base_ref}")
    base = resolve(base_path, (*_chain, path))
    levers = merge_levers(
        check_levers(base.get("levers"), base_path), check_levers(data.get("levers"), path)
    )
    merged = deep_merge(
        {
            k: v
            for k, v in base.items()
            if k not in ("name", "description", "description_zh", "extends")
        },
        data,
    )
    if levers or "levers" in merged:
        merged["levers"] = levers
    return merged


def parse_value(text: str, source: str = "--set", key: str = "") -> Any:
    """Parse a command-line override value as YAML (true, 3, 0.5, [1, 2], text).

    Raises:
        ScenarioError: a value longer than `MAX_VALUE_CHARS`, or beyond the YAML limits.
    """
    if len(text) > MAX_VALUE_CHARS:
        raise ScenarioError(source, key or "(value)", f"value too long ({len(text):,} characters)")
    try:
        return load_yaml(text)
    except yaml.YAMLError as e:
        if isinstance(e, YamlLimitError):
            raise ScenarioError(source, key or "(value)", e.problem) from None
        return text


def apply_overrides(data: dict, overrides: list[str] | None, source: str = "--set") -> dict:
    """Apply `a.b.c=VALUE` overrides to a raw parameter mapping."""
    out = copy.deepcopy(data)
    for item in overrides or []:
        if "=" not in item:
            raise ScenarioError(source, item, "override must look like a.b.c=VALUE")
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ScenarioError(source, item, "empty key")
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                raise ScenarioError(source, key, f"'{p}' is not a section")
            node = nxt
        node[parts[-1]] = parse_value(value, source, key.strip())
    return out


def format_loc(loc: tuple) -> str:
    return ".".join(str(x) for x in loc) or "(top level)"


def build_params(data: dict, file: str | Path) -> Params:
    """Validate a raw parameter mapping into `Params`; the first error becomes a ScenarioError."""
    body = {k: v for k, v in data.items() if k not in META_KEYS}
    try:
        return Params.model_validate(body)
    except ValidationError as e:
        err = e.errors()[0]
        loc = format_loc(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        inp = err.get("input")
        if err["type"] not in ("extra_forbidden", "missing") and not isinstance(inp, dict):
            msg = f"{msg} (got {short_repr(inp)})"
        raise ScenarioError(file, loc, msg) from None
    except (TypeError, ValueError) as e:  # raised by policy validation outside pydantic's wrapper
        raise ScenarioError(file, "policies", short_repr(str(e))[1:-1]) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, merge, override and validate one scenario file.

    Args:
        path: The YAML file.
        overrides: `a.b.c=VALUE` strings applied after merging.

    Raises:
        ScenarioError: on any problem, naming file, field and problem.
    """
    path = locate(path)  # a shipped scenario also from outside the repository
    data = resolve(path)
    data = apply_overrides(data, overrides)
    params = build_params(data, path)
    meta_sets = [o for o in overrides or [] if o.split("=", 1)[0].strip() in META_KEYS]
    own = apply_overrides(read_yaml(path), meta_sets)  # `--set name=...` names the run
    name = scenario_name(own, path)
    description = own.get("description") or ""
    if not isinstance(description, str):
        raise ScenarioError(path, "description", "must be text")
    return Scenario(
        name=name,
        path=str(path),
        params=params,
        description=description,
        meta={k: own.get(k) for k in META_KEYS if own.get(k) is not None},
        raw=data,
        levers=check_levers(data.get("levers"), path),
    )


def check_name(value: Any, file: str | Path, field: str = "name") -> str:
    """A scenario or experiment name: text of at most `MAX_NAME_CHARS` characters.

    Raises:
        ScenarioError: not text, empty or too long.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScenarioError(file, field, f"must be text (got {short_repr(value)})")
    text = str(value)
    if not text.strip():
        raise ScenarioError(file, field, "must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise ScenarioError(
            file, field, f"too long ({len(text)} characters; at most {MAX_NAME_CHARS})"
        )
    return text


def scenario_name(own: dict, path: Path) -> str:
    """The `name:` of a scenario file (checked), else its file name without extension."""
    if own.get("name") is None:
        return path.stem
    return check_name(own["name"], path)


def lever_changes(
    base: str | Path, path: str | Path, overrides: list[str] | None = None
) -> dict[str, list[tuple[str, Any, Any]]]:
    """What scenario `path` changes relative to scenario `base`, grouped by lever
    (`experiments.engine.levers.lever_of`): lever -> [(parameter path, base value, value)].

    Both are compared as resolved parameter trees (every default filled in), with the same
    `overrides` applied to each.

    Raises:
        ScenarioError: a bad scenario file.
    """
    from experiments.engine.levers import differences, group_by_lever, param_tree

    a = load_scenario(base, overrides).params
    b = load_scenario(path, overrides)
    diffs = differences(param_tree(a), param_tree(b.params))
    return {
        lever: [(p, *diffs[p]) for p in paths]
        for lever, paths in group_by_lever(diffs, b.levers).items()
    }
