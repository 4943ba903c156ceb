"""Run a command and report its wall time and the peak memory of every process it starts.

Used for the district figures of docs/performance.md ("A district of a million residents"):

    python -m tests.measure_peak_rss -- linkage district FILE --workers 2 --out DIR

Every 0.2 s it reads `VmHWM` (the peak resident set size the kernel keeps for each process)
from /proc for the command and all its descendants (forked pool workers, Dask's nanny and
worker processes), and keeps the largest value seen per process. VmHWM only grows, so the last
reading before a process exits is its peak (a process that lives less than 0.2 s may be missed;
the workers of a sweep live as long as the sweep). Linux only. Prints one JSON object: the
command, wall seconds, the 1-minute load average at the start and the end, and each process's
peak in MB with its command line (the parent first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(d.name))
    return out


def _tree(root: int) -> list[int]:
    kids = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:160]


def measure(cmd: list[str], every: float = 0.2) -> dict:
    """Run `cmd`; its wall time and the peak RSS of each process of its tree."""
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peaks: dict[int, float] = {}
    names: dict[int, str] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            mb = _hwm_mb(pid)
            if mb is not None:
                peaks[pid] = max(peaks.get(pid, 0.0), mb)
                names.setdefault(pid, _cmdline(pid))
        time.sleep(every)
    wall = time.perf_counter() - t0
    order = sorted(peaks, key=lambda p: (p != proc.pid, p))
    return {
        "command": " ".join(cmd),
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "load_1min_start": round(load0, 2),
        "load_1min_end": round(os.getloadavg()[0], 2),
        "processes": [
            {"pid": p, "peak_rss_mb": round(peaks[p], 1), "cmd": names.get(p, "")} for p in order
        ],
    }


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    print(json.dumps(measure(argv), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
