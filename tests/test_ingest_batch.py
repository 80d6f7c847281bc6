"""Batch ingestion through `lifelog.open(home).ingest`: idempotent, incremental, resumable.

- a second run over the same folder does no model work (checked in a fresh process: no model is
  loaded at all) and takes seconds;
- a renamed or moved file is recognised by its content: not re-ingested, its path updated;
- a changed file (same path, other bytes) replaces its old episodes;
- the `stop` event ends a batch between files, and the next run continues where it stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from _ingest_helpers import MEDIA, needs_media

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"

pytestmark = [needs_media, pytest.mark.slow]

SECOND_RUN = """
import json, sys, time
import lifelog, models
t0 = time.perf_counter()
report = lifelog.open(sys.argv[1]).ingest([sys.argv[2]])
print(json.dumps({"seconds": time.perf_counter() - t0, "ingested": report.ingested, "skipped": report.skipped,
                  "moved": report.moved, "failed": report.failed, "timings": report.timings, "loaded": models.loaded()}))
"""


def _rerun(home: Path, folder: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", SECOND_RUN, str(home), str(folder)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _media(mem) -> dict[str, object]:
    return {m.media_id: m for m in mem.store.all_media("status = 'ok'")}


@pytest.fixture
def roll(tmp_path: Path) -> Path:
    folder = tmp_path / "roll"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(MEDIA / "audio" / "one_two_three_speechrecognition.wav", folder / "voice.wav")
    shutil.copy(MEDIA / "photos" / "coffee_cup_skimage.png", folder / "sub" / "coffee.png")
    shutil.copy(SAMPLE / "IMG_20250614_081205.jpg", folder / "cat.jpg")
    shutil.copy(MEDIA / "video" / "ego4d_cooking_stir_pan_lavila.mp4", folder / "pan.mp4")
    return folder


def test_second_run_moves_and_changes(roll, tmp_path):
    import lifelog

    home = tmp_path / "home"
    mem = lifelog.open(home)
    first = mem.ingest([roll])
    assert first.ingested == 4 and not first.failed, first.failed
    before = _media(mem)

    # the same folder again, in a fresh process: nothing loaded, nothing computed, seconds
    again = _rerun(home, roll)
    assert again["ingested"] == 0 and again["skipped"] == 4 and not again["failed"], again
    assert again["loaded"] == [], f"the second run loaded models: {again['loaded']}"
    assert again["timings"] == {}
    assert again["seconds"] < 10, again

    # renamed and moved: recognised by content, only the path changes
    (roll / "voice.wav").rename(roll / "sub" / "renamed voice.wav")
    moved = _rerun(home, roll)
    assert moved["ingested"] == 0 and moved["moved"] == 1 and moved["loaded"] == [], moved
    mem = lifelog.open(home)
    after = _media(mem)
    assert after.keys() == before.keys()
    wav = next(m for m in after.values() if m.kind == "audio")
    assert wav.path == str((roll / "sub" / "renamed voice.wav").absolute())
    hits = mem.search("one two three")
    assert hits and hits[0].path == wav.path

    # changed in place: the old content's episodes are replaced by the new content's
    old_id = next(i for i, m in after.items() if Path(m.path).name == "coffee.png")
    shutil.copy(MEDIA / "photos" / "cat_chelsea_skimage.png", roll / "sub" / "coffee.png")
    changed = mem.ingest([roll])
    assert changed.ingested == 1 and changed.skipped == 3, changed
    now = _media(mem)
    assert old_id not in now and len(now) == 4
    new = next(m for m in now.values() if Path(m.path).name == "coffee.png")
    assert not mem.store.episodes(f"media_id = '{old_id}'"), "the old content's episodes are still there"
    rows = mem.store.episodes(f"media_id = '{new.media_id}' AND scale = 'segment'")
    assert rows and any("cat" in " ".join(r["tags"]).lower() for r in rows), [r["tags"] for r in rows]
    assert not any("espresso" in " ".join(r["tags"]).lower() for r in rows)
    rows = mem.store.episodes(columns=["episode_id", "media_id"])
    assert {r["media_id"] for r in rows if r["media_id"]} == set(now)


def test_stop_between_files_then_continue(roll, tmp_path):
    import lifelog

    for n in range(3):  # a few more files, so a stop lands well before the end
        shutil.copy(SAMPLE / f"IMG_20250614_08120{5 + n}.jpg", roll / f"burst_{n}.jpg")
    shutil.copy(SAMPLE / "REC_20250614_211000.m4a", roll / "beach.m4a")
    mem = lifelog.open(home := tmp_path / "home", workers=1)
    stop = threading.Event()
    seen = []

    def progress(p) -> None:
        seen.append(p.files_done)
        stop.set()  # after the first file: the batch must end before starting another

    first = mem.ingest([roll], progress=progress, stop=stop)
    assert seen == [1] and first.ingested == 1 and not first.failed, (seen, first)
    stored = _media(mem)
    assert len(stored) == 1

    rest = mem.ingest([roll])
    # burst_0.jpg is a byte copy of cat.jpg: the copy is skipped as known content, its path kept
    assert (rest.ingested, rest.skipped, rest.moved) == (6, 2, 0) and not rest.failed, rest
    after = _media(lifelog.open(home))
    assert set(stored) <= set(after) and len(after) == 7
    assert sorted(Path(m.path).name for m in after.values()) == sorted(
        ["beach.m4a", "burst_0.jpg", "burst_1.jpg", "burst_2.jpg", "pan.mp4", "coffee.png", "voice.wav"])
