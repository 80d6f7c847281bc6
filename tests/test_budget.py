"""The storage budget: over it, the oldest media's keyframes go first, then thumbnails, then visual
memory rows; the log says what went; text search and answers keep working.

The sample day is ingested once per module with the bundled models; each test works on a copy.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import lifelog
from lifelog import budget
from lifelog.db import VISUAL_TABLE, visual_schema

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"
GB = 1024 ** 3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("budget") / "home"
    report = lifelog.open(home).ingest([SAMPLE])
    assert report.ingested == 10 and not report.failed, report
    return home


def copy(base: Path, tmp_path: Path, budget_bytes: int | None) -> lifelog.Memory:
    home = tmp_path / "home"
    shutil.copytree(base, home)
    return lifelog.open(home, budget_gb=None if budget_bytes is None else budget_bytes / GB)


def oldest_first(mem: lifelog.Memory) -> list[str]:
    media = sorted(mem.store.all_media("status = 'ok'"), key=lambda m: (m.captured_at, m.media_id))
    return [m.media_id for m in media]


def keyframes(mem: lifelog.Memory, media_id: str) -> list[Path]:
    return sorted((mem.settings.thumbs_dir / media_id).glob("key_*.jpg"))


def test_a_tiny_overshoot_drops_the_oldest_keyframes_only(base: Path, tmp_path: Path) -> None:
    mem = copy(base, tmp_path, None)
    order = [m for m in oldest_first(mem) if keyframes(mem, m)]
    need = sum(f.stat().st_size for f in keyframes(mem, order[0]) + keyframes(mem, order[1]))
    used = budget.derived_bytes(mem.settings.home)
    mem = lifelog.open(mem.settings.home, budget_gb=(used - need + 1) / GB)  # the two oldest files' keyframes
    report = mem.enforce_budget()
    assert report is not None and report.fits and report.used_after <= report.budget_bytes
    assert [(d.what, d.media_id) for d in report.dropped] == [("keyframes", order[0]), ("keyframes", order[1])]
    assert not keyframes(mem, order[0]) and keyframes(mem, order[2])  # stopped as soon as it fitted
    assert (mem.settings.thumbs_dir / order[0] / "thumb.jpg").is_file()  # thumbnails only after every keyframe
    log = (mem.settings.home / "budget.log").read_text().splitlines()
    assert [line.split("\t")[1] for line in log] == ["keyframes", "keyframes"]
    assert [line.split("\t")[3] for line in log] == order[:2] and int(log[0].split("\t")[2]) > 0
    assert mem.enforce_budget().dropped == []  # it fits now: nothing more goes
    line = mem.budget_status().line()
    assert "dropped so far: 2 keyframes" in line and "budget.log" in line


def test_a_budget_below_the_database_keeps_text_and_answers(base: Path, tmp_path: Path) -> None:
    mem = copy(base, tmp_path, 1)  # one byte: every picture goes, the database stays
    report = mem.enforce_budget()
    whats = [d.what for d in report.dropped]
    assert whats == sorted(whats, key=["keyframes", "thumbnails"].index)  # every keyframe before any thumbnail
    with_pictures = [m for m in oldest_first(mem) if (base / "thumbs" / m).is_dir()]
    assert [d.media_id for d in report.dropped if d.what == "thumbnails"] == with_pictures  # oldest first
    assert not list(mem.settings.thumbs_dir.rglob("key_*.jpg")) and not list(mem.settings.thumbs_dir.rglob("thumb.jpg"))
    assert list(mem.settings.thumbs_dir.rglob("face_*.jpg"))  # face crops stay (the People tab)
    assert not report.fits and "over" in mem.budget_status().line()
    # text and vectors are never degraded
    hits = mem.search("pastel de nata")
    assert hits and "pastel" in hits[0].text.casefold()
    answer = mem.ask("where did I leave my keys?")
    assert not answer.abstained and "kitchen" in answer.text.casefold(), answer.text
    assert answer.citations and Path(answer.citations[0].path).name == "REC_20250614_190500.m4a"


def test_visual_memory_goes_last_and_leaves_the_disk(base: Path, tmp_path: Path) -> None:
    """Two fake 2 MB visual memories (the bundled profile has no VLM): after every picture, the older
    video's goes first, and is purged from the database's files."""
    mem = copy(base, tmp_path, None)
    order = oldest_first(mem)
    old, new = order[0], order[-1]
    rng = np.random.default_rng(0)

    def row(media_id: str) -> dict:
        blob = rng.integers(0, 256, 1_000_000, dtype=np.uint8).tobytes()  # incompressible
        return {"key": media_id, "media_id": media_id, "episode_id": "", "scope": "video", "start_s": 0.0,
                "end_s": 1.0, "model_id": "fake", "budget": 8, "n_layers": 1, "n_kv_heads": 1, "head_dim": 1,
                "dtype": "float16", "n_tokens": 1, "frames_seen": 1, "tokens_seen": 1, "next_position": 1,
                "positions_mode": "", "positions": [0], "token_times": [0.0], "frame_starts": [0.0],
                "frame_ends": [1.0], "keys": blob, "keys_shape": [500_000], "values": blob[::-1],
                "values_shape": [500_000], "created_at": datetime.now(timezone.utc)}

    mem.store.table(VISUAL_TABLE).add(pa.Table.from_pylist([row(old), row(new)], schema=visual_schema()))
    pictures = sum(f.stat().st_size for f in mem.settings.thumbs_dir.rglob("*.jpg") if not f.name.startswith("face"))
    used = budget.derived_bytes(mem.settings.home)
    mem = lifelog.open(mem.settings.home, budget_gb=(used - pictures - 1_200_000) / GB)
    report = mem.enforce_budget()
    visual = [d for d in report.dropped if d.what == "visual-memory"]
    assert [d.media_id for d in visual] == [old] and report.dropped[-1] is visual[0]
    assert report.fits, (report.used_after, report.budget_bytes)
    left = mem.store.table(VISUAL_TABLE).search().select(["media_id"]).to_list()
    assert [r["media_id"] for r in left] == [new]


def test_the_budget_runs_after_an_ingest_and_shows_in_status(base: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    from lifelog.cli import main

    home = copy(base, tmp_path, None).settings.home
    os.environ["LIFELOG_BUDGET_GB"] = str(1 / GB)
    try:
        assert main(["--home", str(home), "ingest", str(SAMPLE), "--quiet"]) == 0  # all known: only the budget acts
        out = capsys.readouterr().out
        assert "already known 10" in out and "Over the storage budget" in out and "budget.log" in out
        assert main(["--home", str(home), "status"]) == 0
        out = capsys.readouterr().out
        assert "Budget:" in out and "keyframes" in out and "thumbnails" in out and "dropped so far" in out
    finally:
        del os.environ["LIFELOG_BUDGET_GB"]
    assert not list((home / "thumbs").rglob("key_*.jpg"))
