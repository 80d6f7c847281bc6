"""The JSON form of answers, citations, hits and status: what the HTTP API and the MCP server send,
and what `lifelog ask --json` prints. `decode_*` turn it back into the typed results, so the CLI
prints an answer that came from the service exactly as one it worked out itself.

Times are ISO 8601: `time` in UTC, `local_time` as the clock at the place of capture showed it
(with its offset), and `file_dated` where the only date is when the file was copied.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from ingest.options import local_time
from lifelog.schema import Answer, Citation, Hit, Status, Step


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _time(v: Any) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def citation(c: Citation, *, media_url: str = "") -> dict[str, Any]:
    """A citation as JSON: the file and the seconds in it, UTC and local time, place, the supporting text."""
    return {
        "media_id": c.media_id, "path": c.path, "kind": c.kind, "start_s": round(c.start_s, 3),
        "end_s": round(c.end_s, 3), "time": _iso(c.time), "local_time": _iso(c.local_time),
        "utc_offset_min": c.utc_offset_min, "file_dated": c.file_dated, "time_source": c.time_source,
        "place": c.place, "snippet": c.snippet, "episode_id": c.episode_id, "score": round(c.score, 4),
        "thumbnail": c.thumbnail, **({"media_url": media_url} if media_url else {}),
    }


def answer(a: Answer, *, media_url: Any = None) -> dict[str, Any]:
    """An answer as JSON; `media_url(media_id)` adds where each cited file can be fetched."""
    return {
        "question": a.question, "text": a.text, "abstained": a.abstained, "confidence": round(a.confidence, 4),
        "agent": a.agent, "seconds": round(a.seconds, 4),
        "citations": [citation(c, media_url=media_url(c.media_id) if media_url else "") for c in a.citations],
        "steps": [{"round": s.round, "memory": s.memory, "scale": s.scale, "query": s.query, "filters": s.filters,
                   "hits": [[t, round(sc, 4)] for t, sc in s.hits], "decision": s.decision} for s in a.steps],
    }


def hit(h: Hit, *, media_url: str = "") -> dict[str, Any]:
    """A search hit as JSON (every field of `Hit`, times as ISO, plus its local time)."""
    out: dict[str, Any] = {}
    for f in fields(Hit):
        v = getattr(h, f.name)
        out[f.name] = _iso(v) if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v
    out["local_time"] = _iso(h.local_start)
    out["file_dated"] = h.file_dated
    if media_url:
        out["media_url"] = media_url
    return out


def status(s: Status) -> dict[str, Any]:
    """Status as JSON; the span of capture times also as lived where its two ends were captured."""
    out: dict[str, Any] = {}
    for f in fields(Status):
        v = getattr(s, f.name)
        out[f.name] = _iso(v) if isinstance(v, datetime) else v
    extra = s.extra or {}
    out["first_local"] = _iso(local_time(s.first, extra.get("first_offset_min"))) if s.first else None
    out["last_local"] = _iso(local_time(s.last, extra.get("last_offset_min"))) if s.last else None
    return out


def decode_citation(d: dict[str, Any]) -> Citation:
    kw = {f.name: d.get(f.name) for f in fields(Citation) if f.name in d}
    kw["time"] = _time(d["time"])
    return Citation(**kw)


def decode_answer(d: dict[str, Any]) -> Answer:
    return Answer(
        question=d["question"], text=d["text"], abstained=bool(d["abstained"]),
        citations=[decode_citation(c) for c in d.get("citations", [])],
        steps=[Step(round=s["round"], memory=s["memory"], scale=s["scale"], query=s["query"], filters=s["filters"],
                    hits=[(t, float(sc)) for t, sc in s["hits"]], decision=s["decision"]) for s in d.get("steps", [])],
        agent=d["agent"], seconds=float(d["seconds"]), confidence=float(d.get("confidence", 0.0)),
    )


def decode_hit(d: dict[str, Any]) -> Hit:
    kw: dict[str, Any] = {}
    for f in fields(Hit):
        if f.name not in d:
            continue
        v = d[f.name]
        kw[f.name] = _time(v) if f.name in ("start", "end") else tuple(v) if isinstance(v, list) else v
    return Hit(**kw)


def decode_status(d: dict[str, Any]) -> Status:
    kw = {f.name: d[f.name] for f in fields(Status) if f.name in d}
    kw["first"], kw["last"] = _time(d.get("first")), _time(d.get("last"))
    return Status(**kw)


__all__ = ["answer", "citation", "decode_answer", "decode_citation", "decode_hit", "decode_status", "hit", "status"]
