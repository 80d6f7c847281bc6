"""Ingestion in a background thread, so the app answers questions while files are read.

One job runs at a time per process (the app and the HTTP API share it). The thread only writes the
job's fields; the page polls them with a timer (`gr.Timer`) and API clients with
`GET /api/jobs/{id}`, so no request ever blocks on ingestion.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lifelog.api import ingest_report
from lifelog.memory import Memory


# the roles a question can use, loaded in this order (the embedding first: every question needs it)
WARM_ROLES = ("text_embed", "llm")


def warm_models(mem: Memory, on_stage: Callable[[str], None] | None = None) -> None:
    """Load the models a question needs and open the index, so the first answer does not wait for
    them (the app, `lifelog serve` and `lifelog mcp` run it as they start). `on_stage` hears each
    role, then "index"; errors are raised for the caller to show."""
    for role in WARM_ROLES:
        if mem.has_model(role):
            if on_stage:
                on_stage(role)
            mem.model(role)
    if on_stage:
        on_stage("index")
    mem.search("a first search to open the index", limit=1)


@dataclass
class IngestJob:
    paths: list[Path]
    started: float = field(default_factory=time.time)
    finished: float | None = None
    progress: Any = None  # the latest ingest.batch.BatchProgress
    report: Any = None  # the BatchReport once done
    error: str = ""  # why the whole batch stopped, for the user
    stop: threading.Event = field(default_factory=threading.Event)
    job_id: str = field(default_factory=lambda: secrets.token_hex(6))

    @property
    def running(self) -> bool:
        return self.finished is None

    def update(self, progress: Any) -> None:
        self.progress = progress

    def as_json(self) -> dict[str, Any]:
        """Where the job stands: files done of all, media hours, rate, ETA; then the report or the error."""
        p, r = self.progress, self.report
        out: dict[str, Any] = {
            "job_id": self.job_id, "paths": [str(x) for x in self.paths], "running": self.running,
            "started": self.started, "finished": self.finished, "error": self.error, "stopped": self.stop.is_set(),
        }
        if p is not None:
            out["progress"] = {"files_done": p.files_done, "files_total": p.files_total,
                               "media_hours_done": round(p.media_seconds_done / 3600, 4),
                               "rate": round(p.rate, 3), "eta_s": round(p.eta_s, 1) if p.eta_s else None,
                               "current": str(p.current or "")}
        if r is not None:
            out["report"] = ingest_report(r)
        return out


class Ingestor:
    """Starts ingestion jobs on a memory and keeps the latest one for the page to poll."""

    def __init__(self, mem: Memory):
        self.mem = mem
        self.job: IngestJob | None = None
        self._lock = threading.Lock()

    def start(self, paths: list[Path]) -> IngestJob:
        with self._lock:
            if self.job and self.job.running:
                raise RuntimeError("an ingestion is already running: wait for it to finish or stop it first")
            job = self.job = IngestJob(paths=list(paths))
        threading.Thread(target=self._run, args=(job,), name="lifelog-ingest", daemon=True).start()
        return job

    def _run(self, job: IngestJob) -> None:
        try:
            job.report = self.mem.ingest(job.paths, progress=job.update, stop=job.stop)
        except Exception as e:  # noqa: BLE001 - shown on the page; the app keeps running
            job.error = f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()

    def wait(self, timeout: float | None = None) -> IngestJob | None:
        """Block until the current job ends (for tests and scripts, never for handlers)."""
        deadline = None if timeout is None else time.time() + timeout
        while self.job and self.job.running:
            if deadline is not None and time.time() > deadline:
                raise TimeoutError(f"ingestion still running after {timeout} s")
            time.sleep(0.1)
        return self.job
