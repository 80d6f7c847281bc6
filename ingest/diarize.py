"""Who spoke when inside one recording: speaker turns from GE2E voice embeddings (diarization).

    >>> turns = diarize(audio16k, vad_spans)           # [Turn(0.5, 4.2, 0), Turn(4.4, 7.9, 1), ...]
    >>> label_segments(turns, [(s.start, s.end) for s in transcript.segments])   # [0, 1, ...]

Windows of 1.6 s slide over the speech only (pauses cut out, so a window is always 1.6 s of voice),
Resemblyzer's GE2E encoder embeds each, average-linkage clustering under a cosine-distance threshold
decides how many voices there are, and each 10 ms frame of speech takes the voice its windows vote
for. Overlapping speech gets one speaker. Not wired into ingestion yet: this is the first building
block of "people by voice" (benchmarks/bench_diarize.py measures it).

How many voices there are rests on one cosine threshold, chosen on the only labelled audio at hand
(two 30 s files, a 60 s monologue, a 5 s stereo file): GE2E's 1.6 s windows of one voice spread as
far apart as two similar voices do, so expect a wrong count on other recordings now and then.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ingest.records import VoiceRecord
from models.types import SpeechSegment, Word

SR = 16000
# GE2E's mel frames are 10 ms; every time below is counted in them
FRAME = SR // 100
# a window is the length of the partial utterances GE2E was trained on (1.6 s), moved 0.5 s at a time
WINDOW_FRAMES = 160
HOP_FRAMES = 50
# two groups of windows farther apart than this (cosine distance, average linkage) are two voices.
# benchmarks/bench_diarize.py --sweep: 0.30 is the one value of 0.20-0.40 (step 0.0125) where both
# two-voice files and the stereo file mixed to mono give 2 speakers and the monologue, its halves and
# three solo stretches give 1. A narrow margin: the conversation's two voices merge at 0.3125, the
# monologue splits at 0.2875. Medians over pairs of 1.6 s windows: the monologue's one voice 0.28,
# the conversation's two voices 0.30 (and 0.17 within one of them).
THRESHOLD = 0.30
# a voice heard in fewer windows than this is noise, a laugh or a cough: it joins the nearest voice
MIN_SPEAKER_WINDOWS = 3
# ... or in less than this share of the windows. With 0.1 the monologue gave 2 speakers and its
# halves 3 at the threshold above; the cost: a voice with under a fifth of the speech is folded into
# another (at most 5 speakers; a 10-minute mix of 5 voices from the media gave 3)
MIN_SPEAKER_SHARE = 0.2
# a turn shorter than this between two turns of one speaker is a flip of the windows, not a turn.
# Measured: the vote over overlapping windows already smooths; 0, 0.5-1.0 and 1.5 s gave DER 3.5,
# 3.5, 3.8 % (conversation) and 6.2, 8.0, 3.4 % (meeting) on the reference speech: no clear winner
MIN_TURN_S = 0.5
# a pause this short inside one speaker's speech does not end the turn (breaths; 29.4 -> 28.9 % DER
# on the meeting with Silero's speech, no change elsewhere)
MERGE_GAP_S = 0.3
# 4000 windows (33 min of speech) keep linkage's pairwise distances at 64 MB
MAX_CLUSTER_WINDOWS = 4000
# the mel spectrogram is computed 5 minutes of speech at a time
MEL_CHUNK_FRAMES = 30000
# GE2E was trained on audio normalised to -30 dBFS; its input is a power (not log) mel spectrogram,
# so quieter speech is raised to that level (never lowered, as Resemblyzer's own preprocessing does)
TARGET_DBFS = -30.0


@dataclass(frozen=True)
class Turn:
    """One stretch of speech by one speaker, in seconds from the start of the recording."""

    start_s: float
    end_s: float
    # 0, 1, ... in order of first appearance; the same number is the same voice within one file only
    speaker: int


@lru_cache(maxsize=1)
def load_encoder(device: str = "cpu") -> Any:
    """Resemblyzer's GE2E VoiceEncoder (256-d, 17 MB of weights inside the wheel), loaded once per process."""
    return _resemblyzer().VoiceEncoder(device, verbose=False).eval()


def _resemblyzer() -> Any:
    try:
        with warnings.catch_warnings():
            # resemblyzer 0.1.4 imports scipy.ndimage.morphology, deprecated (gone in SciPy 2.0)
            warnings.simplefilter("ignore", DeprecationWarning)
            import resemblyzer
            import resemblyzer.audio  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "speaker turns need resemblyzer: `pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels librosa`"
            " (or `make setup`)") from e
    return resemblyzer


def speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """Speech spans (seconds) by Silero VAD with the bundled profile's settings.

    Not webrtcvad: it passed near-silent hiss as speech in the monologue (two 0.3-1.4 s spans at
    -26 dB), whose windows then split one voice in two.
    """
    from models.vad import SileroVad, VadSettings

    return SileroVad(VadSettings()).speech_spans(_mono(samples))


def diarize(samples: np.ndarray, speech: Sequence[tuple[float, float]] | None = None, *,
            encoder: Any = None, max_speakers: int = 6, threshold: float = THRESHOLD) -> list[Turn]:
    """Speaker turns of 16 kHz mono float32 audio, sorted by time.

    `speech`: the (start_s, end_s) spans with voice (VAD or transcript segments); None runs Silero
    VAD (models/vad.py, what ingestion runs). Only these spans are embedded and labelled, so silence
    gets no turn. One voice gives one speaker.
    """
    samples = _mono(samples)
    spans = _clean_spans(speech_spans(samples) if speech is None else speech, len(samples) / SR)
    fspans = _frame_spans(spans)
    frames = np.concatenate([np.arange(a, b) for a, b in fspans] or [np.zeros(0, int)])
    if frames.size == 0:
        return []
    emb, starts = _window_embeddings(_speech_audio(samples, fspans), encoder)
    labels = _cluster(emb, threshold, max_speakers)
    frame_labels = _vote(emb, labels, starts, frames.size)
    frame_labels = _smooth(frame_labels)
    return _turns(frame_labels, frames)


def label_segments(turns: Sequence[Turn], segments: Sequence[tuple[float, float]], *, nearest_s: float = 1.0) -> list[int]:
    """Each (start_s, end_s) segment's speaker: the one whose turns overlap it most.

    A segment that overlaps no turn takes the nearest turn's speaker when it is within nearest_s
    seconds (transcript times and VAD spans disagree by a few hundred ms), else -1 (unknown).
    """
    out: list[int] = []
    for a, b in segments:
        overlap: dict[int, float] = {}
        for t in turns:
            o = min(b, t.end_s) - max(a, t.start_s)
            if o > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
        if overlap:
            out.append(max(overlap, key=lambda s: (overlap[s], -s)))
            continue
        gaps = [(max(t.start_s - b, a - t.end_s), t.speaker) for t in turns]
        near = min(gaps, default=None)
        out.append(near[1] if near is not None and near[0] <= nearest_s else -1)
    return out


def voice_embedding(samples: np.ndarray, turns: Sequence[Turn], speaker: int, *, encoder: Any = None) -> np.ndarray:
    """One speaker's voice in this file: the mean of its windows' GE2E embeddings, L2-normalised (256-d).

    For matching voices across files (cosine: ~0.97 for one speaker, 0.47-0.67 for two, MODELS.md).
    """
    samples = _mono(samples)
    spans = _clean_spans([(t.start_s, t.end_s) for t in turns if t.speaker == speaker], len(samples) / SR)
    fspans = _frame_spans(spans)
    if not fspans:
        raise ValueError(f"speaker {speaker} has no turns (speakers here: {sorted({t.speaker for t in turns})})")
    emb, _ = _window_embeddings(_speech_audio(samples, fspans), encoder)
    mean = emb.mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


# --- internals -------------------------------------------------------------------------------------


def _mono(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"diarization needs 1-D mono 16 kHz audio, got shape {samples.shape}; "
                         "use models.speech.decode_audio()")
    return samples


def _normalised(samples: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0
    if rms <= 1e-6:
        return samples
    gain = 10 ** (TARGET_DBFS / 20) / rms
    return samples * gain if gain > 1 else samples


def _clean_spans(spans: Sequence[tuple[float, float]], total_s: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted((max(0.0, float(a)), min(total_s, float(b))) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _frame_spans(spans: list[tuple[float, float]]) -> list[tuple[int, int]]:
    return [(int(round(a * 100)), int(round(b * 100))) for a, b in spans if round(b * 100) > round(a * 100)]


def _speech_audio(samples: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The samples of the (start, end) frame spans end to end, at the encoder's loudness."""
    parts = [samples[a * FRAME:b * FRAME] for a, b in spans]
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    # a span that runs past the end (rounding) is padded, so frames and samples stay aligned
    audio = np.pad(audio, (0, sum(b - a for a, b in spans) * FRAME - len(audio)))
    return _normalised(audio)


def _window_embeddings(audio: np.ndarray, encoder: Any) -> tuple[np.ndarray, np.ndarray]:
    """GE2E embeddings (n, 256) of 1.6 s windows over `audio`, and each window's first frame."""
    import torch

    wav_to_mel_spectrogram = _resemblyzer().audio.wav_to_mel_spectrogram
    encoder = encoder if encoder is not None else load_encoder()
    n = len(audio) // FRAME
    # the mel spectrogram in pieces: one STFT of an hour of speech would take ~0.6 GB
    mel = np.concatenate([wav_to_mel_spectrogram(audio[i * FRAME:(i + MEL_CHUNK_FRAMES) * FRAME])[:MEL_CHUNK_FRAMES]
                          for i in range(0, max(n, 1), MEL_CHUNK_FRAMES)])[:n]
    if n < WINDOW_FRAMES:
        # shorter than one window: zero-padded, as Resemblyzer pads a short utterance
        mel = np.pad(mel, ((0, WINDOW_FRAMES - len(mel)), (0, 0)))
        n = WINDOW_FRAMES
    starts = list(range(0, n - WINDOW_FRAMES + 1, HOP_FRAMES))
    if starts[-1] + WINDOW_FRAMES < n:
        starts.append(n - WINDOW_FRAMES)
    out = []
    with torch.inference_mode():
        for i in range(0, len(starts), 128):  # bounded memory for an hour of speech
            batch = np.stack([mel[s:s + WINDOW_FRAMES] for s in starts[i:i + 128]])
            out.append(encoder(torch.from_numpy(batch)).cpu().numpy())
    return np.concatenate(out).astype(np.float32), np.array(starts)


def _cluster(emb: np.ndarray, threshold: float, max_speakers: int) -> np.ndarray:
    """A speaker number per window: average-linkage cosine clustering cut at `threshold`."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(emb) < 2:
        return np.zeros(len(emb), int)
    # linkage holds every pair's distance: past MAX_CLUSTER_WINDOWS an even sample of windows is clustered
    some = emb[np.linspace(0, len(emb) - 1, min(len(emb), MAX_CLUSTER_WINDOWS)).astype(int)]
    tree = linkage(some, method="average", metric="cosine")
    labels = fcluster(tree, t=threshold, criterion="distance")
    if labels.max() > max_speakers:
        labels = fcluster(tree, t=max_speakers, criterion="maxclust")
    sizes = np.bincount(labels)
    least = max(MIN_SPEAKER_WINDOWS, MIN_SPEAKER_SHARE * len(some))
    big = [c for c in range(1, len(sizes)) if sizes[c] >= least] or [int(np.argmax(sizes))]
    centroids = _centroids(some, labels, big)
    # every window (the small groups' too) goes to its nearest voice: one pass of k-means refinement
    nearest = np.argmax(emb @ centroids.T, axis=1)
    return np.unique(nearest, return_inverse=True)[1].reshape(-1)


def _centroids(emb: np.ndarray, labels: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    c = np.stack([emb[labels == k].mean(axis=0) for k in keep])
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def _vote(emb: np.ndarray, labels: np.ndarray, starts: np.ndarray, n_frames: int) -> np.ndarray:
    """A speaker per speech frame: the sum of the covering windows' similarities to each voice."""
    k = int(labels.max()) + 1
    sim = emb @ _centroids(emb, labels, range(k)).T
    acc = np.zeros((max(n_frames, int(starts[-1]) + WINDOW_FRAMES) + 1, k))
    np.add.at(acc, starts, sim)
    np.add.at(acc, starts + WINDOW_FRAMES, -sim)
    return np.argmax(np.cumsum(acc, axis=0)[:n_frames], axis=1)


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index runs of equal values."""
    if values.size == 0:
        return []
    cut = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = zip(np.r_[0, cut], np.r_[cut, values.size])
    return [(int(a), int(b)) for a, b in bounds]


def _smooth(labels: np.ndarray) -> np.ndarray:
    """Short flips between two runs of one speaker take that speaker (runs counted in speech time)."""
    min_frames = int(MIN_TURN_S * 100)
    kept: list[list[int]] = []  # [label, length] runs, the short flips folded in as they close
    for a, b in _runs(labels):
        kept.append([int(labels[a]), b - a])
        if len(kept) >= 3 and kept[-2][1] < min_frames and kept[-3][0] == kept[-1][0]:
            flip, last = kept.pop(-2), kept.pop()
            kept[-1][1] += flip[1] + last[1]
    return np.repeat([k[0] for k in kept], [k[1] for k in kept])


def _turns(labels: np.ndarray, frames: np.ndarray) -> list[Turn]:
    """Frame labels back on the recording's clock: a turn ends at a change of speaker or a pause."""
    order = {int(s): n for n, s in enumerate(dict.fromkeys(labels.tolist()))}
    gap = np.r_[False, np.diff(frames) > 1 + int(MERGE_GAP_S * 100)]
    change = np.r_[False, labels[1:] != labels[:-1]]
    cut = np.flatnonzero(gap | change)
    turns = []
    for a, b in zip(np.r_[0, cut], np.r_[cut, labels.size]):
        turns.append(Turn(float(frames[a]) / 100, float(frames[b - 1] + 1) / 100, order[int(labels[a])]))
    return turns


# the least speech that gives a voice worth keeping: windows of 1.6 s, a few of them
MIN_VOICE_S = 3.0


def spoken_spans(segments: Sequence[SpeechSegment], gap_s: float = 0.5) -> list[tuple[float, float]]:
    """Where words are spoken: the words' times merged across pauses under gap_s (a transcript
    segment can run across a long silence or noise, which must not become a voice); a segment
    without word times counts whole."""
    spans: list[tuple[float, float]] = []
    for s in sorted(segments, key=lambda s: s.start):
        for a, b in ([(w.start, w.end) for w in s.words] or [(s.start, s.end)]):
            if spans and a - spans[-1][1] < gap_s:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
    return spans


def split_at_turns(utterances: Sequence[SpeechSegment], turns: Sequence[Turn]) -> list[SpeechSegment]:
    """Utterances cut where the speaker changes, by their words' times: each piece is one speaker's
    (an utterance without word times stays whole)."""
    out: list[SpeechSegment] = []
    for u in utterances:
        if len(u.words) < 2 or len({t.speaker for t in turns}) < 2:
            out.append(u)
            continue
        who = label_segments(turns, [(w.start, w.end) for w in u.words])
        run: list[Word] = []
        for i, w in enumerate(u.words):
            run.append(w)
            if i + 1 == len(u.words) or (who[i + 1] != who[i] and who[i + 1] >= 0 and who[i] >= 0):
                out.append(SpeechSegment(run[0].start, run[-1].end, " ".join(x.text.strip() for x in run).strip(),
                                         tuple(run), u.channel))
                run = []
    return out


def file_voices(samples: np.ndarray, media_id: str, turns: Sequence[Turn],
                segments: Sequence[tuple[str, float, float]]) -> list[VoiceRecord]:
    """The voices of one recording, from its speaker turns: each speaker with at least MIN_VOICE_S
    of speech gets a `VoiceRecord` (turns, the segments (episode id, start_s, end_s) they speak in, vector)."""
    labels = label_segments(turns, [(a, b) for _, a, b in segments])
    out = []
    for speaker in sorted({t.speaker for t in turns}):
        mine = [t for t in turns if t.speaker == speaker]
        seconds = sum(t.end_s - t.start_s for t in mine)
        if seconds < MIN_VOICE_S:
            continue
        out.append(VoiceRecord(
            voice_id=f"{media_id}:voice:{speaker}", media_id=media_id, speaker=speaker,
            starts=[round(t.start_s, 2) for t in mine], ends=[round(t.end_s, 2) for t in mine],
            episode_ids=[e for (e, _, _), k in zip(segments, labels) if k == speaker],
            embedding=voice_embedding(samples, turns, speaker), seconds=round(seconds, 2)))
    return out
