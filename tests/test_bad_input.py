"""Bad input: every malformed scenario gives exit code 2 and one line naming file, field and problem."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.engine.errors import ScenarioError
from experiments.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    ("unknown_top", "foo: 1\n", "foo: unknown key"),
    ("unknown_nested", "street:\n  n_resident: 5\n", "street.n_resident: unknown key"),
    (
        "wrong_type",
        "street:\n  n_residents: many\n",
        "street.n_residents: Input should be a valid integer",
    ),
    (
        "out_of_range",
        "volunteers:\n  registered_share: 1.5\n",
        "volunteers.registered_share: Input should be less than or equal to 1 (got 1.5)",
    ),
    (
        "negative",
        "providers:\n  sw_per_10k: -3\n",
        "providers.sw_per_10k: Input should be greater than or equal to 0 (got -3)",
    ),
    ("missing_base", "extends: nope.yaml\n", "extends: base file not found: nope.yaml"),
    ("malformed_yaml", "street: [1, 2\n", "malformed YAML"),
    ("not_mapping", "- 1\n- 2\n", "(top level): expected a mapping of keys, got list"),
    (
        "unknown_policy",
        "policies:\n  teleport:\n    enabled: true\n",
        "policies.teleport: unknown key",
    ),
    (
        "policy_range",
        "policies:\n  time_bank:\n    cap: -5\n",
        "policies.time_bank.cap: Input should be greater than or equal to 1 (got -5)",
    ),
    (
        "policy_type",
        "policies:\n  platform:\n    enabled: maybe\n",
        "policies.platform.enabled: Input should be a valid boolean",
    ),
    (
        "shares",
        "funding:\n  allocation:\n    procurement: 0.9\n    posts: 0.5\n",
        "funding.allocation: allocation shares add up to 1.5, not 1",
    ),
    (
        "warmup",
        "run:\n  weeks: 10\n  warmup_weeks: 20\n",
        "(top level): run.warmup_weeks (20) must be less than run.weeks (10)",
    ),
    (
        "need_group",
        "needs:\n  life_care:\n    rates: {aliens: 3}\n",
        "needs.life_care: unknown resident group 'aliens'",
    ),
    (
        "bad_dist",
        "service:\n  service_time: weibull\n",
        "service.service_time: Input should be 'exponential', 'lognormal' or 'fixed'",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_malformed_scenario(tmp_path, capsys, name, text, expected):
    f = tmp_path / f"{name}.yaml"
    f.write_text(text)
    code = main(["validate", str(f)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {f}"), err[0]
    assert expected in err[0], err[0]


def test_cycle_of_extends(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    assert main(["validate", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "extends: cycle of extends: a.yaml -> b.yaml -> a.yaml" in err


def test_bad_override(capsys):
    assert main(["run", str(ROOT / "scenarios/base.yaml"), "--set", "street.n_residents=-4"]) == 2
    assert (
        "street.n_residents: Input should be greater than or equal to 50 (got -4)"
        in capsys.readouterr().err
    )
    assert main(["run", str(ROOT / "scenarios/base.yaml"), "--set", "nonsense"]) == 2
    assert "override must look like a.b.c=VALUE" in capsys.readouterr().err


def test_missing_file_exit_code_without_traceback(tmp_path):
    """The real console path: exit status 2, one line on stderr, no traceback."""
    out = subprocess.run(
        [sys.executable, "-m", "experiments.interfaces.cli", "run", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {tmp_path / 'none.yaml'}: (file): file not found"
    assert "Traceback" not in out.stderr


def test_all_shipped_scenarios_validate(capsys):
    files = sorted(
        str(p)
        for p in (ROOT / "scenarios").rglob("*.yaml")
        if "districts" not in p.relative_to(ROOT / "scenarios").parts  # district files
    )
    assert main(["validate", *files]) == 0


# --- hostile and broken input, every way in (issue 16) --------------------------------------
#
# Each case builds its input in a fresh folder, runs one command in-process (or, where a hang
# or a crash would be the failure, in a subprocess with a timeout) and checks: exit 2, exactly
# one line on stderr naming the file, the field and the problem, and no file written anywhere
# but in the results folder the command was given.

SMALL = "run: {weeks: 4, warmup_weeks: 1}\nstreet: {n_residents: 200, n_communities: 2}\n"
EXPERIMENT = "name: e\nscenarios: [base.yaml]\nreplications: 2\n"
PROBLEM = "name: p\nscenario: base.yaml\nbudget: 100000\nweeks: 4\nwarmup_weeks: 1\n"


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def extends_chain(tmp: Path, n: int) -> Path:
    (tmp / "c0.yaml").write_text("name: c0\n")
    for i in range(1, n):
        (tmp / f"c{i}.yaml").write_text(f"extends: c{i - 1}.yaml\n")
    return tmp / f"c{n - 1}.yaml"


def files(tmp: Path, **texts: str | bytes) -> None:
    for name, text in texts.items():
        p = tmp / name.replace("__", "/")
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")


def scenario_case(text: str | bytes):
    def setup(tmp: Path) -> tuple[list[str], str]:
        files(tmp, **{"s.yaml": text})
        return ["validate", str(tmp / "s.yaml")], str(tmp / "s.yaml")

    return setup


def experiment_case(text: str, *extra: str, command: str = "validate"):
    def setup(tmp: Path) -> tuple[list[str], str]:
        files(tmp, **{"base.yaml": SMALL, "e.yaml": text})
        return [command, str(tmp / "e.yaml"), *extra], str(tmp / "e.yaml")

    return setup


def problem_case(extra_text: str, body: str = PROBLEM):
    def setup(tmp: Path) -> tuple[list[str], str]:
        files(tmp, **{"base.yaml": SMALL, "p.yaml": body + extra_text})
        return ["validate", str(tmp / "p.yaml")], str(tmp / "p.yaml")

    return setup


def path_case(make):
    """A scenario path that is not a plain file (made by `make(tmp) -> path`)."""

    def setup(tmp: Path) -> tuple[list[str], str]:
        p = make(tmp)
        return ["validate", str(p)], str(p)

    return setup


def run_case(*args: str, out: str | None = None, prep=None):
    def setup(tmp: Path) -> tuple[list[str], str]:
        files(tmp, **{"base.yaml": SMALL})
        if prep is not None:
            prep(tmp)
        argv = ["run", str(tmp / "base.yaml"), *args]
        if out is not None:
            argv += ["--out", str(tmp / out)]
        return argv, str(tmp / out) if out is not None else ""

    return setup


def sweep_case(*args: str, out: str = "res", prep=None, command: str = "sweep"):
    def setup(tmp: Path) -> tuple[list[str], str]:
        files(tmp, **{"base.yaml": SMALL, "e.yaml": EXPERIMENT})
        if prep is not None:
            prep(tmp)
        return [command, str(tmp / "e.yaml"), "--out", str(tmp / out), *args], ""

    return setup


def results_case(command: str, damage):
    """`compare`/`report` on a results folder damaged by `damage(folder)`."""

    def setup(tmp: Path) -> tuple[list[str], str]:
        folder = tmp / "res"
        folder.mkdir()
        (folder / "manifest.json").write_text('{"experiment": "e", "status": "completed"}')
        pd.DataFrame(
            {
                "experiment": ["e"],
                "scenario": ["base"],
                "point": [0],
                "run_id": ["base:p0:r0"],
                "replication": [0],
                "seed": [1],
                "status": ["error"],
                "error": ["RuntimeError: boom"],
                "need_satisfaction_rate": [float("nan")],
            }
        ).to_parquet(folder / "runs.parquet")
        damage(folder)
        return [command, str(folder)], str(folder)

    return setup


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo.yaml")
    return tmp / "fifo.yaml"


def foreign(tmp: Path, name: str) -> None:
    (tmp / name).mkdir()
    (tmp / name / "thesis.docx").write_text("not ours")


HUGE_GRID = "levers:\n" + "\n".join(
    f"  {k}: {{range: [0.01, 0.5], levels: 1000}}"
    for k in (
        "street.trust_gain",
        "street.trust_loss",
        "street.initial_trust",
        "volunteers.active_share",
    )
)

HOSTILE = [
    # -- scenario files: structure, YAML limits, encodings, file kinds
    ("dup_key", scenario_case("street: {n_residents: 100}\nstreet: {n_communities: 2}\n"),
     "line 2: duplicate key 'street'"),
    ("alias_bomb", scenario_case(alias_bomb()), "expands to more than 200,000 values"),
    ("many_aliases", scenario_case("a: &a 1\nb: [" + ", ".join(["*a"] * 250) + "]\n"),
     "more than 200 aliases"),
    ("deep_nesting", scenario_case("a: " + "[" * 3000 + "]" * 3000 + "\n"),
     "nested more than 40 levels deep"),
    ("python_tag", scenario_case("name: !!python/object/apply:os.system ['true']\n"),
     "malformed YAML"),
    ("empty_file", scenario_case(""), "(file): the file is empty"),
    ("comments_only", scenario_case("# nothing here\n"), "(file): the file is empty"),
    ("invalid_utf8", scenario_case(b"name: \xff\xfe\n"), "(file): not UTF-8 text"),
    ("too_large", scenario_case("# " + "x" * 1_100_000 + "\n"), "(file): file too large"),
    ("directory", path_case(lambda t: t), "(file): is a folder, not a file"),
    ("fifo", path_case(fifo), "(file): not a regular file"),
    ("dev_zero", path_case(lambda t: Path("/dev/zero")), "(file): not a regular file"),
    ("missing", path_case(lambda t: t / "none.yaml"), "(file): file not found"),
    ("long_extends", path_case(lambda t: extends_chain(t, 40)),
     "extends: chain of extends longer than 32 files"),
    ("name_400", scenario_case("name: " + "n" * 400 + "\n"), "name: too long (400 characters"),
    ("name_not_text", scenario_case("name: [1, 2]\n"), "name: must be text"),
    # -- scenario files: numbers
    ("nan_need_rate", scenario_case("needs:\n  life_care:\n    rates: {elderly: .nan}\n"),
     "needs.life_care.rates.elderly: Input should be a finite number"),
    ("huge_need_rate", scenario_case("needs:\n  life_care:\n    rates: {elderly: 1.0e+300}\n"),
     "needs.life_care: rate for 'elderly' must be between 0 and 1000"),
    ("inf_float", scenario_case("street: {venue_hours: .inf}\n"),
     "street.venue_hours: Input should be a finite number"),
    ("huge_float", scenario_case("providers: {sw_salary: 1.0e+300}\n"),
     "providers.sw_salary: Input should be less than or equal to"),
    ("nan_star_hours", scenario_case(
        "policies:\n  volunteer_mgmt: {enabled: true, star_hours: [.nan, 10]}\n"),
     "policies.volunteer_mgmt.star_hours.0: Input should be a finite number"),
    ("huge_star_hours", scenario_case(
        "policies:\n  volunteer_mgmt: {enabled: true, star_hours: [1, 1.0e+300]}\n"),
     "policies.volunteer_mgmt.star_hours: at most 10 levels of at most 100000 hours"),
    ("shares_below_1", scenario_case("funding:\n  allocation: {procurement: 0.1}\n"),
     "funding.allocation: allocation shares add up to 0.55, not 1"),
    ("bool_as_int", scenario_case("street: {n_communities: true}\n"),
     "street.n_communities: expected a number, got true/false"),
    # -- experiment files
    ("unknown_ts_column", experiment_case(EXPERIMENT + "timeseries: [needs_mett]\n"),
     "timeseries: unknown weekly column 'needs_mett' (did you mean 'needs_met'?)"),
    ("unknown_metric", experiment_case(EXPERIMENT + "metrics: [need_satisfaction]\n"),
     "metrics: unknown metric 'need_satisfaction'"),
    ("grid_10e12", experiment_case(EXPERIMENT + HUGE_GRID + "\n"),
     "design: 2,000,000,000,000 runs planned, more than --max-runs 100,000"),
    ("levels_10e9", experiment_case(
        EXPERIMENT + "levers:\n  street.trust_gain: {range: [0, 1], levels: 1000000000}\n"),
     "levers.street.trust_gain.levels: Input should be less than or equal to 1000000"),
    ("lhs_samples", experiment_case(
        EXPERIMENT + "design: lhs\nsamples: 5000000\n"
        "levers:\n  street.trust_gain: {range: [0, 1]}\n"),
     "samples: 10,000,000 runs planned, more than --max-runs 100,000"),
    ("replications_bool", experiment_case(
        "name: e\nscenarios: [base.yaml]\nreplications: true\n"),
     "replications: expected a number, got true/false"),
    ("nan_range", experiment_case(
        EXPERIMENT + "levers:\n  street.trust_gain: {range: [.nan, 1], levels: 3}\n"),
     "levers.street.trust_gain.range.0: Input should be a finite number"),
    ("experiment_name_400", experiment_case("name: " + "e" * 400 + "\n" + EXPERIMENT[8:]),
     "name: too long (400 characters"),
    # -- optimize problems
    ("budget_1e30", problem_case("", PROBLEM.replace("100000", "1.0e+30")),
     "budget: Input should be less than or equal to 10000000000"),
    ("confirm_1e9", problem_case("search: {confirm_replications: 1.0e+9}\n"),
     "search.confirm_replications: Input should be less than or equal to 100000"),
    ("search_too_big", problem_case("search: {candidates: 100000, min_replications: 100}\n"),
     "search: "),
    # -- command-line arguments and output folders
    ("seed_negative", run_case("--seed", "-1"), "--seed: must be a whole number from 0"),
    ("run_out_is_file", run_case(out="f", prep=lambda t: (t / "f").write_text("x")),
     "--out: is a file, not a folder"),
    ("run_out_under_file", run_case(out="f/sub", prep=lambda t: (t / "f").write_text("x")),
     "--out: "),
    ("run_out_foreign", run_case(out="thesis", prep=lambda t: foreign(t, "thesis")),
     "--out: a non-empty folder that is not a results folder of linkage"),
    ("sweep_out_foreign", sweep_case(out="thesis", prep=lambda t: foreign(t, "thesis")),
     "--out: a non-empty folder that is not a results folder of linkage"),
    ("sweep_out_is_file", sweep_case(out="f", prep=lambda t: (t / "f").write_text("x")),
     "--out: is a file, not a folder"),
    ("sweep_replications_1e9", sweep_case("--replications", "1000000000"),
     "--replications: 1,000,000,000 runs planned, more than --max-runs 100,000"),
    ("sweep_max_runs", sweep_case("--max-runs", "1"), "runs planned, more than --max-runs 1"),
    ("sweep_max_runs_zero", sweep_case("--max-runs", "0"), "--max-runs: must be at least 1"),
    ("sensitivity_samples_2e30", sweep_case("--samples", str(2**30), command="sensitivity",
     prep=lambda t: (t / "e.yaml").write_text(
         EXPERIMENT + "levers:\n  street.trust_gain: {range: [0, 1]}\n"
         "  street.trust_loss: {range: [0, 1]}\ndesign: sobol\nsamples: 4\n")),
     "--samples: at most 10,000,000"),
    ("sensitivity_unknown_outcome", sweep_case("--outcome", "nope", command="sensitivity",
     prep=lambda t: (t / "e.yaml").write_text(
         EXPERIMENT + "levers:\n  street.trust_gain: {range: [0, 1]}\n"
         "  street.trust_loss: {range: [0, 1]}\ndesign: sobol\nsamples: 4\n")),
     "--outcome: unknown metric nope"),
    ("scheduler_malformed", sweep_case("--scheduler", "nonsense"),
     "--scheduler: not a scheduler address: nonsense"),
    # -- results folders given to compare and report
    ("compare_all_failed", results_case("compare", lambda f: None),
     "runs: no successful runs to compare (1 runs, all failed; the first: RuntimeError: boom)"),
    ("compare_bad_parquet", results_case(
        "compare", lambda f: (f / "runs.parquet").write_bytes(b"PAR1 not really")),
     "runs.parquet: (file): not a readable Parquet file"),
    ("compare_bad_manifest", results_case(
        "compare", lambda f: (f / "manifest.json").write_text("{not json")),
     "manifest.json: (file): not valid JSON"),
    ("report_bad_parquet", results_case(
        "report", lambda f: (f / "runs.parquet").write_bytes(b"\x00" * 100)),
     "runs.parquet: (file): not a readable Parquet file"),
    ("compare_not_a_folder", results_case(
        "compare", lambda f: shutil.rmtree(f) or f.write_text("x")), "(folder): not a folder"),
]  # fmt: skip


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("name", "setup", "expected"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch, name, setup, expected):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a default results folder would appear here
    argv, file = setup(tmp_path)
    before = snapshot(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(err) == 1, err
    assert err[0].startswith("error: "), err[0]
    assert file in err[0], err[0]
    assert expected in err[0], err[0]
    assert len(err[0]) < 400, err[0]
    assert snapshot(tmp_path) == before, "files were written"


@pytest.mark.parametrize(
    "text",
    [alias_bomb(), "a: " + "[" * 100_000 + "]" * 100_000 + "\n"],
    ids=["alias_bomb", "nesting_100k"],
)
def test_hostile_yaml_neither_hangs_nor_crashes(tmp_path, text):
    """The real console path, with a deadline: run and validate both answer in one line."""
    f = tmp_path / "bomb.yaml"
    f.write_text(text)
    for command in ("validate", "run"):
        out = subprocess.run(
            [sys.executable, "-m", "experiments.interfaces.cli", command, str(f)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert out.returncode == 2, out.stderr[-500:]
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-500:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.yaml"]


def test_validate_reports_every_file(tmp_path, capsys):
    files(tmp_path, **{"good.yaml": SMALL, "bad.yaml": "street: {n_residents: -1}\n"})
    (tmp_path / "empty.yaml").write_text("")
    code = main(["validate", *(str(tmp_path / n) for n in ("bad.yaml", "good.yaml", "empty.yaml"))])
    out = capsys.readouterr()
    assert code == 2
    assert out.out.strip() == f"ok: {tmp_path / 'good.yaml'} (scenario 'good')"
    err = out.err.strip().splitlines()
    assert len(err) == 2
    assert "bad.yaml: street.n_residents" in err[0] and "empty.yaml: (file)" in err[1]


def test_set_name_is_honoured(tmp_path):
    from experiments.engine.scenarios import load_scenario

    files(tmp_path, **{"base.yaml": SMALL})
    assert load_scenario(tmp_path / "base.yaml", ["name=renamed"]).name == "renamed"
    with pytest.raises(ScenarioError, match="name: too long"):
        load_scenario(tmp_path / "base.yaml", ["name=" + "x" * 200])


def test_experiment_name_cannot_leave_results(tmp_path, monkeypatch):
    """`name: ../../../x` (or an absolute path) names a folder inside results/, nothing else."""
    from experiments.engine.sweep import default_out, latest_out

    for name in ("../../../x", "/etc/passwd", "..", "名字"):
        out = default_out(name, tmp_path / "results")
        assert out.parent == tmp_path / "results", out
        assert not out.name.startswith("."), out
        assert latest_out(name, tmp_path / "results") is None


def test_full_disk_during_sweep_is_one_line(tmp_path, capsys, monkeypatch):
    """ENOSPC while a run's part is written: exit 2, one line naming the file, nothing lost."""
    import errno

    import experiments.engine.store as store

    files(tmp_path, **{"base.yaml": SMALL, "e.yaml": EXPERIMENT})
    real = store.atomic_write_parquet
    calls = []

    def full(table, path):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(table, path)

    monkeypatch.setattr(store, "atomic_write_parquet", full)
    out = tmp_path / "res"
    code = main(["sweep", str(tmp_path / "e.yaml"), "--out", str(out), "--workers", "1"])
    lines = capsys.readouterr().err.strip().splitlines()
    # stderr is not a terminal here, so the sweep's progress lines ("e: 1/2 runs ...") come first
    err = [line for line in lines if not line.startswith("e: ")]
    assert code == 2
    assert len(err) == 1 and "No space left on device" in err[0] and "parts" in err[0], lines
    assert lines[-1] == err[0]
    assert store.ResultsStore(out).read_manifest()["status"] == "failed"
    assert not [p for p in out.rglob("*.tmp")]
    monkeypatch.setattr(store, "atomic_write_parquet", real)
    assert main(["sweep", str(tmp_path / "e.yaml"), "--out", str(out), "--resume"]) == 0


def test_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch):
    """A folder this user cannot write (root writes anywhere, so the check is simulated)."""
    import experiments.engine.folders as folders

    files(tmp_path, **{"base.yaml": SMALL, "e.yaml": EXPERIMENT})
    monkeypatch.setattr(folders.os, "access", lambda *a, **k: False)
    code = main(["sweep", str(tmp_path / "e.yaml"), "--out", str(tmp_path / "ro" / "res")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"--out: cannot write in {tmp_path} (permission denied)" in err[0]


def test_strict_json_and_safe_csv(tmp_path):
    from experiments.engine.outputs import csv_cell, to_json, write_csv

    text = to_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": "x"})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": "x"}
    assert json.loads(to_json({"a": float("-inf")}, "string")) == {"a": "-Infinity"}
    assert [csv_cell(v) for v in ("=1+1", "+A1", "-cmd", "@SUM(A1)", "\tx", "-3.5", "ok", -2)] == [
        "'=1+1",
        "'+A1",
        "'-cmd",
        "'@SUM(A1)",
        "'\tx",
        "-3.5",
        "ok",
        -2,
    ]
    df = pd.DataFrame({"scenario": ['=HYPERLINK("http://x")', "base"], "mean": [-1.5, 2.0]})
    write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["scenario"].tolist() == ['\'=HYPERLINK("http://x")', "base"]
    assert back["mean"].tolist() == [-1.5, 2.0]


def test_run_writes_strict_json(tmp_path):
    """A run whose summary holds NaN (no need met in a 2-week run) writes null, not NaN."""
    files(tmp_path, **{"base.yaml": SMALL})
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "base.yaml"), "--weeks", "2", "--out", str(out)]) == 0
    text = (out / "summary.json").read_text()
    assert "NaN" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))


@pytest.mark.parametrize(
    ("origin", "host", "loopback", "ok"),
    [
        (None, "127.0.0.1:8765", True, True),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True, True),
        ("http://localhost:8765", "localhost:8765", True, True),
        ("http://[::1]:8765", "[::1]:8765", True, True),
        ("https://evil.example", "127.0.0.1:8765", True, False),
        ("http://rebind.example:8765", "rebind.example:8765", True, False),
        ("null", "127.0.0.1:8765", True, False),
        ("http://192.168.1.5:8765", "192.168.1.5:8765", False, True),
        ("http://evil.example", "192.168.1.5:8765", False, False),
    ],
)
def test_dashboard_websocket_origin(origin, host, loopback, ok):
    from experiments.interfaces.dashboard.origin import origin_allowed

    assert origin_allowed(origin, host, loopback) is ok


def test_loopback_aliases_are_loopback():
    from experiments.interfaces.dashboard.origin import resolves_to_loopback

    for host in ("127.0.0.1", "127.1", "localhost", "::1", "127.0.0.2"):
        assert resolves_to_loopback(host), host
    for host in ("0.0.0.0", "8.8.8.8", "no-such-host.invalid"):
        assert not resolves_to_loopback(host), host
