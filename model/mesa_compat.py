"""Mesa's conventions for `LinkageModel`: flat keyword parameters, `rng=`, and a `datacollector`.

Mesa's own tools build a model as `Model(**kwargs)` from flat keywords (`mesa.batch_run`,
SolaraViz sliders) and read its results from `model.datacollector` after `model.running` turns
False. `LinkageModel` takes a typed parameter tree instead, and records its weekly metrics itself
into preallocated arrays (`model.metrics.Recorder`). This module bridges the two:

- `apply_flat(params, flat)`: keyword parameters onto a `Params` tree. A keyword is a dotted path
  (`"street.n_residents"`, through `**{...}`), the same path with `__` (`street__n_residents=`),
  or a field name that occurs once in the tree (`n_residents=`, `weeks=`); an ambiguous or
  unknown name is a `TypeError`, as for any unexpected keyword.
- `seed_from(seed, rng)`: the run's integer seed from Mesa's `rng=` (an int, a numpy
  `SeedSequence` or `Generator`) or `seed=`.
- `RecorderCollector`: an object with the interface of `mesa.DataCollector` that reads the
  Recorder's arrays, so recording costs the step nothing: `model_vars` holds every weekly series
  (`model.metrics.SERIES`, index = week) and every summary metric as `summary_<name>` (the run's
  summary so far at the latest week, NaN at earlier weeks), `get_model_vars_dataframe()` is the
  weekly table. There are no agent reporters (residents are arrays, not agents).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model.metrics import SERIES
from model.params import Params

if TYPE_CHECKING:  # pragma: no cover
    from model.model import LinkageModel

SUMMARY_PREFIX = "summary_"
"""Prefix of the summary metrics among the datacollector's model variables."""


# ---------------------------------------------------------------------- keyword parameters
def _leaves(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in tree.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path


@lru_cache(maxsize=1)
def leaf_index() -> dict[str, tuple[str, ...]]:
    """Field name -> every dotted path of the default tree that ends with it."""
    out: dict[str, list[str]] = {}
    for path in _leaves(Params().model_dump(mode="json")):
        out.setdefault(path[-1], []).append(".".join(path))
    return {k: tuple(v) for k, v in out.items()}


def _path_of(key: str, tree: Mapping[str, Any]) -> list[str]:
    """The dotted path a keyword names (TypeError when it names none, or several)."""
    if "." in key or "__" in key:
        parts = key.split(".") if "." in key else key.split("__")
        node: Any = tree
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and parts[-1] in node:
            return parts
        raise TypeError(f"LinkageModel() got an unexpected keyword argument '{key}'")
    paths = leaf_index().get(key, ())
    if len(paths) == 1:
        return paths[0].split(".")
    if not paths:
        raise TypeError(f"LinkageModel() got an unexpected keyword argument '{key}'")
    shown = ", ".join(paths[:6]) + (", ..." if len(paths) > 6 else "")
    raise TypeError(
        f"LinkageModel(): keyword '{key}' is ambiguous ({shown}); give the dotted path "
        f"as **{{'{paths[0]}': ...}} or {paths[0].replace('.', '__')}=..."
    )


def apply_flat(params: Params, flat: Mapping[str, Any]) -> Params:
    """`params` with flat keyword parameters applied (validated whole).

    Args:
        params: The parameter tree to start from.
        flat: Keyword -> value (see the module docstring for the keyword forms).

    Returns:
        A new `Params`; `params` itself when `flat` is empty.

    Raises:
        TypeError: a keyword names no parameter, or several.
        pydantic.ValidationError: a value is out of range or of the wrong type.
    """
    if not flat:
        return params
    tree = params.model_dump(mode="json")
    for key, value in flat.items():
        parts = _path_of(key, tree)
        node = tree
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value.item() if isinstance(value, np.generic) else value
    return Params.model_validate(tree)


def seed_from(seed: int | None, rng: Any) -> int:
    """The run's seed from `seed=` or Mesa's `rng=` (0 when neither is given).

    Args:
        seed: An integer seed, or None.
        rng: None, an integer, a `numpy.random.SeedSequence` or a `numpy.random.Generator`.

    Raises:
        ValueError: both are given and differ.
        TypeError: `rng` is of another type.
    """
    from_rng: int | None
    if rng is None:
        from_rng = None
    elif isinstance(rng, bool):
        raise TypeError("rng must be an integer seed, a SeedSequence or a Generator")
    elif isinstance(rng, int | np.integer):
        from_rng = int(rng)
    elif isinstance(rng, np.random.SeedSequence):
        from_rng = int(rng.generate_state(1, np.uint64)[0] >> np.uint64(1))
    elif isinstance(rng, np.random.Generator):
        from_rng = int(rng.integers(0, 2**63 - 1))
    else:
        raise TypeError(
            f"rng must be an integer seed, a SeedSequence or a Generator (got {type(rng).__name__})"
        )
    if seed is not None and from_rng is not None and int(seed) != from_rng:
        raise ValueError("give either seed or rng, not both")
    if from_rng is not None:
        return from_rng
    return 0 if seed is None else int(seed)


# ---------------------------------------------------------------------- data collection
class _SummaryColumn(Sequence):
    """A summary metric as a per-week column: its value at the latest week, NaN before."""

    def __init__(self, collector: RecorderCollector, key: str) -> None:
        self._c = collector
        self._key = key

    def __len__(self) -> int:
        return self._c.n_weeks()

    def __getitem__(self, i):  # type: ignore[override]
        n = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(i)
        return self._c.summary().get(self._key, math.nan) if j == n - 1 else math.nan


class RecorderCollector:
    """The interface of `mesa.DataCollector`, read from the model's own weekly records.

    Nothing is collected per step (the model's Recorder fills preallocated arrays anyway);
    `collect()` does nothing. Index i of every variable is week i, as `Step` i of
    `mesa.batch_run` (the state after the (i+1)-th `step()`).

    Args:
        model: The model whose records to show.
    """

    def __init__(self, model: LinkageModel) -> None:
        self._model = model
        self._summary_at: int | None = None
        self._summary: dict[str, float] = {}
        self.model_reporters: dict[str, str] = {k: k for k in SERIES}
        self.agent_reporters: dict[str, Any] = {}
        self.agenttype_reporters: dict[Any, Any] = {}
        self.tables: dict[str, Any] = {}
        self._agent_records: dict[int, list] = {}
        self._agenttype_records: dict[Any, Any] = {}

    @property
    def _collection_steps(self) -> list[int]:
        """Steps with data (Mesa >= 3.4 reads this): every week so far, index = week."""
        return list(range(self.n_weeks()))

    def n_weeks(self) -> int:
        """Weeks recorded so far."""
        return min(self._model.week, self._model.recorder.weeks)

    def summary(self) -> dict[str, float]:
        """The model's summary at the latest week (computed once per week asked)."""
        if self._summary_at != self._model.week:
            self._summary = self._model.summary() if self.n_weeks() else {}
            self._summary_at = self._model.week
        return self._summary

    @property
    def model_vars(self) -> dict[str, Sequence]:
        """Variable name -> its values by week (weekly series, then `summary_<metric>`)."""
        n = self.n_weeks()
        out: dict[str, Sequence] = {k: self._model.recorder.data[k][:n] for k in SERIES}
        for key in self.summary():
            out[SUMMARY_PREFIX + key] = _SummaryColumn(self, key)
        return out

    def collect(self, model: LinkageModel) -> None:
        """Nothing to do: the model records every week itself."""

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The weekly series, one row per week (index: week), as `model.timeseries()`."""
        df = self._model.timeseries().set_index("week")
        df.index.name = None
        return df

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """Empty: residents are arrays, not agents, and no agent reporters are defined."""
        return pd.DataFrame()

    def get_agenttype_vars_dataframe(self, agent_type: Any) -> pd.DataFrame:
        """Empty (no agent-type reporters)."""
        return pd.DataFrame()

    def get_table_dataframe(self, table_name: str) -> pd.DataFrame:
        """No tables are defined."""
        raise Exception("table does not exist")
