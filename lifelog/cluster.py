"""Ingestion spread over a Ray cluster: workers run the per-file pipeline, this process writes.

    lifelog ingest --ray 127.0.0.1:6379 /data/footage      # or LIFELOG_RAY_ADDRESS
    mem.ingest(paths, ray="127.0.0.1:6379")

`RayRunner` is an `ingest.work.Runner`. Each worker is an actor that loads its models once
(`ingest.describe.ModelSet`) and runs `ingest.work.process` on one file at a time, exactly as a
thread does on one machine: probe and content hash, a look in the library's media table for
known content (read-only, from the worker), the pipeline, and its pictures read back as bytes.
The result travels back through Ray's object store, and this process (the coordinator, the
library's one writer) writes it through the same `FileWriter` unit of work as a local ingest, then
consolidates once. A file whose worker dies is retried on a restarted or another worker; content
ids already written in the batch are passed over, and every write is an upsert by content id, so
nothing lands twice.

Why the coordinator writes and workers do not write Lance fragments themselves (lance-ray's
`write_lance` does that: `write_fragments` on each block, one `Append` commit): a file's unit of
work replaces rows by key across six tables (episodes, faces, voices, visual memory, pictures,
then the media row as commit marker), which an append of fragments cannot express, and a file's
rows are small next to its media (tens of KB per minute of video, benchmarks/bench_scale_out.py
measures the rest): the models, not the writes, are what needs the cluster.

Inputs are paths present on every node (a shared mount, or the same copy on each) or object-store
URIs (`s3://bucket/footage/`: listed here, each object copied down by the worker that takes it,
ingest/remote.py); the library is any database LanceDB opens (`db_uri`, lifelog/settings.py), and
workers need its credentials only to read which files are known.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.work import Claims, process
from lifelog.lock import process_alive
from ingest.options import IngestOptions, thumbs_dir
from ingest.records import MediaRecord
from ingest.remote import is_uri

log = logging.getLogger(__name__)

RAY_ADDRESS_ENV = "LIFELOG_RAY_ADDRESS"
# a file is tried on this many worker processes before it is reported as failed
ATTEMPTS = 3
# each worker's scratch home, <tmp>/lifelog-worker-<pid>-xxxx: its pictures before they are sent back
SCRATCH = "lifelog-worker-"


class MediaReader:
    """Which content a library holds already, read from a worker (never writes, never locks)."""

    def __init__(self, uri: str, storage_options: dict[str, str]):
        self.uri, self.storage_options = uri, storage_options
        self._table: Any = None

    def known(self, media_id: str) -> MediaRecord | None:
        from lifelog.db import MEDIA_TABLE
        from lifelog.sql import quote
        from lifelog.store import media_from_row

        if self._table is None:
            import lancedb

            db = lancedb.connect(self.uri, storage_options=self.storage_options or None)
            names = db.list_tables()
            if MEDIA_TABLE not in list(getattr(names, "tables", names)):
                return None  # an empty library: nothing is known yet
            self._table = db.open_table(MEDIA_TABLE)
        self._table.checkout_latest()
        rows = self._table.search().where(f"media_id = {quote(media_id)} AND status = 'ok'").limit(1).to_list()
        return media_from_row(rows[0]) if rows else None


class IngestWorker:
    """One Ray actor: its own scratch home for pictures, its models loaded once, one file at a time."""

    def __init__(self, opts: IngestOptions, uri: str, storage_options: dict[str, str], threads: int):
        _sweep_scratch()
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-"))
        self.scratch = scratch
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        cache = Path(opts.cache_dir)
        if not cache.is_dir():  # another machine: its own cache of pulled models
            cache = Path.home() / ".cache" / "lifelog" / "models"
        self.opts = replace(opts, home=scratch, cache_dir=cache, workers=threads)
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
        from ingest.describe import ModelSet

        self.models = ModelSet(self.opts)
        self.reader = MediaReader(uri, storage_options)

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        """Remove the scratch home (a killed worker's is swept by the next one on its machine)."""
        shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self, path: str) -> tuple[str, object]:
        """`ingest.work.process` for one file; an ingested file's pictures come back as bytes."""
        from lifelog.assets import gather

        target = path if is_uri(path) else Path(path)  # an object in a bucket is copied down by process
        status, payload = process(target, self.opts, self.models, self.reader.known, Claims())
        if status == "ok":
            folder = thumbs_dir(self.opts, payload.media.media_id)  # type: ignore[attr-defined]
            payload.assets = gather(folder)  # type: ignore[attr-defined]
            shutil.rmtree(folder, ignore_errors=True)
        return status, payload


class RayRunner:
    """Files over a Ray cluster's workers (see the module docstring); an `ingest.work.Runner`."""

    def __init__(self, address: str, *, uri: str, storage_options: dict[str, str] | None = None,
                 actors: int | None = None, cpus_per_actor: int = 1):
        self.address = address
        self.uri = uri
        self.storage_options = dict(storage_options or {})
        self.actors_wanted = actors
        self.cpus = max(1, cpus_per_actor)
        self.workers = 0  # files in flight: set by start, two per actor (one runs, one waits)
        self._actors: list[Any] = []
        self._load: dict[int, int] = {}
        self._lock = threading.Lock()
        self._connected_here = False

    def start(self, opts: IngestOptions, known: Any) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
            self._connected_here = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = self.actors_wanted or max(1, cpus // self.cpus)
        # a dead worker is restarted (models loaded again) for the files still to come; the files it
        # held are sent again by this runner, to another worker where there is one (`_send`)
        actor = ray.remote(num_cpus=self.cpus, max_restarts=2, max_task_retries=0)(IngestWorker)
        self._actors = [actor.remote(opts, self.uri, self.storage_options, self.cpus) for _ in range(n)]
        self._load = {i: 0 for i in range(n)}
        self.workers = 2 * n
        log.info("ingesting on %d Ray workers at %s", n, self.address)

    def pids(self) -> list[int]:
        """The workers' process ids (for tests and for telling which to watch)."""
        import ray

        return ray.get([a.pid.remote() for a in self._actors])

    def submit(self, path: Path) -> Future:
        out: Future = Future()
        self._send(str(path), out, 1, set())
        return out

    def _send(self, path: str, out: Future, attempt: int, tried: set[int]) -> None:
        with self._lock:
            free = [i for i in self._load if i not in tried] or list(self._load)
            i = min(free, key=lambda k: self._load[k])
            self._load[i] += 1
        ref = self._actors[i].run.remote(path)

        def done(f: Future) -> None:
            with self._lock:
                self._load[i] -= 1
            error = f.exception()
            if error is None:
                out.set_result(f.result())
            elif attempt < ATTEMPTS and _lost_worker(error):
                log.warning("%s: its Ray worker was lost (%s); trying again", path, type(error).__name__)
                self._send(path, out, attempt + 1, tried | {i})
            else:
                out.set_exception(error)

        ref.future().add_done_callback(done)

    def close(self) -> None:
        import ray

        try:  # each worker removes its scratch folder, then goes
            ray.get([a.close.remote() for a in self._actors], timeout=30)
        except Exception:  # a worker already gone, or stuck: its folder is swept later
            pass
        for a in self._actors:
            try:
                ray.kill(a)
            except Exception:  # an actor already gone
                pass
        self._actors = []
        if self._connected_here:
            ray.shutdown()
            self._connected_here = False


def _sweep_scratch() -> None:
    """Scratch folders of this machine's workers that died without removing theirs."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH}*-*"):
        pid = folder.name[len(SCRATCH):].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _lost_worker(error: BaseException) -> bool:
    """A worker process that died or was killed (not an error of the file's own)."""
    from ray import exceptions

    return isinstance(error, (exceptions.RayActorError, exceptions.WorkerCrashedError,
                              exceptions.ObjectLostError, exceptions.OwnerDiedError))
