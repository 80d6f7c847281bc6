"""The memory's storage: an embedded LanceDB database with a table of media files and a table of
episodes at every time scale.

Each vector column carries, in its Arrow field metadata, the model that filled it
(`{"model": "all-minilm-l6-v2", "dim": "384"}`): when the active profile's model differs, only that
column is recomputed (`Store.reembed`), from the stored text or keyframes, never by re-ingesting.

A file's episodes are written before its media row; the media row with status "ok" is the commit
marker. On open, episodes whose file has no such row (an interrupted write) are removed, so a
crash at any point leaves every file either fully stored or absent.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import lancedb
import numpy as np
import pyarrow as pa

from ingest.records import EpisodeRecord, FileResult, MediaRecord, Source
from lifelog import indexes, semantic

MEDIA_TABLE = "media"
EPISODE_TABLE = "episodes"
TS = pa.timestamp("us", tz="UTC")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def media_schema() -> pa.Schema:
    return pa.schema([
        pa.field("media_id", pa.string(), nullable=False),
        pa.field("path", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("mtime", TS),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("captured_at", TS),
        pa.field("time_source", pa.string()),
        pa.field("utc_offset_min", pa.int32()),
        pa.field("duration_s", pa.float64()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("rotation", pa.int32()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("altitude", pa.float64()),
        pa.field("device", pa.string()),
        pa.field("codec", pa.string()),
        pa.field("has_audio", pa.bool_()),
        pa.field("thumbnail", pa.string()),
        pa.field("ingested_at", TS),
        pa.field("models", pa.string()),  # "role=model;..." of the models that made its episodes
    ])


def vector_field(name: str, dim: int, model: str) -> pa.Field:
    return pa.field(name, pa.list_(pa.float32(), dim), metadata={"model": model, "dim": str(dim)})


def episode_schema(text_dim: int, text_model: str, image_dim: int, image_model: str) -> pa.Schema:
    source = pa.struct([("media_id", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64())])
    return pa.schema([
        pa.field("episode_id", pa.string(), nullable=False),
        pa.field("scale", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("start", TS),
        pa.field("end", TS),
        pa.field("media_id", pa.string()),
        pa.field("offset_start", pa.float64()),
        pa.field("offset_end", pa.float64()),
        pa.field("parent_id", pa.string()),
        pa.field("sources", pa.list_(source)),
        pa.field("title", pa.string()),
        pa.field("caption", pa.string()),
        pa.field("transcript", pa.string()),
        pa.field("ocr", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("people", pa.list_(pa.string())),
        pa.field("place", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("text", pa.string()),
        vector_field("text_vector", text_dim, text_model),
        pa.field("has_image", pa.bool_()),
        vector_field("image_vector", image_dim, image_model),
        pa.field("keyframe", pa.string()),
        pa.field("thumbnail", pa.string()),
        pa.field("phash", pa.string()),
        pa.field("duplicate_of", pa.string()),
    ])


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


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def media_row(m: MediaRecord) -> dict[str, Any]:
    row = asdict(m)
    row["models"] = ";".join(f"{k}={v}" for k, v in sorted(m.models.items()))
    for key in ("mtime", "captured_at", "ingested_at"):
        row[key] = _utc(row[key])
    return row


def media_from_row(row: dict[str, Any]) -> MediaRecord:
    row = dict(row)
    pairs = [p.split("=", 1) for p in (row.pop("models") or "").split(";") if "=" in p]
    return MediaRecord(**row, models={k: v for k, v in pairs})


class Store:
    """LanceDB tables for media and episodes. Implements `ingest.records.Sink`."""

    def __init__(self, db_path: Path | str, text: VectorColumn, image: VectorColumn):
        self.db_path = Path(db_path)
        self.db_path.mkdir(parents=True, exist_ok=True)
        self.db = lancedb.connect(str(self.db_path))
        self.text = text
        self.image = image
        # writers in other modules (visual, semantic memory) hold it too, so one write finishes before the next
        self.lock = threading.RLock()
        names = set(self.table_names())
        if MEDIA_TABLE not in names:
            self.db.create_table(MEDIA_TABLE, schema=media_schema())
        if EPISODE_TABLE not in names:
            self.db.create_table(
                EPISODE_TABLE, schema=episode_schema(text.dim, text.model, image.dim, image.model)
            )
        self.media_table = self.db.open_table(MEDIA_TABLE)
        self.episode_table = self.db.open_table(EPISODE_TABLE)
        self._indexes_fresh = False
        self.remove_orphans()

    def table_names(self) -> list[str]:
        result = self.db.list_tables()
        return list(getattr(result, "tables", result))

    # --- the Sink interface ------------------------------------------------------------
    def known(self, media_id: str) -> MediaRecord | None:
        rows = (
            self.media_table.search()
            .where(f"media_id = {_quote(media_id)} AND status = 'ok'")
            .limit(1)
            .to_list()
        )
        return media_from_row(rows[0]) if rows else None

    def write(self, result: FileResult) -> None:
        """Episodes first, then the media row: the media row is the commit marker."""
        media = result.media
        media.status, media.error = "ok", ""
        media.ingested_at = media.ingested_at or datetime.now(timezone.utc)
        with self.lock:
            # a changed file replaces its old version; a failed earlier try is forgotten
            self._delete_episodes(f"media_id = {_quote(media.media_id)}")
            if result.episodes:
                self.episode_table.add(self._episode_table(result.episodes))
            if result.visual is not None or self._has_visual_table():
                from lifelog import visual  # loads torch: only when there is visual memory

                visual.delete(self, media.media_id)
                if result.visual is not None:
                    visual.save_video(self, media.media_id, result.visual.video, result.visual.events)
            semantic.write_faces(self, media, result.faces)
            self._upsert_media(media)
            stale = self.media_table.search().where(
                f"path = {_quote(media.path)} AND media_id != {_quote(media.media_id)}"
            ).select(["media_id"]).to_list()
            for row in stale:
                self.forget(row["media_id"])

    def write_failure(self, media: MediaRecord) -> None:
        media.status = "failed"
        with self.lock:
            if self.known(media.media_id):
                return  # the same bytes are already stored from another path
            self.media_table.delete(f"path = {_quote(media.path)} AND status = 'failed'")
            self.media_table.add([media_row(media)], )

    def note_path(self, media_id: str, path: str) -> None:
        with self.lock:
            self.media_table.update(where=f"media_id = {_quote(media_id)}", values={"path": path})
            self.media_table.delete(f"path = {_quote(path)} AND status = 'failed'")

    def set_media_fields(self, media_id: str, **values: Any) -> None:
        with self.lock:
            self.media_table.update(where=f"media_id = {_quote(media_id)}", values=values)

    # --- writing helpers ------------------------------------------------------------------
    def _upsert_media(self, media: MediaRecord) -> None:
        table = pa.Table.from_pylist([media_row(media)], schema=media_schema())
        (
            self.media_table.merge_insert("media_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(table)
        )
        self.media_table.delete(f"path = {_quote(media.path)} AND status = 'failed'")

    def _episode_table(self, episodes: Sequence[EpisodeRecord]) -> pa.Table:
        schema = self.episode_table.schema
        zeros_image = np.zeros(self.image.dim, np.float32)
        rows = []
        for e in episodes:
            row = asdict(e)
            row["start"], row["end"] = _utc(e.start), _utc(e.end)
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
            ids = ", ".join(_quote(e.episode_id) for e in episodes)
            self._delete_episodes(f"episode_id IN ({ids})")
            self.episode_table.add(self._episode_table(episodes))

    def set_duplicates(self, mapping: dict[str, str]) -> None:
        """Mark episodes as near-duplicates of a representative ("" clears the mark)."""
        with self.lock:
            for episode_id, representative in mapping.items():
                self.episode_table.update(
                    where=f"episode_id = {_quote(episode_id)}", values={"duplicate_of": representative}
                )

    def set_parent(self, episode_ids: Iterable[str], parent_id: str) -> None:
        ids = ", ".join(_quote(i) for i in episode_ids)
        if ids:
            with self.lock:
                self.episode_table.update(where=f"episode_id IN ({ids})", values={"parent_id": parent_id})

    def episodes_changed(self) -> None:
        """Episodes were updated in place (names, text): refresh the indexes before the next search."""
        self._indexes_fresh = False

    def delete_episodes(self, where: str) -> None:
        with self.lock:
            self._delete_episodes(where)

    def _delete_episodes(self, where: str) -> None:
        self.episode_table.delete(where)
        self._indexes_fresh = False

    def _has_visual_table(self) -> bool:
        return "visual_memory" in self.table_names()

    def forget(self, media_id: str) -> None:
        """Remove a file and all its episodes from memory."""
        with self.lock:
            if self._has_visual_table():
                from lifelog import visual

                visual.delete(self, media_id)
            if "faces" in self.table_names():
                semantic.table(self, "faces").delete(f"media_id = {_quote(media_id)}")
            self._delete_episodes(f"media_id = {_quote(media_id)}")
            self.media_table.delete(f"media_id = {_quote(media_id)}")

    def remove_orphans(self) -> int:
        """Drop episodes of files whose write never finished (no ok media row)."""
        episode_media = {
            r["media_id"]
            for r in self.episode_table.search().where("media_id != ''").select(["media_id"]).to_list()
        }
        if not episode_media:
            return 0
        ok = {r["media_id"] for r in self.media_table.search().where("status = 'ok'").select(["media_id"]).to_list()}
        orphans = sorted(episode_media - ok)
        if orphans:
            ids = ", ".join(_quote(m) for m in orphans)
            self._delete_episodes(f"media_id IN ({ids})")
        return len(orphans)

    # --- reading ----------------------------------------------------------------------------
    def media(self, media_id: str) -> MediaRecord | None:
        rows = self.media_table.search().where(f"media_id = {_quote(media_id)}").limit(1).to_list()
        return media_from_row(rows[0]) if rows else None

    def all_media(self, where: str | None = None) -> list[MediaRecord]:
        q = self.media_table.search()
        if where:
            q = q.where(where)
        return [media_from_row(r) for r in q.limit(None).to_list()]

    def episodes(self, where: str | None = None, limit: int | None = None, columns: list[str] | None = None) -> list[dict]:
        q = self.episode_table.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(columns)
        return q.limit(limit).to_list()

    def episode(self, episode_id: str) -> dict | None:
        rows = self.episodes(f"episode_id = {_quote(episode_id)}", limit=1)
        return rows[0] if rows else None

    def children(self, episode_id: str) -> list[dict]:
        return sorted(self.episodes(f"parent_id = {_quote(episode_id)}"), key=lambda r: r["start"])

    def ensure_indexes(self) -> None:
        """Bring the indexes up to date on the first search after a write (lifelog/indexes.py says
        which: full-text always, scalar on time, ANN on vectors past 50k rows). Unindexed rows are
        still searched, so this is about speed, never about missing a row."""
        if self._indexes_fresh:
            return
        with self.lock:
            if self.episode_table.count_rows() > 0:
                indexes.ensure_indexes(self.episode_table, vector_columns=("text_vector", "image_vector"))
            self._indexes_fresh = True

    def vector_search(
        self, vector: np.ndarray, *, column: str = "text_vector", where: str | None = None, limit: int = 10,
        selective: bool = False,
    ) -> list[dict]:
        """Nearest episodes by cosine distance (`_distance` in each row; similarity = 1 - distance).

        selective: the filter keeps few rows (a short time window); see `indexes.vector_query`."""
        self.ensure_indexes()
        if column == "image_vector":
            where = f"({where}) AND has_image" if where else "has_image"
        return indexes.vector_query(self.episode_table, np.asarray(vector, np.float32), where=where,
                                    limit=limit, column=column, selective=selective).rows

    def text_search(self, text: str, *, where: str | None = None, limit: int = 10) -> list[dict]:
        """BM25 full-text hits (`_score` in each row); an empty list when no word matches."""
        self.ensure_indexes()
        if not text.strip() or self.episode_table.count_rows() == 0:
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

    def stale_columns(self) -> list[StaleColumn]:
        out = []
        for col in (self.text, self.image):
            model, dim = self.stored_column(col.name)
            if model != col.model or dim != col.dim:
                out.append(StaleColumn(col.name, model, dim, col.model, col.dim))
        return out

    def reembed(self, column: VectorColumn, compute: Callable[[list[dict]], np.ndarray], batch: int = 256,
                progress: Callable[[int, int], None] | None = None) -> int:
        """Recompute one vector column with another model, from stored rows (text, keyframes).

        `compute` receives a batch of episode rows and returns their new vectors (n, column.dim).
        """
        with self.lock:
            rows = self.episodes(columns=["episode_id", "text", "keyframe", "has_image", "media_id", "scale"])
            stored_model, stored_dim = self.stored_column(column.name)
            if stored_dim != column.dim:
                self.episode_table.drop_columns([column.name])
                self.episode_table.add_columns(vector_field(column.name, column.dim, column.model))
            done = 0
            for i in range(0, len(rows), batch):
                chunk = rows[i:i + batch]
                vectors = np.asarray(compute(chunk), np.float32)
                update = pa.table({
                    "episode_id": [r["episode_id"] for r in chunk],
                    column.name: pa.array(list(vectors), type=pa.list_(pa.float32(), column.dim)),
                })
                self.episode_table.merge_insert("episode_id").when_matched_update_all().execute(update)
                done += len(chunk)
                if progress:
                    progress(done, len(rows))
            with warnings.catch_warnings():  # its successor's argument format is undocumented in 0.40
                warnings.simplefilter("ignore", DeprecationWarning)
                self.episode_table.replace_field_metadata(column.name, {"model": column.model, "dim": str(column.dim)})
            return done

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        media = self.media_table.search().select(["kind", "status", "captured_at", "duration_s"]).limit(None).to_list()
        episodes = self.episode_table.search().select(["scale"]).limit(None).to_list()
        ok = [m for m in media if m["status"] == "ok"]
        times = [m["captured_at"] for m in ok if m["captured_at"]]
        by_kind: dict[str, int] = {}
        for m in ok:
            by_kind[m["kind"]] = by_kind.get(m["kind"], 0) + 1
        by_scale: dict[str, int] = {}
        for e in episodes:
            by_scale[e["scale"]] = by_scale.get(e["scale"], 0) + 1
        return {
            "media_by_kind": by_kind,
            "failed": sum(1 for m in media if m["status"] == "failed"),
            "episodes_by_scale": by_scale,
            "first": min(times) if times else None,
            "last": max(times) if times else None,
            "media_hours": sum(m["duration_s"] or 0 for m in ok) / 3600,
        }
