"""Videos: adaptive frame sampling, shot boundaries, keyframe descriptions, speech with word times.

One pass over the file at `frame_interval_s` (1 fps by default) keeps only a colour histogram of
each sample; keyframes (kept at full detail) are chosen on the way: at every cut, where the scene
has moved away from the last keyframe, and at least every `keyframe_every_s` in a static shot, never
more than `max_keyframes_per_min`. Memory stays flat whatever the length.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TYPE_CHECKING, Callable, Sequence

import cv2
import numpy as np

from ingest.describe import (
    FrameInfo, ModelSet, Stopwatch, compose_caption, describe_images, face_records, merge_tags, mean_vector, save_jpeg,
    text_likely,
    unique_lines,
)
from ingest.errors import IngestError
from ingest.hashing import hamming, phash
from ingest.records import EpisodeRecord, FaceRecord, MediaRecord, Source
from ingest.segment import FrameFeature, change, frame_feature, group_events, shot_boundaries, split_spans, summarise
from models.types import SpeechSegment, Transcript, Word

if TYPE_CHECKING:
    from ingest.pipeline import IngestOptions

log = logging.getLogger(__name__)

# long side (px) at which keyframes are kept in memory for the models (OCR wants some detail)
DESCRIBE_PX = 768
BATCH = 8
# keyframes described together: bounds the pixels held in memory (~1 MB each) and batches the models
DESCRIBE_BATCH = 32
# seconds of sound (speech and the short pauses inside it) given to Whisper at once
SPEECH_WINDOW_S = 300.0
# a keyframe this close (phash bits) to one of the last few described is the same picture: its
# description is copied, not recomputed (a static shot revisited, a paused camera)
SAME_PICTURE_BITS = 4


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


class KeySelector:
    """The adaptive keyframe rule, fed one sample at a time (both scans use it).

    A sample becomes a keyframe at a cut, where the scene has moved away from the last keyframe
    (at most max_keyframes_per_min of those), and at least every keyframe_every_s in a static shot.
    Chosen keyframes are handed to `flush` in batches, so their pixels never pile up in memory.
    """

    def __init__(self, opts: "IngestOptions", flush: Callable[[list[Keyframe]], None] | None) -> None:
        self.opts = opts
        self.flush = flush
        self.min_gap = 60.0 / max(1, opts.max_keyframes_per_min)
        self.times: list[float] = []
        self.changes: list[float] = []
        self.keys: list[Keyframe] = []
        self.pending: list[Keyframe] = []
        self.prev: FrameFeature | None = None

    def add(self, t: float, frame: np.ndarray) -> None:
        """frame: upright RGB at any size of at least DESCRIBE_PX long side or the source size."""
        opts = self.opts
        feat = frame_feature(t, _resize_short(frame, opts.change_short_side))
        d_prev = change(self.prev, feat) if self.prev is not None else 1.0
        last = self.keys[-1] if self.keys else None
        take = (
            last is None
            or d_prev >= opts.shot_threshold  # a cut (or a very fast change): always describe
            or (change(last.feature, feat) >= opts.keyframe_change and t - last.t >= self.min_gap)
            or t - last.t >= opts.keyframe_every_s
        )
        if take:
            key = Keyframe(t, _resize_long(frame, DESCRIBE_PX), feat)
            self.keys.append(key)
            self.pending.append(key)
            if self.flush is not None and len(self.pending) >= DESCRIBE_BATCH:
                self.done()
        self.changes.append(d_prev if self.prev is not None else 0.0)
        self.times.append(t)
        self.prev = feat

    def done(self) -> None:
        if self.flush is not None and self.pending:
            self.flush(self.pending)
        self.pending = []


def scan(reader: FrameReader, duration: float, rotation: int, opts: "IngestOptions",
         flush: Callable[[list[Keyframe]], None] | None = None) -> tuple[list[float], list[float], list[Keyframe]]:
    """One pass at frame_interval_s: sample times, change to the previous sample, adaptive keyframes."""
    step = max(opts.frame_interval_s, 1.0 / reader.fps)
    times = [float(t) for t in np.arange(0.0, max(duration, step / 2), step)]
    index_of = {t: min(reader.n - 1, int(round(t * reader.fps))) for t in times}
    sel = KeySelector(opts, flush)
    for b in range(0, len(times), BATCH):
        chunk = times[b:b + BATCH]
        frames = reader.get([index_of[t] for t in chunk])
        for t, frame in zip(chunk, frames):
            sel.add(t, _upright(frame, rotation))
    sel.done()
    if not sel.times:
        raise IngestError("the video stream has no frames that can be decoded (truncated?)")
    return sel.times, sel.changes, sel.keys


# --- keyframes-only decoding ----------------------------------------------------------------------
# An encoder puts an I-frame at every scene change (x264's scenecut, phones' encoders) and at least
# every GOP (1-2 s on phones, 8-10 s for x264 defaults). Decoding only those is ~100x cheaper than
# decoding every frame (10 min of 720p in ~2 s here), and their spacing is itself adaptive: dense
# where the picture changes. Files whose I-frames are too sparse for that use the 1 fps scan.

def iframe_times(path: Path) -> list[float] | None:
    """Presentation times of the video stream's keyframe packets (demuxing only, no decoding)."""
    import av

    try:
        with av.open(os.fsdecode(path), metadata_errors="ignore") as c:
            if not c.streams.video:
                return None
            s = c.streams.video[0]
            tb = float(s.time_base or 0) or 1 / 90000
            start = s.start_time or 0
            out = [float((p.pts - start) * tb) for p in c.demux(s) if p.is_keyframe and p.pts is not None]
    except Exception as e:  # broken container: the 1 fps scan reports it properly
        log.info("%s: keyframe index unreadable (%s)", os.fsdecode(path), e)
        return None
    return sorted(out)


def iframes_usable(times: Sequence[float] | None, duration: float, opts: "IngestOptions") -> bool:
    if not times or len(times) < 2:
        return False
    gaps = np.diff(np.asarray(list(times) + [duration]))
    return float(np.median(gaps)) <= opts.iframe_gap_max_s and float(np.max(gaps)) <= 2 * opts.keyframe_every_s


def _frame_size(w: int, h: int, long_side: int) -> tuple[int, int]:
    s = min(1.0, long_side / max(w, h))
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


def scan_iframes(path: Path, rotation: int, opts: "IngestOptions",
                 flush: Callable[[list[Keyframe]], None] | None = None) -> tuple[list[float], list[float], list[Keyframe]]:
    """Like `scan`, sampling the I-frames only, each converted straight to DESCRIBE_PX (no full-size copy)."""
    import av

    sel = KeySelector(opts, flush)
    with av.open(os.fsdecode(path), metadata_errors="ignore") as c:
        s = c.streams.video[0]
        s.codec_context.skip_frame = "NONKEY"
        s.thread_type = "AUTO"
        w, h = _frame_size(s.codec_context.width, s.codec_context.height, DESCRIBE_PX)
        start = float(s.start_time * s.time_base) if s.start_time is not None else 0.0
        for frame in c.decode(s):
            if frame.time is None:
                continue
            rgb = frame.to_ndarray(format="rgb24", width=w, height=h)
            sel.add(max(0.0, float(frame.time) - start), _upright(rgb, rotation))
    sel.done()
    if not sel.times:
        raise IngestError("the video stream has no frames that can be decoded (truncated?)")
    return sel.times, sel.changes, sel.keys


def refine_cut_linear(path: Path, rotation: int, t0: float, t1: float, opts: "IngestOptions") -> float:
    """The exact frame of a cut between samples t0 and t1: decode [t0, t1] once at low resolution and
    put the cut before the frame that differs most from its predecessor (t0 is an I-frame in
    keyframe mode, so the seek costs nothing extra)."""
    import av

    best, best_t = -1.0, (t0 + t1) / 2
    try:
        with av.open(os.fsdecode(path), metadata_errors="ignore") as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            # reference frames only (B-frames skipped): about half the decoding, the cut still to a frame or two
            s.codec_context.skip_frame = "NONREF"
            tb = float(s.time_base)
            start = float(s.start_time * s.time_base) if s.start_time is not None else 0.0
            c.seek(int((t0 + start) / tb), stream=s, backward=True)
            w, h = _frame_size(s.codec_context.width, s.codec_context.height, 2 * opts.change_short_side)
            prev: FrameFeature | None = None
            for frame in c.decode(s):
                if frame.time is None:
                    continue
                t = float(frame.time) - start
                if t < t0 - 1e-3:
                    continue
                feat = frame_feature(t, _resize_short(_upright(frame.to_ndarray(format="rgb24", width=w, height=h), rotation),
                                                      opts.change_short_side))
                if prev is not None:
                    d = change(prev, feat)
                    if d > best:
                        best, best_t = d, (prev.t + t) / 2
                prev = feat
                if t >= t1 - 1e-3:
                    break
    except Exception as e:  # refinement is a bonus: keep the midpoint
        log.debug("cut refinement failed: %s", e)
    return best_t


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


def speech_windows(spans: Sequence[tuple[float, float]], total_s: float, window_s: float = SPEECH_WINDOW_S,
                   pad_s: float = 0.5) -> list[tuple[float, float]]:
    """Voice-activity spans grouped into windows of at most window_s, cut in the silences between spans.

    Whisper then sees only stretches with speech (long silences are never decoded), one window at
    a time, so its features for an hour of sound never sit in memory at once.
    """
    windows: list[tuple[float, float]] = []
    for a, b in spans:
        a, b = max(0.0, a - pad_s), min(total_s, b + pad_s)
        if windows and (a <= windows[-1][1] or b - windows[-1][0] <= window_s):
            windows[-1] = (windows[-1][0], max(windows[-1][1], b))
        else:
            windows.append((a, b))
    return windows


def transcribe_audio(audio: np.ndarray, ms: ModelSet, watch: Stopwatch) -> Transcript | None:
    vad = ms.get("vad")
    spans: list[tuple[float, float]] | None = None
    if vad is not None:
        with watch.stage("vad"):
            spans = vad.speech_spans(audio)
        if sum(b - a for a, b in spans) < 0.3:
            return None
    stt = ms.get("speech")
    if stt is None:
        return None
    sr = 16000
    windows = speech_windows(spans, len(audio) / sr) if spans is not None else [(0.0, len(audio) / sr)]
    segments: list[SpeechSegment] = []
    language, speech_s = "", 0.0
    with watch.stage("speech"):
        for a, b in windows:
            part = stt.transcribe(audio[int(a * sr):int(b * sr)], word_timestamps=True)
            language = language or part.language
            speech_s += part.speech_seconds
            segments.extend(
                SpeechSegment(seg.start + a, seg.end + a, seg.text,
                              tuple(Word(w.start + a, w.end + a, w.text, w.prob) for w in seg.words), seg.channel)
                for seg in part.segments
            )
    return Transcript(tuple(segments), language, speech_s)


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


def ingest_video(path: Path, media: MediaRecord, opts: "IngestOptions", ms: ModelSet,
                 watch: Stopwatch, *, faces_out: list[FaceRecord] | None = None) -> tuple[list[EpisodeRecord], Any]:
    """The video's episodes, and its StreamMem visual memory (None where the profile has no VLM).

    Faces on newly described keyframes (with crops) are appended to `faces_out` when given; a
    repeated picture's copied description adds none, so a static shot is not counted again.
    """
    from ingest.pipeline import rel_to_home, thumbs_dir

    threads = max(1, (os.cpu_count() or 1) // max(1, opts.workers))
    folder = thumbs_dir(opts, media.media_id)
    recent: list[Keyframe] = []  # the last few described keyframes, for copying a repeated picture's description
    n_saved = 0
    describe_s = 0.0  # seconds of describe() inside the decode stage, taken out of "decode" below

    def describe(batch: list[Keyframe]) -> None:
        """Describe a batch of keyframes, write their JPEGs and drop their pixels (streaming: memory stays flat)."""
        nonlocal n_saved, describe_s
        t_start = time.perf_counter()
        with watch.stage("hash"):
            hashes = [phash(k.rgb) for k in batch]
        todo: list[int] = []
        for i, (k, h) in enumerate(zip(batch, hashes)):
            same = next((r for r in reversed(recent) if r.info and hamming(r.info.phash, h) <= SAME_PICTURE_BITS), None)
            if same is not None:
                k.info = same.info
            else:
                todo.append(i)
        with watch.stage("ocr_gate"):
            run_ocr = [opts.ocr == "always" or (opts.ocr == "auto" and text_likely(batch[i].rgb)) for i in todo]
        infos = describe_images([batch[i].rgb for i in todo], ms, watch, ocr=run_ocr)
        for i, info in zip(todo, infos):
            batch[i].info = info
        with watch.stage("thumbs"):
            if faces_out is not None:
                for i, info in zip(todo, infos):
                    if info.found_faces:  # the segment is known only after the scan: episode_id set below
                        faces_out.extend(face_records(batch[i].rgb, info.found_faces, media_id=media.media_id,
                                                      episode_id="", offset_s=batch[i].t, folder=folder,
                                                      home=Path(opts.home), first=len(faces_out)))
            for k in batch:
                key_path = folder / f"key_{n_saved:04d}_{k.t:08.2f}.jpg"
                save_jpeg(k.rgb, key_path, opts.keyframe_px)
                if n_saved == 0:
                    save_jpeg(k.rgb, folder / "thumb.jpg", opts.thumb_px)
                    media.thumbnail = rel_to_home(opts, folder / "thumb.jpg")
                n_saved += 1
                k.path = rel_to_home(opts, key_path)
                k.rgb = np.empty((0, 0, 3), np.uint8)  # free the pixels now the JPEG is written
                recent.append(k)
        del recent[:-8]
        describe_s += time.perf_counter() - t_start

    reader: FrameReader | None = None
    iframes = iframe_times(path) if opts.video_decode == "auto" else None
    with watch.stage("decode"):
        duration = media.duration_s
        if iframes and not duration:
            duration = iframes[-1]
    keyframe_mode = iframes_usable(iframes, duration, opts)
    if keyframe_mode:
        try:
            with watch.stage("decode"):
                times, changes, keys = scan_iframes(path, media.rotation, opts, flush=describe)
        except Exception as e:  # a decoder error on some file: the 1 fps scan reads it or says why not
            log.info("%s: keyframes-only decoding failed (%s); scanning at 1 fps", os.fsdecode(path), e)
            keyframe_mode = False
            recent.clear()
            n_saved = 0
    if not keyframe_mode:
        with watch.stage("decode"):
            reader = FrameReader(path, threads)
            duration = media.duration_s or reader.n / reader.fps
            times, changes, keys = scan(reader, duration, media.rotation, opts, flush=describe)
    watch.seconds["decode"] -= describe_s  # the models' time is in their own stages
    if media.rotation % 180:
        media.width, media.height = media.height, media.width
    with watch.stage("segment"):
        rough = shot_boundaries(times, changes, opts.shot_threshold)
        if reader is not None:
            cuts = _refine(reader, media.rotation, times, rough, opts)
        else:
            cuts = [_refine_linear(path, media.rotation, times, c, opts) for c in rough]
        spans = split_spans(0.0, duration, cuts, opts.segment_max_s)
    del reader
    transcript = transcribe_track(path, ms, watch) if media.has_audio else None
    words = words_of(transcript)
    episodes = build_episodes(media, spans, keys, words, transcript, opts, kind="video")
    for f in faces_out or []:
        n = next((j for j, (a, b) in enumerate(spans) if a <= f.offset_s < b), max(0, len(spans) - 1))
        f.episode_id = f"{media.media_id}:segment:{n}"
    from ingest.visual import encode_keyframes

    with watch.stage("visual_memory"):
        visual = encode_keyframes(media.media_id, [(k.path, k.t) for k in keys if k.path], episodes, opts, ms)
    return episodes, visual


def _refine_linear(path: Path, rotation: int, times: list[float], c: float, opts: "IngestOptions") -> float:
    i = next((j for j, t in enumerate(times) if t > c), len(times) - 1)
    t0, t1 = times[max(0, i - 1)], times[i]
    return refine_cut_linear(path, rotation, t0, t1, opts) if t1 > t0 else c


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
