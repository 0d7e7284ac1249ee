"""A run's output folders: one run at a time, results built aside and swapped in when the run ends.

Each output folder (reports, figures, processed tables) gets a lock file held with `flock` for the
whole run: a second run on the same folder stops at once naming the first's PID and start time, and
the kernel frees the lock of a process that died, so a stale lock is simply taken over. Notebooks
write into a hidden staging folder inside each output folder; only when the run ends are the files
moved into place, each with an atomic rename, so a killed run leaves the previous outputs whole.
Staging folders and temporary files left by a killed run are removed by the next one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError
from .paths import STAGING_PREFIX, relative

LOCK_NAME = ".ips-run.lock"
TEMP_GLOB = ".*.tmp"  # paths.atomic_write's temporary files


class OutputFolders:
    """The output folders of one run (e.g. {"reports": …, "figures": …}): lock, stage, swap in."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = {key: Path(folder).resolve() for key, folder in folders.items()}
        self.tag = f"{STAGING_PREFIX}{os.getpid()}"
        self._locks: list[int] = []

    # ------------------------------------------------------------------ lock
    def lock(self) -> None:
        """Take every folder's lock or raise InputError naming the run that holds one."""
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        for folder in sorted(set(self.folders.values())):
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                self.release()
                raise InputError(f"{relative(folder)}: another run is writing here ({holder}); wait for it to "
                                 "finish or stop it, or give this run other output folders") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"PID {os.getpid()}, started {started}\n".encode(), 0)
            self._locks.append(fd)

    def release(self) -> None:
        """Free the locks (the lock files stay: removing them would race with a waiting run)."""
        for fd in self._locks:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._locks = []

    def __enter__(self) -> "OutputFolders":
        self.lock()
        return self

    def __exit__(self, *exc) -> None:
        self.discard()
        self.release()

    # ------------------------------------------------------------------ staging
    def clean_leftovers(self) -> list[Path]:
        """Remove staging folders and temporary files of earlier runs that were killed (lock held)."""
        removed = []
        for folder in sorted(set(self.folders.values())):
            for stale in sorted(folder.glob(f"{STAGING_PREFIX}*")):
                if stale.name != self.tag:
                    shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
                    removed.append(stale)
            for temp in sorted(folder.rglob(TEMP_GLOB)):
                if temp.is_file() and STAGING_PREFIX not in str(temp.relative_to(folder)):
                    temp.unlink(missing_ok=True)
                    removed.append(temp)
        return removed

    def staging(self, key: str) -> Path:
        """Where this run writes the files meant for folder `key` (created empty)."""
        path = self.folders[key] / self.tag
        path.mkdir(parents=True, exist_ok=True)
        return path

    def staged_files(self, key: str) -> list[Path]:
        """Every file staged for folder `key`, sorted."""
        path = self.folders[key] / self.tag
        return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []

    def swap_in(self, key: str, remove: list[Path] = (), last: tuple[str, ...] = ()) -> list[Path]:
        """Move folder `key`'s staged files into place (atomic rename each), delete `remove` (stale
        outputs of earlier runs), and return the files placed. Names in `last` move last (index.html)."""
        folder, staging = self.folders[key], self.folders[key] / self.tag
        staged = self.staged_files(key)
        staged.sort(key=lambda p: (p.name in last, str(p)))
        placed = []
        for src in staged:
            dst = folder / src.relative_to(staging)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            placed.append(dst)
        for stale in remove:
            if stale not in placed:
                Path(stale).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        return placed

    def discard(self) -> None:
        """Drop whatever is still staged (a failed or interrupted run publishes nothing more)."""
        for folder in set(self.folders.values()):
            shutil.rmtree(folder / self.tag, ignore_errors=True)


def die_with_parent() -> None:
    """In a worker process: ask Linux to kill this process when the run that started it dies
    (even by SIGKILL), so no orphan goes on writing; its kernel notices its parent is gone and exits."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the run died before the request took effect
        os._exit(1)
