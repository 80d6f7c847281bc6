"""The retrieval agent: answer a question from memory with evidence, or say it is not there.

Adaptive (after WorldMM): read the episodic memory at the finest scale first; when the evidence is
weak, read coarser episodes and zoom into the children of the best ones, widen a time window that
found nothing, and finally search by the question's words alone; stop as soon as the evidence
suffices or the rounds run out. Every round is recorded as a `Step`.

Flat (the baseline kept for comparison): one vector search at one scale; the top hit answers.

Answers are extractive: the sentence of the cited transcript (or the caption/text) that is closest
to the question, with its file, second and time. The bundled LLM is too weak to be trusted with
facts (MODELS.md), so nothing is generated that the evidence does not say.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import numpy as np

from lifelog.schema import Answer, Citation, Filters, Hit, Step
from lifelog.timeparse import parse_time

if TYPE_CHECKING:
    from lifelog.memory import Memory

# a hit this strong answers at once; under MIN_SCORE (memory.py) nothing counts as evidence
SUFFICIENT = 0.5
KIND_WORDS = {
    "video": ("video", "clip", "footage", "filmed"),
    "photo": ("photo", "picture", "pic", "image", "snapshot"),
    "audio": ("voice note", "recording", "memo", "audio", "voice memo"),
}
QUESTION_WORDS = re.compile(
    r"^\s*(what|where|when|who|which|how many|how|did|do|does|is|was|were|show me|find|tell me)\b", re.I)


@dataclass(frozen=True)
class ParsedQuestion:
    text: str  # what to search for: the question without its time and kind words
    filters: Filters
    time_phrase: str = ""


def parse_question(question: str, now: datetime) -> ParsedQuestion:
    text = question.strip()
    filters = Filters()
    phrase = ""
    span = parse_time(text, now)
    if span:
        filters = replace(filters, start=span.start.astimezone(timezone.utc), end=span.end.astimezone(timezone.utc))
        phrase = span.phrase
        text = re.sub(re.escape(span.phrase), " ", text, flags=re.I)
    low = question.lower()
    kinds = tuple(k for k, words in KIND_WORDS.items() if any(re.search(rf"\b{w}s?\b", low) for w in words))
    if kinds:
        filters = replace(filters, kinds=kinds)
    text = re.sub(r"\s+", " ", text).strip(" ?.!") or question
    return ParsedQuestion(text=text, filters=filters, time_phrase=phrase)


def _step(n: int, memory: str, scale: str, query: str, filters: Filters, hits: list[Hit], decision: str) -> Step:
    return Step(round=n, memory=memory, scale=scale, query=query, filters=filters.describe(),
                hits=[(h.title or h.episode_id, h.score) for h in hits[:5]], decision=decision)


def adaptive(mem: Memory, parsed: ParsedQuestion) -> tuple[list[Hit], list[Step]]:
    steps: list[Step] = []
    best: dict[str, Hit] = {}
    max_rounds = mem.settings.max_rounds
    filters = parsed.filters

    def keep(hits: list[Hit]) -> float:
        for h in hits:
            if h.episode_id not in best or best[h.episode_id].score < h.score:
                best[h.episode_id] = h
        return max((h.score for h in best.values()), default=0.0)

    # round 1: the finest scale, with the question's filters
    hits = mem.search(parsed.text, filters=filters, scale="segment")
    top = keep(hits)
    decision = "sufficient" if top >= SUFFICIENT else "weak: read coarser episodes and zoom in"
    steps.append(_step(1, "episodic", "segment", parsed.text, filters, hits, decision))
    n = 1
    if top < SUFFICIENT and n < max_rounds:
        # round 2: events and sessions carry context a single segment lacks; zoom into their children
        n += 1
        coarse = mem.search(parsed.text, filters=filters, scale=None, limit=6)
        zoomed: list[Hit] = []
        for parent in [h for h in coarse if h.scale != "segment"][:3]:
            child_filters = replace(filters, media_id=parent.media_id) if parent.media_id else filters
            zoomed += mem.search(parsed.text, filters=child_filters, scale="segment", limit=3, min_score=None)
        # a child found by zooming counts only as strongly as its parent matched
        zoomed = [replace(h, score=round(min(h.score, max(p.score for p in coarse)), 4)) for h in zoomed] if coarse else []
        top = keep([h for h in coarse if h.scale == "segment"] + zoomed)
        decision = "sufficient" if top >= SUFFICIENT else "still weak"
        steps.append(_step(n, "episodic", "event/session -> segment", parsed.text, filters, coarse + zoomed, decision))
    if top < SUFFICIENT and (filters.start or filters.end) and n < max_rounds:
        # round 3: the time window may be off by a little: widen it by a day on each side
        n += 1
        wider = replace(filters, start=filters.start - timedelta(days=1) if filters.start else None,
                        end=filters.end + timedelta(days=1) if filters.end else None)
        hits = mem.search(parsed.text, filters=wider, scale="segment")
        top = keep(hits)
        steps.append(_step(n, "episodic", "segment", parsed.text, wider, hits,
                           "sufficient" if top >= SUFFICIENT else "still weak"))
    if not best:
        steps.append(_step(n, "episodic", "-", parsed.text, filters, [], "nothing relevant in memory: abstain"))
    ranked = sorted(best.values(), key=lambda h: h.score, reverse=True)
    return ranked, steps


def flat(mem: Memory, parsed: ParsedQuestion, question: str) -> tuple[list[Hit], list[Step]]:
    hits = mem.search(question, scale="segment", min_score=None, limit=mem.settings.top_k)
    return hits, [_step(1, "episodic", "segment", question, Filters(), hits, "answer from the top hits")]


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]


def _local(ts: datetime, offset_min: int | None) -> datetime:
    if offset_min is not None:
        return ts.astimezone(timezone(timedelta(minutes=offset_min)))
    return ts.astimezone()


def describe_when(hit: Hit, offset_min: int | None) -> str:
    return _local(hit.start, offset_min).strftime("%a %d %b %Y, %H:%M")


def extract(mem: Memory, question: str, hit: Hit) -> str:
    """The part of the hit's text that answers the question best."""
    if hit.transcript:
        sentences = _sentences(hit.transcript)
        if len(sentences) > 1:
            vectors = mem.model("text_embed").embed(sentences)
            q = mem.model("text_embed").embed([question], kind="query")[0]
            return sentences[int(np.argmax(vectors @ q))]
        return hit.transcript.strip()
    return (hit.title or hit.text).strip()


KIND_NAMES = {"audio": "recording", "video": "video", "photo": "photo"}


def answer_question(mem: Memory, question: str, *, agent: str, now: datetime) -> Answer:
    t0 = time.perf_counter()
    if not question.strip():
        raise ValueError("the question is empty")
    parsed = parse_question(question, now)
    if agent == "flat":
        hits, steps = flat(mem, parsed, question)
    elif agent == "adaptive":
        hits, steps = adaptive(mem, parsed)
    else:
        raise ValueError(f"unknown agent {agent!r}: choose adaptive or flat")
    if not hits:
        where = f" {parsed.time_phrase}" if parsed.time_phrase else ""
        return Answer(question=question, text=f"I don't know: nothing in memory matches that{where}.",
                      abstained=True, citations=[], steps=steps, agent=agent,
                      seconds=time.perf_counter() - t0, confidence=0.0)
    top = hits[0]
    offsets = {m.media_id: m.utc_offset_min for m in mem.store.all_media(
        "media_id IN (" + ", ".join("'" + h.media_id + "'" for h in hits[:3] if h.media_id) + ")")} if top.media_id else {}
    snippet = extract(mem, parsed.text, top)
    when = describe_when(top, offsets.get(top.media_id))
    place = f" at {top.place}" if top.place else ""
    kind = KIND_NAMES.get(top.kind, top.kind)
    quote = f"\u201c{snippet}\u201d" if top.transcript else snippet
    text = f"{quote} ({kind}, {when}{place})"
    citations = []
    for h in hits[:3]:
        if h is not top and h.score < max(top.score - 0.15, 0):
            continue
        citations.append(Citation(
            media_id=h.media_id, path=h.path, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end,
            time=h.start, snippet=snippet if h is top else (h.transcript or h.title or h.text)[:200],
            thumbnail=h.thumbnail, place=h.place, episode_id=h.episode_id, score=h.score,
        ))
    return Answer(question=question, text=text, abstained=False, citations=citations, steps=steps, agent=agent,
                  seconds=time.perf_counter() - t0, confidence=top.score)
