"""Scale-out, measured in one run on this machine, with the real servers on loopback:

- ingest of one folder (default ../shared/media) by one `lifelog ingest` process into a local
  library (the baseline), by one process into a library in an S3 bucket (SeaweedFS), and through a
  Ray cluster of two nodes (`ray start`, 1 CPU each) with 1 and with 2 workers into the bucket;
- search latency on the local library vs the bucket's, in one process each: the first search and
  the median of warm ones, over queries that do not depend on the folder;
- what the library takes in the bucket per stored file.

    .venv/bin/python benchmarks/bench_scale_out.py [--folder F] [--rounds 20] [--out results/scale_out.json]

Every ingest is a fresh `lifelog ingest` subprocess (models loaded inside it, or inside each Ray
worker), so each row pays its own start-up, as a user's command does. Ratios are to the baseline.
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

from _scale_servers import RayCluster, S3Server  # noqa: E402

LIFELOG = str(Path(sys.executable).with_name("lifelog"))
QUERIES = ["someone talking", "food in a kitchen", "water outside", "an animal", "a room indoors",
           "people moving", "a drink", "a plant with flowers", "a vehicle", "numbers counted aloud"]

SEARCH = r"""
import json, statistics, sys, time
t0 = time.perf_counter()
import lifelog
mem = lifelog.open(sys.argv[1] if sys.argv[1] != "-" else None)
queries, rounds = json.loads(sys.argv[2]), int(sys.argv[3])
mem.search(queries[0]); first = time.perf_counter() - t0
warm = []
for i in range(rounds):
    t = time.perf_counter(); mem.search(queries[i % len(queries)]); warm.append(time.perf_counter() - t)
print(json.dumps({"first_s": first, "warm_median_ms": 1000 * statistics.median(warm),
                  "warm_p90_ms": 1000 * sorted(warm)[int(0.9 * len(warm)) - 1]}))
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFELOG_", "AWS_"))}
    return {**env, "LIFELOG_SERVICE": "off", "RAY_USAGE_STATS_ENABLED": "0", **extra}


def ingest(env: dict[str, str], folder: Path, *extra: str) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run([LIFELOG, "ingest", "--quiet", *extra, str(folder)], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"ingest {' '.join(extra)} failed:\n{done.stdout}\n{done.stderr}")
    return {"seconds": round(seconds, 2), "report": done.stdout.strip().splitlines()[-1:]}


def search(env: dict[str, str], rounds: int) -> dict:
    done = subprocess.run([sys.executable, "-c", SEARCH, "-", json.dumps(QUERIES), str(rounds)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, default=ROOT.parent / "shared" / "media")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale_out.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lifelog-scale-bench-"))
    files = [p for p in args.folder.rglob("*") if p.is_file() and not p.name.endswith((".md", ".tsv", ".txt", ".rttm"))]
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
        base = rows[runs[0][0]]["seconds"]
        import lancedb

        media = lancedb.connect(str(tmp / "local" / "lancedb")).open_table("media").search().limit(None).to_list()
        media_s = sum(float(m["duration_s"] or 0) for m in media if m["status"] == "ok")
        for r in rows.values():
            r["ratio"] = round(r["seconds"] / base, 2)
            r["x_realtime"] = round(media_s / r["seconds"], 2)
        s3_env = clean_env(LIFELOG_HOME=str(tmp / "reader"), **s3.env("s3://lifelog/ray2"))
        latency = {"local library": search(local, args.rounds), "library in S3 (loopback)": search(s3_env, args.rounds)}
        bucket_bytes = sum(p.stat().st_size for p in (tmp / "weed" / "data").rglob("*") if p.is_file())
    result = {"folder": str(args.folder), "files": len(files), "media_seconds": round(media_s, 1), "ingest": rows, "search": latency,
              "bucket_bytes_all_four_libraries": bucket_bytes, "cpus": os.cpu_count()}
    print(f"\n{f'ingest of {len(files)} files, {media_s / 60:.1f} min of media':40s} {'seconds':>8s} {'ratio':>6s}"
          f" {'x realtime':>10s}")
    for name, r in rows.items():
        print(f"{name:40s} {r['seconds']:8.1f} {r['ratio']:6.2f} {r['x_realtime']:10.2f}")
    print(f"\n{'search':28s} {'first (s)':>10s} {'warm median (ms)':>17s} {'warm p90 (ms)':>14s}")
    for name, r in latency.items():
        print(f"{name:28s} {r['first_s']:10.2f} {r['warm_median_ms']:17.1f} {r['warm_p90_ms']:14.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
