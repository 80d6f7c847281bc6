"""The episodic store: the media table (one row per file) and the episodes table (every time scale)
of the library's database, their writes, searches and vector columns.

Each vector column carries, in its Arrow field metadata, the model that filled it
(`{"model": "all-minilm-l6-v2", "dim": "384"}`): when the active profile's model differs, only that
column is recomputed (`Store.reembed`), from the stored text or keyframes, never by re-ingesting.

A file's episodes are written before its media row; the media row with status "ok" is the commit
marker (`lifelog.writer.FileWriter` writes a file's rows across every table in that order), and a
file's episodes land in one commit, so a reader sees all of them or none. Episodes whose file has
no such row (a write killed half-way) are removed by `repair`, which runs under the writer lock
before each ingest: under the lock no other writer is half-way, so what it removes is a crash's.

Nothing on the open or query path writes: index upkeep (`refresh_indexes`) runs after writes,
under the lock. Unindexed rows are still searched, so a stale index costs speed, never a row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingest.records import EpisodeRecord, MediaRecord, Source
from lifelog import indexes
from lifelog.assets import Assets
from lifelog.db import (
    EPISODE_TABLE,
    MEDIA_TABLE,
    Database,
    episode_schema,
    media_schema,
    replace,
    vector_field,
)
from lifelog.hits import MediaInfo
from lifelog.sql import in_list, quote, utc


@dataclass(frozen=True)
class VectorColumn:
    """A vector column and the model that should fill it."""

    name: str  # text_vector or image_vector
    model: str
    dim: int


@dataclass(frozen=True)
class StaleColumn:
    name: str
    stored_model: str
    stored_dim: int
    wanted_model: str
    wanted_dim: int


def media_row(m: MediaRecord) -> dict[str, Any]:
    row = asdict(m)
    row["models"] = ";".join(f"{k}={v}" for k, v in sorted(m.models.items()))
    for key in ("mtime", "captured_at", "ingested_at"):
        row[key] = utc(row[key])
    return row


def media_from_row(row: dict[str, Any]) -> MediaRecord:
    row = dict(row)
    pairs = [p.split("=", 1) for p in (row.pop("models") or "").split(";") if "=" in p]
    return MediaRecord(**row, models={k: v for k, v in pairs})


class Store:
    """The media and episodes tables of one database."""

    def __init__(self, db: Database | Path | str, text: VectorColumn, image: VectorColumn):
        self.database = db if isinstance(db, Database) else Database(db)
        self.lock = self.database.lock
        self.text = text
        self.image = image
        self.media_table = self.database.table(MEDIA_TABLE, media_schema())
        self.episode_table = self.database.table(
            EPISODE_TABLE, episode_schema(text.dim, text.model, image.dim, image.model))
        self._indexes_fresh = False
        self._has_fts = False
        self.assets: Assets | None = None  # the files' pictures (lifelog/assets.py), set by Memory

    def table(self, name: str) -> Any:
        """Another table of the same database (semantic and visual memory keep theirs there)."""
        return self.database.table(name)

    def has_table(self, name: str) -> bool:
        return self.database.has_table(name)

    # --- the Sink interface ------------------------------------------------------------
    def known(self, media_id: str) -> MediaRecord | None:
        rows = (
            self.media_table.search()
            .where(f"media_id = {quote(media_id)} AND status = 'ok'")
            .limit(1)
            .to_list()
        )
        return media_from_row(rows[0]) if rows else None

    def replace_episodes(self, media_id: str, episodes: Sequence[EpisodeRecord]) -> None:
        """A file's episodes, replacing any earlier version's in one commit (before its media row)."""
        with self.lock:
            self._replace(self._episode_table(episodes), f"media_id = {quote(media_id)}")

    def _replace(self, rows: pa.Table, scope: str) -> None:
        """One commit: upsert `rows` by episode id, and delete the other episodes matching `scope`."""
        replace(self.episode_table, "episode_id", rows, scope)
        self._indexes_fresh = False
        if not self.has_fts():  # the first episodes: full-text search needs its index to exist
            self.refresh_indexes()

    def has_fts(self) -> bool:
        """Whether the episodes' full-text index exists (later rows are searched unindexed too)."""
        if not self._has_fts:
            self._has_fts = any(i.index_type == "FTS" for i in self.episode_table.list_indices())
        return self._has_fts

    def commit_media(self, media: MediaRecord) -> list[str]:
        """Write a file's media row with status "ok": the commit marker of its write. Returns the
        ids of other versions stored under the same path (a changed file), for the caller to forget."""
        media.status, media.error = "ok", ""
        with self.lock:
            # the commit's own time, under the lock: later than any consolidation mark made before it
            # (lifelog/consolidation.py), so a file rewritten by a concurrent ingest is pending again
            media.ingested_at = datetime.now(UTC)
            self._upsert_media(media)
            stale = self.media_table.search().where(
                f"path = {quote(media.path)} AND media_id != {quote(media.media_id)}"
            ).select(["media_id"]).to_list()
        return [r["media_id"] for r in stale]

    def write_failure(self, media: MediaRecord) -> None:
        media.status = "failed"
        with self.lock:
            if self.known(media.media_id):
                return  # the same bytes are already stored from another path
            self.media_table.delete(f"path = {quote(media.path)} AND status = 'failed'")
            self.media_table.add([media_row(media)], )

    def note_path(self, media_id: str, path: str) -> None:
        with self.lock:
            self.media_table.update(where=f"media_id = {quote(media_id)}", values={"path": path})
            self.media_table.delete(f"path = {quote(path)} AND status = 'failed'")

    def set_media_fields(self, media_id: str, **values: Any) -> None:
        with self.lock:
            self.media_table.update(where=f"media_id = {quote(media_id)}", values=values)

    # --- writing helpers ------------------------------------------------------------------
    def _upsert_media(self, media: MediaRecord) -> None:
        table = pa.Table.from_pylist([media_row(media)], schema=media_schema())
        (
            self.media_table.merge_insert("media_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(table)
        )
        self.media_table.delete(f"path = {quote(media.path)} AND status = 'failed'")

    def _episode_table(self, episodes: Sequence[EpisodeRecord]) -> pa.Table:
        schema = self.episode_table.schema
        zeros_image = np.zeros(self.image.dim, np.float32)
        rows = []
        for e in episodes:
            row = asdict(e)
            row["start"], row["end"] = utc(e.start), utc(e.end)
            row["sources"] = [asdict(s) if isinstance(s, Source) else s for s in e.sources]
            if e.text_vector is None:
                raise ValueError(f"episode {e.episode_id} has no text vector")
            if len(e.text_vector) != self.text.dim:
                raise ValueError(
                    f"episode {e.episode_id}: text vector has {len(e.text_vector)} dimensions, the table "
                    f"holds {self.text.dim} ({self.text.model}); run `lifelog reindex`"
                )
            row["text_vector"] = np.asarray(e.text_vector, np.float32)
            row["has_image"] = e.image_vector is not None
            image = zeros_image if e.image_vector is None else np.asarray(e.image_vector, np.float32)
            if len(image) != self.image.dim:
                raise ValueError(
                    f"episode {e.episode_id}: image vector has {len(image)} dimensions, the table holds "
                    f"{self.image.dim} ({self.image.model}); run `lifelog reindex`"
                )
            row["image_vector"] = image
            rows.append(row)
        return pa.Table.from_pylist(rows, schema=schema)

    def add_episodes(self, episodes: Sequence[EpisodeRecord]) -> None:
        """Add episodes that span files (days, photo sessions), replacing any with the same ids."""
        if not episodes:
            return
        with self.lock:
            self._replace(self._episode_table(episodes), in_list("episode_id", [e.episode_id for e in episodes]))

    def replace_span_episodes(self, episodes: Sequence[EpisodeRecord], scope: str) -> None:
        """Replace, in one commit, the episodes matching `scope` (a time span's days and photo
        sessions) with `episodes`: a reader sees the old ones or the new ones, never neither."""
        with self.lock:
            self._replace(self._episode_table(episodes), scope)

    def set_duplicates(self, mapping: dict[str, str]) -> None:
        """Mark episodes as near-duplicates of a representative ("" clears the mark)."""
        with self.lock:
            for episode_id, representative in mapping.items():
                self.episode_table.update(
                    where=f"episode_id = {quote(episode_id)}", values={"duplicate_of": representative}
                )

    def set_parent(self, episode_ids: Iterable[str], parent_id: str) -> None:
        ids = list(episode_ids)
        if ids:
            with self.lock:
                self.episode_table.update(where=in_list("episode_id", ids), values={"parent_id": parent_id})

    def episodes_changed(self) -> None:
        """Episodes were updated in place (names, text): refresh the indexes before the next search."""
        self._indexes_fresh = False

    def delete_episodes(self, where: str) -> None:
        with self.lock:
            self._delete_episodes(where)

    def _delete_episodes(self, where: str) -> None:
        self.episode_table.delete(where)
        self._indexes_fresh = False

    def delete_media(self, media_id: str) -> None:
        """Remove a file's episodes and media row (other tables: `lifelog.writer.FileWriter.forget`)."""
        with self.lock:
            self._delete_episodes(f"media_id = {quote(media_id)}")
            self.media_table.delete(f"media_id = {quote(media_id)}")

    def repair(self) -> int:
        """After a crash: drop episodes of files whose write never finished (no ok media row).
        Only under the writer lock (another writer's half-way file is not a crash's)."""
        with self.lock:
            return self.remove_orphans()

    def remove_orphans(self) -> int:
        """Drop episodes and pictures of files whose write never finished (no ok media row)."""
        episode_media = {
            r["media_id"]
            for r in self.episode_table.search().where("media_id != ''").select(["media_id"]).to_list()
        }
        if not episode_media and self.assets is None:
            return 0
        ok = {r["media_id"] for r in self.media_table.search().where("status = 'ok'").select(["media_id"]).to_list()}
        orphans = sorted(episode_media - ok)
        if orphans:
            self._delete_episodes(in_list("media_id", orphans))
        if self.assets is not None:
            self.assets.keep_only(ok)
        return len(orphans)

    # --- reading ----------------------------------------------------------------------------
    def media(self, media_id: str) -> MediaRecord | None:
        rows = self.media_table.search().where(f"media_id = {quote(media_id)}").limit(1).to_list()
        return media_from_row(rows[0]) if rows else None

    def all_media(self, where: str | None = None) -> list[MediaRecord]:
        q = self.media_table.search()
        if where:
            q = q.where(where)
        return [media_from_row(r) for r in q.limit(None).to_list()]

    def media_info(self, rows: Sequence[dict]) -> MediaInfo:
        """media id -> its record, for the files behind some rows (a session's or day's sources too:
        their clock is the clock of the files in them)."""
        ids = {r["media_id"] for r in rows if r.get("media_id")}
        ids |= {s["media_id"] for r in rows if not r.get("media_id") for s in (r.get("sources") or ()) if s.get("media_id")}
        if not ids:
            return {}
        if self.assets is not None:  # remote: their pictures are fetched to this machine once
            self.assets.ensure(ids)
        return {m.media_id: m for m in self.all_media(in_list("media_id", ids))}

    def episodes(self, where: str | None = None, limit: int | None = None, columns: list[str] | None = None) -> list[dict]:
        q = self.episode_table.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(columns)
        return q.limit(limit).to_list()

    def episode(self, episode_id: str) -> dict | None:
        rows = self.episodes(f"episode_id = {quote(episode_id)}", limit=1)
        return rows[0] if rows else None

    def children(self, episode_id: str) -> list[dict]:
        return sorted(self.episodes(f"parent_id = {quote(episode_id)}"), key=lambda r: r["start"])

    def refresh_indexes(self) -> None:
        """Bring the indexes up to date after writes (lifelog/indexes.py says which: full-text
        always, scalar on time, ANN on vectors past 50k rows), under the writer lock. Readers never
        call it: unindexed rows are still searched, so this is about speed, never a missing row."""
        with self.lock:
            if self.episode_table.count_rows() > 0:
                indexes.ensure_indexes(self.episode_table, vector_columns=("text_vector", "image_vector"))
            self.media_table.optimize()  # a commit per file leaves a fragment each: one read, not hundreds
            self._indexes_fresh = True

    def refresh_if_changed(self) -> None:  # after this process wrote episodes
        if not self._indexes_fresh:
            self.refresh_indexes()

    def vector_search(
        self, vector: np.ndarray, *, column: str = "text_vector", where: str | None = None, limit: int = 10,
        selective: bool = False,
    ) -> list[dict]:
        """Nearest episodes by cosine distance (`_distance` in each row; similarity = 1 - distance).

        selective: the filter keeps few rows (a short time window); see `indexes.vector_query`."""
        if column == "image_vector":
            where = f"({where}) AND has_image" if where else "has_image"
        return indexes.vector_query(self.episode_table, np.asarray(vector, np.float32), where=where,
                                    limit=limit, column=column, selective=selective).rows

    def text_search(self, text: str, *, where: str | None = None, limit: int = 10) -> list[dict]:
        """BM25 full-text hits (`_score` in each row); an empty list when no word matches, or when no
        full-text index was ever built (a library whose first ingest was killed before it)."""
        if not text.strip() or self.episode_table.count_rows() == 0 or not self.has_fts():
            return []
        q = self.episode_table.search(text, query_type="fts")
        if where:
            q = q.where(where, prefilter=True)
        try:
            return q.limit(limit).to_list()
        except Exception as e:  # a query of only stop words or odd characters
            if "no" in str(e).lower() and "token" in str(e).lower():
                return []
            raise

    # --- vector columns and models ----------------------------------------------------------
    def stored_column(self, name: str) -> tuple[str, int]:
        field = self.episode_table.schema.field(name)
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        return meta.get("model", ""), field.type.list_size

    def stale_columns(self, *, include_unfinished: bool = False) -> list[StaleColumn]:
        """Vector columns whose model is not the active one; with include_unfinished, also those a
        killed `reembed` left half-way (a `<name>__next` or `<name>__old` column still there)."""
        out = []
        names = self.episode_table.schema.names
        for col in (self.text, self.image):
            model, dim = self.stored_column(col.name)
            unfinished = include_unfinished and (col.name + "__next" in names or col.name + "__old" in names)
            if model != col.model or dim != col.dim or unfinished:
                out.append(StaleColumn(col.name, model, dim, col.model, col.dim))
        return out

    def reembed(self, column: VectorColumn, compute: Callable[[list[dict]], np.ndarray], batch: int = 256,
                progress: Callable[[int, int], None] | None = None) -> int:
        """Recompute one vector column with another model, from stored rows (text, keyframes).

        `compute` receives a batch of episode rows and returns their new vectors (n, column.dim).
        Resumable: the new vectors fill a column of their own (`<name>__next`, its metadata naming
        the new model) while the old column stays valid for searches; one commit then swaps them.
        Killed at any point, the next run goes on with the rows still to do. Returns rows computed.
        """
        pending, old = column.name + "__next", column.name + "__old"
        with self.lock:
            names = self.episode_table.schema.names
            if old in names:  # the swap landed, the clean-up did not
                self.episode_table.drop_columns([old])
                if pending not in names and self.stored_column(column.name) == (column.model, column.dim):
                    return 0
            if pending in names and self.stored_column(pending) != (column.model, column.dim):
                self.episode_table.drop_columns([pending])  # begun for another model
            if pending not in self.episode_table.schema.names:
                self.episode_table.add_columns(vector_field(pending, column.dim, column.model))
            rows = self.episodes(f"{pending} IS NULL",
                                 columns=["episode_id", "text", "keyframe", "has_image", "media_id", "scale"])
            done = 0
            for i in range(0, len(rows), batch):
                chunk = rows[i:i + batch]
                vectors = np.asarray(compute(chunk), np.float32)
                update = pa.table({
                    "episode_id": [r["episode_id"] for r in chunk],
                    pending: pa.array(list(vectors), type=pa.list_(pa.float32(), column.dim)),
                })
                self.episode_table.merge_insert("episode_id").when_matched_update_all().execute(update)
                done += len(chunk)
                if progress:
                    progress(done, len(rows))
            # one commit: the old column steps aside and the complete new one takes its name
            self.episode_table.alter_columns({"path": column.name, "rename": old}, {"path": pending, "rename": column.name})
            self.episode_table.drop_columns([old])
            self._indexes_fresh = False
            return done

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        """Files per kind, episodes per scale, failures, hours, and the span of capture times (with each
        end's UTC offset; files dated only by their copy time counted apart) in `extra`."""
        media = self.media_table.search().select(["kind", "status", "captured_at", "duration_s", "time_source",
                                                  "utc_offset_min"]).limit(None).to_list()
        episodes = self.episode_table.search().select(["scale"]).limit(None).to_list()
        ok = [m for m in media if m["status"] == "ok"]
        is_copy = [(m["time_source"] or "").split(":", 1)[0] in ("file", "ingest") for m in ok]
        dated = sorted((m for m, c in zip(ok, is_copy) if m["captured_at"] and not c), key=lambda m: m["captured_at"])
        return {
            "media_by_kind": dict(Counter(m["kind"] for m in ok)),
            "failed": sum(1 for m in media if m["status"] == "failed"),
            "episodes_by_scale": dict(Counter(e["scale"] for e in episodes)),
            "first": dated[0]["captured_at"] if dated else None,
            "last": dated[-1]["captured_at"] if dated else None,
            "extra": {"first_offset_min": dated[0]["utc_offset_min"] if dated else None,
                      "last_offset_min": dated[-1]["utc_offset_min"] if dated else None,
                      "file_dated": sum(is_copy)},
            "media_hours": sum(m["duration_s"] or 0 for m in ok) / 3600,
        }
