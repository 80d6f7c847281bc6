"""The visual memory in the store: one compressed KV cache per video and per event, and reading it.

    >>> save(store, media_id, memory, media_id=media_id, scope="video")
    >>> memory = load(store, media_id, model_id="smolvlm2-500m-video", budget=512)
    >>> ask_visual(store, encoder(spec, ...), "what colour was the mug?", [hit.episode_id for hit in hits])
    VisualAnswer(text='blue', media_id='...', key='...', times=[3.0, 4.0], confidence=0.62)

A row of the "visual_memory" table holds a `models.streammem.VisualMemory`: the model that made it,
its token budget and layer layout, and the key/value tensors as raw float16 bytes with their shapes
(a 512-token memory of SmolVLM2-500M is 20 MB; one Arrow binary cell each, read back without a copy
through numpy). Videos are keyed by media id, events by episode id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pyarrow as pa

from lifelog.db import VISUAL_TABLE, upsert, visual_schema
from lifelog.sql import quote
from models.streammem import SKIP_MESSAGE, StreamMemEncoder, VisualMemory, VisualMemoryError, load_vlm

if TYPE_CHECKING:
    from lifelog.store import Store
    from models import ModelSpec

log = logging.getLogger(__name__)

# memories read per question: each costs one VLM prefill of the question over `budget` cached tokens
MAX_MEMORIES = 3
_said_skip: set[str] = set()


def table(store: "Store") -> Any:
    """The store's visual memory table, created on first use."""
    return store.table(VISUAL_TABLE)


def save(store: "Store", key: str, memory: VisualMemory, *, media_id: str = "", episode_id: str = "",
         scope: str = "video", start_s: float | None = None, end_s: float | None = None) -> None:
    """Store (or replace) the memory under `key`."""
    if memory.dtype != "float16":
        raise ValueError(f"visual memories are stored as float16, got {memory.dtype}")
    keys = memory.keys.cpu().numpy()
    values = memory.values.cpu().numpy()
    starts = [a for a, _ in memory.frame_spans]
    ends = [b for _, b in memory.frame_spans]
    row = {
        "key": key, "media_id": media_id, "episode_id": episode_id, "scope": scope,
        "start_s": float(start_s if start_s is not None else (starts[0] if starts else 0.0)),
        "end_s": float(end_s if end_s is not None else (ends[-1] if ends else 0.0)),
        "model_id": memory.model_id, "budget": memory.budget, "n_layers": memory.n_layers,
        "n_kv_heads": memory.n_kv_heads, "head_dim": memory.head_dim, "dtype": memory.dtype,
        "n_tokens": memory.n_tokens, "frames_seen": memory.frames_seen,
        "tokens_seen": memory.tokens_seen, "next_position": memory.next_position,
        "positions_mode": memory.positions_mode, "positions": memory.positions.astype(np.int64).tolist(),
        "token_times": memory.token_times.astype(np.float64).tolist(), "frame_starts": starts, "frame_ends": ends,
        "keys": keys.tobytes(), "keys_shape": list(keys.shape),
        "values": values.tobytes(), "values_shape": list(values.shape),
        "created_at": datetime.now(timezone.utc),
    }
    t = table(store)
    with store.lock:
        upsert(t, "key", pa.Table.from_pylist([row], schema=visual_schema()))


def keys_for(store: "Store", media_id: str) -> list[str]:
    rows = table(store).search().where(f"media_id = {quote(media_id)}").select(["key"]).to_list()
    return [r["key"] for r in rows]


def delete(store: "Store", media_id: str) -> None:
    """Forget a file's visual memories (the video's and its events')."""
    t = table(store)
    with store.lock:
        t.delete(f"media_id = {quote(media_id)}")


def has(store: "Store", key: str) -> bool:
    return bool(table(store).search().where(f"key = {quote(key)}").select(["key"]).limit(1).to_list())


def load(store: "Store", key: str, *, model_id: str, budget: int) -> VisualMemory:
    """The memory stored under `key`, checked against the model and budget that will read it.

    Raises KeyError when there is none, VisualMemoryError when it was made by another model or budget.
    """
    import torch

    rows = table(store).search().where(f"key = {quote(key)}").limit(1).to_list()
    if not rows:
        raise KeyError(f"no visual memory stored for {key!r}")
    r = rows[0]
    if r["model_id"] != model_id:
        raise VisualMemoryError(
            f"visual memory {key!r} was encoded by {r['model_id']!r}, not the active VLM {model_id!r}: "
            f"re-ingest the video with this profile, or switch back to the profile that has {r['model_id']!r}"
        )
    if int(r["budget"]) != int(budget):
        raise VisualMemoryError(
            f"visual memory {key!r} was compressed to {r['budget']} tokens but the visual memory budget is "
            f"{budget}: set the budget back to {r['budget']}, or re-ingest the video to use {budget}"
        )
    if r["dtype"] != "float16":
        raise VisualMemoryError(f"visual memory {key!r} has dtype {r['dtype']!r}; only float16 is read")

    def tensor(name: str) -> Any:
        array = np.frombuffer(r[name], dtype=np.float16).reshape(tuple(r[name + "_shape"]))
        return torch.from_numpy(array.copy())

    return VisualMemory(
        keys=tensor("keys"), values=tensor("values"), positions=np.asarray(r["positions"], np.int64),
        token_times=np.asarray(r["token_times"], np.float64),
        frame_spans=list(zip(map(float, r["frame_starts"]), map(float, r["frame_ends"]))),
        model_id=r["model_id"], budget=int(r["budget"]), n_layers=int(r["n_layers"]), n_kv_heads=int(r["n_kv_heads"]),
        head_dim=int(r["head_dim"]), next_position=int(r["next_position"]), frames_seen=int(r["frames_seen"]),
        tokens_seen=int(r["tokens_seen"] or 0),
        positions_mode=r["positions_mode"], dtype=r["dtype"],
    )


@dataclass(frozen=True)
class VisualAnswer:
    """What the VLM answered over one stored visual memory, and where in the file it looked."""

    text: str
    media_id: str
    key: str  # the media id or event id whose memory answered
    times: list[float]  # seconds into the file of the frames the memory kept
    start_s: float
    end_s: float
    confidence: float  # probability of the answer's first token


def encoder(spec: "ModelSpec", *, cache_dir: Path, device: str, budget: int,
            chunk_frames: int) -> StreamMemEncoder | None:
    """The StreamMem encoder over a profile's captioner, or None (one log line) where it is no VLM."""
    if spec.family != "hf-vlm":
        if spec.name not in _said_skip:
            _said_skip.add(spec.name)
            log.info(SKIP_MESSAGE)
        return None
    return StreamMemEncoder(load_vlm(spec, cache_dir, device), budget, chunk_frames)


def _candidate_keys(store: "Store", episode_ids: Sequence[str]) -> list[str]:
    """Stored memories for some episodes, finest first: the episode's own (an event), its parent
    event's, then its file's."""
    out: list[str] = []
    for eid in episode_ids:
        row = store.episode(eid)
        tries = [eid]
        if row is not None:
            tries += [row.get("parent_id") or "", row.get("media_id") or ""]
        else:  # episode ids are "<media id>:<scale>:<n>" (ingest/video.py)
            tries.append(eid.split(":", 1)[0])
        for key in tries:
            if key and key not in out and has(store, key):
                out.append(key)
                break
        if len(out) >= MAX_MEMORIES:
            break
    return out


def ask_visual(store: "Store", enc: StreamMemEncoder | None, question: str, episode_ids: Sequence[str], *,
               max_new_tokens: int = 32) -> VisualAnswer | None:
    """Ask the VLM `question` over the visual memories of the retrieved episodes; the most confident
    answer wins. None when the profile has no VLM or none of the episodes has a visual memory."""
    import torch

    if enc is None:
        return None
    best: VisualAnswer | None = None
    for key in _candidate_keys(store, episode_ids):
        try:
            memory = load(store, key, model_id=enc.model_id, budget=enc.budget)
        except VisualMemoryError as e:
            log.warning("%s", e)
            continue
        text, logits = enc.answer(memory, question, max_new_tokens=max_new_tokens)
        confidence = float(torch.softmax(logits.float(), -1).max())
        row = table(store).search().where(f"key = {quote(key)}").select(
            ["media_id", "start_s", "end_s"]).limit(1).to_list()[0]
        answer = VisualAnswer(text=text, media_id=row["media_id"], key=key, times=memory.times,
                              start_s=float(row["start_s"]), end_s=float(row["end_s"]), confidence=confidence)
        if best is None or answer.confidence > best.confidence:
            best = answer
    return best


def save_video(store: "Store", media_id: str, video: VisualMemory | None,
               events: dict[str, tuple[float, float, VisualMemory]] | None = None) -> int:
    """Store a file's memories from ingestion (`ingest.visual`): the video's and each event's. Returns rows written."""
    n = 0
    if video is not None:
        save(store, media_id, video, media_id=media_id, scope="video")
        n += 1
    for episode_id, (a, b, memory) in (events or {}).items():
        save(store, episode_id, memory, media_id=media_id, episode_id=episode_id, scope="event", start_s=a, end_s=b)
        n += 1
    return n


__all__ = ["VISUAL_TABLE", "VisualAnswer", "ask_visual", "delete", "encoder", "has", "keys_for", "load", "save",
           "save_video", "table", "visual_schema"]
