"""The CLI's way to a running service (`lifelog serve`, or the app of `lifelog ui`): a question sent
there is answered by warm models in tens of milliseconds, where a fresh process spends seconds
importing and loading them.

A service announces itself in `<home>/service.json` (mode 0600: its address, process id, profile
and reference time) and withdraws it when it stops. `find` returns it only when it can serve this
command as the command would serve itself: same library, same profile, same "now", and its process
alive. Anything else (no file, a dead process, a refused connection) and the CLI works in-process,
as if no service existed. Only the standard library is imported here.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_FILE = "service.json"
TOKEN_FILE = "api-token"  # as lifelog.webserve.API_TOKEN_FILE


class Unreachable(ConnectionError):
    """The announced service did not answer: the caller works in-process instead."""


class ServiceError(RuntimeError):
    """The service answered with an error (a bad request, a missing media id): its message is the user's."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Service:
    url: str
    token: str
    pid: int

    def call(self, method: str, path: str, body: Any = None, *, timeout: float = 600) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            raise ServiceError(e.code, _detail(e)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            raise Unreachable(f"the service at {self.url} did not answer: {e}") from e


def _detail(e: urllib.error.HTTPError) -> str:
    text = e.read().decode("utf-8", "replace")
    try:
        detail = json.loads(text).get("detail", text)
    except (ValueError, AttributeError):
        detail = text
    return detail if isinstance(detail, str) else json.dumps(detail)


def announce(home: str | Path, *, url: str, pid: int, profile: str, now: str | None) -> Path:
    """Write `<home>/service.json` whole (a reader never sees half of it), readable by its owner only."""
    path = Path(home) / SERVICE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SERVICE_FILE}.{pid}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "pid": pid, "profile": profile, "now": now}, f)
    os.replace(tmp, path)
    return path


def withdraw(home: str | Path, pid: int | None = None) -> None:
    """Remove the announcement if it is this process's (a newer service's stays)."""
    path = Path(home) / SERVICE_FILE
    try:
        if json.loads(path.read_text()).get("pid") == (pid or os.getpid()):
            path.unlink()
    except (OSError, ValueError):
        pass


def find(home: str | Path, *, profile: str, now: str | None = None) -> Service | None:
    """The service running on this library with these settings, or None."""
    home = Path(home)
    try:
        info = json.loads((home / SERVICE_FILE).read_text())
        token = (home / TOKEN_FILE).read_text().strip()
    except (OSError, ValueError):
        return None
    if info.get("profile") != profile or (info.get("now") or None) != (now or None) or not token:
        return None
    pid = int(info.get("pid", 0))
    if pid <= 0 or not _alive(pid):
        return None
    return Service(url=str(info["url"]), token=token, pid=pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with a recycled id: not ours
        return False
    return True


__all__ = ["SERVICE_FILE", "Service", "ServiceError", "Unreachable", "announce", "find", "withdraw"]
