"""Ingest an hour of 720p video with speech on the bundled profile, against decode-only and a naive peer.

    .venv/bin/python benchmarks/bench_ingest_hour.py               # 60 minutes (~25 min of machine time)
    .venv/bin/python benchmarks/bench_ingest_hour.py --minutes 10  # a quick run

The video is composed from the real clips in ../shared/media/video (each looped to 30 s, scaled
and padded to 1280x720 at 30 fps, H.264 veryfast), with the clips' own sound, the pool clip's
narration, and a 60 s monologue laid over two of the eight shots: speech in about a third of it.
It is cached under benchmarks/results/media/ (git-ignored; never committed).

Three figures are measured in the same run, so ratios do not depend on how busy the machine is:
- decode-only: `ffmpeg -i F -f null -` (every frame decoded, nothing else);
- lifelog: `lifelog.open(tmp_home).ingest([F])` on the bundled profile;
- naive peer: every frame at 1 fps through the image-text model and the tagger, Whisper over the
  whole audio track with no voice activity detection, one episode per second, same store.
Each pipeline runs in its own fresh process (models load inside the timing, peak memory is its
own). Output: JSON on stdout and in benchmarks/results/ingest_hour.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imageio_ffmpeg  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
RESULTS = ROOT / "benchmarks" / "results"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SHOT_S = 30  # each real clip is looped to this many seconds: shots of a plausible length
# (clip, audio source, seek into the audio source): None = the clip's own sound (silence if it has none)
MONOLOGUE = MEDIA / "audio" / "monologue_talk_60s_silero.wav"
SHOTS: list[tuple[str, Path | None, float]] = [
    ("pour_coffee_blue_mug_sam2.mp4", None, 0.0),
    ("ego4d_cooking_stir_pan_lavila.mp4", MONOLOGUE, 0.0),
    ("kitchen_hand_mixer_batter_askanything.mp4", MONOLOGUE, 30.0),
    ("gopro_drone_beach_coast_gps_karma.mp4", None, 0.0),
    ("pool_vacuum_firstperson_narrated_mmaction2.avi", None, 0.0),
    ("cockatoo_closeup_imageio.mp4", None, 0.0),
    ("kids_jumping_on_bed_sam2.mp4", None, 0.0),
    ("office_windowsill_handheld_imageio_realshort.mp4", None, 0.0),
]
SPEECH_SHOTS = 3  # the two monologue shots and the narrated pool shot


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def _has_audio(path: Path) -> bool:
    import av

    with av.open(str(path)) as c:
        return bool(c.streams.audio)


def compose(minutes: float, cache: Path) -> Path:
    """The benchmark video (cached): 8 real shots of 30 s at 1280x720, looped to `minutes`."""
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"hour_{minutes:g}min_720p.mp4"
    if out.is_file():
        return out
    base = cache / "base_720p.mp4"
    if not base.is_file():
        parts = []
        for n, (clip, audio, seek) in enumerate(SHOTS):
            src = MEDIA / "video" / clip
            part = cache / f"shot_{n}.mp4"
            parts.append(part)
            if part.is_file():
                continue
            if audio is not None:
                a_in = ["-ss", str(seek), "-i", str(audio)]
            elif _has_audio(src):
                a_in = ["-stream_loop", "-1", "-i", str(src)]
            else:
                a_in = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
            tmp = part.with_suffix(".part.mp4")
            ffmpeg("-stream_loop", "-1", "-i", str(src), *a_in, "-t", str(SHOT_S),
                   "-vf", "scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30",
                   "-map", "0:v:0", "-map", "1:a:0", "-af", f"apad,atrim=0:{SHOT_S}",
                   "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                   "-c:a", "aac", "-ar", "48000", "-ac", "2", "-b:a", "96k", str(tmp))
            tmp.replace(part)
        listing = cache / "shots.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
        tmp = base.with_suffix(".part.mp4")
        ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(tmp))
        tmp.replace(base)
    loops = int(minutes * 60 // (SHOT_S * len(SHOTS))) + 1
    tmp = out.with_suffix(".part.mp4")
    ffmpeg("-stream_loop", str(loops), "-i", str(base), "-t", str(minutes * 60), "-c", "copy",
           "-movflags", "+faststart", str(tmp))
    tmp.replace(out)
    return out


def decode_only(path: Path) -> tuple[float, float]:
    """(wall s, CPU s) of ffmpeg decoding every frame of the file and discarding it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def peak_rss_mb() -> dict[str, float]:
    # Linux ru_maxrss is in KiB; children = the largest child waited for (ffmpeg, none in-process)
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own, kids = me.ru_maxrss / 1024, ch.ru_maxrss / 1024
    # CPU seconds do not depend on how busy the machine is (other work inflates wall time only)
    cpu = me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime
    return {"self_mb": round(own, 1), "children_mb": round(kids, 1), "total_mb": round(own + kids, 1),
            "cpu_s": round(cpu, 1)}


# --- the two pipelines, each run in a fresh process ---------------------------------------------

def run_lifelog(video: Path, home: Path) -> dict:
    import lifelog

    t0 = time.perf_counter()
    mem = lifelog.open(home, profile="bundled")
    report = mem.ingest([video])
    wall = time.perf_counter() - t0
    if report.failed or report.ingested != 1:
        raise SystemExit(f"lifelog ingest failed: {report.failed}")
    st = mem.status()
    speech = [r for r in mem.store.episodes("scale = 'segment' AND transcript != ''", columns=["episode_id"])]
    hits = mem.search("Capital in the Twenty-First Century", limit=3)
    return {
        "wall_s": round(wall, 1),
        "timings_s": {k: round(v, 1) for k, v in sorted(report.timings.items(), key=lambda kv: -kv[1])},
        "episodes_by_scale": st.episodes_by_scale,
        "segments_with_speech": len(speech),
        "db_bytes": du(mem.settings.db_path),
        "thumb_bytes": st.disk_bytes["thumbnails"],
        "probe_search_top": [(h.title, round(h.offset_start), h.score) for h in hits[:1]],
        "peak_memory": peak_rss_mb(),
    }


def run_naive(video: Path, home: Path) -> dict:
    """Every frame at 1 fps embedded and tagged, Whisper on the whole track (no VAD), one row a second."""
    from collections import defaultdict
    from datetime import datetime, timedelta, timezone

    import numpy as np

    import models
    from ingest.records import EpisodeRecord, FileResult, MediaRecord, Source
    from lifelog.store import Store, VectorColumn
    from lifelog.writer import FileWriter
    from models.speech import decode_audio

    t_start = time.perf_counter()
    timings: dict[str, float] = defaultdict(float)
    cache = home / "models"  # what lifelog.open(home) uses by default

    def spec(role: str):  # noqa: ANN202
        return models.resolve(role, "bundled")

    t = time.perf_counter()
    tagger = models.load(spec("tags"), cache)
    image_text = models.load(spec("image_text"), cache)
    text_embed = models.load(spec("text_embed"), cache)
    stt = models.load(spec("speech"), cache)
    timings["load_models"] += time.perf_counter() - t

    import torch  # noqa: F401  (before decord: see ingest.frames._torch_before_decord)
    import decord

    vr = decord.VideoReader(str(video), ctx=decord.cpu(0), num_threads=os.cpu_count() or 1)
    fps = float(vr.get_avg_fps())
    seconds = int(len(vr) / fps)
    tags: list[list[str]] = []
    image_vecs: list[np.ndarray] = []
    for b in range(0, seconds, 8):
        idx = [min(len(vr) - 1, int(s * fps)) for s in range(b, min(seconds, b + 8))]
        t = time.perf_counter()
        frames = list(vr.get_batch(idx).asnumpy())
        timings["decode"] += time.perf_counter() - t
        t = time.perf_counter()
        tags.extend([[x.label for x in row if x.score >= 0.1] for row in tagger.tag(frames, top_k=5)])
        timings["tags"] += time.perf_counter() - t
        t = time.perf_counter()
        image_vecs.extend(image_text.embed_images(frames))
        timings["image_embed"] += time.perf_counter() - t
    del vr

    t = time.perf_counter()
    audio = decode_audio(video)
    timings["audio_decode"] += time.perf_counter() - t
    t = time.perf_counter()
    segments, _ = stt.model.transcribe(audio, beam_size=stt.beam_size, word_timestamps=True, vad_filter=False,
                                       condition_on_previous_text=False)
    words = [(w.start, w.end, w.word.strip()) for s in segments for w in (s.words or ())]
    timings["speech"] += time.perf_counter() - t

    t = time.perf_counter()
    said: list[list[str]] = [[] for _ in range(seconds)]
    for a, b, w in words:
        i = int((a + b) / 2)
        if 0 <= i < seconds:
            said[i].append(w)
    t0 = datetime(2025, 6, 14, 9, 0, tzinfo=timezone.utc)
    media_id = "naive"
    episodes = []
    for s in range(seconds):
        text = "Tags: " + ", ".join(tags[s]) + (f"\nSaid: {' '.join(said[s])}" if said[s] else "")
        episodes.append(EpisodeRecord(
            episode_id=f"{media_id}:segment:{s}", scale="segment", kind="video", start=t0 + timedelta(seconds=s),
            end=t0 + timedelta(seconds=s + 1), media_id=media_id, offset_start=s, offset_end=s + 1,
            sources=[Source(media_id, s, s + 1)], tags=tags[s], transcript=" ".join(said[s]), text=text,
            image_vector=np.asarray(image_vecs[s], np.float32),
        ))
    vecs = text_embed.embed([e.text for e in episodes], kind="passage")
    for e, v in zip(episodes, vecs):
        e.text_vector = v
    timings["text_embed"] += time.perf_counter() - t

    t = time.perf_counter()
    ts, ims = spec("text_embed"), spec("image_text")
    store = Store(home / "lancedb", VectorColumn("text_vector", ts.name, int(ts.dim)), VectorColumn("image_vector", ims.name, int(ims.dim)))
    media = MediaRecord(media_id=media_id, path=str(video), kind="video", size_bytes=video.stat().st_size,
                        mtime=t0, captured_at=t0, duration_s=float(seconds))
    FileWriter(store).write(FileResult(media=media, episodes=episodes))
    timings["write"] += time.perf_counter() - t
    wall = time.perf_counter() - t_start
    return {
        "wall_s": round(wall, 1),
        "timings_s": {k: round(v, 1) for k, v in sorted(timings.items(), key=lambda kv: -kv[1])},
        "episodes": len(episodes),
        "db_bytes": du(home / "lancedb"),
        "thumb_bytes": 0,
        "peak_memory": peak_rss_mb(),
    }


def _child(stage: str, video: Path) -> dict:
    """Run one pipeline in a fresh interpreter; it prints its JSON as the last line."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{stage}-") as home:
        proc = subprocess.run([sys.executable, __file__, "--stage", stage, "--video", str(video), "--home", home],
                              stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--cache", type=Path, default=RESULTS / "media")
    ap.add_argument("--skip-naive", action="store_true", help="only the lifelog pipeline (and decode-only)")
    ap.add_argument("--out", type=Path, default=RESULTS / "ingest_hour.json")
    ap.add_argument("--stage", choices=["lifelog", "naive"], help=argparse.SUPPRESS)
    ap.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stage:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        run = run_lifelog if args.stage == "lifelog" else run_naive
        print(json.dumps(run(args.video, args.home)))
        return

    if not MEDIA.is_dir():
        raise SystemExit(f"real media not found at {MEDIA} (../shared/media beside the project)")
    t0 = time.perf_counter()
    video = compose(args.minutes, args.cache)
    compose_s = time.perf_counter() - t0
    hours = args.minutes / 60
    decode_s, decode_cpu_s = decode_only(video)
    load = os.getloadavg()[0]
    result: dict = {
        "video": {"path": str(video), "minutes": args.minutes, "bytes": video.stat().st_size,
                  "resolution": "1280x720", "fps": 30, "codec": "h264 (libx264 veryfast)",
                  "speech_share": round(SPEECH_SHOTS / len(SHOTS), 2), "compose_s": round(compose_s, 1)},
        "cores": os.cpu_count(),
        "decode_only_s": round(decode_s, 1),
        "decode_only_cpu_s": round(decode_cpu_s, 1),
        "load_average_at_start": round(load, 1),  # > cores: other work shared the machine
    }
    for stage in ["lifelog"] + ([] if args.skip_naive else ["naive"]):
        r = _child(stage, video)
        r["ratio_to_decode"] = round(r["wall_s"] / decode_s, 2)
        r["cpu_ratio_to_decode"] = round(r["peak_memory"].get("cpu_s", 0) / max(decode_cpu_s, 1e-9), 2)
        r["load_average_at_end"] = round(os.getloadavg()[0], 1)
        r["wall_s_per_hour"] = round(r["wall_s"] / hours, 1)
        r["db_bytes_per_hour"] = int(r["db_bytes"] / hours)
        r["db_mb_per_hour"] = round(r["db_bytes"] / hours / 1e6, 2)
        result[stage] = r
        print(f"{stage}: {r['wall_s']} s ({r['ratio_to_decode']}x decode-only), {r['db_mb_per_hour']} MB/h stored, "
              f"peak {r['peak_memory']['total_mb']} MB", file=sys.stderr)
    life = result["lifelog"]
    result["goal"] = {
        "wall_per_hour_le_360s": life["wall_s_per_hour"] <= 360,
        "peak_memory_lt_4GB": life["peak_memory"]["total_mb"] < 4096,
        "stored_per_hour_lt_10MB": life["db_mb_per_hour"] < 10,
    }
    if "naive" in result:
        result["naive_over_lifelog_wall"] = round(result["naive"]["wall_s"] / life["wall_s"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
