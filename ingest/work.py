"""One file's work wherever it runs, and where files run: threads of this process (`ThreadRunner`)
or, through the same `Runner` interface, a Ray cluster's workers (lifelog/cluster.py).

`process` probes and hashes a file, passes over content the library knows or that another copy in
the batch claimed, runs the pipeline, and reads a file again once if it changed meanwhile. It
returns ("skip", ...), ("ok", FileResult) or ("fail", (reason, media)); only a full disk raises.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Protocol

from ingest.describe import ModelSet
from ingest.errors import IngestError
from ingest.options import IngestOptions, clean_text, path_text, thumbs_dir
from ingest.pipeline import ingest_file
from ingest.probe import probe
from ingest.records import MediaRecord
from ingest.remote import fetched

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CHANGED = ("the file changed while it was read (it is still being copied, synced or edited); "
           "ingest it again once it is complete")


def one_line(reason: str, limit: int = 600) -> str:
    """A reason for the report and the record: valid UTF-8, on one line, of bounded length."""
    text = _CONTROL.sub(lambda m: repr(m[0])[1:-1], clean_text(reason).strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unexpected(path: Path, e: BaseException, what: str = "unexpected error") -> str:
    """A one-line reason for an error nobody foresaw; the traceback goes to the debug log only."""
    log.warning("%s: %s %s: %s", path_text(path), what, type(e).__name__, one_line(str(e), 300))
    log.debug("%s: traceback", path_text(path), exc_info=e)
    return one_line(f"{path_text(path)}: {what} {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", 400)


def _disk_full(e: BaseException | None) -> bool:
    """A write failed for lack of space (the OS error, or a database error carrying its message)."""
    while e is not None:
        if isinstance(e, OSError) and e.errno == errno.ENOSPC or "No space left on device" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def _stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is written to: size, modification and change times, inode."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _set_torch_threads(workers: int) -> None:
    # workers x intra-op threads <= cores, or the threads fight over the cores
    try:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, workers)))
    except ImportError:
        pass


class Claims:
    """Content ids being ingested in this batch: of two copies of one file, only the first is ingested."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()

    def claim(self, media_id: str) -> bool:
        with self._lock:
            if media_id in self._ids:
                return False
            self._ids.add(media_id)
            return True

    def release(self, media_id: str) -> None:
        with self._lock:
            self._ids.discard(media_id)

    def __contains__(self, media_id: str) -> bool:
        with self._lock:
            return media_id in self._ids


def process(path: Path | str, opts: IngestOptions, ms: ModelSet, known: Callable[[str], MediaRecord | None],
            claims: Claims) -> tuple[str, object]:
    """One file, start to end, wherever it runs (a thread here, a Ray worker elsewhere): ("skip",
    (media, known)) for known content, ("ok", FileResult), or ("fail", (reason, media)). Errors
    are the file's, never the batch's, except a full disk. A URI (s3://...) is copied down first,
    and its records keep the URI."""
    if isinstance(path, str):
        return _process_object(path, opts, ms, known, claims)
    tried: list[MediaRecord] = []  # each probe of the file; more than one when it changed while read
    try:
        return _attempts(path, opts, ms, known, claims, tried)
    except IngestError as e:
        return "fail", (str(e), tried[-1] if tried else None)
    except Exception as e:  # a bug or an unexpected decoder error: recorded, the batch goes on
        if _disk_full(e):  # no file can be stored any more: stop the batch, keep what is written
            raise
        return "fail", (_unexpected(path, e), tried[-1] if tried else None)
    finally:  # thumbnails and keyframes of versions that changed while they were read
        for media in tried[:-1]:
            if media.media_id not in claims and known(media.media_id) is None:
                shutil.rmtree(thumbs_dir(opts, media.media_id), ignore_errors=True)


def _process_object(uri: str, opts: IngestOptions, ms: ModelSet, known: Callable[[str], MediaRecord | None],
                    claims: Claims) -> tuple[str, object]:
    try:
        with fetched(uri, dict(opts.object_store)) as local:
            status, payload = process(local, opts, ms, known, claims)
    except OSError as e:
        if _disk_full(e):
            raise
        return "fail", (f"{uri}: could not be read from the store ({one_line(str(e), 300)})", None)
    if status == "ok":
        payload.media.path = uri  # type: ignore[attr-defined]
    else:
        media = payload[1 if status == "fail" else 0]  # type: ignore[index]
        if media is not None:
            media.path = uri
        if status == "fail":
            payload = (payload[0].replace(path_text(local), uri), media)  # type: ignore[index]
    return status, payload


def _attempts(path: Path, opts: IngestOptions, ms: ModelSet, known: Callable[[str], MediaRecord | None],
              claims: Claims, tried: list[MediaRecord]) -> tuple[str, object]:
    """Probe and ingest `path`, once more if it changed while it was read."""
    for _ in range(2):
        before = _stamp(path)  # taken before hashing: a write during the hash or the decoding shows
        t0 = time.perf_counter()
        media = probe(path)
        tried.append(media)
        probe_s = time.perf_counter() - t0
        stored = known(media.media_id)
        if stored is not None:
            return "skip", (media, stored)
        if not claims.claim(media.media_id):  # two copies of one file in this batch: only the first
            return "skip", (media, None)
        result = ingest_file(path, opts, media=media, model_set=ms)
        result.timings["probe"] = result.timings.get("probe", 0.0) + probe_s
        if before is not None and _stamp(path) == before:
            return "ok", result
        # the hash may be of one content and the episodes of another: read it again
        log.info("%s changed while it was read; reading it again", path_text(path))
        claims.release(media.media_id)
    tried.append(MediaRecord(media_id="", path=tried[-1].path, kind=tried[-1].kind, size_bytes=0,
                             mtime=tried[-1].mtime))  # the content is unknown: no id, the thumbnails go
    return "fail", (f"{path_text(path)}: {CHANGED}", tried[-1])


class Runner(Protocol):
    """Where files are processed: threads of this process (the default), or a Ray cluster's
    workers (`lifelog.cluster.RayRunner`). Results come back here, where the sink is written."""

    workers: int

    def start(self, opts: IngestOptions, known: Callable[[str], MediaRecord | None]) -> None: ...

    def submit(self, path: Path) -> Future: ...  # resolves to process()'s (status, payload)

    def close(self) -> None: ...


class ThreadRunner:
    """`process` on a pool of threads; decoders and models release the GIL, so threads use the cores."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def start(self, opts: IngestOptions, known: Callable[[str], MediaRecord | None]) -> None:
        self._opts, self._known, self._claims = opts, known, Claims()
        self._ms = ModelSet(opts)
        _set_torch_threads(self.workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ingest")

    def submit(self, path: Path) -> Future:
        assert self._pool is not None
        return self._pool.submit(process, path, self._opts, self._ms, self._known, self._claims)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
