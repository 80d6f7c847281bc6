"""Ingestion settings (`IngestOptions`) and the path and time helpers every stage shares.

The lowest layer of `ingest/`: imports only the standard library, so settings and the library's
clock can be read on cold paths (the CLI, the UI) without loading a decoder or a model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path


@dataclass(frozen=True)
class IngestOptions:
    # library home: thumbnails and keyframes go under home/"thumbs"/<media_id>/
    home: Path
    # model cache (pulled weights, joined model files)
    cache_dir: Path
    # which model per role (models.registry.PROFILE_SPECS): bundled, full or tiny
    profile: str = "bundled"
    # role -> registry name or local path, as (role, value) pairs so the options stay hashable
    model_overrides: tuple[tuple[str, str], ...] = ()
    device: str = "cpu"
    # files ingested at once; decoders and models release the GIL, so threads use the cores
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # video sampling: "auto" decodes only the I-frames where the encoder put them often enough
    # (iframe_gap_max_s, median); "frames" always samples every frame_interval_s (slower, ~decode-all)
    video_decode: str = "auto"
    iframe_gap_max_s: float = 10.0
    # seconds between sampled video frames for change detection (1 fps: 27x realtime decode on 2 cores)
    frame_interval_s: float = 1.0
    # short side (px) of the frames used for change detection; change is coarse, small is enough
    change_short_side: int = 160
    # HSV-histogram Bhattacharyya distance between consecutive samples that marks a hard cut
    shot_threshold: float = 0.45
    # distance from the last keyframe that earns a new keyframe inside a shot (the scene moved)
    keyframe_change: float = 0.25
    # one keyframe at least this often inside a static shot (seconds)
    keyframe_every_s: float = 15.0
    # cap on keyframes per minute of video, whatever the motion (bounds model time per hour)
    max_keyframes_per_min: int = 12
    # long shots are cut into segments of at most this many seconds
    segment_max_s: float = 30.0
    # OCR gating: "auto" runs OCR only where a cheap stroke test finds likely text; "always"; "never"
    ocr: str = "auto"
    # speaker turns and voice vectors for recordings with speech (ingest/diarize.py; GE2E, ~0.3 s
    # per minute of speech after a one-off 1-2 s load): "auto" keeps them, "never" skips them
    voices: str = "auto"
    # an event (minutes) ends at a pause in speech this long, or at a big visual change ...
    event_gap_s: float = 20.0
    # ... and never grows past this many seconds
    event_max_s: float = 240.0
    # photos closer than this in time (s) and distance (km) form one session (an outing, a burst)
    photo_session_gap_s: float = 3600.0
    photo_session_km: float = 1.0
    # near-duplicate photos: phash Hamming distance at most this, taken within burst_window_s
    burst_phash_distance: int = 10
    burst_window_s: float = 60.0
    # JPEG sizes (long side, px): thumbnails for lists, keyframes to recompute image vectors later
    thumb_px: int = 384
    # StreamMem visual memory (profiles with a VLM): tokens kept per video/event, frames per chunk
    visual_budget_tokens: int = 512
    visual_chunk_frames: int = 8
    keyframe_px: int = 448
    # inputs given as object-store URIs (ingest/remote.py): the store's options, as (key, value) pairs
    object_store: tuple[tuple[str, str], ...] = ()


def thumbs_dir(opts: IngestOptions, media_id: str) -> Path:
    """Where a file's thumbnail, keyframes and face crops go."""
    return Path(opts.home) / "thumbs" / media_id


def rel_to_home(opts: IngestOptions, path: Path) -> str:
    """A path under the library home as stored in records (relative, forward slashes)."""
    return path.relative_to(opts.home).as_posix()


def local_time(ts: datetime, offset_min: int | None = None) -> datetime:
    """A time as the camera's clock showed it: in its UTC offset (minutes) when known, else this machine's zone."""
    if offset_min is not None:
        return ts.astimezone(timezone(timedelta(minutes=offset_min)))
    return ts.astimezone()


def utc(dt: datetime | None) -> datetime | None:
    """A time in UTC: a naive one is taken to be UTC already, an aware one is converted; None stays None."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


# --- file names as text ------------------------------------------------------------------------
# A file name is bytes; one that is not valid UTF-8 (an old camera's card, a Windows-1252 zip) comes
# out of os.fsdecode with lone surrogates, which no UTF-8 writer (Arrow, LanceDB, a strict stdout)
# accepts. Records and messages carry `path_text`: the name's bytes as UTF-8, each invalid byte
# written as a 4-character escape "\xe9". `text_path` turns such text back into the name on disk.

def path_text(path: str | os.PathLike[str] | bytes) -> str:
    """A path as valid UTF-8 text for records, reports and messages (invalid bytes as "\\xNN")."""
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a str with surrogates that no file name can have
        return clean_text(os.fspath(path))  # type: ignore[arg-type]


def clean_text(text: str) -> str:
    """Text that may hold a path's surrogate escapes (an exception's message) as valid UTF-8 text:
    an escaped byte as "\\xNN", as `path_text` writes it, any other lone surrogate as "\\uNNNN"."""
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(m: re.Match[str]) -> str:
    o = ord(m[0])
    return f"\\x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else f"\\u{o:04x}"


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def text_path(text: str) -> Path:
    """The file behind a stored `path_text`: the text itself when such a file exists, else the name
    with its "\\xNN" escapes turned back into the bytes they stand for (the name on disk)."""
    if os.path.lexists(text) or "\\x" not in text:
        return Path(text)
    raw = _ESCAPED_BYTE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return Path(os.fsdecode(raw))


# --- plausible times -----------------------------------------------------------------------------
# A capture time outside these bounds is a camera's unset or broken clock (0000:00:00, 9999:12:31,
# 1850 from a reset battery); it is never stored, so no later datetime arithmetic can overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)  # clocks a little ahead, time zones: up to a day after now is kept
# the longest media this project takes (a day-long recorder is 24 h): more is a broken header
MAX_DURATION_S = 31 * 86400.0


def plausible_time(dt: datetime | None) -> bool:
    """True for an aware time between 1900 and a day after now (the bounds of a stored capture time)."""
    if dt is None or dt.tzinfo is None:
        return False
    try:
        return EARLIEST <= dt <= datetime.now(timezone.utc) + FUTURE_SLACK
    except (OverflowError, ValueError):
        return False


def from_timestamp(seconds: float) -> datetime | None:
    """A POSIX timestamp as an aware UTC datetime, None when a datetime cannot hold it."""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
