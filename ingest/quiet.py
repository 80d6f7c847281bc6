"""A filter on the process's standard error for the one native library line that is chatter, not news.

decord's C++ reader logs "Failed to skip frames effectively at frame N ... Aborting skip operation"
to file descriptor 2 whenever a seek lands short on a long video, and then reads on correctly; the
Python side cannot turn that log off (`decord.logging` governs FFmpeg's, not decord's own). Once a
video is opened, `install()` routes descriptor 2 through a pipe whose reader thread drops exactly
those lines and writes everything else through at once (a progress bar's "\\r" updates too), so
errors, warnings and tracebacks still reach the terminal. At exit the original descriptor is put
back and the pipe drained, so the last words of a failing run are not lost.
"""

from __future__ import annotations

import atexit
import os
import re
import threading

# the decord line (after dmlc's "[hh:mm:ss] file.cc:line: " prefix), and how such a line starts
NOISE = re.compile(rb"Failed to skip frames effectively at frame \d+.*Aborting skip operation\.?")
LOG_PREFIX = re.compile(rb"^\[\d{2}:\d{2}:\d{2}\] ")

_lock = threading.Lock()
_state: dict[str, object] = {}


def _pump(read_fd: int, out_fd: int) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        out = b"".join(line + b"\n" for line in lines if not NOISE.search(line))
        # a partial line goes through now (a progress bar), unless it is or may be a log line's start
        undecided = pending[:1] == b"[" and len(pending) < 11
        if pending and not undecided and not LOG_PREFIX.match(pending):
            out += pending
            pending = b""
        if out:
            os.write(out_fd, out)
    if pending and not NOISE.search(pending):
        os.write(out_fd, pending)


def install() -> None:
    """Filter descriptor 2 from now on (once per process; a no-op where it cannot)."""
    with _lock:
        if _state:
            return
        try:
            saved = os.dup(2)
            read_fd, write_fd = os.pipe()
            os.dup2(write_fd, 2)
            os.close(write_fd)
        except OSError:
            return
        thread = threading.Thread(target=_pump, args=(read_fd, saved), name="lifelog-stderr", daemon=True)
        thread.start()
        _state.update(saved=saved, thread=thread)
        atexit.register(uninstall)


def uninstall() -> None:
    """Put the original descriptor 2 back and let the filter write what it still holds."""
    with _lock:
        if not _state:
            return
        saved, thread = _state.pop("saved"), _state.pop("thread")
        try:
            os.dup2(saved, 2)  # the pipe's last writer goes: the reader sees the end and drains
        except OSError:
            return
        thread.join(2)  # type: ignore[attr-defined]


__all__ = ["NOISE", "install", "uninstall"]
