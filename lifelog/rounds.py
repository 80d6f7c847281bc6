"""The retrieval rounds the agent reads memory with (lifelog/agent.py answers from them).

Adaptive (after WorldMM): the finest scale first with the question's filters; when the evidence is
weak, coarser episodes (events, sessions) and the children of the best ones. Flat, the baseline
kept for comparison: one vector search at one scale. `sufficient` decides whether a hit is
evidence at all; `extract` picks the line of evidence that answers; `anchors_for` finds the
episodes a question is about; `resolve_place` reads a place the library spells differently.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ingest.places import distance_km
from lifelog.question import GENERIC, ParsedQuestion
from lifelog.schema import Filters, Hit, Retriever, Step
from lifelog.typed import when

if TYPE_CHECKING:
    from lifelog.settings import Settings


def _step(n: int, memory: str, scale: str, query: str, filters: Filters, hits: list[Hit], decision: str) -> Step:
    return Step(round=n, memory=memory, scale=scale, query=query, filters=filters.describe(),
                hits=[(h.title or h.episode_id, h.score) for h in hits[:5]], decision=decision)


def adaptive(mem: Retriever, parsed: ParsedQuestion) -> tuple[list[Hit], list[Step]]:
    steps: list[Step] = []
    best: dict[str, Hit] = {}
    max_rounds = mem.settings.max_rounds
    # a hit this strong answers at once; weaker ones are kept above the keyword floor (see `sufficient`)
    enough, floor = mem.settings.sufficient_score, mem.settings.keyword_floor
    filters = parsed.filters

    def keep(hits: list[Hit]) -> float:
        for h in hits:
            if h.episode_id not in best or best[h.episode_id].score < h.score:
                best[h.episode_id] = h
        return max((h.score for h in best.values()), default=0.0)

    # round 1: the finest scale, with the question's filters
    hits = mem.search(parsed.text, filters=filters, scale="segment", min_score=floor)
    top = keep(hits)
    decision = "sufficient" if top >= enough else "weak: read coarser episodes and zoom in"
    steps.append(_step(1, "episodic", "segment", parsed.text, filters, hits, decision))
    n = 1
    if top < enough and n < max_rounds:
        # round 2: events and sessions carry context a single segment lacks; zoom into their children
        n += 1
        coarse = mem.search(parsed.text, filters=filters, scale=None, limit=6, min_score=floor)
        zoomed: list[Hit] = []
        for parent in [h for h in coarse if h.scale != "segment"][:3]:
            child_filters = replace(filters, media_id=parent.media_id) if parent.media_id else filters
            zoomed += mem.search(parsed.text, filters=child_filters, scale="segment", limit=3, min_score=None)
        # a child found by zooming counts only as strongly as its parent matched
        zoomed = [replace(h, score=round(min(h.score, max(p.score for p in coarse)), 4)) for h in zoomed] if coarse else []
        top = keep([h for h in coarse if h.scale == "segment"] + zoomed)
        decision = "sufficient" if top >= enough else "still weak"
        steps.append(_step(n, "episodic", "event/session -> segment", parsed.text, filters, coarse + zoomed, decision))
    if not best:
        steps.append(_step(n, "episodic", "-", parsed.text, filters, [], "nothing relevant in memory: abstain"))
    ranked = sorted(best.values(), key=lambda h: h.score, reverse=True)
    return ranked, steps


def flat(mem: Retriever, question: str) -> tuple[list[Hit], list[Step]]:
    """The baseline: one vector search at the segment scale, no cut-off, no filters."""
    hits = mem.search(question, scale="segment", min_score=None, limit=mem.settings.top_k)
    return hits, [_step(1, "episodic", "segment", question, Filters(), hits, "top hits to the LLM")]


def flat_answer(mem: Retriever, question: str, hits: list[Hit]) -> tuple[str, bool]:
    """Plain RAG: the top hits as context, the profile's LLM writes the answer."""
    context = "\n".join(f"[{i + 1}] ({h.kind}, {when(h)}{', ' + h.place if h.place else ''}) "
                        f"{(h.transcript or h.ocr or h.title)[:300]}" for i, h in enumerate(hits[:5]))
    prompt = (f"Memories:\n{context}\n\nQuestion: {question}\nAnswer in one short sentence using only the "
              f"memories. If they do not contain the answer, say: I don't know.")
    text = mem.chat([{"role": "user", "content": prompt}], max_tokens=48)
    return text, bool(re.search(r"\b(don't|do not|cannot|can't) (know|tell|find)|not (mentioned|in the memories)", text, re.I))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]


def sufficient(hit: Hit, settings: "Settings") -> bool:
    """Evidence good enough to answer from: close in meaning (the fused score reaches
    `Settings.sufficient_score`), or sharing the question's words while its meaning alone reaches
    `Settings.keyword_floor`. The floor is on the meaning, not the fused score: one shared word
    raises the fused score by up to 0.25, and "what did Sam say about football?" must not be
    answered by a football helmet at a similarity of 0.15."""
    return hit.score >= settings.sufficient_score or (hit.keyword_score > 0 and hit.similarity >= settings.keyword_floor)


def _words(text: str) -> set[str]:
    """Content words, crudely stemmed (first 4 letters: stay/stayed, photo/photos)."""
    return {w[:4] for w in re.findall(r"[\w']+", text.lower()) if len(w) > 2 and w not in GENERIC}


def _candidates(hit: Hit) -> list[tuple[str, str]]:
    lines = [("said", t) for t in _sentences(hit.transcript)]
    lines += [("text", t.strip()) for t in hit.ocr.split(" / ") if len(t.strip()) > 2] if hit.ocr else []
    return lines or [("shows", (hit.title or hit.text).strip())]


def extract(mem: Retriever, question: str, hits: list[Hit], exclude_echo: bool = False) -> tuple[Hit, str, str]:
    """The line of evidence that answers the question best, among the best hits: (its hit, kind, line).

    Kind is "said" (a transcript sentence), "text" (a line of text seen in a picture) or "shows"
    (the caption). A line is judged by its own closeness to the question, its hit's score, and
    shared words (an OCR row "pastel de nata 1,20 €" has little meaning alone). With exclude_echo,
    a line made only of the question's own words ("KOREAN RESTAURANT" for "what did I eat at the
    Korean restaurant") is the anchor, not the answer: the line after it is read instead.
    """
    pool = [(h, kind, line) for h in hits for kind, line in _candidates(h)]
    if len(pool) == 1:
        return pool[0]
    vectors = mem.embed([line for _, _, line in pool])
    q = mem.embed([question], kind="query")[0]
    qwords = _words(question)
    scores = []
    for v, (h, kind, line) in zip(vectors, pool):
        words = _words(line)
        score = float(v @ q) + 0.5 * h.score + 0.15 * len(qwords & words)
        if exclude_echo and kind != "shows" and words and words <= qwords:
            score -= 0.5
        scores.append(score)
    return pool[int(np.argmax(scores))]


def same_outing(a: Hit, b: Hit, km: float = 0.3, seconds: float = 3600) -> bool:
    if None in (a.lat, a.lon, b.lat, b.lon) or abs((a.start - b.start).total_seconds()) > seconds:
        return False
    return distance_km(a.lat, a.lon, b.lat, b.lon) <= km  # type: ignore[arg-type]


def candidates_for(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> list[Hit]:
    """For counting and ordering: every episode the filters allow when the question names nothing
    else ("how many photos did I take in Madrid"), else the relevant ones ("the first time I saw a cat")."""
    if not parsed.content_words:
        hits = mem.browse(parsed.filters)
        steps.append(_step(len(steps) + 1, "episodic", "segment", "(all)", parsed.filters, hits,
                           f"{len(hits)} episodes match the filters"))
        return hits
    hits, more = adaptive(mem, parsed)
    steps.extend(more)
    return sorted([h for h in hits if sufficient(h, mem.settings)], key=lambda h: h.start)


def resolve_place(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> ParsedQuestion:
    """A place the question names that no episode spells that way ("Warsaw" where the geocoder
    wrote "Srodmiescie, ..., Poland"): the closest place name in meaning, when it is close."""
    if parsed.filters.place:
        return parsed
    m = re.search(r"\b(?:in|at|from|near|to|around)\s+(?:the\s+)?((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)*)", parsed.question)
    places = mem.places()
    if not m or not places or m.group(1).lower() in GENERIC:
        return parsed
    name = m.group(1)
    vectors = _place_vectors(mem, tuple(places))
    sims = vectors @ mem.embed([name], kind="query")[0]
    best = int(np.argmax(sims))
    if float(sims[best]) < PLACE_MATCH:
        return parsed
    steps.append(Step(round=len(steps) + 1, memory="semantic", scale="-", query=name, filters="",
                      hits=[(places[best], round(float(sims[best]), 3))], decision=f"{name!r} is read as {places[best]!r}"))
    text = re.sub(rf"\b(?:in|at|from|near|to|around)\s+(?:the\s+)?{re.escape(name)}\b", " ", parsed.text)
    return replace(parsed, filters=replace(parsed.filters, place=places[best]), text=re.sub(r"\s+", " ", text).strip() or name)


# a place name is taken for another one only this close in meaning (MiniLM: a city and its country
# ~0.84; two neighbouring countries ~0.75, which must not match)
PLACE_MATCH = 0.8
_PLACE_VECTORS: dict[tuple[str, ...], np.ndarray] = {}


def _place_vectors(mem: Retriever, places: tuple[str, ...]) -> np.ndarray:
    if places not in _PLACE_VECTORS:
        _PLACE_VECTORS.clear()
        _PLACE_VECTORS[places] = mem.embed(list(places))
    return _PLACE_VECTORS[places]


def has_filters(f: Filters) -> bool:
    return bool(f.start or f.end or f.place or f.kinds or f.hours or f.people or f.media_id)


def anchors_for(mem: Retriever, parsed: ParsedQuestion, steps: list[Step], *, browse_if_weak: bool = False) -> list[Hit]:
    """The episodes a question is about: those its words find within its filters, best first; with
    no words left ("where was I on 12 September"), every episode the filters allow, in time order."""
    if parsed.content_words:
        hits, more = adaptive(mem, parsed)
        steps.extend(more)
        hits = [h for h in hits if sufficient(h, mem.settings)]
        if hits or not browse_if_weak:
            return hits
    if not has_filters(parsed.filters):
        return []
    hits = mem.browse(parsed.filters)
    steps.append(_step(len(steps) + 1, "episodic", "segment", "(all)", parsed.filters, hits,
                       f"{len(hits)} episodes match the filters"))
    return hits
