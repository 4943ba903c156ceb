"""The `linkage` console script: checks that `model` is the simulator's own package, then runs
the command line (`experiments.interfaces.cli`).

The simulator installs two top-level packages, `model` and `experiments` (the public API is
`from model import run_model, Params, LinkageModel` and `experiments.load_results`). A file
`model.py` or a folder `model/` of the user's own, found earlier on `sys.path` (through
PYTHONPATH, or the current folder under `python -m`), would shadow `model`, and every command
would fail deep inside with an import error or, worse, run someone else's code. This entry point
looks `model` up without importing it and stops with one line (exit 2) when it is not the
package installed beside this `experiments`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def shadowing_problem() -> str | None:
    """Why `model` is not the simulator's package installed with this `experiments` (None if it is)."""
    ours = Path(__file__).resolve().parents[2]
    try:
        spec = importlib.util.find_spec("model")
    except (ImportError, ValueError) as e:
        return f"cannot look up the package 'model' ({e})"
    if spec is None:
        return (
            f"the package 'model' is missing beside {ours / 'experiments'}; "
            "reinstall the simulator (pip install .)"
        )
    origin = spec.origin or (
        next(iter(spec.submodule_search_locations), None)
        if spec.submodule_search_locations
        else None
    )
    if origin is None:
        where = "a namespace folder"
        found = None
    else:
        found = Path(origin).resolve()
        where = str(found)
    package_dir = found.parent if found is not None and found.name == "__init__.py" else None
    if package_dir is not None and package_dir.parent == ours:
        return None
    return (
        f"'import model' finds {where}, not the simulator's package in {ours}: "
        "a model.py or model/ of your own shadows it; rename it, or run linkage without that "
        "folder on PYTHONPATH"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `linkage` console script."""
    problem = shadowing_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from experiments.interfaces.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
