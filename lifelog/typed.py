"""Typed answers: the answer is composed from the fields that hold what the question asks, read
inside the question's anchor, with the evidence cited; or a plain "I don't know" that says what is
missing.

The anchor is found first (the episodes the question's words and filters point at: "the long
recording from Paris", "the receipt from the Korean restaurant", or, with no words left, every
episode the filters allow: "on 12 September 2016"), then the asked attribute is read inside it:

| asks     | read from                                   | example answer                                   |
|----------|---------------------------------------------|--------------------------------------------------|
| place    | the episodes' place names                   | Paris, Ile-de-France, France (1 photo, 2 recordings) |
| date     | capture times (not file-copy dates)         | Sat 07 Apr 2018, 22:31                            |
| time     | capture time                                | 10:33 on Tue 10 Feb 2015                          |
| duration | the file's length, else the span of a visit | 15 min (the recording of ...)                     |
| offset   | the segment's seconds into its file         | 7:32 into the recording                           |
| device   | the file's camera make and model            | Canon PowerShot SX60 HS (2 photos)                |
| amount   | an item's row, else the total row           | $60.44 (the total on the photo of ...)            |
| number   | the number next to the asked words          | 225 ("331 in favour, 225 against.")               |
| value    | the text after a label ("Password")         | 9PJz5i8n                                          |
| person   | named faces                                 | Anna (photo ...)                                  |

Each function returns None when the question is not of its type's shape, so the agent goes on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from ingest.times import printed_date
from lifelog import readers
from lifelog.labels import Done, cite, counts, declined, kind_name, label, ranked_by, stems, step, when, where_phrase
from lifelog.question import ParsedQuestion
from lifelog.schema import Answer, Hit, Step
from lifelog.typed_text import answer_amount, answer_number, answer_person, answer_value

if TYPE_CHECKING:
    from lifelog.schema import Retriever


def answer_place(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    ranked = ranked_by(anchors, lambda h: h.place)
    if not ranked:
        return declined(done, steps, anchors[0], f"I don't know where: {label(anchors[0])} carries no location (no GPS).")
    by_place = dict(ranked)
    named = parsed.filters.place.lower()
    # "where did I have lunch in Paris?": a place inside the one named, or no answer (the town
    # itself, or a place read as the named one by meaning, says nothing new)
    if named and (parsed.place_named or all(p.split(",")[0].strip().lower() == named for p in by_place)):
        top = ranked[0][1][0]
        return declined(done, steps, top, f"I don't know: I only have {label(top)}; nothing in memory says more about "
                                          f"where than {parsed.place_named or parsed.filters.place}.")
    parts = []
    for place, hits in ranked[:3]:
        first, last = hits[0], hits[-1]
        span = f"{first.local_start:%a %d %b %Y, %H:%M}" + (f"-{last.local_start:%H:%M}" if last is not first and
                                                             last.local_start.date() == first.local_start.date() else
                                                             f" to {last.local_start:%a %d %b %Y}" if last is not first else "")
        parts.append(f"{place} ({counts(hits)}, {span})")
    cites = [cite(h, label(h)) for _, hits in ranked[:3] for h in hits[:2]]
    step(steps, "episodic", parsed.text, [(p, float(len(h))) for p, h in ranked[:5]], "places of the anchor episodes")
    return done("; ".join(parts), cites, steps, 1.0)


PRINTED = re.compile(r"\b(?:say|says|said|printed|written|show|shows|read|reads|stamped|on it)\b", re.I)


def answer_when(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done,
                clock: bool) -> Answer:
    if PRINTED.search(parsed.question) and anchors[0].ocr:
        # "what time does the receipt say?": the time printed in it, not when the photo was taken
        top = anchors[0]
        printed = printed_date(top.ocr)
        if printed is not None:
            line = next((r for r in readers.rows(top.ocr) if printed_date(r)), "")
            text = f"{printed:%H:%M} on {printed:%a %d %b %Y}" if clock else f"{printed:%a %d %b %Y, %H:%M}"
            return done(f"{text} (printed on the {kind_name(top)} {top.path.rsplit('/', 1)[-1]}: \u201c{line}\u201d)",
                        [cite(top, line)], steps, top.score)
    if parsed.content_words:  # a moment: the best match, and those as good
        best = anchors[0].score
        anchors = [h for h in anchors if h.score >= best - 0.05][:3]
    dated = [h for h in anchors if not h.file_dated]
    if not dated:
        top = anchors[0]
        return declined(done, steps, top, f"I don't know when: {top.path.rsplit('/', 1)[-1]} carries no capture time (its date, "
                    f"{top.local_start:%d %b %Y}, is when the file was copied).")
    dated.sort(key=lambda h: h.start)
    first, last = dated[0], dated[-1]
    days = sorted({h.local_start.date() for h in dated})
    where = f" at {first.place}" if first.place and len({h.place for h in dated}) == 1 else ""
    if len(days) == 1:
        t = first.local_start
        text = (f"{t:%H:%M} on {t:%a %d %b %Y}" if clock else f"{t:%a %d %b %Y}, {t:%H:%M}") + (
            f" (until {last.local_end:%H:%M})" if last is not first or (first.end - first.start).total_seconds() > 120 else "")
    else:
        text = f"{first.local_start:%a %d %b %Y} to {last.local_start:%a %d %b %Y} ({len(days)} days)"
    text += f"{where}: {counts(dated)}"
    if len(dated) == 1:
        text += f" ({label(first)})"
    return done(text, [cite(h, label(h)) for h in dated[:5]], steps, 1.0)


def answer_duration(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    timed = [h for h in anchors if h.duration_s > 0]
    if timed and (parsed.content_words or len({h.media_id for h in timed}) == 1):
        top = timed[0]
        return done(f"{readers.duration_words(top.duration_s)} ({top.duration_s:.0f} s): the {kind_name(top)} "
                    f"{top.path.rsplit('/', 1)[-1]}, {when(top)}{' at ' + top.place if top.place else ''}",
                    [cite(top, label(top))], steps, 1.0)
    dated = sorted([h for h in anchors if not h.file_dated], key=lambda h: h.start)
    if len(dated) < 2:
        top = anchors[0]
        return declined(done, steps, top, f"I don't know how long: {label(top)} has no length of its own.")
    span = max(h.end for h in dated) - dated[0].start
    return done(f"About {readers.duration_words(span.total_seconds())}: from {dated[0].local_start:%a %d %b %Y, %H:%M} "
                f"to {dated[-1].local_end:%H:%M} ({counts(dated)})", [cite(dated[0], label(dated[0])),
                                                                      cite(dated[-1], label(dated[-1]))], steps, 1.0)


def answer_offset(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    timed = [h for h in anchors if h.kind in ("audio", "video") and h.scale == "segment"]
    if not timed:
        return done(f"I don't know: no recording or video{where_phrase(parsed)} matches that.", [], steps, 0.0)
    # the segment that holds most of the question's words, then the best match
    words = {w[:4] for w in parsed.content_words if len(w) > 2}
    top = max(timed[:8], key=lambda h: (len(words & stems(f"{h.transcript} {h.ocr}")), h.score))
    at = word_time(top, words)
    sentence = next((x for x in readers.sentences(top.transcript) if stems(x) & words), None)
    quote = sentence or (readers.sentences(top.transcript) or [""])[0]
    span = f"{readers.clock_of(top.offset_start)}-{readers.clock_of(top.offset_end)}"
    where = f"about {readers.clock_of(at)}" if at > top.offset_start + 1 else readers.clock_of(top.offset_start)
    return done(f"At {where} into the {kind_name(top)} (in the part {span} of {readers.clock_of(top.duration_s or top.offset_end)}; "
                f"{top.path.rsplit('/', 1)[-1]}, {when(top)})" + (f": \u201c{quote}\u201d" if quote else ""),
                [cite(top, top.transcript or top.title)], steps, top.score)


def word_time(h: Hit, words: set[str]) -> float:
    """When inside a segment its first word of the question is said, by its share of the
    transcript's characters (segments carry no word timings; speech runs at a steady pace)."""
    text = h.transcript
    hits = [m.start() for m in re.finditer(r"[^\W\d_]{3,}", text) if m.group(0).lower()[:4] in words]
    if not hits or not text or h.offset_end <= h.offset_start:
        return h.offset_start
    return h.offset_start + (h.offset_end - h.offset_start) * hits[0] / len(text)


def device_name(device: str) -> str:
    """"Canon Canon PowerShot S40" -> "Canon PowerShot S40": the make is often repeated in the model."""
    words = device.split()
    if len(words) > 1 and words[1].lower().startswith(words[0].lower()[:4]):
        words = words[1:]
    return " ".join(words)


def answer_device(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    if parsed.content_words:
        best = anchors[0].score
        anchors = [h for h in anchors if h.score >= best - 0.05]
    ranked = ranked_by(anchors, lambda h: device_name(h.device))
    if not ranked:
        return declined(done, steps, anchors[0],
                        f"I don't know which device: {label(anchors[0])} carries no camera make or model.")
    text = "; ".join(f"{d} ({counts(hs)}, {when(hs[0])}{' at ' + hs[0].place if hs[0].place else ''})" for d, hs in ranked[:3])
    return done(text, [cite(hs[0], label(hs[0])) for _, hs in ranked[:3]], steps, 1.0)


def said_anchor(anchors: list[Hit]) -> list[Hit]:
    return [h for h in anchors if h.transcript.strip()]


def answer_said(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done,
                best_line: Callable[[list[Hit]], tuple[Hit, str, str]],
                missing: Callable[[set[str], Hit], list[str]] | None = None) -> Answer:
    spoken = said_anchor(anchors)
    if not spoken:
        return done(f"I don't know: I have no speech{where_phrase(parsed)} that matches that.", [], steps, 0.0)
    wanted = {w for w in parsed.content_words if w not in {"passage", "about", "read", "aloud", "somebody", "someone",
                                                           "speaker", "say", "said", "talk", "numbers", "number", "out"}}
    if len(wanted) <= 1:  # "what did I say in the voice note": the whole of what was said
        top = spoken[0]
        text = top.transcript.strip()
        siblings = [h for h in spoken if h.media_id == top.media_id and h is not top][:2]
        if len(text) < 60 and siblings:
            text = " ".join([text] + [s.transcript.strip() for s in siblings])
        text = text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + "\u2026"
        return done(f"\u201c{text}\u201d ({kind_name(top)}, {when(top)}{' at ' + top.place if top.place else ''})",
                    [cite(top, top.transcript)], steps, top.score)
    top, _, line = best_line(spoken[:3])
    if missing is not None:
        absent = missing(wanted, top)
        if absent:
            return done(f"I don't know: I have {label(top)}, and nothing in it about {' or '.join(absent)}.",
                        [cite(top, top.transcript)], steps, 0.0, abstained=True)
    sents = readers.sentences(top.transcript)
    if line in sents and len(line.split()) < 8:  # a short line reads better with the next one
        i = sents.index(line)
        line = " ".join(sents[i:i + 2])
    return done(f"\u201c{line}\u201d ({kind_name(top)}, {when(top)}{' at ' + top.place if top.place else ''}, at "
                f"{readers.clock_of(top.offset_start)})", [cite(top, line)], steps, top.score)


def typed_answer(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done,
                 best_line: Callable[[list[Hit]], tuple[Hit, str, str]],
                 missing: Callable[[set[str], Hit], list[str]] | None = None) -> Answer | None:
    """The answer of the asked type from the anchor episodes, or None to answer it as a search."""
    asks = parsed.asks
    if asks == "place":
        return answer_place(mem, parsed, anchors, steps, done)
    if asks in ("date", "time"):
        return answer_when(mem, parsed, anchors, steps, done, clock=asks == "time")
    if asks == "duration":
        return answer_duration(mem, parsed, anchors, steps, done)
    if asks == "offset":
        return answer_offset(mem, parsed, anchors, steps, done)
    if asks == "device":
        return answer_device(mem, parsed, anchors, steps, done)
    if asks == "amount":
        return answer_amount(mem, parsed, anchors, steps, done)
    if asks == "number":
        return answer_number(mem, parsed, anchors, steps, done)
    if asks == "value":
        return answer_value(mem, parsed, anchors, steps, done)
    if asks in ("person", "company"):
        return answer_person(mem, parsed, anchors, steps, done)
    if asks == "said":
        return answer_said(mem, parsed, anchors, steps, done, best_line, missing)
    return None
