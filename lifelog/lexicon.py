"""Broader classes of things, from WordNet: a "cannon" is a gun and a weapon, an "Egyptian cat" is
a cat, a feline, a mammal and an animal. The agent uses it to find "the photo of the animals" or
"the old field gun" among pictures the tagger labelled "Egyptian cat" and "cannon".

WordNet 3.0 is read straight from its database files (Debian's `wordnet-base`, installed by
`make setup`, in /usr/share/wordnet; or the folder in $LIFELOG_WORDNET): the noun index is loaded
once (~0.2 s) and synsets are read by their byte offsets in data.noun. Without those files every
lookup is empty and the agent goes on without broader classes. Standard library only.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()
CLASS_TAGS = 12  # tags of one class searched at most ("animals" in a zoo's worth of photos)
# hypernyms that are too broad to tell anything apart ("entity", "object", "whole")
TOO_BROAD = {"entity", "physical_entity", "object", "physical_object", "whole", "unit", "abstraction", "matter",
             "artifact", "artefact", "instrumentality", "instrumentation", "thing", "causal_agent", "cause",
             "causal_agency", "living_thing", "animate_thing", "organism", "being", "device", "structure",
             "construction", "container", "covering", "commodity", "trade_good", "good", "psychological_feature",
             "attribute", "group", "grouping", "relation", "measure", "quantity", "amount", "communication",
             "event", "act", "deed", "human_action", "human_activity", "state", "location", "substance", "part",
             "portion", "component_part", "component", "constituent", "material", "stuff", "vertebrate",
             "craniate", "chordate", "placental", "placental_mammal", "eutherian", "eutherian_mammal"}


def root() -> Path | None:
    for candidate in (os.environ.get("LIFELOG_WORDNET"), "/usr/share/wordnet", "/usr/local/share/wordnet"):
        if candidate and (Path(candidate) / "index.noun").is_file() and (Path(candidate) / "data.noun").is_file():
            return Path(candidate)
    return None


def available() -> bool:
    return root() is not None


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[int, ...]]:
    """lemma -> the byte offsets of its noun synsets in data.noun."""
    base = root()
    if base is None:
        return {}
    out: dict[str, tuple[int, ...]] = {}
    with open(base / "index.noun", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(" "):
                continue  # the licence header
            parts = line.split()
            n_ptr = int(parts[3])
            n_sense = int(parts[2])
            offsets = parts[4 + n_ptr + 2:]
            out[parts[0]] = tuple(int(o) for o in offsets[:n_sense])
    return out


@lru_cache(maxsize=1)
def _exceptions() -> dict[str, str]:
    base = root()
    if base is None or not (base / "noun.exc").is_file():
        return {}
    pairs = (line.split() for line in (base / "noun.exc").read_text(encoding="utf-8", errors="replace").splitlines())
    return {p[0]: p[1] for p in pairs if len(p) >= 2}


@lru_cache(maxsize=50_000)
def _synset(offset: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(lemmas, hypernym offsets) of one noun synset."""
    base = root()
    assert base is not None
    with _LOCK, open(base / "data.noun", "rb") as f:
        f.seek(offset)
        line = f.readline().decode("utf-8", "replace")
    parts = line.split(" | ", 1)[0].split()
    n_words = int(parts[3], 16)
    lemmas = tuple(parts[4 + 2 * i].lower() for i in range(n_words))
    at = 4 + 2 * n_words
    n_ptr = int(parts[at])
    hypers = []
    for i in range(n_ptr):
        symbol, target, pos = parts[at + 1 + 4 * i: at + 4 + 4 * i]
        if symbol in ("@", "@i") and pos == "n":
            hypers.append(int(target))
    return lemmas, tuple(hypers)


def lemma(word: str) -> str | None:
    """The noun a word is a form of ("animals" -> "animal", "mice" -> "mouse"), or None."""
    w = re.sub(r"\s+", "_", word.strip().lower())
    index = _index()
    if w in index:
        return w
    if w in _exceptions():
        return _exceptions()[w]
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""), ("men", "man")):
        if w.endswith(suffix) and w[: len(w) - len(suffix)] + repl in index:
            return w[: len(w) - len(suffix)] + repl
    return None


@lru_cache(maxsize=20_000)
def broader(term: str, senses: int = 2) -> frozenset[str]:
    """Every class above a thing's first senses ("cannon" -> gun, weapon, ...), as words with
    spaces; the thing's own synonyms included, classes too broad to tell apart left out."""
    base = lemma(term)
    if base is None:
        return frozenset()
    out: set[str] = set()
    todo = list(_index()[base][:senses])
    seen: set[int] = set()
    while todo:
        offset = todo.pop()
        if offset in seen:
            continue
        seen.add(offset)
        lemmas, hypers = _synset(offset)
        out.update(lemmas)
        todo.extend(hypers)
    return frozenset(w.replace("_", " ") for w in out if w not in TOO_BROAD)


def narrower(word: str, tags: list[str] | set[str]) -> list[str]:
    """The tags that are kinds of the word ("animals" -> ["Egyptian cat", "starfish"]), the word's
    own tags left out (they match it already)."""
    base = lemma(word)
    if base is None or base.replace("_", " ") in TOO_BROAD:
        return []
    name = base.replace("_", " ")
    return sorted(t for t in tags if t.lower() != name and name in broader(t.lower()))
