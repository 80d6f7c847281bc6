"""StreamMem visual memory on the tiny profile: the real transformers SmolVLM code path, random weights.

A real clip (a blue mug being filled with coffee) is sampled at 1 fps, streamed into a compressed KV
memory, stored in LanceDB, read back in another process, and asked a question. With random weights
the answer's words mean nothing; what is checked is the machinery: sizes, round trips, errors.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # torch before decord/cv2 users (see ingest/video.py)

import models  # noqa: E402
from models.streammem import SKIP_MESSAGE, StreamMemEncoder, VisualMemoryError, load_vlm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "video" / "pour_coffee_blue_mug_sam2.mp4"
needs_clip = pytest.mark.skipif(not CLIP.is_file(), reason=f"real test clip not found at {CLIP} (../shared/media)")
BUDGET = 96

pytestmark = [pytest.mark.slow, needs_clip]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # tiny matrices: one thread is as fast, and immune to other processes crowding the cores
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def clip_frames() -> tuple[list[np.ndarray], list[float]]:
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames, times, i = [], [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % round(fps) == 0:  # 1 fps, as ingestion samples
            frames.append(cv2.cvtColor(cv2.resize(bgr, (320, 180), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
            times.append(i / fps)
        i += 1
    cap.release()
    assert len(frames) >= 8, f"{CLIP} gave only {len(frames)} frames at 1 fps"
    return frames, times


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def encoder(cache_dir) -> StreamMemEncoder:
    vlm = load_vlm(models.resolve("caption", "tiny"), cache_dir)
    return StreamMemEncoder(vlm, budget_tokens=BUDGET, chunk_frames=4)


@pytest.fixture(scope="module")
def memory(encoder, clip_frames):
    frames, times = clip_frames
    return encoder.encode(frames, times)


def looped(clip_frames, times_over: int):
    frames, times = clip_frames
    length = times[-1] + 1.0
    return frames * times_over, [t + k * length for k in range(times_over) for t in times]


def test_memory_stays_at_budget_for_longer_video(encoder, clip_frames, memory):
    frames, times = clip_frames
    per_token = encoder.kv_bytes_per_token()
    full = encoder.full_cache(frames, times)
    assert full.budget == 0 and full.n_tokens > BUDGET  # one pass of the clip already overflows the budget
    assert memory.n_tokens <= BUDGET
    assert memory.keys.dtype == torch.float16 and memory.keys.shape == (
        encoder.n_layers, encoder.n_kv_heads, memory.n_tokens, encoder.head_dim)
    sizes = {}
    for k in (2, 4):
        f, t = looped(clip_frames, k)
        m = encoder.encode(f, t)
        assert m.frames_seen == len(f)
        sizes[k] = (m.n_tokens, m.nbytes)
        # memory holds tokens from across the whole stream, not only the last chunk
        assert min(m.times) <= times[1] and max(m.times) >= t[-len(frames)]
        assert m.frame_spans[-1][1] == pytest.approx(t[-1])
    assert sizes[2] == sizes[4] == (BUDGET, BUDGET * per_token)
    full4 = encoder.kv_bytes_per_token() * (full.n_tokens * 4)
    assert sizes[4][1] < full4 / 8


def test_answer_returns_text_and_vocab_logits(encoder, memory):
    text, logits = encoder.answer(memory, "What colour is the mug?", max_new_tokens=6)
    assert isinstance(text, str)
    vocab = encoder.model.config.text_config.vocab_size
    assert logits.shape == (vocab,) and torch.isfinite(logits).all()
    # deterministic: the same memory gives the same distribution
    _, again = encoder.answer(memory, "What colour is the mug?", max_new_tokens=0)
    assert torch.equal(logits, again)


def _store(path: Path):
    from lifelog.store import Store, VectorColumn

    return Store(path, VectorColumn("text_vector", "test-text", 4), VectorColumn("image_vector", "test-image", 4))


def test_store_load_in_new_process_identical(tmp_path, encoder, memory):
    from lifelog import visual

    db = tmp_path / "db"
    store = _store(db)
    visual.save(store, "clip-1", memory, media_id="clip-1", scope="video")
    np.savez(tmp_path / "expected.npz", keys=memory.keys.numpy(), values=memory.values.numpy(),
             positions=memory.positions, token_times=memory.token_times)
    script = f"""
import json, sys, numpy as np, torch
from lifelog.store import Store, VectorColumn
from lifelog import visual
store = Store({str(db)!r}, VectorColumn("text_vector", "test-text", 4), VectorColumn("image_vector", "test-image", 4))
m = visual.load(store, "clip-1", model_id={memory.model_id!r}, budget={BUDGET})
e = np.load({str(tmp_path / "expected.npz")!r})
print(json.dumps({{
    "keys": bool(np.array_equal(m.keys.numpy(), e["keys"])) and m.keys.dtype == torch.float16,
    "values": bool(np.array_equal(m.values.numpy(), e["values"])),
    "positions": bool(np.array_equal(m.positions, e["positions"])),
    "times": bool(np.array_equal(m.token_times, e["token_times"])),
    "layout": list(m.layout), "n_tokens": m.n_tokens, "spans": m.frame_spans,
}}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["keys"] and got["values"] and got["positions"] and got["times"]
    assert got["layout"] == list(memory.layout) and got["n_tokens"] == memory.n_tokens
    assert [tuple(s) for s in got["spans"]] == memory.frame_spans

    loaded = visual.load(store, "clip-1", model_id=memory.model_id, budget=BUDGET)
    _, a = encoder.answer(memory, "Was the stove on?", max_new_tokens=0)
    _, b = encoder.answer(loaded, "Was the stove on?", max_new_tokens=0)
    assert torch.equal(a, b)

    with pytest.raises(VisualMemoryError, match="smolvlm2-500m-video"):
        visual.load(store, "clip-1", model_id="smolvlm2-500m-video", budget=BUDGET)
    with pytest.raises(VisualMemoryError, match=r"compressed to 96 tokens .* budget is 512"):
        visual.load(store, "clip-1", model_id=memory.model_id, budget=512)
    with pytest.raises(KeyError, match="no visual memory"):
        visual.load(store, "other", model_id=memory.model_id, budget=BUDGET)


def test_ingest_and_ask_visual_tiny_profile(tmp_path, clip_frames, encoder):
    import lifelog
    from ingest.describe import ModelSet
    from ingest.options import IngestOptions
    from ingest.visual import encode_for_events, encode_for_video
    from lifelog import visual

    frames, times = clip_frames
    mem = lifelog.open(tmp_path / "home", profile="tiny")
    opts = IngestOptions(home=mem.settings.home, cache_dir=mem.settings.cache_dir, profile="tiny")
    ms = ModelSet(opts)
    video = encode_for_video(frames, times, opts, ms)
    assert video is not None and video.model_id == encoder.model_id and video.n_tokens <= video.budget
    half = times[len(times) // 2]
    events = encode_for_events(frames, times, {"m1:event:0": (0.0, half), "m1:event:1": (half, 99.0)}, opts, ms)
    assert set(events) == {"m1:event:0", "m1:event:1"}
    assert max(events["m1:event:0"][2].times) < half <= min(events["m1:event:1"][2].times)
    assert visual.save_video(mem.store, "m1", video, events) == 3

    answer = visual.ask_visual(mem.store, mem.visual_encoder(), "What colour was the mug?", ["m1:segment:0"], max_new_tokens=4)
    assert answer is not None and isinstance(answer.text, str)
    assert answer.key == "m1" and answer.media_id == "m1" and 0.0 < answer.confidence <= 1.0
    assert answer.times and 0.0 <= min(answer.times) and max(answer.times) <= times[-1]
    event = visual.ask_visual(mem.store, mem.visual_encoder(), "What colour was the mug?", ["m1:event:1"], max_new_tokens=0)
    assert event is not None and event.key == "m1:event:1" and event.start_s == half

    visual.delete(mem.store, "m1")
    assert visual.keys_for(mem.store, "m1") == []

    # the ingestion hook's route: keyframe JPEGs on disk + the file's event episodes
    from datetime import datetime, timezone

    from PIL import Image

    from ingest.records import EpisodeRecord
    from ingest.visual import encode_keyframes

    keyframes = []
    for n, (frame, t) in enumerate(zip(frames, times)):
        rel = f"thumbs/m2/key_{n:04d}.jpg"
        (opts.home / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(opts.home / rel, quality=90)
        keyframes.append((rel, t))
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    episodes = [EpisodeRecord(f"m2:event:{i}", "event", "video", now, now, media_id="m2", offset_start=a, offset_end=b)
                for i, (a, b) in enumerate([(0.0, half), (half, times[-1] + 1)])]
    got = encode_keyframes("m2", keyframes, episodes, opts, ms)
    assert got is not None and set(got.events) == {"m2:event:0", "m2:event:1"}
    assert visual.save_video(mem.store, got.media_id, got.video, got.events) == 3
    assert sorted(visual.keys_for(mem.store, "m2")) == ["m2", "m2:event:0", "m2:event:1"]


def test_bundled_profile_skips_with_one_line(tmp_path, clip_frames, caplog):
    import lifelog
    from ingest.describe import ModelSet
    from ingest.options import IngestOptions
    from ingest.visual import encode_for_video
    from lifelog import visual

    frames, times = clip_frames
    mem = lifelog.open(tmp_path / "home", profile="bundled")
    opts = IngestOptions(home=mem.settings.home, cache_dir=mem.settings.cache_dir, profile="bundled")
    caplog.set_level(logging.INFO)
    visual._said_skip.clear()
    assert visual.ask_visual(mem.store, mem.visual_encoder(), "what colour was the mug?", ["m1:segment:0"]) is None
    assert visual.ask_visual(mem.store, mem.visual_encoder(), "and the kettle?", ["m1:segment:0"]) is None
    lines = [r.getMessage() for r in caplog.records if "visual memory skipped" in r.getMessage()]
    assert lines == [SKIP_MESSAGE]
    assert encode_for_video(frames, times, opts, ModelSet(opts)) is None


def test_budget_above_stream_matches_full_cache(encoder, clip_frames):
    """Nothing dropped or merged: the streamed memory must read exactly like the uncompressed cache,
    which checks the chunked prefill, positions and cache restore (float16 storage is the only loss)."""
    frames, times = clip_frames
    roomy = StreamMemEncoder(encoder.vlm, budget_tokens=4096, chunk_frames=3, merge_threshold=1.01)
    full = encoder.full_cache(frames, times)
    m = roomy.encode(frames, times)
    assert m.n_tokens == full.n_tokens == m.tokens_seen
    _, a = roomy.answer(m, "What colour was the mug?", max_new_tokens=0)
    _, b = encoder.answer(full, "What colour was the mug?", max_new_tokens=0)
    p, q = b.log_softmax(-1), a.log_softmax(-1)
    assert float((p.exp() * (p - q)).sum()) < 1e-4 and int(a.argmax()) == int(b.argmax())
