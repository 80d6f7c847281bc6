"""Recordings: speech with word times, utterance segments, events split at pauses, one session.

Speaker turns: a stereo file whose two channels differ a lot (one microphone per person, as
phone-call and interview recorders make) is transcribed channel by channel and each utterance is
labelled with its channel ("speaker 1", "speaker 2"). Mono files get NO speaker turns: telling voices
apart in one channel needs a diarization model, which no bundled package provides.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ingest.describe import ModelSet, Stopwatch, compose_caption
from ingest.diarize import Turn, diarize, file_voices, split_at_turns, spoken_spans
from ingest.episodes import build_episodes, clock, summarise
from ingest.errors import IngestError
from ingest.options import IngestOptions, path_text
from ingest.records import EpisodeRecord, MediaRecord, Source, VoiceRecord
from ingest.speech import transcribe_audio
from models.speech import decode_audio
from models.types import SpeechSegment, Transcript, Word

log = logging.getLogger(__name__)

# channels whose difference carries at least this share of the energy are different microphones
# (a mono signal copied to two channels gives ~0)
STEREO_DIFFERENCE = 0.3
# an utterance ends at a sentence end, a pause this long (s), or this length (s)
UTTERANCE_PAUSE_S = 1.5
UTTERANCE_MAX_S = 30.0


def channels_differ(left: np.ndarray, right: np.ndarray) -> bool:
    diff = float(np.mean((left - right) ** 2))
    total = float(np.mean(left ** 2) + np.mean(right ** 2)) / 2
    return total > 1e-8 and diff / total >= STEREO_DIFFERENCE


def _stereo(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    import av

    with av.open(os.fsdecode(path), metadata_errors="ignore") as c:
        if not c.streams.audio or c.streams.audio[0].codec_context.channels != 2:
            return None
    left, right = decode_audio(path, split_stereo=True)
    return (left, right) if channels_differ(left, right) else None


def utterances(segments: list[SpeechSegment]) -> list[SpeechSegment]:
    """Whisper's windows merged (or kept apart) into sentence-like utterances of one channel."""
    out: list[SpeechSegment] = []
    for s in sorted(segments, key=lambda s: s.start):
        if out:
            last = out[-1]
            if (s.channel == last.channel and s.start - last.end < UTTERANCE_PAUSE_S
                    and s.end - last.start <= UTTERANCE_MAX_S and not last.text.rstrip().endswith((".", "?", "!"))):
                out[-1] = SpeechSegment(last.start, s.end, f"{last.text} {s.text}".strip(), last.words + s.words, last.channel)
                continue
        out.append(s)
    return out


def ingest_audio(path: Path, media: MediaRecord, opts: IngestOptions, ms: ModelSet, watch: Stopwatch,
                 voices_out: list[VoiceRecord] | None = None) -> list[EpisodeRecord]:
    """The recording's episodes: utterance segments, events split at pauses, one session; with
    `voices_out`, the voices of its speakers (a stereo file's speakers are its channels)."""
    with watch.stage("audio_decode"):
        try:
            stereo = _stereo(path)
            mono = None if stereo else decode_audio(path)
        except ValueError as e:
            raise IngestError(f"{path_text(path)}: the sound cannot be decoded ({e}); the file may be truncated") from e
    if stereo:
        parts = []
        for ch, audio in enumerate(stereo):
            t = transcribe_audio(audio, ms, watch)
            if t is not None:
                parts.extend(SpeechSegment(s.start, s.end, s.text, s.words, ch) for s in t.segments)
        transcript = Transcript(tuple(sorted(parts, key=lambda s: s.start))) if parts else None
    else:
        transcript = transcribe_audio(mono, ms, watch)  # type: ignore[arg-type]
    dur = media.duration_s
    utts = utterances(list(transcript.segments)) if transcript else []
    turns = []
    if voices_out is not None and mono is not None and utts and opts.voices != "never":
        with watch.stage("voices"):  # who speaks when: a segment is one speaker's
            turns = diarize(mono, spoken_spans(utts))
            utts = split_at_turns(utts, turns)
    # segments: utterances, and the silent stretches between them are left out (nothing to find there)
    spans = [(max(0.0, u.start), min(dur, max(u.end, u.start + 0.1))) for u in utts] or [(0.0, dur)]
    labelled: list[Word] = []
    for u in utts:
        who = f"[speaker {u.channel + 1}] " if u.channel is not None else ""
        labelled.append(Word(u.start, u.end, who + u.text))
    episodes = build_episodes(media, spans, [], labelled, transcript, opts, kind="audio")
    segments = [e for e in episodes if e.scale == "segment"]
    if stereo and len(segments) == len(labelled):
        # two speakers can talk at once: a segment is its own speaker's utterance, not every word
        # that overlaps its span (which would give both speakers' lines to each)
        for seg, said in zip(segments, labelled):
            seg.transcript = said.text
            seg.caption = compose_caption("audio", [], [], 0, said.text)
    if turns and voices_out is not None:
        with watch.stage("voices"):
            voices_out.extend(file_voices(mono, media.media_id, turns,  # type: ignore[arg-type]
                                          [(e.episode_id, e.offset_start, e.offset_end) for e in segments]))
    elif stereo and voices_out is not None and opts.voices != "never" and len(segments) == len(utts):
        with watch.stage("voices"):  # a stereo file's channels are its speakers (a call's two sides)
            for ch, audio in enumerate(stereo):
                mine = [(seg, u) for seg, u in zip(segments, utts) if u.channel == ch]
                voices_out.extend(file_voices(audio, media.media_id, [Turn(u.start, u.end, ch) for _, u in mine],
                                              [(seg.episode_id, seg.offset_start, seg.offset_end) for seg, _ in mine]))
    # events split at pauses over event_gap_s or every event_max_s; build_episodes groups spans
    # with a minute's minimum, which suits video; recordings regroup here by pauses alone
    return _regroup_audio(episodes, opts)


def _regroup_audio(episodes: list[EpisodeRecord], opts: IngestOptions) -> list[EpisodeRecord]:
    segments = [e for e in episodes if e.scale == "segment"]
    session = next(e for e in episodes if e.scale == "session")
    groups: list[list[EpisodeRecord]] = []
    for s in segments:
        if groups and s.offset_start - groups[-1][-1].offset_end < opts.event_gap_s \
                and s.offset_end - groups[-1][0].offset_start <= opts.event_max_s:
            groups[-1].append(s)
        else:
            groups.append([s])
    events = []
    for n, g in enumerate(groups):
        # max, not the last: the two channels of a stereo file overlap in time
        a, b = g[0].offset_start, max(s.offset_end for s in g)
        ev = EpisodeRecord(
            episode_id=f"{session.media_id}:event:{n}", scale="event", kind="audio", start=g[0].start,
            end=max(s.end for s in g),
            media_id=session.media_id, offset_start=a, offset_end=b, parent_id=session.episode_id,
            sources=[Source(session.media_id, a, b)], lat=session.lat, lon=session.lon,
        )
        summarise(ev, g)
        ev.title = f"{clock(a)}-{clock(b)} " + (ev.transcript[:60] or "no speech")
        ev.caption = f"Recording: '{ev.transcript[:200]}'" if ev.transcript else "Recording: no speech"
        for s in g:
            s.parent_id = ev.episode_id
            if not s.transcript:
                s.caption = "Recording: no speech"
            else:
                s.title = f"{clock(s.offset_start)} {s.transcript[:60]}"
        events.append(ev)
    if segments:
        session.offset_end = max(session.offset_end, max(s.offset_end for s in segments))
        session.end = max(session.end, max(s.end for s in segments))
    if not session.transcript:
        session.caption = "Recording: no speech"
    return segments + events + [session]
