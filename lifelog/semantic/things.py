"""Things: "last seen" records from image tags, OCR rows and objects named in speech; a newer
sighting closes the older record (sets valid_to) without deleting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Sequence

import pyarrow as pa

from lifelog.db import THINGS_TABLE, things_schema
from lifelog.sql import in_list, quote, utc

if TYPE_CHECKING:
    from lifelog.store import Store

# objects people ask "where did I leave ...?" about; found in transcripts (singular forms)
COMMON_OBJECTS = (
    "key", "keys", "mug", "cup", "phone", "wallet", "glasses", "sunglasses", "umbrella", "bag", "backpack",
    "laptop", "charger", "passport", "ticket", "book", "bottle", "jacket", "coat", "hat", "watch", "ring",
    "headphones", "earbuds", "remote", "camera", "bike", "car", "purse", "notebook", "pen", "scarf",
)
COLOURS = ("red", "blue", "green", "yellow", "black", "white", "grey", "gray", "brown", "orange", "pink",
           "purple", "silver", "gold", "old", "new", "little", "big", "small")
# words that name no thing: "where did I leave my keys" asks about "key"
STOP = {"the", "a", "an", "my", "our", "your", "his", "her", "their", "at", "in", "to", "of", "on", "i", "me", "did", "last"}
_OBJECT_RE = re.compile(r"\b(?:(" + "|".join(COLOURS) + r")\s+)?(" + "|".join(COMMON_OBJECTS) + r")\b", re.I)


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


def normalise_thing(text: str) -> str:
    """"my Keys" -> "key", "the blue mug" -> "blue mug": the form things are stored and asked by."""
    words = [w for w in re.findall(r"[\wÀ-ÿ]+", text.casefold()) if w not in STOP]
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


def add_things(store: "Store", episodes: Sequence[dict]) -> int:
    """Add the new episodes' sightings; each closes the current record of the same thing when newer.

    Reads only the current (valid_to IS NULL) records of the things the new episodes name.
    Returns the sightings added.
    """
    found: list[dict] = []
    for e in episodes:
        at = utc(e["start"])
        for thing, source, evidence in things_in(e):
            found.append({"thing": thing, "source": source, "time": at, "place": e.get("place") or "",
                          "evidence": evidence, "episode_id": e["episode_id"], "media_id": e["media_id"],
                          "offset_s": float(e.get("offset_start") or 0.0), "valid_from": at, "valid_to": None})
    t = store.table(THINGS_TABLE)
    if found:  # consolidating the same episodes twice adds nothing
        seen = {(r["thing"], r["episode_id"]) for r in t.search().where(
            in_list("episode_id", {r["episode_id"] for r in found})).select(["thing", "episode_id"]).limit(None).to_list()}
        found = [r for r in found if (r["thing"], r["episode_id"]) not in seen]
    if not found:
        return 0
    found.sort(key=lambda r: r["time"])
    names = {r["thing"] for r in found}
    current = {r["thing"]: r for r in t.search().where(f"{in_list('thing', names)} AND valid_to IS NULL").limit(None).to_list()}
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
    with store.lock:
        for r in (r for r in closed if id(r) not in fresh):  # stored records that a new sighting closed
            t.update(where=f"thing = {quote(r['thing'])} AND valid_to IS NULL AND episode_id = {quote(r['episode_id'])}",
                     values={"valid_to": r["valid_to"]})
        t.add(pa.Table.from_pylist([{k: r[k] for k in things_schema().names} for r in found], schema=things_schema()))
    return len(found)


def _thing_from_row(r: dict) -> ThingRecord:
    return ThingRecord(r["thing"], r["source"], r["time"], r["place"] or "", r["evidence"] or "", r["episode_id"],
                       r["media_id"], float(r["offset_s"] or 0), r["valid_from"], r["valid_to"])


def last_seen(store: "Store", thing: str) -> ThingRecord | None:
    """The current record of a thing ("keys", "the blue mug"), or of the closest stored form
    (a thing whose name contains the asked words: "mug" finds "blue mug" when no plain mug is known)."""
    key = normalise_thing(thing)
    if not key:
        return None
    t = store.table(THINGS_TABLE)
    rows = t.search().where(f"thing = {quote(key)} AND valid_to IS NULL").limit(None).to_list()
    if not rows:
        rows = t.search().where(f"thing LIKE {quote('%' + key + '%')} AND valid_to IS NULL").limit(None).to_list()
    if not rows:
        return None
    return _thing_from_row(max(rows, key=lambda r: r["time"]))


def thing_history(store: "Store", thing: str) -> list[ThingRecord]:
    """Every sighting of a thing, oldest first (superseded ones carry valid_to)."""
    rows = store.table(THINGS_TABLE).search().where(f"thing = {quote(normalise_thing(thing))}").limit(None).to_list()
    return sorted((_thing_from_row(r) for r in rows), key=lambda r: r.time)



# --- forgetting (lifelog/forget.py) ---------------------------------------------------------------
def things_of_media(store: "Store", media_ids: Sequence[str]) -> list[str]:
    """The things some files' sightings name."""
    rows = store.table(THINGS_TABLE).search().where(in_list("media_id", media_ids)).select(["thing"]).limit(None).to_list()
    return sorted({r["thing"] for r in rows})


def forget_sightings(store: "Store", media_ids: Sequence[str], names: Sequence[str]) -> int:
    """Delete some files' sightings of `names`; a record that a deleted sighting had closed is
    closed again by the next remaining sighting, or becomes current when it is now the latest.
    Idempotent (reads what remains). Returns the sightings deleted."""
    t = store.table(THINGS_TABLE)
    gone = set(media_ids)
    rows = t.search().where(in_list("thing", names)).limit(None).to_list() if names else []
    by_thing: dict[str, list[dict]] = {}
    for r in rows:
        if r["media_id"] not in gone:
            by_thing.setdefault(r["thing"], []).append(r)
    changed: list[dict] = []
    for kept in by_thing.values():
        times = {r["time"] for r in kept}
        for r in kept:
            if r["valid_to"] is None or r["valid_to"] in times:
                continue  # current, or closed by a sighting that stays
            later = [o["time"] for o in kept if o is not r and o["time"] >= r["time"]]
            r["valid_to"] = min(later) if later else None
            changed.append(r)
    with store.lock:
        if changed:  # one commit; (thing, episode_id) names a sighting
            rows_t = pa.Table.from_pylist([{k: r[k] for k in things_schema().names} for r in changed], schema=things_schema())
            t.merge_insert(["thing", "episode_id"]).when_matched_update_all().execute(rows_t)
        n = t.count_rows(in_list("media_id", gone))
        if n:
            t.delete(in_list("media_id", gone))
    return n
