"""Typed results of the public API (search hits, answers with citations, the agent's steps,
status), the search filters, and `Retriever`: the small interface the agent reads memory through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ingest.options import local_time
from ingest.records import time_origin
from lifelog.sql import quote, ts

if TYPE_CHECKING:
    import numpy as np

    from lifelog.settings import Settings


def copy_dated(time_source: str) -> bool:
    """A time source that is only when the file was copied or ingested, not when it was captured
    (notes on rejected sources after ":" aside)."""
    return time_origin(time_source or "") in ("file", "ingest")


# what each kind of media is called in answers and on screen
KIND_NAMES = {"audio": "recording", "video": "video", "photo": "photo"}


@dataclass(frozen=True)
class Filters:
    """Narrow a search. Every field is optional; set ones are combined with AND."""

    start: datetime | None = None  # episodes that end after this (UTC-aware)
    end: datetime | None = None  # episodes that start before this
    kinds: tuple[str, ...] = ()  # photo, video, audio
    place: str = ""  # words of a place name
    people: tuple[str, ...] = ()  # named people
    media_id: str = ""
    # wall-clock bounds at the place of capture ("on 12 September" is that day where the photo was
    # taken): the store is asked for start/end widened by a day, `admits` keeps the local ones
    local_start: datetime | None = None  # naive
    local_end: datetime | None = None
    hours: tuple[int, int] | None = None  # a part of any day, local: (20, 29) is 20:00-05:00

    def admits(self, hit: Hit) -> bool:
        """Whether a hit falls inside the local (wall-clock) bounds; the SQL bounds are wider."""
        if self.local_start is None and self.local_end is None and self.hours is None:
            return True
        start, end = hit.local_start.replace(tzinfo=None), hit.local_end.replace(tzinfo=None)
        if self.local_end is not None and start >= self.local_end:
            return False
        if self.local_start is not None and max(end, start) < self.local_start:
            return False
        if self.hours is not None:
            h0, h1 = self.hours
            hour = start.hour + start.minute / 60
            if not (h0 <= hour < h1 or h0 <= hour + 24 < h1):
                return False
        return True

    def where(self, scale: str | None = None) -> str | None:
        parts = ["duplicate_of = ''"]
        if scale:
            parts.append(f"scale = {quote(scale)}")
        if self.start:
            parts.append(f"\"end\" >= {ts(self.start)}")
        if self.end:
            parts.append(f"start < {ts(self.end)}")
        if self.kinds:
            parts.append("kind IN (" + ", ".join(quote(k) for k in self.kinds) + ")")
        if self.place:
            parts.append(f"lower(place) LIKE {quote('%' + self.place.lower() + '%')}")
        for person in self.people:
            parts.append(f"array_has(people, {quote(person)})")
        if self.media_id:
            parts.append(f"media_id = {quote(self.media_id)}")
        return " AND ".join(parts)

    def describe(self) -> str:
        bits = []
        if self.start or self.end:
            bits.append(f"time {self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M}" if self.start and self.end
                        else f"time from {self.start}" if self.start else f"time until {self.end}")
        if self.kinds:
            bits.append("kind " + "/".join(self.kinds))
        if self.place:
            bits.append(f"place ~ {self.place}")
        if self.people:
            bits.append("people " + ", ".join(self.people))
        if self.local_start or self.local_end:
            bits.append(f"local time {self.local_start or '…'} .. {self.local_end or '…'}")
        if self.hours:
            bits.append(f"hours {self.hours[0]:02d}-{self.hours[1] % 24:02d}")
        return "; ".join(bits) or "none"


@dataclass(frozen=True)
class Hit:
    """One episode found by a search, with why it matched."""

    episode_id: str
    scale: str
    kind: str
    media_id: str
    path: str  # the file, as last seen
    start: datetime  # absolute time of the episode, UTC
    end: datetime
    offset_start: float  # seconds into the file
    offset_end: float
    title: str
    text: str
    transcript: str
    ocr: str  # text seen in the picture, rows joined by " / "
    thumbnail: str  # absolute path, or ""
    place: str
    lat: float | None
    lon: float | None
    score: float  # the fused relevance in [0, 1]
    similarity: float  # cosine similarity of the text vectors
    keyword_score: float  # BM25 score from full-text search, 0 when no word matched
    parent_id: str = ""
    utc_offset_min: int | None = None  # the camera's local offset, where known
    tags: tuple[str, ...] = ()
    # what the file says about itself
    device: str = ""  # camera or phone make and model
    duration_s: float = 0.0  # the whole file's length (0 for a photo)
    # where the capture time came from: exif, gps, quicktime, ..., "text" (a date printed in the
    # picture), or "file" / "ingest" (only when the file was copied or ingested)
    time_source: str = ""
    has_audio: bool = False

    @property
    def local_start(self) -> datetime:
        """The start as the clock at the place of capture showed it (the machine's zone if unknown)."""
        return local_time(self.start, self.utc_offset_min)

    @property
    def local_end(self) -> datetime:
        return local_time(self.end, self.utc_offset_min)

    @property
    def file_dated(self) -> bool:
        """Dated only by the file's modification time: when it was copied, not when it was captured."""
        return copy_dated(self.time_source)


@dataclass(frozen=True)
class Citation:
    """Evidence for an answer: where to look and what it says."""

    media_id: str
    path: str
    kind: str
    start_s: float  # seconds into the file
    end_s: float
    time: datetime  # absolute time of the cited moment, UTC
    snippet: str  # the transcript line, caption or text that supports the answer
    thumbnail: str
    place: str
    episode_id: str
    score: float
    utc_offset_min: int | None = None
    time_source: str = ""  # as Hit.time_source: "file"/"ingest" is a copy date, not a capture time

    @property
    def local_time(self) -> datetime:
        return local_time(self.time, self.utc_offset_min)

    @property
    def file_dated(self) -> bool:
        return copy_dated(self.time_source)


@dataclass(frozen=True)
class Step:
    """One round of the agent: what it read, how, what came back, and what it decided."""

    round: int
    memory: str  # episodic, visual, semantic
    scale: str
    query: str
    filters: str
    hits: list[tuple[str, float]]  # (episode title or id, score)
    decision: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    steps: list[Step]
    agent: str
    seconds: float
    confidence: float = 0.0


@dataclass(frozen=True)
class ModelRow:
    role: str
    title: str
    profile: str
    name: str
    source: str
    available: bool
    reason: str
    size_mb: float
    dim: int | None
    licence: str
    notes: str
    active: bool


@dataclass(frozen=True)
class Status:
    home: str
    profile: str
    media_by_kind: dict[str, int]
    failed: int
    episodes_by_scale: dict[str, int]
    first: datetime | None
    last: datetime | None
    media_hours: float
    disk_bytes: dict[str, int]
    stale_columns: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Retriever(Protocol):
    """What the agent reads memory through (`lifelog.memory.Memory` implements it): episodic search
    and browsing, the semantic and visual memories, and the text models. The agent never sees the
    store, so it can be tested on a small library in memory."""

    settings: Settings

    def search(self, text: str, *, filters: Filters | None = None, scale: str | None = "segment",
               limit: int | None = None, min_score: float | None = ...) -> list[Hit]: ...

    def browse(self, filters: Filters, *, scale: str | None = "segment") -> list[Hit]: ...

    def hit(self, episode_id: str) -> Hit | None: ...

    def places(self) -> list[str]: ...

    def tags(self) -> list[str]: ...

    def vocabulary(self) -> dict[str, list[str]]: ...

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray: ...

    def chat(self, messages: list[dict], *, max_tokens: int) -> str: ...

    def has_vlm(self) -> bool: ...

    def ask_visual(self, question: str, episode_ids: Sequence[str]) -> Any: ...

    def last_seen(self, thing: str) -> Any: ...

    def last_visit(self, place_words: str) -> Any: ...

    def sightings(self, name: str, start: datetime | None = None, end: datetime | None = None) -> list[Any]: ...

    def who_is(self, episode_id: str) -> list[str]: ...
