"""Ingest the sample day with the bundled models and time it against decode-only, then time `ask`.

    .venv/bin/python benchmarks/bench_sample_day.py [--media DIR] [--repeat 5]

Figures are ratios against baselines run in the same process: ingest wall time vs ffmpeg
decoding every file once (`ffmpeg -i F -f null -`), a second ingest vs the first, and the
adaptive agent's latency vs the flat baseline's.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imageio_ffmpeg  # noqa: E402

import lifelog  # noqa: E402
from lifelog.cli import DEMO_QUESTIONS  # noqa: E402


def decode_only(files: list[Path]) -> float:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    t0 = time.perf_counter()
    for f in files:
        subprocess.run([ffmpeg, "-v", "error", "-i", str(f), "-f", "null", "-"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=Path, default=ROOT / "sample_media")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted(p for p in args.media.rglob("*") if p.is_file() and not p.name.endswith(".md"))
    with tempfile.TemporaryDirectory() as home:
        mem = lifelog.open(home, now="2025-06-15T10:00:00+01:00")
        decode_s = decode_only(files)
        t0 = time.perf_counter()
        report = mem.ingest([args.media])
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = mem.ingest([args.media])
        second_s = time.perf_counter() - t0
        latency: dict[str, list[float]] = {"adaptive": [], "flat": []}
        mem.ask(DEMO_QUESTIONS[0])  # warm the query encoder once
        for _ in range(args.repeat):
            for q in DEMO_QUESTIONS:
                for agent in latency:
                    t0 = time.perf_counter()
                    mem.ask(q, agent=agent)
                    latency[agent].append(time.perf_counter() - t0)
        status = mem.status()
    result = {
        "files": len(files),
        "media_seconds": round(status.media_hours * 3600, 1),
        "decode_only_s": round(decode_s, 2),
        "ingest_s": round(first_s, 2),
        "ingest_over_decode": round(first_s / decode_s, 1),
        "ingested": report.ingested,
        "failed": report.failed,
        "stage_seconds": {k: round(v, 2) for k, v in getattr(report, "timings", {}).items()},
        "second_ingest_s": round(second_s, 2),
        "second_over_first": round(second_s / first_s, 3),
        "second_ingested": again.ingested,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "disk_bytes": status.disk_bytes,
        "ask_ms": {a: {"p50": round(1000 * statistics.median(v), 1), "p95": round(1000 * pct(v, 0.95), 1)}
                   for a, v in latency.items()},
    }
    result["ask_adaptive_over_flat_p50"] = round(result["ask_ms"]["adaptive"]["p50"] / result["ask_ms"]["flat"]["p50"], 2)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sample_day.json").write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
