"""The app's web server: gradio mounted on our own ASGI app, behind a guard that answers only requests
made to this app, by this app's own pages, and (when a token is on) by someone who holds the token.

- **Host check, always on.** A request whose `Host` header names anything but the address the app
  is served at is refused (403): a page on `evil.example` that re-points its DNS name at 127.0.0.1
  (DNS rebinding) gets neither `/config` nor an answer.
- **Origin check, always on.** A request carrying an `Origin` that is not the app's own is refused:
  a page open on `http://localhost:3000` cannot call the API (gradio's own CORS rules allow any
  localhost origin; the guard runs before them).
- **Token.** Serving on anything but loopback needs one (`lifelog ui --host 0.0.0.0 --auth`): it is
  made once and kept in `<home>/ui-token` (mode 0600). `?token=...` once sets an HttpOnly,
  SameSite=Strict cookie and redirects to the clean address; scripts send `Authorization: Bearer`.
  Without it every request is 401.

`serve` runs uvicorn in a thread and returns a `Served` whose `close()` stops it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http import cookies
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
TOKEN_FILE = "ui-token"
COOKIE = "lifelog_token"

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, auth: bool) -> None:
    """Refuse to serve beyond this machine without a token: anyone on the network could read the library."""
    if not is_loopback(host) and not auth:
        raise PermissionError(f"serving on {host} makes the library reachable from other machines: add --auth "
                              "(a token is made and printed), or serve on 127.0.0.1")


def ui_token(home: str | Path) -> str:
    """The app's token, made once and kept in `<home>/ui-token`, readable by its owner only."""
    path = Path(home) / TOKEN_FILE
    try:
        text = path.read_text().strip()
        if text:
            os.chmod(path, 0o600)
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.replace(tmp, path)
    return token


def allowed_hosts(host: str, port: int) -> set[str]:
    """The `Host` headers this app answers to: its own address (every loopback spelling of it on
    loopback; on all interfaces, this machine's names and addresses)."""
    names = {host}
    if is_loopback(host):
        names |= LOOPBACK_NAMES
    elif host in ("0.0.0.0", "::"):
        names |= LOOPBACK_NAMES | {socket.gethostname(), socket.getfqdn()}
        try:
            names |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
        except OSError:
            pass
    out = set()
    for name in names:
        name = name.lower()
        shown = f"[{name}]" if ":" in name else name
        out |= {f"{shown}:{port}"} | ({shown} if port == 80 else set())
    return out


@dataclass
class Guard:
    """ASGI middleware: the Host, Origin and token checks (module doc) before anything else runs."""

    app: ASGIApp
    hosts: set[str]
    token: str | None = None
    origins: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.origins = {f"{scheme}://{h}" for h in self.hosts for scheme in ("http", "https")}

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if headers.get("host", "").lower() not in self.hosts:
            return await _refuse(scope, send, 403, "This app answers only at its own address.")
        origin = headers.get("origin")
        if origin and origin.lower() not in self.origins:  # "null" (a sandboxed frame, a file) too
            return await _refuse(scope, send, 403, "Requests from other sites are refused.")
        if self.token is None:
            return await self.app(scope, receive, send)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if scope["type"] == "http" and "token" in query:
            if not secrets.compare_digest(query["token"], self.token):
                return await _refuse(scope, send, 401, "Wrong token.")
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                                    (b"content-length", b"0")]})
            return await send({"type": "http.response.body", "body": b""})
        if self._has_token(headers):
            return await self.app(scope, receive, send)
        return await _refuse(scope, send, 401, "This app needs its token: open the address `lifelog ui` printed "
                                                "(…/?token=…), or send Authorization: Bearer <token>.")

    def _has_token(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and secrets.compare_digest(auth[7:].strip(), self.token or ""):
            return True
        jar = cookies.SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except cookies.CookieError:
            return False
        got = jar.get(COOKIE)
        return got is not None and secrets.compare_digest(got.value, self.token or "")


async def _refuse(scope: Scope, send: Callable, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        return await send({"type": "websocket.close", "code": 1008})
    body = message.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Served:
    """A running app: its address, the gradio page, and `close()` (stops the server, runs `on_close`)."""

    url: str
    blocks: Any
    server: Any
    thread: threading.Thread
    on_close: Callable[[], None]
    token: str | None = None
    _closed: bool = False

    @property
    def lifelog_context(self) -> Any:
        return self.blocks.lifelog_context

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C stops it), then clean up."""
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        """Stop serving and clean up; safe to call again (atexit does, in case a second Ctrl-C cut it short)."""
        if self._closed:
            return
        try:
            self.server.should_exit = True
            self.thread.join(10)
            try:
                self.blocks.close()
            except Exception:  # noqa: BLE001 - gradio's own queue shutdown; the server is already gone
                pass
        finally:
            self.on_close()
        self._closed = True


def serve(app: ASGIApp, blocks: Any, host: str, port: int, *, token: str | None,
          on_close: Callable[[], None]) -> Served:
    """Run `app` behind the guard with uvicorn in a thread; returns once it accepts connections."""
    import uvicorn

    guarded = Guard(app, allowed_hosts(host, port), token)
    config = uvicorn.Config(guarded, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="lifelog-ui-server", daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise OSError(f"the app could not start on {host}:{port} (is the port in use? choose another with --port)")
        time.sleep(0.05)
    shown = f"[{host}]" if ":" in host else host
    return Served(url=f"http://{shown}:{port}", blocks=blocks, server=server, thread=thread, on_close=on_close,
                  token=token)


__all__ = ["COOKIE", "Guard", "Served", "allowed_hosts", "check_exposure", "is_loopback", "serve", "ui_token"]
