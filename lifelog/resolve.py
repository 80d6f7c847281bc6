"""What a question names, read against the library before it is searched: a place the library
spells otherwise ("Warsaw" for a district of it), a place it has no trace of, a word as speech
recognition spelled it ("Guttenberg"), "my last day in Lisbon" as a day, and a person the library
knows by voice in "what did Sam say" (only what they said).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np

from lifelog.question import GENERIC, ParsedQuestion
from lifelog.schema import Retriever, Step
from lifelog.timeparse import MONTHS


def resolve_place(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> ParsedQuestion:
    """A place the question names that no episode spells that way ("Warsaw" where the geocoder
    wrote "Srodmiescie, ..., Poland"): the closest place name in meaning, when it is close."""
    if parsed.filters.place:
        return parsed
    m = re.search(r"\b(?:in|at|from|near|to|around)\s+(?:the\s+)?((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)*)", parsed.question)
    places = mem.places()
    if not m or m.group(1).lower() in GENERIC or m.group(1).lower() in MONTHS:
        return parsed
    name = m.group(1)
    vectors = _place_vectors(mem, tuple(places)) if places else np.zeros((0, 1), np.float32)
    sims = vectors @ mem.embed([name], kind="query")[0] if places else np.zeros(0)
    best = int(np.argmax(sims)) if places else -1
    if not places or float(sims[best]) < PLACE_MATCH:
        # a name no place and no episode's words hold: "what did I record in Reykjavik?" is about nowhere we have been
        if not any(h.keyword_score > 0 for h in mem.search(name, min_score=None, limit=3)):
            steps.append(Step(round=len(steps) + 1, memory="semantic", scale="-", query=name, filters="", hits=[],
                              decision=f"{name!r}: no place and no episode by that name"))
            return replace(parsed, place_unknown=name)
        return parsed
    steps.append(Step(round=len(steps) + 1, memory="semantic", scale="-", query=name, filters="",
                      hits=[(places[best], round(float(sims[best]), 3))], decision=f"{name!r} is read as {places[best]!r}"))
    text = re.sub(rf"\b(?:in|at|from|near|to|around)\s+(?:the\s+)?{re.escape(name)}\b", " ", parsed.text)
    return replace(parsed, filters=replace(parsed.filters, place=places[best]), text=re.sub(r"\s+", " ", text).strip() or name,
                   place_named=name)


# a place name is taken for another one only this close in meaning (MiniLM: a city and its country
# ~0.84; two neighbouring countries ~0.75, which must not match)
PLACE_MATCH = 0.8
_PLACE_VECTORS: dict[tuple[str, ...], np.ndarray] = {}


def _place_vectors(mem: Retriever, places: tuple[str, ...]) -> np.ndarray:
    if places not in _PLACE_VECTORS:
        _PLACE_VECTORS.clear()
        _PLACE_VECTORS[places] = mem.embed(list(places))
    return _PLACE_VECTORS[places]


def spelled_as(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> ParsedQuestion:
    """A word of the question that no transcript or picture text spells, searched for also as the
    library spells it ("Gutenberg" where speech recognition wrote "Guttenberg")."""
    vocabulary = mem.vocabulary()
    extra = []
    for word in sorted(w for w in parsed.content_words if len(w) >= 5 and w.isalpha()):
        # the same first three letters: a slip in the middle or the end, not another word ("ticket"/"thicket")
        candidates = [v for v in vocabulary.get(word[0], []) if abs(len(v) - len(word)) <= 2 and v[:3] == word[:3]]
        if word in candidates:
            continue
        close = difflib.get_close_matches(word, candidates, n=1, cutoff=SPELLING_CUTOFF)
        if close:
            extra.append((word, close[0]))
    if not extra:
        return parsed
    steps.append(Step(round=len(steps) + 1, memory="episodic", scale="-", query=parsed.text, filters="",
                      hits=[(v, 1.0) for _, v in extra], decision="also as spelled in memory: " +
                      ", ".join(f"{w} -> {v}" for w, v in extra)))
    return replace(parsed, text=parsed.text + " " + " ".join(v for _, v in extra))


# how alike a question's word and a library's word must be to be read as one (difflib ratio:
# gutenberg/guttenberg 0.95, cascais/cascise 0.86; cannon/canyon 0.83 does not pass)
SPELLING_CUTOFF = 0.85


def stay_day(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> ParsedQuestion:
    """"On my last day in Lisbon": the first or last local day that has episodes at the place."""
    if not parsed.day_of_stay:
        return parsed
    days = sorted({h.local_start.date() for h in mem.browse(replace(parsed.filters, kinds=())) if not h.file_dated})
    if not days:
        return parsed
    day = days[0] if parsed.day_of_stay == "first" else days[-1]
    start = datetime(day.year, day.month, day.day)
    f = replace(parsed.filters, start=(start - timedelta(hours=14)).replace(tzinfo=timezone.utc),
                end=(start + timedelta(hours=38)).replace(tzinfo=timezone.utc), local_start=start,
                local_end=start + timedelta(days=1))
    steps.append(Step(round=len(steps) + 1, memory="episodic", scale="day", query=parsed.day_of_stay, filters=f.describe(),
                      hits=[(str(d), 1.0) for d in days[-5:]], decision=f"the {parsed.day_of_stay} day at {parsed.filters.place}: {day}"))
    return replace(parsed, filters=f, time_phrase=f"on {day:%d %B %Y}")


def speaker(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> ParsedQuestion:
    """"What did Sam say about X": Sam, known by voice, as a filter on the segments Sam speaks in
    (their name is on them); the name leaves the search words, so a line that mentions Sam is not
    taken for one that Sam said."""
    if parsed.asks != "said":
        return parsed
    speakers = getattr(mem, "speakers", None)  # a Retriever without voices has none
    known = {n.lower(): n for n in (speakers() if speakers else [])}
    named = [known[w] for w in sorted(parsed.content_words) if w in known]
    if not named:
        return parsed
    text = re.sub(r"\b(?:" + "|".join(re.escape(n) for n in named) + r")\b(?:'s)?", " ", parsed.text, flags=re.I)
    steps.append(Step(round=len(steps) + 1, memory="semantic", scale="segment", query=parsed.text, filters="",
                      hits=[(n, 1.0) for n in named], decision="only what " + " and ".join(named) + " said (voice)"))
    return replace(parsed, text=" ".join(text.split()), filters=replace(parsed.filters,
                                                                       people=parsed.filters.people + tuple(named)))
