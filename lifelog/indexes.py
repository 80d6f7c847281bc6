"""Indexes on the episode table, and how to query through them.

A lifetime of memories is about a million episodes. Below `min_rows` (50k) LanceDB's exact scan
is fast enough (MODELS.md: 37 ms at 20k x 512-d) and exact, so no vector index is built; above it
each vector column gets an IVF_PQ index, queried with a refine step that re-ranks the PQ
candidates with the full vectors (MODELS.md at 1M x 512-d: recall@10 0.60 without refine, 0.986
with nprobes 50 + refine 10 at p95 13 ms; IVF_HNSW_SQ builds several times slower for the same
recall). Scalar indexes (BTREE on `start`, `end`, `media_id`; BITMAP on `scale`) make time-window and
per-file filters cheap, and the full-text index serves `text`.

Filtered search (measured at 1M by benchmarks/bench_search_scale.py): LanceDB applies a
prefilter inside the IVF search and keeps probing partitions until it has `limit` matches, and the
refine step re-ranks with full vectors, so ANN under a 1-month window kept recall@10 1.0 (33 ms).
Exact search after the BTREE prefilter was slower (138 ms for a month's ~8k rows: episodes
imported out of time order sit in every fragment, and each matching vector is a random read), and
so was widening nprobes for a filter (194 ms for a year, same recall). But a prefilter most rows
pass (scale = 'segment', in every app query) costs 130 ms to evaluate, as does counting its rows,
while filtering an over-fetched ANN result afterwards costs 20 ms. Hence `plan_vector_query`:
post-filter first, prefilter only when that leaves too few rows.

`ensure_indexes` is idempotent: an index that covers every row is left alone, one that misses
new rows is brought up to date with `optimize()` (which appends the new rows to the indexes
without retraining), and a vector index trained on less than half of today's rows is rebuilt
(its partition centroids no longer describe the data).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from lancedb.index import FTS, Bitmap, BTree, IvfHnswSq, IvfPq

VectorIndexType = Literal["IVF_PQ", "IVF_HNSW_SQ"]
Action = Literal["created", "rebuilt", "optimized", "fresh", "below_min_rows", "missing_column"]

# LanceDB's IndexConfig.index_type spelling for each kind built here
_CONFIG_NAMES = {"IVF_PQ": "IvfPq", "IVF_HNSW_SQ": "IvfHnswSq", "BTREE": "BTree", "BITMAP": "Bitmap", "FTS": "FTS"}


@dataclass(frozen=True)
class IndexPolicy:
    """Which indexes to build and how to query them; the defaults are the measured choice."""

    # rows from which a vector index pays off; below it exact search is fast and exact
    min_rows: int = 50_000
    vector_index: VectorIndexType = "IVF_PQ"
    # IVF partitions = rows / this (244 at 1M): k-means training cost grows with partitions x rows,
    # and on 2 cores 1000 partitions at 1M is a build of many minutes
    rows_per_partition: int = 4096
    # PQ: 16 dimensions per sub-vector (384-d -> 24 bytes per row); refine re-ranks with the full
    # vectors. 8 per sub-vector doubled the build time (188 s vs 96 s at 60k, loaded machine)
    dims_per_sub_vector: int = 16
    # query knobs for an unfiltered top-k (benchmarks/bench_search_scale.py measured them)
    nprobes: int = 20
    refine_factor: int = 20
    ef: int = 100  # IVF_HNSW_SQ only
    # a filtered query first fetches limit x this nearest rows and filters them afterwards
    overfetch: int = 5
    # a selective filter (the post-filter left too few rows) runs as a prefilter probing this many
    # times nprobes partitions: its few rows are scattered, and LanceDB stops probing as soon as it
    # has `limit` of them, not the nearest ones (recall 0.6 with 1x on the small clustered test)
    prefilter_nprobes_factor: int = 4
    # time windows are written `"end" >= a AND start < b` (lifelog.schema.Filters): both ends need an
    # index for the filter to be answered without a scan. Not duplicate_of: `duplicate_of = ''` (in
    # every app query) matches nearly all rows, and indexing it made a 1-month query 2.5x slower
    # (the index returns every row id; unindexed, it is rechecked on the few rows the time matched)
    scalar_btree: tuple[str, ...] = ("start", "end", "media_id")
    scalar_bitmap: tuple[str, ...] = ("scale",)  # a handful of values: a bitmap is smaller and faster
    fts_column: str = "text"


DEFAULT_POLICY = IndexPolicy()


@dataclass(frozen=True)
class IndexAction:
    column: str
    kind: str  # IVF_PQ, IVF_HNSW_SQ, BTREE, BITMAP, FTS
    action: Action
    seconds: float = 0.0
    size_bytes: int = 0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexReport:
    rows: int
    actions: list[IndexAction]
    optimize_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(a.action in ("created", "rebuilt", "optimized") for a in self.actions)

    def by_column(self) -> dict[str, IndexAction]:
        return {a.column: a for a in self.actions}


def _indices(table: Any) -> dict[str, Any]:
    """Index configs by their (single) column."""
    return {cfg.columns[0]: cfg for cfg in table.list_indices() if len(cfg.columns) == 1}


def vector_index_config(kind: VectorIndexType, rows: int, dim: int, policy: IndexPolicy = DEFAULT_POLICY) -> Any:
    partitions = max(1, rows // policy.rows_per_partition)
    if kind == "IVF_PQ":
        if dim % policy.dims_per_sub_vector:
            raise ValueError(
                f"a {dim}-d vector does not split into sub-vectors of {policy.dims_per_sub_vector} dimensions; "
                f"set IndexPolicy.dims_per_sub_vector to a divisor of {dim}"
            )
        return IvfPq(distance_type="cosine", num_partitions=partitions, num_sub_vectors=dim // policy.dims_per_sub_vector)
    if kind == "IVF_HNSW_SQ":
        # each partition holds its own graph: fewer, larger partitions than IVF_PQ
        return IvfHnswSq(distance_type="cosine", num_partitions=max(1, partitions // 16))
    raise ValueError(f"unknown vector index type {kind!r}; use 'IVF_PQ' or 'IVF_HNSW_SQ'")


def _params(config: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(config).items() if v is not None and not k.startswith("_")}


def ensure_indexes(
    table: Any,
    *,
    vector_columns: Sequence[str] = ("text_vector",),
    min_rows: int | None = None,
    policy: IndexPolicy = DEFAULT_POLICY,
) -> IndexReport:
    """Build the indexes the table lacks and bring stale ones up to date; cheap when all are fresh.

    `min_rows` overrides `policy.min_rows` (the row count from which vector indexes are built).
    """
    min_rows = policy.min_rows if min_rows is None else min_rows
    rows = table.count_rows()
    if rows == 0:
        return IndexReport(0, [])
    schema = table.schema
    existing = _indices(table)
    wanted: list[tuple[str, str]] = [(c, policy.vector_index) for c in vector_columns]
    wanted += [(c, "BTREE") for c in policy.scalar_btree] + [(c, "BITMAP") for c in policy.scalar_bitmap]
    if policy.fts_column:
        wanted.append((policy.fts_column, "FTS"))

    actions: list[IndexAction] = []
    stale: list[tuple[str, str]] = []
    for column, kind in wanted:
        if column not in schema.names:
            actions.append(IndexAction(column, kind, "missing_column"))
            continue
        cfg = existing.get(column)
        is_vector = kind in ("IVF_PQ", "IVF_HNSW_SQ")
        if is_vector and rows < min_rows and cfg is None:
            actions.append(IndexAction(column, kind, "below_min_rows"))
            continue
        rebuild = cfg is not None and (
            cfg.index_type != _CONFIG_NAMES[kind]  # the policy changed
            or (is_vector and cfg.num_indexed_rows < rows / 2)  # centroids trained on a much smaller table
        )
        if cfg is None or rebuild:
            if is_vector:
                config = vector_index_config(kind, rows, schema.field(column).type.list_size, policy)  # type: ignore[arg-type]
            else:
                config = {"BTREE": BTree, "BITMAP": Bitmap, "FTS": FTS}[kind]()
            t0 = time.perf_counter()
            table.create_index(column, config=config, replace=True)
            seconds = time.perf_counter() - t0
            size = _indices(table)[column].size_bytes
            actions.append(IndexAction(column, kind, "rebuilt" if rebuild else "created", seconds, size, _params(config)))
        elif cfg.num_unindexed_rows > 0:
            stale.append((column, kind))
        else:
            actions.append(IndexAction(column, kind, "fresh", size_bytes=cfg.size_bytes))

    optimize_seconds = 0.0
    if stale:
        # one optimize() folds new rows into every index at once (and compacts small fragments)
        t0 = time.perf_counter()
        table.optimize()
        optimize_seconds = time.perf_counter() - t0
        now = _indices(table)
        for column, kind in stale:
            actions.append(IndexAction(column, kind, "optimized", optimize_seconds, now[column].size_bytes))
    return IndexReport(rows, actions, optimize_seconds)


def vector_index_type(table: Any, column: str = "text_vector") -> str | None:
    """IVF_PQ / IVF_HNSW_SQ for an indexed vector column, None where search is exact."""
    cfg = _indices(table).get(column)
    if cfg is None:
        return None
    return {v: k for k, v in _CONFIG_NAMES.items()}.get(cfg.index_type, cfg.index_type)


def search_params(table: Any, column: str = "text_vector", policy: IndexPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Query knobs for an unfiltered top-k on `column`: {} where there is no index (exact search)."""
    kind = vector_index_type(table, column)
    if kind == "IVF_PQ":
        return {"nprobes": policy.nprobes, "refine_factor": policy.refine_factor}
    if kind == "IVF_HNSW_SQ":
        return {"nprobes": policy.nprobes, "ef": policy.ef, "refine_factor": 1}
    return {}


def plan_vector_query(
    table: Any, where: str | None, column: str = "text_vector", policy: IndexPolicy = DEFAULT_POLICY
) -> dict[str, Any]:
    """How to run a (filtered) vector query accurately: {"mode": ..., knobs}.

    mode "exact": no vector index, LanceDB scans (with the filter as a prefilter).
    mode "ann": no filter; the index with `search_params`.
    mode "postfilter": a filter; first the ANN top `limit * overfetch` filtered afterwards (right
    for filters most rows pass, such as scale = 'segment': 20 ms where a prefilter took 132 ms at
    1M), and when that leaves fewer than `limit` rows, the filter is selective and the query runs
    again with it as a prefilter, probing `prefilter_nprobes_factor` times more partitions.
    No row count is taken: counting a filter most rows pass costs as much as a prefilter.
    """
    params = search_params(table, column, policy)
    if not params:
        return {"mode": "exact"}
    if not where:
        return {"mode": "ann", **params}
    return {"mode": "postfilter", "overfetch": policy.overfetch, **params}


def apply_plan(query: Any, plan: dict[str, Any]) -> Any:
    """Set a plan's ANN knobs on a LanceDB vector query builder."""
    if "nprobes" in plan:
        query = query.nprobes(plan["nprobes"])
    if plan.get("refine_factor"):
        query = query.refine_factor(plan["refine_factor"])
    if "ef" in plan:
        query = query.ef(plan["ef"])
    return query


@dataclass(frozen=True)
class VectorHits:
    rows: list[dict]  # best first, `_distance` in each
    path: str  # exact, ann, postfilter, prefilter: how they were found


def vector_query(
    table: Any,
    vector: Any,
    *,
    where: str | None = None,
    limit: int = 10,
    column: str = "text_vector",
    distance_type: str = "cosine",
    columns: list[str] | None = None,
    policy: IndexPolicy = DEFAULT_POLICY,
    selective: bool = False,
) -> VectorHits:
    """Top-`limit` rows nearest `vector` that pass `where`, run as `plan_vector_query` says.

    selective: the caller knows the filter keeps few rows (a time window of weeks): go straight to
    the prefilter (1M rows, a month's window: p95 42 ms, where post-filtering first took 94 ms).
    """
    plan = plan_vector_query(table, where, column, policy)

    def run(prefilter: bool, k: int, nprobes_factor: int = 1) -> list[dict]:
        q = table.search(vector, vector_column_name=column).distance_type(distance_type)
        if where:
            q = q.where(where, prefilter=prefilter)
        if columns:  # with the distance named: lance warns on every query that leaves it implicit
            q = q.select([*columns, *(["_distance"] if "_distance" not in columns else [])])
        knobs = dict(plan, nprobes=plan["nprobes"] * nprobes_factor) if "nprobes" in plan else plan
        return apply_plan(q, knobs).limit(k).to_list()

    if selective and plan["mode"] == "postfilter":
        return VectorHits(run(True, limit, policy.prefilter_nprobes_factor), "prefilter")
    if plan["mode"] in ("exact", "ann"):
        return VectorHits(run(True, limit), plan["mode"])
    rows = run(False, limit * plan["overfetch"])
    if len(rows) >= limit:
        return VectorHits(rows[:limit], "postfilter")
    return VectorHits(run(True, limit, policy.prefilter_nprobes_factor), "prefilter")
