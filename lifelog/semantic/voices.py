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
from lifelog.semantic import people
from lifelog.sql import in_list, quote, utc

if TYPE_CHECKING:
    from lifelog.store import Store

# cosine between one file's voice vector and a person's mean: measured on ../shared/media with
# ingest/diarize.py's vectors, one speaker's two halves of a talk 0.96, the two speakers of a
# conversation 0.87; between them, nearer the same-speaker side (a split person can be merged)
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


def voice_centroids(store: "Store") -> dict[str, np.ndarray]:
    """Each person's voice: the unit mean of their assigned voices' vectors."""
    rows = store.table(VOICES_TABLE).search().where("person_id != ''").select(["person_id", "embedding"]) \
        .limit(None).to_list()
    by: dict[str, list[np.ndarray]] = {}
    for r in rows:
        by.setdefault(r["person_id"], []).append(np.asarray(r["embedding"], np.float32))
    out = {}
    for pid, vecs in by.items():
        m = np.mean(vecs, axis=0)
        out[pid] = m / max(float(np.linalg.norm(m)), 1e-9)
    return out


def assign_voices(store: "Store", media_ids: Sequence[str]) -> list[str]:
    """Assign the new files' voices to people (module doc); returns the persons opened."""
    if not store.has_table(VOICES_TABLE):
        return []
    t = store.table(VOICES_TABLE)
    rows = t.search().where(f"{in_list('media_id', media_ids)} AND person_id = ''").limit(None).to_list()
    if not rows:
        return []
    rows.sort(key=lambda r: (r["time"] is None, r["time"], r["voice_id"]))
    known = voice_centroids(store)
    everyone = {p.person_id: p for p in people.load_people(store)}
    opened: list[str] = []
    taken: dict[str, set[str]] = {}  # persons already given a voice of each file
    for r in rows:
        emb = np.asarray(r["embedding"], np.float32)
        free = [pid for pid in known if pid in everyone and pid not in taken.get(r["media_id"], set())]
        sims = {pid: float(known[pid] @ emb) for pid in free}
        best = max(sims, key=sims.__getitem__, default=None)
        if best is None or sims[best] < SAME_VOICE:
            best = "person-" + hashlib.blake2b(r["voice_id"].encode(), digest_size=5).hexdigest()
            everyone[best] = people.Person(best, "", False, 0, np.zeros(FACE_DIM, np.float32), r["time"], r["time"])
            opened.append(best)
            known[best] = emb
        r["person_id"] = best
        taken.setdefault(r["media_id"], set()).add(best)
    with store.lock:
        upsert(t, "voice_id", pa.Table.from_pylist([{k: r[k] for k in voices_schema().names} for r in rows],
                                                   schema=voices_schema()))
        people._save_people(store, [everyone[pid] for pid in opened])
    touched = sorted({r["person_id"] for r in rows})
    people.recount_people(store, touched)  # first and last heard
    if any(everyone[pid].name for pid in touched):
        people.sync_episode_people(store, {e for r in rows for e in r["episode_ids"] or []})
    return opened


def person_voices(store: "Store", ref: str) -> list[dict]:
    """A person's voices (file, first second, turns, seconds), in time order."""
    p = people.find_person(store, ref)
    if not store.has_table(VOICES_TABLE):
        return []
    rows = store.table(VOICES_TABLE).search().where(f"person_id = {quote(p.person_id)}") \
        .select(["voice_id", "media_id", "time", "offset_s", "seconds", "starts", "ends", "episode_ids"]) \
        .limit(None).to_list()
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"]))


def hearings(store: "Store", person_name: str, start=None, end=None) -> list[people.Sighting]:
    """Each segment a person (by name or id) was heard speaking in [start, end), in time order."""
    p = people.find_person(store, person_name)
    if not store.has_table(VOICES_TABLE):
        return []
    rows = store.table(VOICES_TABLE).search().where(f"person_id = {quote(p.person_id)}").limit(None).to_list()
    ids = sorted({e for r in rows for e in r["episode_ids"] or []})
    if not ids:
        return []
    found = store.episodes(in_list("episode_id", ids), columns=["episode_id", "media_id", "start", "offset_start"])
    out = [people.Sighting(p.label, r["start"], r["episode_id"], r["media_id"], float(r["offset_start"] or 0), "")
           for r in found if (start is None or r["start"] >= start) and (end is None or r["start"] < end)]
    return sorted(out, key=lambda s: s.time)


__all__ = ["SAME_VOICE", "assign_voices", "hearings", "person_voices", "voice_centroids", "write_voices"]
