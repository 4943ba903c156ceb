"""Reading files and values that a user hands us: limits first, then a strict YAML loader.

Everything that enters through a file or a command-line value passes here before anything
looks at it, so that a hostile or broken input costs a bounded amount of time and memory and
ends as one line (file, field, problem):

- the file must be a regular, readable file of at most `MAX_FILE_BYTES`, in UTF-8 (a folder, a
  FIFO, `/dev/zero`, a binary file are refused before being read whole);
- the YAML may nest at most `MAX_DEPTH` levels, use at most `MAX_ALIASES` aliases and expand
  (aliases counted as copies) to at most `MAX_NODES` values: an "alias bomb" of a few hundred
  bytes that would expand to billions of values is refused while it is still a small graph;
- a mapping may not repeat a key (YAML would silently keep the last one);
- `short_repr` quotes a value for an error message without ever building the text of a huge
  structure.
"""

from __future__ import annotations

import os
import reprlib
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from experiments.engine.errors import InputFileError

MAX_FILE_BYTES = 1_000_000
"""Largest scenario, experiment or optimize file read (the shipped ones are a few KB)."""
MAX_VALUE_CHARS = 10_000
"""Longest `--set key=VALUE` value."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists in one YAML document."""
MAX_ALIASES = 200
"""Most alias uses (`*name`) in one YAML document."""
MAX_NODES = 200_000
"""Most values in one YAML document once its aliases are expanded."""

MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlLimitError(yaml.YAMLError):
    """A YAML document beyond the limits above, or with a repeated key."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        self.problem, self.problem_mark = problem, mark
        super().__init__(problem)


_repr = reprlib.Repr()
_repr.maxlevel = 2
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 5


def short_repr(value: Any) -> str:
    """`repr(value)` cut to about 60 characters, without building the whole text first."""
    text = _repr.repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def read_text(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes.

    Raises:
        InputFileError: missing, not a regular file, unreadable, too large or not UTF-8.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as e:
        raise InputFileError(path, f"cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputFileError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(path, "not a regular file (a device, FIFO or socket)")
    if st.st_size > limit:
        raise InputFileError(path, f"file too large ({st.st_size:,} bytes; at most {limit:,})")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputFileError(path, f"cannot read ({e.strerror or e})") from None
    if len(data) > limit:
        raise InputFileError(path, f"file too large (more than {limit:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputFileError(path, f"not UTF-8 text (invalid byte at offset {e.start})") from None


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Number of values under `node` with every alias counted as a full copy."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(c, memo) for c in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = size
    return size


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits on nesting, aliases and expanded size, and no
    repeated keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases (*name)", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node:
        node = super().compose_document()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise YamlLimitError(
                f"expands to more than {MAX_NODES:,} values (aliases counted as copies)",
                node.start_mark,
            )
        return node

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    dup = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # unhashable: the constructor reports it
                if dup:
                    raise YamlLimitError(
                        f"duplicate key {short_repr(key)} (YAML would keep only the last)",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML text with `StrictLoader`.

    Raises:
        yaml.YAMLError: malformed YAML, or `YamlLimitError` beyond the limits.
    """
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def yaml_problem(e: yaml.YAMLError) -> tuple[str, str]:
    """(where, problem) of a YAML error: "line N" and a one-line description."""
    mark = getattr(e, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    problem = " ".join(str(problem).split())
    if isinstance(e, YamlLimitError):
        return where, problem
    return where, f"malformed YAML: {problem}"
