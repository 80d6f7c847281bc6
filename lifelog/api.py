"""What other programs can ask of a library, as JSON-ready dicts: the one place the HTTP service
(lifelog/service.py), the MCP server (lifelog/mcp_server.py) and the CLI's `--json` read answers,
searches, days, people and status from. Each function takes a `Memory` and plain values, checks
them (`BadRequest` says what is wrong), and returns what `lifelog.wire` encodes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

from lifelog import wire
from lifelog.memory import Memory
from lifelog.question import time_filters
from lifelog.schema import Filters
from lifelog.timeparse import BadDate, TimeRange, parse_time

SCALES = ("segment", "event", "session", "day")
KINDS = ("photo", "video", "audio")
MediaUrl = Callable[[str], str]


class BadRequest(ValueError):
    """A request that cannot be answered as asked: the message says what to change."""


def _no_url(media_id: str) -> str:
    return ""


def _now(mem: Memory, now: datetime | None) -> datetime:
    """The reference time for "yesterday" and "last April": the caller's, the library's setting, or the clock."""
    return now or mem.settings.now or datetime.now().astimezone()


def parse_day(text: str, now: datetime, *, end: bool = False) -> datetime:
    """An ISO date or time, or the words a question would use ("yesterday", "June 2025"), as a local
    wall-clock time; the end of a span is the end of the day or month it names. The whole text must
    be the date ("yesterday-ish" is not "yesterday")."""
    text = text.strip()
    try:
        t = datetime.fromisoformat(text)
        if end and len(text) <= 10:
            t += timedelta(days=1)
        return t.replace(tzinfo=None) if t.tzinfo is None else t.astimezone().replace(tzinfo=None)
    except ValueError:
        pass
    try:
        span = parse_time(text, now) or parse_time(f"in {text}", now)
    except BadDate as e:
        raise BadRequest(str(e)) from e
    if span is not None and set(re.findall(r"[\w/.-]+", text.lower())) - set(re.findall(r"[\w/.-]+", span.phrase)):
        span = None
    if span is None or span.hours:
        raise BadRequest(f"\u201c{text}\u201d is not a date (e.g. 2025-06-14, June 2025, last April, yesterday)")
    return (span.end if end else span.start).replace(tzinfo=None)


def filters_of(mem: Memory, *, after: str = "", before: str = "", kinds: Sequence[str] = (), place: str = "",
               people: Sequence[str] = (), now: datetime | None = None) -> Filters:
    """Search filters; dates are days as lived where each file was captured (like "on 14 June" in a question)."""
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise BadRequest(f"unknown kind {bad[0]!r}: use one of {', '.join(KINDS)}")
    filters = Filters(kinds=tuple(kinds), place=place.strip(), people=tuple(p.strip() for p in people if p.strip()))
    now = _now(mem, now)
    lo = parse_day(after, now) if after else None
    hi = parse_day(before, now, end=True) if before else None
    if lo and hi and lo >= hi:
        raise BadRequest("'after' is later than 'before': swap them")
    if lo or hi:
        filters = time_filters(filters, TimeRange(lo or datetime(1900, 1, 1), hi or datetime(2999, 1, 1), ""))
    return filters


def ask(mem: Memory, question: str, *, agent: str | None = None, now: datetime | None = None,
        media_url: MediaUrl = _no_url) -> dict[str, Any]:
    """The answer with its citations (file, seconds, UTC and local time, place, supporting text)."""
    question = (question or "").strip()
    if not question:
        raise BadRequest("an empty question: ask something, e.g. 'where was I last Saturday?'")
    if agent not in (None, "", "adaptive", "flat"):
        raise BadRequest(f"unknown agent {agent!r}: use 'adaptive' or 'flat'")
    return wire.answer(mem.ask(question, agent=agent or None, now=now), media_url=media_url)


def search(mem: Memory, text: str, *, after: str = "", before: str = "", kinds: Sequence[str] = (), place: str = "",
           people: Sequence[str] = (), scale: str = "segment", limit: int = 10, everything: bool = False,
           now: datetime | None = None, media_url: MediaUrl = _no_url) -> list[dict[str, Any]]:
    """Episodes that match the words, best first, within the filters; `everything` drops the relevance cut-off."""
    text = (text or "").strip()
    if not text:
        raise BadRequest("nothing to search for: give some words, e.g. 'coffee'")
    if scale not in (*SCALES, "any"):
        raise BadRequest(f"unknown scale {scale!r}: use one of {', '.join(SCALES)} or 'any'")
    if not 1 <= limit <= 500:
        raise BadRequest("limit must be between 1 and 500")
    filters = filters_of(mem, after=after, before=before, kinds=kinds, place=place, people=people, now=now)
    kw: dict[str, Any] = {"min_score": None} if everything else {}
    hits = mem.search(text, filters=filters, scale=None if scale == "any" else scale, limit=limit, classes=True, **kw)
    return [wire.hit(h, media_url=media_url(h.media_id)) for h in hits]


def browse_day(mem: Memory, day: str, *, scale: str = "session", now: datetime | None = None,
               media_url: MediaUrl = _no_url) -> dict[str, Any]:
    """Everything captured on one local day (a date or words: "yesterday", "2025-06-14"), in time order."""
    if scale not in SCALES:
        raise BadRequest(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    start = parse_day(day, _now(mem, now))
    start = datetime(start.year, start.month, start.day)
    filters = time_filters(Filters(), TimeRange(start, start + timedelta(days=1), ""))
    hits = mem.browse(filters, scale=scale)
    return {"day": start.date().isoformat(), "scale": scale,
            "episodes": [wire.hit(h, media_url=media_url(h.media_id)) for h in hits]}


def people(mem: Memory, *, include_hidden: bool = False) -> list[dict[str, Any]]:
    """The people found in the library's faces: id, name (or "" until named), faces, first and last seen."""
    return [{"person_id": p.person_id, "name": p.name, "label": p.label, "hidden": p.hidden, "faces": p.n_faces,
             "first_seen": p.first_seen.isoformat() if p.first_seen else None,
             "last_seen": p.last_seen.isoformat() if p.last_seen else None}
            for p in mem.people(include_hidden=include_hidden)]


def who(mem: Memory, name: str = "", *, media_url: MediaUrl = _no_url) -> dict[str, Any]:
    """Everyone known, or where one person (by name or id) was seen: each sighting's file, second and time."""
    if not name.strip():
        return {"people": people(mem)}
    try:
        person = next(p for p in mem.people(include_hidden=True)
                      if name.strip().lower() in (p.name.lower(), p.person_id, p.person_id[-6:]))
    except StopIteration:
        raise BadRequest(f"no one called {name!r} is known: name a face first (People tab or "
                         "`lifelog people name ID NAME`)") from None
    seen = []
    for s in mem.sightings(person.name or person.person_id):
        h = mem.hit(s.episode_id)
        seen.append({"time": s.time.isoformat(), "local_time": h.local_start.isoformat() if h else None,
                     "media_id": s.media_id, "path": h.path if h else "", "start_s": round(s.offset_s, 3),
                     "place": h.place if h else "", "episode_id": s.episode_id, "media_url": media_url(s.media_id)})
    return {"person": people_one(person), "sightings": seen}


def people_one(p: Any) -> dict[str, Any]:
    return {"person_id": p.person_id, "name": p.name, "label": p.label, "faces": p.n_faces,
            "first_seen": p.first_seen.isoformat() if p.first_seen else None,
            "last_seen": p.last_seen.isoformat() if p.last_seen else None}


def status(mem: Memory) -> dict[str, Any]:
    """Counts per kind and scale, time span, disk use, failures and the storage budget."""
    out = wire.status(mem.status())
    out["budget"] = mem.budget_status().line()
    return out


def forget(mem: Memory, *, paths: Sequence[str] = (), after: str = "", before: str = "", person: str = "",
           dry_run: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Take files, a time span or a person out of every table and off the disk (`dry_run`: only say what)."""
    if sum(map(bool, (paths, after or before, person))) != 1:
        raise BadRequest("say what to forget: paths, or a span (after and before), or a person")
    if paths:
        report = mem.forget_files([Path(p).expanduser() for p in paths], dry_run=dry_run)
    elif person:
        report = mem.forget_person(person, dry_run=dry_run)
    else:
        if not (after and before):
            raise BadRequest("a span to forget needs both 'after' and 'before'")
        lo, hi = parse_day(after, _now(mem, now)), parse_day(before, _now(mem, now), end=True)
        local = datetime.now().astimezone().tzinfo
        report = mem.forget_span(lo.replace(tzinfo=local), hi.replace(tzinfo=local), dry_run=dry_run)
    return {"dry_run": dry_run, **{k: v for k, v in vars(report).items() if _plain(v)}}


def ingest_report(report: Any) -> dict[str, Any]:
    """An ingestion's `BatchReport` as JSON: how many files were added, known already, moved, and which failed, why."""
    return {"ingested": report.ingested, "skipped": report.skipped, "moved": getattr(report, "moved", 0),
            "failed": [{"path": str(a), "reason": b} for a, b in report.failed], "seconds": round(report.seconds, 2)}


def _plain(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool, type(None))) or (
        isinstance(v, (list, tuple)) and all(isinstance(x, (str, int, float)) for x in v))


__all__ = ["BadRequest", "ask", "browse_day", "filters_of", "forget", "ingest_report", "parse_day", "people", "search",
           "status", "who"]
