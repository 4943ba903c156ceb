"""The results store: one folder per experiment run, durable run by run.

```
DIR/manifest.json        what ran: experiment file, resolved parameters, versions, git, times
DIR/journal.jsonl        one line per finished run (its summary), appended and fsync'ed
DIR/parts/ts-*.parquet   one file per finished run: its weekly time series
DIR/runs.parquet         consolidated: one row per run, in canonical order
DIR/timeseries.parquet   consolidated: one row per run and week, in canonical order
```

A run is committed when its journal line is written; its time-series part is written first
(to a temporary name, then `os.replace`d), so a sweep killed at any moment keeps every run it
had finished, and a half-written last line is ignored (and cut off before appending again).
The journal line holds the SHA-256 of the part (`part_sha256`): a part that is missing, cut
short or changed by even one byte fails `part_ok`, and the sweep runs that run again (on
--resume, and before consolidating) instead of trusting it. Only one process writes a folder
at a time (`experiments.engine.folders.FolderLock`), and temporary names are unique per process.
`runs.parquet` and `timeseries.parquet` are written from the journal and the parts, sorted by
(scenario order, parameter point, replication), never by completion order: a resumed sweep and
a clean one give the same files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.engine.executors import Outcome
from experiments.engine.folders import tmp_path
from experiments.engine.outputs import to_json

JOURNAL = "journal.jsonl"
PARTS = "parts"
RUNS = "runs.parquet"
TIMESERIES = "timeseries.parquet"
MANIFEST = "manifest.json"

ID_COLUMNS = ("experiment", "scenario", "point", "run_id")
TS_ID_COLUMNS = ("run_id", "scenario", "point", "replication")
COMPRESSION = "zstd"
TS_BATCH_ROWS = 200_000


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and `os.replace`."""
    tmp = tmp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.filename is None:  # name the file in the message
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    _fsync_dir(path.parent)


def atomic_write_parquet(table: pa.Table, path: Path) -> str:
    """Write a parquet file through a temporary file and `os.replace`; returns its SHA-256."""
    tmp = tmp_path(path)
    try:
        pq.write_table(table, tmp, compression=COMPRESSION)
        with open(tmp, "rb+") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.filename is None:
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    return digest


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file, or None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)[:80]


class ResultsStore:
    """A results folder: append finished runs, list them, consolidate them.

    Args:
        path: The folder (created if missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._journal = None

    # --- state ---------------------------------------------------------------------------

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    def exists(self) -> bool:
        """Whether the folder already holds results (a manifest or a journal)."""
        return (self.path / MANIFEST).exists() or self.journal_path.exists()

    def records(self) -> dict[str, dict[str, Any]]:
        """Finished runs by run_id (the last record wins); a torn last line is skipped."""
        out: dict[str, dict[str, Any]] = {}
        if not self.journal_path.exists():
            return out
        with open(self.journal_path, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # torn write of a killed sweep
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError):  # damaged line: that run is run again
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("run_id"), str):
                    out[rec["run_id"]] = rec
        return out

    # --- writing -------------------------------------------------------------------------

    def open(self) -> None:
        """Open the journal for appending, cutting off a torn last line and stale temp files."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / PARTS).mkdir(exist_ok=True)
        for tmp in (self.path / PARTS).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        if self.journal_path.exists():
            data = self.journal_path.read_bytes()
            if data and not data.endswith(b"\n"):
                with open(self.journal_path, "rb+") as f:
                    f.truncate(data.rfind(b"\n") + 1)
        self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        """Close the journal."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def part_ok(self, rec: dict[str, Any]) -> bool:
        """Whether a record's time-series part (if it has one) is there, whole and unchanged:
        its SHA-256 matches the journal's (records written before checksums: it opens as
        Parquet)."""
        if not rec.get("timeseries"):
            return True
        path = self.part_path(rec)
        want = rec.get("part_sha256")
        if want is not None:
            return file_sha256(path) == want
        try:
            pq.read_metadata(path)
        except Exception:  # noqa: BLE001 - missing, truncated or not Parquet
            return False
        return True

    def bad_parts(self, recs: dict[str, dict[str, Any]]) -> set[str]:
        """Run ids of the successful records whose part fails `part_ok`."""
        return {k for k, r in recs.items() if r.get("status") == "ok" and not self.part_ok(r)}

    def part_path(self, rec: dict[str, Any]) -> Path:
        name = f"ts-{rec['scenario_index']:03d}-{rec['point']:06d}-{rec['replication']:06d}-{_safe(rec['scenario'])}.parquet"
        return self.path / PARTS / name

    def record(self, outcome: Outcome, keep_timeseries: bool = True) -> dict[str, Any]:
        """Commit one finished run: time-series part first, then its journal line (fsync'ed)."""
        t = outcome.task
        rec: dict[str, Any] = {
            "run_id": t.run_id,
            "scenario": t.scenario,
            "scenario_index": t.scenario_index,
            "point": t.point,
            "params": dict(t.params),
            "replication": t.replication,
            "seed": t.seed,
            "overrides": list(t.overrides),
            "status": outcome.status,
            "error": outcome.error,
            "violations": outcome.violations,
            "summary": outcome.summary,
            "wall_time_s": round(float(outcome.wall_time_s), 6),
            "timeseries": False,
        }
        ts = outcome.timeseries
        if keep_timeseries and outcome.status == "ok" and ts is not None and len(ts.columns):
            df = ts.reset_index(drop=True).copy()
            ids = {
                "run_id": t.run_id,
                "scenario": t.scenario,
                "point": t.point,
                "replication": t.replication,
            }
            for i, (k, v) in enumerate(ids.items()):
                if k in df.columns:
                    df = df.drop(columns=k)
                df.insert(i, k, v)
            table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
            rec["part_sha256"] = atomic_write_parquet(table, self.part_path(rec))
            rec["timeseries"] = True
        if outcome.traceback:
            rec["traceback"] = outcome.traceback
        # NaN and infinity as "NaN"/"Infinity" strings: strict JSON, read back exactly by float()
        line = to_json(rec, "string", ensure_ascii=False, separators=(",", ":")) + "\n"
        self._journal.write(line)
        self._journal.flush()
        os.fsync(self._journal.fileno())
        return rec

    # --- manifest ------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or {} if there is none.

        Raises:
            ExperimentError: the manifest is not a readable JSON object.
        """
        return read_manifest(self.path / MANIFEST)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically (strict JSON: NaN as null)."""
        text = to_json(manifest, indent=2, ensure_ascii=False) + "\n"
        atomic_write_bytes(self.path / MANIFEST, text.encode("utf-8"))

    # --- consolidation -------------------------------------------------------------------

    def consolidate(
        self,
        experiment: str,
        parameters: list[str],
        metrics: list[str] | None = None,
        timeseries: bool | list[str] = True,
        run_ids: set[str] | None = None,
    ) -> tuple[Path, Path | None]:
        """Write `runs.parquet` and `timeseries.parquet` from the journal and parts.

        Args:
            experiment: The experiment's name (a column of runs.parquet).
            parameters: Names of the varied parameters (columns, in this order).
            metrics: Summary metrics to keep, in this order (default: all, in the order the
                model reports them).
            timeseries: Whether to write timeseries.parquet, or which weekly columns to keep.
            run_ids: Only these runs (default: every run in the journal).

        Returns:
            The two paths (the second None when no time series is kept).
        """
        recs = sorted(self.records().values(), key=record_order)
        if run_ids is not None:
            recs = [r for r in recs if r["run_id"] in run_ids]
        table = runs_table(recs, experiment, parameters, metrics)
        runs_path = self.path / RUNS
        atomic_write_parquet(table, runs_path)
        ts_path = None
        if timeseries:
            keep = None if timeseries is True else list(timeseries)
            ts_path = self.path / TIMESERIES
            bad = [r["run_id"] for r in recs if not self.part_ok(r)]
            if bad:
                from experiments.engine.errors import ExperimentError

                raise ExperimentError(
                    self.path / PARTS,
                    bad[0],
                    f"time-series part missing or damaged ({len(bad)} runs); "
                    "run the same command with --resume to run them again",
                )
            parts = [self.part_path(r) for r in recs if r.get("timeseries")]
            write_timeseries(parts, ts_path, keep)
        return runs_path, ts_path


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest (or other JSON object written by linkage), or {} if there is none.

    Raises:
        ExperimentError: not a readable JSON object.
    """
    from experiments.engine.errors import ExperimentError, InputFileError
    from experiments.engine.input_files import read_text

    if not path.exists():
        return {}
    try:
        data = json.loads(read_text(path, limit=200_000_000))
    except InputFileError as e:
        raise ExperimentError(path, e.field, e.problem) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise ExperimentError(path, "(file)", f"not valid JSON ({str(e)[:80]})") from None
    if not isinstance(data, dict):
        raise ExperimentError(path, "(file)", "not a JSON object")
    return data


def record_order(rec: dict[str, Any]) -> tuple[int, int, int]:
    """Canonical order of a journal record: scenario order, parameter point, replication."""
    return (rec["scenario_index"], rec["point"], rec["replication"])


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def runs_table(
    recs: list[dict[str, Any]], experiment: str, parameters: list[str], metrics: list[str] | None
) -> pa.Table:
    """One row per run record (already in canonical order) as an Arrow table."""
    if metrics is None:
        metrics = list(dict.fromkeys(k for r in recs if r["status"] == "ok" for k in r["summary"]))
    nan = float("nan")
    cols: dict[str, pa.Array] = {
        "experiment": pa.array([experiment] * len(recs), type=pa.string()),
        "scenario": pa.array([r["scenario"] for r in recs], type=pa.string()),
        "point": pa.array([r["point"] for r in recs], type=pa.int64()),
        "run_id": pa.array([r["run_id"] for r in recs], type=pa.string()),
    }
    for p in parameters:
        cols[p] = _column([r["params"].get(p) for r in recs])
    cols["replication"] = pa.array([r["replication"] for r in recs], type=pa.int64())
    cols["seed"] = pa.array([r["seed"] for r in recs], type=pa.int64())
    cols["status"] = pa.array([r["status"] for r in recs], type=pa.string())
    cols["error"] = pa.array([r.get("error") for r in recs], type=pa.string())
    cols["violations"] = pa.array([_joined(r.get("violations")) for r in recs], type=pa.string())
    for m in metrics:
        if m in cols:
            continue
        cols[m] = pa.array([_num(r["summary"].get(m, nan)) for r in recs], type=pa.float64())
    cols["wall_time_s"] = pa.array([r["wall_time_s"] for r in recs], type=pa.float64())
    return pa.table(cols)


def _num(v: Any) -> float:
    """A journal value as a float ("NaN"/"Infinity" strings and null included)."""
    return math.nan if v is None else float(v)


def _joined(items: list[str] | None) -> str | None:
    return "; ".join(items) if items else None


def _unify(schemas: list[pa.Schema], keep: list[str] | None) -> pa.Schema:
    fields: dict[str, pa.Field] = {}
    for s in schemas:
        for f in s:
            if (
                keep is not None
                and f.name not in TS_ID_COLUMNS
                and f.name != "week"
                and f.name not in keep
            ):
                continue
            old = fields.get(f.name)
            if old is None:
                fields[f.name] = f.with_nullable(True)
            elif old.type != f.type:
                numeric = pa.types.is_integer(old.type) or pa.types.is_floating(old.type)
                if numeric and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)):
                    fields[f.name] = pa.field(f.name, pa.float64())
                else:
                    fields[f.name] = pa.field(f.name, pa.string())
    return pa.schema(list(fields.values()))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            arrays.append(col if col.type == f.type else col.cast(f.type))
        else:
            arrays.append(pa.nulls(len(table), type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_timeseries(parts: list[Path], path: Path, keep: list[str] | None = None) -> None:
    """Concatenate time-series parts (in the given order) into one parquet file, atomically."""
    schema = _unify([pq.read_schema(p).remove_metadata() for p in parts], keep)
    tmp = tmp_path(path)
    if not parts:
        schema = pa.schema(
            [
                pa.field(c, pa.string() if c in ("run_id", "scenario") else pa.int64())
                for c in TS_ID_COLUMNS
            ]
        )
    try:
        with pq.ParquetWriter(tmp, schema, compression=COMPRESSION) as writer:
            batch: list[pa.Table] = []
            rows = 0
            for p in parts:
                t = _conform(pq.read_table(p), schema)
                batch.append(t)
                rows += len(t)
                if rows >= TS_BATCH_ROWS:
                    writer.write_table(pa.concat_tables(batch))
                    batch, rows = [], 0
            if batch or not parts:
                writer.write_table(pa.concat_tables(batch) if batch else schema.empty_table())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
