"""Pulling hub models: offline it fails fast, names the model and leaves nothing behind."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from models.pull import PullError, pull_profile, pull_spec
from models.registry import ModelNotAvailableError, get_spec


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connecting is refused


@pytest.fixture
def hub_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo conftest's HF_HUB_OFFLINE for tests that talk to a local stand-in for the hub."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() or (p.is_dir() and any(p.iterdir()))]


def test_full_profile_offline_fails_fast_and_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    t0 = time.perf_counter()
    with pytest.raises(PullError) as info:
        pull_profile("full", tmp_path)
    assert time.perf_counter() - t0 < 15
    msg = str(info.value)
    for name, repo in [("whisper-small-ct2", "Systran/faster-whisper-small"),
                       ("qwen2.5-1.5b-instruct-q4", "Qwen/Qwen2.5-1.5B-Instruct-GGUF")]:
        assert name in msg and repo in msg
    assert "no network?" in msg and "LIFELOG_MODEL_SPEECH=" in msg
    assert isinstance(info.value, ModelNotAvailableError) and isinstance(info.value, RuntimeError)
    assert _leftovers(tmp_path) == []


def test_bundled_profile_has_nothing_to_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")  # must not even try
    results = pull_profile("bundled", tmp_path)
    by_role = {r.role: r for r in results}
    assert by_role["speech"].status == "ready" and by_role["llm"].status == "ready"
    assert by_role["caption"].status == "none"
    assert {r.status for r in results} <= {"ready", "none", "missing"}
    assert _leftovers(tmp_path) == []


class _Broken(BaseHTTPRequestHandler):
    # 404, not 500: huggingface_hub retries 5xx with backoff for ~20 s
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


def test_failed_download_removes_partial_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_allowed: None) -> None:
    # a reachable endpoint that has no such file: the partial download folder must disappear
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        t0 = time.perf_counter()
        with pytest.raises(PullError, match="qwen2.5-1.5b-instruct-q4") as info:
            pull_spec(get_spec("qwen2.5-1.5b-instruct-q4"), tmp_path, timeout=3)
        assert time.perf_counter() - t0 < 30
        assert "LIFELOG_MODEL_LLM=" in str(info.value) and "offline" not in str(info.value).lower()
    finally:
        server.shutdown()
        server.server_close()
    assert _leftovers(tmp_path) == []
    assert not get_spec("qwen2.5-1.5b-instruct-q4").availability(tmp_path)[0]


class _FakeHub(BaseHTTPRequestHandler):
    """Just enough of the hub's resolve endpoint for hf_hub_download: plumbing, not a model."""

    body = b"GGUF not really weights"

    def _reply(self, with_body: bool) -> None:
        if "/resolve/" not in self.path:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"0123abcd"')
        self.send_header("X-Repo-Commit", "0" * 40)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(self.body)

    def do_GET(self) -> None:  # noqa: N802
        self._reply(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._reply(False)

    def log_message(self, *args: object) -> None:
        pass


def test_pull_lands_atomically_with_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_allowed: None) -> None:
    from models.llm import gguf_path

    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec = get_spec("qwen2.5-1.5b-instruct-q4")
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        lines: list[str] = []
        result = pull_spec(spec, tmp_path, timeout=3, progress=lines.append)
    finally:
        server.shutdown()
        server.server_close()
    assert result.status == "pulled" and result.path == spec.cache_path(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.name]  # no .partial-* left
    assert (result.path / ".complete").is_file()
    assert spec.availability(tmp_path)[0]
    assert gguf_path(spec, tmp_path).read_bytes() == _FakeHub.body
    assert any("pulled" in line for line in lines)
    # pulled before: nothing to do, even offline
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert pull_spec(spec, tmp_path).status == "ready"


def test_offline_mode_is_named(tmp_path: Path) -> None:
    # conftest sets HF_HUB_OFFLINE=1: a pull must say that this, not the network, stops it
    with pytest.raises(PullError, match="HF_HUB_OFFLINE"):
        pull_spec(get_spec("whisper-small-ct2"), tmp_path)
    assert _leftovers(tmp_path) == []


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        pull_profile("huge", Path("."))
