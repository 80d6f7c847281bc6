"""Scale-out, measured in one run on this machine, with the real servers on loopback:

- ingest of the same folders (default ../shared/media and ../shared/eval/media) by one `lifelog
  ingest` process into a local library (the baseline), by one process into a library in an S3
  bucket (SeaweedFS), and through a Ray cluster of two nodes (`ray start`, 1 CPU each) with 1 and
  with 2 workers into the bucket; and by one process into the bucket through a proxy that adds a
  network's round trip (--rtt-ms) to each request (what the writer pays on a distant bucket);
- search latency on the local library vs the bucket's: the first search on a freshly opened
  library and the median of warm ones, over queries that do not depend on the folders; on loopback
  and through a proxy that adds a network's round trip (--rtt-ms) to each request to the bucket,
  with readers that check for a newer version on every read (refresh 0) or every 5 s (the
  default for a remote library), and the requests each search makes;
- nearest-neighbour search over a synthetic table of --vector-rows 384-d vectors in the bucket at
  +RTT: exact scan vs the IVF_PQ index lifelog builds past 50k rows;
- the bucket's bytes after the four libraries in it.

    .venv/bin/python benchmarks/bench_scale_out.py [--folder F ...] [--rounds 20] [--rtt-ms 20]

Every ingest is a fresh `lifelog ingest` subprocess (models loaded inside it, or inside each Ray
worker), so each row pays its own start-up, as a user's command does. Ratios are to the baseline
(results in benchmarks/results/scale_out.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _scale_servers import RayCluster, S3Server, SlowProxy  # noqa: E402

LIFELOG = str(Path(sys.executable).with_name("lifelog"))
QUERIES = ["someone talking", "food in a kitchen", "water outside", "an animal", "a room indoors",
           "people moving", "a drink", "a plant with flowers", "a vehicle", "numbers counted aloud"]

def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFELOG_", "AWS_"))}
    return {**env, "LIFELOG_SERVICE": "off", "RAY_USAGE_STATS_ENABLED": "0", **extra}


def ingest(env: dict[str, str], folders: list[Path], *extra: str) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run([LIFELOG, "ingest", "--quiet", *extra, *map(str, folders)], capture_output=True, text=True,
                          env=env)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"ingest {' '.join(extra)} failed:\n{done.stdout}\n{done.stderr}")
    return {"seconds": round(seconds, 2), "report": done.stdout.strip().splitlines()[-1:]}


def search_latency(home: Path, rounds: int, **settings: object) -> dict:
    """A fresh Memory on a library (the text model already loaded in this process): the first search
    (tables opened cold) and warm ones."""
    import lifelog

    mem = lifelog.open(home, **settings)
    t0 = time.perf_counter()
    mem.search(QUERIES[0])
    first = time.perf_counter() - t0
    warm = []
    for i in range(rounds):
        t = time.perf_counter()
        mem.search(QUERIES[i % len(QUERIES)])
        warm.append(time.perf_counter() - t)
    return {"first_ms": round(1000 * first, 1), "warm_median_ms": round(1000 * statistics.median(warm), 1),
            "warm_p90_ms": round(1000 * sorted(warm)[max(0, int(0.9 * len(warm)) - 1)], 1)}


def vector_latency(uri: str, options: dict[str, str], proxy: SlowProxy, rows: int, rounds: int) -> dict:
    """A synthetic episodes-like table of `rows` 384-d vectors in the bucket: nearest-neighbour search
    by exact scan, then with the IVF_PQ index lifelog builds (lifelog/indexes.py), each with the
    requests it makes. Shows which index choice stays fast on object storage."""
    import lancedb
    import numpy as np
    import pyarrow as pa

    from lifelog.indexes import vector_index_config

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((rows, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = pa.table({"episode_id": [f"e{i}" for i in range(rows)],
                     "text_vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 384)})
    db = lancedb.connect(uri, storage_options=options, read_consistency_interval=None)
    table = db.create_table("vectors", data=data, mode="overwrite")
    queries = rng.standard_normal((rounds, 384)).astype(np.float32)

    def timed() -> dict:
        times = []
        before = proxy.requests
        for q in queries:
            t = time.perf_counter()
            table.search(q, vector_column_name="text_vector").distance_type("cosine").limit(20).to_list()
            times.append(time.perf_counter() - t)
        return {"median_ms": round(1000 * statistics.median(times), 1),
                "requests_per_search": round((proxy.requests - before) / rounds, 1)}

    out = {"rows": rows, "exact scan": timed()}
    table.create_index("text_vector", config=vector_index_config("IVF_PQ", rows, 384))
    out["IVF_PQ index"] = timed()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, nargs="+",
                    default=[ROOT.parent / "shared" / "media", ROOT.parent / "shared" / "eval" / "media"])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--rtt-ms", type=float, default=20.0, help="round trip added to each request to the bucket")
    ap.add_argument("--vector-rows", type=int, default=50_000, help="rows of the synthetic vector table (0: skip)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale_out.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lifelog-scale-bench-"))
    from ingest.probe import SUPPORTED_EXTS

    files = [p for f in args.folder for p in f.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTS]
    rows: dict[str, dict] = {}
    with S3Server(tmp) as s3, RayCluster(tmp, nodes=2, cpus=1) as cluster:
        local = clean_env(LIFELOG_HOME=str(tmp / "local"))
        runs = [
            ("one process, local library (baseline)", local, ()),
            ("one process, library in S3", clean_env(LIFELOG_HOME=str(tmp / "s3one"), **s3.env("s3://lifelog/one")), ()),
            ("Ray, 1 worker, library in S3", clean_env(LIFELOG_HOME=str(tmp / "ray1"), **s3.env("s3://lifelog/ray1")),
             ("--ray", cluster.address, "--ray-workers", "1")),
            ("Ray, 2 workers, library in S3", clean_env(LIFELOG_HOME=str(tmp / "ray2"), **s3.env("s3://lifelog/ray2")),
             ("--ray", cluster.address, "--ray-workers", "2")),
        ]
        for name, env, extra in runs:
            rows[name] = ingest(env, args.folder, *extra)
            print(f"{name}: {rows[name]['seconds']} s  {rows[name]['report']}", flush=True)
        # the writer's cost on a bucket across a network: the same one-process ingest, each request delayed
        with SlowProxy(s3.port, args.rtt_ms / 1000) as proxy:
            name = f"one process, library in S3 at +{args.rtt_ms:.0f} ms per request"
            env = clean_env(LIFELOG_HOME=str(tmp / "s3far"), **{**s3.env("s3://lifelog/far"),
                                                               "AWS_ENDPOINT_URL": proxy.endpoint})
            rows[name] = ingest(env, args.folder)
            rows[name]["requests"] = proxy.requests
            print(f"{name}: {rows[name]['seconds']} s, {proxy.requests} requests", flush=True)
        base = rows[runs[0][0]]["seconds"]
        import lancedb

        media = lancedb.connect(str(tmp / "local" / "lancedb")).open_table("media").search().limit(None).to_list()
        media_s = sum(float(m["duration_s"] or 0) for m in media if m["status"] == "ok")
        for r in rows.values():
            r["ratio"] = round(r["seconds"] / base, 2)
            r["x_realtime"] = round(media_s / r["seconds"], 2)
        # search: the local library, then the bucket's, directly on loopback and through a proxy that
        # adds a network's round trip to each request, with readers checking for new versions on
        # every read (refresh 0) or at most every 5 s (the default for a remote library)
        for key in [k for k in os.environ if k.startswith(("LIFELOG_", "AWS_"))]:
            del os.environ[key]
        os.environ.update(s3.env("s3://lifelog/ray2"))
        search_latency(tmp / "local", 1)  # loads the text model once for every row below
        latency = {"local library": search_latency(tmp / "local", args.rounds, db_uri=None)}
        for delay in (0.0, args.rtt_ms / 1000):
            with SlowProxy(s3.port, delay) as proxy:
                os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
                for refresh in (0.0, 5.0):
                    before = proxy.requests
                    row = search_latency(tmp / f"reader-{delay}-{refresh}", args.rounds, db_refresh_s=refresh)
                    row["requests_per_search"] = round((proxy.requests - before) / (args.rounds + 1), 1)
                    latency[f"S3, +{delay * 1000:.0f} ms per request, refresh {refresh:.0f} s"] = row
        vectors = {}
        if args.vector_rows:
            with SlowProxy(s3.port, args.rtt_ms / 1000) as proxy:
                options = {**s3.storage_options(), "aws_endpoint": proxy.endpoint}
                vectors = vector_latency("s3://lifelog/vectors", options, proxy, args.vector_rows, args.rounds)
        bucket_bytes = sum(p.stat().st_size for p in (tmp / "weed" / "data").rglob("*") if p.is_file())
    result = {"vector_search_in_s3": vectors, "folders": [str(f) for f in args.folder], "files": len(files), "media_seconds": round(media_s, 1), "ingest": rows, "search": latency,
              "bucket_bytes_four_libraries": bucket_bytes, "cpus": os.cpu_count()}
    print(f"\n{f'ingest of {len(files)} files, {media_s / 60:.1f} min of media':40s} {'seconds':>8s} {'ratio':>6s}"
          f" {'x realtime':>10s}")
    for name, r in rows.items():
        print(f"{name:40s} {r['seconds']:8.1f} {r['ratio']:6.2f} {r['x_realtime']:10.2f}")
    base = latency["local library"]["warm_median_ms"]
    print(f"\n{'search':40s} {'first (ms)':>10s} {'warm median (ms)':>17s} {'ratio':>6s} {'requests':>9s}")
    for name, r in latency.items():
        print(f"{name:40s} {r['first_ms']:10.1f} {r['warm_median_ms']:17.1f} {r['warm_median_ms'] / base:6.2f}"
              f" {r.get('requests_per_search', ''):>9}")
    if vectors:
        print(f"\nnearest 20 of {vectors['rows']} vectors in the bucket, +{args.rtt_ms:.0f} ms per request:")
        for name in ("exact scan", "IVF_PQ index"):
            print(f"  {name:14s} {vectors[name]['median_ms']:8.1f} ms, {vectors[name]['requests_per_search']} requests")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
