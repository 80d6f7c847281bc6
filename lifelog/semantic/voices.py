"""People by voice: the speakers of each recording (ingest/diarize.py) kept at ingestion, then
assigned across the library to persons, incrementally, as faces are (lifelog/semantic/people.py).

A voice joins the person whose voices it is nearest to (cosine of the mean GE2E vectors) when it is
near enough, else it opens a person heard but never seen. Two speakers of one recording are never
made one person. Naming that person (or merging it into a face's person, which is how a face and a
voice become one record) puts the name on the segments they speak in, so "what did Sam say" and a
search for Sam find Sam's words and not another speaker's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ingest.records import MediaRecord, VoiceRecord
from lifelog.db import FACE_DIM, VOICES_TABLE, replace, upsert, voices_schema
from lifelog.semantic.people import (
    Person,
    Sighting,
    find_person,
    load_people,
    recount_people,
    save_people,
    sync_episode_people,
)
from lifelog.sql import in_list, quote, ts, utc

if TYPE_CHECKING:
    from lifelog.store import Store

# cosine between one file's voice and a person's mean (ingest/diarize.py's GE2E vectors, measured by
# benchmarks/bench_voices.py on ../shared/media, ../shared/eval/media and sample_media): different people
# in different files 0.38-0.68 (median 0.55), two people in one room 0.86, one voice across three
# files 0.96-0.98, the two halves of one recording 0.87-0.99 (the short ones lowest). Strict on
# purpose: a person split in two can be merged, a wrong merge mixes two people's words.
SAME_VOICE = 0.92


def write_voices(store: "Store", media: MediaRecord, voices: Sequence[VoiceRecord]) -> None:
    """Replace one file's voices (unassigned). Called by `lifelog.writer.FileWriter.write` under the
    lock, before the media row (which stays the commit marker)."""
    if not voices and not store.has_table(VOICES_TABLE):
        return
    start = utc(media.captured_at)
    rows = [{
        "voice_id": v.voice_id, "media_id": v.media_id, "speaker": v.speaker,
        "time": start + timedelta(seconds=v.starts[0]) if start and v.starts else start,
        "offset_s": v.starts[0] if v.starts else 0.0, "seconds": v.seconds, "starts": list(v.starts),
        "ends": list(v.ends), "episode_ids": list(v.episode_ids), "embedding": np.asarray(v.embedding, np.float32),
        "person_id": "",
    } for v in voices]
    replace(store.table(VOICES_TABLE), "voice_id", pa.Table.from_pylist(rows, schema=voices_schema()),
            f"media_id = {quote(media.media_id)}")


def voice_sums(store: "Store") -> dict[str, np.ndarray]:
    """Each person's voice as the sum of their assigned voices' vectors (its direction is their mean)."""
    rows = store.table(VOICES_TABLE).search().where("person_id != ''").select(["person_id", "embedding"]) \
        .limit(None).to_list()
    out: dict[str, np.ndarray] = {}
    for r in rows:
        v = np.asarray(r["embedding"], np.float32)
        out[r["person_id"]] = out.get(r["person_id"], np.zeros_like(v)) + v
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def assign_voices(store: "Store", media_ids: Sequence[str]) -> list[str]:
    """Assign the new files' voices to people (module doc); returns the persons opened."""
    if not store.has_table(VOICES_TABLE):
        return []
    t = store.table(VOICES_TABLE)
    everyone = {p.person_id: p for p in load_people(store)}
    # unassigned, or assigned to a person a killed run never saved: assigned (again) now
    rows = [r for r in t.search().where(in_list("media_id", media_ids)).limit(None).to_list()
            if r["person_id"] not in everyone]
    if not rows:
        return []
    rows.sort(key=lambda r: (r["time"] is None, r["time"], r["voice_id"]))
    sums = {pid: v for pid, v in voice_sums(store).items() if pid in everyone}
    opened: list[str] = []
    taken: dict[str, set[str]] = {}  # persons already given a voice of each file
    for r in rows:
        emb = np.asarray(r["embedding"], np.float32)
        free = [pid for pid in sums if pid not in taken.get(r["media_id"], set())]
        sims = {pid: float(_unit(sums[pid]) @ emb) for pid in free}
        best = max(sims, key=sims.__getitem__, default=None)
        if best is None or sims[best] < SAME_VOICE:
            best = "person-" + hashlib.blake2b(r["voice_id"].encode(), digest_size=5).hexdigest()
            everyone[best] = Person(best, "", False, 0, np.zeros(FACE_DIM, np.float32), r["time"], r["time"])
            opened.append(best)
            sums[best] = np.zeros_like(emb)
        sums[best] = sums[best] + emb  # the person's mean moves with each voice, none is re-read
        r["person_id"] = best
        taken.setdefault(r["media_id"], set()).add(best)
    with store.lock:  # the people first: a run killed between the two leaves no voice of a missing person
        save_people(store, [everyone[pid] for pid in opened])
        upsert(t, "voice_id", pa.Table.from_pylist([{k: r[k] for k in voices_schema().names} for r in rows],
                                                   schema=voices_schema()))
    touched = sorted({r["person_id"] for r in rows})
    recount_people(store, touched)  # first and last heard
    if any(everyone[pid].name for pid in touched):
        sync_episode_people(store, {e for r in rows for e in r["episode_ids"] or []})
    return opened


def person_voices(store: "Store", ref: str) -> list[dict]:
    """A person's voices (file, first second, turns, seconds), in time order."""
    p = find_person(store, ref)
    if not store.has_table(VOICES_TABLE):
        return []
    rows = store.table(VOICES_TABLE).search().where(f"person_id = {quote(p.person_id)}") \
        .select(["voice_id", "media_id", "time", "offset_s", "seconds", "starts", "ends", "episode_ids"]) \
        .limit(None).to_list()
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"]))


def split_voices(store: "Store", ref: str, voice_ids: Sequence[str]) -> Person:
    """Move some of a person's voices (`person_voices` ids) to a new, unnamed person: two people's
    voices that were joined, or a voice that was linked to the wrong face. The person keeps a face
    or a voice; the words the moved voices speak lose the person's name. Holds the writer lock."""
    p = find_person(store, ref)
    mine = person_voices(store, p.person_id)
    moving = [v for v in mine if v["voice_id"] in set(voice_ids)]
    if not moving or (len(moving) == len(mine) and not p.n_faces):
        raise ValueError(f"split {p.label}: give some but not all of its {len(mine)} voice ids "
                         f"(`lifelog people list {p.person_id[-6:]}` shows them)")
    new_id = "person-" + hashlib.blake2b((moving[0]["voice_id"] + ":split").encode(), digest_size=5).hexdigest()
    new = Person(new_id, "", False, 0, np.zeros(FACE_DIM, np.float32), moving[0]["time"], moving[-1]["time"])
    with store.lock:  # the person first: a kill between the two leaves voices that assign_voices places again
        save_people(store, [new])
        store.table(VOICES_TABLE).update(where=in_list("voice_id", [v["voice_id"] for v in moving]),
                                         values={"person_id": new_id})
    recount_people(store, [p.person_id, new_id])
    sync_episode_people(store, {e for v in moving for e in v["episode_ids"] or []})
    return find_person(store, new_id)


def link_proposals(store: "Store", ref: str) -> list[tuple[Person, str]]:
    """Faces that may be this voice's (or voices this face's): the people seen on screen while it
    speaks, most often first, each with why ("on screen in 3 of its 4 turns"). The user decides
    (merging makes them one person); nothing is linked without them."""
    from lifelog.db import FACES_TABLE

    p = find_person(store, ref)
    mine = person_voices(store, p.person_id)
    if not mine or not store.has_table(FACES_TABLE):
        return []
    where = f"{in_list('media_id', {v['media_id'] for v in mine})} AND person_id NOT IN ('', {quote(p.person_id)})"
    faces = store.table(FACES_TABLE).search().where(where).select(["media_id", "offset_s", "person_id"]) \
        .limit(None).to_list()
    turns = [(v["media_id"], a, b) for v in mine for a, b in zip(v["starts"] or [], v["ends"] or [])]
    count: dict[str, int] = {}
    for media_id, a, b in turns:  # a face within a second of a turn counts once for that turn
        for pid in {f["person_id"] for f in faces if f["media_id"] == media_id and a - 1 <= f["offset_s"] <= b + 1}:
            count[pid] = count.get(pid, 0) + 1
    known = {q.person_id: q for q in load_people(store, in_list("person_id", list(count)))} if count else {}
    return [(known[pid], f"on screen in {n} of its {len(turns)} turn{'s' * (len(turns) != 1)}")
            for pid, n in sorted(count.items(), key=lambda kv: -kv[1]) if pid in known and not known[pid].hidden]


def talkers(store: "Store", start=None, end=None) -> list[tuple[str, str]]:
    """Who spoke in [start, end): (person's label, a segment they speak in), in time order; hidden
    people left out. The user's own voice is one of them when they speak (nothing tells it apart yet)."""
    if not store.has_table(VOICES_TABLE):
        return []
    where = "person_id != ''" + (f" AND time >= {ts(start)}" if start else "") + (f" AND time < {ts(end)}" if end else "")
    rows = store.table(VOICES_TABLE).search().where(where).select(["person_id", "episode_ids", "time"]) \
        .limit(None).to_list()
    ids = {r["person_id"] for r in rows}
    labels = {p.person_id: p.label for p in load_people(store, in_list("person_id", ids)) if not p.hidden} \
        if rows else {}
    rows.sort(key=lambda r: r["time"])
    return [(labels[r["person_id"]], r["episode_ids"][0]) for r in rows if r["person_id"] in labels and r["episode_ids"]]


def hearings(store: "Store", person_name: str, start=None, end=None) -> list[Sighting]:
    """Each segment a person (by name or id) was heard speaking in [start, end), in time order."""
    p = find_person(store, person_name)
    if not store.has_table(VOICES_TABLE):
        return []
    rows = store.table(VOICES_TABLE).search().where(f"person_id = {quote(p.person_id)}").limit(None).to_list()
    ids = sorted({e for r in rows for e in r["episode_ids"] or []})
    if not ids:
        return []
    found = store.episodes(in_list("episode_id", ids), columns=["episode_id", "media_id", "start", "offset_start"])
    out = [Sighting(p.label, r["start"], r["episode_id"], r["media_id"], float(r["offset_start"] or 0), "")
           for r in found if (start is None or r["start"] >= start) and (end is None or r["start"] < end)]
    return sorted(out, key=lambda s: s.time)


__all__ = ["SAME_VOICE", "assign_voices", "hearings", "link_proposals", "person_voices", "split_voices", "talkers",
           "voice_sums", "write_voices"]
