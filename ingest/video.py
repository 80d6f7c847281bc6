"""Videos: adaptive frame sampling, shot boundaries, keyframe descriptions, speech with word times.

One pass over the file at `frame_interval_s` (1 fps by default) keeps only a colour histogram of
each sample; keyframes (kept at full detail) are chosen on the way: at every cut, where the scene
has moved away from the last keyframe, and at least every `keyframe_every_s` in a static shot, never
more than `max_keyframes_per_min`. Memory stays flat whatever the length.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

from ingest.describe import (
    FrameInfo, ModelSet, Stopwatch, compose_caption, describe_images, merge_tags, mean_vector, save_jpeg, text_likely,
    unique_lines,
)
from ingest.errors import IngestError
from ingest.records import EpisodeRecord, MediaRecord, Source
from ingest.segment import FrameFeature, change, frame_feature, group_events, shot_boundaries, split_spans, summarise
from models.types import Transcript, Word

if TYPE_CHECKING:
    from ingest.pipeline import IngestOptions

log = logging.getLogger(__name__)

# long side (px) at which keyframes are kept in memory for the models (OCR wants some detail)
DESCRIBE_PX = 768
BATCH = 8


@dataclass
class Keyframe:
    t: float
    rgb: np.ndarray  # upright, DESCRIBE_PX long side
    feature: FrameFeature
    info: FrameInfo | None = None
    path: str = ""  # keyframe JPEG, relative to home
    thumb: str = ""


def _torch_before_decord() -> None:
    # measured here: decord2 3.4 imported before torch makes torch's later CPU convolutions
    # (EfficientNet's forward) segfault in the same process; torch imported first is fine
    try:
        import torch  # noqa: F401
    except ImportError:
        pass


class FrameReader:
    """Random access to frames by index: decord, or OpenCV when decord cannot read the file."""

    def __init__(self, path: Path, threads: int) -> None:
        name = os.fsdecode(path)
        self.backend = "decord"
        try:
            _torch_before_decord()
            import decord

            self._vr = decord.VideoReader(name, ctx=decord.cpu(0), num_threads=threads)
            self.fps = float(self._vr.get_avg_fps()) or 25.0
            self.n = len(self._vr)
        except Exception as e:  # decord refuses some codecs/containers that FFmpeg via OpenCV reads
            log.info("%s: decord failed (%s); using OpenCV", name, e)
            self.backend = "opencv"
            self._cap = cv2.VideoCapture(name)
            if not self._cap.isOpened():
                raise IngestError(f"{name}: the video stream cannot be decoded (decord: {e}); the file may be "
                                  f"truncated or use an unsupported codec") from e
            # rotation is applied by us from the probe, for both backends
            self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
            self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
            self.n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if self.n <= 0:
            raise IngestError(f"{name}: the video stream has no frames that can be decoded")

    def get(self, indices: Sequence[int]) -> list[np.ndarray]:
        if self.backend == "decord":
            return list(self._vr.get_batch(list(indices)).asnumpy())
        out = []
        for i in indices:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
            ok, bgr = self._cap.read()
            if not ok:
                break
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return out


def _upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    # rotation is clockwise degrees to show upright; np.rot90 turns counter-clockwise
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation // 90))) if rotation % 360 else rgb


def _resize_short(rgb: np.ndarray, short: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = short / min(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else rgb


def _resize_long(rgb: np.ndarray, long: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = long / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else rgb


def scan(reader: FrameReader, duration: float, rotation: int, opts: "IngestOptions") -> tuple[list[float], list[float], list[Keyframe]]:
    """One pass: sample times, change to the previous sample, and the adaptively chosen keyframes."""
    step = max(opts.frame_interval_s, 1.0 / reader.fps)
    times = [float(t) for t in np.arange(0.0, max(duration, step / 2), step)]
    index_of = {t: min(reader.n - 1, int(round(t * reader.fps))) for t in times}
    min_gap = 60.0 / max(1, opts.max_keyframes_per_min)
    changes: list[float] = []
    keys: list[Keyframe] = []
    prev: FrameFeature | None = None
    kept_times: list[float] = []
    for b in range(0, len(times), BATCH):
        chunk = times[b:b + BATCH]
        frames = reader.get([index_of[t] for t in chunk])
        for t, frame in zip(chunk, frames):
            frame = _upright(frame, rotation)
            feat = frame_feature(t, _resize_short(frame, opts.change_short_side))
            d_prev = change(prev, feat) if prev is not None else 1.0
            last = keys[-1] if keys else None
            take = (
                last is None
                or d_prev >= opts.shot_threshold  # a cut (or a very fast change): always describe
                or (change(last.feature, feat) >= opts.keyframe_change and t - last.t >= min_gap)
                or t - last.t >= opts.keyframe_every_s
            )
            if take:
                keys.append(Keyframe(t, _resize_long(frame, DESCRIBE_PX), feat))
            changes.append(d_prev if prev is not None else 0.0)
            kept_times.append(t)
            prev = feat
    if not kept_times:
        raise IngestError("the video stream has no frames that can be decoded (truncated?)")
    return kept_times, changes, keys


def refine_cut(reader: FrameReader, rotation: int, t0: float, t1: float, opts: "IngestOptions", rounds: int = 3) -> float:
    """Narrow a cut between samples t0 (before) and t1 (after) by bisection: each round decodes one frame."""
    try:
        a_feat = frame_feature(t0, _resize_short(_upright(reader.get([int(round(t0 * reader.fps))])[0], rotation), opts.change_short_side))
        b_feat = frame_feature(t1, _resize_short(_upright(reader.get([min(reader.n - 1, int(round(t1 * reader.fps)))])[0], rotation), opts.change_short_side))
        for _ in range(rounds):
            mid = (t0 + t1) / 2
            m_feat = frame_feature(mid, _resize_short(_upright(reader.get([int(round(mid * reader.fps))])[0], rotation), opts.change_short_side))
            if change(a_feat, m_feat) <= change(m_feat, b_feat):
                t0, a_feat = mid, m_feat
            else:
                t1, b_feat = mid, m_feat
    except Exception as e:  # refinement is a bonus: keep the midpoint
        log.debug("cut refinement failed: %s", e)
    return (t0 + t1) / 2


def transcribe_track(path: Path, ms: ModelSet, watch: Stopwatch) -> Transcript | None:
    """Speech of a file's audio track, or None when it has no speech (VAD first: silence costs ~nothing)."""
    from models.speech import decode_audio

    with watch.stage("audio_decode"):
        try:
            audio = decode_audio(path)
        except ValueError as e:
            log.warning("%s: audio track not decodable (%s); no transcript", os.fsdecode(path), e)
            return None
    return transcribe_audio(audio, ms, watch)


def transcribe_audio(audio: np.ndarray, ms: ModelSet, watch: Stopwatch) -> Transcript | None:
    vad = ms.get("vad")
    if vad is not None:
        with watch.stage("vad"):
            spans = vad.speech_spans(audio)
        if sum(b - a for a, b in spans) < 0.3:
            return None
    stt = ms.get("speech")
    if stt is None:
        return None
    with watch.stage("speech"):
        return stt.transcribe(audio, word_timestamps=True)


def words_of(transcript: Transcript | None) -> list[Word]:
    """Every word with its time; segments without word times count as one word spanning them."""
    if transcript is None:
        return []
    out: list[Word] = []
    for s in transcript.segments:
        out.extend(s.words or (Word(s.start, s.end, s.text),))
    return out


def words_in(words: Sequence[Word], a: float, b: float) -> str:
    return " ".join(w.text for w in words if a <= (w.start + w.end) / 2 < b).strip()


def ingest_video(path: Path, media: MediaRecord, opts: "IngestOptions", ms: ModelSet, watch: Stopwatch) -> list[EpisodeRecord]:
    from ingest.pipeline import rel_to_home, thumbs_dir

    threads = max(1, (os.cpu_count() or 1) // max(1, opts.workers))
    with watch.stage("decode"):
        reader = FrameReader(path, threads)
        duration = media.duration_s or reader.n / reader.fps
        times, changes, keys = scan(reader, duration, media.rotation, opts)
        if media.rotation % 180:
            media.width, media.height = media.height, media.width
    with watch.stage("segment"):
        cuts = _refine(reader, media.rotation, times, shot_boundaries(times, changes, opts.shot_threshold), opts)
        spans = split_spans(0.0, duration, cuts, opts.segment_max_s)
    del reader
    with watch.stage("ocr_gate"):
        run_ocr = [opts.ocr == "always" or (opts.ocr == "auto" and text_likely(k.rgb)) for k in keys]
    infos = describe_images([k.rgb for k in keys], ms, watch, ocr=run_ocr)
    folder = thumbs_dir(opts, media.media_id)
    with watch.stage("thumbs"):
        for n, (k, info) in enumerate(zip(keys, infos)):
            k.info = info
            key_path = folder / f"key_{n:04d}_{k.t:08.2f}.jpg"
            save_jpeg(k.rgb, key_path, opts.keyframe_px)
            k.path = rel_to_home(opts, key_path)
            k.rgb = np.empty((0, 0, 3), np.uint8)  # free the pixels now the JPEG is written
        if keys:
            thumb = folder / "thumb.jpg"
            save_jpeg(_load_rgb(opts.home / keys[0].path), thumb, opts.thumb_px)
            media.thumbnail = rel_to_home(opts, thumb)
    transcript = transcribe_track(path, ms, watch) if media.has_audio else None
    words = words_of(transcript)
    return build_episodes(media, spans, keys, words, transcript, opts, kind="video")


def _load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _refine(reader: FrameReader, rotation: int, times: list[float], cuts: list[float], opts: "IngestOptions") -> list[float]:
    out = []
    for c in cuts:
        i = next((j for j, t in enumerate(times) if t > c), len(times) - 1)
        t0, t1 = times[max(0, i - 1)], times[i]
        out.append(refine_cut(reader, rotation, t0, t1, opts) if t1 > t0 else c)
    return out


def build_episodes(
    media: MediaRecord, spans: list[tuple[float, float]], keys: list[Keyframe], words: Sequence[Word],
    transcript: Transcript | None, opts: "IngestOptions", *, kind: str,
) -> list[EpisodeRecord]:
    """Segments (one per span), events (groups of segments), and the session (the whole file)."""
    assert media.captured_at is not None
    t0 = media.captured_at
    mid = media.media_id

    def at(s: float) -> "timedelta":
        return timedelta(seconds=s)

    segments: list[EpisodeRecord] = []
    seg_keys: list[list[Keyframe]] = []
    for n, (a, b) in enumerate(spans):
        ks = [k for k in keys if a <= k.t < b] or ([min(keys, key=lambda k: abs(k.t - (a + b) / 2))] if keys else [])
        seg_keys.append(ks)
        infos = [k.info for k in ks if k.info is not None]
        tags = merge_tags([i.tags for i in infos])
        ocr = unique_lines([line for i in infos for line in i.ocr])
        faces = max((i.faces for i in infos), default=0)
        said = words_in(words, a, b)
        vlm = next((i.caption for i in infos if i.caption), "")
        rep = ks[len(ks) // 2] if ks else None
        segments.append(EpisodeRecord(
            episode_id=f"{mid}:segment:{n}", scale="segment", kind=kind, start=t0 + at(a), end=t0 + at(b),
            media_id=mid, offset_start=a, offset_end=b, sources=[Source(mid, a, b)],
            title=f"{_clock(a)}-{_clock(b)}" + (f" {', '.join(tags[:2])}" if tags else ""),
            caption=compose_caption(kind, tags, ocr, faces, said, vlm=vlm),
            transcript=said, ocr=" / ".join(ocr), tags=tags, lat=media.lat, lon=media.lon,
            image_vector=mean_vector([i.image_vector for i in infos]),
            keyframe=rep.path if rep else "", thumbnail=rep.path if rep else "",
            phash=rep.info.phash if rep and rep.info else "",
        ))

    # events: a new one after a long pause in speech or a big visual change, once the current
    # one has run a minute; never longer than event_max_s
    breaks = [False] * len(spans)
    for i in range(1, len(spans)):
        a = spans[i][0]
        ev_len_hint = a - spans[0][0]
        silent_before = bool(words) and not any(a - opts.event_gap_s <= w.end <= a for w in words)
        visual_jump = (bool(seg_keys[i]) and bool(seg_keys[i - 1])
                       and change(seg_keys[i - 1][-1].feature, seg_keys[i][0].feature) >= 0.6)
        breaks[i] = ev_len_hint >= 60 and (silent_before or visual_jump)
    groups = group_events(spans, breaks=breaks, max_len=opts.event_max_s)
    events: list[EpisodeRecord] = []
    session_id = f"{mid}:session:0"
    for n, idx in enumerate(groups):
        a, b = spans[idx[0]][0], spans[idx[-1]][1]
        ev = EpisodeRecord(
            episode_id=f"{mid}:event:{n}", scale="event", kind=kind, start=t0 + at(a), end=t0 + at(b),
            media_id=mid, offset_start=a, offset_end=b, parent_id=session_id, sources=[Source(mid, a, b)],
            lat=media.lat, lon=media.lon,
        )
        children = [segments[i] for i in idx]
        summarise(ev, children)
        ev.title = f"{_clock(a)}-{_clock(b)}" + (f" {', '.join(ev.tags[:3])}" if ev.tags else "")
        ev.caption = compose_caption(kind, ev.tags, ev.ocr.split(" / ") if ev.ocr else [], 0, ev.transcript)
        for c in children:
            c.parent_id = ev.episode_id
        events.append(ev)
    dur = spans[-1][1] if spans else media.duration_s
    session = EpisodeRecord(
        episode_id=session_id, scale="session", kind=kind, start=t0, end=t0 + at(dur), media_id=mid,
        offset_start=0.0, offset_end=dur, sources=[Source(mid, 0.0, dur)], lat=media.lat, lon=media.lon,
    )
    summarise(session, events)
    noun = {"video": "Video", "audio": "Recording"}[kind]
    session.title = f"{noun} {_clock(dur)}" + (f": {', '.join(session.tags[:3])}" if session.tags else "")
    session.caption = compose_caption(kind, session.tags, [], 0, session.transcript)
    if transcript is not None and not session.transcript:
        session.transcript = transcript.text
    return segments + events + [session]


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
