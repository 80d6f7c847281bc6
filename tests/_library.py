"""Helpers for the store's promises: the CLI in a subprocess, and a library's contents as plain data
to compare with a clean reference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "lifelog.cli", "--home", str(home), *args]


def env() -> dict[str, str]:
    out = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def run(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cli(home, *args), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)


def start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(cli(home, *args), cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def sample_folder(tmp: Path) -> Path:
    """A copy of sample_media/ (10 files: photos, a video, two voice notes) to ingest."""
    folder = tmp / "roll"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder


def duplicates(values: list) -> list:
    return [v for v, n in Counter(values).items() if n > 1]


def snapshot(home: Path, *, vectors: bool = False) -> dict:
    """Everything a library holds that a user would notice, as comparable plain data."""
    import lifelog
    from lifelog.db import FACES_TABLE, PEOPLE_TABLE, THINGS_TABLE, VISITS_TABLE

    store = lifelog.open(home).store
    media = sorted((m.media_id, m.status, Path(m.path).name) for m in store.all_media())
    columns = ["episode_id", "scale", "media_id", "parent_id", "text", "duplicate_of"]
    rows = store.episodes(columns=columns + (["text_vector", "image_vector"] if vectors else []))
    episodes = sorted(tuple(r[c] for c in columns) for r in rows)
    out = {"media": media, "episodes": episodes, "episode_ids": duplicates([r["episode_id"] for r in rows])}
    if vectors:
        out["vectors"] = sorted((r["episode_id"], tuple(round(float(x), 4) for x in r["text_vector"]),
                                 tuple(round(float(x), 4) for x in r["image_vector"])) for r in rows)
        out["columns"] = [store.stored_column("text_vector"), store.stored_column("image_vector"),
                          sorted(store.episode_table.schema.names)]
    tables = set(store.database.table_names())
    if THINGS_TABLE in tables:
        things = store.table(THINGS_TABLE).search().limit(None).to_list()
        out["things"] = sorted((t["thing"], t["episode_id"], t["valid_to"] is None) for t in things)
    if VISITS_TABLE in tables:
        out["visits"] = sorted((tuple(sorted(v["media_ids"])), v["place"])
                               for v in store.table(VISITS_TABLE).search().limit(None).to_list())
    if FACES_TABLE in tables:
        faces = store.table(FACES_TABLE).search().limit(None).to_list()
        out["faces"] = sorted((f["face_id"], bool(f["person_id"])) for f in faces)
    if PEOPLE_TABLE in tables:
        out["people"] = store.table(PEOPLE_TABLE).count_rows()
    return out
