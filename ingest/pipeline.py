"""One file in, one media record and its episodes out: probe -> decode -> segment -> describe -> embed.

    >>> opts = IngestOptions(home=Path("~/.lifelog").expanduser(), cache_dir=Path("~/.cache/lifelog"))
    >>> result = ingest_file(Path("IMG_0001.HEIC"), opts)
    >>> [e.caption for e in result.episodes]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ingest.describe import ModelSet, Stopwatch
from ingest.errors import IngestError
from ingest.places import place_name
from ingest.probe import probe
from ingest.records import EpisodeRecord, FaceRecord, FileResult, MediaRecord


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


def local_time(media: MediaRecord, ts: datetime) -> datetime:
    """A time as the camera's clock showed it (its UTC offset when known, else this machine's zone)."""
    if media.utc_offset_min is not None:
        return ts.astimezone(timezone(timedelta(minutes=media.utc_offset_min)))
    return ts.astimezone()


def thumbs_dir(opts: IngestOptions, media_id: str) -> Path:
    return Path(opts.home) / "thumbs" / media_id


def rel_to_home(opts: IngestOptions, path: Path) -> str:
    return path.relative_to(opts.home).as_posix()


def ingest_file(path: Path, opts: IngestOptions, *, media: MediaRecord | None = None, model_set: ModelSet | None = None) -> FileResult:
    """Ingest one photo, video or recording into its media record and episodes.

    `media` may be a probe already made (batch ingestion probes first to skip known files).
    Raises IngestError with a reason for the user when the file cannot be ingested.
    """
    from ingest import audio, photo, video

    path = Path(path)
    ms = model_set or ModelSet(opts)
    watch = Stopwatch()
    with watch.stage("probe"):
        media = media or probe(path)
    try:
        visual = None
        faces: list[FaceRecord] = []
        if media.kind == "photo":
            episodes = photo.ingest_photo(path, media, opts, ms, watch, faces_out=faces)
        elif media.kind == "video":
            episodes, visual = video.ingest_video(path, media, opts, ms, watch, faces_out=faces)
        else:
            episodes = audio.ingest_audio(path, media, opts, ms, watch)
    except IngestError:
        raise
    except MemoryError as e:
        raise IngestError(f"{os.fsdecode(path)}: ran out of memory decoding it ({media.width}x{media.height} {media.kind})") from e
    with watch.stage("place"):
        name = place_name(media.lat, media.lon)
        for e in episodes:
            if e.lat is None and media.lat is not None:
                e.lat, e.lon = media.lat, media.lon
            e.place = e.place or (place_name(e.lat, e.lon) if (e.lat, e.lon) != (media.lat, media.lon) else name)
    with watch.stage("text_embed"):
        embed_texts(episodes, ms)
    media.ingested_at = datetime.now(timezone.utc)
    media.models = {role: ms.spec(role).name for role in used_roles(media.kind, ms)}
    return FileResult(media=media, episodes=episodes, timings=dict(watch.seconds), visual=visual, faces=faces)


def used_roles(kind: str, ms: ModelSet) -> list[str]:
    visual = ["tags", "image_text", "ocr", "faces"] + (["caption"] if ms.has_captioner() else [])
    speech = ["vad", "speech"]
    roles = {"photo": visual, "video": visual + speech, "audio": speech}[kind]
    return roles + ["text_embed"]


def episode_text(e: EpisodeRecord) -> str:
    """Every signal of an episode as one text: what full-text search and the text vector see."""
    parts = [e.title, e.caption]
    if e.transcript and e.transcript not in e.caption:
        parts.append(f"Said: {e.transcript}")
    if e.ocr:
        parts.append(f"Text: {e.ocr}")
    if e.tags:
        parts.append("Tags: " + ", ".join(e.tags))
    if e.people:
        parts.append("People: " + ", ".join(e.people))
    if e.place:
        parts.append(f"Place: {e.place}")
    return "\n".join(p for p in parts if p)


def embed_texts(episodes: list[EpisodeRecord], ms: ModelSet) -> None:
    """Fill text and text_vector of every episode, in one batch for the file."""
    for e in episodes:
        e.text = episode_text(e)
    embedder = ms.get("text_embed", required=True)
    vecs = embedder.embed([e.text for e in episodes], kind="passage") if episodes else []
    for e, v in zip(episodes, vecs):
        e.text_vector = v
