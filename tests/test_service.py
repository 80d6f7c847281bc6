"""`lifelog serve` as a user runs it: a real process on loopback over a library it ingested itself
through the API (as a job, with progress), then the CLI sending its questions there.

The sample day's media with the bundled models: the voice note at 19:05 says where the keys are,
between its first and ninth second; the video says the tram is full at 4.7 s.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"
FILES = ["REC_20250614_190500.m4a", "VID_20250614_103000.mp4", "IMG_20250614_094112.jpg"]
NOW = "2025-06-15T10:00:00+01:00"
LIFELOG = str(Path(sys.executable).with_name("lifelog"))


def env(**extra: str) -> dict[str, str]:
    return dict(os.environ, LIFELOG_NOW=NOW, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)


def call(url: str, path: str, body: dict | None = None, *, token: str | None, host: str | None = None,
         method: str | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if host:
        headers["Host"] = host
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 headers=headers, method=method or ("POST" if body is not None else "GET"))
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            return r.status, json.loads(raw) if r.headers.get("content-type", "").startswith("application/json") else raw
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    """A running `lifelog serve` on an empty library, then the sample files ingested through the API."""
    tmp = tmp_path_factory.mktemp("service")
    home, media = tmp / "home", tmp / "media"
    media.mkdir()
    for name in FILES:
        shutil.copyfile(SAMPLE / name, media / name)
    proc = subprocess.Popen([LIFELOG, "--home", str(home), "serve", "--port", "0"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (home / "service.json").exists():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.time() < deadline, "the service did not announce itself"
            time.sleep(0.2)
        info = json.loads((home / "service.json").read_text())
        token = (home / "api-token").read_text().strip()
        assert oct((home / "api-token").stat().st_mode & 0o777) == "0o600"
        url = info["url"]
        status, job = call(url, "/api/ingest", {"paths": [str(media)]}, token=token)
        assert status == 202, job
        seen_progress = False
        while True:
            status, job = call(url, f"/api/jobs/{job['job_id']}", token=token)
            assert status == 200, job
            seen_progress |= "progress" in job
            if not job["running"]:
                break
            time.sleep(0.5)
        assert job["error"] == "" and job["report"]["ingested"] == 3, job
        assert seen_progress and job["progress"]["files_done"] == 3
        yield url, token, home, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_an_answer_cites_the_right_file_and_second(service) -> None:
    url, token, _, _ = service
    status, answer = call(url, "/api/ask", {"question": "where did I leave my keys?"}, token=token)
    assert status == 200, answer
    assert "kitchen table" in answer["text"] and not answer["abstained"]
    cite = answer["citations"][0]
    assert Path(cite["path"]).name == "REC_20250614_190500.m4a"
    assert cite["start_s"] < 2 and 6 < cite["end_s"] < 12, cite
    assert cite["local_time"].startswith("2025-06-14T19:05") and cite["local_time"].endswith("+01:00")
    assert "Lisbon" in cite["place"]
    # the cited file is served by its media id, whole or by byte range
    status, body = call(url, cite["media_url"], token=token)
    assert status == 200 and body == (SAMPLE / "REC_20250614_190500.m4a").read_bytes()
    req = urllib.request.Request(url + cite["media_url"], headers={"Authorization": f"Bearer {token}",
                                                                   "Range": "bytes=0-99"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 206 and len(r.read()) == 100
    # a spoken moment inside a video: the span that holds it (said at 4.7 s)
    status, answer = call(url, "/api/ask", {"question": "how full was the tram?"}, token=token)
    cite = answer["citations"][0]
    assert Path(cite["path"]).name == "VID_20250614_103000.mp4" and cite["start_s"] <= 4.7 <= cite["end_s"], answer


def test_search_browse_status_and_bad_requests(service) -> None:
    url, token, _, _ = service
    status, hits = call(url, "/api/search", {"text": "keys", "kinds": ["audio"], "after": "2025-06-14",
                                             "before": "2025-06-14"}, token=token)
    assert status == 200 and Path(hits[0]["path"]).name == "REC_20250614_190500.m4a"
    # a kind of the thing named: the tagger's "espresso" is coffee (WordNet), far from it in meaning
    status, hits = call(url, "/api/search", {"text": "a cup of coffee"}, token=token)
    assert status == 200 and Path(hits[0]["path"]).name == "IMG_20250614_094112.jpg", hits
    assert all("espresso" in h["tags"] for h in hits)
    status, hits = call(url, "/api/search", {"text": "keys", "after": "2025-06-15"}, token=token)
    assert status == 200 and hits == []  # the next day holds nothing
    status, day = call(url, "/api/browse?day=yesterday", token=token)  # 14 June, as LIFELOG_NOW says
    assert status == 200 and day["day"] == "2025-06-14" and len(day["episodes"]) == 3
    status, s = call(url, "/api/status", token=token)
    assert status == 200 and s["media_by_kind"] == {"audio": 1, "photo": 1, "video": 1}
    status, msg = call(url, "/api/browse?day=Junember", token=token)
    assert status == 422 and "not a date" in msg
    status, msg = call(url, "/api/ask", {"question": "  "}, token=token)
    assert status == 422 and "empty question" in msg
    status, msg = call(url, "/api/media/not-a-media-id", token=token)
    assert status == 404
    status, _ = call(url, "/api/openapi.json", token=None)  # the description holds no library data
    assert status == 200
    status, page = call(url, "/api/docs", token=None)
    # self-contained: no script or style fetched from elsewhere (FastAPI's own page loads Swagger UI from a CDN)
    assert status == 200 and b"POST /api/ask" in page and b"<script" not in page and b"cdn" not in page.lower()


def test_forget_lists_first_and_people_answer(service) -> None:
    url, token, home, _ = service
    video = str(home.parent / "media" / "VID_20250614_103000.mp4")
    status, out = call(url, "/api/forget", {"paths": [video]}, token=token)  # a dry run unless told
    assert status == 200 and out["dry_run"] and out["files"] == [video] and out["episodes"] > 0, out
    status, s = call(url, "/api/status", token=token)
    assert s["media_by_kind"]["video"] == 1  # nothing changed
    status, out = call(url, "/api/forget", {"after": "2025-06-14"}, token=token)
    assert status == 422 and "before" in out
    status, people = call(url, "/api/people", token=token)
    assert status == 200 and [p for p in people if p["faces"]] == []  # no face in these three files
    status, out = call(url, "/api/who?name=Sam", token=token)
    assert status == 422 and "no one called" in out


def test_no_token_no_foreign_host_no_foreign_origin(service) -> None:
    url, token, _, _ = service
    port = url.rsplit(":", 1)[1]
    for path in ("/api/status", "/api/media/x"):
        assert call(url, path, token=None)[0] == 401
        assert call(url, path, token="wrong")[0] == 401
    assert call(url, "/api/ask", {"question": "where are my keys"}, token=None)[0] == 401
    # DNS rebinding: the attacker's name in Host, even with the right token
    assert call(url, "/api/status", token=token, host=f"evil.example:{port}")[0] == 403
    req = urllib.request.Request(url + "/api/status", headers={"Authorization": f"Bearer {token}",
                                                               "Origin": "http://localhost:3000"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 403


def test_the_cli_gives_the_same_answer_with_and_without_the_service(service) -> None:
    _, _, home, proc = service
    for args in (["ask", "where did I leave my keys?"], ["ask", "what did I drink at the cafe?", "--json"],
                 ["search", "tram", "--limit", "3"], ["status"]):
        via = subprocess.run([LIFELOG, "--home", str(home), *args], env=env(), capture_output=True, text=True,
                             timeout=300)
        alone = subprocess.run([LIFELOG, "--home", str(home), *args, "--local"], env=env(), capture_output=True,
                               text=True, timeout=300)
        assert via.returncode == alone.returncode == 0, (via.stderr, alone.stderr)
        if "--json" in args:  # the time the agent took differs, nothing else
            a, b = json.loads(via.stdout), json.loads(alone.stdout)
            a.pop("seconds"), b.pop("seconds")
            assert a == b
        else:
            assert via.stdout == alone.stdout, args
    # another reference time than the service's: the CLI works in-process rather than answer for another day
    other = subprocess.run([LIFELOG, "--home", str(home), "--now", "2025-06-20T10:00:00+01:00", "ask",
                            "what did I say yesterday?"], env=env(), capture_output=True, text=True, timeout=300)
    assert other.returncode == 0 and "REC_20250614" not in other.stdout, other.stdout


def test_a_dead_service_is_passed_over(tmp_path: Path, service) -> None:
    """A service.json left by a killed service (its process gone): the CLI answers in-process."""
    _, _, home, _ = service
    copy = tmp_path / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("*.lock"))
    dead = subprocess.Popen(["true"])
    dead.wait()
    info = json.loads((copy / "service.json").read_text())
    (copy / "service.json").write_text(json.dumps(dict(info, pid=dead.pid)))
    done = subprocess.run([LIFELOG, "--home", str(copy), "ask", "where did I leave my keys?"], env=env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "kitchen table" in done.stdout, done.stderr[-2000:]


def test_stopping_withdraws_the_announcement(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([LIFELOG, "--home", str(home), "serve", "--port", "0"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (home / "service.json").exists():
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert not (home / "service.json").exists()
    refused = subprocess.run([LIFELOG, "--home", str(home), "serve", "--host", "0.0.0.0"], env=env(),
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--auth" in refused.stderr


def test_a_cli_ingest_lands_in_the_running_service(tmp_path: Path, service) -> None:
    """Another process writes (a CLI ingest, under the writer lock); the service sees the file at once."""
    url, token, home, _ = service
    shutil.copyfile(SAMPLE / "REC_20250614_211000.m4a", tmp_path / "REC_20250614_211000.m4a")
    status, hits = call(url, "/api/search", {"text": "evening at the beach", "kinds": ["audio"]}, token=token)
    assert status == 200 and all(Path(h["path"]).name != "REC_20250614_211000.m4a" for h in hits)
    done = subprocess.run([LIFELOG, "--home", str(home), "ingest", str(tmp_path), "--quiet"], env=env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "Ingested 1" in done.stdout, done.stderr[-2000:]
    status, hits = call(url, "/api/search", {"text": "evening at the beach", "kinds": ["audio"]}, token=token)
    assert status == 200 and Path(hits[0]["path"]).name == "REC_20250614_211000.m4a", hits
