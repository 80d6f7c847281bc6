"""Reading a video's pictures: frame access, adaptive keyframes, I-frame scans, shot cuts to the frame.

One pass over the file at `frame_interval_s` (1 fps by default), or over its I-frames only, keeps
only a colour histogram of each sample; keyframes (kept at full detail) are chosen on the way: at
every cut, where the scene has moved away from the last keyframe, and at least every
`keyframe_every_s` in a static shot, never more than `max_keyframes_per_min`. Memory stays flat
whatever the length.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import cv2
import numpy as np

from ingest import quiet
from ingest.describe import FrameInfo
from ingest.errors import IngestError
from ingest.options import clean_text, path_text

if TYPE_CHECKING:
    from ingest.options import IngestOptions

log = logging.getLogger(__name__)

# long side (px) at which keyframes are kept in memory for the models (OCR wants some detail)
DESCRIBE_PX = 768
# frames fetched from the reader at once by the 1 fps scan
BATCH = 8
# keyframes described together: bounds the pixels held in memory (~1 MB each) and batches the models
DESCRIBE_BATCH = 32


# --- frame change --------------------------------------------------------------------------

@dataclass
class FrameFeature:
    """What change detection keeps of a sampled frame: a colour histogram (not the frame)."""

    t: float
    hist: np.ndarray


def frame_feature(t: float, rgb_small: np.ndarray) -> FrameFeature:
    hsv = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2HSV)
    # 16 hue x 4 saturation x 4 value bins: robust to small motion, sensitive to a new scene
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)
    return FrameFeature(t, hist)


def change(a: FrameFeature, b: FrameFeature) -> float:
    """0 (same picture) .. 1 (nothing in common): Bhattacharyya distance of HSV histograms."""
    return float(cv2.compareHist(a.hist, b.hist, cv2.HISTCMP_BHATTACHARYYA))


def shot_boundaries(times: Sequence[float], changes: Sequence[float], threshold: float) -> list[float]:
    """Times of hard cuts: a consecutive-sample change above `threshold` that also stands out
    from the local motion (3x the median change of its neighbours), so fast pans do not cut.

    changes[i] is the change between sample i-1 and i; the cut is put midway between them
    (error at most half the sampling interval).
    """
    cuts = []
    c = np.asarray(changes, dtype=np.float32)
    for i in range(1, len(c)):
        lo, hi = max(1, i - 3), min(len(c), i + 4)
        neighbours = np.concatenate([c[lo:i], c[i + 1:hi]])
        local = float(np.median(neighbours)) if neighbours.size else 0.0
        if c[i] >= threshold and c[i] >= 3 * local:
            cuts.append((times[i - 1] + times[i]) / 2)
    return cuts


# --- sampling and keyframes ----------------------------------------------------------------------

@dataclass
class Keyframe:
    """A sample chosen to be described: its pixels until they are written, then only its JPEG path."""

    t: float
    rgb: np.ndarray  # upright, DESCRIBE_PX long side
    feature: FrameFeature
    info: FrameInfo | None = None
    path: str = ""  # keyframe JPEG, relative to home


def _torch_before_decord() -> None:
    # measured here: decord2 3.4 imported before torch makes torch's later CPU convolutions
    # (EfficientNet's forward) segfault in the same process; torch imported first is fine
    try:
        import torch  # noqa: F401
    except ImportError:
        pass


def _short(e: BaseException) -> str:
    """A decoder's error as one short line (decord's carry a C++ source location and a stack)."""
    text = " ".join(clean_text(str(e)).split())
    if "Check failed:" in text:
        text = text.split("Check failed:", 1)[1].strip()
    return f"{type(e).__name__}: {text[:160]}"


def readable_name(path: Path) -> tuple[str, str | None]:
    """A name for `path` that decord and OpenCV can open, and the temporary folder to remove after.

    Both take UTF-8 text only: a name with a byte that is not UTF-8 makes decord raise and OpenCV's
    VideoCapture crash the process. Such a file is opened through an ASCII-named link to it."""
    name = os.fsdecode(path)
    try:
        name.encode("utf-8")
        return name, None
    except UnicodeEncodeError:
        folder = tempfile.mkdtemp(prefix="lifelog-read-")
        link = os.path.join(folder, "media" + "".join(c for c in Path(path).suffix if c.isascii()))
        os.symlink(os.path.abspath(path), link)
        return link, folder


class FrameReader:
    """Random access to frames by index: decord, or OpenCV when decord cannot read the file."""

    def __init__(self, path: Path, threads: int) -> None:
        self.label = path_text(path)
        self.name, folder = readable_name(path)
        if folder is not None:
            weakref.finalize(self, shutil.rmtree, folder, True)
        self.backend = "decord"
        try:
            _torch_before_decord()
            import decord

            quiet.install()  # decord's "Failed to skip frames effectively" lines are chatter: drop them

            self._vr = decord.VideoReader(self.name, ctx=decord.cpu(0), num_threads=threads)
            self.fps = float(self._vr.get_avg_fps()) or 25.0
            self.n = len(self._vr)
        except Exception as e:  # decord refuses some codecs/containers that FFmpeg via OpenCV reads
            log.info("%s: decord failed (%s); using OpenCV", self.label, _short(e))
            self._open_opencv(e)
            self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
            self.n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if self.n <= 0:
            raise IngestError(f"{self.label}: the video stream has no frames that can be decoded")

    def _open_opencv(self, why: BaseException) -> None:
        self.backend = "opencv"
        self._cap = cv2.VideoCapture(self.name)
        if not self._cap.isOpened():
            raise IngestError(f"{self.label}: the video stream cannot be decoded ({_short(why)}); the file may be "
                              f"truncated or use an unsupported codec") from why
        # rotation is applied by us from the probe, for both backends
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)

    def get(self, indices: Sequence[int]) -> list[np.ndarray]:
        if self.backend == "decord":
            try:
                return list(self._vr.get_batch(list(indices)).asnumpy())
            except Exception as e:  # e.g. frames narrower than 32 px: decord's copy fails; OpenCV reads them
                log.info("%s: decord cannot read its frames (%s); using OpenCV", self.label, _short(e))
                del self._vr
                self._open_opencv(e)
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
        log.info("%s: keyframe index unreadable (%s)", path_text(path), e)
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


def refine_cuts(path: Path, reader: FrameReader | None, rotation: int, times: list[float], cuts: list[float],
                opts: "IngestOptions") -> list[float]:
    """Each rough cut (midway between two samples) moved to the frame where the picture changes: by
    bisection through `reader` after a 1 fps scan, by one low-resolution decode after an I-frame scan."""
    out = []
    for c in cuts:
        i = next((j for j, t in enumerate(times) if t > c), len(times) - 1)
        t0, t1 = times[max(0, i - 1)], times[i]
        if t1 <= t0:
            out.append(c)
        elif reader is not None:
            out.append(refine_cut(reader, rotation, t0, t1, opts))
        else:
            out.append(refine_cut_linear(path, rotation, t0, t1, opts))
    return out
