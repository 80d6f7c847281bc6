"""The retrieval agent: answer a question from memory with evidence, or say it is not there.

Adaptive (after WorldMM): parse the question (time, place, kind, and whether it wants a fact, a
count, an order or what came before/after something); read semantic memory for what holds over time
("where did I leave my keys", "when was I last at the beach", "when did I last see Anna"); read the
episodic memory at the finest scale first and, when the evidence is weak, read coarser episodes and
zoom into the children of the best ones, then widen a time window that found nothing; read the
visual memory (StreamMem) for visual-detail questions where the profile has a VLM. Every round is
recorded as a `Step`; weak evidence is declined rather than offered as a guess.

Flat (the baseline kept for comparison): one vector search at one scale, the top hits into the
profile's LLM.

Answers are extractive: the transcript sentence or the line of text seen in a picture that is
closest to the question, with its file, second, time and place. The bundled LLM is too weak to be
trusted with facts (MODELS.md), so nothing is generated that the evidence does not say.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.places import distance_km
from lifelog.hits import one_per_file
from lifelog.question import GENERIC, ParsedQuestion, parse_question
from lifelog.schema import KIND_NAMES, Answer, Citation, Filters, Hit, Retriever, Step

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
    if top < enough and (filters.start or filters.end) and n < max_rounds:
        # round 3: the time window may be off by a little: widen it by a day on each side
        n += 1
        wider = replace(filters, start=filters.start - timedelta(days=1) if filters.start else None,
                        end=filters.end + timedelta(days=1) if filters.end else None)
        hits = mem.search(parsed.text, filters=wider, scale="segment", min_score=floor)
        top = keep(hits)
        steps.append(_step(n, "episodic", "segment", parsed.text, wider, hits,
                           "sufficient" if top >= enough else "still weak"))
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
    context = "\n".join(f"[{i + 1}] ({h.kind}, {describe_when(h)}{', ' + h.place if h.place else ''}) "
                        f"{(h.transcript or h.ocr or h.title)[:300]}" for i, h in enumerate(hits[:5]))
    prompt = (f"Memories:\n{context}\n\nQuestion: {question}\nAnswer in one short sentence using only the "
              f"memories. If they do not contain the answer, say: I don't know.")
    text = mem.chat([{"role": "user", "content": prompt}], max_tokens=48)
    return text, bool(re.search(r"\b(don't|do not|cannot|can't) (know|tell|find)|not (mentioned|in the memories)", text, re.I))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]


def describe_when(hit: Hit) -> str:
    return hit.local_start.strftime("%a %d %b %Y, %H:%M")


def sufficient(hit: Hit, settings: "Settings") -> bool:
    """Evidence good enough to answer from: close in meaning, or fairly close and sharing the
    question's words. Anything weaker is declined rather than offered as a guess.

    Two cut-offs (`Settings.sufficient_score`, `Settings.keyword_floor`): a menu's "bica 0,80 €" is
    far in meaning from "how much does a bica cost" but names it; a photo of a cat at 0.32 from
    "giraffe at the zoo" names nothing."""
    return hit.score >= settings.sufficient_score or (hit.keyword_score > 0 and hit.score >= settings.keyword_floor)


def _words(text: str) -> set[str]:
    """Content words, crudely stemmed (first 4 letters: stay/stayed, photo/photos)."""
    return {w[:4] for w in re.findall(r"[\w']+", text.lower()) if len(w) > 2 and w not in GENERIC}


def _candidates(hit: Hit) -> list[tuple[str, str]]:
    lines = [("said", t) for t in _sentences(hit.transcript)]
    lines += [("text", t.strip()) for t in hit.ocr.split(" / ") if len(t.strip()) > 2] if hit.ocr else []
    return lines or [("shows", (hit.title or hit.text).strip())]


def extract(mem: Retriever, question: str, hits: list[Hit]) -> tuple[Hit, str, str]:
    """The line of evidence that answers the question best, among the best hits: (its hit, kind, line).

    Kind is "said" (a transcript sentence), "text" (a line of text seen in a picture) or "shows"
    (the caption). A line is judged by its own closeness to the question, its hit's score, and
    shared words (an OCR row "pastel de nata 1,20 €" has little meaning alone).
    """
    pool = [(h, kind, line) for h in hits for kind, line in _candidates(h)]
    if len(pool) == 1:
        return pool[0]
    vectors = mem.embed([line for _, _, line in pool])
    q = mem.embed([question], kind="query")[0]
    qwords = _words(question)
    scores = [float(v @ q) + 0.5 * h.score + 0.15 * len(qwords & _words(line))
              for v, (h, _, line) in zip(vectors, pool)]
    return pool[int(np.argmax(scores))]


VISUAL_QUESTION = re.compile(
    r"\b(colou?r|wear(ing)?|look(ed)? like|shape|what was on|on the (table|stove|wall|floor)|was the .+ (on|off|open|closed)|"
    r"how many (people|persons|cups|things)|what .* holding|what did .* look)\b", re.I)


def read_visual(mem: Retriever, question: str, hits: list[Hit], steps: list[Step]) -> Any:
    """The visual memory round: when the question asks for visual detail that captions and tags lose
    ("what colour was the mug?"), ask the VLM over the compressed visual memory of the best videos."""
    if not VISUAL_QUESTION.search(question):
        return None
    videos = [h for h in hits if h.kind == "video"][:3]
    if not mem.has_vlm():
        steps.append(Step(round=len(steps) + 1, memory="visual", scale="video", query=question, filters="",
                          hits=[], decision="skipped: the profile has no vision-language model (lifelog models pull full)"))
        return None
    if not videos:
        return None
    answer = mem.ask_visual(question, [h.episode_id for h in videos])
    steps.append(Step(round=len(steps) + 1, memory="visual", scale="video/event", query=question, filters="",
                      hits=[(answer.key, round(answer.confidence, 3))] if answer else [],
                      decision=f"VLM over visual memory: {answer.text!r}" if answer else "no visual memory stored"))
    return answer


def visual_answer(va: Any, hits: list[Hit], steps: list[Step], done: Any) -> Answer:
    video = next((h for h in hits if h.media_id == va.media_id), None)
    if video is None:
        return done(va.text, [], steps, va.confidence)
    cite = Citation(media_id=va.media_id, path=video.path, kind="video", start_s=va.start_s, end_s=va.end_s,
                    time=video.start, snippet=f"seen: {va.text}", thumbnail=video.thumbnail, place=video.place,
                    episode_id=video.episode_id, score=round(va.confidence, 4), utc_offset_min=video.utc_offset_min)
    return done(f"{va.text} (seen in the video of {describe_when(video)}, from its visual memory)", [cite],
                steps, va.confidence)


LAST_SEEN = re.compile(r"\bwhere (?:did|have) i (?:last )?(?:see|seen|leave|left|put|have|had) (.+?)\??$", re.I)
LAST_VISIT = re.compile(r"\bwhen (?:was|were) (?:i|we) last (?:at|in|on) (.+?)\??$", re.I)
# names are capitalised: "when did I last see Anna" is about a person, "... see the mug" is not
LAST_PERSON = re.compile(r"(?i:\bwhen did i last see) ([A-Z][\w'-]+)\??$")
HOW_OFTEN = re.compile(r"(?i:\bhow (?:often|many times) did i see) ([A-Z][\w'-]+)\b")
WHO = re.compile(r"^\s*who (?:is|was|were|are) (?:in|on|at|there)\b(.*)$", re.I)


def ask_semantic(mem: Retriever, question: str, parsed: ParsedQuestion, steps: list[Step], done: Any) -> Answer | None:
    """Questions about what holds over time: where a thing was last seen, the last visit to a place,
    when or how often a person was seen, who is in a moment. None: not such a question, or semantic
    memory has no record (the episodic rounds then try)."""
    def step(decision: str, hits: list[tuple[str, float]]) -> None:
        steps.append(Step(round=len(steps) + 1, memory="semantic", scale="-", query=question, filters="",
                          hits=hits, decision=decision))

    if m := LAST_SEEN.search(question):
        rec = mem.last_seen(m.group(1))
        step(f"last seen {m.group(1)!r}: {'found' if rec else 'no record'}", [(rec.thing, 1.0)] if rec else [])
        hit = mem.hit(rec.episode_id) if rec else None
        if rec and hit:
            text = (f"Last seen {describe_when(hit)}{' at ' + rec.place if rec.place else ''}: "
                    f"\u201c{rec.evidence}\u201d")
            return done(text, [_citation(hit, rec.evidence)], steps, 1.0)
    elif m := LAST_VISIT.search(question):
        visit = mem.last_visit(m.group(1))
        step(f"last visit to {m.group(1)!r}: {visit.place if visit else 'none'}", [(visit.place, 1.0)] if visit else [])
        if visit:
            hits = [h for h in mem.browse(Filters(start=visit.start, end=visit.end + timedelta(seconds=1)))
                    if h.media_id in visit.media_ids]
            local = hits[0].local_start if hits else visit.start
            text = f"Last at {visit.place} on {local:%a %d %b %Y}, {local:%H:%M}" + (
                f" ({len(visit.media_ids)} files)" if len(visit.media_ids) > 1 else "")
            return done(text, [_citation(h, _label(h)) for h in hits[:3]] or [], steps, 1.0)
    elif (m := LAST_PERSON.search(question)) or (m2 := HOW_OFTEN.search(question)):
        name = (m or m2).group(1)  # type: ignore[union-attr]
        try:
            seen = mem.sightings(name, parsed.filters.start, parsed.filters.end)
        except KeyError:
            step(f"no person named {name}", [])
            return done(f"I don't know anyone called {name} in your media (name people with `lifelog people name`).",
                        [], steps, 0.0)
        step(f"{len(seen)} sightings of {name}", [(s.episode_id, 1.0) for s in seen[:5]])
        hits = [h for h in (mem.hit(s.episode_id) for s in seen) if h]
        if not hits:
            return done(f"I have no sighting of {name}{' ' + parsed.time_phrase if parsed.time_phrase else ''}.",
                        [], steps, 0.0)
        if m:
            return done(f"Last saw {name} {describe_when(hits[-1])}: {_label(hits[-1])}",
                        [_citation(hits[-1], _label(hits[-1]))], steps, 1.0)
        return done(f"{len(hits)} time{'s' * (len(hits) != 1)}{' ' + parsed.time_phrase if parsed.time_phrase else ''}: "
                    + "; ".join(_label(h) for h in hits[:5]), [_citation(h, _label(h)) for h in hits[:5]], steps, 1.0)
    elif m := WHO.search(question):
        rest = m.group(1).strip(" ?") or question
        hits, more = adaptive(mem, replace(parsed, text=rest))
        steps.extend(more)
        hits = [h for h in hits if sufficient(h, mem.settings)]
        for h in hits[:3]:
            names = mem.who_is(h.episode_id)
            if names:
                step(f"faces in {h.title[:40]}: {', '.join(names)}", [(n, 1.0) for n in names])
                return done(f"{', '.join(names)} ({_label(h)})", [_citation(h, ', '.join(names))], steps, h.score)
    return None


def same_outing(a: Hit, b: Hit, km: float = 0.3, seconds: float = 3600) -> bool:
    if None in (a.lat, a.lon, b.lat, b.lon) or abs((a.start - b.start).total_seconds()) > seconds:
        return False
    return distance_km(a.lat, a.lon, b.lat, b.lon) <= km  # type: ignore[arg-type]


def _citation(h: Hit, snippet: str) -> Citation:
    return Citation(
        media_id=h.media_id, path=h.path, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end, time=h.start,
        snippet=snippet, thumbnail=h.thumbnail, place=h.place, episode_id=h.episode_id, score=h.score,
        utc_offset_min=h.utc_offset_min,
    )


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _label(h: Hit) -> str:
    what = h.transcript.strip() or h.ocr.split(" / ")[0] or h.title
    return f"{KIND_NAMES.get(h.kind, h.kind)} {describe_when(h)}{' at ' + h.place if h.place else ''}: {_short(what)}"


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


def answer_question(mem: Retriever, question: str, *, agent: str, now: datetime) -> Answer:
    t0 = time.perf_counter()
    if not question.strip():
        raise ValueError("the question is empty")
    if agent not in ("adaptive", "flat"):
        raise ValueError(f"unknown agent {agent!r}: choose adaptive or flat")

    def done(text: str, citations: list[Citation], steps: list[Step], confidence: float) -> Answer:
        return Answer(question=question, text=text, abstained=not citations, citations=citations, steps=steps,
                      agent=agent, seconds=time.perf_counter() - t0, confidence=confidence)

    if agent == "flat":
        hits, steps = flat(mem, question)
        if not hits:
            return done("I don't know: memory is empty.", [], steps, 0.0)
        text, declined = flat_answer(mem, question, hits)
        return done(text, [] if declined else [_citation(h, (h.transcript or h.title)[:200]) for h in hits[:3]],
                    steps, 0.0 if declined else hits[0].score)

    parsed = parse_question(question, now, mem.places())
    where = f" {parsed.time_phrase}" if parsed.time_phrase else ""
    unknown = f"I don't know: nothing in memory matches that{where}."
    steps: list[Step] = []

    semantic_answer = ask_semantic(mem, question, parsed, steps, done)
    if semantic_answer is not None:
        return semantic_answer

    if parsed.intent == "count":
        hits = candidates_for(mem, parsed, steps)
        if not hits:
            return done(f"None: nothing in memory matches that{where}.", [], steps, 0.0)
        items = one_per_file(hits)
        kinds = {KIND_NAMES.get(h.kind, h.kind) for h in items}
        noun = kinds.pop() if len(kinds) == 1 else "item"
        text = f"{len(items)} {noun}{'s' * (len(items) != 1)}{where}: " + "; ".join(_label(h) for h in items[:5])
        return done(text, [_citation(h, _label(h)) for h in items[:5]], steps, 1.0)

    if parsed.intent in ("first", "last"):
        hits = candidates_for(mem, parsed, steps)
        if not hits:
            return done(unknown, [], steps, 0.0)
        h = hits[0] if parsed.intent == "first" else hits[-1]
        text = f"The {parsed.intent} one{where}: {_label(h)}"
        return done(text, [_citation(h, _label(h))], steps, h.score)

    if parsed.intent in ("after", "before"):
        anchor_q = replace(parsed, text=parsed.anchor, intent="find")
        anchors, more = adaptive(mem, anchor_q)
        steps.extend(more)
        anchors = [h for h in anchors if sufficient(h, mem.settings)]
        if not anchors:
            return done(f"I don't know: I find nothing in memory about {parsed.anchor}.", [], steps, 0.0)
        a = anchors[0]
        base = replace(parsed.filters, place="")  # "before the beach in Cascais": the place named the anchor
        window = (replace(base, start=a.end, end=a.end + timedelta(days=1)) if parsed.intent == "after"
                  else replace(base, start=a.start - timedelta(days=1), end=a.start))
        # not the anchor's own outing: within 300 m and the hour it is still "the beach"
        around = [h for h in mem.browse(window) if h.media_id != a.media_id and not same_outing(a, h)]
        steps.append(_step(len(steps) + 1, "episodic", "segment", "(next in time)", window, around,
                           f"{parsed.intent} {a.title[:40]}"))
        if not around:
            return done(f"Nothing in memory {parsed.intent} {_label(a)}.", [_citation(a, _label(a))], steps, a.score)
        h = around[0] if parsed.intent == "after" else around[-1]
        text = f"{parsed.intent.capitalize()} that ({_label(a)}), next: {_label(h)}"
        return done(text, [_citation(h, _label(h)), _citation(a, _label(a))], steps, min(a.score, 1.0))

    has_filters = bool(parsed.filters.start or parsed.filters.place or parsed.filters.kinds)
    if not parsed.content_words and has_filters:
        # "where was I on 10 April 2015?", "what did I record in Cascais?": the filters are the question
        hits = mem.browse(parsed.filters)
        steps.append(_step(1, "episodic", "segment", "(all)", parsed.filters, hits,
                           f"{len(hits)} episodes match the filters"))
        if not hits:
            return done(unknown, [], steps, 0.0)
        items = one_per_file(hits)
        text = "; ".join(_label(h) for h in items[:3]) + (f" (and {len(items) - 3} more)" if len(items) > 3 else "")
        return done(text, [_citation(h, _label(h)) for h in items[:3]], steps, 1.0)

    hits, more = adaptive(mem, parsed)
    steps.extend(more)
    visual = read_visual(mem, question, hits, steps)
    if visual is not None:
        return visual_answer(visual, hits, steps, done)
    hits = [h for h in hits if sufficient(h, mem.settings)]
    if not hits:
        return done(unknown, [], steps, 0.0)
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
    citations = [_citation(h, snippet if h is top else (h.transcript or h.title or h.text)[:200])
                 for h in hits[:3] if h is top or h.score >= best.score - 0.15]
    return done(text, citations, steps, top.score)
