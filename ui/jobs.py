"""Ingestion in a background thread, so the app answers questions while files are read.

One job runs at a time per app. The thread only writes the job's fields; the page polls them
with a timer (`gr.Timer`), so no event handler ever blocks on ingestion.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lifelog


@dataclass
class IngestJob:
    paths: list[Path]
    started: float = field(default_factory=time.time)
    finished: float | None = None
    progress: Any = None  # the latest ingest.batch.BatchProgress
    report: Any = None  # the BatchReport once done
    error: str = ""  # why the whole batch stopped, for the user
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return self.finished is None

    def update(self, progress: Any) -> None:
        self.progress = progress


class Ingestor:
    """Starts ingestion jobs on a memory and keeps the latest one for the page to poll."""

    def __init__(self, mem: lifelog.Memory):
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
