"""The app's server on a real loopback port: the Host and Origin checks, the token, no analytics, and
the staging folder of linked private media removed when the app stops (or swept after a kill)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import lifelog
from ui.media import PID_FILE, STAGING_PREFIX, sweep_stale
from lifelog.webserve import Guard, allowed_hosts, check_exposure, lan_address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):  # noqa: ANN002, ANN003 - urllib's signature
        return None


def request(url: str, *, headers: dict | None = None, data: bytes | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) without following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-server") / "home"


@pytest.fixture(scope="module")
def served(home: Path):
    from ui.app import launch

    mem = lifelog.open(home, profile="tiny")
    app = launch(mem, host="127.0.0.1", port=free_port(), open_browser=False, prevent_thread_lock=True)
    yield app
    app.close()


def test_beyond_loopback_needs_a_token(home: Path) -> None:
    with pytest.raises(PermissionError, match="--auth"):
        check_exposure("0.0.0.0", auth=False)
    check_exposure("0.0.0.0", auth=True)
    check_exposure("127.0.0.1", auth=False)
    check_exposure("::1", auth=False)
    done = subprocess.run([str(Path(sys.executable).with_name("lifelog")), "--home", str(home), "--profile", "tiny", "ui",
                           "--host", "0.0.0.0", "--no-browser"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--auth" in done.stderr, done.stderr
    hosts = allowed_hosts("127.0.0.1", 7861)
    assert {"127.0.0.1:7861", "localhost:7861", "[::1]:7861"} <= hosts and "evil.example:7861" not in hosts


def test_on_all_interfaces_any_of_its_addresses_but_no_other_name() -> None:
    """Served on 0.0.0.0, the app answers at whichever of this machine's addresses a browser on the
    network used; a name it does not carry (DNS rebinding) is refused, addresses included in Origin."""
    guard = Guard(None, allowed_hosts("0.0.0.0", 7861), "t", any_ip_port=7861)
    for ok in ("192.168.1.5:7861", "[fe80::1]:7861", "127.0.0.1:7861", f"{socket.gethostname()}:7861"):
        assert guard.host_ok(ok) and guard.origin_ok(f"http://{ok}"), ok
    for bad in ("evil.example:7861", "192.168.1.5:7862", "192.168.1.5", "fe80::1:7861", "192.168.1.5.evil.example:7861"):
        assert not guard.host_ok(bad) and not guard.origin_ok(f"http://{bad}"), bad
    assert not guard.origin_ok("null") and not guard.origin_ok("http://localhost:3000")
    loopback = Guard(None, allowed_hosts("127.0.0.1", 7861))
    assert not loopback.host_ok("192.168.1.5:7861") and loopback.host_ok("LOCALHOST:7861")
    assert lan_address()


def test_own_host_works_and_a_foreign_host_gets_nothing(served) -> None:
    port = served.url.rsplit(":", 1)[1]
    for path in ("/", "/config", "/gradio_api/info"):
        assert request(served.url + path)[0] == 200, path
        assert request(served.url + path, headers={"Host": f"localhost:{port}"})[0] == 200, path
        status, _, body = request(served.url + path, headers={"Host": f"evil.example:{port}"})
        assert status == 403 and b"own address" in body, (path, status)
        # the right name on another port is another site too
        assert request(served.url + path, headers={"Host": "127.0.0.1:1"})[0] == 403


def test_analytics_are_off(served) -> None:
    config = json.loads(request(served.url + "/config")[2])
    assert config["analytics_enabled"] is False


def test_a_foreign_origin_cannot_call_the_api(served) -> None:
    body = json.dumps({"data": ["", None]}).encode()
    url = served.url + "/gradio_api/info"
    assert request(url, headers={"Origin": "http://localhost:3000"})[0] == 403
    assert request(url, headers={"Origin": "null"})[0] == 403
    assert request(url, headers={"Origin": served.url})[0] == 200
    status, _, _ = request(served.url + "/gradio_api/queue/join", data=body,
                           headers={"Origin": "http://localhost:3000", "Content-Type": "application/json"})
    assert status == 403


def test_the_token(tmp_path: Path) -> None:
    from ui.app import launch

    mem = lifelog.open(tmp_path / "home", profile="tiny")
    app = launch(mem, host="127.0.0.1", port=free_port(), open_browser=False, auth=True, prevent_thread_lock=True)
    try:
        token_file = tmp_path / "home" / "ui-token"
        assert app.token and token_file.read_text().strip() == app.token
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert request(app.url + "/config")[0] == 401
        assert request(app.url + "/config?token=wrong")[0] == 401
        assert request(app.url + "/config", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert request(app.url + "/config", headers={"Authorization": f"Bearer {app.token}"})[0] == 200
        status, headers, _ = request(f"{app.url}/?token={app.token}")
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert request(app.url + "/config", headers={"Cookie": cookie.split(";")[0]})[0] == 200
        # a foreign host is refused even with the token
        assert request(app.url + "/config", headers={"Authorization": f"Bearer {app.token}",
                                                     "Host": "evil.example"})[0] == 403
    finally:
        app.close()
    # the same token on the next launch
    app = launch(mem, host="127.0.0.1", port=free_port(), open_browser=False, auth=True, prevent_thread_lock=True)
    try:
        assert app.token == token_file.read_text().strip()
    finally:
        app.close()


def test_the_staging_folder_goes_when_the_app_stops(tmp_path: Path) -> None:
    from ui.app import launch

    mem = lifelog.open(tmp_path / "home", profile="tiny")
    app = launch(mem, host="127.0.0.1", port=free_port(), open_browser=False, prevent_thread_lock=True)
    root = app.lifelog_context.media.root
    assert root.is_dir() and root.name.startswith(STAGING_PREFIX) and root.parent == Path(tempfile.gettempdir()).resolve()
    (root / "media").mkdir()
    (root / "media" / "copy.jpg").write_bytes(b"private")
    app.close()
    assert not root.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(app.url + "/config", timeout=5)


def test_a_killed_apps_staging_folder_is_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{STAGING_PREFIX}stale"
    (stale / "media").mkdir(parents=True)
    (stale / PID_FILE).write_text(str(dead.pid))
    live = tmp_path / f"{STAGING_PREFIX}live"
    live.mkdir()
    (live / PID_FILE).write_text(str(os.getpid()))
    other = tmp_path / f"{STAGING_PREFIX}not-ours"
    (other / "notes").mkdir(parents=True)
    # an older app's folder (no owner written): ours by its layout, swept once a day old
    legacy, fresh = tmp_path / f"{STAGING_PREFIX}legacy", tmp_path / f"{STAGING_PREFIX}fresh"
    for folder in (legacy, fresh):
        (folder / "thumbs").mkdir(parents=True)
    old = time.time() - 2 * 24 * 3600
    os.utime(legacy, (old, old))
    assert sorted(sweep_stale(tmp_path)) == sorted([stale, legacy])
    assert not stale.exists() and not legacy.exists() and live.exists() and other.exists() and fresh.exists()
