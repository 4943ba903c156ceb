"""Scenario files: YAML, a base plus overrides, validated whole before anything runs.

A scenario file may say `extends: other.yaml` (a path relative to the file). Keys are merged
deeply, the child winning. `name`, `description` and `extends` are metadata; everything else
is the parameter tree of `model.params.Params`. Every problem raises `ScenarioError`, which the
CLI prints as one line (file, field, problem) and exits 2.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from experiments.resources import locate
from model.params import Params

META_KEYS = ("name", "description", "description_zh", "extends", "label_zh", "label_en")


class ScenarioError(Exception):
    """A bad input file: names the file, the field and the problem."""

    def __init__(self, file: str | Path, field: str, problem: str) -> None:
        self.file, self.field, self.problem = str(file), field, problem
        super().__init__(f"{file}: {field}: {problem}")


@dataclass
class Scenario:
    """A loaded, validated scenario."""

    name: str
    path: str
    params: Params
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


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
    """Read one YAML mapping; malformed YAML or a non-mapping is a ScenarioError."""
    if not path.exists():
        raise ScenarioError(path, "(file)", "file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ScenarioError(path, where, f"malformed YAML: {problem}") from None
    if data is None:
        return {}
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
    data = read_yaml(path)
    base_ref = data.get("extends")
    if base_ref is None:
        return data
    if not isinstance(base_ref, str):
        raise ScenarioError(path, "extends", "must be a file path")
    base_path = locate(path.parent / base_ref).resolve()
    if not base_path.exists():
        raise ScenarioError(path, "extends", f"base file not found: {base_ref}")
    base = resolve(base_path, (*_chain, path))
    merged = deep_merge(
        {
            k: v
            for k, v in base.items()
            if k not in ("name", "description", "description_zh", "extends")
        },
        data,
    )
    return merged


def parse_value(text: str) -> Any:
    """Parse a command-line override value as YAML (true, 3, 0.5, [1, 2], text)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
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
        node[parts[-1]] = parse_value(value)
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
            msg = f"{msg} (got {inp!r})"
        raise ScenarioError(file, loc, msg) from None
    except (TypeError, ValueError) as e:  # raised by policy validation outside pydantic's wrapper
        raise ScenarioError(file, "policies", str(e)) from None


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
    own = read_yaml(path)
    name = str(own.get("name") or path.stem)
    return Scenario(
        name=name,
        path=str(path),
        params=params,
        description=str(own.get("description") or ""),
        meta={k: own.get(k) for k in META_KEYS if own.get(k) is not None},
        raw=data,
    )
