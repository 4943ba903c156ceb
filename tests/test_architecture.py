"""The architecture rules (docs/architecture.md), checked on the source.

- the layers of `experiments/` import only downwards: the engine imports neither the analyses
  nor the interfaces nor the bench; the analyses never import the interfaces or the bench; the
  bench imports of the interfaces only the dashboard's run state; nothing in the repository
  imports a moved module by its old path, and those old paths still work, with a warning;
- `model/` imports nothing from `experiments/` or any interface library, and never touches
  files or the terminal;
- the subsystems (population, workforce, organizations, volunteers, time bank, finance, service
  desk) do not import the model module, its recorder or the policies, even for type checking:
  they receive what they need;
- no policy assigns an attribute of the model object: policies act through the subsystems'
  own methods.

Each scanner is also run on a snippet that breaks its rule, so a scanner that finds nothing
cannot pass by accident.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "model"
MODEL_FILES = sorted(MODEL.rglob("*.py"))
POLICY_FILES = sorted((MODEL / "policies").glob("*.py"))
SUBSYSTEMS = (
    "population",
    "workforce",
    "organizations",
    "volunteers",
    "time_bank",
    "finance",
    "service",
    "clock",
)
"""Modules of `model/` that own a part of the street (docs/architecture.md)."""

EXPERIMENTS = ROOT / "experiments"
LAYERS = {
    "experiments.engine": "engine",
    "experiments.analyses": "analyses",
    "experiments.bench": "bench",
    "experiments.interfaces": "interfaces",
}
"""Package of `experiments/` -> its layer (docs/architecture.md)."""
MAY_IMPORT = {
    "engine": {"model", "engine"},
    "analyses": {"model", "engine", "analyses"},
    "bench": {"model", "engine", "analyses", "bench"},
    "interfaces": {"model", "engine", "analyses", "bench", "interfaces"},
}
"""Layer -> the layers its modules may import."""
BENCH_MAY_ALSO_IMPORT = ("experiments.interfaces.dashboard.state",)
"""The bench times the dashboard's live run: of the interfaces, it may import that (no UI)."""
UI_LIBRARIES = ("solara", "ipywidgets", "ipyvue", "playwright", "argparse")
"""Neither the engine nor the analyses import a user-interface library or the CLI parser."""
EXPERIMENT_FILES = sorted(p for d in LAYERS for p in (ROOT / Path(*d.split("."))).rglob("*.py"))
REPO_PY_FILES = sorted(
    p
    for top in ("model", "experiments", "tests")
    for p in (ROOT / top).rglob("*.py")
    if "__pycache__" not in p.parts
)
TEXT_FILES = [
    ROOT / "README.md",
    ROOT / "Makefile",
    ROOT / ".ci" / "run",
    ROOT / "pyproject.toml",
    *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "architecture.md"),
]
"""Text that names modules; docs/architecture.md is left out (its table names the old paths)."""

INTERFACE_MODULES = ("experiments", "matplotlib", "solara", "tqdm", "argparse", "playwright")
IO_CALLS = {"open", "print", "input", "breakpoint"}
IO_ATTRS = {"stdout", "stderr", "stdin"}  # sys.stdout, ...
IO_METHODS = {"write_text", "write_bytes", "read_text", "read_bytes", "mkdir", "unlink", "touch"}
IO_MODULES = ("pathlib", "shutil", "tempfile", "logging", "subprocess", "os")


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.AST) -> list[str]:
    """Every module name imported anywhere in `tree` (TYPE_CHECKING blocks and functions too)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


def _module_name(path: Path) -> str:
    """The dotted module name of a file of the repository (`experiments.engine.spec`)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(tree: ast.AST, module: str, is_package: bool = False) -> list[str]:
    """Every name imported anywhere in `tree`, written in full: `import a.b` gives `a.b`, and
    `from a import b` gives `a.b` (b may be a submodule); relative imports are resolved against
    `module`."""
    out = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            out += [f"{base}.{a.name}" for a in node.names]
    return out


def _layer_of(name: str) -> str | None:
    """The layer of an imported name; "experiments" for the package itself or an old path."""
    if name == "model" or name.startswith("model."):
        return "model"
    for package, layer in LAYERS.items():
        if name == package or name.startswith(package + "."):
            return layer
    if name == "experiments" or name.startswith("experiments."):
        return "experiments"
    return None


def _layer_violations(tree: ast.AST, module: str, is_package: bool = False) -> list[str]:
    """The imports of `module` (a module of one layer) that its layer may not make."""
    layer = _layer_of(module)
    assert layer in MAY_IMPORT, module
    bad = []
    for name in _imported_names(tree, module, is_package):
        target = _layer_of(name)
        if target is None and layer in ("engine", "analyses"):
            if name.split(".")[0] in UI_LIBRARIES:
                bad.append(name)
            continue
        if target is None or target in MAY_IMPORT[layer]:
            continue
        if layer == "bench" and name.startswith(BENCH_MAY_ALSO_IMPORT):
            continue
        bad.append(name)
    return bad


def _old_paths(names: list[str]) -> list[str]:
    """The names that import a moved module by its old path."""
    from experiments import new_name

    return [n for n in names if new_name(n) is not None]


def _io_uses(tree: ast.AST) -> list[str]:
    """File or terminal I/O in `tree`: builtins, sys streams, pathlib writes, I/O modules."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in IO_CALLS:
                found.append(f"{f.id}() at line {node.lineno}")
            if isinstance(f, ast.Attribute) and f.attr in IO_METHODS:
                found.append(f".{f.attr}() at line {node.lineno}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in IO_ATTRS
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            found.append(f"sys.{node.attr} at line {node.lineno}")
    found += [f"import {m}" for m in _imported(tree) if m.split(".")[0] in IO_MODULES]
    return found


def _root_name(node: ast.AST) -> str | None:
    """The name an attribute chain starts from (`model` for `model.a.b`)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _model_attribute_assignments(tree: ast.AST) -> list[str]:
    """Assignments to an attribute of the model object (or of anything reached through its
    attributes: `model.x = ...`, `model.desk.x += ...`, `setattr(model, ...)`), where the model
    is a parameter named `model` or a name bound to it (`m = model`)."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = {a.arg for a in fn.args.args + fn.args.kwonlyargs} & {"model"}
        for node in ast.walk(fn):  # aliases: m = model
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Name)
                and node.value.id in names | {"model"}
            ):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if not names:
            continue
        for node in ast.walk(fn):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = list(node.targets)
            flat = []
            while targets:
                t = targets.pop()
                if isinstance(t, ast.Tuple | ast.List):
                    targets += t.elts
                else:
                    flat.append(t)
            for t in flat:
                if isinstance(t, ast.Attribute) and _root_name(t) in names:
                    found.append(f"{fn.name}: assigns {ast.unparse(t)} (line {t.lineno})")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
                and node.args
                and _root_name(node.args[0]) in names
            ):
                found.append(f"{fn.name}: {ast.unparse(node)} (line {node.lineno})")
    return found


# ---------------------------------------------------------------------- the scanners can fail
def test_scanners_catch_what_they_forbid():
    bad = ast.parse(
        textwrap.dedent(
            """
            import sys
            from experiments.interfaces.cli import InputError
            from pathlib import Path

            def initialize(self, model):
                model.tb_cap = 5.0
                model.desk.referrals = True
                model.sw_pool += 1
                model.a, model.b = 1, 2
                setattr(model, "x", 1)
                m = model
                m.y = 2
                model.residents.leader[3] = True  # allowed: an array the model holds
                print("hello", file=sys.stderr)
                Path("x").write_text("y")
                with open("f") as fh:
                    fh.read()
            """
        )
    )
    assert len(_model_attribute_assignments(bad)) == 7
    assert "experiments.interfaces.cli" in _imported(bad)
    io = _io_uses(bad)
    assert {"print() at line 15", ".write_text() at line 16", "import pathlib"} <= set(io)
    assert any(x.startswith("open()") for x in io) and any("sys.stderr" in x for x in io)


def test_layer_scanner_catches_upward_imports():
    bad = ast.parse(
        textwrap.dedent(
            """
            from experiments.engine.spec import load_experiment
            from experiments.engine import executors
            from model import Params
            import numpy
            from experiments.analyses.compare import mean_ci
            import experiments.interfaces.cli
            from ..interfaces import report
            from experiments.sweep import run_sweep
            from experiments import load_results
            import experiments.bench
            import solara

            def later():
                from experiments.interfaces.dashboard.state import LiveRun
                from experiments.interfaces.dashboard.app import Page
            """
        )
    )
    upward = {
        "experiments.interfaces.cli",
        "experiments.interfaces.report",
        "experiments.sweep.run_sweep",
        "experiments.load_results",
        "experiments.bench",
        "experiments.interfaces.dashboard.state.LiveRun",
        "experiments.interfaces.dashboard.app.Page",
    }
    engine = _layer_violations(bad, "experiments.engine.x")
    assert set(engine) == upward | {"experiments.analyses.compare.mean_ci", "solara"}
    assert set(_layer_violations(bad, "experiments.analyses.x")) == upward | {"solara"}
    # the bench may time the dashboard's live run, nothing else of the interfaces
    assert set(_layer_violations(bad, "experiments.bench.x")) == upward - {
        "experiments.bench",
        "experiments.interfaces.dashboard.state.LiveRun",
    }
    assert set(_layer_violations(bad, "experiments.interfaces.x")) == {
        "experiments.sweep.run_sweep",
        "experiments.load_results",
    }
    # a relative import is resolved from the package of the file
    assert "experiments.engine.store.ResultsStore" in _imported_names(
        ast.parse("from .store import ResultsStore"), "experiments.engine.sweep"
    )
    assert "experiments.engine.errors.InputError" in _imported_names(
        ast.parse("from .errors import InputError"), "experiments.engine", is_package=True
    )
    assert _old_paths(_imported_names(bad, "experiments.engine.x")) == [
        "experiments.sweep.run_sweep"
    ]


# ---------------------------------------------------------------------- the rules
@pytest.mark.parametrize("path", EXPERIMENT_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_experiments_import_only_downwards(path):
    """Engine < analyses < interfaces, and the bench beside the interfaces
    (docs/architecture.md): nothing imports a layer above its own."""
    module = _module_name(path)
    bad = _layer_violations(_parse(path), module, path.name == "__init__.py")
    assert not bad, f"{path.relative_to(ROOT)} ({_layer_of(module)}) imports {bad}"


def test_every_module_of_experiments_is_in_a_layer():
    loose = [
        p.relative_to(ROOT).as_posix()
        for p in EXPERIMENTS.rglob("*.py")
        if p != EXPERIMENTS / "__init__.py" and p not in EXPERIMENT_FILES
    ]
    assert not loose, f"put these in engine/, analyses/ or interfaces/: {loose}"


def test_importing_experiments_loads_none_of_its_layers():
    code = (
        "import sys, experiments; "
        "print(sorted(m for m in sys.modules if m.startswith('experiments.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_nothing_in_the_repository_uses_an_old_path():
    """Code, tests, docs and build files name moved modules only by their new paths."""
    import re

    from experiments import MOVED

    found = []
    for path in REPO_PY_FILES:
        module = _module_name(path)
        names = _imported_names(_parse(path), module, path.name == "__init__.py")
        found += [f"{path.relative_to(ROOT)}: {n}" for n in _old_paths(names)]
    olds = "|".join(re.escape(o.removeprefix("experiments.")) for o in MOVED)
    mention = re.compile(rf"\bexperiments[./]({olds})(\.py\b|/|\b(?![./-]?[a-z]*\.ya?ml))")
    for path in TEXT_FILES:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{i}: {m[0]}" for m in mention.finditer(line)]
    assert not found, "\n".join(found)


def test_moved_modules_still_import_with_a_warning():
    """Each old path of `experiments.MOVED` gives the very module at its new place, once, with
    a DeprecationWarning naming the new place; the module keeps its real name."""
    import importlib

    from experiments import MOVED

    for old, new in MOVED.items():
        module = importlib.import_module(new)
        before = sys.modules.pop(old, None)
        try:
            with pytest.warns(DeprecationWarning, match=re.escape(f"has moved to {new}")):
                aliased = importlib.import_module(old)
            assert aliased is module, old
            assert module.__spec__.name == new and module.__name__ == new
        finally:
            sys.modules.pop(old, None)
            if before is not None:
                sys.modules[old] = before


def test_submodules_and_names_of_a_moved_package_follow_it():
    import importlib

    import experiments.interfaces.report.build as build
    from experiments.engine.errors import InputError

    saved = {
        k: sys.modules.pop(k)
        for k in list(sys.modules)
        if k in ("experiments.report", "experiments.report.build", "experiments.cli")
    }
    try:
        with pytest.warns(DeprecationWarning) as caught:
            old = importlib.import_module("experiments.report.build")
            cli = importlib.import_module("experiments.cli")
        assert old is build and build.__spec__.name == "experiments.interfaces.report.build"
        assert cli.InputError is InputError  # an error type is the same class under both paths
        moved = {str(w.message).split()[0] for w in caught}
        assert moved == {"experiments.report", "experiments.report.build", "experiments.cli"}
        with pytest.raises(ModuleNotFoundError):  # only what exists is aliased
            importlib.import_module("experiments.report.no_such_module")
    finally:
        for k in ("experiments.report", "experiments.report.build", "experiments.cli"):
            sys.modules.pop(k, None)
        sys.modules.update(saved)


def test_python_m_with_an_old_path_still_runs_the_command_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-m",
            "experiments.cli",
            "run",
            str(tmp_path / "no.yaml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert "DeprecationWarning: experiments.cli has moved to experiments.interfaces.cli" in lines[0]
    assert lines[-1] == f"error: {tmp_path / 'no.yaml'}: (file): file not found"


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_model_imports_no_interface(path):
    bad = [m for m in _imported(_parse(path)) if m.split(".")[0] in INTERFACE_MODULES]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_importing_model_loads_nothing_from_experiments():
    code = (
        "import sys, model, model.model, model.policies; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'experiments'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_model_does_no_file_or_terminal_io(path):
    assert _io_uses(_parse(path)) == []


@pytest.mark.parametrize("name", SUBSYSTEMS)
def test_subsystems_receive_what_they_need(name):
    """A subsystem imports neither the model module nor the recorder nor the policies (not
    even for type checking), and opens with a docstring saying what it owns."""
    tree = _parse(MODEL / f"{name}.py")
    bad = [m for m in _imported(tree) if m in ("model.model", "model.metrics", "model.policies")]
    assert not bad, f"model/{name}.py imports {bad}"
    doc = ast.get_docstring(tree) or ""
    assert "Owns" in doc or "owns" in doc, f"model/{name}.py: docstring does not say what it owns"


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_policies_assign_no_model_attribute(path):
    assert _model_attribute_assignments(_parse(path)) == []


def test_linkage_model_stays_small():
    """LinkageModel keeps the wiring and the step order only (about 250 lines at most)."""
    tree = _parse(MODEL / "model.py")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "LinkageModel")
    assert cls.end_lineno - cls.lineno + 1 <= 250


def test_moved_names_still_work_with_a_warning():
    """Import paths that moved keep working for now, with a DeprecationWarning naming the new
    place (docs/architecture.md, "Moved names")."""
    import model.agents
    import model.model
    import model.policies.social_work
    import model.policies.volunteers
    from model import LinkageModel, Params
    from model.finance import Government
    from model.policies.volunteers import TimeBanking
    from model.population import BASE_DISCOVERY
    from model.volunteers import MEAN_TENURE_YEARS

    with pytest.warns(DeprecationWarning, match="model.finance"):
        assert model.agents.Government is Government
    with pytest.warns(DeprecationWarning, match="model.volunteers"):
        assert model.model.MEAN_TENURE_YEARS == MEAN_TENURE_YEARS
    with pytest.warns(DeprecationWarning, match="model.population"):
        assert model.model.BASE_DISCOVERY == BASE_DISCOVERY
    with pytest.warns(DeprecationWarning, match="TimeBanking"):
        assert model.policies.volunteers.TimeBank is TimeBanking
    m = LinkageModel(
        Params(run={"weeks": 2, "warmup_weeks": 0}, street={"n_residents": 2000}), seed=1
    )
    m.step()
    with pytest.warns(DeprecationWarning, match="first_open"):
        assert m.recorder.open_from() == m.needs.first_open()
    with pytest.warns(DeprecationWarning, match="social_workers_per_community"):
        sw = model.policies.social_work.sw_per_community(m)
    assert (sw == m.workforce.social_workers_per_community()).all()
    roster = list(m.volunteers.by_resident.values())
    with pytest.warns(DeprecationWarning, match="model.volunteers.plan_week"):
        old = model.agents.Volunteer.plan_week(m, roster, 5)
    assert old == m.volunteers.plan_week(roster, 5)
