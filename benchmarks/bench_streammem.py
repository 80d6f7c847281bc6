"""StreamMem visual memory: size against video length, encode throughput, and fidelity against budget.

    .venv/bin/python benchmarks/bench_streammem.py                  # tiny profile (random weights)
    .venv/bin/python benchmarks/bench_streammem.py --profile full   # SmolVLM2-500M, once pulled

1. Size: 10 s, 1 min and 10 min of video at 1 fps are streamed into a memory of `--budget` tokens;
   bytes of memory per video and frames/s, beside the uncompressed KV cache of the same stream.
2. Fidelity: over the same 1-minute stream, the next-token distribution after each question with
   the compressed memory vs the full uncompressed cache: KL(full || compressed) and top-1 agreement,
   at several budgets (both position modes), as a curve.

Frames are every video in ../shared/media sampled at 1 fps, one after the other and looped to
length (synthetic moving shapes where that folder is missing). With the tiny profile's random
weights the fidelity figures are only a sanity check of the machinery (does more budget move the
distribution toward the full cache?): real numbers need `--profile full`.
Results: printed tables and benchmarks/results/streammem_<profile>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch  # before anything that may import decord (see ingest/video.py)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import models  # noqa: E402
from models.streammem import StreamMemEncoder, load_vlm  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media" / "video"
QUESTIONS = [
    "What colour was the mug?",
    "Was the stove on?",
    "What is the person holding?",
    "Where was this filmed?",
    "How many people are in the video?",
    "What animal appears in the video?",
    "Is it daytime or night?",
    "What happened at the end?",
]


def sample_pool(long_side: int = 384) -> tuple[list[np.ndarray], str]:
    """Every shared clip at 1 fps, in a fixed order; synthetic frames where the media is missing."""
    import cv2

    frames: list[np.ndarray] = []
    clips = sorted(p for p in MEDIA.glob("*") if p.suffix.lower() in (".mp4", ".avi", ".mov", ".mkv")) if MEDIA.is_dir() else []
    for path in clips:
        cap = cv2.VideoCapture(str(path))
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if i % max(1, round(fps)) == 0:
                h, w = bgr.shape[:2]
                s = long_side / max(h, w)
                small = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else bgr
                frames.append(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
            i += 1
        cap.release()
    if frames:
        return frames, f"{len(clips)} clips from {MEDIA} at 1 fps ({len(frames)} frames, looped)"
    rng = np.random.default_rng(0)
    for k in range(60):  # a coloured square drifting over a slowly changing background
        img = np.full((216, 384, 3), (40 + k % 30 * 5, 80, 120), np.uint8)
        x = 10 + (k * 9) % 300
        img[60:140, x:x + 70] = rng.integers(0, 255, 3, dtype=np.uint8)
        frames.append(img)
    return frames, "synthetic frames (../shared/media missing)"


def stream(pool: list[np.ndarray], seconds: int, fps: float = 1.0) -> tuple[list[np.ndarray], list[float]]:
    n = max(1, int(seconds * fps))
    return [pool[i % len(pool)] for i in range(n)], [i / fps for i in range(n)]


def kl_top1(full: torch.Tensor, comp: torch.Tensor) -> tuple[float, bool]:
    p = full.float().log_softmax(-1)
    q = comp.float().log_softmax(-1)
    return float((p.exp() * (p - q)).sum()), int(full.argmax()) == int(comp.argmax())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="tiny", choices=["tiny", "full"])
    ap.add_argument("--cache-dir", type=Path, default=None, help="model cache (default: the library's, see lifelog.settings)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--budget", type=int, default=512, help="token budget for the size/throughput runs")
    ap.add_argument("--budgets", default="64,128,256,512,1024", help="budgets for the fidelity curve")
    ap.add_argument("--chunk", type=int, default=8, help="frames per chunk")
    ap.add_argument("--durations", default="10,60,600", help="video lengths in seconds for the size runs")
    ap.add_argument("--fidelity-seconds", type=int, default=60)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir
    if cache_dir is None:
        from lifelog.settings import load_settings

        cache_dir = load_settings().cache_dir
    spec = models.resolve("caption", args.profile)
    try:
        t0 = time.perf_counter()
        vlm = load_vlm(spec, cache_dir, args.device)
        load_s = time.perf_counter() - t0
    except models.ModelNotAvailableError as e:
        print(f"cannot run on the {args.profile} profile: {e}", file=sys.stderr)
        return 2
    pool, source = sample_pool()
    enc = StreamMemEncoder(vlm, budget_tokens=args.budget, chunk_frames=args.chunk)
    per_token = enc.kv_bytes_per_token()
    result: dict = {
        "profile": args.profile, "model": enc.model_id, "layout": [enc.n_layers, enc.n_kv_heads, enc.head_dim],
        "frames": source, "chunk_frames": args.chunk, "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "model_load_s": round(load_s, 2),
        "kv_bytes_per_token_fp16": per_token,
        "note": ("random weights: fidelity is a sanity check of the machinery, not a measure of quality"
                 if spec.source.kind == "random" else "real weights"),
    }
    enc.encode(pool[:2], [0.0, 1.0])  # warm-up: first-call allocations

    print(f"StreamMem on {enc.model_id} (layers {enc.n_layers}, kv heads {enc.n_kv_heads}, head dim {enc.head_dim}); {source}")
    print(f"\nsize vs length, budget {args.budget} tokens, chunk {args.chunk} frames")
    print(f"{'video':>8} {'frames':>7} {'tokens':>7} {'memory':>10} {'uncompressed':>13} {'ratio':>7} {'encode s':>9} {'frames/s':>9}")
    sizes = []
    for seconds in [int(s) for s in args.durations.split(",")]:
        frames, times = stream(pool, seconds)
        t0 = time.perf_counter()
        m = enc.encode(frames, times)
        dt = time.perf_counter() - t0
        full_bytes = m.tokens_seen * per_token
        row = {"seconds": seconds, "frames": len(frames), "tokens": m.n_tokens, "memory_bytes": m.nbytes,
               "uncompressed_tokens": m.tokens_seen, "uncompressed_bytes": full_bytes,
               "compression": round(full_bytes / m.nbytes, 2), "encode_s": round(dt, 3),
               "frames_per_s": round(len(frames) / dt, 2), "kept_frames": len(m.frame_spans)}
        sizes.append(row)
        print(f"{seconds:>7}s {len(frames):>7} {m.n_tokens:>7} {m.nbytes / 1e6:>8.3f}MB {full_bytes / 1e6:>11.3f}MB "
              f"{row['compression']:>6.1f}x {dt:>9.2f} {row['frames_per_s']:>9.1f}")
    result["size_vs_length"] = sizes

    frames, times = stream(pool, args.fidelity_seconds)
    full = enc.full_cache(frames, times)
    full_logits = [enc.answer(full, q, max_new_tokens=0)[1] for q in QUESTIONS]
    print(f"\nfidelity vs budget over {args.fidelity_seconds} s ({full.n_tokens} tokens uncompressed), {len(QUESTIONS)} questions")
    print(f"{'budget':>7} {'positions':>9} {'tokens':>7} {'kept':>6} {'KL mean':>9} {'KL max':>8} {'top-1':>6}")
    curve = []
    for budget in [int(b) for b in args.budgets.split(",")]:
        for mode in ("compact", "original"):
            e = StreamMemEncoder(vlm, budget_tokens=budget, chunk_frames=args.chunk, positions=mode)
            m = e.encode(frames, times)
            kls, agree = zip(*(kl_top1(f, e.answer(m, q, max_new_tokens=0)[1]) for q, f in zip(QUESTIONS, full_logits)))
            row = {"budget": budget, "positions": mode, "tokens": m.n_tokens, "kept_fraction": round(m.n_tokens / full.n_tokens, 3),
                   "kl_mean": float(np.mean(kls)), "kl_max": float(np.max(kls)), "top1_agreement": float(np.mean(agree))}
            curve.append(row)
            print(f"{budget:>7} {mode:>9} {m.n_tokens:>7} {row['kept_fraction']:>6.2f} {row['kl_mean']:>9.4f} "
                  f"{row['kl_max']:>8.4f} {row['top1_agreement']:>6.2f}")
    result["fidelity"] = {"seconds": args.fidelity_seconds, "full_tokens": full.n_tokens, "questions": QUESTIONS, "curve": curve}
    out = args.out or ROOT / "benchmarks" / "results" / f"streammem_{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\n{result['note']}\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
