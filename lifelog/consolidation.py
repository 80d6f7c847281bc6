"""Episodes across files after an ingest: the days and photo sessions new files fall into, rebuilt
from their members (`ingest.sessions`), the UTC offsets that videos and recordings lack, and the
record of which files consolidation has folded in.

The record is the `consolidated` table (media id, when): a file stored after its mark (or with
none) is pending, so a run killed between its last write and its consolidation is caught up by
the next ingest. Callers hold the writer lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pyarrow as pa

from ingest.options import IngestOptions, plausible_time
from ingest.records import MediaRecord
from lifelog.db import CONSOLIDATED_TABLE, consolidated_schema, upsert
from lifelog.hits import episode_from_row
from lifelog.sql import ts

if TYPE_CHECKING:
    from lifelog.store import Store


def rebuild_days(store: "Store", new_media: Sequence[MediaRecord], opts: IngestOptions, tz: tzinfo,
                 text_embedder: Callable[[], Any]) -> int | None:
    """Make anew the days and photo sessions (and bursts) of the days new files touched, and point
    their members at them. Returns the episodes created; None when no file has a usable date."""
    from ingest.sessions import consolidate

    times = [m.captured_at for m in new_media if plausible_time(m.captured_at)]
    if not times:
        return None
    infer_offsets(store, new_media)
    # a day's margin on each side: a local date can differ from the UTC date
    # (dates as the files' own clocks give them, read as UTC midnights)
    lo = (min(times) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    hi = (max(times) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    span = f"start >= {ts(lo)} AND start < {ts(hi)}"
    records = [episode_from_row(r) for r in store.episodes(f"scale IN ('segment', 'session') AND {span}")]
    records = [r for r in records if r.media_id]  # photo sessions and days are made anew from their members
    before = {r.episode_id: (r.parent_id, r.duplicate_of) for r in records}
    out = consolidate(records, tz, opts, text_embedder=text_embedder())
    created = [e for e in out if e.episode_id not in before]
    # one commit: a reader sees the span's old days and photo sessions or the new ones
    store.replace_span_episodes(created, f"media_id = '' AND scale IN ('session', 'day') AND {span}")
    parents: dict[str, list[str]] = {}
    duplicates: dict[str, str] = {}
    for r in out:
        if r.episode_id not in before:
            continue
        parent, dup = before[r.episode_id]
        if r.parent_id != parent:
            parents.setdefault(r.parent_id, []).append(r.episode_id)
        if r.duplicate_of != dup:
            duplicates[r.episode_id] = r.duplicate_of
    for parent_id, ids in parents.items():
        store.set_parent(ids, parent_id)
    store.set_duplicates(duplicates)
    return len(created)


def infer_offsets(store: "Store", new_media: Sequence[MediaRecord]) -> None:
    """Give files without a local UTC offset (videos and recordings store UTC) the offset of the
    nearest file in time that has one, within a day: the phone was in the same zone."""
    unknown = [m for m in new_media if m.utc_offset_min is None and m.captured_at]
    if not unknown:
        return
    known = [m for m in store.all_media("status = 'ok' AND utc_offset_min IS NOT NULL") if m.captured_at]
    for m in unknown:
        near = min(known, key=lambda k: abs((k.captured_at - m.captured_at).total_seconds()), default=None)
        if near and abs((near.captured_at - m.captured_at).total_seconds()) <= 86400:
            store.set_media_fields(m.media_id, utc_offset_min=near.utc_offset_min)
            m.utc_offset_min = near.utc_offset_min


def pending(store: "Store", tz: tzinfo) -> list[MediaRecord]:
    """Stored files that consolidation has not folded in since they were written. A library from
    before the record was kept counts each file whose day exists as done (the check it made then)."""
    stored = store.all_media("status = 'ok'")
    if not store.has_table(CONSOLIDATED_TABLE):
        days = {r["episode_id"] for r in store.episodes("scale = 'day'", columns=["episode_id"])}
        mark(store, [m for m in stored if plausible_time(m.captured_at)
                     and f"day:{m.captured_at.astimezone(tz).date().isoformat()}" in days])
    marks = {r["media_id"]: r["at"] for r in store.table(CONSOLIDATED_TABLE).search().limit(None).to_list()}
    return [m for m in stored if m.media_id not in marks
            or (m.ingested_at is not None and marks[m.media_id] < m.ingested_at)]


def mark(store: "Store", media: Sequence[MediaRecord]) -> None:
    """Record that consolidation folded these files in (now: later than their writes)."""
    ids = sorted({m.media_id for m in media if m.status == "ok"})
    now = datetime.now().astimezone()
    upsert(store.table(CONSOLIDATED_TABLE), "media_id",
           pa.Table.from_pylist([{"media_id": i, "at": now} for i in ids], schema=consolidated_schema()))
