"""Batch ingestion of files and folders: discover, skip known content, ingest in parallel, report.

    >>> report = ingest_paths([Path("~/Pictures").expanduser()], store, opts, progress=print)
    >>> report.ingested, report.skipped, report.failed

Idempotent: a file is identified by its content hash, so a second run does no model work, and a
renamed file is only re-pointed (`sink.note_path`). One bad file never stops the batch: it is
recorded with `sink.write_failure` and listed in the report with its reason.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from ingest.describe import ModelSet
from ingest.errors import IngestError
from ingest.hashing import file_hash
from ingest.options import IngestOptions
from ingest.pipeline import ingest_file
from ingest.probe import AUDIO_EXTS, SUPPORTED_EXTS, VIDEO_EXTS, probe
from ingest.records import FileResult, MediaRecord, Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchProgress:
    files_done: int
    files_total: int
    current: str  # the file just finished
    media_seconds_done: float  # seconds of video and sound ingested so far
    bytes_done: int
    rate: float  # media seconds ingested per wall second (x realtime); files/s when no media time
    eta_s: float | None  # None until there is a rate to go by


@dataclass
class BatchReport:
    ingested: int = 0
    skipped: int = 0  # already known by content hash
    moved: int = 0  # known content at a new path (counted in skipped too)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    # summed seconds per stage over all files (probe, decode, tags, speech, ...)
    timings: dict[str, float] = field(default_factory=dict)
    media_seconds: float = 0.0


def discover(paths: Iterable[Path | str]) -> list[Path]:
    """Every supported media file under the given files and folders, sorted, without duplicates.

    Hidden files and folders (".name") are skipped. Names are handled as bytes-safe str
    (os.fsdecode's surrogateescape), so a name with invalid UTF-8 survives the round trip.
    """
    seen: set[Path] = set()
    out: list[Path] = []

    def add(p: Path) -> None:
        if p.suffix.lower() in SUPPORTED_EXTS and not p.name.startswith(".") and p not in seen:
            seen.add(p)
            out.append(p)

    for raw in paths:
        root = Path(os.fsdecode(raw)).expanduser()
        if root.is_file():
            add(root)  # given explicitly: taken even if hidden
            continue
        if not root.is_dir():
            log.warning("%s: no such file or folder", os.fsdecode(root))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if p.is_file():
                    add(p)
    return out


def _media_seconds(media: MediaRecord) -> float:
    return media.duration_s if media.kind in ("video", "audio") else 0.0


def _failed_record(path: Path, reason: str, media: MediaRecord | None) -> MediaRecord:
    ext = path.suffix.lower()
    kind = media.kind if media else "video" if ext in VIDEO_EXTS else "audio" if ext in AUDIO_EXTS else "photo"
    try:
        st = path.stat()
        size, mtime = st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc)
    except OSError:
        size, mtime = 0, datetime.now(timezone.utc)
    media_id = media.media_id if media else ""
    if not media_id:
        try:
            media_id = file_hash(path)
        except OSError:
            media_id = ""
    return MediaRecord(media_id=media_id, path=os.fsdecode(path.absolute()), kind=kind, size_bytes=size, mtime=mtime,
                       status="failed", error=reason)


def _set_torch_threads(workers: int) -> None:
    # workers x intra-op threads <= cores, or the threads fight over the cores
    try:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, workers)))
    except ImportError:
        pass


def ingest_paths(
    paths: Iterable[Path | str],
    sink: Sink,
    opts: IngestOptions,
    progress: Callable[[BatchProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """Ingest every supported file under `paths` into `sink`; returns what happened.

    Files run in parallel on `opts.workers` threads; all writes to the sink happen on the calling
    thread (the sink need not be thread-safe). Setting `stop` finishes the files in flight, writes
    them, and returns: a later run continues where this one stopped.
    """
    t_start = time.perf_counter()
    files = discover(paths)
    report = BatchReport()
    timings: dict[str, float] = defaultdict(float)
    # never more workers than files: one long video then gets every core (decoder and model threads
    # are sized from opts.workers)
    workers = max(1, min(opts.workers, len(files)))
    opts = replace(opts, workers=workers)
    ms = ModelSet(opts)
    _set_torch_threads(workers)
    done = 0
    bytes_done = 0

    def notify(current: Path) -> None:
        if progress is None:
            return
        elapsed = time.perf_counter() - t_start
        rate = report.media_seconds / elapsed if report.media_seconds else done / max(elapsed, 1e-9)
        left = len(files) - done
        eta = (left * elapsed / done) if done else None
        progress(BatchProgress(done, len(files), os.fsdecode(current), report.media_seconds, bytes_done, rate, eta))

    def work(path: Path) -> tuple[str, object]:
        """Runs on a worker: ("skip", media) for known content, ("ok", FileResult), or ("fail", (reason, media))."""
        media: MediaRecord | None = None
        try:
            t0 = time.perf_counter()
            media = probe(path)
            probe_s = time.perf_counter() - t0
            known = sink_known(media.media_id)
            if known is not None:
                return "skip", (media, known)
            with sink_lock:  # two copies of one file in this batch: only the first is ingested
                if media.media_id in claimed:
                    return "skip", (media, None)
                claimed.add(media.media_id)
            result = ingest_file(path, opts, media=media, model_set=ms)
            result.timings["probe"] = result.timings.get("probe", 0.0) + probe_s
            return "ok", result
        except IngestError as e:
            return "fail", (str(e), media)
        except Exception as e:  # a bug or an unexpected decoder error: recorded, the batch goes on
            log.exception("%s: ingestion failed", os.fsdecode(path))
            return "fail", (f"{os.fsdecode(path)}: unexpected error {type(e).__name__}: {e}", media)

    # known() is called from workers; serialise it with writes, since the sink is not thread-safe
    sink_lock = threading.Lock()
    claimed: set[str] = set()

    def sink_known(media_id: str) -> MediaRecord | None:
        with sink_lock:
            return sink.known(media_id)

    pending = iter(files)
    in_flight: dict[Future, Path] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        def submit_next() -> None:
            if stop is not None and stop.is_set():
                return
            p = next(pending, None)
            if p is not None:
                in_flight[pool.submit(work, p)] = p

        for _ in range(workers):
            submit_next()
        while in_flight:
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in finished:
                path = in_flight.pop(fut)
                status, payload = fut.result()
                with sink_lock:
                    if status == "skip":
                        media, known = payload  # type: ignore[misc]
                        report.skipped += 1
                        # moved: the stored path is gone; a second copy elsewhere leaves the record alone
                        if known is not None and known.path != media.path and not os.path.lexists(known.path):
                            sink.note_path(media.media_id, media.path)
                            report.moved += 1
                    elif status == "ok":
                        result: FileResult = payload  # type: ignore[assignment]
                        sink.write(result)
                        report.ingested += 1
                        report.media_seconds += _media_seconds(result.media)
                        for k, v in result.timings.items():
                            timings[k] += v
                    else:
                        reason, media = payload  # type: ignore[misc]
                        sink.write_failure(_failed_record(path, reason, media))
                        report.failed.append((os.fsdecode(path), reason))
                done += 1
                try:
                    bytes_done += path.stat().st_size
                except OSError:
                    pass
                notify(path)
                submit_next()
    report.seconds = time.perf_counter() - t_start
    report.timings = dict(timings)
    return report


__all__ = ["BatchProgress", "BatchReport", "discover", "ingest_paths"]
