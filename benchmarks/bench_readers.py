"""What the store's promises cost a reader: in-process `ask` and `search` latency on the sample day
with the connection re-reading each table's latest version on every call (what lifelog.db does,
so a running app sees a CLI ingest) beside a connection that never re-reads (the old behaviour),
in one process, the two settings interleaved round by round so machine load hits both alike.

    .venv/bin/python benchmarks/bench_readers.py [--home H] [--rounds 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import lancedb

import lifelog
import lifelog.db as db

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["How full was the tram?", "When is dinner with Sam?", "How much is a pastel de nata?",
             "Did I see a giraffe at the zoo?", "Where did I leave my keys?"]
SEARCHES = ["tram viewpoint", "dinner", "beach sunset", "menu prices"]


def _open(home: Path, interval: timedelta | None) -> lifelog.Memory:
    connect = lancedb.connect
    db.lancedb.connect = lambda path, **kw: connect(path, read_consistency_interval=interval)  # type: ignore[attr-defined]
    try:
        mem = lifelog.open(home)
        mem.store  # noqa: B018 - opened with this setting
    finally:
        db.lancedb.connect = connect  # type: ignore[attr-defined]
    mem.ask(QUESTIONS[0])  # models loaded, caches warm
    return mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a library (default: sample_media/ ingested into a temporary one)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "readers.json")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp()) / "home"
    if not args.home:
        lifelog.open(home).ingest([ROOT / "sample_media"])
    mems = {"re-read every call": _open(home, timedelta(0)), "never re-read": _open(home, None)}
    times: dict[str, dict[str, list[float]]] = {k: {"ask": [], "search": []} for k in mems}
    for _ in range(args.rounds):
        for name, mem in mems.items():
            for q in QUESTIONS:
                t = time.perf_counter()
                mem.ask(q)
                times[name]["ask"].append(time.perf_counter() - t)
            for q in SEARCHES:
                t = time.perf_counter()
                mem.search(q)
                times[name]["search"].append(time.perf_counter() - t)
    result = {name: {op: round(statistics.median(v) * 1000, 1) for op, v in ops.items()} for name, ops in times.items()}
    base = result["never re-read"]
    result["ratio"] = {op: round(result["re-read every call"][op] / base[op], 2) for op in base}
    for name, ops in result.items():
        print(f"{name:20s} " + "  ".join(f"{op} p50 {v}{'' if name == 'ratio' else ' ms'}" for op, v in ops.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
