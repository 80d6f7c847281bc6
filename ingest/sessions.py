"""Cross-file structure: photo sessions (outings), bursts of near-duplicate photos, and days.

The store calls `consolidate` after each batch for the days the batch touched; one file's own
episode tree is `ingest.episodes`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, tzinfo
from typing import Any

from ingest.episodes import embed_texts, summarise
from ingest.hashing import hamming
from ingest.options import IngestOptions
from ingest.places import distance_km
from ingest.records import EpisodeRecord


def _km(a: EpisodeRecord, b: EpisodeRecord) -> float | None:
    """How far apart two episodes were taken, None when either has no position."""
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return None
    return distance_km(a.lat, a.lon, b.lat, b.lon)


def consolidate(
    episodes: list[EpisodeRecord], tz: tzinfo, opts: IngestOptions, text_embedder: Any | None = None,
) -> list[EpisodeRecord]:
    """Cross-file structure for some days: photo sessions, near-duplicate groups, day episodes.

    `episodes`: every segment and session episode of the days concerned (all files). Returns the
    episodes to upsert: photo segments (parent_id and duplicate_of set), photo sessions
    ("photos:<first media_id>"), file sessions with their day as parent, and one "day:<date>"
    episode per local date in `tz`. Photo sessions group photos within opts.photo_session_gap_s
    and opts.photo_session_km of the previous one; near-duplicates (phash distance <=
    opts.burst_phash_distance within opts.burst_window_s) point at the first photo of their group.
    With `text_embedder`, the new episodes get text vectors too.
    """
    photos = sorted((e for e in episodes if e.scale == "segment" and e.kind == "photo"), key=lambda e: e.start)
    file_sessions = [e for e in episodes if e.scale == "session" and e.media_id]
    out: list[EpisodeRecord] = []
    new: list[EpisodeRecord] = []

    groups: list[list[EpisodeRecord]] = []
    for p in photos:
        if groups:
            prev = groups[-1][-1]
            km = _km(prev, p)
            if (p.start - prev.start).total_seconds() <= opts.photo_session_gap_s and (km is None or km <= opts.photo_session_km):
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
                if (not rep.duplicate_of and (p.start - rep.start).total_seconds() <= opts.burst_window_s
                        and hamming(rep.phash, p.phash) <= opts.burst_phash_distance):
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
    embed_texts(new, text_embedder)
    return out
