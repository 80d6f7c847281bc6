"""`lifelog mcp`: the library as an MCP server over stdio, for AI agents (desktop assistants, IDEs).

The tools wrap lifelog/api.py, so an agent gets the data the HTTP API (lifelog/service.py) gives:
each result carries the JSON as structured content, and a text an LLM reads well (the answer, then
one line of evidence per citation: file, seconds in it, local time, place, the supporting words).
Read-only by default; `--allow-writes` adds `ingest` and `forget`.

stdout is the transport. While it serves, the SDK points file descriptor 1 at stderr and speaks
on a private copy of it, so whatever a model prints as it loads (from Python or from C) lands on
stderr; the models load only once serving has begun (`_warm` runs in the server's lifespan).
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, AsyncIterator, Callable, Literal, Sequence

import anyio.from_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from lifelog import __version__, api
from lifelog.jobs import warm_models
from lifelog.memory import Memory

Kind = Literal["photo", "video", "audio"]
Scale = Literal["segment", "event", "session", "day"]
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
SNIPPET_CHARS = 200  # of a citation's words in the text form; the structured content has them whole

INSTRUCTIONS = """\
A memory of the user's own photos, videos and voice recordings, kept on their machine. Use `ask` for
questions about their life ("where did I leave my keys?", "what did Sam say about dinner?"): it answers
with evidence (the file, the seconds in it, the local time and place) or says what it does not know.
Use `search` to list moments that match words, `browse_day` for everything on one day, `who` for the
people found in faces, `status` for what the library holds. Dates take ISO (2025-06-14) or words
("yesterday", "last Saturday", "June 2025"); a day is the day where the file was captured."""

DATE = ("a date, ISO (2025-06-14) or words ('yesterday', 'last April', 'June 2025'); days as lived where each "
        "file was captured")


def build(mem: Memory, *, allow_writes: bool = False) -> MCPServer:
    """The MCP server over a library: read tools, and `ingest`/`forget` when `allow_writes`.

    Sync tools run on worker threads, so every call that touches the shared `Memory` holds one lock
    (the agent's per-process caches, an ingest's consolidation): calls run one at a time.
    """
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[dict[str, Any]]:
        threading.Thread(target=_warm, args=(mem, lock), name="lifelog-warm").start()
        yield {}

    server = MCPServer("lifelog", title="Lifelog", version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING", lifespan=lifespan)

    def call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            with lock:
                return fn(*args, **kw)
        except (api.BadRequest, FileNotFoundError, RuntimeError) as e:  # RuntimeError: e.g. a column needing reindex
            raise ToolError(str(e)) from e
        except KeyError as e:
            raise ToolError(str(e.args[0] if e.args else e)) from e

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a function as a tool, its docstring as the description on one line (not indented source)."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.add_tool(fn, description=" ".join((fn.__doc__ or "").split()), annotations=annotations)
            return fn

        return register

    @tool(READS)
    def ask(question: Annotated[str, Field(description="a question in everyday words, e.g. 'what did Sam say "
                                                       "about dinner yesterday?'")],
            now: Annotated[str, Field(description="ISO time that 'yesterday' and 'last April' count from "
                                                  "(default: now)")] = "") -> CallToolResult:
        """Answer a question about the user's own life from their photos, videos and recordings: where
        they were, what someone said, when something happened, what a picture shows, how many, which came
        first. Returns the answer and its evidence: each citation's file, the seconds in it (start-end),
        the local time, the place and the supporting words; or says plainly what is not in memory."""
        out = call(api.ask, mem, question, now=_now_of(now))
        out.pop("steps", None)  # the retrieval trace (`lifelog ask --explain`): many tokens, no evidence
        return _result(_answer_text(out), out)

    @tool(READS)
    def search(text: Annotated[str, Field(description="words to match by meaning and spelling, e.g. 'coffee "
                                                      "at the beach'")],
               after: Annotated[str, Field(description=f"first day included: {DATE}")] = "",
               before: Annotated[str, Field(description=f"last day included: {DATE}")] = "",
               kinds: Annotated[tuple[Kind, ...], Field(description="only these kinds of media")] = (),
               place: Annotated[str, Field(description="a place name the media carry, e.g. 'Lisbon'")] = "",
               people: Annotated[tuple[str, ...], Field(description="named people who must appear")] = (),
               scale: Annotated[Scale | Literal["any"], Field(
                   description="segment: a shot, an utterance or a photo; event: minutes; session: one "
                               "recording or outing; day")] = "segment",
               limit: Annotated[int, Field(ge=1, le=500, description="most hits to return")] = 10) -> CallToolResult:
        """Find moments in the user's photos, videos and recordings that match words, best first, within
        optional filters (dates, kinds, place, people). Each hit gives the file, the seconds in it, the
        local time, the place and its words."""
        hits = call(api.search, mem, text, after=after, before=before, kinds=kinds, place=place, people=people,
                    scale=scale, limit=limit)
        lines = [_evidence(h) for h in hits] or ["Nothing in memory matches."]
        return _result("\n".join(lines), {"hits": hits})

    @tool(READS)
    def browse_day(day: Annotated[str, Field(description=f"the day: {DATE}")],
                   scale: Annotated[Scale, Field(description="session (default): recordings and outings; event: "
                                                             "minutes; segment: every shot and utterance; day: "
                                                             "the day's summary")] = "session") -> CallToolResult:
        """Everything captured on one local day, in time order: each episode's file, seconds, local time,
        place and words."""
        out = call(api.browse_day, mem, day, scale=scale)
        lines = [f"{out['scale'].capitalize()}s on {out['day']}: {len(out['episodes'])}"]
        lines += [_evidence(h) for h in out["episodes"]]
        return _result("\n".join(lines), out)

    @tool(READS)
    def who(name: Annotated[str, Field(description="a person's name or id; empty: everyone")] = "") -> CallToolResult:
        """The people found in the faces of the user's media (id, name once the user gave one, faces, first
        and last seen), or, given a name or id, every sighting of that person: file, second, time, place."""
        out = call(api.who, mem, name)
        if "people" in out:
            lines = [_person(p) for p in out["people"]] or ["No faces found in the library yet."]
        else:
            lines = [_person(out["person"]), *(_evidence(s) for s in out["sightings"])]
        return _result("\n".join(lines), out)

    @tool(READS)
    def status() -> CallToolResult:
        """What the library holds: files per kind, episodes per scale, the time span, hours of media,
        failed files, disk use and the storage budget."""
        out = call(api.status, mem)
        return _result(_status_text(out), out)

    if not allow_writes:
        return server

    @tool(ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False))
    def ingest(paths: Annotated[list[str], Field(description="absolute paths of files and folders on this "
                                                             "machine (folders: every media file under them)")],
               ctx: Context) -> CallToolResult:
        """Read photos, videos and recordings into memory and wait until done (minutes for hours of media;
        progress is reported). Files already in memory are skipped. Returns how many were ingested,
        skipped, and which failed and why."""
        def progress(p: Any) -> None:
            anyio.from_thread.run(ctx.report_progress, p.files_done, p.files_total, f"{p.current}")

        report = call(mem.ingest, paths, progress=progress)
        out = api.ingest_report(report)
        lines = [f"Ingested {out['ingested']} file(s), skipped {out['skipped']} already in memory, "
                 f"{len(out['failed'])} failed ({out['seconds']:.0f} s)."]
        lines += [f"- failed: {f['path']}: {f['reason']}" for f in out["failed"]]
        return _result("\n".join(lines), out)

    @tool(ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False))
    def forget(paths: Annotated[tuple[str, ...], Field(description="files or folders to forget (a folder: "
                                                                   "every file under it)")] = (),
               after: Annotated[str, Field(description=f"a span's first day: {DATE}; give 'before' too")] = "",
               before: Annotated[str, Field(description="a span's last day (included)")] = "",
               person: Annotated[str, Field(description="a person's name or id: their faces and name")] = "",
               dry_run: Annotated[bool, Field(description="true (default): only say what would be forgotten; "
                                                          "false: forget it")] = True) -> CallToolResult:
        """Take files, a time span or a person out of memory: every table and the derived data on disk
        (the user's own files are never touched). Give exactly one of: paths, after+before, person.
        Call with dry_run true first and show the user what would go."""
        out = call(api.forget, mem, paths=paths, after=after, before=before, person=person, dry_run=dry_run)
        return _result(_forget_text(out), out)

    return server


def run(mem: Memory, *, allow_writes: bool = False) -> None:
    """Serve the library over stdio until the client closes stdin (blocks)."""
    build(mem, allow_writes=allow_writes).run("stdio")


def _warm(mem: Memory, lock: threading.Lock) -> None:
    """Load the models a question needs and open the index while the client connects, so the first
    answer does not wait for them; under the lock, so a first call waits rather than loading twice."""
    with lock:
        try:
            warm_models(mem)
        except Exception:  # noqa: BLE001 - the first call says what is wrong, as a tool error
            pass


def _now_of(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ToolError(f"now={value!r} is not an ISO time: use e.g. 2025-06-15T10:00:00+01:00") from None
    return t if t.tzinfo else t.astimezone()


def _result(text: str, data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _evidence(d: dict[str, Any]) -> str:
    """One line for a citation, hit or sighting: "- <path> @ <start>-<end> s, <local time>, <place>: “words”"."""
    start = d.get("start_s", d.get("offset_start", 0.0))
    end = d.get("end_s", d.get("offset_end", start))
    where = ("" if d.get("kind") == "photo" else f" @ {start:.1f} s" if end <= start
             else f" @ {start:.1f}-{end:.1f} s")
    when = _local(d.get("local_time"))
    if d.get("file_dated"):
        when += " (file date, not capture time)"
    words = " ".join((d.get("snippet") or d.get("title") or d.get("text") or "").split())
    if len(words) > SNIPPET_CHARS:
        words = words[:SNIPPET_CHARS - 1] + "…"
    return "- " + ", ".join(x for x in (f"{d.get('path', '')}{where}", when, d.get("place") or "") if x) + (
        f": \u201c{words}\u201d" if words else "")


def _local(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else ""


def _answer_text(out: dict[str, Any]) -> str:
    lines = [out["text"]]
    if out["citations"]:
        lines += ["", "Evidence:", *(_evidence(c) for c in out["citations"])]
    return "\n".join(lines)


def _person(p: dict[str, Any]) -> str:
    name = p["name"] or p["label"] or "unnamed person"
    seen = f", first seen {_local(p['first_seen'])}, last seen {_local(p['last_seen'])}" if p["last_seen"] else ""
    return f"- {name} (id {p['person_id']}): {p['faces']} face(s){seen}"


def _status_text(s: dict[str, Any]) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in s["media_by_kind"].items()) or "no media"
    scales = ", ".join(f"{n} {k}" for k, n in s["episodes_by_scale"].items()) or "none"
    lines = [f"Library {s['home']} (profile {s['profile']}): {kinds}; {s['media_hours']:.2f} h of video and sound.",
             f"Episodes: {scales}.",
             f"Captured from {_local(s.get('first_local')) or '-'} to {_local(s.get('last_local')) or '-'}"
             + (f" (and {s['extra']['file_dated']} files dated only by their copy time)."
                if (s.get("extra") or {}).get("file_dated") else "."),
             f"Failed files: {s['failed']}. {s['budget']}"]
    if s.get("stale_columns"):
        lines.append(f"Needs `lifelog reindex` for: {', '.join(s['stale_columns'])}.")
    return "\n".join(lines)


def _forget_text(out: dict[str, Any]) -> str:
    what = " and ".join(x for x in (_listed(out.get("files", ()), "file"), _listed(out.get("people", ()), "person"))
                        if x)
    counts = ", ".join(f"{out[k]} {k.replace('_', ' ')}" for k in ("episodes", "faces", "things", "visits",
                                                                   "people_removed") if k in out)
    head = "Would forget (dry run, nothing changed)" if out["dry_run"] else "Forgot"
    tail = "" if out["dry_run"] else f"; {out.get('bytes_freed', 0) / 1e6:.2f} MB freed"
    return f"{head}: {what or 'nothing'}; {counts}{tail}."


def _listed(items: Sequence[str], noun: str) -> str:
    if not items:
        return ""
    shown = ", ".join(items[:20]) + (f" and {len(items) - 20} more" if len(items) > 20 else "")
    return f"{len(items)} {noun}{'s' * (len(items) != 1)} ({shown})"


__all__ = ["build", "run"]
