"""The retrieval rounds the agent reads memory with (lifelog/agent.py answers from them).

Adaptive (after WorldMM): the finest scale first with the question's filters; when the evidence is
weak, coarser episodes (events, sessions) and the children of the best ones. Flat, the baseline
kept for comparison: one vector search at one scale. `sufficient` decides whether a hit is
evidence at all; `extract` picks the line of evidence that answers; `anchors_for` finds the
episodes a question is about.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from ingest.places import distance_km
from lifelog import lexicon
from lifelog.question import GENERIC, ParsedQuestion
from lifelog.readers import sentences
from lifelog.timeparse import MONTHS
from lifelog.schema import Filters, Hit, Retriever, Step
from lifelog.labels import when

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
    floor -= COVERAGE_MARGIN  # `sufficient` judges what comes back; documents far in meaning but naming the words stay
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


def coverage(hit: Hit, words: set[str]) -> int:
    """How many of the question's content words (crudely stemmed) the episode's text holds."""
    text = _words(f"{hit.title} {hit.text} {hit.transcript} {hit.ocr}")
    return len({w[:4] for w in words if len(w) > 2} & text)


def sufficient(hit: Hit, settings: "Settings", words: set[str] | None = None, narrow: bool = False) -> bool:
    """Evidence good enough to answer from: close in meaning (the fused score reaches
    `Settings.sufficient_score`), or sharing the question's words while its meaning alone reaches
    `Settings.keyword_floor`. The floor is on the meaning, not the fused score: one shared word
    raises the fused score by up to 0.25, and "what did Sam say about football?" must not be
    answered by a football helmet at a similarity of 0.15."""
    if hit.score >= settings.sufficient_score or (hit.keyword_score > 0 and hit.similarity >= settings.keyword_floor):
        return True
    if narrow and words and coverage(hit, words) >= 1 and hit.similarity >= settings.keyword_floor - NARROW_MARGIN:
        return True  # inside a place or a time span the question named, one shared word is a strong sign
    # a document (a receipt, a long talk) is far in meaning from any one question about a line of
    # it: it counts when it holds two of the question's words and is not far off in meaning
    return words is not None and coverage(hit, words) >= min(2, len(words)) and len(words) >= 2 and \
        hit.similarity >= settings.keyword_floor - COVERAGE_MARGIN


# how far under the keyword floor a document holding two of the question's words may be in meaning
# (a receipt's whole text is ~0.2 from a question about one of its rows)
COVERAGE_MARGIN = 0.15
# and one that shares a word inside the place or the time span the question named (a voice note's
# several sentences are ~0.14 from a question about one of them)
NARROW_MARGIN = 0.2


def _words(text: str) -> set[str]:
    """Content words, crudely stemmed (first 4 letters: stay/stayed, photo/photos)."""
    return {w[:4] for w in re.findall(r"[\w']+", text.lower()) if len(w) > 2 and w not in GENERIC}


def _candidates(hit: Hit) -> list[tuple[str, str]]:
    lines = [("said", t) for t in sentences(hit.transcript)]
    if hit.ocr:
        rows = [r.strip() for r in hit.ocr.split(" / ") if len(r.strip()) > 2]
        lines += [("text", r) for r in rows]
        # a row of a table holds several cells ("Card Savings  MULTIGRAIN CHEERIO  2.69"): each is a line too
        lines += [("text", c.strip()) for r in rows for c in re.split(r"\s{2,}", r) if len(c.strip()) > 3 and c.strip() != r]
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
        if exclude_echo and kind == "text":
            rows = [r.strip() for r in h.ocr.split(" / ")]
            at = rows.index(line) if line in rows else -1
            if 0 <= at < 2 and qwords & words:
                score -= 0.3  # a document's header names it (which receipt): it is the anchor, not the answer
            elif words and words <= qwords:
                score -= 0.5  # only the question's own words
        elif exclude_echo and words and words <= qwords:
            score -= 0.5
        scores.append(score)
    if exclude_echo:
        # a row that is only the question's words ("#TAKE AWAY#"), past the header: the answer is what follows it
        for i, (h, kind, line) in enumerate(pool):
            rows = [r.strip() for r in h.ocr.split(" / ")] if kind == "text" else []
            words = _words(line)
            if line in rows and rows.index(line) >= 2 and words and words <= qwords:
                at = rows.index(line)
                follow = " ".join(rows[at + 1:at + 3]).strip()
                if follow and not _words(follow) <= qwords:
                    # the question points inside the document ("to take away at <restaurant>"): what
                    # follows the row it points at outranks every line that only matches in meaning
                    pool.append((h, "text", follow))
                    scores.append(max(scores) + 0.01)
                    break
    return pool[int(np.argmax(scores))]


def same_outing(a: Hit, b: Hit, km: float = 0.3, seconds: float = 3600) -> bool:
    if None in (a.lat, a.lon, b.lat, b.lon) or abs((a.start - b.start).total_seconds()) > seconds:
        return False
    return distance_km(a.lat, a.lon, b.lat, b.lon) <= km  # type: ignore[arg-type]


def candidates_for(mem: Retriever, parsed: ParsedQuestion, steps: list[Step], *, order: bool = False) -> list[Hit]:
    """For counting and ordering: every episode the filters allow when the question names nothing
    else ("how many photos did I take in Madrid"), else the relevant ones ("the first time I saw a
    cat"). To order within a few days ("that day, which came first?"), the filters' episodes when
    the words find nothing."""
    few_days = bool(parsed.filters.local_start and parsed.filters.local_end and
                    parsed.filters.local_end - parsed.filters.local_start <= timedelta(days=3))
    if parsed.content_words and order and few_days:
        found = candidates_for(mem, parsed, steps)
        if found:
            return found
    if not parsed.content_words or (order and few_days):
        hits = mem.browse(parsed.filters)
        steps.append(_step(len(steps) + 1, "episodic", "segment", "(all)", parsed.filters, hits,
                           f"{len(hits)} episodes match the filters"))
        return hits
    # every match in the library, not a top-k: "how many times did I see a cat" counts them all
    hits = mem.search(parsed.text, filters=parsed.filters, scale="segment", limit=COUNT_LIMIT,
                      min_score=mem.settings.keyword_floor)
    hits = [h for h in hits if sufficient(h, mem.settings, parsed.content_words)]
    steps.append(_step(len(steps) + 1, "episodic", "segment", parsed.text, parsed.filters, hits,
                       f"{len(hits)} episodes match"))
    return sorted(hits, key=lambda h: h.start)


COUNT_LIMIT = 5000  # episodes a count or an order reads at most from one search


def narrowed(f: Filters) -> bool:
    """The question named a place or a time span (not only a kind of media)."""
    return bool(f.place or f.local_start or f.start or f.people)


def label_near(mem: Retriever, label: str, line: str) -> bool:
    """Whether a line read as "the <label>" is one in meaning or words ("museum" -> "Musée du
    LOUVRE"; "flight" -> "CASH" is not)."""
    if _words(label) & _words(line):
        return True
    a, b = mem.embed([label, line])
    return float(a @ b) >= LABEL_SIMILARITY


# a line this close in meaning to the class a question names can be read as one (MiniLM)
LABEL_SIMILARITY = 0.3


def topic_words(question: str) -> set[str]:
    """What a question is about, where it says so: "what did Sam say about football?" -> football."""
    m = re.search(r"\babout (?:the |my |our |a |an |his |her |their )?((?:[\w'-]+ ?){1,3})[?.!]*\s*$", question, re.I)
    if not m or re.match(r"(how|what|when|where|it|that|this|them|him|her)\b", m.group(1), re.I):
        return set()
    return {w for w in re.findall(r"[\w']+", m.group(1).lower()) if w not in GENERIC and len(w) > 2}


def missing_words(mem: Retriever, words: set[str], hit: Hit) -> list[str]:
    """The topic words that the evidence neither holds nor comes near in meaning ("football" for
    "what did Sam say about football?" against "Dinner with Sam on Saturday")."""
    text = f"{hit.title} {hit.text} {hit.transcript} {hit.ocr} {hit.place} {' '.join(hit.tags)}"
    have = _words(text)
    absent = sorted(w for w in words if len(w) > 2 and w[:4] not in have)
    if not absent:
        return []
    passage = mem.embed([(hit.transcript or hit.ocr or hit.title)[:500]])[0]
    sims = mem.embed(absent, kind="query") @ passage
    return [w for w, s in zip(absent, sims) if float(s) < MISSING_SIMILARITY]


# a question word this far in meaning from the evidence is not in it (MiniLM: "football" against a
# sentence about dinner ~0.1; "sea" against a sentence about the beach ~0.4)
MISSING_SIMILARITY = 0.25


def has_filters(f: Filters) -> bool:
    return bool(f.start or f.end or f.place or f.kinds or f.hours or f.people or f.media_id)


def anchors_for(mem: Retriever, parsed: ParsedQuestion, steps: list[Step], *, browse_if_weak: bool = False) -> list[Hit]:
    """The episodes a question is about: those its words find within its filters, best first; with
    no words left ("where was I on 12 September"), every episode the filters allow, in time order."""
    if parsed.content_words:
        hits, more = adaptive(mem, parsed)
        steps.extend(more)
        hits = [h for h in hits if sufficient(h, mem.settings, parsed.content_words, narrow=narrowed(parsed.filters))]
        found = {h.episode_id for h in hits}
        hits += [h for h in by_class(mem, parsed, steps) if h.episode_id not in found]
        hits = named_only(mem, parsed, hits, steps)
        if hits or not browse_if_weak:
            return hits
        if not (parsed.filters.place or parsed.filters.start or parsed.filters.hours):
            return []  # only a kind: the words were the question
    if not has_filters(parsed.filters):
        return []
    hits = mem.browse(parsed.filters)
    if parsed.length:  # "the short voice note": the shortest first
        hits.sort(key=lambda h: h.duration_s, reverse=parsed.length == "long")
    steps.append(_step(len(steps) + 1, "episodic", "segment", "(all)", parsed.filters, hits,
                       f"{len(hits)} episodes match the filters"))
    return hits


def names_in(question: str) -> list[str]:
    """Capitalised names inside a question ("the Safeway receipt", "Café Aurora"), not its first word."""
    words = re.findall(r"(?<=[\s(\"'])([A-Z][\w'&.-]*(?:\s+[A-Z][\w'&.-]*)*)", question)
    return [w for w in words if w.lower() not in GENERIC and w.lower() not in MONTHS and len(w) > 2]


def named_only(mem: Retriever, parsed: ParsedQuestion, hits: list[Hit], steps: list[Step]) -> list[Hit]:
    """A name the library's words hold ("Safeway") must be in the evidence: another shop's receipt
    is not an answer about this one. Names that are places (filters already) or spelled nowhere are
    left to the search."""
    keep = hits
    for name in names_in(parsed.question):
        low = name.lower()
        if parsed.filters.place and low in parsed.filters.place.lower():
            continue
        holds = [h for h in keep if low in f"{h.title} {h.text} {h.transcript} {h.ocr} {h.path}".lower()]
        if holds:
            keep = holds
        elif any(h.keyword_score > 0 and low in f"{h.text} {h.transcript} {h.ocr}".lower()
                 for h in mem.search(name, min_score=None, limit=3)):
            steps.append(_step(len(steps) + 1, "episodic", "segment", name, parsed.filters, [],
                               f"{name!r} is in the library but in none of these"))
            return []
    return keep


def by_class(mem: Retriever, parsed: ParsedQuestion, steps: list[Step]) -> list[Hit]:
    """Episodes whose tags are kinds of a thing the question names ("animals" finds the "Egyptian
    cat", "the old field gun" the "cannon"), from WordNet (lifelog/lexicon.py); found by their
    class, they count as sufficient evidence, ranked below what matched in meaning."""
    tags = mem.tags()
    if not tags or not lexicon.available():
        return []
    out: dict[str, Hit] = {}
    for word in sorted(parsed.content_words):
        kinds, found = of_kinds(mem, word, tags, filters=parsed.filters, scale="segment")
        if not kinds:
            continue
        found = [h for h in found if h.episode_id not in out]
        for h in found:
            out[h.episode_id] = replace(h, score=round(max(h.score, mem.settings.sufficient_score), 4))
        steps.append(_step(len(steps) + 1, "semantic", "segment", word, parsed.filters, found,
                           f"{word!r} covers the tags {', '.join(kinds)} (WordNet)"))
    return sorted(out.values(), key=lambda h: h.score, reverse=True)


def of_kinds(mem: Retriever, word: str, tags: list[str], *, filters: Filters, scale: str | None,
             limit: int | None = None) -> tuple[list[str], list[Hit]]:
    """The library's tags that are kinds of `word` (at most lexicon.CLASS_TAGS), and the episodes
    tagged with one of them, each once."""
    kinds = lexicon.narrower(word, tags)[:lexicon.CLASS_TAGS]
    found: dict[str, Hit] = {}
    for tag in kinds:
        for h in mem.search(tag, filters=filters, scale=scale, limit=limit, min_score=None):
            if tag in h.tags:
                found.setdefault(h.episode_id, h)
    return kinds, list(found.values())


def with_classes(mem: Retriever, text: str, hits: list[Hit], *, filters: Filters, scale: str | None,
                 limit: int, floor: float) -> list[Hit]:
    """A search's hits and the episodes tagged with kinds of its words ("coffee" finds the
    "espresso", as `by_class` does for questions), these at the cut-off `floor`, below the hits."""
    tags = mem.tags() if lexicon.available() else []
    if not tags:
        return hits
    seen = {h.episode_id for h in hits}
    found: list[Hit] = []
    for word in sorted(set(re.findall(r"[^\W\d_]{3,}", text.lower()))):
        _, tagged = of_kinds(mem, word, tags, filters=filters, scale=scale, limit=limit)
        found += [replace(h, score=floor) for h in tagged if h.episode_id not in seen]
        seen |= {h.episode_id for h in tagged}
    return sorted(hits + found, key=lambda h: h.score, reverse=True)[:limit]


