"""One file's episode tree, shared by videos and recordings: segments, events, the session.

Spans of the file become segments, segments are grouped into events, events into the file's
session; a coarser episode is summarised from its children, and every episode gets its text
(what full-text search and the text vector see).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Sequence

from ingest.describe import compose_caption, mean_vector, merge_tags, unique_lines
from ingest.frames import Keyframe, change
from ingest.records import EpisodeRecord, MediaRecord, Source
from ingest.speech import words_in
from models.types import Transcript, Word

if TYPE_CHECKING:
    from ingest.options import IngestOptions


def clock(s: float) -> str:
    """Seconds into a file as a clock reading: "4:05", or "1:02:03" past an hour."""
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# --- spans and groups ------------------------------------------------------------------------

def split_spans(start: float, end: float, cuts: Sequence[float], max_len: float) -> list[tuple[float, float]]:
    """[start, end) cut at `cuts`, and pieces longer than max_len cut into equal parts."""
    edges = [start] + [c for c in cuts if start < c < end] + [end]
    spans = []
    for a, b in zip(edges, edges[1:]):
        n = max(1, math.ceil((b - a) / max_len - 1e-9))
        step = (b - a) / n
        spans.extend((a + k * step, a + (k + 1) * step) for k in range(n))
    return spans


def group_events(
    spans: Sequence[tuple[float, float]], *, breaks: Sequence[bool], max_len: float
) -> list[list[int]]:
    """Consecutive span indices grouped into events: a new event where breaks[i] is True
    (a long silence, a big visual change) or when the current one would pass max_len seconds."""
    groups: list[list[int]] = []
    for i, (a, b) in enumerate(spans):
        if groups and not breaks[i] and b - spans[groups[-1][0]][0] <= max_len:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


# --- summaries -----------------------------------------------------------------------------

def first_sentences(text: str, max_words: int = 40) -> str:
    words = text.split()
    return " ".join(words[:max_words]) + (" ..." if len(words) > max_words else "")


def frequent_tags(children: Sequence[EpisodeRecord], k: int = 5) -> list[str]:
    counts = Counter(t for c in children for t in c.tags)
    return [t for t, _ in counts.most_common(k)]


def summarise(parent: EpisodeRecord, children: Sequence[EpisodeRecord]) -> EpisodeRecord:
    """Fill a coarser episode from its children, extractively: the start of what was said, the
    most frequent tags, every OCR line once, the mean image vector."""
    transcript = " ".join(c.transcript for c in children if c.transcript)
    parent.transcript = first_sentences(transcript, 120)
    parent.tags = frequent_tags(children)
    ocr_lines: list[str] = []
    for c in children:
        for line in filter(None, c.ocr.split(" / ")):
            if line not in ocr_lines:
                ocr_lines.append(line)
    parent.ocr = " / ".join(ocr_lines[:20])
    parent.people = sorted({p for c in children for p in c.people})
    parent.image_vector = mean_vector([c.image_vector for c in children])
    first_visual = next((c for c in children if c.keyframe), None)
    if first_visual:
        parent.keyframe, parent.thumbnail = first_visual.keyframe, first_visual.thumbnail
    if parent.lat is None:
        located = next((c for c in children if c.lat is not None), None)
        if located:
            parent.lat, parent.lon = located.lat, located.lon
    return parent


# a photo title's capture time ("Photo 2025-06-14 08:12: "): times are filters, not words to match
TITLE_TIME = re.compile(r"^Photo \d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?:?\s*")


def episode_text(e: EpisodeRecord) -> str:
    """Every signal of an episode as one text: what full-text search and the text vector see.

    The title's time is left out: its digits would pull the vector towards other numbers (a file
    dated by the day it was copied would match the same words better on some days than others),
    and a question's time is matched as a time, on the episode's own fields."""
    title = TITLE_TIME.sub("", e.title)
    parts = [title if title not in e.caption else "", e.caption]  # a photo's title is its first tags: said once
    if e.transcript and e.transcript not in e.caption:
        parts.append(f"Said: {e.transcript}")
    if e.ocr:
        parts.append(f"Text: {e.ocr}")
    if e.tags:
        parts.append("Tags: " + ", ".join(e.tags))
    if e.people:
        parts.append("People: " + ", ".join(e.people))
    if e.place:
        parts.append(f"Place: {e.place}")
    return "\n".join(p for p in parts if p)


def embed_texts(episodes: Sequence[EpisodeRecord], embedder: Any | None) -> None:
    """Fill the text of every episode, and its text_vector in one batch where there is an embedder."""
    for e in episodes:
        e.text = episode_text(e)
    if embedder is not None and episodes:
        vecs = embedder.embed([e.text for e in episodes], kind="passage")
        for e, v in zip(episodes, vecs):
            e.text_vector = v


# --- the tree --------------------------------------------------------------------------------

def build_episodes(
    media: MediaRecord, spans: list[tuple[float, float]], keys: list[Keyframe], words: Sequence[Word],
    transcript: Transcript | None, opts: "IngestOptions", *, kind: str,
) -> list[EpisodeRecord]:
    """Segments (one per span), events (groups of segments), and the session (the whole file)."""
    assert media.captured_at is not None
    t0 = media.captured_at
    mid = media.media_id

    def at(s: float) -> "timedelta":
        return timedelta(seconds=s)

    segments: list[EpisodeRecord] = []
    seg_keys: list[list[Keyframe]] = []
    for n, (a, b) in enumerate(spans):
        ks = [k for k in keys if a <= k.t < b] or ([min(keys, key=lambda k: abs(k.t - (a + b) / 2))] if keys else [])
        seg_keys.append(ks)
        infos = [k.info for k in ks if k.info is not None]
        tags = merge_tags([i.tags for i in infos])
        ocr = unique_lines([line for i in infos for line in i.ocr])
        faces = max((i.faces for i in infos), default=0)
        said = words_in(words, a, b)
        vlm = next((i.caption for i in infos if i.caption), "")
        rep = ks[len(ks) // 2] if ks else None
        segments.append(EpisodeRecord(
            episode_id=f"{mid}:segment:{n}", scale="segment", kind=kind, start=t0 + at(a), end=t0 + at(b),
            media_id=mid, offset_start=a, offset_end=b, sources=[Source(mid, a, b)],
            title=f"{clock(a)}-{clock(b)}" + (f" {', '.join(tags[:2])}" if tags else ""),
            caption=compose_caption(kind, tags, ocr, faces, said, vlm=vlm),
            transcript=said, ocr=" / ".join(ocr), tags=tags, lat=media.lat, lon=media.lon,
            image_vector=mean_vector([i.image_vector for i in infos]),
            keyframe=rep.path if rep else "", thumbnail=rep.path if rep else "",
            phash=rep.info.phash if rep and rep.info else "",
        ))

    # events: a new one after a long pause in speech or a big visual change, once the current
    # one has run a minute; never longer than event_max_s
    breaks = [False] * len(spans)
    for i in range(1, len(spans)):
        a = spans[i][0]
        ev_len_hint = a - spans[0][0]
        silent_before = bool(words) and not any(a - opts.event_gap_s <= w.end <= a for w in words)
        visual_jump = (bool(seg_keys[i]) and bool(seg_keys[i - 1])
                       and change(seg_keys[i - 1][-1].feature, seg_keys[i][0].feature) >= 0.6)
        breaks[i] = ev_len_hint >= 60 and (silent_before or visual_jump)
    groups = group_events(spans, breaks=breaks, max_len=opts.event_max_s)
    events: list[EpisodeRecord] = []
    session_id = f"{mid}:session:0"
    for n, idx in enumerate(groups):
        a, b = spans[idx[0]][0], spans[idx[-1]][1]
        ev = EpisodeRecord(
            episode_id=f"{mid}:event:{n}", scale="event", kind=kind, start=t0 + at(a), end=t0 + at(b),
            media_id=mid, offset_start=a, offset_end=b, parent_id=session_id, sources=[Source(mid, a, b)],
            lat=media.lat, lon=media.lon,
        )
        children = [segments[i] for i in idx]
        summarise(ev, children)
        ev.title = f"{clock(a)}-{clock(b)}" + (f" {', '.join(ev.tags[:3])}" if ev.tags else "")
        ev.caption = compose_caption(kind, ev.tags, ev.ocr.split(" / ") if ev.ocr else [], 0, ev.transcript)
        for c in children:
            c.parent_id = ev.episode_id
        events.append(ev)
    dur = spans[-1][1] if spans else media.duration_s
    session = EpisodeRecord(
        episode_id=session_id, scale="session", kind=kind, start=t0, end=t0 + at(dur), media_id=mid,
        offset_start=0.0, offset_end=dur, sources=[Source(mid, 0.0, dur)], lat=media.lat, lon=media.lon,
    )
    summarise(session, events)
    noun = {"video": "Video", "audio": "Recording"}[kind]
    session.title = f"{noun} {clock(dur)}" + (f": {', '.join(session.tags[:3])}" if session.tags else "")
    session.caption = compose_caption(kind, session.tags, [], 0, session.transcript)
    if transcript is not None and not session.transcript:
        session.transcript = transcript.text
    return segments + events + [session]
