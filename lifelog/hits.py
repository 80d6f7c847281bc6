"""Rows of the episodes table as typed results: `Hit`s with a fused relevance score, and
`EpisodeRecord`s for re-segmentation.

The score of a hit is absolute, so a cut-off means the same for every question: the cosine
similarity of the text vectors, raised by up to 0.25 when the episode also matches the query's
words (BM25, squashed to [0, 1)). A keyword match alone cannot carry a hit whose meaning is far
from the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.records import EpisodeRecord, MediaRecord, Source, time_origin
from lifelog.schema import Hit

# media id -> the file behind a row (its path, clock offset, device, duration, time source)
MediaInfo = dict[str, MediaRecord]


def clock_of(r: dict, media: MediaInfo) -> MediaRecord | None:
    """The file whose clock dates a row: its own file, or for a session or day of several files the
    first one with a capture time (a copy date only where every file has only that)."""
    if r.get("media_id"):
        return media.get(r["media_id"])
    found = [media[s["media_id"]] for s in (r.get("sources") or ()) if s.get("media_id") in media]
    return next((m for m in found if time_origin(m.time_source) not in ("file", "ingest")), found[0] if found else None)


def hit_from_row(r: dict, media: MediaInfo, home: Path, *, score: float = 0.0,
                 similarity: float = 0.0, keyword: float = 0.0) -> Hit:
    m = media.get(r["media_id"])
    clock = clock_of(r, media)
    return Hit(
        episode_id=r["episode_id"], scale=r["scale"], kind=r["kind"], media_id=r["media_id"], path=m.path if m else "",
        start=r["start"], end=r["end"], offset_start=float(r["offset_start"] or 0),
        offset_end=float(r["offset_end"] or 0), title=r["title"] or "", text=r["text"] or "",
        transcript=r["transcript"] or "", ocr=r["ocr"] or "",
        thumbnail=str(home / r["thumbnail"]) if r["thumbnail"] else "", place=r["place"] or "",
        lat=r["lat"], lon=r["lon"], score=round(score, 4), similarity=round(similarity, 4),
        keyword_score=round(keyword, 4), parent_id=r["parent_id"] or "", utc_offset_min=clock.utc_offset_min if clock else None,
        tags=tuple(r.get("tags") or ()), device=m.device if m else "", duration_s=float(m.duration_s or 0) if m else 0.0,
        time_source=time_origin(clock.time_source) if clock else "", has_audio=bool(m.has_audio) if m else False,
    )


def fuse(query: np.ndarray, vector_rows: list[dict], keyword_rows: list[dict], media: MediaInfo, home: Path, *,
         limit: int, min_score: float | None) -> list[Hit]:
    """Fuse vector and keyword hits into one ranking with an absolute relevance score (module doc)."""
    by_id: dict[str, dict] = {}
    for r in vector_rows:
        by_id[r["episode_id"]] = dict(r, _similarity=1.0 - float(r["_distance"]), _keyword=0.0)
    for r in keyword_rows:
        entry = by_id.get(r["episode_id"])
        if entry is None:  # found by its words only: measure its meaning too
            sim = float(np.dot(query, np.asarray(r["text_vector"], np.float32)))
            entry = by_id[r["episode_id"]] = dict(r, _similarity=sim, _keyword=0.0)
        entry["_keyword"] = float(r["_score"])
    hits = []
    for r in by_id.values():
        sim = r["_similarity"]
        kw = r["_keyword"]
        bonus = 0.25 * (kw / (kw + 2.0)) if kw > 0 else 0.0
        score = max(0.0, min(1.0, sim + bonus))
        if min_score is not None and score < min_score:
            continue
        hits.append(hit_from_row(r, media, home, score=score, similarity=sim, keyword=kw))
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:limit]


def one_per_file(hits: Sequence[Hit]) -> list[Hit]:
    """The first hit of each file (episodes that span files count on their own), in the given order."""
    by_media: dict[str, Hit] = {}
    for h in hits:
        by_media.setdefault(h.media_id or h.episode_id, h)
    return list(by_media.values())


def episode_from_row(row: dict) -> EpisodeRecord:
    fields = EpisodeRecord.__dataclass_fields__
    values = {k: row[k] for k in fields if k in row}
    values["sources"] = [Source(**s) for s in (row.get("sources") or [])]
    values["tags"] = list(row.get("tags") or [])
    values["people"] = list(row.get("people") or [])
    values["text_vector"] = np.asarray(row["text_vector"], np.float32) if row.get("text_vector") is not None else None
    values["image_vector"] = (np.asarray(row["image_vector"], np.float32)
                              if row.get("has_image") and row.get("image_vector") is not None else None)
    return EpisodeRecord(**values)
