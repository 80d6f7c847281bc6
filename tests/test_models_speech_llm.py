"""Speech, voice activity, LLM and VLM wrappers on bundled or tiny random models and real media."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import models
from models.speech import decode_audio
from models.types import Transcript

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media folder {MEDIA} is missing")
SR = 16000


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def tiny_en(cache: Path):
    return models.load(models.get_spec("whisper-tiny.en-ct2"), cache)


def _words(t: Transcript) -> list:
    return [w for s in t.segments for w in s.words]


@needs_media
@pytest.mark.slow
def test_tiny_en_hears_one_two_three(tiny_en) -> None:
    audio = decode_audio(MEDIA / "audio/one_two_three_speechrecognition.wav")  # 44.1 kHz file
    assert audio.dtype == np.float32 and abs(audio.size / SR - 2.74) < 0.05
    text = tiny_en.transcribe(audio).text.lower()
    norm = re.sub(r"[^a-z0-9 ]", "", text)
    assert "one two three" in norm or "1 2 3" in norm or "123" in norm.replace(" ", ""), text


@needs_media
@pytest.mark.slow
def test_tiny_en_on_video_soundtrack_has_ordered_words(tiny_en) -> None:
    audio = decode_audio(MEDIA / "video/pool_vacuum_firstperson_narrated_mmaction2.avi")
    duration = audio.size / SR
    t = tiny_en.transcribe(audio)
    assert "corner" in t.text.lower(), t.text
    words = _words(t)
    assert len(words) >= 8
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= duration + 0.05 for w in words)
    corner = next(w for w in words if "corner" in w.text.lower())
    assert corner.start < 3.0  # "I started the outer corner" opens the clip
    assert 0 < t.speech_seconds <= duration + 0.01


@pytest.mark.slow
def test_silence_gives_no_words(tiny_en) -> None:
    t0 = time.perf_counter()
    t = tiny_en.transcribe(np.zeros(10 * SR, np.float32))
    assert t.segments == () and t.text == "" and t.speech_seconds == 0.0
    assert time.perf_counter() - t0 < 10.0  # VAD skips it: no decoding at all (a decode takes far longer)


@needs_media
def test_vad_spans_cover_monologue_and_not_zeros(cache: Path) -> None:
    vad = models.load(models.resolve("vad", "bundled"), cache)
    audio = decode_audio(MEDIA / "audio/monologue_talk_60s_silero.wav")
    spans = vad.speech_spans(audio)
    covered = sum(e - s for s, e in spans)
    assert covered > 0.7 * audio.size / SR, spans
    assert all(0 <= s < e <= audio.size / SR + 1e-6 for s, e in spans)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)
    assert vad.speech_spans(np.zeros(5 * SR, np.float32)) == []


@needs_media
def test_tiny_random_openai_whisper_runs_real_decoding(cache: Path) -> None:
    stt = models.load(models.resolve("speech", "tiny"), cache)
    assert type(stt).__name__ == "OpenAIWhisperSTT"
    audio = decode_audio(MEDIA / "audio/one_two_three_speechrecognition.wav")
    t0 = time.perf_counter()
    t = stt.transcribe(audio, language="en")
    elapsed = time.perf_counter() - t0
    assert isinstance(t, Transcript) and t.language == "en"
    assert len(t.segments) >= 1 and t.speech_seconds > 1.0  # random text, but real windows were decoded
    assert all(0 <= s.start <= s.end for s in t.segments)
    assert elapsed < 10.0
    assert stt.transcribe(np.zeros(3 * SR, np.float32)).segments == ()


@needs_media
def test_decode_audio_errors_name_the_file(tmp_path: Path) -> None:
    silent_video = MEDIA / "video/kids_jumping_on_bed_sam2.mp4"
    with pytest.raises(ValueError, match=r"kids_jumping_on_bed_sam2\.mp4.*no audio stream"):
        decode_audio(silent_video)
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio")
    with pytest.raises(ValueError, match="notes.wav"):
        decode_audio(junk)
    with pytest.raises(ValueError, match="no such file"):
        decode_audio(tmp_path / "missing.wav")


@needs_media
def test_decode_audio_split_stereo() -> None:
    left, right = decode_audio(MEDIA / "audio/stereo_two_speakers_fasterwhisper.wav", split_stereo=True)
    assert left.shape == right.shape and abs(left.size / SR - 5.0) < 0.05
    assert not np.allclose(left, right)


@pytest.mark.slow
def test_bundled_llm_knows_paris(cache: Path) -> None:
    llm = models.load(models.resolve("llm", "bundled"), cache)
    answer = llm.chat([{"role": "user", "content": "What is the capital of France?"}], max_tokens=32)
    assert "paris" in answer.lower(), answer
    with pytest.raises(ValueError, match="bad chat message"):
        llm.chat([{"role": "robot", "content": "hi"}])


@pytest.mark.slow
def test_llm_process_exits_promptly() -> None:
    # xllamacpp.Server runs a loopback HTTP listener and a worker thread: the interpreter must still exit
    code = (
        "import tempfile, pathlib, models\n"
        "llm = models.load(models.get_spec('smollm2-135m-q4'), pathlib.Path(tempfile.mkdtemp()))\n"
        "print(llm.chat([{'role': 'user', 'content': 'Say hi.'}], max_tokens=4))\n"
    )
    # a hang shows as the timeout (generous: imports are slow on a loaded 2-core machine)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()


def test_tiny_vlm_captions_two_images(cache: Path) -> None:
    from PIL import Image

    vlm = models.load(models.resolve("caption", "tiny"), cache)
    assert vlm.model is not None and vlm.processor is not None  # reused by the streaming visual memory
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)) for _ in range(2)]
    vlm.caption(images, max_new_tokens=2)  # first call pays one-off initialisation
    t0 = time.perf_counter()
    out = vlm.caption(images, prompt="What happens?", max_new_tokens=16)
    assert isinstance(out, str) and out.strip()
    assert time.perf_counter() - t0 < 10.0  # generous: the machine may be busy
    with pytest.raises(ValueError):
        vlm.caption([])


@needs_media
@pytest.mark.slow
def test_whisper_base_joins_split_packages_once(tmp_path: Path) -> None:
    spec = models.get_spec("whisper-base-ct2")
    ok, why = spec.availability(tmp_path)
    if not ok:
        pytest.skip(f"whisper-base packages not installed: {why}")
    from models.speech import faster_whisper_path

    folder = faster_whisper_path(spec, tmp_path)
    assert folder == spec.cache_path(tmp_path)
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in folder.iterdir()}
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert faster_whisper_path(spec, tmp_path) == folder and (folder / "model.bin").stat().st_mtime_ns == mtime
    stt = models.load(spec, tmp_path)
    text = stt.transcribe(decode_audio(MEDIA / "video/pool_vacuum_firstperson_narrated_mmaction2.avi")).text
    assert "corner" in text.lower(), text
