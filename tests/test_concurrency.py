"""One writer at a time, readers that never see half a write, across processes.

Real CLI processes over one library: two ingests at once; searches, asks and new `lifelog.open`s
while an ingest writes; a long-lived reader (the app) that must see what a CLI ingest wrote; and a
full disk on a small tmpfs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from _library import ROOT, cli, duplicates, env, run, sample_folder, snapshot, start

pytestmark = pytest.mark.slow


def test_two_ingests_at_once_store_each_file_once(tmp_path: Path) -> None:
    folder = sample_folder(tmp_path)
    home = tmp_path / "home"
    first = start(home, "ingest", str(folder), "--quiet")
    time.sleep(1.0)
    second = start(home, "ingest", str(folder), "--quiet")
    for proc in (first, second):
        assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
    got = snapshot(home)
    files = sorted(p.name for p in folder.iterdir())
    assert sorted(name for _, status, name in got["media"] if status == "ok") == files
    assert len(got["media"]) == len(files), got["media"]
    assert got["episode_ids"] == [], "episodes stored twice"
    assert duplicates(got["things"]) == [] and duplicates(got["visits"]) == []
    assert duplicates([f for f, _ in got.get("faces", [])]) == []
    # and it equals one ingest alone
    alone = tmp_path / "alone"
    assert run(alone, "ingest", str(folder), "--quiet").returncode == 0
    want = snapshot(alone)
    # on a difference, the rows that differ (not a truncated repr of the whole library)
    differ = {k: (sorted(set(got[k]) - set(want[k]))[:3], sorted(set(want[k]) - set(got[k]))[:3])
              if isinstance(got.get(k), list) and isinstance(want.get(k), list) else (got.get(k), want.get(k))
              for k in set(got) | set(want) if got.get(k) != want.get(k)}
    assert got == want, differ


def test_readers_during_an_ingest_lose_nothing_and_never_fail(tmp_path: Path) -> None:
    import lifelog

    folder = sample_folder(tmp_path)
    home = tmp_path / "home"
    assert run(home, "status").returncode == 0  # an empty library exists
    app = lifelog.open(home)  # a long-lived reader, like the app: it must see the CLI's writes
    writer = start(home, "ingest", str(folder), "--quiet")
    calls, failures, seen = 0, [], set()
    asks = []
    while writer.poll() is None:
        try:
            fresh = lifelog.open(home)  # what a new `lifelog status` or `search` does on start
            fresh.status()
            seen |= {h.media_id for h in fresh.search("keys kitchen table", min_score=None)}
            app.search("tram viewpoint")
            calls += 3
        except Exception as e:  # noqa: BLE001 - any failure of a reader is the finding
            failures.append(repr(e))
        if len(asks) < 2 and calls > 6 * (len(asks) + 1):
            asks.append(subprocess.Popen(cli(home, "ask", "where did I leave my keys?"), cwd=ROOT, env=env(),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        time.sleep(0.2)
    assert writer.returncode == 0, writer.stderr.read().decode()[-2000:] if writer.stderr else ""
    for proc in asks:
        out, err = proc.communicate(timeout=300)
        calls += 1
        if proc.returncode != 0:
            failures.append(err.decode()[-500:])
    assert failures == [], f"{len(failures)} of {calls} reader calls failed: {failures[:3]}"
    assert calls >= 6
    store = lifelog.open(home).store
    ok = store.all_media("status = 'ok'")
    assert len(ok) == len(list(folder.iterdir()))
    for m in ok:  # no file lost its episodes to a reader's clean-up
        assert store.episodes(f"media_id = '{m.media_id}' AND scale = 'segment'", columns=["episode_id"]), m.path
    # the long-lived reader sees the ingest without reopening
    assert app.status().media_by_kind == lifelog.open(home).status().media_by_kind
    assert any(Path(h.path).name.startswith("REC_20250614_1905") for h in app.search("where did I leave my keys"))


def _mount_tmpfs(where: Path, size: str) -> str | None:
    where.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount"):
        return "no mount command"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    return None if r.returncode == 0 else f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); needs root"


def test_a_full_disk_gives_a_clear_message_and_a_readable_store(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    why = _mount_tmpfs(mnt, "24m")
    if why:
        pytest.skip(why)
    try:
        folder = sample_folder(tmp_path)
        home = mnt / "home"
        photos = sorted(folder.glob("IMG_*.jpg"))
        first = tmp_path / "first"
        first.mkdir()
        for p in photos[:2]:
            shutil.move(str(p), first / p.name)
        assert run(home, "ingest", str(first), "--quiet").returncode == 0
        # fill the disk, leaving a little room: the next ingest runs out of it part-way
        filler = mnt / "filler"
        free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 300_000))
        full = run(home, "ingest", str(folder), "--quiet")
        assert full.returncode != 0
        assert "disk is full" in full.stderr and "Traceback" not in full.stderr, full.stderr[-2000:]
        status = run(home, "status")  # reading works while the disk is full
        assert status.returncode == 0, status.stderr[-2000:]
        hits = run(home, "search", "photo")
        assert hits.returncode == 0, hits.stderr[-2000:]
        filler.unlink()
        again = run(home, "ingest", str(folder), "--quiet")
        assert again.returncode == 0, again.stderr[-2000:]
        got = snapshot(home)
        assert sorted(name for _, status, name in got["media"] if status == "ok") == sorted(
            [p.name for p in first.iterdir()] + [p.name for p in folder.iterdir()])
        assert got["episode_ids"] == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
