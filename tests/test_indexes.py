"""Episode-table indexes: built once, kept fresh, and queried accurately with and without a time filter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from lifelog import indexes
from lifelog.schema import Filters
from lifelog.db import EPISODE_TABLE, episode_schema

DIM = 32
T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
# small partitions so that 3000 rows still make an IVF index with something to probe
POLICY = indexes.IndexPolicy(min_rows=1000, rows_per_partition=128, dims_per_sub_vector=4, nprobes=4, refine_factor=10)


def clustered(n: int, seed: int) -> np.ndarray:
    """Rows around 40 centroids (cosine ~0.9 to their centroid): structure an IVF index can use."""
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(40, DIM))
    x = centroids[rng.integers(0, 40, n)] + 0.5 * rng.normal(size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def episodes(schema: pa.Schema, first: int, vectors: np.ndarray) -> pa.Table:
    n = len(vectors)
    start = [T0 + timedelta(hours=6 * (first + i)) for i in range(n)]  # 3000 rows span ~2 years
    data = {
        "episode_id": [f"e{first + i}" for i in range(n)],
        "scale": ["segment" if i % 4 else "event" for i in range(n)],
        "start": start, "end": [s + timedelta(minutes=5) for s in start],
        "media_id": [f"m{(first + i) // 10}" for i in range(n)],
        "text": [f"walking the dog in the park number {first + i}" if i % 3 else "cooking dinner in the kitchen"
                 for i in range(n)],
        "text_vector": list(vectors), "image_vector": list(np.zeros((n, DIM), np.float32)),
        "duplicate_of": [""] * n,
    }
    return pa.Table.from_arrays(
        [pa.array(data[f.name], f.type) if f.name in data else pa.nulls(n, f.type) for f in schema], schema=schema
    )


@pytest.fixture()
def table(tmp_path):
    schema = episode_schema(DIM, "fake", DIM, "fake")
    t = lancedb.connect(str(tmp_path)).create_table(EPISODE_TABLE, schema=schema)
    x = clustered(3000, seed=1)
    t.add(episodes(schema, 0, x))
    t.vectors = x  # the ground truth for exact search
    return t


def exact(x: np.ndarray, q: np.ndarray, rows: np.ndarray | None = None, k: int = 10) -> set[int]:
    rows = np.arange(len(x)) if rows is None else rows
    s = x[rows] @ q
    return set(rows[np.argsort(-s)[:k]].tolist())


def search(t, q: np.ndarray, where: str | None = None) -> tuple[list[dict], str]:
    hits = indexes.vector_query(t, q, where=where, limit=10, policy=POLICY)
    return hits.rows, hits.path


def test_builds_every_index_then_is_idempotent(table):
    report = indexes.ensure_indexes(table, policy=POLICY)
    built = {a.column: (a.kind, a.action) for a in report.actions}
    assert built == {"text_vector": ("IVF_PQ", "created"), "start": ("BTREE", "created"), "end": ("BTREE", "created"),
                     "media_id": ("BTREE", "created"), "scale": ("BITMAP", "created"), "text": ("FTS", "created")}
    on_disk = {cfg.columns[0]: cfg.index_type for cfg in table.list_indices()}
    assert on_disk == {"text_vector": "IvfPq", "start": "BTree", "end": "BTree", "media_id": "BTree",
                       "scale": "Bitmap", "text": "FTS"}
    assert indexes.search_params(table, policy=POLICY) == {"nprobes": 4, "refine_factor": 10}

    again = indexes.ensure_indexes(table, policy=POLICY)
    assert {a.action for a in again.actions} == {"fresh"} and not again.changed

    # new rows are folded into the existing indexes, not rebuilt, and the new text is searchable
    extra = clustered(400, seed=2)
    table.add(episodes(table.schema, 3000, extra))
    before = {c.columns[0]: c.index_uuid for c in table.list_indices()}
    grown = indexes.ensure_indexes(table, policy=POLICY)
    assert {a.action for a in grown.actions} == {"optimized"}
    assert all(c.num_unindexed_rows == 0 for c in table.list_indices())
    assert {c.columns[0] for c in table.list_indices()} == set(before)
    hits = table.search("number 3397", query_type="fts").limit(3).to_list()
    assert "e3397" in [h["episode_id"] for h in hits]


def test_small_tables_get_no_vector_index_and_search_exactly(table):
    report = indexes.ensure_indexes(table, min_rows=10_000, policy=POLICY)
    assert report.by_column()["text_vector"].action == "below_min_rows"
    assert "text_vector" not in {c.columns[0] for c in table.list_indices()}
    assert indexes.plan_vector_query(table, None, policy=POLICY)["mode"] == "exact"
    q = table.vectors[5]
    hits, path = search(table, q)
    assert path == "exact"
    assert {int(h["episode_id"][1:]) for h in hits} == exact(table.vectors, q)


def test_a_table_grown_far_past_its_index_is_reindexed(table):
    indexes.ensure_indexes(table, policy=POLICY)
    table.add(episodes(table.schema, 3000, clustered(3500, seed=3)))
    report = indexes.ensure_indexes(table, policy=POLICY)
    assert report.by_column()["text_vector"].action == "rebuilt"  # trained on under half the rows
    assert report.by_column()["start"].action == "optimized"


def test_recall_at_10_with_the_returned_params(table):
    indexes.ensure_indexes(table, policy=POLICY)
    rng = np.random.default_rng(5)
    picks = rng.choice(len(table.vectors), 40, replace=False)
    queries = table.vectors[picks] + 0.2 * rng.normal(size=(40, DIM)).astype(np.float32) / np.sqrt(DIM)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    recalls, plain = [], []
    for q in queries:
        hits, path = search(table, q)
        assert path == "ann"
        recalls.append(len({int(h["episode_id"][1:]) for h in hits} & exact(table.vectors, q)) / 10)
        # without refine, PQ distances alone rank worse: the knobs are what buys the recall
        raw = table.search(q, vector_column_name="text_vector").distance_type("cosine").nprobes(4).limit(10).to_list()
        plain.append(len({int(h["episode_id"][1:]) for h in raw} & exact(table.vectors, q)) / 10)
    assert np.mean(recalls) >= 0.9, f"recall@10 {np.mean(recalls):.2f} (no refine: {np.mean(plain):.2f})"
    assert np.mean(recalls) >= np.mean(plain)


def test_time_filtered_search_stays_inside_the_window(table):
    indexes.ensure_indexes(table, policy=POLICY)
    lo = T0 + timedelta(days=100)
    hi = lo + timedelta(days=10)
    where = Filters(start=lo, end=hi).where()
    starts = [T0 + timedelta(hours=6 * i) for i in range(3000)]
    inside = np.nonzero([(s + timedelta(minutes=5) >= lo) and (s < hi) for s in starts])[0]
    assert len(inside) == 40
    q = table.vectors[int(inside[20])]
    hits, path = search(table, q, where)
    # 40 of 3000 rows: the over-fetched ANN rows hold too few of them, so the filter goes first
    assert path == "prefilter"
    assert len(hits) == 10
    for h in hits:
        assert h["end"] >= lo and h["start"] < hi, h["start"]
    found = {int(h["episode_id"][1:]) for h in hits}
    assert len(found & exact(table.vectors, q, inside)) >= 9
    # a caller that knows the window is short skips the post-filter attempt, with the same rows
    direct = indexes.vector_query(table, q, where=where, limit=10, policy=POLICY, selective=True)
    assert direct.path == "prefilter" and [h["episode_id"] for h in direct.rows] == [h["episode_id"] for h in hits]


def test_a_filter_most_rows_pass_is_applied_after_the_ann_search(table):
    indexes.ensure_indexes(table, policy=POLICY)
    segments = np.array([i for i in range(3000) if i % 4])
    q = table.vectors[7]
    hits, path = search(table, q, Filters().where(scale="segment"))
    assert path == "postfilter"
    assert all(h["scale"] == "segment" for h in hits) and len(hits) == 10
    assert len({int(h["episode_id"][1:]) for h in hits} & exact(table.vectors, q, segments)) >= 9
