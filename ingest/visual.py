"""The visual memory of a video at ingestion: its sampled frames streamed into a StreamMem KV memory.

    >>> memory = encode_for_video(frames, times, opts, ms)     # None where the profile has no VLM
    >>> events = encode_for_events(frames, times, {"m:event:0": (0.0, 95.0)}, opts, ms)

The frames are the keyframes the video scan already chose (ingest/frames.py), so the VLM sees
each shot and each change, never every frame. Budget and chunk size come from the ingest options
(`visual_budget_tokens`, `visual_chunk_frames`).
Storing is the sink's job (lifelog/visual.py `save_video`): ingest imports nothing of `lifelog`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import models
from models.streammem import SKIP_MESSAGE, StreamMemEncoder, VisualMemory, load_vlm

if TYPE_CHECKING:
    from ingest.describe import ModelSet
    from ingest.options import IngestOptions
    from ingest.records import EpisodeRecord

log = logging.getLogger(__name__)
_said_skip: set[str] = set()


def encoder_for(opts: "IngestOptions", ms: "ModelSet") -> StreamMemEncoder | None:
    """The StreamMem encoder of the options' profile, or None (said once per process and profile)."""
    spec = ms.spec("caption")
    if spec.family != "hf-vlm":
        if opts.profile not in _said_skip:
            _said_skip.add(opts.profile)
            log.info(SKIP_MESSAGE)
        return None
    try:
        vlm = load_vlm(spec, opts.cache_dir, opts.device)
    except (models.ModelNotAvailableError, ImportError) as e:
        log.warning("visual memory skipped: %s", e)
        return None
    return StreamMemEncoder(vlm, int(opts.visual_budget_tokens), int(opts.visual_chunk_frames))


def encode_for_video(frames: Sequence[Any], times: Sequence[float], opts: "IngestOptions",
                     ms: "ModelSet") -> VisualMemory | None:
    """The whole video's memory, or None when the profile has no VLM or there are no frames."""
    if len(frames) == 0:
        return None
    enc = encoder_for(opts, ms)
    return enc.encode(frames, times) if enc is not None else None


def encode_for_events(frames: Sequence[Any], times: Sequence[float], events: dict[str, tuple[float, float]],
                      opts: "IngestOptions", ms: "ModelSet") -> dict[str, tuple[float, float, VisualMemory]]:
    """One memory per event (episode id -> (start s, end s, memory)) from the frames inside it, so
    that answering about one event reads only its own memory. A file with a single event needs
    none: its video memory covers it."""
    if len(events) < 2 or len(frames) == 0:
        return {}
    enc = encoder_for(opts, ms)
    if enc is None:
        return {}
    out: dict[str, tuple[float, float, VisualMemory]] = {}
    for episode_id, (a, b) in events.items():
        idx = [i for i, t in enumerate(times) if a <= t < b]
        if idx:
            out[episode_id] = (a, b, enc.encode([frames[i] for i in idx], [times[i] for i in idx]))
    return out


@dataclass
class VideoVisual:
    """A file's visual memories, as ingestion hands them to the sink (lifelog.visual.save_video)."""

    media_id: str
    video: VisualMemory
    # event episode id -> (start s, end s, memory)
    events: dict[str, tuple[float, float, VisualMemory]] = field(default_factory=dict)


def encode_keyframes(media_id: str, keyframes: Sequence[tuple[str, float]], episodes: Sequence["EpisodeRecord"],
                     opts: "IngestOptions", ms: "ModelSet") -> VideoVisual | None:
    """Memories of a video from its keyframe JPEGs already on disk ((path relative to home, seconds)),
    for the whole file and for each of its events. Reading the JPEGs back keeps no pixels in RAM
    during ingestion; at the default keyframe_px (448) SmolVLM2 upsamples them to its 512 px view,
    so a little detail is lost (raise keyframe_px to 512 to avoid it)."""
    from PIL import Image

    if not keyframes or encoder_for(opts, ms) is None:
        return None
    frames, times = [], []
    for rel, t in keyframes:
        with Image.open(Path(opts.home) / rel) as im:
            frames.append(im.convert("RGB"))
        times.append(float(t))
    video = encode_for_video(frames, times, opts, ms)
    if video is None:
        return None
    spans = {e.episode_id: (float(e.offset_start), float(e.offset_end)) for e in episodes if e.scale == "event"}
    return VideoVisual(media_id, video, encode_for_events(frames, times, spans, opts, ms))


__all__ = ["VideoVisual", "encode_for_events", "encode_for_video", "encode_keyframes", "encoder_for"]
