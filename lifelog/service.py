"""`lifelog serve`: the library as a long-lived local service with an HTTP API.

The models stay loaded and the store open, so an answer costs what the agent costs (tens of
milliseconds), not the seconds a fresh process spends importing and loading. One process writes:
ingestion runs as a job in the service's own thread, under the library's writer lock; searches see
each file as soon as its commit lands (the store reads the latest table version).

    GET  /api/status                  counts, time span, disk use, budget
    POST /api/ask      {question}     the answer with typed citations (file, seconds, local time, place)
    POST /api/search   {text, ...}    episodes, best first, with every filter of `lifelog search`
    GET  /api/browse?day=2025-06-14   a local day's sessions (or events, moments) in time order
    GET  /api/people                  the people found in faces; /api/who?name=Anna: where they were seen
    POST /api/ingest   {paths}        starts an ingestion job; GET /api/jobs/{id} follows it
    POST /api/forget   {...}          files, a span or a person out of every table (dry_run first)
    GET  /api/media/{media_id}        a library file by its id (and nothing else), with byte ranges
    GET  /api/docs                    the OpenAPI page

Every `/api/` request needs `Authorization: Bearer <token>`, the token kept in `<home>/api-token`
(0600), and names this service's own address in `Host` (lifelog/webserve.py). While it runs,
`<home>/service.json` says where it is, and the CLI sends its questions there (lifelog/client.py).
"""

from __future__ import annotations

import atexit
import html
import json
import os
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lifelog import api, client
from lifelog.jobs import Ingestor, warm_models
from lifelog.memory import Memory
from lifelog.webserve import Served, api_token, check_exposure, interrupt, serve

VERSION = 1


class AskBody(BaseModel):
    """A question (the request bodies below are the API's: see /api/docs)."""

    question: str = Field(..., description="a question in everyday words")
    agent: str | None = Field(None, description="adaptive (default) or flat")
    now: str | None = Field(None, description="ISO time that 'yesterday' refers to (default: now)")


class SearchBody(BaseModel):
    text: str
    after: str = Field("", description="a date (2025-06-14) or words ('last April'); capture-local days")
    before: str = Field("", description="the last day included")
    kinds: list[str] = Field(default_factory=list, description="photo, video, audio")
    place: str = ""
    people: list[str] = Field(default_factory=list, description="named people who must appear")
    scale: str = Field("segment", description="segment, event, session, day or any")
    limit: int = 10
    all: bool = Field(False, description="no relevance cut-off")
    now: str | None = None


class IngestBody(BaseModel):
    paths: list[str] = Field(..., description="files and folders on the service's machine")


class ForgetBody(BaseModel):
    paths: list[str] = Field(default_factory=list)
    after: str = ""
    before: str = ""
    person: str = ""
    dry_run: bool = Field(True, description="only say what would be forgotten (set false to forget)")


def router(mem: Memory, ingestor: Ingestor) -> Any:
    """The API's routes, for `lifelog serve` alone or beside the app's page (`lifelog ui`)."""
    from fastapi import APIRouter, HTTPException, Query
    from fastapi.responses import FileResponse

    r = APIRouter(prefix="/api")
    lock = threading.Lock()  # the agent's per-process caches are filled once, not by two requests at a time

    def media_url(media_id: str) -> str:
        return f"/api/media/{media_id}"

    def now_of(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            raise HTTPException(422, f"now={value!r} is not an ISO time") from None
        return t if t.tzinfo else t.astimezone()

    def run(fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            with lock:
                return fn(*args, **kw)
        except api.BadRequest as e:
            raise HTTPException(422, str(e)) from e
        except KeyError as e:
            raise HTTPException(404, str(e.args[0] if e.args else e)) from e
        except RuntimeError as e:  # e.g. a vector column that needs `lifelog reindex`
            raise HTTPException(409, str(e)) from e

    @r.get("/status", summary="what is in memory")
    def status() -> dict[str, Any]:
        return run(api.status, mem)

    @r.post("/ask", summary="answer a question with citations, or say what is missing")
    def ask(body: AskBody) -> dict[str, Any]:
        return run(api.ask, mem, body.question, agent=body.agent, now=now_of(body.now), media_url=media_url)

    @r.post("/search", summary="episodes that match words, best first")
    def search(body: SearchBody) -> list[dict[str, Any]]:
        return run(api.search, mem, body.text, after=body.after, before=body.before, kinds=body.kinds,
                   place=body.place, people=body.people, scale=body.scale, limit=body.limit, everything=body.all,
                   now=now_of(body.now), media_url=media_url)

    @r.get("/browse", summary="one local day, in time order")
    def browse(day: str = Query(..., description="2025-06-14, or words: yesterday, last Saturday"),
               scale: str = "session", now: str | None = None) -> dict[str, Any]:
        return run(api.browse_day, mem, day, scale=scale, now=now_of(now), media_url=media_url)

    @r.get("/people", summary="people found in faces")
    def people(hidden: bool = False) -> list[dict[str, Any]]:
        return run(api.people, mem, include_hidden=hidden)

    @r.get("/who", summary="where one person was seen")
    def who(name: str = "") -> dict[str, Any]:
        return run(api.who, mem, name, media_url=media_url)

    @r.post("/ingest", status_code=202, summary="start ingesting files and folders")
    def ingest(body: IngestBody) -> dict[str, Any]:
        paths = [Path(p).expanduser() for p in body.paths]
        missing = [str(p) for p in paths if not p.exists()]
        if not paths or missing:
            raise HTTPException(422, f"no such file or folder: {', '.join(missing)}" if missing else "no paths given")
        try:
            return ingestor.start(paths).as_json()
        except RuntimeError as e:  # one job at a time
            raise HTTPException(409, str(e)) from e

    @r.get("/jobs/{job_id}", summary="an ingestion job's progress and report")
    def job(job_id: str) -> dict[str, Any]:
        current = ingestor.job
        if current is None or current.job_id != job_id:
            raise HTTPException(404, f"no job {job_id!r} (only the latest job is kept)")
        return current.as_json()

    @r.post("/jobs/{job_id}/stop", summary="stop an ingestion job after the file in hand")
    def stop(job_id: str) -> dict[str, Any]:
        current = job(job_id)
        ingestor.job.stop.set()  # type: ignore[union-attr]
        return current

    @r.post("/forget", summary="take files, a span or a person out of memory")
    def forget(body: ForgetBody) -> dict[str, Any]:
        if ingestor.job and ingestor.job.running and not body.dry_run:
            raise HTTPException(409, "an ingestion is running: forget after it ends")
        return run(api.forget, mem, paths=body.paths, after=body.after, before=body.before, person=body.person,
                   dry_run=body.dry_run)

    @r.get("/media/{media_id}", summary="a library file by its media id")
    def media(media_id: str) -> Any:
        path = run(mem.media_file, media_id)
        if not path.is_file():
            raise HTTPException(410, f"the file of {media_id} is no longer at {path}")
        return FileResponse(path, filename=path.name)

    return r


def build_app(mem: Memory, ingestor: Ingestor | None = None) -> Any:
    """The API's server (`lifelog serve`); `lifelog ui` mounts the app's page on the same one."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="Lifelog", version=str(VERSION), docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", description=__doc__.split("\n\n")[1] if __doc__ else "")
    app.include_router(router(mem, ingestor or Ingestor(mem)))

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    return app


def docs_html(spec: dict[str, Any]) -> str:
    """The API's description as one self-contained page (FastAPI's own loads Swagger UI from a CDN:
    nothing is fetched from off this machine)."""
    schemas = spec.get("components", {}).get("schemas", {})

    def fields(ref: str) -> list[str]:
        props = schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
        return [f"<li><code>{html.escape(k)}</code> {html.escape(v.get('description', v.get('type', '')))}"
                + (f" (default <code>{html.escape(json.dumps(v['default']))}</code>)" if "default" in v else "")
                + "</li>" for k, v in props.items()]

    out = [f"<h1>{html.escape(spec['info']['title'])} API</h1>",
           "<p>Every request under <code>/api/</code> needs <code>Authorization: Bearer &lt;the token in "
           "&lt;home&gt;/api-token&gt;</code>. The machine-readable description: <a href='/api/openapi.json'>"
           "/api/openapi.json</a>.</p>"]
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            out.append(f"<h3><code>{method.upper()} {html.escape(path)}</code></h3><p>{html.escape(op.get('summary', ''))}</p>")
            items = [f"<li><code>{html.escape(p['name'])}</code> ({p['in']}{', required' if p.get('required') else ''}) "
                     f"{html.escape(p.get('description', ''))}</li>" for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            items += fields(body["$ref"]) if "$ref" in body else []
            out.append(f"<ul>{''.join(items)}</ul>" if items else "")
    return ("<!doctype html><meta charset='utf-8'><title>Lifelog API</title><style>body{font-family:system-ui,"
            "sans-serif;max-width:860px;margin:2em auto;padding:0 1em;line-height:1.45}code{background:#f1f5f9;"
            "padding:1px 4px;border-radius:4px}h3{margin-bottom:.2em}</style>" + "".join(out))


def warm(mem: Memory) -> threading.Thread:
    """Load the models a question needs and open the index in the background (the first answer need not wait)."""
    def run() -> None:
        try:
            warm_models(mem)
        except Exception:  # noqa: BLE001 - the first request will say what is wrong
            pass

    t = threading.Thread(target=run, name="lifelog-warm", daemon=False)
    t.start()
    return t


def start(mem: Memory, *, host: str = "127.0.0.1", port: int = 7861, auth: bool = False) -> Served:
    """Serve the API in a thread and announce it in `<home>/service.json`; `close()` withdraws it."""
    check_exposure(host, auth)
    home = mem.settings.home
    served = serve(build_app(mem), None, host, port, token=None, api_token=api_token(home),
                   on_close=lambda: client.withdraw(home))
    atexit.register(served.close)  # however the process ends (Ctrl-C, SIGTERM, an error), the announcement goes
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)  # before announcing: a `kill` right after must clean up too
    announce(mem, served, host)
    return served


def announce(mem: Memory, served: Served, host: str) -> None:
    """Tell this user's CLI where the service is (read by `client.find`): on loopback where it listens there."""
    port = served.url.rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}" if host in ("0.0.0.0", "127.0.0.1", "localhost") else served.url
    client.announce(mem.settings.home, url=url, pid=os.getpid(),
                    profile=mem.settings.profile,
                    now=mem.settings.now.isoformat() if mem.settings.now else None)


__all__ = ["announce", "build_app", "router", "start", "warm"]
