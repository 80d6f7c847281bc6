"""People by face and voice: faces kept at ingestion, clustered incrementally into persons the user
names, merges, splits and hides; the agent's lookups of who was seen where and when.

Names live on persons and faces are assigned by embedding, so re-ingesting or adding media keeps
every name. Assignment reads only the people table (one row per person) and the new faces. A voice
(lifelog/semantic/voices.py) belongs to a person too: one heard but never seen is a person with no
face, and merging a voice's person into a face's makes them one record. The module stays whole:
naming, merging, recounting and forgetting act on one person record, whatever it was found by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from ingest.records import FaceRecord, MediaRecord
from lifelog.db import (
    FACE_DIM,
    FACES_TABLE,
    PEOPLE_TABLE,
    VOICES_TABLE,
    faces_schema,
    people_schema,
    replace,
    upsert,
)
from lifelog.sql import in_list, quote, ts, utc

if TYPE_CHECKING:
    from lifelog.store import Store

# dlib's descriptor: the same person is usually within 0.6 (its documented threshold); 0.55 trades
# a few split clusters (which the user can merge) for fewer mixed ones (which need a split)
SAME_PERSON = 0.55


@dataclass
class Person:
    person_id: str
    name: str  # "" until the user names them
    hidden: bool
    n_faces: int
    centroid: np.ndarray  # mean of the member faces' descriptors
    first_seen: datetime | None
    last_seen: datetime | None
    cover: str = ""  # a face crop, relative to the library home

    @property
    def label(self) -> str:
        return self.name or f"unnamed {'person' if self.n_faces else 'voice'} {self.person_id[-6:]}"


@dataclass
class Sighting:
    """A person seen in one episode."""

    person: str
    time: datetime
    episode_id: str
    media_id: str
    offset_s: float
    crop: str


@dataclass
class Assignment:
    """What one consolidation did to people: faces assigned, people opened and changed."""

    faces: int = 0
    new_people: list[str] = field(default_factory=list)
    people_updated: int = 0


# --- the faces of one file, written in its unit of work ---------------------------------------
def write_faces(store: "Store", media: MediaRecord, faces: Sequence[FaceRecord]) -> None:
    """Replace one file's faces (unassigned: consolidation clusters them). Called by
    `lifelog.writer.FileWriter.write` under the lock, before the media row: the media row stays the commit marker."""
    start = utc(media.captured_at)
    rows = [{
        "face_id": f.face_id, "media_id": f.media_id, "episode_id": f.episode_id,
        "time": start + timedelta(seconds=f.offset_s) if start else None, "offset_s": f.offset_s,
        "box": [float(v) for v in f.box], "score": float(f.score),
        "embedding": np.asarray(f.embedding, np.float32), "crop": f.crop, "person_id": "",
    } for f in faces]
    replace(store.table(FACES_TABLE), "face_id", pa.Table.from_pylist(rows, schema=faces_schema()),
            f"media_id = {quote(media.media_id)}")


def detect_faces(store: "Store", media: MediaRecord, face_model: Any, home: Path) -> list[FaceRecord]:
    """Faces in a file's stored keyframes, for libraries ingested before faces were kept.

    Keyframes are the small JPEGs under home/thumbs/<media_id>/key_*.jpg (448 px), so no media is
    decoded again; the segment of each keyframe is taken from its offset in the file name.
    """
    from PIL import Image

    from ingest.describe import face_records

    folder = home / "thumbs" / media.media_id
    keys = sorted(folder.glob("key_*.jpg"))
    if not keys:
        return []
    segments = store.episodes(f"media_id = {quote(media.media_id)} AND scale = 'segment'",
                              columns=["episode_id", "offset_start", "offset_end"])
    out: list[FaceRecord] = []
    for key in keys:
        parts = key.stem.split("_")  # key_0003_00012.50 (video) or key_0000 (photo)
        offset = float(parts[2]) if len(parts) > 2 else 0.0
        seg = next((s["episode_id"] for s in segments if s["offset_start"] <= offset < s["offset_end"]),
                   segments[0]["episode_id"] if segments else f"{media.media_id}:segment:0")
        rgb = np.asarray(Image.open(key).convert("RGB"))
        found = [f for f in face_model.faces(rgb) if f.score >= 0.5 and f.embedding is not None]
        out.extend(face_records(rgb, found, media_id=media.media_id, episode_id=seg, offset_s=offset,
                                folder=folder, home=home, first=len(out)))
    return out


def _new_person_id(face_id: str) -> str:
    return "person-" + hashlib.blake2b(face_id.encode(), digest_size=5).hexdigest()


def load_people(store: "Store", where: str | None = None) -> list[Person]:
    q = store.table(PEOPLE_TABLE).search()
    if where:
        q = q.where(where)
    return [Person(r["person_id"], r["name"] or "", bool(r["hidden"]), int(r["n_faces"]),
                   np.asarray(r["centroid"], np.float32), r["first_seen"], r["last_seen"], r["cover"] or "")
            for r in q.limit(None).to_list()]


def save_people(store: "Store", people: Sequence[Person]) -> None:
    if not people:
        return
    t = store.table(PEOPLE_TABLE)
    upsert(t, "person_id", pa.Table.from_pylist([{
        "person_id": p.person_id, "name": p.name, "hidden": p.hidden, "n_faces": p.n_faces,
        "centroid": np.asarray(p.centroid, np.float32), "first_seen": utc(p.first_seen),
        "last_seen": utc(p.last_seen), "cover": p.cover,
    } for p in people], schema=people_schema()))


def assign_faces(store: "Store", media_ids: Sequence[str]) -> Assignment:
    """Assign the new files' unassigned faces to the nearest person centroid, or open a new person.

    Only the people table (one row per person, not per face) and the new faces are read.
    """
    done = Assignment()
    faces_t = store.table(FACES_TABLE)
    rows = faces_t.search().where(f"{in_list('media_id', media_ids)} AND person_id = ''").limit(None).to_list()
    if not rows:
        return done
    rows.sort(key=lambda r: (r["time"] or datetime.min.replace(tzinfo=timezone.utc), r["face_id"]))
    people = load_people(store)
    centroids = np.stack([p.centroid for p in people]) if people else np.zeros((0, FACE_DIM), np.float32)
    changed: dict[str, Person] = {}
    for r in rows:
        emb = np.asarray(r["embedding"], np.float32)
        best = -1
        if len(people):
            d = np.linalg.norm(centroids - emb, axis=1)
            d[[p.n_faces == 0 for p in people]] = np.inf  # a voice's person has no face to compare
            best = int(np.argmin(d))
            if d[best] >= SAME_PERSON:
                best = -1
        if best < 0:
            p = Person(_new_person_id(r["face_id"]), "", False, 0, emb.copy(), r["time"], r["time"], r["crop"] or "")
            people.append(p)
            centroids = np.vstack([centroids, emb[None]])
            best = len(people) - 1
            done.new_people.append(p.person_id)
        p = people[best]
        # running mean: the centroid moves with each member, no member is re-read
        p.centroid = (p.centroid * p.n_faces + emb) / (p.n_faces + 1)
        p.n_faces += 1
        centroids[best] = p.centroid
        if r["time"] is not None:
            p.first_seen = min(filter(None, [p.first_seen, r["time"]]))
            p.last_seen = max(filter(None, [p.last_seen, r["time"]]))
        p.cover = p.cover or r["crop"] or ""
        r["person_id"] = p.person_id
        changed[p.person_id] = p
    with store.lock:
        upsert(faces_t, "face_id",
               pa.Table.from_pylist([{k: r[k] for k in faces_schema().names} for r in rows], schema=faces_schema()))
        save_people(store, list(changed.values()))
    done.faces, done.people_updated = len(rows), len(changed)
    if any(p.name for p in changed.values()):
        sync_episode_people(store, {r["episode_id"] for r in rows})
    return done


# --- people operations (CLI and UI) --------------------------------------------------------------
def _person(store: "Store", ref: str) -> Person:
    """A person by id, by id suffix (as printed) or by name."""
    people = load_people(store)
    hits = [p for p in people if p.person_id == ref] or [p for p in people if p.person_id.endswith(ref)] \
        or [p for p in people if p.name and p.name.casefold() == ref.casefold()]
    if len(hits) != 1:
        known = ", ".join(p.label for p in people[:10]) or "none yet (run `lifelog consolidate`)"
        what = "no person" if not hits else f"{len(hits)} people"
        raise KeyError(f"{what} matches {ref!r}; known people: {known}")
    return hits[0]


def list_people(store: "Store", *, include_hidden: bool = False) -> list[Person]:
    """Every person, the most often seen first."""
    people = [p for p in load_people(store) if include_hidden or not p.hidden]
    return sorted(people, key=lambda p: (-p.n_faces, p.person_id))


def name_person(store: "Store", ref: str, name: str) -> Person:
    """Name a person; their episodes' `people` lists (and full-text) then carry the name."""
    name = name.strip()
    if not name:
        raise ValueError("a name cannot be empty; use `lifelog people hide` to hide someone")
    p = _person(store, ref)
    p.name = name
    save_people(store, [p])
    sync_episode_people(store, _episodes_of(store, [p.person_id]))
    return p


def hide_person(store: "Store", ref: str, hidden: bool = True) -> Person:
    """Hide a person (a stranger in the background): not listed, not named in answers."""
    p = _person(store, ref)
    p.hidden = hidden
    save_people(store, [p])
    sync_episode_people(store, _episodes_of(store, [p.person_id]))
    return p


def merge_people(store: "Store", keep: str, other: str) -> Person:
    """Move every face of `other` into `keep`; the merged person keeps `keep`'s name, else `other`'s."""
    a, b = _person(store, keep), _person(store, other)
    if a.person_id == b.person_id:
        return a
    with store.lock:
        store.table(FACES_TABLE).update(where=f"person_id = {quote(b.person_id)}", values={"person_id": a.person_id})
        if store.has_table(VOICES_TABLE):  # a face and a voice made one person
            store.table(VOICES_TABLE).update(where=f"person_id = {quote(b.person_id)}", values={"person_id": a.person_id})
        n = a.n_faces + b.n_faces
        a.centroid = (a.centroid * a.n_faces + b.centroid * b.n_faces) / max(1, n)
        a.n_faces, a.name = n, a.name or b.name
        a.first_seen = min(filter(None, [a.first_seen, b.first_seen]), default=None)
        a.last_seen = max(filter(None, [a.last_seen, b.last_seen]), default=None)
        save_people(store, [a])
        store.table(PEOPLE_TABLE).delete(f"person_id = {quote(b.person_id)}")
    sync_episode_people(store, _episodes_of(store, [a.person_id]))
    return a


def split_person(store: "Store", ref: str, face_ids: Sequence[str]) -> Person:
    """Move the given faces of a person into a new, unnamed person; both centroids are recomputed
    from their faces (reads only this person's faces)."""
    p = _person(store, ref)
    faces_t = store.table(FACES_TABLE)
    rows = faces_t.search().where(f"person_id = {quote(p.person_id)}").limit(None).to_list()
    moving = [r for r in rows if r["face_id"] in set(face_ids)]
    staying = [r for r in rows if r["face_id"] not in set(face_ids)]
    if not moving or not staying:
        raise ValueError(f"split {p.label}: give some but not all of its {len(rows)} face ids "
                         f"(`lifelog people list --faces` shows them)")
    new = Person(_new_person_id(moving[0]["face_id"] + ":split"), "", False, 0, np.zeros(FACE_DIM, np.float32),
                 None, None, moving[0]["crop"] or "")
    for person, members in ((p, staying), (new, moving)):
        person.n_faces = len(members)
        person.centroid = np.mean([np.asarray(r["embedding"], np.float32) for r in members], axis=0)
        times = [r["time"] for r in members if r["time"] is not None]
        person.first_seen, person.last_seen = (min(times), max(times)) if times else (None, None)
    with store.lock:
        faces_t.update(where=in_list("face_id", [r["face_id"] for r in moving]), values={"person_id": new.person_id})
        save_people(store, [p, new])
    sync_episode_people(store, {r["episode_id"] for r in moving})
    return new


def person_faces(store: "Store", ref: str) -> list[dict]:
    """A person's faces (face_id, time, episode_id, crop), in time order."""
    p = _person(store, ref)
    rows = store.table(FACES_TABLE).search().where(f"person_id = {quote(p.person_id)}") \
        .select(["face_id", "time", "episode_id", "media_id", "offset_s", "crop"]).limit(None).to_list()
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"]))


def _episodes_of(store: "Store", person_ids: Sequence[str]) -> set[str]:
    rows = store.table(FACES_TABLE).search().where(in_list("person_id", person_ids)).select(["episode_id"]).limit(None).to_list()
    return {r["episode_id"] for r in rows} | {e for v in _voices(store, in_list("person_id", person_ids))
                                              for e in v["episode_ids"] or []}


def _voices(store: "Store", where: str) -> list[dict]:
    """Voice rows (person_id, episode_ids, time) matching `where`; none before any was kept."""
    if not store.has_table(VOICES_TABLE):
        return []
    return store.table(VOICES_TABLE).search().where(where).select(["person_id", "episode_ids", "time", "media_id"]) \
        .limit(None).to_list()


PEOPLE_LINE = "\nPeople: "


def sync_episode_people(store: "Store", episode_ids: Iterable[str]) -> int:
    """Write the names of the visible, named people seen in each episode into its `people` list
    and a "People: ..." line of its text (what full-text search reads). Returns episodes changed."""
    episode_ids = sorted(set(episode_ids))
    if not episode_ids:
        return 0
    faces = store.table(FACES_TABLE).search().where(in_list("episode_id", episode_ids)) \
        .select(["episode_id", "person_id"]).limit(None).to_list()
    wanted_ids = set(episode_ids)  # a voice speaks in some of its file's segments: those carry its name
    faces += [{"episode_id": e, "person_id": v["person_id"]}
              for v in _voices(store, in_list("media_id", {e.split(":", 1)[0] for e in episode_ids}))
              for e in v["episode_ids"] or [] if e in wanted_ids and v["person_id"]]
    names = {p.person_id: p.name for p in load_people(store, in_list("person_id", {f["person_id"] for f in faces}))
             if p.name and not p.hidden}
    wanted: dict[str, list[str]] = {e: [] for e in episode_ids}
    for f in faces:
        name = names.get(f["person_id"])
        if name and name not in wanted[f["episode_id"]]:
            wanted[f["episode_id"]].append(name)
    rows = store.episodes(in_list("episode_id", episode_ids), columns=["episode_id", "people", "text"])
    changed = 0
    with store.lock:
        for r in rows:
            people = sorted(wanted.get(r["episode_id"], []))
            if list(r["people"] or []) == people:
                continue
            _set_people(store, r, people)
            changed += 1
        store.episodes_changed()  # the full-text index must see the new words
    return changed


def _set_people(store: "Store", row: dict, people: list[str]) -> None:
    """One episode's `people` list and the "People: ..." line of its text (under the lock)."""
    text = (row["text"] or "").split(PEOPLE_LINE)[0] + (PEOPLE_LINE + ", ".join(people) if people else "")
    where = f"episode_id = {quote(row['episode_id'])}"
    if people:
        store.episode_table.update(where=where, values={"people": people, "text": text})
    else:  # LanceDB 0.40 cannot update to an empty list from Python values; SQL can
        store.episode_table.update(where=where, values_sql={
            "people": "arrow_cast(make_array(), 'List(Utf8)')", "text": quote(text)})


# --- questions the agent asks ---------------------------------------------------------------------
def who_is(store: "Store", episode_id: str) -> list[str]:
    """The visible people seen in an episode (any scale): names, or "unnamed person <id>"."""
    ep = store.episode(episode_id)
    if ep is None:
        raise KeyError(f"no episode {episode_id!r}")
    if ep["media_id"]:
        where = (f"media_id = {quote(ep['media_id'])} AND offset_s >= {float(ep['offset_start'] or 0)}"
                 f" AND offset_s <= {float(ep['offset_end'] or 0)}")
    else:
        where = f"time >= {ts(ep['start'])} AND time <= {ts(ep['end'])}"
    rows = store.table(FACES_TABLE).search().where(f"{where} AND person_id != ''").select(["person_id"]).limit(None).to_list()
    ids = {r["person_id"] for r in rows}
    if not ids:
        return []
    return sorted(p.label for p in load_people(store, in_list("person_id", ids)) if not p.hidden)


def sightings(store: "Store", person_name: str, start: datetime | None = None, end: datetime | None = None) -> list[Sighting]:
    """Each episode in [start, end) in which a person (by name or id) was seen, in time order."""
    p = _person(store, person_name)
    where = f"person_id = {quote(p.person_id)}"
    if start is not None:
        where += f" AND time >= {ts(start)}"
    if end is not None:
        where += f" AND time < {ts(end)}"
    rows = store.table(FACES_TABLE).search().where(where).limit(None).to_list()
    out: dict[str, Sighting] = {}
    for r in sorted(rows, key=lambda r: r["time"]):
        out.setdefault(r["episode_id"], Sighting(p.label, r["time"], r["episode_id"], r["media_id"],
                                                 float(r["offset_s"] or 0), r["crop"] or ""))
    return list(out.values())


# --- forgetting (lifelog/forget.py runs these under the writer lock) ------------------------------
def find_person(store: "Store", ref: str) -> Person:
    """A person by id, id suffix (as listed) or name; KeyError naming the known people otherwise."""
    return _person(store, ref)


def people_of_media(store: "Store", media_ids: Sequence[str]) -> list[str]:
    """The people some files' faces are assigned to."""
    rows = store.table(FACES_TABLE).search().where(f"{in_list('media_id', media_ids)} AND person_id != ''") \
        .select(["person_id"]).limit(None).to_list()
    rows += _voices(store, f"{in_list('media_id', media_ids)} AND person_id != ''")
    return sorted({r["person_id"] for r in rows})


def recount_people(store: "Store", person_ids: Sequence[str]) -> tuple[int, int]:
    """Recompute each person's count, centroid, first and last seen and cover from the faces they
    still have, and remove those left with none. Idempotent. Returns (updated, removed)."""
    if not person_ids:
        return 0, 0
    faces = store.table(FACES_TABLE).search().where(in_list("person_id", person_ids)) \
        .select(["face_id", "person_id", "time", "embedding", "crop"]).limit(None).to_list()
    by_person: dict[str, list[dict]] = {}
    for f in sorted(faces, key=lambda f: f["face_id"]):
        by_person.setdefault(f["person_id"], []).append(f)
    keep: list[Person] = []
    gone: list[str] = []
    heard: dict[str, list] = {}
    for v in _voices(store, in_list("person_id", person_ids)):
        heard.setdefault(v["person_id"], []).append(v["time"])
    for p in load_people(store, in_list("person_id", person_ids)):
        members = by_person.get(p.person_id)
        if not members and p.person_id in heard:  # heard, never seen: a person with no face
            times = [t for t in heard[p.person_id] if t is not None]
            p.n_faces, p.cover = 0, ""
            p.first_seen, p.last_seen = (min(times), max(times)) if times else (None, None)
            keep.append(p)
            continue
        if not members:
            gone.append(p.person_id)
            continue
        p.n_faces = len(members)
        p.centroid = np.mean([np.asarray(f["embedding"], np.float32) for f in members], axis=0).astype(np.float32)
        times = [f["time"] for f in members if f["time"] is not None]
        p.first_seen, p.last_seen = (min(times), max(times)) if times else (None, None)
        crops = [f["crop"] for f in sorted(members, key=lambda f: (f["time"] is None, f["time"], f["face_id"])) if f["crop"]]
        p.cover = p.cover if p.cover in crops else (crops[0] if crops else "")
        keep.append(p)
    with store.lock:
        save_people(store, keep)
        if gone:
            store.table(PEOPLE_TABLE).delete(in_list("person_id", gone))
    return len(keep), len(gone)


def drop_names(store: "Store", names: Sequence[str]) -> int:
    """Take names that no remaining visible person carries out of every episode's `people` list and
    "People:" line (the coarser episodes that summarised a forgotten person's segments). Returns
    episodes changed."""
    carried = {p.name for p in load_people(store) if p.name and not p.hidden}
    names = sorted({n for n in names if n and n not in carried})
    if not names:
        return 0
    where = " OR ".join(f"array_has(people, {quote(n)})" for n in names)
    rows = store.episodes(where, columns=["episode_id", "people", "text"])
    with store.lock:
        for r in rows:
            _set_people(store, r, [n for n in (r["people"] or []) if n not in names])
        store.episodes_changed()
    return len(rows)
