"""The library's database: one LanceDB connection, the writers' lock, and every table's schema.

Tables (one schema function each, below):
- media: one row per file; the row with status "ok" is the commit marker of a file's write.
- episodes: every time scale (segment, event, session, day), with text and image vectors whose
  Arrow field metadata names the model that filled them.
- faces, people, visits, things: semantic memory (lifelog/semantic/).
- visual_memory: StreamMem KV caches per video and event (lifelog/visual.py).

Stores of each kind sit on a `Database` and open their tables through `Database.table`, which
creates a missing table with its schema (safe when two threads race to create it).

A database is a local folder (the default) or a URI LanceDB opens (`s3://bucket/lifelog`, with its
`storage_options`). A remote database's writer lock is a file under the home on this machine
(`<home>/locks/`): one machine writes a remote library at a time (a Ray ingest's coordinator is
that machine); readers anywhere see each commit.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import lancedb
import pyarrow as pa

from lifelog.lock import WriterLock

MEDIA_TABLE = "media"
EPISODE_TABLE = "episodes"
FACES_TABLE = "faces"
VOICES_TABLE = "voices"
PEOPLE_TABLE = "people"
VISITS_TABLE = "visits"
THINGS_TABLE = "things"
VISUAL_TABLE = "visual_memory"
CONSOLIDATED_TABLE = "consolidated"
TS = pa.timestamp("us", tz="UTC")
FACE_DIM = 128
VOICE_DIM = 256
# seconds a reader of a remote library may lag other machines' writes (`Database`)
REMOTE_REFRESH_S = 5.0


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


def faces_schema() -> pa.Schema:
    return pa.schema([
        pa.field("face_id", pa.string(), nullable=False),
        pa.field("media_id", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("time", TS),
        pa.field("offset_s", pa.float64()),
        pa.field("box", pa.list_(pa.float32(), 4)),
        pa.field("score", pa.float32()),
        pa.field("embedding", pa.list_(pa.float32(), FACE_DIM)),
        pa.field("crop", pa.string()),
        pa.field("person_id", pa.string()),  # "" until consolidation assigns one
    ])


def voices_schema() -> pa.Schema:
    """One speaker of one recording (ingest.records.VoiceRecord); `person_id` as for faces."""
    return pa.schema([
        pa.field("voice_id", pa.string(), nullable=False),
        pa.field("media_id", pa.string()),
        pa.field("speaker", pa.int32()),
        pa.field("time", TS),  # when they first speak
        pa.field("offset_s", pa.float64()),
        pa.field("seconds", pa.float64()),
        pa.field("starts", pa.list_(pa.float64())),
        pa.field("ends", pa.list_(pa.float64())),
        pa.field("episode_ids", pa.list_(pa.string())),
        pa.field("embedding", pa.list_(pa.float32(), VOICE_DIM)),
        pa.field("person_id", pa.string()),
    ])


def people_schema() -> pa.Schema:
    return pa.schema([
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("hidden", pa.bool_()),
        pa.field("n_faces", pa.int64()),
        pa.field("centroid", pa.list_(pa.float32(), FACE_DIM)),
        pa.field("first_seen", TS),
        pa.field("last_seen", TS),
        pa.field("cover", pa.string()),
    ])


def visits_schema() -> pa.Schema:
    return pa.schema([
        pa.field("visit_id", pa.string(), nullable=False),
        pa.field("place", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("start", TS),
        pa.field("end", TS),
        pa.field("n_points", pa.int64()),
        pa.field("media_ids", pa.list_(pa.string())),
        pa.field("keywords", pa.string()),
    ])


def things_schema() -> pa.Schema:
    return pa.schema([
        pa.field("thing", pa.string()),
        pa.field("source", pa.string()),
        pa.field("time", TS),
        pa.field("place", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("media_id", pa.string()),
        pa.field("offset_s", pa.float64()),
        pa.field("valid_from", TS),
        pa.field("valid_to", TS),
    ])


def visual_schema() -> pa.Schema:
    return pa.schema([
        pa.field("key", pa.string(), nullable=False),  # media id (video) or episode id (event)
        pa.field("media_id", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("scope", pa.string()),  # video or event
        pa.field("start_s", pa.float64()),
        pa.field("end_s", pa.float64()),
        pa.field("model_id", pa.string()),
        pa.field("budget", pa.int32()),
        pa.field("n_layers", pa.int32()),
        pa.field("n_kv_heads", pa.int32()),
        pa.field("head_dim", pa.int32()),
        pa.field("dtype", pa.string()),
        pa.field("n_tokens", pa.int32()),
        pa.field("frames_seen", pa.int32()),
        pa.field("tokens_seen", pa.int64()),
        pa.field("next_position", pa.int64()),
        pa.field("positions_mode", pa.string()),
        pa.field("positions", pa.list_(pa.int64())),
        pa.field("token_times", pa.list_(pa.float64())),
        pa.field("frame_starts", pa.list_(pa.float64())),
        pa.field("frame_ends", pa.list_(pa.float64())),
        pa.field("keys", pa.large_binary()),
        pa.field("keys_shape", pa.list_(pa.int32())),
        pa.field("values", pa.large_binary()),
        pa.field("values_shape", pa.list_(pa.int32())),
        pa.field("created_at", TS),
    ])


def consolidated_schema() -> pa.Schema:
    """The files whose days, sessions and semantic memory consolidation has folded in."""
    return pa.schema([pa.field("media_id", pa.string(), nullable=False), pa.field("at", TS)])


# the tables whose schema does not depend on the active models (episodes' vector sizes do)
SCHEMAS: dict[str, Callable[[], pa.Schema]] = {
    MEDIA_TABLE: media_schema, FACES_TABLE: faces_schema, VOICES_TABLE: voices_schema, PEOPLE_TABLE: people_schema,
    VISITS_TABLE: visits_schema, THINGS_TABLE: things_schema, VISUAL_TABLE: visual_schema,
    CONSOLIDATED_TABLE: consolidated_schema,
}


def is_remote(path: Path | str) -> bool:
    """Whether a database location is a URI of an object store (s3://, gs://, az://, ...), not a folder."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def upsert(table: Any, key: str, rows: pa.Table) -> None:
    """Insert rows or replace those with the same key, in one commit (a reader sees old or new)."""
    if rows.num_rows:
        table.merge_insert(key).when_matched_update_all().when_not_matched_insert_all().execute(rows)


def replace(table: Any, key: str, rows: pa.Table, scope: str) -> None:
    """In one commit: upsert `rows` by `key` and delete the other rows matching `scope` (a file's
    rows, a span's days). A reader sees the old rows or the new ones, never neither."""
    if rows.num_rows == 0:
        table.delete(scope)
    elif not table.search().where(scope).select([key]).limit(1).to_list():
        table.add(rows)  # nothing to replace: a plain append
    else:
        (table.merge_insert(key).when_matched_update_all().when_not_matched_insert_all()
         .when_not_matched_by_source_delete(scope).execute(rows))


class Database:
    """One LanceDB database (a folder) and the lock its writers share, across processes too.

    Reads never write (no repair, no index upkeep on the query path) and see every commit made
    before them, by any process: the connection re-reads a table's latest version on each call.
    """

    def __init__(self, path: Path | str, *, storage_options: dict[str, str] | None = None,
                 lock_dir: Path | None = None, refresh_s: float | None = None):
        self.remote = is_remote(path)
        self.uri = str(path).rstrip("/") if self.remote else str(Path(path))
        self.storage_options = dict(storage_options or {})
        # a local database's folder (None for a remote one: its files are not on this machine)
        self.path: Path | None = None if self.remote else Path(path)
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
        # how stale a read may be. Local: never (each read stats the table: the app sees a CLI ingest at
        # once). Remote: REMOTE_REFRESH_S, since each check is a round trip to the bucket and a search
        # makes several (benchmarks/bench_scale_out.py: 5x fewer requests per search); a writer
        # brings its tables up to date when it takes the lock (`_refresh`), so it never writes from a
        # stale view
        refresh = refresh_s if refresh_s is not None else (REMOTE_REFRESH_S if self.remote else 0.0)
        self.connection = lancedb.connect(self.uri, read_consistency_interval=timedelta(seconds=refresh),
                                          storage_options=self.storage_options or None)
        self._tables: dict[str, Any] = {}  # name -> the open table (`table`)
        self._open_lock = threading.Lock()
        # every writer (episodes, semantic and visual memory) holds it: one writer per library
        if self.path is not None:
            self.lock = WriterLock(self.path, on_acquire=self._refresh if refresh else None)
        else:
            if lock_dir is None:
                raise ValueError(f"a remote database ({self.uri}) needs a local folder for its writer lock")
            folder = Path(lock_dir) / "locks" / hashlib.sha256(self.uri.encode()).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "uri").write_text(self.uri + "\n", encoding="utf-8")
            self.lock = WriterLock(folder, on_acquire=self._refresh if refresh else None)

    def _refresh(self) -> None:
        """Every table this database opened, at its latest version (a writer's view when it takes the lock)."""
        for table in list(self._tables.values()):
            table.checkout_latest()

    def table_folder(self, name: str) -> Path | None:
        """A table's `<name>.lance` folder on this machine; None for a remote database."""
        return None if self.path is None else self.path / f"{name}.lance"

    def table_names(self) -> list[str]:
        result = self.connection.list_tables()
        return list(getattr(result, "tables", result))

    def has_table(self, name: str) -> bool:
        return name in self._tables or name in self.table_names()

    def table(self, name: str, schema: pa.Schema | None = None) -> Any:
        """A table, created empty with its schema (`SCHEMAS`, or the one given) when missing.

        Opened once per database object (tables are never dropped): on object storage each open
        is a listing and a manifest read. An open table still sees every commit (the read
        consistency interval above; a writer's `_refresh`)."""
        table = self._tables.get(name)
        if table is not None:
            return table
        if name not in self.table_names():
            with self.lock:  # another process may be creating it too
                if name not in self.table_names():
                    self.connection.create_table(name, schema=schema if schema is not None else SCHEMAS[name]())
        with self._open_lock:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = self._open(name, schema)
        return table

    def _open(self, name: str, schema: pa.Schema | None) -> Any:
        try:
            return self.connection.open_table(name)
        except ValueError as e:  # listed, never committed: a creation killed half-way (or in flight)
            if "not found" not in str(e):
                raise
            with self.lock:  # creations hold the lock: under it, one still unopenable was killed
                try:
                    return self.connection.open_table(name)
                except ValueError as again:
                    if "not found" not in str(again):
                        raise
                    self.connection.create_table(name, schema=schema if schema is not None else SCHEMAS[name](),
                                                 mode="overwrite")
                    return self.connection.open_table(name)
