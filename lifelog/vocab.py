"""What the library's episodes name, read in one scan each: place names (and each part of them),
image tags, and the words of transcripts and picture text. `Memory` keeps them per process and
reads them again after an ingest or a forget; the agent resolves a question's words against them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifelog.store import Store


def place_names(store: "Store") -> list[str]:
    """Every place name and each part of it (town, region, country)."""
    rows = store.episodes("place != ''", columns=["place"])
    return sorted({part.strip() for r in rows for part in r["place"].split(",") if part.strip()})


def tag_names(store: "Store") -> list[str]:
    rows = store.episodes("scale = 'segment'", columns=["tags"])
    return sorted({t for r in rows for t in (r["tags"] or [])})


def word_index(store: "Store") -> dict[str, list[str]]:
    """The words of 5 letters or more in every transcript and picture text, by first letter."""
    rows = store.episodes("scale = 'segment'", columns=["transcript", "ocr"])
    words = {w for r in rows for w in re.findall(r"[^\W\d_]{5,}", f"{r['transcript'] or ''} {r['ocr'] or ''}".lower())}
    by: dict[str, list[str]] = {}
    for w in sorted(words):
        by.setdefault(w[0], []).append(w)
    return by
