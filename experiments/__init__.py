"""Experiments: run many simulations of the model and analyse them.

Grouped by role, each group importing only the ones below it (docs/architecture.md):

- `experiments.interfaces`: the `linkage` command line and its commands, the report, the
  dashboard;
- `experiments.analyses`: compare, sensitivity, optimize, validation;
- `experiments.engine`: experiment specs, seeds, scenario loading, executors, the results store,
  the sweep, provenance, and the error types of bad input;
- `experiments.bench`: `linkage bench`, which times the code of every layer.

The experiment files (`linkage_modes.yaml`, ...) sit in this folder, beside the groups.

Kept light on purpose: importing `experiments` imports nothing heavy. Use
`experiments.load_results(path)` in a notebook to get a results folder's runs, time series and
manifest in one call.

Modules that moved when `experiments/` was grouped keep their old import paths for now
(`experiments.sweep`, `experiments.cli`, `experiments.report.build`, ...): importing one warns
(`DeprecationWarning`, naming the new place) and gives the very module at the new place. `MOVED`
lists them; a finder on `sys.meta_path` does the aliasing, also for the submodules of a moved
package and for `python -m experiments.cli`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import CodeType, ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence
    from pathlib import Path

    from experiments.analyses.compare import Results

__all__ = ["MOVED", "load_results"]

MOVED: dict[str, str] = {
    # the engine
    "experiments.spec": "experiments.engine.spec",
    "experiments.seeds": "experiments.engine.seeds",
    "experiments.scenarios": "experiments.engine.scenarios",
    "experiments.executors": "experiments.engine.executors",
    "experiments.store": "experiments.engine.store",
    "experiments.sweep": "experiments.engine.sweep",
    "experiments.provenance": "experiments.engine.provenance",
    "experiments.folders": "experiments.engine.folders",
    "experiments.input_files": "experiments.engine.input_files",
    "experiments.outputs": "experiments.engine.outputs",
    "experiments.resources": "experiments.engine.resources",
    # the analyses
    "experiments.compare": "experiments.analyses.compare",
    "experiments.sensitivity": "experiments.analyses.sensitivity",
    "experiments.optimize": "experiments.analyses.optimize",
    "experiments.validation": "experiments.analyses.validation",
    # the interfaces (the three packages carry their submodules with them)
    "experiments.cli": "experiments.interfaces.cli",
    "experiments.entry": "experiments.interfaces.entry",
    "experiments.commands": "experiments.interfaces.commands",
    "experiments.report": "experiments.interfaces.report",
    "experiments.dashboard": "experiments.interfaces.dashboard",
}
"""Old module path -> new module path. A moved package's submodules follow it
(`experiments.report.build` -> `experiments.interfaces.report.build`)."""


def new_name(old: str) -> str | None:
    """Where the module once imported as `old` lives now (None if it did not move).

    Args:
        old: A dotted module name.

    Returns:
        The new dotted name, or None.
    """
    if old in MOVED:
        return MOVED[old]
    for before, after in MOVED.items():
        if old.startswith(before + "."):
            return after + old[len(before) :]
    return None


def _warn(old: str, new: str) -> None:
    # stacklevel 3 (this function, the loader's method, then the importer): the warnings module
    # skips the import system's own frames, so the warning points at the `import` that used the
    # old path.
    warnings.warn(
        f"{old} has moved to {new}; import it from there ({old} will be removed)",
        DeprecationWarning,
        stacklevel=3,
    )


class _AliasLoader(importlib.abc.Loader):
    """Loads an old module path as the module at its new path (one module object, two names)."""

    def __init__(self, new: str) -> None:
        self.new = new
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        _warn(spec.name, self.new)
        module = importlib.import_module(self.new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system pointed the module's __spec__ at the alias; give it its own back, so
        # that the module still knows its real name (pickling, reloading, importlib.resources).
        module.__spec__ = self._spec

    def get_code(self, fullname: str) -> CodeType | None:
        """The new module's code, for `python -m <old path>` (runpy asks the loader for it)."""
        _warn(fullname, self.new)
        spec = importlib.util.find_spec(self.new)
        loader = spec.loader if spec is not None else None
        get_code = getattr(loader, "get_code", None)
        return get_code(self.new) if get_code is not None else None


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old module paths of `MOVED` (and their submodules) and aliases them."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("experiments."):
            return None
        new = new_name(fullname)
        if new is None:
            return None
        real = importlib.util.find_spec(new)
        if real is None:
            return None
        return importlib.util.spec_from_loader(
            fullname,
            _AliasLoader(new),
            origin=real.origin,
            is_package=real.submodule_search_locations is not None,
        )


def _install_finder() -> None:
    """Put the finder first on `sys.meta_path` (once, also when this package is reloaded)."""
    for finder in sys.meta_path:
        if type(finder).__name__ == _MovedModuleFinder.__name__ and type(finder).__module__ == (
            __name__
        ):
            sys.meta_path.remove(finder)
            break
    # First, so that a moved package's submodules are never found a second time under their old
    # name through the package's folder.
    sys.meta_path.insert(0, _MovedModuleFinder())


_install_finder()


def load_results(path: str | Path) -> Results:
    """Load a results folder written by `linkage sweep` (see `experiments.analyses.compare.Results`)."""
    from experiments.analyses.compare import load_results as _load

    return _load(path)
