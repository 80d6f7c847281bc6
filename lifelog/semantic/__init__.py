"""Semantic memory: what is true over time, kept beside the episodes (WorldMM's semantic memory,
LightMem's "sleep-time" consolidation; ../shared/DESIGN.md).

- `people`: faces (128-d dlib descriptors) clustered incrementally into persons the user names,
  merges, splits and hides.
- `places`: visits, a stay at one place over a time span, from geotagged files.
- `things`: "last seen" records from tags, OCR rows and objects named in speech; a newer sighting
  closes the older record (sets valid_to) without deleting it.

Each takes the episodic `Store` (whose database holds its tables), never the `Memory` facade.
`consolidate(store, new_media)` looks only at the new files' faces, episodes and positions, and
updates centroids and records in place: its cost grows with what is new, not with the library.

    from lifelog import semantic
    report = semantic.consolidate(mem.store, new_media)
    semantic.people.name_person(mem.store, report.new_people[0], "Anna")
    semantic.things.last_seen(mem.store, "keys")     # ThingRecord: where, when, the evidence
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ingest.records import MediaRecord
from lifelog.db import FACES_TABLE, THINGS_TABLE
from lifelog.semantic import people, places, things, voices
from lifelog.sql import in_list

if TYPE_CHECKING:
    from lifelog.store import Store

# the columns consolidation looks rows up by: indexed so that its cost follows the new rows, not the library
_LOOKUPS = {FACES_TABLE: ("media_id", "person_id"), THINGS_TABLE: ("thing", "episode_id")}


@dataclass
class ConsolidationReport:
    faces: int = 0
    new_people: list[str] = field(default_factory=list)
    people_updated: int = 0
    visits: int = 0
    things: int = 0
    seconds: float = 0.0


def consolidate(store: "Store", new_media: Sequence[MediaRecord] | None = None, *,
                face_model: Callable[[], Any] | None = None, home: Path | None = None) -> ConsolidationReport:
    """Fold new files into semantic memory: cluster their faces, extend or open visits, and
    record the things they show or mention. Only the new files' rows are read.

    face_model (a loader) and home: run the face model on the stored keyframes of new files that
    have no face rows (a library ingested before faces were kept, `lifelog consolidate --faces`).
    """
    with store.lock:  # one writer: faces, visits and things are read, changed and written back
        return _consolidate(store, new_media, face_model, home)


def _consolidate(store: "Store", new_media: Sequence[MediaRecord] | None, face_model: Callable[[], Any] | None,
                 home: Path | None) -> ConsolidationReport:
    t0 = time.perf_counter()
    if new_media is None:
        new_media = store.all_media("status = 'ok'")
    new_media = [m for m in new_media if m.status == "ok"]
    report = ConsolidationReport()
    if not new_media:
        return report
    ids = [m.media_id for m in new_media]
    if face_model is not None and home is not None:
        faces_t = store.table(FACES_TABLE)
        have = {r["media_id"] for r in faces_t.search().where(in_list("media_id", ids)).select(["media_id"]).limit(None).to_list()}
        for m in new_media:
            if m.media_id not in have and m.kind in ("photo", "video"):
                found = people.detect_faces(store, m, face_model(), home)
                if found:
                    with store.lock:
                        people.write_faces(store, m, found)
    assigned = people.assign_faces(store, ids)
    report.faces, report.new_people, report.people_updated = assigned.faces, assigned.new_people, assigned.people_updated
    report.new_people += voices.assign_voices(store, ids)
    episodes = store.episodes(f"{in_list('media_id', ids)} AND scale = 'segment'",
                              columns=["episode_id", "media_id", "start", "offset_start", "tags", "ocr",
                                       "transcript", "place", "lat", "lon"])
    report.visits = places.add_visits(store, new_media, episodes)
    report.things = things.add_things(store, episodes)
    _refresh_indexes(store)
    report.seconds = time.perf_counter() - t0
    return report


def _refresh_indexes(store: "Store") -> None:
    from lancedb.index import BTree

    for name, columns in _LOOKUPS.items():
        t = store.table(name)
        if t.count_rows() == 0:
            continue
        have = {c for i in t.list_indices() for c in i.columns}
        with store.lock:
            for col in columns:
                if col not in have:
                    t.create_index(col, config=BTree())
            if have:
                t.optimize()  # folds the new rows into the indexes and compacts small fragments


__all__ = ["ConsolidationReport", "consolidate", "people", "places", "things"]
