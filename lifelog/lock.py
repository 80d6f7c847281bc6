"""One writer per library, across threads and processes.

`WriterLock` is a re-entrant lock: a thread lock for the writers of this process, and an exclusive
`flock` on `<database>/.writer.lock` for the first hold of a thread, so that two processes (two
`lifelog ingest`, the app and the CLI) never write at once. The file records who holds it (pid,
command, since when): a second writer waits for it, telling once who it waits for. The kernel
drops the lock when its holder dies, so a killed writer never leaves a stale lock behind.

    with db.lock:             # waits while another process writes
        ...                   # every write of one unit of work
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

LOCK_NAME = ".writer.lock"


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts: its files are not
    ours to remove)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LockTimeout(TimeoutError):
    """Another process kept the library's writer lock longer than this one would wait."""


def _describe(holder: dict) -> str:
    if not holder:
        return "another process"
    return f"pid {holder.get('pid', '?')} ({holder.get('command', '?')}, since {holder.get('since', '?')})"


class WriterLock:
    """The library's writer lock (see the module docstring)."""

    def __init__(self, folder: Path | str, *, timeout_s: float | None = None,
                 on_wait: Callable[[str], None] | None = None, on_acquire: Callable[[], None] | None = None):
        self.path = Path(folder) / LOCK_NAME
        self.timeout_s = timeout_s  # None: wait as long as it takes
        self.on_wait = on_wait or (lambda message: print(message, file=sys.stderr, flush=True))
        # runs once the lock is taken (not on re-entry): a reader's cached views brought up to date
        self.on_acquire = on_acquire
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def holder(self) -> dict:
        """Who holds (or last held) the lock: pid, command, since; {} when nobody ever did."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def held(self) -> bool:
        """Whether this process holds it now (in any thread)."""
        return self._depth > 0

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                self._fd = self._lock_file()
                if self.on_acquire is not None:
                    self.on_acquire()
            except BaseException:
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
                self._thread_lock.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._thread_lock.release()

    def __enter__(self) -> "WriterLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _lock_file(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            start, told = time.monotonic(), False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                if not told:
                    self.on_wait(f"The library is being written by {_describe(self.holder())}: waiting for it to finish.")
                    told = True
                if self.timeout_s is not None and time.monotonic() - start > self.timeout_s:
                    raise LockTimeout(f"the library at {self.path.parent} is still being written by "
                                      f"{_describe(self.holder())} after {self.timeout_s:.0f} s")
                time.sleep(0.05)
            record = {"pid": os.getpid(), "command": " ".join(os.path.basename(a) if i == 0 else a
                                                              for i, a in enumerate(sys.argv))[:200],
                      "since": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")}
            try:  # who holds it is for the user's benefit only (a full disk must not stop a writer here)
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(record).encode(), 0)
            except OSError:
                pass
            return fd
        except BaseException:
            os.close(fd)
            raise
