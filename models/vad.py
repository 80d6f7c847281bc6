"""Voice activity: Silero VAD v6 (ONNX) as shipped inside faster-whisper's assets.

    >>> vad = models.load(models.resolve("vad", "bundled"), cache_dir)
    >>> vad.speech_spans(audio16k)          # [(0.51, 3.2), (4.0, 9.75), ...] in seconds
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.registry import ModelSpec

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class VadSettings:
    # Silero speech probability above which a 32 ms window counts as speech
    threshold: float = 0.5
    # shorter bursts are dropped (coughs, clicks)
    min_speech_duration_ms: int = 250
    # a pause must last this long to end a span; shorter pauses stay inside one span
    min_silence_duration_ms: int = 300
    # padding each side so word onsets and tails are not clipped
    speech_pad_ms: int = 100


class SileroVad:
    """Speech spans of 16 kHz mono audio; the ONNX session is faster-whisper's process-wide one."""

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings

    def speech_spans(self, audio: np.ndarray) -> list[tuple[float, float]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"voice activity needs 1-D mono audio at 16 kHz, got shape {audio.shape}")
        if audio.size == 0:
            return []
        s = self.settings
        options = VadOptions(
            threshold=s.threshold,
            min_speech_duration_ms=s.min_speech_duration_ms,
            min_silence_duration_ms=s.min_silence_duration_ms,
            speech_pad_ms=s.speech_pad_ms,
        )
        chunks = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
        return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def speech_seconds(spans: list[tuple[float, float]]) -> float:
    return float(sum(end - start for start, end in spans))


def load_silero(spec: ModelSpec, cache_dir: Path, device: str) -> SileroVad:
    """Silero runs on the CPU whatever `device` says: it is ~430x realtime there and tiny."""
    import faster_whisper.vad  # noqa: F401  (fail here, at load, if faster-whisper is missing)

    fields = VadSettings.__dataclass_fields__
    settings = VadSettings(**{k: v for k, v in spec.opts.items() if k in fields})  # type: ignore[arg-type]
    return SileroVad(settings)
