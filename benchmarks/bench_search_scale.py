"""Search at the scale of a lifetime: 1M synthetic episodes in the real episode table.

Fills a LanceDB table (lifelog.db.episode_schema, 384-d MiniLM vectors) with synthetic
episodes, lets lifelog.indexes.ensure_indexes build its indexes, then measures over >= 200
queries: vector top-10 (no filter, a one-month window, a one-year window, scale = 'segment'),
full-text, hybrid, with p50/p95 latency and recall@10 against exact search, beside brute-force
numpy over the same float32 vectors in the same run.

The data has the structure that makes ANN search hard or easy in real life, not iid noise:
  vectors  64 topics -> 4096 cluster centroids -> sessions of ~20 near-duplicate rows (a burst of
           photos, consecutive utterances) -> the row; cosine to its centroid ~0.7; a common mean
           direction, as sentence embeddings have
  times    20 years (2006-2025), each year 1.2x denser than the one before, daytime hours, rows of
           a session seconds apart; written in random order (an archive imported out of order)
  text     templated sentences; the cluster picks the activity and place, the row the people and
           objects, so text and vector agree
Queries are real rows perturbed (cosine ~0.95 to their row); time windows are the month / year
around the query row, written as the app writes them (lifelog.schema.Filters.where).

    .venv/bin/python benchmarks/bench_search_scale.py             # 1M rows (~30 min on 2 cores)
    .venv/bin/python benchmarks/bench_search_scale.py --rows 300000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# lance's Rust log: a hybrid query cannot name `_distance`/`_score` in its columns, and lance then
# warns on every query that it will stop adding them (the other queries here name them)
os.environ.setdefault("LANCEDB_LOG", "error")  # lancedb's Rust logger (LANCE_LOG does not reach it)

import lancedb  # noqa: E402
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelog import indexes  # noqa: E402
from lifelog.schema import Filters  # noqa: E402
from lifelog.db import EPISODE_TABLE, episode_schema  # noqa: E402

DIM = 384
TOPICS, CENTROIDS, SESSION = 64, 4096, 20
YEAR0, YEARS = 2006, 20
SCALES = np.array(["segment", "event", "session", "day"])
SCALE_P = [0.70, 0.20, 0.07, 0.03]

ACTIVITIES = ["cooking dinner", "riding a bicycle", "reading a book", "playing guitar", "swimming", "hiking",
              "shopping for groceries", "watching a film", "painting", "working on a laptop", "eating lunch",
              "walking the dog", "playing football", "drinking coffee", "taking a train", "flying to a conference",
              "gardening", "repairing a car", "baking bread", "playing chess", "running a marathon", "skiing",
              "visiting a museum", "having a picnic", "fishing", "camping", "dancing", "singing", "writing letters",
              "building a sandcastle", "feeding the ducks", "doing yoga"]
PLACES = ["kitchen", "beach", "office", "park", "Madrid", "Paris", "Berlin", "Lisbon", "mountains", "lake",
          "supermarket", "train station", "airport", "garden", "museum", "library", "cafe", "stadium", "forest",
          "hospital", "school", "harbour", "market", "cinema", "living room", "balcony", "campsite", "river bank"]
PEOPLE = ["Anna", "Ben", "Carlos", "Dana", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kim", "Lena",
          "Marco", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sam", "Tara", "mum", "dad", "grandma", "the kids"]
OBJECTS = ["keys", "umbrella", "red backpack", "camera", "passport", "blue mug", "guitar", "laptop", "bicycle",
           "wallet", "sunglasses", "notebook", "phone", "birthday cake", "kite", "map", "surfboard", "scarf",
           "tent", "ticket", "book about birds", "football", "paintbrush", "watch"]
TEMPLATES = ["{a} at the {p} with {who}; the {o} was on the table",
             "{who} and I were {a} near the {p}, I had my {o}",
             "photo of {who} {a} in the {p}, a {o} in the background",
             "we talked about the {o} while {a} at the {p} with {who}",
             "{a} at the {p}; {who} forgot the {o}"]


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Generator:
    """Deterministic synthetic episodes, one batch at a time (memory stays bounded)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        r = self.rng
        mean = unit_rows(r.normal(size=(1, DIM)))
        topics = unit_rows(r.normal(size=(TOPICS, DIM)))
        topic_of = r.integers(0, TOPICS, CENTROIDS)
        self.centroids = unit_rows(0.5 * mean + topics[topic_of] + 0.8 * unit_rows(r.normal(size=(CENTROIDS, DIM))))
        self.activity_of = r.integers(0, len(ACTIVITIES), CENTROIDS)
        self.place_of = r.integers(0, len(PLACES), CENTROIDS)
        weights = 1.2 ** np.arange(YEARS)
        self.year_p = weights / weights.sum()

    def batch(self, first: int, n: int) -> tuple[dict[str, np.ndarray], list[str]]:
        r = self.rng
        sessions = -(-n // SESSION)
        cent = r.integers(0, CENTROIDS, sessions)
        micro = self.centroids[cent] + 0.6 * unit_rows(r.normal(size=(sessions, DIM)))
        s_of = np.repeat(np.arange(sessions), SESSION)[:n]
        noise = unit_rows(r.normal(size=(n, DIM)).astype(np.float32))
        vec = unit_rows((micro[s_of] + 0.55 * noise).astype(np.float32)).astype(np.float32)
        # session start: a year (denser lately), a day, a daytime hour; rows 30 s apart within it
        year = YEAR0 + r.choice(YEARS, sessions, p=self.year_p)
        jan1 = np.array([datetime(y, 1, 1, tzinfo=timezone.utc).timestamp() for y in range(YEAR0, YEAR0 + YEARS + 1)])
        day = r.integers(0, 365, sessions)
        hour = np.clip(r.normal(14, 3.5, sessions), 6, 23)
        t0 = jan1[year - YEAR0] + day * 86400 + hour * 3600
        within = np.tile(np.arange(SESSION), sessions)[:n] * 30.0
        start = ((t0[s_of] + within) * 1e6).astype(np.int64)
        scale = SCALES[r.choice(4, n, p=SCALE_P)]
        length = np.where(scale == "segment", 8, np.where(scale == "event", 300, np.where(scale == "session", 3600, 86400)))
        who, obj, tpl = r.integers(0, len(PEOPLE), n), r.integers(0, len(OBJECTS), n), r.integers(0, len(TEMPLATES), n)
        c = cent[s_of]
        texts = [TEMPLATES[tpl[i]].format(a=ACTIVITIES[self.activity_of[c[i]]], p=PLACES[self.place_of[c[i]]],
                                          who=PEOPLE[who[i]], o=OBJECTS[obj[i]]) for i in range(n)]
        cols = {"vec": vec, "start": start, "end": start + length.astype(np.int64) * 1_000_000, "scale": scale,
                "session": first // SESSION + s_of, "has_image": r.random(n) < 0.5}
        return cols, texts


def arrow_batch(schema: pa.Schema, first: int, cols: dict[str, np.ndarray], texts: list[str]) -> pa.Table:
    n = len(texts)
    vec = pa.FixedSizeListArray.from_arrays(pa.array(cols["vec"].reshape(-1)), DIM)
    # visual episodes carry an image vector (here the text vector, it is only stored); others zeros
    img = np.where(cols["has_image"][:, None], cols["vec"], 0).astype(np.float32)
    media = [f"m{s:07d}" for s in cols["session"]]
    data = {
        "episode_id": [f"e{first + i:08d}" for i in range(n)],
        "scale": cols["scale"].tolist(),
        "kind": np.where(cols["has_image"], "photo", "audio").tolist(),
        "start": pa.array(cols["start"], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "end": pa.array(cols["end"], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "media_id": media,
        "offset_start": np.zeros(n), "offset_end": np.full(n, 8.0),
        "parent_id": [""] * n,
        "title": [t[:40] for t in texts], "caption": texts, "transcript": [""] * n, "ocr": [""] * n,
        "place": [""] * n, "text": texts,
        "text_vector": vec, "has_image": cols["has_image"],
        "image_vector": pa.FixedSizeListArray.from_arrays(pa.array(img.reshape(-1)), DIM),
        "keyframe": [""] * n, "thumbnail": [""] * n, "phash": [""] * n, "duplicate_of": [""] * n,
    }
    arrays = [data[f.name] if f.name in data else pa.nulls(n, f.type) for f in schema]
    arrays = [a if isinstance(a, (pa.Array, pa.ChunkedArray)) else pa.array(a, f.type) for a, f in zip(arrays, schema)]
    return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, schema)], schema=schema)


def pct(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2)}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def exact_topk(x: np.ndarray, q: np.ndarray, rows: np.ndarray | None, k: int = 10) -> np.ndarray:
    """Brute force over float32 (cosine = dot on unit vectors); rows restricts to a filter's rows."""
    sub = x if rows is None else x[rows]
    s = sub @ q
    k = min(k, len(s))
    top = np.argpartition(-s, k - 1)[:k]
    top = top[np.argsort(-s[top])]
    return top if rows is None else rows[top]


def ts(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--index", choices=["IVF_PQ", "IVF_HNSW_SQ"], default=indexes.DEFAULT_POLICY.vector_index)
    ap.add_argument("--db", type=Path, default=None, help="database folder (default: a temporary one, removed)")
    ap.add_argument("--reuse", action="store_true", help="search an already filled --db instead of refilling it")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "search_scale.json")
    args = ap.parse_args()
    policy = indexes.IndexPolicy(vector_index=args.index)
    db_path = args.db or Path(tempfile.mkdtemp(prefix="lifelog-scale-"))
    result: dict = {"rows": args.rows, "dim": DIM, "queries": args.queries, "index": args.index, "policy": vars(policy)}
    gen = Generator(args.seed)
    x = np.empty((args.rows, DIM), np.float32)
    start = np.empty(args.rows, np.int64)
    end = np.empty(args.rows, np.int64)
    scale = np.empty(args.rows, "<U7")
    texts_sample: list[str] = []

    db = lancedb.connect(str(db_path))
    schema = episode_schema(DIM, "all-minilm-l6-v2", DIM, "label-embed-effnet-minilm")
    t0 = time.perf_counter()
    if not args.reuse:
        if EPISODE_TABLE in list(getattr(db.list_tables(), "tables", [])):
            db.drop_table(EPISODE_TABLE)
        table = db.create_table(EPISODE_TABLE, schema=schema)
    for first in range(0, args.rows, args.batch):
        n = min(args.batch, args.rows - first)
        cols, texts = gen.batch(first, n)
        x[first:first + n], start[first:first + n], end[first:first + n] = cols["vec"], cols["start"], cols["end"]
        scale[first:first + n] = cols["scale"]
        texts_sample += texts[:: max(1, n // 50)]
        if not args.reuse:
            table.add(arrow_batch(schema, first, cols, texts))
        print(f"\r{first + n:,} rows  {time.perf_counter() - t0:.0f} s", end="", flush=True)
    print()
    table = db.open_table(EPISODE_TABLE)
    result["fill_seconds"] = round(time.perf_counter() - t0, 1)
    table_dir = db_path / f"{EPISODE_TABLE}.lance"
    data_bytes = dir_size(table_dir)

    t0 = time.perf_counter()
    report = indexes.ensure_indexes(table, vector_columns=("text_vector",), policy=policy)
    result["index_seconds_total"] = round(time.perf_counter() - t0, 1)
    result["indexes"] = [{"column": a.column, "kind": a.kind, "action": a.action, "seconds": round(a.seconds, 1),
                          "size_mb": round(a.size_bytes / 2**20, 1), "params": {k: str(v) for k, v in a.params.items()}}
                         for a in report.actions]
    t0 = time.perf_counter()
    again = indexes.ensure_indexes(table, vector_columns=("text_vector",), policy=policy)
    result["ensure_again_seconds"] = round(time.perf_counter() - t0, 3)
    result["ensure_again_actions"] = sorted({a.action for a in again.actions})
    total_bytes = dir_size(table_dir)
    result["disk_mb"] = {"data": round(data_bytes / 2**20), "total": round(total_bytes / 2**20),
                         "indexes": round((total_bytes - data_bytes) / 2**20)}
    print(f"indexes built in {result['index_seconds_total']} s; disk {result['disk_mb']}")

    # --- queries: perturbed real rows, cosine ~0.95 to their row
    rng = np.random.default_rng(args.seed + 1)
    qi = rng.choice(args.rows, args.queries, replace=False)
    qv = unit_rows(x[qi] + 0.33 * unit_rows(rng.normal(size=(args.queries, DIM)).astype(np.float32))).astype(np.float32)

    def window(i: int, days: int) -> tuple[str, np.ndarray]:
        """The app's where clause for the `days` around row i, and the rows it matches."""
        centre = ts(int(start[i]))
        lo, hi = centre - timedelta(days=days / 2), centre + timedelta(days=days / 2)
        lo_us, hi_us = int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6)
        rows = np.nonzero((end >= lo_us) & (start < hi_us))[0]
        return Filters(start=lo, end=hi).where(), rows

    segment_rows = np.nonzero(scale == "segment")[0]
    def segment_window(i: int, days: int) -> tuple[str, np.ndarray]:
        centre = ts(int(start[i]))
        lo, hi = centre - timedelta(days=days / 2), centre + timedelta(days=days / 2)
        lo_us, hi_us = int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6)
        rows = np.nonzero((end >= lo_us) & (start < hi_us) & (scale == "segment"))[0]
        return Filters(start=lo, end=hi).where(scale="segment"), rows

    filters = {
        "none": lambda i: (None, None),
        "month": lambda i: window(i, 30),
        "month+segment": lambda i: segment_window(i, 30),
        "year": lambda i: window(i, 365),
        "scale=segment": lambda i: (Filters().where(scale="segment"), segment_rows),
    }

    def lance_query(v: np.ndarray, where: str | None, plan: dict) -> list[int]:
        """One query with fixed knobs, the filter as a prefilter (the baseline the plan is weighed against)."""
        q = table.search(v, vector_column_name="text_vector").distance_type("cosine")
        if where:
            q = q.where(where, prefilter=True)
        q = indexes.apply_plan(q, plan)
        ids = q.select(["episode_id", "_distance"]).limit(10).to_arrow()["episode_id"].to_pylist()
        return [int(s[1:]) for s in ids]

    def planned_query(v: np.ndarray, where: str | None) -> tuple[list[int], str]:
        hits = indexes.vector_query(table, v, where=where, limit=10, columns=["episode_id"], policy=policy)
        return [int(r["episode_id"][1:]) for r in hits.rows], hits.path

    def recall(got: list[int], truth: np.ndarray) -> float:
        return len(set(got) & set(truth.tolist())) / max(1, min(10, len(truth)))

    for j in range(5):  # warm the index caches
        planned_query(qv[j], None)
    vector: dict = {}
    for name, make in filters.items():
        brute_t, lance_t, recalls, matched, modes, truths, wheres = [], [], [], [], [], [], []
        for j in range(args.queries):
            where, rows = make(int(qi[j]))
            t = time.perf_counter()
            truth = exact_topk(x, qv[j], rows)
            brute_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            got, path = planned_query(qv[j], where)
            lance_t.append(time.perf_counter() - t)
            recalls.append(recall(got, truth))
            matched.append(args.rows if rows is None else len(rows))
            modes.append(path)
            truths.append(truth)
            wheres.append(where)
        entry = {"lance": {**pct(lance_t), "recall@10": round(float(np.mean(recalls)), 4),
                           "min_recall": round(float(np.min(recalls)), 2),
                           "modes": {m: modes.count(m) for m in set(modes)}},
                 "numpy": pct(brute_t), "matched_rows_median": int(np.median(matched))}
        # the road not taken, to justify the plan: ANN with the filter always as a prefilter
        if name != "none":
            alt_t, alt_r = [], []
            base = {"mode": "ann", **indexes.search_params(table, policy=policy)}
            for j in range(args.queries):
                t = time.perf_counter()
                got = lance_query(qv[j], wheres[j], base)
                alt_t.append(time.perf_counter() - t)
                alt_r.append(recall(got, truths[j]))
            entry["ann_prefilter"] = {**pct(alt_t), "recall@10": round(float(np.mean(alt_r)), 4)}
        vector[name] = entry
        print(f"vector {name:14s} lance {entry['lance']}  numpy {entry['numpy']}  {entry.get('ann_prefilter', '')}")
    result["vector_top10"] = vector

    # knob sweep without a filter: what each nprobes / refine_factor buys
    truths = [exact_topk(x, qv[j], None) for j in range(args.queries)]
    sweep = []
    if indexes.vector_index_type(table, "text_vector"):
        for nprobes, refine in [(10, 1), (10, 10), (20, 10), (20, 20), (40, 20), (60, 30)]:
            lat, rec = [], []
            plan = {"mode": "ann", "nprobes": nprobes, "refine_factor": refine, "ef": policy.ef}
            for j in range(args.queries):
                t = time.perf_counter()
                got = lance_query(qv[j], None, plan)
                lat.append(time.perf_counter() - t)
                rec.append(recall(got, truths[j]))
            sweep.append({"nprobes": nprobes, "refine_factor": refine, **pct(lat), "recall@10": round(float(np.mean(rec)), 4)})
            print(f"sweep nprobes={nprobes} refine={refine}: {sweep[-1]}")
    result["knob_sweep"] = sweep

    # full text and hybrid
    words = [f"{ACTIVITIES[i % len(ACTIVITIES)].split()[-1]} {PLACES[(i * 7) % len(PLACES)]}" for i in range(args.queries)]
    fts_t, fts_hits = [], []
    for w in words:
        t = time.perf_counter()
        hits = table.search(w, query_type="fts").select(["episode_id", "_score"]).limit(10).to_arrow()
        fts_t.append(time.perf_counter() - t)
        fts_hits.append(hits.num_rows)
    result["fts"] = {**pct(fts_t), "mean_hits": float(np.mean(fts_hits))}
    hyb_t = []
    params = indexes.search_params(table, policy=policy)
    for j, w in enumerate(words):
        t = time.perf_counter()
        q = table.search(query_type="hybrid", vector_column_name="text_vector").vector(qv[j]).text(w)
        q = q.distance_type("cosine")
        if "nprobes" in params:
            q = q.nprobes(params["nprobes"]).refine_factor(params["refine_factor"])
        q.select(["episode_id"]).limit(10).to_arrow()
        hyb_t.append(time.perf_counter() - t)
    result["hybrid"] = pct(hyb_t)
    print(f"fts {result['fts']}  hybrid {result['hybrid']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print_table(result)
    print(f"written {args.out}")
    if args.db is None:
        shutil.rmtree(db_path, ignore_errors=True)


def print_table(r: dict) -> None:
    print(f"\n{r['rows']:,} episodes x {r['dim']}-d, {r['index']}; fill {r['fill_seconds']} s, "
          f"indexes {r['index_seconds_total']} s, disk {r['disk_mb']}")
    for i in r["indexes"]:
        print(f"  index {i['column']:13s} {i['kind']:11s} {i['action']:14s} {i['seconds']:7.1f} s {i['size_mb']:8.1f} MB")
    print(f"  ensure_indexes again: {r['ensure_again_seconds']} s, {r['ensure_again_actions']}")
    print(f"{'query':22s} {'lance p50':>10s} {'p95':>8s} {'recall@10':>9s} {'numpy p50':>10s} {'p95':>8s}  rows matched")
    for name, e in r["vector_top10"].items():
        lance, npy = e["lance"], e["numpy"]
        print(f"{'vector ' + name:22s} {lance['p50_ms']:10.1f} {lance['p95_ms']:8.1f} {lance['recall@10']:9.3f} "
              f"{npy['p50_ms']:10.1f} {npy['p95_ms']:8.1f}  {e['matched_rows_median']:,} {lance['modes']}")
        if "ann_prefilter" in e:
            a = e["ann_prefilter"]
            print(f"{'  (always prefilter)':22s} {a['p50_ms']:10.1f} {a['p95_ms']:8.1f} {a['recall@10']:9.3f}")
    print(f"{'fts':22s} {r['fts']['p50_ms']:10.1f} {r['fts']['p95_ms']:8.1f}")
    print(f"{'hybrid (RRF)':22s} {r['hybrid']['p50_ms']:10.1f} {r['hybrid']['p95_ms']:8.1f}")


if __name__ == "__main__":
    main()
