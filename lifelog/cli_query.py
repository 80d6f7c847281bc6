"""`lifelog search`, `ask` and `status`: the commands that read, and how they print. Each runs on a
running service of the library when there is one (lifelog/client.py), else in this process; both
ways go through `lifelog.api`, so the output is the same."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ingest.options import local_time
from lifelog import client, wire
from lifelog.schema import Answer, Hit, Status
from lifelog.settings import Settings

if TYPE_CHECKING:
    from lifelog.memory import Memory


def _fmt_time(ts: datetime | None) -> str:
    """A time as its own zone shows it (local times keep the camera's offset)."""
    return ts.strftime("%Y-%m-%d %H:%M %z") if ts else "-"


def _fmt_span(a: float, b: float) -> str:
    def mmss(s: float) -> str:
        return f"{int(s // 60):02d}:{s % 60:04.1f}"

    return f"{mmss(a)}-{mmss(b)}"


def print_hits(hits: list[Hit]) -> None:
    if not hits:
        print("Nothing relevant in memory.")
        return
    for i, h in enumerate(hits, 1):
        print(f"{i:2d}. [{h.score:.2f}] {h.kind:5s} {_fmt_time(h.local_start)}  {h.title[:70]}")
        print(f"    {h.path}  @ {_fmt_span(h.offset_start, h.offset_end)}" + (f"  ({h.place})" if h.place else ""))


def print_answer(answer: Answer, explain: bool = False) -> None:
    print(answer.text)
    if answer.citations:
        print("Evidence:")
        for c in answer.citations:
            place = f", {c.place}" if c.place else ""
            score = f", score {c.score:.2f}" if c.score else ""  # found by filters or semantic memory: no score
            print(f"  - {c.path}  @ {_fmt_span(c.start_s, c.end_s)}  ({_fmt_time(c.local_time)}{place}{score})")
            if c.snippet:
                print(f"    \u201c{c.snippet[:160]}\u201d")
    if explain:
        print(f"How it was found ({answer.agent} agent, {answer.seconds * 1000:.0f} ms):")
        for s in answer.steps:
            hits = ", ".join(f"{t[:30]}={sc:.2f}" for t, sc in s.hits[:3]) or "no hits"
            print(f"  round {s.round}: {s.memory}/{s.scale} q={s.query!r} filters[{s.filters}] -> {hits}; {s.decision}")


def _search_body(args: argparse.Namespace) -> dict[str, Any]:
    """`lifelog search`'s flags as the API's search request (the same fields in-process and over HTTP)."""
    return {"text": " ".join(args.text), "after": args.after or "", "before": args.before or "",
            "kinds": list(args.kind or ()), "place": args.place or "", "scale": args.scale, "limit": args.limit,
            "all": args.all}


def _local(item: dict[str, Any]) -> dict[str, Any]:
    """A hit or citation as this machine's CLI shows it: the file's path, not the service's media address."""
    return {k: v for k, v in item.items() if k != "media_url"}


def show_search(hits: list[dict[str, Any]], args: argparse.Namespace) -> int:
    hits = [_local(h) for h in hits]
    if args.json:
        print(json.dumps(hits, indent=1, ensure_ascii=False))
    else:
        print_hits([wire.decode_hit(h) for h in hits])
    return 0


def show_answer(answer: dict[str, Any], args: argparse.Namespace) -> int:
    answer = dict(answer, citations=[_local(c) for c in answer.get("citations", [])])
    if args.json:
        print(json.dumps(answer, indent=1, ensure_ascii=False))
    else:
        print_answer(wire.decode_answer(answer), explain=args.explain)
    return 0


def cmd_search(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog import api

    b = _search_body(args)
    return show_search(api.search(mem, b["text"], after=b["after"], before=b["before"], kinds=b["kinds"],
                                  place=b["place"], scale=b["scale"], limit=b["limit"], everything=b["all"]), args)


def cmd_ask(mem: Memory, args: argparse.Namespace) -> int:
    from lifelog import api

    return show_answer(api.ask(mem, " ".join(args.question), agent=args.agent), args)


def cmd_status(mem: Memory, args: argparse.Namespace) -> int:
    show_status(mem.status(), mem.budget_status().line())
    if args.failures:
        for path, reason in mem.failures():
            print(f"  FAILED {path}: {reason}")
    return 0


def show_status(s: Status, budget_line: str) -> None:
    database = (s.extra or {}).get("database")
    print(f"Library: {database + ' (home ' + s.home + ')' if database else s.home}  (profile {s.profile})")
    media = ", ".join(f"{n} {k}" for k, n in sorted(s.media_by_kind.items())) or "nothing yet"
    print(f"Media: {media}; {s.media_hours:.2f} h of video and audio; {s.failed} failed")
    print("Episodes: " + (", ".join(f"{n} {k}" for k, n in s.episodes_by_scale.items()) or "none"))
    extra = s.extra or {}
    first, last = (local_time(t, extra.get(k)) if t else None
                   for t, k in ((s.first, "first_offset_min"), (s.last, "last_offset_min")))
    print(f"Time span: {_fmt_time(first)} .. {_fmt_time(last)}"
          + (f" (and {extra['file_dated']} files dated only by when they were copied)" if extra.get("file_dated") else ""))
    print("Disk: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in s.disk_bytes.items()))
    print(budget_line)
    for line in s.stale_columns:
        print(f"Needs `lifelog reindex`: {line}")


# the commands a running service answers for the CLI (same output, warm models)
REMOTE = {
    "ask": lambda svc, args: show_answer(svc.call("POST", "/api/ask", {"question": " ".join(args.question),
                                                                       "agent": args.agent}), args),
    "search": lambda svc, args: show_search(svc.call("POST", "/api/search", _search_body(args)), args),
    "status": lambda svc, args: _remote_status(svc, args),
}


def _remote_status(svc: client.Service, args: argparse.Namespace) -> int:
    if args.failures:  # the list of failures is read in-process
        raise client.Unreachable("status --failures is read in-process")
    d = svc.call("GET", "/api/status")
    show_status(wire.decode_status(d), d.get("budget", ""))
    return 0


def via_service(settings: Settings, args: argparse.Namespace) -> int | None:
    """Run the command on a running service of this library, or None to run it in-process."""
    if args.command not in REMOTE or getattr(args, "local", False) or os.environ.get("LIFELOG_SERVICE") == "off":
        return None
    svc = client.find(settings.home, profile=settings.profile,
                      now=settings.now.isoformat() if settings.now else None)
    if svc is None:
        return None
    try:
        return REMOTE[args.command](svc, args)
    except client.Unreachable:
        return None
    except client.ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
