"""Crash safety: kill -9 the ingester at random moments, rerun, and every file is stored exactly once.

The CLI runs in a subprocess over ~8 real files; a seeded RNG picks when to kill it (1-15 s: during
start-up, model loading, decoding, or in the middle of a LanceDB write). After the kills, one run to
completion. LanceDB commits each append atomically and a file's media row is written after its
episodes (the commit marker), so the store must hold each file once, with no half-written file.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from _ingest_helpers import MEDIA, needs_media

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"

pytestmark = [needs_media, pytest.mark.slow]

FILES = [
    MEDIA / "audio" / "one_two_three_speechrecognition.wav",
    MEDIA / "audio" / "stereo_two_speakers_fasterwhisper.wav",
    MEDIA / "video" / "pool_vacuum_firstperson_narrated_mmaction2.avi",
    MEDIA / "video" / "ego4d_cooking_stir_pan_lavila.mp4",
    MEDIA / "photos" / "coffee_cup_skimage.png",
    SAMPLE / "IMG_20250614_081205.jpg",
    SAMPLE / "IMG_20250614_094230.jpg",
    SAMPLE / "REC_20250614_190500.m4a",
]
KILLS = 4


def _cli(home: Path, folder: Path) -> list[str]:
    return [sys.executable, "-m", "lifelog.cli", "--home", str(home), "ingest", str(folder), "--quiet"]


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_kill_nine_then_rerun_stores_each_file_once(tmp_path):
    import lifelog
    from ingest.hashing import file_hash

    folder = tmp_path / "roll"
    folder.mkdir()
    for f in FILES:
        shutil.copy(f, folder / f.name)
    hashes = {file_hash(folder / f.name): f.name for f in FILES}
    home = tmp_path / "home"
    rng = random.Random(20250614)
    killed_after: list[float] = []
    finished = 0
    # at least KILLS kills: a run that ends before its kill time (a quiet machine ingests the 8 files
    # in ~10 s) is simply a completed run, and the next kills land in start-up or in a no-op rerun
    for _ in range(4 * KILLS):
        if len(killed_after) >= KILLS:
            break
        # short delays: a quiet machine ingests these 8 files in ~10 s, and a kill must land before the end
        delay = rng.uniform(1.0, 6.0)
        proc = subprocess.Popen(_cli(home, folder), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=delay)
            finished += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)  # no clean-up of any kind: as a power cut would leave it
            proc.wait()
            killed_after.append(round(delay, 1))
    assert len(killed_after) >= KILLS, f"only {len(killed_after)} kills landed: {killed_after}"

    t0 = time.perf_counter()
    done = subprocess.run(_cli(home, folder), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "failed 0" in done.stdout, done.stdout
    rerun_s = time.perf_counter() - t0

    mem = lifelog.open(home)
    media = mem.store.all_media()
    ok = [m for m in media if m.status == "ok"]
    # every file exactly once: one ok row per content hash, and nothing else
    assert Counter(m.media_id for m in ok) == Counter(set(hashes)), (killed_after, [(m.path, m.status) for m in media])
    assert not [m for m in media if m.status != "ok"], [(m.path, m.error) for m in media if m.status != "ok"]
    assert {Path(m.path).name for m in ok} == {f.name for f in FILES}

    rows = mem.store.episodes(columns=["episode_id", "media_id", "scale", "parent_id"])
    ids = Counter(r["episode_id"] for r in rows)
    assert not [i for i, n in ids.items() if n > 1], "duplicated episodes after the crashes"
    ok_ids = {m.media_id for m in ok}
    assert {r["media_id"] for r in rows if r["media_id"]} == ok_ids  # every file has episodes, none is orphaned
    assert not [r for r in rows if r["scale"] == "segment" and r["media_id"] not in ok_ids]
    dangling = [r["episode_id"] for r in rows if r["parent_id"] and r["parent_id"] not in ids]
    assert not dangling, f"episodes whose parent is gone: {dangling[:5]}"
    # one session per file (a file's episodes were written once, all together)
    sessions = Counter(r["media_id"] for r in rows if r["scale"] == "session" and r["media_id"])
    audio_video = {h for h, name in hashes.items() if not name.endswith((".png", ".jpg"))}
    assert all(sessions[h] == 1 for h in audio_video), sessions

    # the answers work on the recovered store
    hits = mem.search("one two three")
    assert hits and Path(hits[0].path).name == "one_two_three_speechrecognition.wav", [(h.path, h.text[:60]) for h in hits[:3]]
    keys = mem.search("where did I leave my keys")
    assert keys and Path(keys[0].path).name == "REC_20250614_190500.m4a", [(h.path, h.text[:60]) for h in keys[:3]]
    print(f"killed after {killed_after} s ({finished} runs finished first); final run {rerun_s:.1f} s")
