"""The LanceDB store: atomic per-file writes, crash leftovers, model changes per vector column, search."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from ingest.records import EpisodeRecord, FileResult, MediaRecord, Source
from lifelog.schema import Filters
from lifelog.store import Store, VectorColumn
from lifelog.writer import FileWriter

T0 = datetime(2025, 6, 14, 9, 0, tzinfo=timezone.utc)


def unit(seed: int, dim: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def make_file(media_id: str, path: str, texts: list[str], dim: int = 8) -> FileResult:
    media = MediaRecord(media_id=media_id, path=path, kind="audio", size_bytes=10, mtime=T0, captured_at=T0,
                        time_source="tag", duration_s=len(texts) * 5.0)
    episodes = [
        EpisodeRecord(episode_id=f"{media_id}:segment:{i}", scale="segment", kind="audio", media_id=media_id,
                      start=T0 + timedelta(seconds=5 * i), end=T0 + timedelta(seconds=5 * i + 5),
                      offset_start=5.0 * i, offset_end=5.0 * i + 5, parent_id=f"{media_id}:session:0",
                      sources=[Source(media_id, 5.0 * i, 5.0 * i + 5)], title=t, transcript=t, text=t,
                      text_vector=unit(hash(t) % 1000, dim))
        for i, t in enumerate(texts)
    ]
    episodes.append(EpisodeRecord(episode_id=f"{media_id}:session:0", scale="session", kind="audio", media_id=media_id,
                                  start=T0, end=T0 + timedelta(seconds=5 * len(texts)), text=" ".join(texts),
                                  text_vector=unit(1, dim)))
    return FileResult(media, episodes)


def open_store(path: Path, dim: int = 8, model: str = "fake-a") -> Store:
    return Store(path, VectorColumn("text_vector", model, dim), VectorColumn("image_vector", "img-a", 4))


def test_write_known_and_search(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    FileWriter(store).write(make_file("m1", "/a/note.m4a", ["I left my keys on the kitchen table", "dinner with Sam at eight"]))
    assert store.known("m1") is not None and store.known("m2") is None
    hits = store.text_search("keys")
    assert [h["episode_id"] for h in hits][:1] == ["m1:segment:0"]
    v = unit(hash("dinner with Sam at eight") % 1000, 8)
    assert store.vector_search(v, where="scale = 'segment'", limit=1)[0]["episode_id"] == "m1:segment:1"
    assert store.text_search("giraffe") == []
    assert [c["episode_id"] for c in store.children("m1:session:0")] == ["m1:segment:0", "m1:segment:1"]


def test_time_filter(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    FileWriter(store).write(make_file("m1", "/a/note.m4a", ["keys on the table"]))
    inside = Filters(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1)).where("segment")
    outside = Filters(start=T0 + timedelta(days=1), end=T0 + timedelta(days=2)).where("segment")
    assert len(store.text_search("keys", where=inside)) == 1
    assert store.text_search("keys", where=outside) == []


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    result = make_file("m1", "/a/note.m4a", ["keys on the table"])
    # a crash after the episodes but before the media row (the commit marker)
    store.episode_table.add(store._episode_table(result.episodes))
    reopened = open_store(tmp_path)
    assert reopened.known("m1") is None
    # opening writes nothing (a reader must never delete a live writer's rows); the next writer repairs
    assert len(reopened.episodes()) == 2
    assert reopened.repair() == 1  # one file's orphaned episodes
    assert reopened.episodes() == []


def test_changed_file_replaces_old_episodes(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    FileWriter(store).write(make_file("old", "/a/note.m4a", ["the old words"]))
    FileWriter(store).write(make_file("new", "/a/note.m4a", ["the new words", "and more"]))
    assert store.known("old") is None
    assert {e["media_id"] for e in store.episodes()} == {"new"}


def test_failure_then_success(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.write_failure(MediaRecord(media_id="x", path="/a/bad.mp4", kind="video", size_bytes=0, mtime=T0,
                                    error="file is empty (0 bytes)"))
    assert [m.error for m in store.all_media("status = 'failed'")] == ["file is empty (0 bytes)"]
    FileWriter(store).write(make_file("good", "/a/bad.mp4", ["fixed"]))
    assert store.all_media("status = 'failed'") == []


def test_model_change_recomputes_only_that_column(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    FileWriter(store).write(make_file("m1", "/a/n.m4a", ["one", "two"]))
    image_before = [e["image_vector"] for e in store.episodes()]
    store = open_store(tmp_path, dim=16, model="fake-b")
    stale = store.stale_columns()
    assert [(s.name, s.stored_model, s.wanted_model) for s in stale] == [("text_vector", "fake-a", "fake-b")]
    n = store.reembed(store.text, lambda rows: np.stack([unit(len(r["text"]), 16) for r in rows]))
    assert n == 3
    assert store.stale_columns() == []
    rows = store.episodes()
    assert all(len(r["text_vector"]) == 16 for r in rows)
    assert [e["image_vector"] for e in rows] == image_before
    assert store.stored_column("text_vector") == ("fake-b", 16)


def test_wrong_dimension_is_a_clear_error(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(ValueError, match="reindex"):
        FileWriter(store).write(make_file("m1", "/a/n.m4a", ["one"], dim=5))


def test_a_table_whose_creation_was_killed_is_created_again(tmp_path: Path) -> None:
    """A kill inside create_table leaves `<name>.lance` listed but with no version: it opens as a new
    empty table (under the writer lock), not as "Table 'things' was not found" on every later run."""
    from lifelog.db import THINGS_TABLE, Database

    (tmp_path / "db" / f"{THINGS_TABLE}.lance").mkdir(parents=True)
    db = Database(tmp_path / "db")
    assert db.has_table(THINGS_TABLE) and db.table(THINGS_TABLE).count_rows() == 0
    assert Database(tmp_path / "db").table(THINGS_TABLE).schema == db.table(THINGS_TABLE).schema
