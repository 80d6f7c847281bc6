"""What ingestion produces: one media record per file and its episodes at several time scales.

Plain dataclasses, so `ingest/` does not depend on the store; `lifelog.store` turns them into
LanceDB rows. Times are timezone-aware datetimes in UTC; offsets are seconds into the media.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import numpy as np

MediaKind = Literal["photo", "video", "audio"]
Scale = Literal["segment", "event", "session", "day"]
SCALES: tuple[Scale, ...] = ("segment", "event", "session", "day")
# where a capture time came from, best first: the camera's clock (EXIF, QuickTime), a GPS clock (a
# GoPro's GPMF, the EXIF GPS date and time), a tag, the file's mtime ("file"), and when even that is
# out of range the time of ingestion ("ingest")
TimeOrigin = Literal["exif", "quicktime", "gpmf", "gps", "tag", "file", "ingest"]
# a TimeOrigin, followed by the better sources passed over because their date was unreadable or
# out of range (before 1900, after tomorrow): "gps:exif_out_of_range", "file:exif_out_of_range"
TimeSource = str


@dataclass
class MediaRecord:
    media_id: str  # content hash (blake2b-128 hex of the bytes): the file's identity
    path: str  # absolute path where it was last seen
    kind: MediaKind
    size_bytes: int
    mtime: datetime
    status: Literal["ok", "failed"] = "ok"
    error: str = ""  # why it failed, for the user
    captured_at: datetime | None = None  # UTC
    time_source: TimeSource = "file"  # see TimeSource; time_origin() gives its first part
    utc_offset_min: int | None = None  # the camera's local offset when known (EXIF OffsetTime)
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    rotation: int = 0  # degrees the picture was turned to show upright
    lat: float | None = None
    lon: float | None = None
    altitude: float | None = None
    device: str = ""  # camera make + model
    codec: str = ""
    has_audio: bool = False
    thumbnail: str = ""  # path relative to the library home
    ingested_at: datetime | None = None
    # model name per role used to make this file's episodes
    models: dict[str, str] = field(default_factory=dict)


def time_origin(time_source: str) -> str:
    """Where a capture time came from ("exif", ..., "file"), without the notes on rejected sources."""
    return time_source.split(":", 1)[0]


@dataclass
class Source:
    media_id: str
    start_s: float
    end_s: float


@dataclass
class EpisodeRecord:
    episode_id: str  # stable: f"{media_id}:{scale}:{n}" for one file's episodes, f"day:{date}" for a day
    scale: Scale
    kind: str  # photo, video, audio, or mixed for episodes spanning files
    start: datetime  # absolute, UTC
    end: datetime
    media_id: str = ""  # the file this episode comes from ("" when it spans files)
    offset_start: float = 0.0  # seconds into media_id
    offset_end: float = 0.0
    parent_id: str = ""
    sources: list[Source] = field(default_factory=list)  # every file and span it covers
    title: str = ""  # a short line for lists
    caption: str = ""  # what it shows (VLM caption, or composed from tags/OCR/speech)
    transcript: str = ""
    ocr: str = ""
    tags: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    text: str = ""  # every signal as one text: what full-text search and the text embedding see
    text_vector: np.ndarray | None = None
    image_vector: np.ndarray | None = None
    keyframe: str = ""  # stored keyframe (relative to home) from which image vectors can be recomputed
    thumbnail: str = ""  # relative to home
    # perceptual hash (hex) of the keyframe, for burst and near-duplicate grouping
    phash: str = ""
    # set on near-duplicates: the episode that represents them (search shows only representatives)
    duplicate_of: str = ""


@dataclass
class FaceRecord:
    """One face seen in a photo or a video keyframe; `lifelog.semantic` clusters these into people."""

    face_id: str  # f"{media_id}:face:{n}": stable across re-ingestion of the same bytes
    media_id: str
    episode_id: str  # the segment the face was seen in
    offset_s: float  # seconds into the media (0 for photos)
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the described picture's pixels
    score: float  # detector confidence
    embedding: np.ndarray  # 128-d dlib descriptor: L2 distance < ~0.6 means the same person
    crop: str = ""  # a small JPEG of the face, relative to the library home


@dataclass
class VoiceRecord:
    """One speaker's voice in a recording (its turns, from ingest/diarize.py); `lifelog.semantic`
    clusters voices across files into people, as it does faces."""

    voice_id: str  # f"{media_id}:voice:{speaker}"
    media_id: str
    speaker: int  # the turn label inside the file
    starts: list[float]  # the speaker's turns, seconds into the file
    ends: list[float]
    episode_ids: list[str]  # the segments they speak in
    embedding: np.ndarray  # 256-d GE2E voice vector, unit length: cosine > ~0.9 is the same voice
    seconds: float = 0.0  # how long they speak


@dataclass
class FileResult:
    media: MediaRecord
    episodes: list[EpisodeRecord]
    # model seconds spent per stage, for the batch summary and benchmarks
    timings: dict[str, float] = field(default_factory=dict)
    # the video's compressed visual memory (ingest.visual.VideoVisual), where the profile has a VLM
    visual: Any = None
    # faces seen, with embeddings and crops (where the profile has a face model)
    faces: list[FaceRecord] = field(default_factory=list)
    # voices heard, one per speaker (recordings with speech)
    voices: list[VoiceRecord] = field(default_factory=list)
    # the pictures ingestion wrote under thumbs/<media_id>/, by name, when they were made on another
    # machine (a Ray worker); None: they are in this home's thumbs folder already
    assets: dict[str, bytes] | None = None


class Sink(Protocol):
    """Where batch ingestion writes; `lifelog.store.Store` is the real one."""

    def known(self, media_id: str) -> MediaRecord | None:
        """The ok record of an already ingested file with this content hash, else None."""

    def write(self, result: FileResult) -> None:
        """Store one file's media record and episodes atomically (all or nothing)."""

    def write_failure(self, media: MediaRecord) -> None:
        """Record a file that could not be ingested, with its reason."""

    def note_path(self, media_id: str, path: str) -> None:
        """A known file was seen at a new path (renamed or moved)."""
