"""Packaging: a regular (non-editable) install ships the YAML files and runs outside the
repository; the `linkage` entry point refuses a `model` that is not the simulator's own.

The wheel is built once with `pip wheel . --no-deps` (setuptools from the package index, as any
user's build) and unpacked into a folder that goes first on PYTHONPATH; the commands then run
from an empty folder outside the repository, so nothing can come from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_and_scenario_folder_is_listed():
    cfg = _pyproject()["tool"]["setuptools"]
    listed = set(cfg["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("model", "experiments")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to pyproject.toml: {sorted(on_disk - listed)}"
    shipped = "experiments.shipped_scenarios"
    assert cfg["package-dir"][shipped] == "scenarios"
    folders = {
        ".".join((shipped, *d.relative_to(ROOT / "scenarios").parts)).rstrip(".")
        for d in [ROOT / "scenarios", *(p for p in (ROOT / "scenarios").rglob("*") if p.is_dir())]
    }
    assert folders <= listed, f"add to pyproject.toml: {sorted(folders - listed)}"
    assert all("*.yaml" in cfg["package-data"].get(f, ()) for f in folders)
    # the district templates and example tables ship beside their scenario files
    assert {"*.csv", "*.xlsx"} <= set(cfg["package-data"][f"{shipped}.districts"])


def test_licence_is_an_spdx_string_and_networkx_is_declared():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert any(d.startswith("networkx") for d in project["dependencies"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "deprecated" not in proc.stderr.lower(), proc.stderr[-2000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_the_wheel_holds_the_scenarios_and_the_experiment_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in [*(ROOT / "scenarios").rglob("*.yaml"), *(ROOT / "scenarios").rglob("*.csv")]:
        rel = f.relative_to(ROOT / "scenarios").as_posix()
        assert f"experiments/shipped_scenarios/{rel}" in names, rel
    for f in (ROOT / "experiments").glob("*.yaml"):
        assert f"experiments/{f.name}" in names, f.name
    for f in (ROOT / "experiments").rglob("*.py"):  # the engine, analyses, interfaces, bench
        rel = f.relative_to(ROOT).as_posix()
        assert rel in names, rel
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "linkage = experiments.interfaces.entry:main" in zipfile.ZipFile(wheel).read(entry).decode()
    )


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    site = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    return tmp_path_factory.mktemp("elsewhere"), env


def _linkage(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    code = "import sys; from experiments.interfaces.entry import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_wheel_runs_outside_the_repository(installed, wheel):
    cwd, env = installed
    site = Path(env["PYTHONPATH"])
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import model, experiments; print(model.__file__, experiments.__file__)",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert where.split() == [str(site / "model/__init__.py"), str(site / "experiments/__init__.py")]
    demo = _linkage(["demo", "--help"], cwd, env)
    assert demo.returncode == 0 and "usage: linkage demo" in demo.stdout, demo.stderr
    val = _linkage(
        ["validate", "scenarios/base.yaml", "scenarios/modes/full_linkage.yaml"], cwd, env
    )
    assert val.returncode == 0, val.stderr
    assert "ok: scenarios/base.yaml" in val.stdout and "full_linkage" in val.stdout
    # a shipped experiment finds its scenarios (../scenarios/...) inside the package
    exp = subprocess.run(
        [
            sys.executable,
            "-c",
            "from experiments.engine.spec import load_experiment;"
            "e = load_experiment('experiments/linkage_modes.yaml');"
            "print(len(e.scenarios), e.scenarios[0].file)",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert exp.returncode == 0, exp.stderr
    n, first = exp.stdout.split()
    assert n == "8" and first.startswith(str(site / "experiments/shipped_scenarios/modes"))
    # an old import path (before experiments/ was grouped by role) still gives the same module
    alias = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore::DeprecationWarning",
            "-c",
            "import experiments.sweep as old, experiments.engine.sweep as new;"
            "print(old is new, new.__file__)",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert alias.returncode == 0, alias.stderr
    assert alias.stdout.split() == ["True", str(site / "experiments/engine/sweep.py")]
    missing = _linkage(["validate", "scenarios/no_such.yaml"], cwd, env)
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith("scenarios/no_such.yaml: (file): file not found")


def test_a_model_py_of_the_users_own_is_refused_in_one_line(tmp_path):
    (tmp_path / "model.py").write_text("x = 1\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = _linkage(["validate", str(ROOT / "scenarios/base.yaml")], tmp_path, env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "model.py") in lines[0] and "shadows" in lines[0]


def test_the_real_package_passes_the_check():
    from experiments.interfaces.entry import shadowing_problem

    assert shadowing_problem() is None
