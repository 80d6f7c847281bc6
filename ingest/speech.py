"""Speech in a sound track: voice activity, Whisper over speech-only windows, words with their times.

Shared by videos (their audio track) and recordings; both turn the words into episode transcripts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ingest.describe import ModelSet, Stopwatch
from ingest.options import path_text
from models.speech import SAMPLE_RATE as SR, decode_audio
from models.types import SpeechSegment, Transcript, Word

log = logging.getLogger(__name__)

# seconds of sound (speech and the short pauses inside it) given to Whisper at once
SPEECH_WINDOW_S = 300.0


def transcribe_track(path: Path, ms: ModelSet, watch: Stopwatch, *,
                     audio_out: list[np.ndarray] | None = None) -> Transcript | None:
    """Speech of a file's audio track, or None when it has no speech (VAD first: silence costs ~nothing).
    The decoded 16 kHz samples go to `audio_out` when given (for the speakers' voices)."""
    with watch.stage("audio_decode"):
        try:
            audio = decode_audio(path)
        except ValueError as e:
            log.warning("%s: audio track not decodable (%s); no transcript", path_text(path), e)
            return None
    if audio_out is not None:
        audio_out.append(audio)
    return transcribe_audio(audio, ms, watch)


def speech_windows(spans: Sequence[tuple[float, float]], total_s: float, window_s: float = SPEECH_WINDOW_S,
                   pad_s: float = 0.5) -> list[tuple[float, float]]:
    """Voice-activity spans grouped into windows of at most window_s, cut in the silences between spans.

    Whisper then sees only stretches with speech (long silences are never decoded), one window at
    a time, so its features for an hour of sound never sit in memory at once.
    """
    windows: list[tuple[float, float]] = []
    for a, b in spans:
        a, b = max(0.0, a - pad_s), min(total_s, b + pad_s)
        if windows and (a <= windows[-1][1] or b - windows[-1][0] <= window_s):
            windows[-1] = (windows[-1][0], max(windows[-1][1], b))
        else:
            windows.append((a, b))
    return windows


def transcribe_audio(audio: np.ndarray, ms: ModelSet, watch: Stopwatch) -> Transcript | None:
    """Speech of 16 kHz mono sound with word times, or None when there is none (or no speech model)."""
    vad = ms.get("vad")
    spans: list[tuple[float, float]] | None = None
    if vad is not None:
        with watch.stage("vad"):
            spans = vad.speech_spans(audio)
        if sum(b - a for a, b in spans) < 0.3:
            return None
    stt = ms.get("speech")
    if stt is None:
        return None
    windows = speech_windows(spans, len(audio) / SR) if spans is not None else [(0.0, len(audio) / SR)]
    segments: list[SpeechSegment] = []
    language, speech_s = "", 0.0
    with watch.stage("speech"):
        for a, b in windows:
            part = stt.transcribe(audio[int(a * SR):int(b * SR)], word_timestamps=True)
            language = language or part.language
            speech_s += part.speech_seconds
            segments.extend(
                SpeechSegment(seg.start + a, seg.end + a, seg.text,
                              tuple(Word(w.start + a, w.end + a, w.text, w.prob) for w in seg.words), seg.channel)
                for seg in part.segments
            )
    return Transcript(tuple(segments), language, speech_s)


def words_of(transcript: Transcript | None) -> list[Word]:
    """Every word with its time; segments without word times count as one word spanning them."""
    if transcript is None:
        return []
    out: list[Word] = []
    for s in transcript.segments:
        out.extend(s.words or (Word(s.start, s.end, s.text),))
    return out


def words_in(words: Sequence[Word], a: float, b: float) -> str:
    """The words whose middle falls in [a, b), as one text."""
    return " ".join(w.text for w in words if a <= (w.start + w.end) / 2 < b).strip()
