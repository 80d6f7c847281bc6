"""Forgetting that forgets: files, a time span or a person taken out of every table, what spanned
them rebuilt, and nothing of them left in the library's files.

    forget.forget_files(store, home, ["~/Recordings/REC_0001.m4a"], rebuild, dry_run=True)  # the listing
    report = forget.forget_files(store, home, ["~/Recordings/REC_0001.m4a"], rebuild)     # forgets

A file leaves: its episodes at every scale; the days and photo sessions whose `sources` list it
(made anew from their other members by `rebuild`, the same consolidation that made them, or
deleted when none remain); its faces, and the people left with no face (the others recounted from
the faces they keep); its "last seen" sightings (a record one of them had closed is closed by the
next remaining sighting, or is current again); its place in visits (position, span and keywords
recomputed from the other files, an emptied visit deleted); its visual memory; home/thumbs/<id>/
(thumbnail, keyframes, face crops); the copy the app made of an upload (home/uploads/); its lines
in home/budget.log; its media row, last. A person leaves their faces, their record, their crops and
their name from episodes' `people` lists and "People:" lines. Then every table is purged
(`lifelog.vacuum.purge`): old versions, rewritten fragments, rebuilt indexes, so the bytes are gone.
The user's own files are never touched (ingesting them again brings them back).

Crash safety: everything happens under the library's writer lock. Before any delete, the plan
(media ids, people, and every row set it will change) is written to `home/forget-pending.json`
(a temporary file, fsync, os.replace). Each step after it is idempotent (deletes by id, recounts
and recomputations from what remains), derived rows go before the media row, and the journal goes
last. A run killed anywhere leaves the journal; the next forget or ingest (`finish_pending`) runs
the same plan again from the start, and the store ends as if the first run had finished.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import pyarrow as pa

from ingest.hashing import file_hash
from ingest.options import text_path
from ingest.records import MediaRecord
from lifelog import budget, vacuum
from lifelog.db import CONSOLIDATED_TABLE, FACES_TABLE, THINGS_TABLE, VISUAL_TABLE, VOICES_TABLE, consolidated_schema
from lifelog.semantic import people, places, things, voices
from lifelog.sql import in_list, quote, ts, utc

if TYPE_CHECKING:
    from lifelog.store import Store

JOURNAL = "forget-pending.json"
STEP_DELAY_ENV = "LIFELOG_TEST_STEP_DELAY"  # tests only: seconds to sleep before each step
# rebuild(media ids): make the days and photo sessions of these files anew (Memory's consolidation)
Rebuild = Callable[[list[str]], None]


@dataclass
class ForgetPlan:
    """What one forget removes and changes; written as the journal before anything is deleted."""

    media_ids: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # of media_ids, in the same order
    person_ids: list[str] = field(default_factory=list)  # people forgotten as such
    labels: list[str] = field(default_factory=list)  # their names or labels, for the listing
    names: list[str] = field(default_factory=list)  # names to take out of episodes (if nobody keeps them)
    person_episodes: list[str] = field(default_factory=list)  # episodes their faces were seen in
    crops: list[str] = field(default_factory=list)  # their face crops, relative to home
    people: list[str] = field(default_factory=list)  # people who lose faces: recounted
    things: list[str] = field(default_factory=list)  # things whose sightings go
    visits: list[str] = field(default_factory=list)  # visits that list a file
    parents: list[str] = field(default_factory=list)  # days and photo sessions that list a file
    rebuild: list[str] = field(default_factory=list)  # the other members of those
    uploads: list[str] = field(default_factory=list)  # copies the app made, under home/uploads
    counts: dict[str, int] = field(default_factory=dict)  # rows that go: episodes, faces, things, visual
    unknown: list[str] = field(default_factory=list)  # asked for, not in memory
    bytes_before: int = 0

    @property
    def empty(self) -> bool:
        return not self.media_ids and not self.person_ids


@dataclass
class ForgetReport:
    files: list[str]
    media_ids: list[str]
    people: list[str]  # people forgotten as such
    episodes: int  # the files' own episodes
    days: int  # days and photo sessions rebuilt or removed
    faces: int
    people_removed: int  # people left with no face (the forgotten ones included)
    things: int
    visits: int  # visits removed
    visits_changed: int
    visual: int
    bytes_freed: int
    dry_run: bool = False
    resumed: bool = False  # finished a forget that a crash had interrupted
    unknown: list[str] = field(default_factory=list)

    def summary(self) -> str:
        what = [f"{len(self.files)} file{'s' * (len(self.files) != 1)}"] if self.files or not self.people else []
        what += [f"person {p}" for p in self.people]
        rows = (f"{self.episodes} episodes, {self.days} days/photo sessions rebuilt or removed, {self.faces} faces, "
                f"{self.things} things")
        if self.dry_run:
            return f"Would forget {' and '.join(what)}: {rows}; {self.visits_changed} visits change."
        return (f"Forgot {' and '.join(what)}: {rows}; {self.visits} visits removed, {self.visits_changed} changed; "
                f"{self.people_removed} people removed; {self.bytes_freed / 1e6:.2f} MB freed.")


# --- what to forget ------------------------------------------------------------------------------
def parse_when(text: str, zone: tzinfo, *, end: bool = False) -> datetime:
    """A local date ("2025-06-14": its midnight, or the next one for the end of a span) or an ISO
    time ("2025-06-14T08:00", "...+01:00"); times without an offset are in `zone`."""
    text = text.strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
        when = datetime.combine(day, datetime.min.time()) + timedelta(days=1 if end else 0) if day else \
            datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (2025-06-14) or an ISO time (2025-06-14T08:00)") from None
    return when.replace(tzinfo=zone) if when.tzinfo is None else when


def resolve_files(store: "Store", items: Iterable[str | Path]) -> tuple[list[MediaRecord], list[str]]:
    """Files in memory by media id, path, folder (every file under it) or content (a moved copy).
    Returns (the files, oldest first; the items that matched none)."""
    media = store.all_media()
    by_id = {m.media_id: m for m in media}
    found: dict[str, MediaRecord] = {}
    unknown: list[str] = []
    for item in items:
        text = str(item)
        p = Path(text).expanduser()
        names = {str(p.absolute()), str(p.resolve()) if p.exists() else str(p.absolute())}
        prefixes = tuple(n.rstrip(os.sep) + os.sep for n in names)
        hits = [by_id[text]] if text in by_id else [m for m in media if m.path in names or m.path.startswith(prefixes)]
        if not hits and p.is_file():
            digest = file_hash(p)
            hits = [by_id[digest]] if digest in by_id else []
        if not hits:
            unknown.append(text)
        found.update((m.media_id, m) for m in hits)
    return sorted(found.values(), key=_time), unknown


def resolve_span(store: "Store", start: datetime, end: datetime) -> list[MediaRecord]:
    """Files whose capture overlaps [start, end): taken in it, or recording through its start."""
    lo, hi = utc(start), utc(end)
    media = store.all_media(f"captured_at >= {ts(lo - timedelta(days=2))} AND captured_at < {ts(hi)}")  # type: ignore[operator]
    out = [m for m in media if utc(m.captured_at) >= lo  # type: ignore[operator]
           or utc(m.captured_at) + timedelta(seconds=m.duration_s or 0) > lo]  # type: ignore[operator]
    return sorted(out, key=_time)


def _time(m: MediaRecord) -> tuple:
    return (m.captured_at is None, utc(m.captured_at).timestamp() if m.captured_at else 0.0, m.path)


def _count(store: "Store", table: str, where: str) -> int:
    return store.table(table).count_rows(where) if store.has_table(table) else 0


def plan_files(store: "Store", home: Path, media: Iterable[MediaRecord], unknown: Iterable[str] = ()) -> ForgetPlan:
    """The plan for forgetting some files (reads only)."""
    media = list(media)
    ids = [m.media_id for m in media]
    plan = ForgetPlan(media_ids=ids, paths=[m.path for m in media], unknown=list(unknown))
    if not ids:
        return plan
    gone = set(ids)
    parents = [r for r in store.episodes("media_id = ''", columns=["episode_id", "sources"])
               if any(s["media_id"] in gone for s in r["sources"] or [])]
    plan.parents = sorted(r["episode_id"] for r in parents)
    plan.rebuild = sorted({s["media_id"] for r in parents for s in r["sources"] or []} - gone)
    plan.people = people.people_of_media(store, ids)
    plan.names = sorted({p.name for p in people.load_people(store, in_list("person_id", plan.people)) if p.name})
    plan.things = things.things_of_media(store, ids)
    plan.visits = places.visits_of_media(store, ids)
    uploads = (home / "uploads").resolve()
    plan.uploads = [m.path for m in media if uploads in text_path(m.path).resolve().parents]
    where = in_list("media_id", ids)
    plan.counts = {"episodes": store.episode_table.count_rows(where), "faces": _count(store, FACES_TABLE, where),
                   "things": _count(store, THINGS_TABLE, where), "visual": _count(store, VISUAL_TABLE, where)}
    return plan


def plan_person(store: "Store", ref: str) -> ForgetPlan:
    """The plan for forgetting a person (by id, id suffix or name): faces, record, crops, name."""
    p = people.find_person(store, ref)
    faces = store.table(FACES_TABLE).search().where(f"person_id = {quote(p.person_id)}") \
        .select(["episode_id", "media_id", "crop"]).limit(None).to_list()
    n_faces = len(faces)
    # their voices: the segments they speak in lose the name, their files' days are made anew
    faces += [{"episode_id": e, "media_id": v["media_id"], "crop": ""}
              for v in voices.person_voices(store, p.person_id) for e in v["episode_ids"] or []]
    # their files' days and photo sessions are made anew: their text and vector held the name
    return ForgetPlan(person_ids=[p.person_id], labels=[p.label], names=[p.name] if p.name else [],
                      person_episodes=sorted({f["episode_id"] for f in faces}),
                      rebuild=sorted({f["media_id"] for f in faces}),
                      crops=sorted({f["crop"] for f in faces if f["crop"]} | ({p.cover} if p.cover else set())),
                      counts={"faces": n_faces, "voices": len({f["media_id"] for f in faces[n_faces:]})})


# --- the journal -----------------------------------------------------------------------------------
def journal_path(home: Path) -> Path:
    return home / JOURNAL


def _write_journal(home: Path, plan: ForgetPlan) -> None:
    """Atomically: a reader (the next run) sees the whole plan or no plan."""
    path = journal_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"version": 1, **asdict(plan)}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(home: Path) -> ForgetPlan | None:
    """The plan of a forget that a crash interrupted, or None."""
    path = journal_path(home)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("version", None)
    return ForgetPlan(**data)


# --- forgetting --------------------------------------------------------------------------------------
def forget(store: "Store", home: Path, select: Callable[[], ForgetPlan], rebuild: Rebuild, *,
           dry_run: bool = False) -> ForgetReport:
    """Finish a pending forget, plan what `select` names, and forget it everywhere (module
    docstring), all under the writer lock. dry_run: only the plan's listing (nothing is written)."""
    if dry_run:
        return _dry(select())
    with store.lock:
        resumed = finish_pending(store, home, rebuild)
        plan = select()  # after the pending one: a plan is made on a store with no half-done forget
        if plan.empty:  # nothing (more) to forget: the interrupted forget's report, if there was one
            report = resumed or _report(plan, 0, (0, 0), (0, 0))
        else:
            plan.bytes_before = _derived(home) + sum(Path(p).stat().st_size for p in plan.uploads if Path(p).is_file())
            _step("journal")
            _write_journal(home, plan)
            report = _execute(store, home, plan, rebuild)
        report.resumed = resumed is not None
        return report


def forget_files(store: "Store", home: Path, items: Iterable[str | Path], rebuild: Rebuild, *,
                 dry_run: bool = False) -> ForgetReport:
    """Forget files by path, folder, media id or content (`resolve_files`)."""
    def select() -> ForgetPlan:
        media, unknown = resolve_files(store, items)
        return plan_files(store, home, media, unknown)
    return forget(store, home, select, rebuild, dry_run=dry_run)


def forget_span(store: "Store", home: Path, start: datetime, end: datetime, rebuild: Rebuild, *,
                dry_run: bool = False) -> ForgetReport:
    """Forget every file whose capture overlaps [start, end) (`resolve_span`)."""
    return forget(store, home, lambda: plan_files(store, home, resolve_span(store, start, end)), rebuild,
                  dry_run=dry_run)


def forget_person(store: "Store", home: Path, ref: str, rebuild: Rebuild, *, dry_run: bool = False) -> ForgetReport:
    """Forget a person: faces, record, crops, name (`plan_person`); KeyError for an unknown ref."""
    return forget(store, home, lambda: plan_person(store, ref), rebuild, dry_run=dry_run)


def finish_pending(store: "Store", home: Path, rebuild: Rebuild) -> ForgetReport | None:
    """Finish a forget that a crash interrupted (under the lock); None when there is none."""
    with store.lock:
        plan = pending(home)
        if plan is None:  # a run killed while writing its journal had deleted nothing: only its draft goes
            journal_path(home).with_name(JOURNAL + ".tmp").unlink(missing_ok=True)
            return None
        report = _execute(store, home, plan, rebuild)
        report.resumed = True
        return report


def _step(name: str) -> None:
    """Tests only ($LIFELOG_TEST_STEP_DELAY): say which step begins (stderr) and wait, so that a
    test's kill at a random moment lands in any step, not mostly in the longest one."""
    delay = os.environ.get(STEP_DELAY_ENV)
    if delay:
        print(f"lifelog-forget-step {name}", file=sys.stderr, flush=True)
        time.sleep(float(delay))


def _derived(home: Path) -> int:
    return budget.derived_bytes(home)


def _execute(store: "Store", home: Path, plan: ForgetPlan, rebuild: Rebuild) -> ForgetReport:
    ids, gone = plan.media_ids, in_list("media_id", plan.media_ids)
    faces_t = store.table(FACES_TABLE)
    _step("visual")
    if ids and store.has_table(VISUAL_TABLE):
        store.table(VISUAL_TABLE).delete(gone)
    _step("faces")
    if ids:
        faces_t.delete(gone)
    if ids and store.has_table(VOICES_TABLE):
        store.table(VOICES_TABLE).delete(gone)
    if plan.person_ids:
        faces_t.delete(in_list("person_id", plan.person_ids))
        if store.has_table(VOICES_TABLE):
            store.table(VOICES_TABLE).delete(in_list("person_id", plan.person_ids))
        people.sync_episode_people(store, plan.person_episodes)
    _step("people")
    recounted = people.recount_people(store, sorted(set(plan.people) | set(plan.person_ids)))
    people.drop_names(store, plan.names)
    _step("things")
    things.forget_sightings(store, ids, plan.things)
    _step("visits")
    visits = places.drop_from_visits(store, plan.visits, ids)
    _step("episodes")
    if ids:
        store.delete_episodes(gone)
    _step("days")
    if plan.rebuild:
        rebuild(plan.rebuild)
    if plan.parents:  # those that no remaining file keeps (a rebuilt one lists only remaining files)
        left = [r["episode_id"] for r in store.episodes(in_list("episode_id", plan.parents), columns=["episode_id", "sources"])
                if any(s["media_id"] in set(ids) for s in r["sources"] or [])]
        if left:
            store.delete_episodes(in_list("episode_id", left))
    _step("files")
    for mid in ids:
        shutil.rmtree(home / "thumbs" / mid, ignore_errors=True)
    if store.assets is not None:  # a remote library's pictures (and this machine's cache of them)
        store.assets.delete(ids)
    for path in plan.uploads:
        Path(path).unlink(missing_ok=True)
    for crop in plan.crops:
        (home / crop).unlink(missing_ok=True)
    budget.forget_lines(home, ids)
    _step("media")
    if ids:
        if store.has_table(CONSOLIDATED_TABLE):  # rewritten whole: a delete's predicate would keep the ids on disk
            marks = store.table(CONSOLIDATED_TABLE)
            keep = [r for r in marks.search().limit(None).to_list() if r["media_id"] not in set(ids)]
            marks.add(pa.Table.from_pylist(keep, schema=consolidated_schema()), mode="overwrite")
        store.media_table.delete(gone)
    _step("purge")
    for name in store.database.table_names():
        vacuum.purge(store.table(name), store.database.table_folder(name))
    store.episodes_changed()
    journal_path(home).unlink(missing_ok=True)
    _fsync_dir(home)
    return _report(plan, max(0, plan.bytes_before - _derived(home)), recounted, visits)


def _report(plan: ForgetPlan, freed: int, recounted: tuple[int, int], visits: tuple[int, int]) -> ForgetReport:
    c = plan.counts
    return ForgetReport(files=list(plan.paths), media_ids=list(plan.media_ids), people=list(plan.labels),
                        episodes=c.get("episodes", 0), days=len(plan.parents), faces=c.get("faces", 0),
                        people_removed=recounted[1], things=c.get("things", 0), visits=visits[1],
                        visits_changed=visits[0], visual=c.get("visual", 0), bytes_freed=freed, unknown=list(plan.unknown))


def _dry(plan: ForgetPlan) -> ForgetReport:
    report = _report(plan, 0, (0, 0), (len(plan.visits), 0))
    report.dry_run = True
    return report
