"""Semantic consolidation cost as the library grows: 10k synthetic photo episodes (with faces,
tags, speech and GPS) added in batches of 1k; each batch is consolidated alone.

Incremental consolidation reads only the new files' rows (plus the people table and the visits
near the new files' times), so the per-batch seconds should stay flat, not grow with the library.

    .venv/bin/python benchmarks/bench_consolidate.py [--batches 10] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

import lifelog
from ingest.records import EpisodeRecord, MediaRecord, Source
from lifelog import semantic
from lifelog.db import FACE_DIM, FACES_TABLE, faces_schema
from lifelog.store import media_row

TAGS = ["espresso", "cup", "tabby", "seashore", "menu", "laptop", "bicycle", "pizza", "dog", "mountain"]
SAID = ["I left my keys in the car.", "Where is my phone?", "The blue mug is on the desk.", "Nice walk today.", ""]


def synthetic_batch(rng: np.random.Generator, start: int, n: int, t0: datetime, identities: np.ndarray,
                    text_dim: int) -> tuple[list[MediaRecord], list[EpisodeRecord], list[dict]]:
    media, episodes, faces = [], [], []
    for i in range(start, start + n):
        at = t0 + timedelta(minutes=20 * i)  # 10k photos over ~4.5 months
        # a walk around Lisbon: a new spot every ~6 photos
        lat, lon = 38.7 + 0.02 * np.sin(i // 6), -9.14 + 0.02 * np.cos(i // 6)
        mid = f"{i:032x}"
        media.append(MediaRecord(media_id=mid, path=f"/synthetic/{i}.jpg", kind="photo", size_bytes=1, mtime=at,
                                 captured_at=at, lat=lat, lon=lon))
        vec = rng.standard_normal(text_dim).astype(np.float32)
        episodes.append(EpisodeRecord(
            episode_id=f"{mid}:segment:0", scale="segment", kind="photo", start=at, end=at + timedelta(seconds=1),
            media_id=mid, sources=[Source(mid, 0.0, 0.0)], tags=list(rng.choice(TAGS, 2, replace=False)),
            transcript=SAID[i % len(SAID)], place="Lisbon, Portugal", lat=lat, lon=lon,
            text=f"photo {i}", text_vector=vec / np.linalg.norm(vec)))
        for k in range(int(rng.integers(0, 3))):  # 0-2 faces, from 50 people
            who = identities[int(rng.integers(len(identities)))]
            emb = who + rng.normal(0, 0.02, who.shape).astype(np.float32)  # within-person spread ~0.2-0.3
            faces.append({"face_id": f"{mid}:face:{k}", "media_id": mid, "episode_id": f"{mid}:segment:0", "time": at,
                          "offset_s": 0.0, "box": [0, 0, 50, 50], "score": 0.9, "embedding": emb, "crop": "",
                          "person_id": ""})
    return media, episodes, faces


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "consolidate.json")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    # 50 identities, pairwise ~1.1 apart like distinct dlib descriptors
    identities = rng.normal(0, 0.07, (50, FACE_DIM)).astype(np.float32)
    t0 = datetime(2025, 1, 1, 8, tzinfo=timezone.utc)
    rows = []
    with tempfile.TemporaryDirectory() as home:
        mem = lifelog.open(home)
        store = mem.store
        for b in range(args.batches):
            media, episodes, faces = synthetic_batch(rng, b * args.batch, args.batch, t0, identities, store.text.dim)
            store.add_episodes(episodes)
            for m in media:
                m.ingested_at = datetime.now(timezone.utc)
            store.media_table.add(pa.Table.from_pylist([media_row(m) for m in media], schema=store.media_table.schema))
            store.table(FACES_TABLE).add(pa.Table.from_pylist(faces, schema=faces_schema()))
            t = time.perf_counter()
            report = semantic.consolidate(store, media)
            dt = time.perf_counter() - t
            n_people = len(mem.people())
            rows.append({"batch": b + 1, "library_episodes": (b + 1) * args.batch, "seconds": round(dt, 3),
                         "faces": report.faces, "people": n_people, "visits": report.visits, "things": report.things})
            print(f"batch {b + 1:2d}: library {(b + 1) * args.batch:6d} episodes, consolidate {dt:6.2f} s "
                  f"({report.faces} faces, {n_people} people, {report.visits} visits, {report.things} things)", flush=True)
        keys = mem.last_seen("keys")
        print("last seen keys:", keys.time if keys else None, keys.evidence if keys else "")
    secs = [r["seconds"] for r in rows]
    summary = {"first_half_mean_s": round(float(np.mean(secs[: len(secs) // 2])), 3),
               "second_half_mean_s": round(float(np.mean(secs[len(secs) // 2:])), 3)}
    print(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"batch_size": args.batch, "batches": rows, **summary}, indent=2, default=str))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
