"""The architecture rules of `model/` (docs/architecture.md), checked on the source.

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
            from experiments.cli import InputError
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
    assert "experiments.cli" in _imported(bad)
    io = _io_uses(bad)
    assert {"print() at line 15", ".write_text() at line 16", "import pathlib"} <= set(io)
    assert any(x.startswith("open()") for x in io) and any("sys.stderr" in x for x in io)


# ---------------------------------------------------------------------- the rules
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
