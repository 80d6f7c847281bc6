"""Semantic memory: what is true over time, kept beside the episodes (WorldMM's semantic memory,
LightMem's "sleep-time" consolidation; ../shared/DESIGN.md).

- People: faces (128-d dlib descriptors) clustered incrementally into persons; the user names,
  merges, splits and hides persons. Names live on persons, and faces are assigned by embedding, so
  re-ingesting or adding media keeps every name.
- Places: visits, a stay at one place over a time span, from geotagged files.
- Things: "last seen" records from tags, OCR rows and objects named in speech; a newer sighting
  closes the older record (sets valid_to) without deleting it.

`consolidate(mem, new_media)` looks only at the new files' faces, episodes and positions, and
updates centroids and records in place: its cost grows with what is new, not with the library.

    from lifelog import semantic
    report = semantic.consolidate(mem, new_media)
    semantic.name_person(mem, report.new_people[0], "Anna")
    semantic.last_seen(mem, "keys")           # ThingRecord: where, when, the evidence
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from ingest.records import FaceRecord, MediaRecord

if TYPE_CHECKING:
    from lifelog.memory import Memory
    from lifelog.store import Store

FACES_TABLE = "faces"
PEOPLE_TABLE = "people"
VISITS_TABLE = "visits"
THINGS_TABLE = "things"
TS = pa.timestamp("us", tz="UTC")
FACE_DIM = 128
# dlib's descriptor: the same person is usually within 0.6 (its documented threshold); 0.55 trades
# a few split clusters (which the user can merge) for fewer mixed ones (which need a split)
SAME_PERSON = 0.55
# a visit continues while the next file is this close in space and time
VISIT_KM = 1.0
VISIT_GAP = timedelta(hours=2)
# objects people ask "where did I leave ...?" about; found in transcripts (singular forms)
COMMON_OBJECTS = (
    "key", "keys", "mug", "cup", "phone", "wallet", "glasses", "sunglasses", "umbrella", "bag", "backpack",
    "laptop", "charger", "passport", "ticket", "book", "bottle", "jacket", "coat", "hat", "watch", "ring",
    "headphones", "earbuds", "remote", "camera", "bike", "car", "purse", "notebook", "pen", "scarf",
)
COLOURS = ("red", "blue", "green", "yellow", "black", "white", "grey", "gray", "brown", "orange", "pink",
           "purple", "silver", "gold", "old", "new", "little", "big", "small")
# words a place question may use that GeoNames never names: matched against the visit's tags and speech
PLACE_WORDS = {
    "beach": ("beach", "seashore", "sandbar", "coast", "sea", "ocean", "shore"),
    "mountains": ("mountain", "alp", "valley", "cliff", "volcano"),
    "park": ("park", "garden"),
    "cafe": ("cafe", "café", "coffee", "espresso"),
}


# --- typed records ---------------------------------------------------------------------------
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
        return self.name or f"unnamed person {self.person_id[-6:]}"


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
class Visit:
    """A stay at one place: consecutive geotagged files within VISIT_KM and VISIT_GAP of each other."""

    visit_id: str
    place: str  # "Cascais, Lisbon, Portugal"
    lat: float
    lon: float
    start: datetime
    end: datetime
    n_points: int
    media_ids: list[str]
    keywords: str  # tags and spoken words of its files, for "the beach", "the café"


@dataclass
class ThingRecord:
    """One sighting of a thing, valid from its time until a newer sighting (valid_to None: current)."""

    thing: str  # "key", "blue mug", "espresso", an OCR row
    source: str  # tag, ocr, speech
    time: datetime
    place: str
    evidence: str  # the sentence or OCR row that names it
    episode_id: str
    media_id: str
    offset_s: float
    valid_from: datetime
    valid_to: datetime | None


@dataclass
class ConsolidationReport:
    faces: int = 0
    new_people: list[str] = field(default_factory=list)
    people_updated: int = 0
    visits: int = 0
    things: int = 0
    seconds: float = 0.0


# --- tables ----------------------------------------------------------------------------------
def faces_schema() -> pa.Schema:
    return pa.schema([
        pa.field("face_id", pa.string(), nullable=False),
        pa.field("media_id", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("time", TS),
        pa.field("offset_s", pa.float64()),
        pa.field("box", pa.list_(pa.float32(), 4)),
        pa.field("score", pa.float32()),
        pa.field("embedding", pa.list_(pa.float32(), FACE_DIM)),
        pa.field("crop", pa.string()),
        pa.field("person_id", pa.string()),  # "" until consolidation assigns one
    ])


def people_schema() -> pa.Schema:
    return pa.schema([
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("hidden", pa.bool_()),
        pa.field("n_faces", pa.int64()),
        pa.field("centroid", pa.list_(pa.float32(), FACE_DIM)),
        pa.field("first_seen", TS),
        pa.field("last_seen", TS),
        pa.field("cover", pa.string()),
    ])


def visits_schema() -> pa.Schema:
    return pa.schema([
        pa.field("visit_id", pa.string(), nullable=False),
        pa.field("place", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("start", TS),
        pa.field("end", TS),
        pa.field("n_points", pa.int64()),
        pa.field("media_ids", pa.list_(pa.string())),
        pa.field("keywords", pa.string()),
    ])


def things_schema() -> pa.Schema:
    return pa.schema([
        pa.field("thing", pa.string()),
        pa.field("source", pa.string()),
        pa.field("time", TS),
        pa.field("place", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("media_id", pa.string()),
        pa.field("offset_s", pa.float64()),
        pa.field("valid_from", TS),
        pa.field("valid_to", TS),
    ])


_SCHEMAS = {FACES_TABLE: faces_schema, PEOPLE_TABLE: people_schema, VISITS_TABLE: visits_schema,
            THINGS_TABLE: things_schema}


def table(store: "Store", name: str) -> Any:
    """One of the semantic tables in the store's database, created empty on first use."""
    names = store.table_names()
    if name not in names:
        try:
            store.db.create_table(name, schema=_SCHEMAS[name]())
        except ValueError:  # another thread made it meanwhile
            pass
    return store.db.open_table(name)


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN (" + ", ".join(_q(v) for v in values) + ")"


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _ts(t: datetime) -> str:
    return "timestamp '" + _utc(t).strftime("%Y-%m-%d %H:%M:%S") + "'"  # type: ignore[union-attr]


# --- the Store.write hook ---------------------------------------------------------------------
def write_faces(store: "Store", media: MediaRecord, faces: Sequence[FaceRecord]) -> None:
    """Replace one file's faces (unassigned: consolidation clusters them). Called by Store.write
    under its lock, before the media row: the media row stays the commit marker."""
    t = table(store, FACES_TABLE)
    t.delete(f"media_id = {_q(media.media_id)}")
    if not faces:
        return
    start = _utc(media.captured_at)
    rows = [{
        "face_id": f.face_id, "media_id": f.media_id, "episode_id": f.episode_id,
        "time": start + timedelta(seconds=f.offset_s) if start else None, "offset_s": f.offset_s,
        "box": [float(v) for v in f.box], "score": float(f.score),
        "embedding": np.asarray(f.embedding, np.float32), "crop": f.crop, "person_id": "",
    } for f in faces]
    t.add(pa.Table.from_pylist(rows, schema=faces_schema()))


def detect_faces(mem: "Memory", media: MediaRecord) -> list[FaceRecord]:
    """Faces in a file's stored keyframes, for libraries ingested before faces were kept.

    Keyframes are the small JPEGs under home/thumbs/<media_id>/key_*.jpg (448 px), so no media is
    decoded again; the segment of each keyframe is taken from its offset in the file name.
    """
    from PIL import Image

    from ingest.describe import face_records

    folder = mem.settings.thumbs_dir / media.media_id
    keys = sorted(folder.glob("key_*.jpg"))
    if not keys:
        return []
    model = mem.model("faces")
    segments = mem.store.episodes(f"media_id = {_q(media.media_id)} AND scale = 'segment'",
                                  columns=["episode_id", "offset_start", "offset_end"])
    out: list[FaceRecord] = []
    for key in keys:
        parts = key.stem.split("_")  # key_0003_00012.50 (video) or key_0000 (photo)
        offset = float(parts[2]) if len(parts) > 2 else 0.0
        seg = next((s["episode_id"] for s in segments if s["offset_start"] <= offset < s["offset_end"]),
                   segments[0]["episode_id"] if segments else f"{media.media_id}:segment:0")
        rgb = np.asarray(Image.open(key).convert("RGB"))
        found = [f for f in model.faces(rgb) if f.score >= 0.5 and f.embedding is not None]
        out.extend(face_records(rgb, found, media_id=media.media_id, episode_id=seg, offset_s=offset,
                                folder=folder, home=mem.settings.home, first=len(out)))
    return out


# --- consolidation ------------------------------------------------------------------------------
def consolidate(mem: "Memory", new_media: Sequence[MediaRecord] | None = None, *,
                detect_missing: bool = False) -> ConsolidationReport:
    """Fold new files into semantic memory: cluster their faces, extend or open visits, and
    record the things they show or mention. Only the new files' rows are read.

    detect_missing: run the face model on the stored keyframes of new files that have no face rows
    (a library ingested before faces were kept, `lifelog consolidate --faces`).
    """
    t0 = time.perf_counter()
    store = mem.store
    if new_media is None:
        new_media = store.all_media("status = 'ok'")
    new_media = [m for m in new_media if m.status == "ok"]
    report = ConsolidationReport()
    if not new_media:
        return report
    ids = [m.media_id for m in new_media]
    if detect_missing:
        faces_t = table(store, FACES_TABLE)
        have = {r["media_id"] for r in faces_t.search().where(_in("media_id", ids)).select(["media_id"]).limit(None).to_list()}
        for m in new_media:
            if m.media_id not in have and m.kind in ("photo", "video"):
                found = detect_faces(mem, m)
                if found:
                    with store.lock:
                        write_faces(store, m, found)
    _people(mem, ids, report)
    episodes = store.episodes(f"{_in('media_id', ids)} AND scale = 'segment'",
                              columns=["episode_id", "media_id", "start", "offset_start", "tags", "ocr",
                                       "transcript", "place", "lat", "lon"])
    _visits(mem, new_media, episodes, report)
    _things(mem, episodes, report)
    _refresh_indexes(store)
    report.seconds = time.perf_counter() - t0
    return report


# the columns consolidation looks rows up by: indexed so that its cost follows the new rows, not the library
_LOOKUPS = {"faces": ("media_id", "person_id"), "things": ("thing", "episode_id")}


def _refresh_indexes(store: "Store") -> None:
    from lancedb.index import BTree

    for name, columns in _LOOKUPS.items():
        t = table(store, name)
        if t.count_rows() == 0:
            continue
        have = {c for i in t.list_indices() for c in i.columns}
        with store.lock:
            for col in columns:
                if col not in have:
                    t.create_index(col, config=BTree())
            if have:
                t.optimize()  # folds the new rows into the indexes and compacts small fragments


def _new_person_id(face_id: str) -> str:
    return "person-" + hashlib.blake2b(face_id.encode(), digest_size=5).hexdigest()


def load_people(store: "Store", where: str | None = None) -> list[Person]:
    q = table(store, PEOPLE_TABLE).search()
    if where:
        q = q.where(where)
    return [Person(r["person_id"], r["name"] or "", bool(r["hidden"]), int(r["n_faces"]),
                   np.asarray(r["centroid"], np.float32), r["first_seen"], r["last_seen"], r["cover"] or "")
            for r in q.limit(None).to_list()]


def _save_people(store: "Store", people: Sequence[Person]) -> None:
    if not people:
        return
    t = table(store, PEOPLE_TABLE)
    t.delete(_in("person_id", [p.person_id for p in people]))
    t.add(pa.Table.from_pylist([{
        "person_id": p.person_id, "name": p.name, "hidden": p.hidden, "n_faces": p.n_faces,
        "centroid": np.asarray(p.centroid, np.float32), "first_seen": _utc(p.first_seen),
        "last_seen": _utc(p.last_seen), "cover": p.cover,
    } for p in people], schema=people_schema()))


def _people(mem: "Memory", media_ids: Sequence[str], report: ConsolidationReport) -> None:
    """Assign the new files' unassigned faces to the nearest person centroid, or open a new person.

    Only the people table (one row per person, not per face) and the new faces are read.
    """
    store = mem.store
    faces_t = table(store, FACES_TABLE)
    rows = faces_t.search().where(f"{_in('media_id', media_ids)} AND person_id = ''").limit(None).to_list()
    if not rows:
        return
    rows.sort(key=lambda r: (r["time"] or datetime.min.replace(tzinfo=timezone.utc), r["face_id"]))
    people = load_people(store)
    centroids = np.stack([p.centroid for p in people]) if people else np.zeros((0, FACE_DIM), np.float32)
    changed: dict[str, Person] = {}
    for r in rows:
        emb = np.asarray(r["embedding"], np.float32)
        best = -1
        if len(people):
            d = np.linalg.norm(centroids - emb, axis=1)
            best = int(np.argmin(d))
            if d[best] >= SAME_PERSON:
                best = -1
        if best < 0:
            p = Person(_new_person_id(r["face_id"]), "", False, 0, emb.copy(), r["time"], r["time"], r["crop"] or "")
            people.append(p)
            centroids = np.vstack([centroids, emb[None]])
            best = len(people) - 1
            report.new_people.append(p.person_id)
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
        faces_t.delete(f"{_in('face_id', [r['face_id'] for r in rows])}")
        faces_t.add(pa.Table.from_pylist([{k: r[k] for k in faces_schema().names} for r in rows], schema=faces_schema()))
        _save_people(store, list(changed.values()))
    report.faces += len(rows)
    report.people_updated = len(changed)
    if any(p.name for p in changed.values()):
        sync_episode_people(mem, {r["episode_id"] for r in rows})


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


def list_people(mem: "Memory", *, include_hidden: bool = False) -> list[Person]:
    """Every person, the most often seen first."""
    people = [p for p in load_people(mem.store) if include_hidden or not p.hidden]
    return sorted(people, key=lambda p: (-p.n_faces, p.person_id))


def name_person(mem: "Memory", ref: str, name: str) -> Person:
    """Name a person; their episodes' `people` lists (and full-text) then carry the name."""
    name = name.strip()
    if not name:
        raise ValueError("a name cannot be empty; use `lifelog people hide` to hide someone")
    p = _person(mem.store, ref)
    p.name = name
    _save_people(mem.store, [p])
    sync_episode_people(mem, _episodes_of(mem.store, [p.person_id]))
    return p


def hide_person(mem: "Memory", ref: str, hidden: bool = True) -> Person:
    """Hide a person (a stranger in the background): not listed, not named in answers."""
    p = _person(mem.store, ref)
    p.hidden = hidden
    _save_people(mem.store, [p])
    sync_episode_people(mem, _episodes_of(mem.store, [p.person_id]))
    return p


def merge_people(mem: "Memory", keep: str, other: str) -> Person:
    """Move every face of `other` into `keep`; the merged person keeps `keep`'s name, else `other`'s."""
    store = mem.store
    a, b = _person(store, keep), _person(store, other)
    if a.person_id == b.person_id:
        return a
    with store.lock:
        table(store, FACES_TABLE).update(where=f"person_id = {_q(b.person_id)}", values={"person_id": a.person_id})
        n = a.n_faces + b.n_faces
        a.centroid = (a.centroid * a.n_faces + b.centroid * b.n_faces) / max(1, n)
        a.n_faces, a.name = n, a.name or b.name
        a.first_seen = min(filter(None, [a.first_seen, b.first_seen]), default=None)
        a.last_seen = max(filter(None, [a.last_seen, b.last_seen]), default=None)
        _save_people(store, [a])
        table(store, PEOPLE_TABLE).delete(f"person_id = {_q(b.person_id)}")
    sync_episode_people(mem, _episodes_of(store, [a.person_id]))
    return a


def split_person(mem: "Memory", ref: str, face_ids: Sequence[str]) -> Person:
    """Move the given faces of a person into a new, unnamed person; both centroids are recomputed
    from their faces (reads only this person's faces)."""
    store = mem.store
    p = _person(store, ref)
    faces_t = table(store, FACES_TABLE)
    rows = faces_t.search().where(f"person_id = {_q(p.person_id)}").limit(None).to_list()
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
        faces_t.update(where=_in("face_id", [r["face_id"] for r in moving]), values={"person_id": new.person_id})
        _save_people(store, [p, new])
    sync_episode_people(mem, {r["episode_id"] for r in moving})
    return new


def person_faces(mem: "Memory", ref: str) -> list[dict]:
    """A person's faces (face_id, time, episode_id, crop), in time order."""
    p = _person(mem.store, ref)
    rows = table(mem.store, FACES_TABLE).search().where(f"person_id = {_q(p.person_id)}") \
        .select(["face_id", "time", "episode_id", "media_id", "offset_s", "crop"]).limit(None).to_list()
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"]))


def _episodes_of(store: "Store", person_ids: Sequence[str]) -> set[str]:
    rows = table(store, FACES_TABLE).search().where(_in("person_id", person_ids)).select(["episode_id"]).limit(None).to_list()
    return {r["episode_id"] for r in rows}


PEOPLE_LINE = "\nPeople: "


def sync_episode_people(mem: "Memory", episode_ids: Iterable[str]) -> int:
    """Write the names of the visible, named people seen in each episode into its `people` list
    and a "People: ..." line of its text (what full-text search reads). Returns episodes changed."""
    store = mem.store
    episode_ids = sorted(set(episode_ids))
    if not episode_ids:
        return 0
    faces = table(store, FACES_TABLE).search().where(_in("episode_id", episode_ids)) \
        .select(["episode_id", "person_id"]).limit(None).to_list()
    names = {p.person_id: p.name for p in load_people(store, _in("person_id", {f["person_id"] for f in faces} or {""}))
             if p.name and not p.hidden}
    wanted: dict[str, list[str]] = {e: [] for e in episode_ids}
    for f in faces:
        name = names.get(f["person_id"])
        if name and name not in wanted[f["episode_id"]]:
            wanted[f["episode_id"]].append(name)
    rows = store.episodes(_in("episode_id", episode_ids), columns=["episode_id", "people", "text"])
    changed = 0
    with store.lock:
        for r in rows:
            people = sorted(wanted.get(r["episode_id"], []))
            if list(r["people"] or []) == people:
                continue
            text = (r["text"] or "").split(PEOPLE_LINE)[0] + (PEOPLE_LINE + ", ".join(people) if people else "")
            where = f"episode_id = {_q(r['episode_id'])}"
            if people:
                store.episode_table.update(where=where, values={"people": people, "text": text})
            else:  # LanceDB 0.40 cannot update to an empty list from Python values; SQL can
                store.episode_table.update(where=where, values_sql={
                    "people": "arrow_cast(make_array(), 'List(Utf8)')", "text": "'" + text.replace("'", "''") + "'"})
            changed += 1
        store.episodes_changed()  # the full-text index must see the new words
    return changed


# --- places ---------------------------------------------------------------------------------------
def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(min(1.0, a)))


def _visit_from_row(r: dict) -> Visit:
    return Visit(r["visit_id"], r["place"] or "", r["lat"], r["lon"], r["start"], r["end"], int(r["n_points"]),
                 list(r["media_ids"] or []), r["keywords"] or "")


def _keywords(episodes: Sequence[dict]) -> str:
    words: list[str] = []
    for e in episodes:
        for w in [*(e.get("tags") or []), *re.findall(r"[A-Za-zÀ-ÿ]{3,}", e.get("transcript") or "")]:
            w = w.casefold()
            if w not in words:
                words.append(w)
    return " ".join(words)


def _visits(mem: "Memory", new_media: Sequence[MediaRecord], episodes: Sequence[dict], report: ConsolidationReport) -> None:
    """Extend the visit a new geotagged file falls into (within VISIT_KM and VISIT_GAP), or open one.

    Only visits overlapping the new files' time window (plus the gap) are read.
    """
    from ingest.places import place_name

    points = sorted((m for m in new_media if m.lat is not None and m.lon is not None and m.captured_at),
                    key=lambda m: m.captured_at)  # type: ignore[arg-type, return-value]
    if not points:
        return
    by_media: dict[str, list[dict]] = {}
    for e in episodes:
        by_media.setdefault(e["media_id"], []).append(e)
    lo, hi = _utc(points[0].captured_at), _utc(points[-1].captured_at)
    t = table(mem.store, VISITS_TABLE)
    near = [_visit_from_row(r) for r in t.search().where(
        f"`end` >= {_ts(lo - VISIT_GAP)} AND start <= {_ts(hi + VISIT_GAP + timedelta(days=1))}").limit(None).to_list()]
    touched: dict[str, Visit] = {}
    for m in points:
        at = _utc(m.captured_at)
        end = at + timedelta(seconds=m.duration_s or 0)  # type: ignore[operator]
        home = next((v for v in sorted(near, key=lambda v: abs((v.start - at).total_seconds()))
                     if v.start - VISIT_GAP <= at <= v.end + VISIT_GAP and _km(v.lat, v.lon, m.lat, m.lon) <= VISIT_KM), None)
        if home is None:
            home = Visit("visit-" + hashlib.blake2b(m.media_id.encode(), digest_size=6).hexdigest(), "",
                         float(m.lat), float(m.lon), at, end, 0, [], "")  # type: ignore[arg-type]
            near.append(home)
        if m.media_id in home.media_ids:
            continue
        n = home.n_points
        home.lat = (home.lat * n + float(m.lat)) / (n + 1)  # type: ignore[arg-type]
        home.lon = (home.lon * n + float(m.lon)) / (n + 1)  # type: ignore[arg-type]
        home.n_points = n + 1
        home.start, home.end = min(home.start, at), max(home.end, end)  # type: ignore[type-var]
        home.media_ids.append(m.media_id)
        extra = _keywords(by_media.get(m.media_id, []))
        home.keywords = " ".join(dict.fromkeys((home.keywords + " " + extra).split()))
        touched[home.visit_id] = home
    for v in touched.values():
        v.place = place_name(v.lat, v.lon)
    if touched:
        with mem.store.lock:
            t.delete(_in("visit_id", touched))
            t.add(pa.Table.from_pylist([{
                "visit_id": v.visit_id, "place": v.place, "lat": v.lat, "lon": v.lon, "start": v.start, "end": v.end,
                "n_points": v.n_points, "media_ids": v.media_ids, "keywords": v.keywords,
            } for v in touched.values()], schema=visits_schema()))
    report.visits += len(touched)


def visits(mem: "Memory", where: str | None = None) -> list[Visit]:
    q = table(mem.store, VISITS_TABLE).search()
    if where:
        q = q.where(where)
    return sorted((_visit_from_row(r) for r in q.limit(None).to_list()), key=lambda v: v.start)


def last_visit(mem: "Memory", place_words: str) -> Visit | None:
    """The latest visit whose place name or contents match every word ("Cascais", "the beach")."""
    words = [w for w in re.findall(r"\w+", place_words.casefold()) if w not in _STOP]
    if not words:
        return None
    for v in reversed(visits(mem)):
        hay = set(re.findall(r"\w+", (v.place + " " + v.keywords).casefold()))
        if all(any(s in hay for s in PLACE_WORDS.get(w, (w,))) for w in words):
            return v
    return None


# --- things ----------------------------------------------------------------------------------------
_STOP = {"the", "a", "an", "my", "our", "your", "his", "her", "their", "at", "in", "to", "of", "on", "i", "me", "did", "last"}
_OBJECT_RE = re.compile(r"\b(?:(" + "|".join(COLOURS) + r")\s+)?(" + "|".join(COMMON_OBJECTS) + r")\b", re.I)


def normalise_thing(text: str) -> str:
    """"my Keys" -> "key", "the blue mug" -> "blue mug": the form things are stored and asked by."""
    words = [w for w in re.findall(r"[\wÀ-ÿ]+", text.casefold()) if w not in _STOP]
    if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith(("ss", "glasses", "headphones", "earbuds")):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def things_in(episode: dict) -> list[tuple[str, str, str]]:
    """(thing, source, evidence) named by an episode's tags, OCR rows and speech."""
    out: list[tuple[str, str, str]] = []
    for tag in episode.get("tags") or []:
        out.append((normalise_thing(tag), "tag", tag))
    for row in (episode.get("ocr") or "").split(" / "):
        row = row.strip()
        if 3 <= len(row) <= 60 and re.search(r"[A-Za-zÀ-ÿ]{3}", row):
            out.append((normalise_thing(row), "ocr", row))
    for sentence in re.split(r"(?<=[.!?])\s+", episode.get("transcript") or ""):
        for m in _OBJECT_RE.finditer(sentence):
            out.append((normalise_thing(m.group(2)), "speech", sentence.strip()))
            if m.group(1):
                out.append((normalise_thing(m.group(0)), "speech", sentence.strip()))
    seen: set[str] = set()
    return [t for t in out if t[0] and not (t[0] in seen or seen.add(t[0]))]  # type: ignore[func-returns-value]


def _things(mem: "Memory", episodes: Sequence[dict], report: ConsolidationReport) -> None:
    """Add the new episodes' sightings; each closes the current record of the same thing when newer.

    Reads only the current (valid_to IS NULL) records of the things the new episodes name.
    """
    found: list[dict] = []
    for e in episodes:
        at = _utc(e["start"])
        for thing, source, evidence in things_in(e):
            found.append({"thing": thing, "source": source, "time": at, "place": e.get("place") or "",
                          "evidence": evidence, "episode_id": e["episode_id"], "media_id": e["media_id"],
                          "offset_s": float(e.get("offset_start") or 0.0), "valid_from": at, "valid_to": None})
    t = table(mem.store, THINGS_TABLE)
    if found:  # consolidating the same episodes twice adds nothing
        seen = {(r["thing"], r["episode_id"]) for r in t.search().where(
            _in("episode_id", {r["episode_id"] for r in found})).select(["thing", "episode_id"]).limit(None).to_list()}
        found = [r for r in found if (r["thing"], r["episode_id"]) not in seen]
    if not found:
        return
    found.sort(key=lambda r: r["time"])
    names = {r["thing"] for r in found}
    current = {r["thing"]: r for r in t.search().where(f"{_in('thing', names)} AND valid_to IS NULL").limit(None).to_list()}
    closed: list[dict] = []
    for r in found:
        cur = current.get(r["thing"])
        if cur is None:
            current[r["thing"]] = r
        elif r["time"] >= cur["time"]:
            cur["valid_to"] = r["time"]  # superseded, kept as history
            closed.append(cur)
            current[r["thing"]] = r
        else:  # an older file ingested late: history, valid until the current sighting
            r["valid_to"] = cur["time"]
            closed.append(r)
    fresh = {id(r) for r in found}
    with mem.store.lock:
        for r in (r for r in closed if id(r) not in fresh):  # stored records that a new sighting closed
            t.update(where=f"thing = {_q(r['thing'])} AND valid_to IS NULL AND episode_id = {_q(r['episode_id'])}",
                     values={"valid_to": r["valid_to"]})
        t.add(pa.Table.from_pylist([{k: r[k] for k in things_schema().names} for r in found], schema=things_schema()))
    report.things += len(found)


def _thing_from_row(r: dict) -> ThingRecord:
    return ThingRecord(r["thing"], r["source"], r["time"], r["place"] or "", r["evidence"] or "", r["episode_id"],
                       r["media_id"], float(r["offset_s"] or 0), r["valid_from"], r["valid_to"])


def last_seen(mem: "Memory", thing: str) -> ThingRecord | None:
    """The current record of a thing ("keys", "the blue mug"), or of the closest stored form
    (a thing whose name contains the asked words: "mug" finds "blue mug" when no plain mug is known)."""
    key = normalise_thing(thing)
    if not key:
        return None
    t = table(mem.store, THINGS_TABLE)
    rows = t.search().where(f"thing = {_q(key)} AND valid_to IS NULL").limit(None).to_list()
    if not rows:
        rows = t.search().where(f"thing LIKE {_q('%' + key + '%')} AND valid_to IS NULL").limit(None).to_list()
    if not rows:
        return None
    return _thing_from_row(max(rows, key=lambda r: r["time"]))


def thing_history(mem: "Memory", thing: str) -> list[ThingRecord]:
    """Every sighting of a thing, oldest first (superseded ones carry valid_to)."""
    rows = table(mem.store, THINGS_TABLE).search().where(f"thing = {_q(normalise_thing(thing))}").limit(None).to_list()
    return sorted((_thing_from_row(r) for r in rows), key=lambda r: r.time)


# --- questions the agent asks ---------------------------------------------------------------------
def who_is(mem: "Memory", episode_id: str) -> list[str]:
    """The visible people seen in an episode (any scale): names, or "unnamed person <id>"."""
    store = mem.store
    ep = store.episode(episode_id)
    if ep is None:
        raise KeyError(f"no episode {episode_id!r}")
    if ep["media_id"]:
        where = (f"media_id = {_q(ep['media_id'])} AND offset_s >= {float(ep['offset_start'] or 0)}"
                 f" AND offset_s <= {float(ep['offset_end'] or 0)}")
    else:
        where = f"time >= {_ts(ep['start'])} AND time <= {_ts(ep['end'])}"
    rows = table(store, FACES_TABLE).search().where(f"{where} AND person_id != ''").select(["person_id"]).limit(None).to_list()
    ids = {r["person_id"] for r in rows}
    if not ids:
        return []
    return sorted(p.label for p in load_people(store, _in("person_id", ids)) if not p.hidden)


def sightings(mem: "Memory", person_name: str, start: datetime | None = None, end: datetime | None = None) -> list[Sighting]:
    """Each episode in [start, end) in which a person (by name or id) was seen, in time order."""
    p = _person(mem.store, person_name)
    where = f"person_id = {_q(p.person_id)}"
    if start is not None:
        where += f" AND time >= {_ts(start)}"
    if end is not None:
        where += f" AND time < {_ts(end)}"
    rows = table(mem.store, FACES_TABLE).search().where(where).limit(None).to_list()
    out: dict[str, Sighting] = {}
    for r in sorted(rows, key=lambda r: r["time"]):
        out.setdefault(r["episode_id"], Sighting(p.label, r["time"], r["episode_id"], r["media_id"],
                                                 float(r["offset_s"] or 0), r["crop"] or ""))
    return list(out.values())
