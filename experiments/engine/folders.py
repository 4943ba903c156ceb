"""Results folders: checked before anything runs, written by one process at a time.

Every command that writes a results folder (sweep, its --resume, sensitivity, optimize, and
the studies to come) does, before its first run:

1. `check_out(path)`: the folder may be new or empty, or a results folder of ours (it holds
   one of `OURS`); a file, a path under a file, a folder we cannot write, or a non-empty
   folder of something else is refused with one line (`ExperimentError`, exit 2).
2. `FolderLock(path)`: an exclusive `flock` on `path/.linkage.lock`, which holds the owner's
   pid. The operating system drops the lock when its process ends, however it ends (kill -9
   too), so there is no stale lock to clean up; a second writer is refused at once with the
   owner's pid. The lock is re-entrant within a process (sensitivity runs its sweep in the
   same folder), and the pool workers forked by the local executor inherit it, so a folder
   stays owned until the last worker of a killed sweep has exited.

`manifest_status` reads a "running" manifest whose folder nobody holds as "interrupted" (a
sweep killed with SIGKILL, or a machine that went down, could not write it).

Names that become folder names go through `safe_name`, as `linkage run` always did: letters,
digits, `_`, `.` and `-` only, no leading dot, at most `NAME_CHARS` characters, so that no
experiment name can lead outside `results/`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

LOCK = ".linkage.lock"
OURS = (
    "manifest.json",
    "journal.jsonl",
    "sensitivity.json",
    "optimize.json",
    "district.json",
    "attribution.json",
    "summary.json",
    "report.html",
    LOCK,
)
"""Files that mark a folder as written by linkage (a run, a sweep, a study or a report)."""
NAME_CHARS = 80

_held: dict[str, list[int]] = {}  # resolved folder -> [fd, depth, pid] of the locks we hold


def _error(path: str | Path, field: str, problem: str) -> Exception:
    from experiments.engine.errors import ExperimentError

    return ExperimentError(path, field, problem)


def safe_name(name: str, limit: int = NAME_CHARS) -> str:
    """`name` made safe as (part of) a folder name: no path separators, no leading dot."""
    text = re.sub(r"[^A-Za-z0-9_.-]", "_", str(name)).lstrip(".")
    return text[:limit] or "unnamed"


def tmp_path(path: Path) -> Path:
    """A temporary name beside `path`, unique to this process and call."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _exists(p: Path, field: str) -> bool:
    try:
        return p.exists()
    except OSError as e:
        raise _error(p, field, f"cannot use this path ({e.strerror or e})") from None


def check_out(path: str | Path, field: str = "--out", ours: tuple[str, ...] = OURS) -> Path:
    """Check that results can be written to the folder `path`, before anything runs.

    Refuses a file, a path under a file, a folder that cannot be written, and a non-empty
    folder that holds none of `ours`.

    Raises:
        ExperimentError: naming the path, `field` and the problem.
    """
    p = Path(path)
    if _exists(p, field) and not p.is_dir():
        raise _error(p, field, "is a file, not a folder")
    parent = p
    while not _exists(parent, field) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _error(p, field, f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _error(p, field, f"cannot write in {parent} (permission denied)")
    if p.is_dir():
        try:
            entries = {e.name for e in os.scandir(p)}
        except OSError as e:
            raise _error(p, field, f"cannot read the folder ({e.strerror or e})") from None
        if entries and not entries & set(ours):
            raise _error(
                p,
                field,
                "a non-empty folder that is not a results folder of linkage; "
                "choose a new or empty folder",
            )
    return p


def _owner_text(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return f"pid {text}"
    return "another process"


class FolderLock:
    """An exclusive lock on a results folder (a context manager; re-entrant in a process).

    Args:
        folder: The results folder (created if missing).
        field: The option named in the refusal.

    Raises:
        ExperimentError: on entering, when another process holds the folder.
    """

    def __init__(self, folder: str | Path, field: str = "--out") -> None:
        self.folder = Path(folder)
        self.field = field
        self._key: str | None = None
        self._created = False

    def acquire(self) -> FolderLock:
        """Take the lock, or refuse at once if another process has it."""
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one writer is then up to the user
            return self
        try:
            self._created = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _error(self.folder, self.field, f"cannot create ({e.strerror or e})") from None
        key = str(self.folder.resolve())
        held = _held.get(key)
        if held is not None and held[2] == os.getpid():
            held[1] += 1
            self._key = key
            return self
        try:
            fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise _error(self.folder, self.field, f"cannot write ({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = _owner_text(fd)
            os.close(fd)
            raise _error(
                self.folder,
                self.field,
                f"in use: {owner} is writing to this results folder; wait for it to end "
                "or choose another folder",
            ) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        _held[key] = [fd, 1, os.getpid()]
        self._key = key
        return self

    def release(self) -> None:
        """Give the lock back (when the outermost holder in this process leaves)."""
        key, self._key = self._key, None
        held = _held.get(key) if key else None
        if held is None or held[2] != os.getpid():
            return
        held[1] -= 1
        if held[1] == 0:
            del _held[key]
            import fcntl

            if self._created:  # refused before anything was written: leave no trace
                with contextlib.suppress(OSError):
                    if {e.name for e in os.scandir(self.folder)} == {LOCK}:
                        (self.folder / LOCK).unlink()
                        self.folder.rmdir()
            with contextlib.suppress(OSError):
                fcntl.flock(held[0], fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(held[0])

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_owner(folder: str | Path) -> str | None:
    """Who holds the folder's lock ("pid N"), or None when nobody does."""
    try:
        import fcntl
    except ImportError:
        return None
    key = str(Path(folder).resolve())
    if key in _held and _held[key][2] == os.getpid():
        return f"pid {os.getpid()}"
    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _owner_text(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def manifest_status(folder: str | Path, manifest: dict[str, Any]) -> str | None:
    """The manifest's status, with a "running" that no live process holds read as
    "interrupted"."""
    status = manifest.get("status")
    if status == "running" and lock_owner(folder) is None:
        return "interrupted"
    return status
