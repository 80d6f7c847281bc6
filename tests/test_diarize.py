"""Speaker turns inside one recording (ingest/diarize.py) on real two-speaker and one-speaker audio.

The reference turns of the pyannote conversation come with it (.rttm); the error rate is scored by
benchmarks/bench_diarize.py's scorer, itself checked here on made-up turns.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.diarize import Turn, diarize, label_segments, voice_embedding

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_diarize.py"


def _bench():
    """benchmarks/bench_diarize.py as a module (benchmarks/ is not a package)."""
    if "bench_diarize" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_diarize", BENCH)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["bench_diarize"] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules["bench_diarize"]


def _audio(shared_media: Path, name: str) -> np.ndarray:
    from models.speech import decode_audio

    return decode_audio(shared_media / "audio" / name)


def _speakers(turns: list[Turn]) -> set[int]:
    return {t.speaker for t in turns}


def test_label_segments_takes_the_speaker_of_most_overlap() -> None:
    turns = [Turn(0.0, 4.0, 0), Turn(4.0, 6.0, 1), Turn(6.5, 9.0, 0), Turn(12.0, 14.0, 1)]
    segments = [
        (0.5, 3.5),    # inside speaker 0
        (3.0, 5.5),    # 1 s of speaker 0, 1.5 s of speaker 1
        (3.5, 7.0),    # 0.5 + 0.5 s of speaker 0 across two turns, 2 s of speaker 1
        (5.5, 8.0),    # 0.5 s of 1, 1.5 s of 0
        (9.5, 10.0),   # no overlap; 0.5 s after speaker 0's turn
        (10.5, 10.8),  # no overlap; 1.2 s from either side: unknown
        (11.5, 20.0),  # covers speaker 1's last turn
    ]
    assert label_segments(turns, segments) == [0, 1, 1, 0, 0, -1, 1]
    assert label_segments([], [(0.0, 1.0)]) == [-1]


def test_der_scorer_on_made_up_turns() -> None:
    der = _bench().der
    ref = [(0.0, 5.0, "a"), (5.0, 10.0, "b")]
    assert der(ref, [(0.0, 5.0, 7), (5.0, 10.0, 3)], 10.0, collar=0).der == pytest.approx(0, abs=1e-3)
    one = der(ref, [(0.0, 10.0, 0)], 10.0, collar=0)
    assert one.confusion == pytest.approx(0.5, abs=0.01) and one.missed == 0 and one.false_alarm == 0
    half = der(ref, [(0.0, 5.0, 0), (10.0, 12.0, 0)], 12.0, collar=0)
    assert half.missed == pytest.approx(0.5, abs=0.01) and half.false_alarm == pytest.approx(0.2, abs=0.01)
    # the collar leaves 0.25 s either side of each reference boundary unscored: 0.5 s off is 0.25 s wrong
    late = der(ref, [(0.0, 5.5, 0), (5.5, 10.0, 1)], 10.0, collar=0.25)
    assert late.confusion == pytest.approx(0.25 / 9.0, abs=0.01)


@pytest.mark.slow
def test_two_speaker_conversation(shared_media: Path) -> None:
    bench = _bench()
    audio = _audio(shared_media, "two_speaker_conversation_pyannote_sample.wav")
    ref = bench.read_rttm(shared_media / "audio" / "two_speaker_conversation_pyannote_sample.rttm", "sample")
    turns = diarize(audio, None)
    assert _speakers(turns) == {0, 1}
    total = len(audio) / 16000
    mine = bench.der(ref, [(t.start_s, t.end_s, t.speaker) for t in turns], total)
    base = bench.der(ref, bench.one_speaker([(t.start_s, t.end_s) for t in turns]), total)
    # measured: 2.9 % vs 46.4 % (Silero's speech, collar 0.25 s)
    assert mine.der < 0.15 and mine.der < base.der / 3, (mine, base)
    a, b = (voice_embedding(audio, turns, s) for s in (0, 1))
    assert a.shape == (256,) and np.linalg.norm(a) == pytest.approx(1, abs=1e-4)
    assert float(a @ b) < 0.93  # two voices: 0.87 measured; the monologue's two halves: 0.96


@pytest.mark.slow
def test_monologue_is_one_speaker(shared_media: Path) -> None:
    audio = _audio(shared_media, "monologue_talk_60s_silero.wav")
    turns = diarize(audio, None)
    assert _speakers(turns) == {0}
    assert sum(t.end_s - t.start_s for t in turns) > 40  # the talk is ~54 s of speech


@pytest.mark.slow
def test_stereo_speakers_after_downmix(shared_media: Path) -> None:
    """One speaker per channel, mixed to mono: the right channel talks over the left for ~2.4 s."""
    audio = _audio(shared_media, "stereo_two_speakers_fasterwhisper.wav")
    turns = diarize(audio, None)
    assert len(_speakers(turns)) == 2
    # 1 s: both talk, the right channel louder; 3.5 s: the left channel alone
    assert label_segments(turns, [(0.9, 1.1)]) != label_segments(turns, [(3.4, 3.6)])


@pytest.mark.slow
def test_silence_and_bad_input(shared_media: Path) -> None:
    assert diarize(np.zeros(16000 * 3, np.float32), None) == []
    with pytest.raises(ValueError, match="mono"):
        diarize(np.zeros((2, 16000), np.float32), None)
    short = _audio(shared_media, "one_two_three_speechrecognition.wav")
    assert _speakers(diarize(short, None)) == {0}
