"""The visual memory through the whole product: ingest a real video on the tiny profile (real
transformers SmolVLM code, random weights), then a visual-detail question reads it back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import lifelog
from lifelog import visual

pytestmark = pytest.mark.slow


def test_video_gets_a_visual_memory_the_agent_reads(shared_media: Path, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    shutil.copy(shared_media / "video" / "pour_coffee_blue_mug_sam2.mp4", folder)
    mem = lifelog.open(tmp_path / "home", profile="tiny", visual_budget_tokens=64)
    report = mem.ingest([folder])
    assert report.ingested == 1 and report.failed == []
    (media,) = mem.store.all_media("status = 'ok'")
    assert visual.has(mem.store, media.media_id)
    stored = visual.load(mem.store, media.media_id, model_id=mem.visual_encoder().model_id, budget=64)
    assert 0 < stored.n_tokens <= 64
    answer = mem.ask("what colour was the mug in the video?")
    rounds = [s for s in answer.steps if s.memory == "visual"]
    assert rounds and rounds[0].hits, answer.steps
    assert answer.citations and answer.citations[0].path.endswith("pour_coffee_blue_mug_sam2.mp4")
    # forgetting the file removes its visual memory too
    mem.forget(media.media_id)
    assert not visual.has(mem.store, media.media_id)


def test_bundled_profile_skips_visual_memory(tmp_path: Path) -> None:
    mem = lifelog.open(tmp_path / "home")
    assert mem.visual_encoder() is None
