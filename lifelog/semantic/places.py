"""Places: visits (a stay at one place over a time span) built from geotagged files, and the
agent's "when was I last at ..." lookup.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

import pyarrow as pa

from ingest.places import distance_km, place_name
from ingest.records import MediaRecord
from lifelog.db import VISITS_TABLE, upsert, visits_schema
from lifelog.semantic.things import STOP
from lifelog.sql import in_list, ts, utc

if TYPE_CHECKING:
    from lifelog.store import Store

# a visit continues while the next file is this close in space and time
VISIT_KM = 1.0
VISIT_GAP = timedelta(hours=2)
# words a place question may use that GeoNames never names: matched against the visit's tags and speech
PLACE_WORDS = {
    "beach": ("beach", "seashore", "sandbar", "coast", "sea", "ocean", "shore"),
    "mountains": ("mountain", "alp", "valley", "cliff", "volcano"),
    "park": ("park", "garden"),
    "cafe": ("cafe", "café", "coffee", "espresso"),
}


@dataclass
class Visit:
    """A stay at one place: consecutive geotagged files within VISIT_KM and VISIT_GAP of each other."""

    visit_id: str
    place: str  # "Cascais, Lisbon, Portugal"
    lat: float
    lon: float
    start: datetime
    end: datetime
    n_points: int
    media_ids: list[str]
    keywords: str  # tags and spoken words of its files, for "the beach", "the café"


def _visit_from_row(r: dict) -> Visit:
    return Visit(r["visit_id"], r["place"] or "", r["lat"], r["lon"], r["start"], r["end"], int(r["n_points"]),
                 list(r["media_ids"] or []), r["keywords"] or "")


def _keywords(episodes: Sequence[dict]) -> str:
    words: list[str] = []
    for e in episodes:
        for w in [*(e.get("tags") or []), *re.findall(r"[A-Za-zÀ-ÿ]{3,}", e.get("transcript") or "")]:
            w = w.casefold()
            if w not in words:
                words.append(w)
    return " ".join(words)


def add_visits(store: "Store", new_media: Sequence[MediaRecord], episodes: Sequence[dict]) -> int:
    """Extend the visit a new geotagged file falls into (within VISIT_KM and VISIT_GAP), or open one.

    Only visits overlapping the new files' time window (plus the gap) are read. Returns the visits
    opened or extended.
    """
    points = sorted((m for m in new_media if m.lat is not None and m.lon is not None and m.captured_at),
                    key=lambda m: m.captured_at)  # type: ignore[arg-type, return-value]
    if not points:
        return 0
    by_media: dict[str, list[dict]] = {}
    for e in episodes:
        by_media.setdefault(e["media_id"], []).append(e)
    lo, hi = utc(points[0].captured_at), utc(points[-1].captured_at)
    t = store.table(VISITS_TABLE)
    near = [_visit_from_row(r) for r in t.search().where(
        f"`end` >= {ts(lo - VISIT_GAP)} AND start <= {ts(hi + VISIT_GAP + timedelta(days=1))}").limit(None).to_list()]
    touched: dict[str, Visit] = {}
    for m in points:
        at = utc(m.captured_at)
        end = at + timedelta(seconds=m.duration_s or 0)  # type: ignore[operator]
        home = next((v for v in sorted(near, key=lambda v: abs((v.start - at).total_seconds()))
                     if v.start - VISIT_GAP <= at <= v.end + VISIT_GAP and distance_km(v.lat, v.lon, m.lat, m.lon) <= VISIT_KM), None)
        if home is None:
            home = Visit("visit-" + hashlib.blake2b(m.media_id.encode(), digest_size=6).hexdigest(), "",
                         float(m.lat), float(m.lon), at, end, 0, [], "")  # type: ignore[arg-type]
            near.append(home)
        if m.media_id in home.media_ids:
            continue
        n = home.n_points
        home.lat = (home.lat * n + float(m.lat)) / (n + 1)  # type: ignore[arg-type]
        home.lon = (home.lon * n + float(m.lon)) / (n + 1)  # type: ignore[arg-type]
        home.n_points = n + 1
        home.start, home.end = min(home.start, at), max(home.end, end)  # type: ignore[type-var]
        home.media_ids.append(m.media_id)
        extra = _keywords(by_media.get(m.media_id, []))
        home.keywords = " ".join(dict.fromkeys((home.keywords + " " + extra).split()))
        touched[home.visit_id] = home
    for v in touched.values():
        v.place = place_name(v.lat, v.lon)
    if touched:
        with store.lock:
            upsert(t, "visit_id", pa.Table.from_pylist([{
                "visit_id": v.visit_id, "place": v.place, "lat": v.lat, "lon": v.lon, "start": v.start, "end": v.end,
                "n_points": v.n_points, "media_ids": v.media_ids, "keywords": v.keywords,
            } for v in touched.values()], schema=visits_schema()))
    return len(touched)


def visits(store: "Store", where: str | None = None) -> list[Visit]:
    q = store.table(VISITS_TABLE).search()
    if where:
        q = q.where(where)
    return sorted((_visit_from_row(r) for r in q.limit(None).to_list()), key=lambda v: v.start)


def last_visit(store: "Store", place_words: str) -> Visit | None:
    """The latest visit whose place name or contents match every word ("Cascais", "the beach")."""
    words = [w for w in re.findall(r"\w+", place_words.casefold()) if w not in STOP]
    if not words:
        return None
    for v in reversed(visits(store)):
        hay = set(re.findall(r"\w+", (v.place + " " + v.keywords).casefold()))
        if all(any(s in hay for s in PLACE_WORDS.get(w, (w,))) for w in words):
            return v
    return None



# --- forgetting (lifelog/forget.py) ---------------------------------------------------------------
def visits_of_media(store: "Store", media_ids: Sequence[str]) -> list[str]:
    """The visits that list any of some files."""
    ids = set(media_ids)
    rows = store.table(VISITS_TABLE).search().select(["visit_id", "media_ids"]).limit(None).to_list()
    return sorted(r["visit_id"] for r in rows if ids & set(r["media_ids"] or []))


def drop_from_visits(store: "Store", visit_ids: Sequence[str], media_ids: Sequence[str]) -> tuple[int, int]:
    """Take files out of visits: each visit's position, span, count and keywords are recomputed from
    the files it keeps, and a visit left with none is deleted. Idempotent. Returns (changed, deleted)."""
    if not visit_ids:
        return 0, 0
    gone = set(media_ids)
    t = store.table(VISITS_TABLE)
    changed: list[Visit] = []
    empty: list[str] = []
    for v in visits(store, in_list("visit_id", visit_ids)):
        keep = [m for m in v.media_ids if m not in gone]
        media = {m.media_id: m for m in store.all_media(in_list("media_id", keep))} if keep else {}
        points = [media[m] for m in keep if m in media and media[m].lat is not None and media[m].captured_at]
        if not points:
            empty.append(v.visit_id)
            continue
        starts = [utc(m.captured_at) for m in points]
        ends = [utc(m.captured_at) + timedelta(seconds=m.duration_s or 0) for m in points]  # type: ignore[operator]
        v.lat = sum(float(m.lat) for m in points) / len(points)  # type: ignore[arg-type]
        v.lon = sum(float(m.lon) for m in points) / len(points)  # type: ignore[arg-type]
        v.start, v.end, v.n_points = min(starts), max(ends), len(points)  # type: ignore[type-var]
        v.media_ids = [m.media_id for m in points]
        episodes = store.episodes(f"{in_list('media_id', v.media_ids)} AND scale = 'segment'",
                                  columns=["media_id", "offset_start", "tags", "transcript"])
        order = {m: i for i, m in enumerate(v.media_ids)}
        v.keywords = _keywords(sorted(episodes, key=lambda e: (order[e["media_id"]], e["offset_start"] or 0)))
        v.place = place_name(v.lat, v.lon)
        changed.append(v)
    with store.lock:
        if changed:
            upsert(t, "visit_id", pa.Table.from_pylist([{
                "visit_id": v.visit_id, "place": v.place, "lat": v.lat, "lon": v.lon, "start": v.start, "end": v.end,
                "n_points": v.n_points, "media_ids": v.media_ids, "keywords": v.keywords,
            } for v in changed], schema=visits_schema()))
        if empty:
            t.delete(in_list("visit_id", empty))
    return len(changed), len(empty)
