"""The retrieval agent: answer a question from memory with evidence, or say it is not there.

Adaptive (after WorldMM, with OmniQuery's anchor-then-answer):
1. parse what is asked (a place, a date, an offset, a device, an amount, what was said, ...), its
   constraints (a time span in the capture's own clock, a part of the day, a kind, a place, read
   in meaning when the library spells it differently) and its order (count, first, after);
2. read semantic memory for what holds over time ("where did I leave my keys", "when was I last
   at the beach", "when did I last see Anna");
3. count and order over every episode the filters allow, with no cap;
4. find the anchor: the episodes the question's words find (finest scale first; coarser episodes
   and their children when the evidence is weak), or every episode the filters allow;
5. read the asked attribute inside the anchor (lifelog/typed.py), or, for a question that asks for
   a moment or a fact in words, the line of evidence that answers it (lifelog/rounds.py `extract`);
   the visual memory (StreamMem) answers visual detail where the profile has a VLM.
Every round is recorded as a `Step`. Evidence that is weak in meaning, or that holds no value of
the asked type, is declined with what is missing ("... carries no location").

Flat (the baseline kept for comparison): one vector search at one scale, the top hits into the
profile's LLM.

Answers are extractive or composed from stored fields, with file, second, time and place. The
bundled LLM is too weak to be trusted with facts (MODELS.md), so nothing is generated that the
evidence does not say.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from lifelog.hits import one_per_file
from lifelog.question import ParsedQuestion, parse_question
from lifelog.readers import clock_of
from lifelog.resolve import resolve_place, speaker, spelled_as, stay_day
from lifelog.rounds import (_step, adaptive, anchors_for, candidates_for, extract, flat, flat_answer, missing_words,
                            label_near, same_outing, sufficient,
                            topic_words)
from lifelog.schema import KIND_NAMES, Answer, Citation, Filters, Hit, Retriever, Step
from lifelog.timeparse import BadDate
from lifelog.labels import cite, label, when, where_phrase
from lifelog.typed import typed_answer

describe_when = when


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
# seen by face; heard (a call, a talk, a voice note) by voice
MET = r"(see|hear|talk to|talk with|speak to|speak with)"
LAST_PERSON = re.compile(rf"(?i:\bwhen did i last {MET}) ([A-Z][\w'-]+)\??$")
HOW_OFTEN = re.compile(rf"(?i:\bhow (?:often|many times) did i {MET}) ([A-Z][\w'-]+)\b")
WHO = re.compile(r"^\s*who (?:is|was|were|are) (?:in|on|at|there)\b(.*)$", re.I)
TALKED = re.compile(r"^\s*who (?:was|were|did) (?:i|we) (?:talking|speaking|talk|speak|chatting|chat)\b", re.I)


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
            return done(text, [cite(hit, rec.evidence)], steps, 1.0)
    elif m := LAST_VISIT.search(question):
        visit = mem.last_visit(m.group(1))
        step(f"last visit to {m.group(1)!r}: {visit.place if visit else 'none'}", [(visit.place, 1.0)] if visit else [])
        if visit:
            hits = [h for h in mem.browse(Filters(start=visit.start, end=visit.end + timedelta(seconds=1)))
                    if h.media_id in visit.media_ids]
            local = hits[0].local_start if hits else visit.start
            text = f"Last at {visit.place} on {local:%a %d %b %Y}, {local:%H:%M}" + (
                f" ({len(visit.media_ids)} files)" if len(visit.media_ids) > 1 else "")
            return done(text, [cite(h, label(h)) for h in hits[:3]] or [], steps, 1.0)
    elif (m := LAST_PERSON.search(question)) or (m2 := HOW_OFTEN.search(question)):
        verb, name = (m or m2).group(1).lower(), (m or m2).group(2)  # type: ignore[union-attr]
        heard = verb != "see"
        try:
            if heard and hasattr(mem, "hearings"):
                seen = mem.hearings(name, parsed.filters.start, parsed.filters.end)  # type: ignore[attr-defined]
            else:
                seen = mem.sightings(name, parsed.filters.start, parsed.filters.end)
        except KeyError:
            step(f"no person named {name}", [])
            return done(f"I don't know anyone called {name} in your media (name people with `lifelog people name`).",
                        [], steps, 0.0)
        what = "times heard" if heard else "sightings"
        step(f"{len(seen)} {what} of {name}", [(s.episode_id, 1.0) for s in seen[:5]])
        hits = [h for h in (mem.hit(s.episode_id) for s in seen) if h]
        if heard:  # a conversation is one time, however many turns: the last turn of each recording
            hits = sorted({h.media_id: h for h in hits}.values(), key=lambda h: h.start)
        if not hits:
            return done(f"I have no {'recording of' if heard else 'sighting of'} {name}"
                        f"{' ' + parsed.time_phrase if parsed.time_phrase else ''}.", [], steps, 0.0)
        if m:
            return done(f"Last {'heard' if heard else 'saw'} {name} {describe_when(hits[-1])}: {label(hits[-1])}",
                        [cite(hits[-1], label(hits[-1]))], steps, 1.0)
        return done(f"{len(hits)} time{'s' * (len(hits) != 1)}{' ' + parsed.time_phrase if parsed.time_phrase else ''}: "
                    + "; ".join(label(h) for h in hits[:5]), [cite(h, label(h)) for h in hits[:5]], steps, 1.0)
    elif TALKED.search(question) and hasattr(mem, "talkers"):
        heard = [(who, h) for who, h in ((w, mem.hit(e)) for w, e in mem.talkers(parsed.filters.start, parsed.filters.end))
                 if h and parsed.filters.admits(h)]  # type: ignore[attr-defined]
        step(f"{len(heard)} voices heard", [(w, 1.0) for w, _ in heard[:5]])
        if heard:
            names = list(dict.fromkeys(w for w, _ in heard))
            return done(f"{', '.join(names)} ({'; '.join(label(h) for _, h in heard[:3])})",
                        [cite(h, w) for w, h in heard[:5]], steps, 1.0)
        return done(f"I don't know: no one is heard speaking{where_phrase(parsed)}.", [], steps, 0.0)
    elif m := WHO.search(question):
        rest = m.group(1).strip(" ?") or question
        hits, more = adaptive(mem, replace(parsed, text=rest))
        steps.extend(more)
        hits = [h for h in hits if sufficient(h, mem.settings)]
        for h in hits[:3]:
            names = mem.who_is(h.episode_id)
            if names:
                step(f"faces in {h.title[:40]}: {', '.join(names)}", [(n, 1.0) for n in names])
                return done(f"{', '.join(names)} ({label(h)})", [cite(h, ', '.join(names))], steps, h.score)
    return None


def answer_question(mem: Retriever, question: str, *, agent: str, now: datetime) -> Answer:
    t0 = time.perf_counter()
    yes_no = False
    if not question.strip():
        raise ValueError("the question is empty")
    if agent not in ("adaptive", "flat"):
        raise ValueError(f"unknown agent {agent!r}: choose adaptive or flat")

    def done(text: str, citations: list[Citation], steps: list[Step], confidence: float,
             abstained: bool | None = None) -> Answer:
        abstained = not citations if abstained is None else abstained
        if yes_no and not abstained and not text.startswith("I don't know"):
            text = f"Yes: {text}"  # "did I ...?" with evidence
        return Answer(question=question, text=text, abstained=abstained,
                      citations=citations, steps=steps, agent=agent, seconds=time.perf_counter() - t0,
                      confidence=confidence)

    if agent == "flat":
        hits, steps = flat(mem, question)
        if not hits:
            return done("I don't know: memory is empty.", [], steps, 0.0)
        text, declined = flat_answer(mem, question, hits)
        return done(text, [] if declined else [cite(h, (h.transcript or h.title)[:200]) for h in hits[:3]],
                    steps, 0.0 if declined else hits[0].score)

    steps: list[Step] = []
    try:
        parsed = parse_question(question, now, mem.places())
    except BadDate as e:
        return done(f"I don't know: {e}.", [], steps, 0.0)
    parsed = speaker(mem, spelled_as(mem, stay_day(mem, resolve_place(mem, parsed, steps), steps), steps), steps)
    yes_no = parsed.asks == "yes_no"
    where = f" {parsed.time_phrase}" if parsed.time_phrase else ""
    about = topic_words(parsed.text) or parsed.content_words
    ordered = [w for w in re.findall(r"[\w']+", question.lower()) if w in about]
    unknown = (f"I don't know: nothing in memory about {', '.join(dict.fromkeys(ordered))}{where_phrase(parsed)}." if ordered
               else f"I don't know: nothing in memory matches that{where_phrase(parsed)}.")

    if parsed.place_unknown:
        return done(f"I don't know: nothing in memory is from {parsed.place_unknown} (no place and no words by that name).",
                    [], steps, 0.0)

    semantic_answer = ask_semantic(mem, question, parsed, steps, done)
    if semantic_answer is not None:
        return semantic_answer

    if parsed.intent == "count":
        hits = candidates_for(mem, parsed, steps)
        if not hits:
            return done(f"None: nothing in memory matches that{where_phrase(parsed)}.", [], steps, 0.0, abstained=False)
        items = one_per_file(hits)
        kinds = {KIND_NAMES.get(h.kind, h.kind) for h in items}
        noun = kinds.pop() if len(kinds) == 1 else "file"
        text = f"{len(items)} {noun}{'s' * (len(items) != 1)}{where_phrase(parsed)}: " + "; ".join(label(h) for h in items[:5])
        return done(text, [cite(h, label(h)) for h in items[:5]], steps, 1.0)

    if parsed.intent.startswith("compare_"):
        return _compare(mem, parsed, steps, done)

    if parsed.intent in ("first", "last"):
        hits = [h for h in candidates_for(mem, parsed, steps, order=True) if not h.file_dated]
        if not hits:
            return done(unknown, [], steps, 0.0)
        h = hits[0] if parsed.intent == "first" else hits[-1]
        typed = typed_answer(mem, parsed, [h], steps, done, lambda hs: extract(mem, parsed.text, hs)) \
            if parsed.asks in ("place", "device", "date", "time") else None
        if typed is not None and not typed.abstained:
            return typed
        text = f"The {parsed.intent} one{where}: {label(h)}"
        return done(text, [cite(h, label(h))], steps, h.score)

    if parsed.intent in ("after", "before"):
        anchor_q = replace(parsed, text=parsed.anchor, intent="find", filters=replace(parsed.filters, kinds=()))
        anchors, more = adaptive(mem, anchor_q)
        steps.extend(more)
        anchors = [h for h in anchors if sufficient(h, mem.settings, anchor_q.content_words)]
        if not anchors:
            return done(f"I don't know: I find nothing in memory about {parsed.anchor}.", [], steps, 0.0)
        a = anchors[0]
        base = replace(parsed.filters, place="", start=None, end=None, local_start=None, local_end=None)
        window = (replace(base, start=a.end, end=a.end + timedelta(days=1)) if parsed.intent == "after"
                  else replace(base, start=a.start - timedelta(days=1), end=a.start))
        # not the anchor's own outing: within 300 m and the hour it is still "the beach"
        around = [h for h in mem.browse(window) if h.media_id != a.media_id and not same_outing(a, h)]
        steps.append(_step(len(steps) + 1, "episodic", "segment", "(next in time)", window, around,
                           f"{parsed.intent} {a.title[:40]}"))
        if not around:
            return done(f"I don't know: nothing in memory {parsed.intent} {label(a)}.", [cite(a, label(a))], steps,
                        a.score, abstained=True)
        h = around[0] if parsed.intent == "after" else around[-1]
        text = f"{label(h)} ({parsed.intent} {label(a)})"
        return done(text, [cite(h, label(h)), cite(a, label(a))], steps, min(a.score, 1.0))

    metadata = parsed.asks in ("place", "date", "time", "device", "duration")
    anchors = anchors_for(mem, parsed, steps, browse_if_weak=parsed.asks == "device")
    if parsed.asks not in ("find", "value", "yes_no") or not parsed.content_words:
        if not anchors:
            return done(unknown, [], steps, 0.0)
        typed = typed_answer(mem, parsed, anchors, steps, done, lambda hs: extract(mem, parsed.text, hs),
                             lambda _, h: missing_words(mem, topic_words(parsed.text), h))
        if typed is not None:
            return typed
        if metadata or not parsed.content_words:
            return _list_answer(anchors, steps, done)
    elif parsed.asks == "value" and anchors:
        typed = typed_answer(mem, parsed, anchors, steps, done, lambda hs: extract(mem, parsed.text, hs))
        if typed is not None:
            return typed

    hits = anchors
    if not hits:
        return done(unknown, [], steps, 0.0)
    visual = read_visual(mem, question, hits, steps)
    if visual is not None:
        return visual_answer(visual, hits, steps, done)
    textual = parsed.asks in ("value", "number", "person", "company", "amount")
    if textual:  # a value is read in text (a transcript, a picture's text), never in a caption's tags
        hits = [h for h in hits if h.transcript.strip() or h.ocr.strip()]
        if not hits:
            top = anchors[0]
            return done(f"I don't know: {label(top)} holds no text that says that.", [cite(top, label(top))],
                        steps, 0.0, abstained=True)
    best = hits[0]
    missing = missing_words(mem, topic_words(parsed.text), best)
    if missing:
        return done(f"I don't know: the nearest I have is {label(best)}, and nothing in memory about "
                    f"{' or '.join(missing)}.", [cite(best, label(best))], steps, 0.0, abstained=True)
    near = [h for h in hits[:3] if h.score >= best.score - 0.15]
    # "what cereal was on the receipt", "which museum was on the sign": the line closest to the class asked
    top, source, snippet = extract(mem, parsed.label or parsed.text, near, exclude_echo=True)
    if parsed.label and parsed.asks == "value" and not label_near(mem, parsed.label, snippet):
        return done(f"I don't know: I find no {parsed.label} in {label(top)}.", [cite(top, label(top))], steps, 0.0,
                    abstained=True)
    if textual and source == "shows":
        return done(f"I don't know: {label(top)} holds no text that says that.", [cite(top, label(top))],
                    steps, 0.0, abstained=True)
    hits = [top] + [h for h in hits if h is not top]
    place = f" at {top.place}" if top.place else ""
    kind = KIND_NAMES.get(top.kind, top.kind)
    name = top.path.rsplit("/", 1)[-1]
    if source == "said":
        text = f"\u201c{snippet}\u201d ({kind} {name}, {when(top)}{place}, at {clock_of(top.offset_start)})"
    elif source == "text":
        text = f"\u201c{snippet}\u201d (text in the {kind} {name}, {when(top)}{place})"
    else:
        text = f"{snippet} ({kind} {name}, {when(top)}{place})"
    citations = [cite(h, snippet if h is top else (h.transcript or h.title or h.text)[:200])
                 for h in hits[:3] if h is top or h.score >= best.score - 0.15]
    return done(text, citations, steps, top.score)


def _compare(mem: Retriever, parsed: ParsedQuestion, steps: list[Step], done: Any) -> Answer:
    """"Which came first, A or B?": find each, then compare their capture times."""
    found: list[Hit] = []
    for option in parsed.options:
        q = replace(parsed, text=option, intent="find", options=())
        hits, more = adaptive(mem, q)
        steps.extend(more)
        hits = [h for h in hits if sufficient(h, mem.settings, q.content_words)]
        if not hits:
            return done(f"I don't know: I find nothing in memory about {option}.", [], steps, 0.0)
        dated = [h for h in hits if not h.file_dated and h.score >= hits[0].score - 0.1]
        found.append(dated[0] if dated else hits[0])
    if any(h.file_dated for h in found):
        undated = next(h for h in found if h.file_dated)
        return done(f"I don't know: {label(undated)} has no capture time to compare.", [cite(h, label(h)) for h in found],
                    steps, 0.0, abstained=True)
    a, b = sorted(found, key=lambda h: h.start)
    pick = a if parsed.intent == "compare_first" else b
    option = parsed.options[found.index(pick)]
    other = parsed.options[1 - found.index(pick)]
    text = (f"{option.capitalize()} came {'first' if pick is a else 'later'}: {label(pick)}; then {other}: {label(b if pick is a else a)}"
            if pick is a else f"{option.capitalize()} came later: {label(pick)}; {other} was first: {label(a)}")
    return done(text, [cite(h, label(h)) for h in (pick, a if pick is b else b)], steps, min(h.score for h in found))


def _list_answer(hits: list[Hit], steps: list[Step], done: Any) -> Answer:
    """The filters are the question ("what did I record in Cascais?"): what they hold, in time order."""
    items = one_per_file(sorted(hits, key=lambda h: h.start))
    text = "; ".join(label(h) for h in items[:3]) + (f" (and {len(items) - 3} more)" if len(items) > 3 else "")
    return done(text, [cite(h, label(h)) for h in items[:3]], steps, 1.0)
