"""The web server of `lifelog serve` and `lifelog ui`: an ASGI app (the HTTP API, and the gradio
page for `ui`) behind a guard that answers only requests made to this app, by this app's own pages,
and (when a token is on) by someone who holds the token.

- **Host check, always on.** A request whose `Host` header names anything but the address the app
  is served at is refused (403): a page on `evil.example` that re-points its DNS name at 127.0.0.1
  (DNS rebinding) gets neither `/config` nor an answer. Served on all interfaces (`0.0.0.0`), it
  answers at any of this machine's addresses and names, and `Served.url` is its network address.
- **Origin check, always on.** A request carrying an `Origin` that is not the app's own is refused:
  a page open on `http://localhost:3000` cannot call the API (gradio's own CORS rules allow any
  localhost origin; the guard runs before them).
- **Token.** Serving on anything but loopback needs one (`lifelog ui --host 0.0.0.0 --auth`): it is
  made once and kept in `<home>/ui-token` (mode 0600). `?token=...` once sets an HttpOnly,
  SameSite=Strict cookie and redirects to the clean address; scripts send `Authorization: Bearer`.
  Without it every request is 401.
- **The API's token, always.** Everything under `/api/` (but its OpenAPI page) needs
  `Authorization: Bearer <token>` with the token kept in `<home>/api-token` (0600), wherever it is
  served: any program of this user can read it, no web page can.

`serve` runs uvicorn in a thread and returns a `Served` whose `close()` stops it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from http import cookies
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
TOKEN_FILE = "ui-token"
API_TOKEN_FILE = "api-token"
API_PREFIX = "/api/"
API_OPEN = ("/api/docs", "/api/openapi.json")  # the API's description holds no library data
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
    return read_token(home, TOKEN_FILE)


def api_token(home: str | Path) -> str:
    """The API's token, made once and kept in `<home>/api-token`, readable by its owner only."""
    return read_token(home, API_TOKEN_FILE)


def read_token(home: str | Path, name: str) -> str:
    path = Path(home) / name
    try:
        text = path.read_text().strip()
        if text:
            os.chmod(path, 0o600)
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    tmp = path.with_name(f".{name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.replace(tmp, path)
    return token


WILDCARDS = {"0.0.0.0", "::"}


def allowed_hosts(host: str, port: int) -> set[str]:
    """The `Host` headers this app answers to by name: its own address (every loopback spelling of
    it on loopback; on all interfaces, this machine's names too, and any IP address: see `Guard`)."""
    names = {host}
    if is_loopback(host):
        names |= LOOPBACK_NAMES
    elif host in WILDCARDS:
        node = socket.gethostname()
        names |= LOOPBACK_NAMES | {node, socket.getfqdn(), f"{node.split('.')[0]}.local"}
    return {hp for name in names for hp in _with_port(name.lower(), port)}


def _with_port(name: str, port: int) -> set[str]:
    shown = f"[{name.strip('[]')}]" if ":" in name else name
    return {f"{shown}:{port}"} | ({shown} if port == 80 else set())


def _ip_literal(netloc: str, port: int) -> bool:
    """`netloc` is an IP address (not a name) and this app's port: `192.168.1.5:7860`, `[fe80::1]:7860`."""
    if netloc.startswith("["):
        addr, _, rest = netloc[1:].partition("]")
        if rest and not rest.startswith(":"):
            return False
        got = rest[1:]
    else:
        addr, _, got = netloc.partition(":")
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return False
    return (got or "80") == str(port)


def lan_address() -> str:
    """This machine's address on its network (the one its default route leaves from); no packet is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return socket.gethostname()


@dataclass
class Guard:
    """ASGI middleware: the Host, Origin and token checks (module doc) before anything else runs.

    `any_ip_port` (an app on all interfaces): a `Host` that is an IP address with this port is this
    machine too, whichever of its addresses the browser used. DNS rebinding needs the attacker's
    name in the `Host` header, so a bare address is never one.
    """

    app: ASGIApp
    hosts: set[str]
    token: str | None = None
    any_ip_port: int | None = None
    api_token: str | None = None  # for `/api/`: a Bearer header, always (None: no API is served)

    def host_ok(self, netloc: str) -> bool:
        netloc = netloc.lower()
        return netloc in self.hosts or (self.any_ip_port is not None and _ip_literal(netloc, self.any_ip_port))

    def origin_ok(self, origin: str) -> bool:
        """An `Origin` of this app's own pages; "null" (a sandboxed frame, a file) is not."""
        scheme, sep, netloc = origin.partition("://")
        return bool(sep) and scheme.lower() in ("http", "https") and "/" not in netloc and self.host_ok(netloc)

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not self.host_ok(headers.get("host", "")):
            return await _refuse(scope, send, 403, "This app answers only at its own address.")
        origin = headers.get("origin")
        if origin is not None and not self.origin_ok(origin):
            return await _refuse(scope, send, 403, "Requests from other sites are refused.")
        path = scope.get("path", "")
        if path.startswith(API_PREFIX) and path not in API_OPEN:
            if self.api_token is not None and _bearer(headers, self.api_token):
                return await self.app(scope, receive, send)
            return await _refuse(scope, send, 401, "The API needs its token: send Authorization: Bearer <the "
                                                    "token in <home>/api-token>.")
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
        if _bearer(headers, self.token or ""):
            return True
        jar = cookies.SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except cookies.CookieError:
            return False
        got = jar.get(COOKIE)
        return got is not None and secrets.compare_digest(got.value, self.token or "")


def _bearer(headers: dict[str, str], token: str) -> bool:
    auth = headers.get("authorization", "")
    return bool(token) and auth.lower().startswith("bearer ") and secrets.compare_digest(auth[7:].strip(), token)


async def _refuse(scope: Scope, send: Callable, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        return await send({"type": "websocket.close", "code": 1008})
    body = message.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Served:
    """A running server: its address, the gradio page (None without one), and `close()` (stops the
    server, runs `on_close`)."""

    url: str
    blocks: Any
    server: Any
    thread: threading.Thread
    on_close: Callable[[], None]
    token: str | None = None
    api_token: str | None = None
    _closed: bool = False

    @property
    def lifelog_context(self) -> Any:
        return self.blocks.lifelog_context

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C or a SIGTERM stops it), then clean up."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, interrupt)  # `kill`, a service manager: the staged copies go too
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
                if self.blocks is not None:
                    self.blocks.close()
            except Exception:  # noqa: BLE001 - gradio's own queue shutdown; the server is already gone
                pass
        finally:
            self.on_close()
        self._closed = True


def interrupt(signum: int, frame: Any) -> None:
    """A SIGTERM handler: stop as Ctrl-C does (clean-up included)."""
    raise KeyboardInterrupt


def serve(app: ASGIApp, blocks: Any, host: str, port: int, *, token: str | None,
          on_close: Callable[[], None], api_token: str | None = None) -> Served:
    """Run `app` behind the guard with uvicorn in a thread; returns once it accepts connections.
    Port 0 takes a free one (`Served.url` says which)."""
    import uvicorn

    if port == 0:
        with socket.socket() as s:
            s.bind((host if host not in WILDCARDS else "", 0))
            port = s.getsockname()[1]
    guarded = Guard(app, allowed_hosts(host, port), token, any_ip_port=port if host in WILDCARDS else None,
                    api_token=api_token)
    config = uvicorn.Config(guarded, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="lifelog-server", daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            server.should_exit = True
            raise OSError(f"the app could not start on {host}:{port} (is the port in use? choose another with --port)")
        time.sleep(0.05)
    # on all interfaces, the address other machines reach it at (it works here too)
    shown = lan_address() if host in WILDCARDS else host
    shown = f"[{shown}]" if ":" in shown else shown
    return Served(url=f"http://{shown}:{port}", blocks=blocks, server=server, thread=thread, on_close=on_close,
                  token=token, api_token=api_token)


__all__ = ["API_PREFIX", "COOKIE", "Guard", "Served", "allowed_hosts", "api_token", "check_exposure", "interrupt",
           "is_loopback", "lan_address", "read_token", "serve", "ui_token"]
