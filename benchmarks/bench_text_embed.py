"""The bundled text embedder (all-MiniLM-L6-v2) through the numpy BERT encoder beside
sentence-transformers (torch), on the same sentences in one run.

Cold: a fresh process per backend, alternating, timing imports + load and the first query (what a
cold `lifelog ask` pays). Warm: both loaded in one process, interleaved round by round so machine
load hits both alike: per-query latency, 500 sentences (ingestion embeds passages 64 at a time)
and 128 long passages (256-token cap). Prints times, ratios (numpy / torch) and the worst cosine
between the two backends' vectors.

    .venv/bin/python benchmarks/bench_text_embed.py [--rounds 3] [--cold-rounds 3]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from models.text_embed import BATCH, SentenceTransformerEmbedder, _bundled_minilm_dir  # noqa: E402

QUERIES = ["where did I leave my keys?", "what did Sam say about dinner?", "beach photos from last April",
           "how full was the tram", "pastel de nata price", "who was at the zoo with me", "the giraffe",
           "what time is the train to Porto", "menu prices at the cafe", "when did I call mum"]

# one cold process: imports + load, then the first query, then which heavy modules got imported
_COLD = """
import sys, time, tempfile, json
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import models
if {backend!r} == "numpy":
    te = models.load(models.resolve("text_embed", "bundled"), tempfile.mkdtemp())
else:
    from sentence_transformers import SentenceTransformer
    from models.text_embed import SentenceTransformerEmbedder, _bundled_minilm_dir
    te = SentenceTransformerEmbedder(SentenceTransformer(str(_bundled_minilm_dir()), device="cpu", local_files_only=True), 384)
t1 = time.perf_counter()
te.embed(["where did I leave my keys?"], kind="query")
t2 = time.perf_counter()
print(json.dumps({{"load_s": t1 - t0, "first_query_s": t2 - t1, "model": type(te.model).__name__,
                  "torch_imported": "torch" in sys.modules}}))
"""


def _texts() -> tuple[list[str], list[str]]:
    """500 real sentences and 128 long passages from the project's own prose."""
    docs = [ROOT / "README.md", *sorted((ROOT.parent / "shared").glob("*.md"))]
    words = " ".join(p.read_text(encoding="utf-8") for p in docs if p.exists())
    words = re.sub(r"[`|#*]+", " ", words)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?:])\s+|\n\n", words) if len(s.split()) >= 4]
    sentences = (sentences * (500 // max(len(sentences), 1) + 1))[:500]
    tokens = words.split()
    passages = [" ".join(tokens[i : i + 240]) for i in range(0, max(len(tokens) - 240, 1), 97)]
    passages = (passages * (128 // max(len(passages), 1) + 1))[:128]
    return sentences, passages


def _cold(backend: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _COLD.format(root=str(ROOT), backend=backend)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="warm rounds (each: every query, 500 sentences, 128 passages)")
    ap.add_argument("--cold-rounds", type=int, default=3, help="fresh processes per backend")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "text_embed.json")
    args = ap.parse_args()
    backends = ("numpy", "torch")

    cold: dict[str, list[dict]] = {b: [] for b in backends}
    for _ in range(args.cold_rounds):
        for b in backends:
            cold[b].append(_cold("numpy" if b == "numpy" else "sentence-transformers"))
    assert not any(r["torch_imported"] for r in cold["numpy"]), "the numpy path imported torch"

    import tempfile

    from sentence_transformers import SentenceTransformer

    emb = {
        "numpy": models.load(models.resolve("text_embed", "bundled"), tempfile.mkdtemp()),
        "torch": SentenceTransformerEmbedder(
            SentenceTransformer(str(_bundled_minilm_dir()), device="cpu", local_files_only=True), 384),
    }
    sentences, passages = _texts()
    vecs = {}
    for b, e in emb.items():  # warm-up, and the vectors compared below
        vecs[b] = (e.embed(QUERIES, kind="query"), e.embed(sentences), e.embed(passages))
    cos = min(float(np.min(np.sum(x * y, axis=1))) for x, y in zip(vecs["numpy"], vecs["torch"]))

    warm: dict[str, dict[str, list[float]]] = {b: {"query": [], "sentences": [], "passages": []} for b in backends}
    for _ in range(args.rounds):
        for b, e in emb.items():
            warm[b]["query"] += [_time(lambda q=q: e.embed([q], kind="query")) for q in QUERIES]
            warm[b]["sentences"].append(_time(lambda: e.embed(sentences)))
            warm[b]["passages"].append(_time(lambda: e.embed(passages)))

    med = statistics.median
    result: dict[str, dict[str, float]] = {}
    for b in backends:
        result[b] = {
            "cold_load_s": round(med(r["load_s"] for r in cold[b]), 3),
            "cold_first_query_ms": round(med(r["first_query_s"] for r in cold[b]) * 1000, 1),
            "query_p50_ms": round(med(warm[b]["query"]) * 1000, 2),
            "sentences_500_s": round(med(warm[b]["sentences"]), 3),
            "sentences_per_s": round(len(sentences) / med(warm[b]["sentences"]), 1),
            "passages_128_s": round(med(warm[b]["passages"]), 3),
        }
    result["ratio numpy/torch"] = {
        k: round(result["numpy"][k] / result["torch"][k], 2) for k in result["numpy"] if result["torch"][k]
    }
    result["agreement"] = {"min_cosine": round(cos, 6)}
    print(f"all-MiniLM-L6-v2, {len(sentences)} sentences, {len(passages)} passages, torch batch {BATCH}")
    for name, row in result.items():
        print(f"{name:18s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
