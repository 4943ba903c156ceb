"""Durability of sweeps: a killed sweep keeps every finished run, and --resume completes it
with exactly the results of a clean run (no duplicates, nothing lost, canonical order)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from experiments import load_results
from experiments.engine.errors import ScenarioError
from experiments.engine.store import ResultsStore
from experiments.engine.sweep import run_sweep

REPO = Path(__file__).resolve().parent.parent

BASE = """
name: base
run: {weeks: 12, warmup_weeks: 2}
street: {n_residents: 3000, n_communities: 3}
"""
VARIANT = """
extends: base.yaml
name: more_volunteers
volunteers: {registered_share: 0.2}
"""
EXPERIMENT = """
name: durable
scenarios:
  base: base.yaml
  more_volunteers: more_volunteers.yaml
levers:
  providers.sw_per_10k: {values: [3, 12]}
replications: 8
root_seed: 5
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def sweep_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.interfaces.cli", "sweep", *args, "--no-progress"]


def journal_ids(folder: Path) -> list[str]:
    lines = (folder / "journal.jsonl").read_bytes().splitlines()
    return [json.loads(x)["run_id"] for x in lines if x.strip()]


def assert_same_results(a: Path, b: Path) -> None:
    ra = pd.read_parquet(a / "runs.parquet").drop(columns="wall_time_s")
    rb = pd.read_parquet(b / "runs.parquet").drop(columns="wall_time_s")
    assert_frame_equal(ra, rb)
    assert_frame_equal(
        pd.read_parquet(a / "timeseries.parquet"), pd.read_parquet(b / "timeseries.parquet")
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = tmp_path_factory.mktemp("durable")
    write(f / "base.yaml", BASE)
    write(f / "more_volunteers.yaml", VARIANT)
    write(f / "exp.yaml", EXPERIMENT)
    return f


@pytest.fixture(scope="module")
def clean(folder: Path) -> Path:
    res = run_sweep(folder / "exp.yaml", folder / "clean", workers=1, progress=False)
    assert res.ok == res.total == 32
    return res.path


def wait_for_runs(folder: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    journal = folder / "journal.jsonl"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if journal.exists() and journal.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(
                f"sweep ended early: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}"
            )
        time.sleep(0.02)
    pytest.fail("sweep made no progress")


def group_gone(pgid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_sigkill_then_resume_equals_clean_run(folder: Path, clean: Path) -> None:
    out = folder / "killed"
    proc = subprocess.Popen(
        sweep_cmd(str(folder / "exp.yaml"), "--workers", "2", "--out", str(out)),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_runs(out, 4, proc)
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process itself: no cleanup of any kind
        proc.wait(timeout=30)
        orphans_exited = group_gone(proc.pid, timeout=10)  # pool workers notice and exit
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert orphans_exited, "pool workers outlived the killed sweep"
    done = journal_ids(out)
    print(f"\nkilled after {len(done)} of 32 runs")
    assert 4 <= len(done) < 32, "the sweep was not killed partway"
    assert not (out / "runs.parquet").exists()
    partial = load_results(out)  # a stopped sweep can be looked at before it is resumed
    assert sorted(partial.runs["run_id"]) == sorted(done) and (partial.runs["status"] == "ok").all()
    with open(out / "journal.jsonl", "ab") as f:  # and a torn last write, as a crash can leave
        f.write(b'{"run_id": "base:p1:r7", "scen')

    r = subprocess.run(
        sweep_cmd(str(folder / "exp.yaml"), "--workers", "2", "--out", str(out), "--resume"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert f"({len(done)} already done)" in r.stdout
    ids = journal_ids(out)
    assert len(ids) == len(set(ids)) == 32, "a run was lost or run twice"
    assert ids[: len(done)] == done
    assert_same_results(out, clean)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "completed" and len(manifest["sessions"]) == 2
    assert manifest["sessions"][0]["status"] == "running"  # what a SIGKILL leaves behind


def test_interrupt_saves_manifest_and_resume_completes(folder: Path, clean: Path) -> None:
    out = folder / "interrupted"
    proc = subprocess.Popen(
        sweep_cmd(str(folder / "exp.yaml"), "--workers", "2", "--out", str(out)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_runs(out, 2, proc)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    res = run_sweep(folder / "exp.yaml", out, workers=2, resume=True, progress=False)
    assert res.skipped >= 2 and res.ok == 32
    assert_same_results(out, clean)


def test_resume_with_more_replications_extends_the_study(folder: Path, clean: Path) -> None:
    out = folder / "extended"
    first = run_sweep(folder / "exp.yaml", out, workers=1, replications=3, progress=False)
    assert first.total == 12
    more = run_sweep(
        folder / "exp.yaml", out, workers=1, resume=True, replications=8, progress=False
    )
    assert (more.skipped, more.ran) == (12, 20)
    assert_same_results(out, clean)  # seeds of replications 0-2 do not depend on the count
    again = run_sweep(folder / "exp.yaml", out, workers=1, resume=True, progress=False)
    assert again.ran == 0 and again.total == 32  # the manifest remembers --replications 8


def test_resume_refuses_changed_settings(folder: Path, clean: Path, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="other settings"):
        run_sweep(folder / "exp.yaml", clean, workers=1, resume=True, weeks=11, progress=False)
    with pytest.raises(ScenarioError, match="not part of the experiment"):
        run_sweep(
            folder / "exp.yaml", clean, workers=1, resume=True, replications=2, progress=False
        )
    with pytest.raises(ScenarioError, match="already holds results"):
        run_sweep(folder / "exp.yaml", clean, workers=1, progress=False)
    r = subprocess.run(
        sweep_cmd(str(folder / "exp.yaml"), "--out", str(clean)),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--out" in r.stderr
    for name in ("base.yaml", "more_volunteers.yaml", "exp.yaml"):
        (tmp_path / name).write_text((folder / name).read_text())
    copy = run_sweep(
        tmp_path / "exp.yaml", tmp_path / "out", workers=1, replications=1, progress=False
    )
    write(tmp_path / "base.yaml", BASE.replace("3000", "3100"))
    with pytest.raises(ScenarioError, match="changed since"):
        run_sweep(tmp_path / "exp.yaml", copy.path, workers=1, resume=True, progress=False)


def test_torn_journal_line_is_ignored_and_cut(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b'{"run_id": "a", "status": "ok"}\n{"run_id": "b", "sta')
    assert list(store.records()) == ["a"]
    store.open()
    store.close()
    assert journal.read_bytes() == b'{"run_id": "a", "status": "ok"}\n'


# --- integrity and ownership (issue 16) ------------------------------------------------------


def test_damaged_and_deleted_parts_are_rerun_to_identical_bytes(folder: Path, clean: Path) -> None:
    """A part with flipped bytes and a deleted part are detected (SHA-256 in the journal) and
    run again on --resume; the consolidated files come out byte for byte as a clean sweep's."""
    import shutil

    out = folder / "damaged"
    shutil.copytree(clean, out)
    parts = sorted((out / "parts").glob("ts-*.parquet"))
    flipped, deleted = parts[3], parts[10]
    data = bytearray(flipped.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0xFF
    flipped.write_bytes(bytes(data))
    deleted.unlink()
    (out / "timeseries.parquet").unlink()
    res = run_sweep(folder / "exp.yaml", out, workers=1, progress=False, resume=True)
    assert res.ran == 2 and res.ok == 32
    assert (out / "timeseries.parquet").read_bytes() == (clean / "timeseries.parquet").read_bytes()
    for p in (flipped, deleted):
        assert p.read_bytes() == (clean / "parts" / p.name).read_bytes()
    assert_same_results(clean, out)
    assert set(journal_ids(out)) == set(journal_ids(clean))


def test_a_damaged_part_is_never_consolidated(folder: Path, clean: Path) -> None:
    import shutil

    out = folder / "damaged2"
    shutil.copytree(clean, out)
    part = sorted((out / "parts").glob("ts-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:-100])  # cut short
    with pytest.raises(ScenarioError, match="missing or damaged"):
        ResultsStore(out).consolidate("durable", ["providers.sw_per_10k"])


def test_two_writers_one_folder(folder: Path, clean: Path) -> None:
    """Two sweeps into one folder: a second one and a --resume, started while the first runs,
    are refused at once with the owner's pid; the first completes with every run once."""
    out = folder / "two_writers"
    slow = ("--weeks", "40")  # runs long enough for the others to start and be refused
    first = subprocess.Popen(
        sweep_cmd(str(folder / "exp.yaml"), "--workers", "1", "--out", str(out), *slow),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_runs(out, 1, first)
        others = [
            subprocess.Popen(
                sweep_cmd(str(folder / "exp.yaml"), "--out", str(out), *slow, *extra),
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for extra in ([], ["--resume"])
        ]
        for other in others:
            lines = other.communicate(timeout=120)[1].strip().splitlines()
            assert other.returncode == 2, lines
            assert len(lines) == 1 and f"in use: pid {first.pid} is writing" in lines[0], lines
        assert first.poll() is None, "the first sweep ended before the others were refused"
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
    assert sorted(journal_ids(out)) == sorted(journal_ids(clean))  # each run once
    res = load_results(out)
    assert res.manifest["status"] == "completed" and (res.runs["status"] == "ok").sum() == 32
    assert pd.read_parquet(out / "timeseries.parquet")["week"].max() == 39


def test_a_killed_sweep_reads_as_interrupted(folder: Path) -> None:
    """SIGKILL leaves the manifest saying "running"; with no process holding the folder,
    readers report it as interrupted."""
    out = folder / "stale"
    proc = subprocess.Popen(
        sweep_cmd(str(folder / "exp.yaml"), "--workers", "1", "--out", str(out)),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_runs(out, 1, proc)
    assert load_results(out).manifest["status"] == "running"
    proc.kill()
    proc.wait(timeout=30)
    time.sleep(1.5)  # no worker outlives its parent by more than a second
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert load_results(out).manifest["status"] == "interrupted"
