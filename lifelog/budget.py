"""The storage budget: the library's derived data kept under `Settings.budget_gb`
(`LIFELOG_BUDGET_GB`) by degrading the oldest media first.

Derived data is what the library made: its database (`home/lancedb`) and pictures
(`home/thumbs`). The user's own files are never touched, and neither are the text and vectors that
search and answers read. Over the budget, after an ingest, `enforce` drops, oldest capture first
and stopping as soon as the library fits:

1. keyframes (`home/thumbs/<media id>/key_*.jpg`, one per segment: the search results' pictures),
2. then thumbnails (`thumb*.jpg`, one per file),
3. then visual memory rows (StreamMem KV caches, the largest rows), purged from disk.

Each drop is one line of `home/budget.log` (time, what, bytes, media id, path), which the user can
read and `lifelog status` sums up. Face crops stay (the People tab shows them).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.records import MediaRecord
from lifelog import vacuum
from lifelog.db import VISUAL_TABLE
from lifelog.sql import in_list

if TYPE_CHECKING:
    from lifelog.store import Store

LOG_NAME = "budget.log"
KEYFRAMES, THUMBNAILS, VISUAL = "keyframes", "thumbnails", "visual-memory"
# what is dropped first, and the files of each kind under home/thumbs/<media id>/
PICTURES = ((KEYFRAMES, "key_*.jpg"), (THUMBNAILS, "thumb*.jpg"))
GB = 1024 ** 3


def du(path: Path) -> int:
    """Bytes of the files under a folder (0 when it is missing)."""
    if not path.exists():
        return 0
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # removed meanwhile (a cleanup)
                pass
    return total


def derived_bytes(home: Path) -> int:
    """What the budget counts: the database and the thumbnails folder."""
    return du(home / "lancedb") + du(home / "thumbs")


def budget_bytes(budget_gb: float | None) -> int | None:
    return None if budget_gb is None else int(budget_gb * GB)


@dataclass
class Dropped:
    what: str  # keyframes, thumbnails, visual-memory
    media_id: str
    path: str
    bytes: int
    time: str = field(default_factory=lambda: datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))

    def line(self) -> str:
        return f"{self.time}\t{self.what}\t{self.bytes}\t{self.media_id}\t{self.path}\n"


@dataclass
class BudgetReport:
    budget_bytes: int
    used_before: int
    used_after: int
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.used_after <= self.budget_bytes

    def summary(self, home: Path) -> str:
        files = len({d.media_id for d in self.dropped})
        return (f"Over the storage budget: dropped derived data of the {files} oldest file{'s' * (files != 1)} "
                f"({sum(d.bytes for d in self.dropped) / 1e6:.1f} MB), listed in {home / LOG_NAME}")


@dataclass
class BudgetStatus:
    budget_bytes: int | None
    used_bytes: int
    dropped: dict[str, tuple[int, int]]  # what -> (files, bytes), from the log
    log: Path

    def line(self) -> str:
        used = f"{self.used_bytes / 1e6:.1f} MB"
        if self.budget_bytes is None:
            head = f"Budget: none (set LIFELOG_BUDGET_GB); derived data {used}"
        else:
            over = "" if self.used_bytes <= self.budget_bytes else " (over: text and vectors are kept)"
            head = f"Budget: {used} used of {self.budget_bytes / GB:g} GB{over}"
        if not self.dropped:
            return head
        parts = ", ".join(f"{n} {what} ({size / 1e6:.1f} MB)" for what, (n, size) in sorted(self.dropped.items()))
        return f"{head}; dropped so far: {parts} (see {self.log})"


def _age(m: MediaRecord) -> tuple:
    """Oldest first: by capture time, else file time; files without either last."""
    when = m.captured_at or m.mtime
    return (when is None, when.timestamp() if when else 0.0, m.media_id)


def _record(home: Path, report: BudgetReport, drop: Dropped) -> None:
    report.dropped.append(drop)
    with open(home / LOG_NAME, "a", encoding="utf-8") as f:
        f.write(drop.line())


def enforce(store: "Store", home: Path, budget: int) -> BudgetReport:
    """Degrade the oldest media's derived data until the library fits `budget` bytes (module
    docstring); nothing happens when it fits already. Holds the writer lock throughout."""
    with store.lock:
        used = derived_bytes(home)
        report = BudgetReport(budget, used, used)
        if used <= budget:
            return report
        media = sorted(store.all_media("status = 'ok'"), key=_age)
        for what, pattern in PICTURES:
            for m in media:
                if used <= budget:
                    break
                files = sorted((home / "thumbs" / m.media_id).glob(pattern))
                size = sum(f.stat().st_size for f in files)
                for f in files:
                    f.unlink(missing_ok=True)
                if files:
                    used -= size
                    _record(home, report, Dropped(what, m.media_id, m.path, size))
        if used > budget and store.has_table(VISUAL_TABLE):
            _drop_visual(store, home, media, budget, used, report)
        report.used_after = derived_bytes(home)
        return report


def _drop_visual(store: "Store", home: Path, media: Sequence[MediaRecord], budget: int, used: int,
                 report: BudgetReport) -> None:
    """Visual memory rows of the oldest videos, a batch at a time sized from their tensor shapes,
    each batch deleted and purged from disk (a delete alone frees nothing)."""
    t = store.table(VISUAL_TABLE)
    rows = t.search().select(["media_id", "keys_shape", "values_shape"]).limit(None).to_list()
    size: dict[str, int] = {}
    for r in rows:  # float16 tensors: 2 bytes per element
        size[r["media_id"]] = size.get(r["media_id"], 0) + 2 * (math.prod(r["keys_shape"] or [0])
                                                                 + math.prod(r["values_shape"] or [0]))
    left = [m for m in media if m.media_id in size]
    while used > budget and left:
        batch, estimate = [], used
        while left and estimate > budget:
            m = left.pop(0)
            batch.append(m)
            estimate -= size[m.media_id]
        t.delete(in_list("media_id", [m.media_id for m in batch]))
        vacuum.purge(t, store.database.table_folder(VISUAL_TABLE))
        after = derived_bytes(home)
        for m in batch:
            _record(home, report, Dropped(VISUAL, m.media_id, m.path, size[m.media_id]))
        used = after


def read_log(home: Path) -> list[Dropped]:
    path = home / LOG_NAME
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 5 and parts[2].isdigit():
            out.append(Dropped(parts[1], parts[3], "\t".join(parts[4:]), int(parts[2]), parts[0]))
    return out


def status(home: Path, budget: int | None) -> BudgetStatus:
    dropped: dict[str, tuple[int, int]] = {}
    for d in read_log(home):
        n, b = dropped.get(d.what, (0, 0))
        dropped[d.what] = (n + 1, b + d.bytes)
    return BudgetStatus(budget, derived_bytes(home), dropped, home / LOG_NAME)


def forget_lines(home: Path, media_ids: Sequence[str]) -> None:
    """Take forgotten files out of the log (their paths are memory too); atomic, idempotent."""
    path = home / LOG_NAME
    if not path.is_file():
        return
    ids = set(media_ids)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [line for line in lines if not (len(line.split("\t")) >= 5 and line.split("\t")[3] in ids)]
    if len(keep) == len(lines):
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(keep), encoding="utf-8")
    os.replace(tmp, path)
