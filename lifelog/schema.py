"""Typed results of the public API: search hits, answers with citations, the agent's steps, status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any


def local_time(ts: datetime, offset_min: int | None) -> datetime:
    if offset_min is not None:
        return ts.astimezone(timezone(timedelta(minutes=offset_min)))
    return ts.astimezone()


def _utc_text(ts: datetime) -> str:
    ts = ts.astimezone(timezone.utc) if ts.tzinfo else ts
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Filters:
    """Narrow a search. Every field is optional; set ones are combined with AND."""

    start: datetime | None = None  # episodes that end after this (UTC-aware)
    end: datetime | None = None  # episodes that start before this
    kinds: tuple[str, ...] = ()  # photo, video, audio
    place: str = ""  # words of a place name
    people: tuple[str, ...] = ()  # named people
    media_id: str = ""

    def where(self, scale: str | None = None) -> str | None:
        parts = ["duplicate_of = ''"]
        if scale:
            parts.append(f"scale = {_quote(scale)}")
        if self.start:
            parts.append(f"\"end\" >= timestamp '{_utc_text(self.start)}'")
        if self.end:
            parts.append(f"start < timestamp '{_utc_text(self.end)}'")
        if self.kinds:
            parts.append("kind IN (" + ", ".join(_quote(k) for k in self.kinds) + ")")
        if self.place:
            parts.append(f"lower(place) LIKE {_quote('%' + self.place.lower() + '%')}")
        for person in self.people:
            parts.append(f"array_has(people, {_quote(person)})")
        if self.media_id:
            parts.append(f"media_id = {_quote(self.media_id)}")
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

    @property
    def local_start(self) -> datetime:
        """The start as the clock at the place of capture showed it (the machine's zone if unknown)."""
        return local_time(self.start, self.utc_offset_min)


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

    @property
    def local_time(self) -> datetime:
        return local_time(self.time, self.utc_offset_min)


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
