"""Batch ingestion of files and folders: discover, skip known content, ingest in parallel, report.

    >>> report = ingest_paths([Path("~/Pictures").expanduser()], store, opts, progress=print)
    >>> report.ingested, report.skipped, report.failed

Idempotent: a file is identified by its content hash, so a second run does no model work, and a
renamed file is only re-pointed (`sink.note_path`). One bad file never stops the batch: whatever
goes wrong with it (probe, decoding, models, storing), it is recorded with `sink.write_failure` and
listed in the report with a one-line reason. A file that changes while it is read is read again
once, then failed. Paths that discovery cannot take (a broken link, a link loop, an unreadable
folder, a named pipe called x.mp4) are listed in `report.failed` too; hidden files and other file
types in `report.ignored`. Paths in reports and records are `options.path_text` (valid UTF-8).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from ingest.hashing import file_hash
from ingest.options import IngestOptions, from_timestamp, path_text, text_path
from ingest.probe import AUDIO_EXTS, SUPPORTED_EXTS, VIDEO_EXTS, not_regular
from ingest.records import FileResult, MediaRecord, Sink
from ingest.remote import is_uri, list_media
from ingest.work import Claims, Runner, ThreadRunner, _disk_full, _unexpected, one_line, process

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
    # (path, reason): files that could not be ingested, and paths discovery could not take
    failed: list[tuple[str, str]] = field(default_factory=list)
    # (path, reason): passed over on purpose: hidden, not a media type, a second link to a folder
    ignored: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    # summed seconds per stage over all files (probe, decode, tags, speech, ...)
    timings: dict[str, float] = field(default_factory=dict)
    media_seconds: float = 0.0


def discover(paths: Iterable[Path | str], problems: list[tuple[str, str]] | None = None,
             ignored: list[tuple[str, str]] | None = None) -> list[Path]:
    """Every supported media file under the given files and folders (absolute), without duplicates,
    each folder's files in name order before its subfolders.

    Links to files and folders are followed; a link back to a folder it is in (a loop) is not.
    `problems` gets (path, reason) for what cannot be taken (a broken link, a link loop, an
    unreadable folder, a named pipe or device with a media name, a given file of another type);
    `ignored` for what is passed over on purpose (hidden ".name" files and folders, other file
    types, a second link to a folder already walked). Names that are not UTF-8 survive (os.fsdecode's
    surrogateescape); the reported paths are `path_text`.
    """
    seen: set[Path] = set()
    out: list[Path] = []
    walked: set[tuple[int, int]] = set()  # (device, inode) of every folder walked
    links: list[tuple[Path, os.stat_result]] = []  # linked folders, walked after the real ones

    def note(into: list[tuple[str, str]] | None, p: Path, reason: str) -> None:
        if into is not None:
            into.append((path_text(p), reason))

    def add(p: Path, st: os.stat_result, explicit: bool) -> None:
        ext = p.suffix.lower()
        what = not_regular(st.st_mode)
        if ext not in SUPPORTED_EXTS:
            note(problems if explicit else ignored, p, f"not a photo, video or recording type ({ext or 'no extension'})")
        elif what:
            note(problems, p, f"not a photo, video or recording: it is {what}, not a regular file")
        elif p not in seen:  # hidden names never get here from a walk; given explicitly, they are taken
            seen.add(p)
            out.append(p)

    def walk(top: Path, top_st: os.stat_result) -> None:
        stack = [(top, top_st)]
        while stack:
            folder, fst = stack.pop()
            if (fst.st_dev, fst.st_ino) in walked:
                note(ignored, folder, "a link to a folder already included")
                continue
            walked.add((fst.st_dev, fst.st_ino))
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                note(problems, folder, f"cannot open the folder ({e.strerror or e}); the files in it were not ingested")
                continue
            subfolders = []
            for entry in entries:
                p = Path(entry.path)
                if entry.name.startswith("."):
                    note(ignored, p, "hidden")
                    continue
                st, why = _stat(p)
                if st is None:
                    note(problems, p, why)
                elif not stat.S_ISDIR(st.st_mode):
                    add(p, st, explicit=False)
                elif not entry.is_symlink():
                    subfolders.append((p, st))
                elif _inside(folder, p):
                    note(problems, p, f"a link loop: it points to {path_text(os.path.realpath(p))}, a folder it is in")
                else:
                    links.append((p, st))
            stack.extend(reversed(subfolders))

    for raw in paths:
        root = Path(os.fsdecode(raw)).expanduser().absolute()
        st, why = _stat(root)
        if st is None:
            note(problems, root, why)
        elif stat.S_ISDIR(st.st_mode):
            walk(root, st)
        else:
            add(root, st, explicit=True)
    while links:
        walk(*links.pop(0))
    return out


def _stat(p: Path) -> tuple[os.stat_result | None, str]:
    """The stat of what a path points to, or None and why not (a broken link, a loop, no access)."""
    try:
        return os.stat(p), ""
    except OSError as e:
        if os.path.islink(p):
            if e.errno == errno.ELOOP:
                return None, "a link loop: the link points (through other links) back to itself"
            if isinstance(e, FileNotFoundError):
                return None, f"a broken link: its target {path_text(os.readlink(p))} does not exist"
        if isinstance(e, FileNotFoundError):
            return None, "no such file or folder"
        return None, f"cannot read it ({e.strerror or e})"


def _inside(folder: Path, link: Path) -> bool:
    """Whether a link to a folder points to `folder` or to a folder above it (walking it would loop)."""
    target, here = os.path.realpath(link), os.path.realpath(folder)
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)


def _media_seconds(media: MediaRecord) -> float:
    return media.duration_s if media.kind in ("video", "audio") else 0.0


def _kind(ext: str) -> str:
    return "video" if ext in VIDEO_EXTS else "audio" if ext in AUDIO_EXTS else "photo"


def _failed_record(path: Path | str, reason: str, media: MediaRecord | None) -> MediaRecord:
    if isinstance(path, str):  # an object in a bucket: nothing to read here
        return MediaRecord(media_id=media.media_id if media else "", path=path, size_bytes=media.size_bytes if media else 0,
                           kind=media.kind if media else _kind(PurePosixPath(path).suffix.lower()),
                           mtime=media.mtime if media else datetime.now(timezone.utc), status="failed", error=reason)
    ext = path.suffix.lower()
    kind = media.kind if media else _kind(ext)
    try:
        st = path.stat()
        size, mtime, regular = st.st_size, from_timestamp(st.st_mtime), stat.S_ISREG(st.st_mode)
    except OSError:
        size, mtime, regular = 0, None, False
    media_id = media.media_id if media else ""
    if not media_id and regular:  # never open a named pipe: it would wait for a writer forever
        try:
            media_id = file_hash(path)
        except OSError:
            media_id = ""
    return MediaRecord(media_id=media_id, path=path_text(path.absolute()), kind=kind, size_bytes=size,
                       mtime=mtime or datetime.now(timezone.utc), status="failed", error=reason)


def ingest_paths(
    paths: Iterable[Path | str],
    sink: Sink,
    opts: IngestOptions,
    progress: Callable[[BatchProgress], None] | None = None,
    stop: threading.Event | None = None,
    runner: Runner | None = None,
) -> BatchReport:
    """Ingest every supported file under `paths` into `sink`; returns what happened.

    Files run in parallel on `opts.workers` threads, or on a `runner`'s workers (a Ray cluster);
    all writes to the sink happen on the calling thread (the sink need not be thread-safe). Setting
    `stop` finishes the files in flight, writes them, and returns: a later run continues where this
    one stopped.
    """
    t_start = time.perf_counter()
    report = BatchReport()
    paths = list(paths)
    files: list[Path | str] = list(discover([p for p in paths if not is_uri(p)], report.failed, report.ignored))
    for uri in (p for p in paths if is_uri(p)):  # objects under a prefix, fetched one by one (ingest/remote.py)
        files += list_media(str(uri), dict(opts.object_store), SUPPORTED_EXTS)
    timings: dict[str, float] = defaultdict(float)
    if runner is None:
        # never more workers than files: one long video then gets every core (decoder and model
        # threads are sized from opts.workers)
        workers = max(1, min(opts.workers, len(files)))
        opts = replace(opts, workers=workers)
        runner = ThreadRunner(workers)
    done = 0
    bytes_done = 0
    written: set[str] = set()  # content ids stored by this batch: a worker's retried file lands once

    def notify(current: Path) -> None:
        if progress is None:
            return
        elapsed = time.perf_counter() - t_start
        rate = report.media_seconds / elapsed if report.media_seconds else done / max(elapsed, 1e-9)
        left = len(files) - done
        eta = (left * elapsed / done) if done else None
        progress(BatchProgress(done, len(files), path_text(current), report.media_seconds, bytes_done, rate, eta))

    # known() is called from workers; serialise it with writes, since the sink is not thread-safe
    sink_lock = threading.Lock()

    def sink_known(media_id: str) -> MediaRecord | None:
        with sink_lock:
            return sink.known(media_id)

    def _store(path: Path, status: str, payload: object) -> None:
        """Write one finished file to the sink and count it (on the calling thread, under sink_lock)."""
        if status == "skip":
            media, known = payload  # type: ignore[misc]
            report.skipped += 1
            # moved: the stored path is gone; a second copy elsewhere leaves the record alone
            if known is not None and known.path != media.path and not is_uri(known.path) \
                    and not os.path.lexists(text_path(known.path)):
                sink.note_path(media.media_id, media.path)
                report.moved += 1
        elif status == "ok":
            result: FileResult = payload  # type: ignore[assignment]
            if result.media.media_id in written:  # a retried worker's second copy of a stored file
                report.skipped += 1
                return
            sink.write(result)
            written.add(result.media.media_id)
            report.ingested += 1
            report.media_seconds += _media_seconds(result.media)
            for k, v in result.timings.items():
                timings[k] += v
        else:
            raw, media = payload  # type: ignore[misc]
            reason = one_line(raw)
            sink.write_failure(_failed_record(path, reason, media))
            report.failed.append((path_text(path), reason))

    pending = iter(files)
    in_flight: dict[Future, Path] = {}
    runner.start(opts, sink_known)
    try:
        def submit_next() -> None:
            if stop is not None and stop.is_set():
                return
            p = next(pending, None)
            if p is not None:
                in_flight[runner.submit(p)] = p

        for _ in range(runner.workers):
            submit_next()
        while in_flight:
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in finished:
                path = in_flight.pop(fut)
                try:  # the per-file guard on this side: storing one file's result
                    with sink_lock:
                        _store(path, *fut.result())
                except Exception as e:
                    if _disk_full(e):
                        raise
                    reason = _unexpected(path, e, "could not be stored:")
                    report.failed.append((path_text(path), reason))
                    try:
                        with sink_lock:
                            sink.write_failure(_failed_record(path, reason, None))
                    except Exception as e2:
                        if _disk_full(e2):
                            raise
                        log.debug("%s: the failure could not be recorded either", path_text(path), exc_info=e2)
                done += 1
                try:
                    bytes_done += path.stat().st_size if isinstance(path, Path) else 0
                except OSError:
                    pass
                try:
                    notify(path)
                except Exception as e:  # a progress display's error never ends the batch
                    log.warning("progress report failed: %s", one_line(f"{type(e).__name__}: {e}", 200))
                submit_next()
    finally:
        runner.close()
    report.seconds = time.perf_counter() - t_start
    report.timings = dict(timings)
    return report


__all__ = ["BatchProgress", "BatchReport", "Claims", "Runner", "ThreadRunner", "discover", "ingest_paths", "one_line", "process"]
