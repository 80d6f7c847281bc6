"""Cutting time into episodes: shot boundaries, segments, events, and cross-file sessions and days.

Per file (video.py, audio.py) and across files (`consolidate`, which the store calls after each
batch for the days the batch touched).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Sequence

import cv2
import numpy as np

from ingest.describe import mean_vector
from ingest.hashing import hamming
from ingest.records import EpisodeRecord


# --- frame change --------------------------------------------------------------------------

@dataclass
class FrameFeature:
    """What change detection keeps of a sampled frame: a colour histogram (not the frame)."""

    t: float
    hist: np.ndarray


def frame_feature(t: float, rgb_small: np.ndarray) -> FrameFeature:
    hsv = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2HSV)
    # 16 hue x 4 saturation x 4 value bins: robust to small motion, sensitive to a new scene
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)
    return FrameFeature(t, hist)


def change(a: FrameFeature, b: FrameFeature) -> float:
    """0 (same picture) .. 1 (nothing in common): Bhattacharyya distance of HSV histograms."""
    return float(cv2.compareHist(a.hist, b.hist, cv2.HISTCMP_BHATTACHARYYA))


def shot_boundaries(times: Sequence[float], changes: Sequence[float], threshold: float) -> list[float]:
    """Times of hard cuts: a consecutive-sample change above `threshold` that also stands out
    from the local motion (3x the median change of its neighbours), so fast pans do not cut.

    changes[i] is the change between sample i-1 and i; the cut is put midway between them
    (error at most half the sampling interval).
    """
    cuts = []
    c = np.asarray(changes, dtype=np.float32)
    for i in range(1, len(c)):
        lo, hi = max(1, i - 3), min(len(c), i + 4)
        neighbours = np.concatenate([c[lo:i], c[i + 1:hi]])
        local = float(np.median(neighbours)) if neighbours.size else 0.0
        if c[i] >= threshold and c[i] >= 3 * local:
            cuts.append((times[i - 1] + times[i]) / 2)
    return cuts


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


# --- across files ----------------------------------------------------------------------------

def _km(a: EpisodeRecord, b: EpisodeRecord) -> float | None:
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def consolidate(
    episodes: list[EpisodeRecord],
    tz: tzinfo,
    *,
    session_gap_s: float = 3600.0,
    session_km: float = 1.0,
    burst_distance: int = 10,
    burst_window_s: float = 60.0,
    text_embedder: object | None = None,
) -> list[EpisodeRecord]:
    """Cross-file structure for some days: photo sessions, near-duplicate groups, day episodes.

    `episodes`: every segment and session episode of the days concerned (all files). Returns the
    episodes to upsert: photo segments (parent_id and duplicate_of set), photo sessions
    ("photos:<first media_id>"), file sessions with their day as parent, and one "day:<date>"
    episode per local date in `tz`. Photo sessions group photos within session_gap_s and
    session_km of the previous one; near-duplicates (phash distance <= burst_distance within
    burst_window_s) point at the first photo of their group. With `text_embedder`, the new
    episodes get text vectors too.
    """
    from ingest.pipeline import episode_text

    photos = sorted((e for e in episodes if e.scale == "segment" and e.kind == "photo"), key=lambda e: e.start)
    file_sessions = [e for e in episodes if e.scale == "session" and e.media_id]
    out: list[EpisodeRecord] = []
    new: list[EpisodeRecord] = []

    groups: list[list[EpisodeRecord]] = []
    for p in photos:
        if groups:
            prev = groups[-1][-1]
            km = _km(prev, p)
            if (p.start - prev.start).total_seconds() <= session_gap_s and (km is None or km <= session_km):
                groups[-1].append(p)
                continue
        groups.append([p])
    sessions: list[EpisodeRecord] = []
    for group in groups:
        head = group[0]
        sid = f"photos:{head.media_id}"
        for i, p in enumerate(group):
            p.parent_id, p.duplicate_of = sid, ""
            for rep in group[:i]:
                if (not rep.duplicate_of and (p.start - rep.start).total_seconds() <= burst_window_s
                        and hamming(rep.phash, p.phash) <= burst_distance):
                    p.duplicate_of = rep.episode_id
                    break
        reps = [p for p in group if not p.duplicate_of]
        n = len(group)
        s = EpisodeRecord(
            episode_id=sid, scale="session", kind="photo", start=head.start, end=max(p.end for p in group),
            sources=[src for p in group for src in p.sources],
            title=f"{n} photo{'s' * (n != 1)} {head.start.astimezone(tz):%Y-%m-%d %H:%M}",
        )
        summarise(s, reps)
        s.caption = f"{n} photos" + (f" ({n - len(reps)} near-duplicates)" if len(reps) < n else "") + (
            f": {', '.join(s.tags)}" if s.tags else "")
        sessions.append(s)
        new.append(s)
        out.extend(group)

    by_day: dict[date, list[EpisodeRecord]] = {}
    for s in sessions + file_sessions:
        by_day.setdefault(s.start.astimezone(tz).date(), []).append(s)
    for day, members in sorted(by_day.items()):
        members.sort(key=lambda e: e.start)
        kinds = {m.kind for m in members}
        counts = Counter(m.kind for m in members)
        did = f"day:{day.isoformat()}"
        d = EpisodeRecord(
            episode_id=did, scale="day", kind=kinds.pop() if len(kinds) == 1 else "mixed",
            start=members[0].start, end=max(m.end for m in members),
            sources=[src for m in members for src in m.sources],
            title=f"{day:%A %d %B %Y}",
        )
        summarise(d, members)
        d.caption = f"{d.title}: " + ", ".join(f"{v} {k} session{'s' * (v != 1)}" for k, v in sorted(counts.items()))
        if d.tags:
            d.caption += f"; {', '.join(d.tags)}"
        for m in members:
            m.parent_id = did
        new.append(d)
        out.extend(m for m in members if m.media_id)
    out.extend(new)
    for e in new:
        e.text = episode_text(e)
    if text_embedder is not None and new:
        vecs = text_embedder.embed([e.text for e in new], kind="passage")  # type: ignore[attr-defined]
        for e, v in zip(new, vecs):
            e.text_vector = v
    return out
