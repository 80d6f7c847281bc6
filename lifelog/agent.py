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

from lifelog.memory import MIN_SCORE
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


def describe_when(hit: Hit) -> str:
    return hit.local_start.strftime("%a %d %b %Y, %H:%M")


def sufficient(hit: Hit) -> bool:
    """Evidence good enough to answer from: close in meaning, or fairly close and sharing the
    question's words. Anything weaker is declined rather than offered as a guess."""
    return hit.score >= SUFFICIENT or (hit.keyword_score > 0 and hit.score >= MIN_SCORE)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w']+", text.lower()) if len(w) > 2}


def _candidates(hit: Hit) -> list[tuple[str, str]]:
    lines = [("said", t) for t in _sentences(hit.transcript)]
    lines += [("text", t.strip()) for t in hit.ocr.split(" / ") if len(t.strip()) > 2] if hit.ocr else []
    return lines or [("shows", (hit.title or hit.text).strip())]


def extract(mem: Memory, question: str, hits: list[Hit]) -> tuple[Hit, str, str]:
    """The line of evidence that answers the question best, among the best hits: (its hit, kind, line).

    Kind is "said" (a transcript sentence), "text" (a line of text seen in a picture) or "shows"
    (the caption). A line is judged by its own closeness to the question, its hit's score, and
    shared words (an OCR row "pastel de nata 1,20 €" has little meaning alone).
    """
    pool = [(h, kind, line) for h in hits for kind, line in _candidates(h)]
    if len(pool) == 1:
        return pool[0]
    embedder = mem.model("text_embed")
    vectors = embedder.embed([line for _, _, line in pool])
    q = embedder.embed([question], kind="query")[0]
    qwords = _words(question)
    scores = [float(v @ q) + 0.5 * h.score + 0.1 * len(qwords & _words(line))
              for v, (h, _, line) in zip(vectors, pool)]
    return pool[int(np.argmax(scores))]


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
    if agent == "adaptive":
        hits = [h for h in hits if sufficient(h)]
    if not hits:
        where = f" {parsed.time_phrase}" if parsed.time_phrase else ""
        return Answer(question=question, text=f"I don't know: nothing in memory matches that{where}.",
                      abstained=True, citations=[], steps=steps, agent=agent,
                      seconds=time.perf_counter() - t0, confidence=0.0)
    best = hits[0]
    near = [h for h in hits[:3] if h.score >= best.score - 0.15]
    top, source, snippet = extract(mem, parsed.text, near)
    hits = [top] + [h for h in hits if h is not top]
    when = describe_when(top)
    place = f" at {top.place}" if top.place else ""
    kind = KIND_NAMES.get(top.kind, top.kind)
    if source == "said":
        text = f"\u201c{snippet}\u201d ({kind}, {when}{place})"
    elif source == "text":
        text = f"The {kind} from {when}{place} shows the text \u201c{snippet}\u201d."
    else:
        text = f"{snippet} ({kind}, {when}{place})"
    citations = []
    for h in hits[:3]:
        if h is not top and h.score < best.score - 0.15:
            continue
        citations.append(Citation(
            media_id=h.media_id, path=h.path, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end,
            time=h.start, snippet=snippet if h is top else (h.transcript or h.title or h.text)[:200],
            thumbnail=h.thumbnail, place=h.place, episode_id=h.episode_id, score=h.score,
            utc_offset_min=h.utc_offset_min,
        ))
    return Answer(question=question, text=text, abstained=False, citations=citations, steps=steps, agent=agent,
                  seconds=time.perf_counter() - t0, confidence=top.score)
