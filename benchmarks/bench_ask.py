"""In-process `ask` latency of the typed agent, per kind of question, beside the flat baseline (one
vector search, no parsing) in the same process, on questions from three sources: the project's
own question file, the development set (../shared/eval) and `lifelog selftest`'s questions made
from the library. The two agents are interleaved question by question so load hits both alike.

    .venv/bin/python benchmarks/bench_ask.py [--home H] [--rounds 3]

Without --home, sample_media/, ../shared/media and ../shared/eval/media are ingested into a
temporary library first. The flat agent's answers go through the bundled LLM when its weights are
present; the baseline here is its retrieval only (`agent.flat`), so the ratio is what parsing,
typed reading and abstention cost on top of one search.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import lifelog
from lifelog import selftest
from lifelog.agent import flat
from lifelog.evaluate import load_questions

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, round(q * (len(values) - 1)))], 1) if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a library (default: the media above, ingested into a temporary one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ask.json")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp()) / "home"
    if not args.home:
        folders = [p for p in (ROOT / "sample_media", SHARED / "media", SHARED / "eval" / "media") if p.is_dir()]
        lifelog.open(home).ingest(folders)
    mem = lifelog.open(home)
    asked: list[tuple[str, str]] = []  # (kind, question)
    own, now = load_questions(ROOT / "benchmarks" / "questions.yaml")
    asked += [(q.category or "unanswerable", q.q) for q in own]
    if (SHARED / "eval" / "questions.yaml").is_file():
        dev, _ = load_questions(SHARED / "eval" / "questions.yaml")
        asked += [(q.category, q.q) for q in dev]
    asked += [(p.kind, p.question) for p in selftest.probes(mem, per_kind=4)]
    mem.ask(asked[0][1], now=now)  # models loaded, caches warm
    typed: dict[str, list[float]] = {}
    base: list[float] = []
    for _ in range(args.rounds):
        for kind, q in asked:
            t = time.perf_counter()
            mem.ask(q, now=now)
            typed.setdefault(kind, []).append(time.perf_counter() - t)
            t = time.perf_counter()
            flat(mem, q)
            base.append(time.perf_counter() - t)
    everything = [s for v in typed.values() for s in v]
    result = {
        "questions": len(asked), "rounds": args.rounds,
        "typed_p50_ms": _p(everything, 0.5), "typed_p95_ms": _p(everything, 0.95),
        "flat_retrieval_p50_ms": _p(base, 0.5),
        "ratio_p50_typed_to_flat": round(statistics.median(everything) / statistics.median(base), 2),
        "per_kind_p50_ms": {k: _p(v, 0.5) for k, v in sorted(typed.items())},
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
