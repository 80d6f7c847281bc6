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
from collections import Counter
from typing import TYPE_CHECKING, Callable

from lifelog import readers
from lifelog.question import GENERIC, ParsedQuestion
from lifelog.schema import KIND_NAMES, Answer, Citation, Hit, Step

if TYPE_CHECKING:
    from lifelog.schema import Retriever

Done = Callable[..., Answer]
# words of amount questions that name the asking, not an item ("how much did dinner come to")
AMOUNT_WORDS = set("""total cost costs price paid pay spend spent much come came bill amount receipt receipts charge charged
fee fare sum owe owed buy bought""".split())


def kind_name(h: Hit) -> str:
    return KIND_NAMES.get(h.kind, h.kind)


def when(h: Hit) -> str:
    """The capture's local time, or a plain warning that the file only has a copy date."""
    if h.file_dated:
        return f"file date {h.local_start:%d %b %Y}, not capture time"
    if h.time_source == "text":
        return f"{h.local_start:%a %d %b %Y, %H:%M} (the date printed in it)"
    return h.local_start.strftime("%a %d %b %Y, %H:%M")


def first_words(ocr: str) -> str:
    """The first row of a picture's text that reads as words (not a code like "A04082")."""
    return next((r for r in readers.rows(ocr) if len(re.findall(r"[^\W\d_]{2,}", r)) >= 2), "")


def label(h: Hit) -> str:
    what = h.transcript.strip() or first_words(h.ocr) or h.title
    what = what if len(what) <= 80 else what[:80].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
    name = h.path.rsplit("/", 1)[-1]
    return f"{kind_name(h)} {name + ', ' if name else ''}{when(h)}{' at ' + h.place if h.place else ''}: {what}"


def cite(h: Hit, snippet: str) -> Citation:
    return Citation(media_id=h.media_id, path=h.path, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end, time=h.start,
                    snippet=snippet, thumbnail=h.thumbnail, place=h.place, episode_id=h.episode_id, score=h.score,
                    utc_offset_min=h.utc_offset_min)


def step(steps: list[Step], memory: str, query: str, hits: list[tuple[str, float]], decision: str) -> None:
    steps.append(Step(round=len(steps) + 1, memory=memory, scale="-", query=query, filters="", hits=hits, decision=decision))


def counts(hits: list[Hit]) -> str:
    c = Counter(kind_name(h) for h in {h.media_id: h for h in hits}.values())
    return ", ".join(f"{n} {k}{'s' * (n != 1)}" for k, n in c.most_common())


def where_phrase(parsed: ParsedQuestion) -> str:
    bits = []
    if parsed.filters.place:
        bits.append(f"in {parsed.filters.place}")
    if parsed.time_phrase:
        bits.append(parsed.time_phrase.strip())
    return (" " + " ".join(bits)) if bits else ""


def answer_place(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    placed = [h for h in anchors if h.place]
    if not placed:
        top = anchors[0]
        return done(f"I don't know where: {label(top)} carries no location (no GPS).", [cite(top, label(top))],
                    steps, 0.0, abstained=True)
    by_place: dict[str, list[Hit]] = {}
    for h in sorted(placed, key=lambda h: h.start):
        by_place.setdefault(h.place, []).append(h)
    named = parsed.filters.place.lower()
    # "where did I have lunch in Paris?": a place inside the one named, or no answer (the town
    # itself, or a place read as the named one by meaning, says nothing new)
    if named and (parsed.place_named or all(p.split(",")[0].strip().lower() == named for p in by_place)):
        top = placed[0]
        return done(f"I don't know: I only have {label(top)}; nothing in memory says more about where than "
                    f"{parsed.place_named or parsed.filters.place}.", [cite(top, label(top))], steps, 0.0, abstained=True)
    ranked = sorted(by_place.items(), key=lambda kv: -len({h.media_id for h in kv[1]}))
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


def answer_when(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done,
                clock: bool) -> Answer:
    if parsed.content_words:  # a moment: the best match, and those as good
        best = anchors[0].score
        anchors = [h for h in anchors if h.score >= best - 0.05][:3]
    dated = [h for h in anchors if not h.file_dated]
    if not dated:
        top = anchors[0]
        return done(f"I don't know when: {top.path.rsplit('/', 1)[-1]} carries no capture time (its date, "
                    f"{top.local_start:%d %b %Y}, is when the file was copied).", [cite(top, label(top))], steps, 0.0,
                    abstained=True)
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
        return done(f"I don't know how long: {label(top)} has no length of its own.", [cite(top, label(top))], steps,
                    0.0, abstained=True)
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
    top = max(timed[:8], key=lambda h: (len(words & _words(f"{h.transcript} {h.ocr}")), h.score))
    quote = readers.sentences(top.transcript)[:1]
    return done(f"At {readers.clock_of(top.offset_start)} into the {kind_name(top)} ({readers.clock_of(top.offset_start)}-"
                f"{readers.clock_of(top.offset_end)} of {readers.clock_of(top.duration_s or top.offset_end)}; "
                f"{top.path.rsplit('/', 1)[-1]}, {when(top)})" + (f": \u201c{quote[0]}\u201d" if quote else ""),
                [cite(top, top.transcript or top.title)], steps, top.score)


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
    with_device = [h for h in anchors if h.device]
    if not with_device:
        top = anchors[0]
        return done(f"I don't know which device: {label(top)} carries no camera make or model.", [cite(top, label(top))],
                    steps, 0.0, abstained=True)
    by: dict[str, list[Hit]] = {}
    for h in with_device:
        by.setdefault(device_name(h.device), []).append(h)
    ranked = sorted(by.items(), key=lambda kv: -len({h.media_id for h in kv[1]}))
    text = "; ".join(f"{d} ({counts(hs)}, {when(hs[0])}{' at ' + hs[0].place if hs[0].place else ''})" for d, hs in ranked[:3])
    return done(text, [cite(hs[0], label(hs[0])) for _, hs in ranked[:3]], steps, 1.0)


def _text_lines(h: Hit) -> list[str]:
    return readers.rows(h.ocr) + readers.sentences(h.transcript)


def answer_amount(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    words = {w for w in re.findall(r"[a-z']+", parsed.text.lower()) if w not in GENERIC and w not in AMOUNT_WORDS
             and len(w) > 2}
    texts = [h for h in anchors if readers.amounts(h.ocr + " / " + h.transcript)]
    # the best document that holds amounts, only: another receipt's total is not this one's
    texts = [h for h in texts if h.media_id == texts[0].media_id][:3] if texts else []
    for h in texts:  # an item named in the question: the first amount after it on its row
        for line in _text_lines(h):
            low = line.lower()
            at = [m.end() for w in words for m in re.finditer(rf"\b{re.escape(w[:5])}", low)]
            if at and not any(w in h.title.lower() + h.place.lower() for w in words if re.search(rf"\b{re.escape(w[:5])}", low)):
                after = readers.amounts(line[min(at):])
                if after:
                    return done(f"{after[0]} (\u201c{line}\u201d on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                                [cite(h, line)], steps, h.score)
    for h in texts:
        found = readers.total(readers.rows(h.ocr))
        if found:
            return done(f"{found.text} (the {found.label.lower()} on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, "
                        f"{when(h)}{' at ' + h.place if h.place else ''}: \u201c{found.line}\u201d)", [cite(h, found.line)],
                        steps, h.score)
    top = anchors[0]
    return done(f"I don't know: {label(top)} shows no amount for that.", [cite(top, label(top))], steps, 0.0,
                abstained=True)


def answer_number(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer | None:
    words = {w for w in re.findall(r"[a-z']+", parsed.text.lower()) if w not in GENERIC and len(w) > 2}
    for h in anchors[:3]:
        for line in _text_lines(h):
            found = readers.number_near(line, words)
            if found:
                return done(f"{found.text} (\u201c{line}\u201d, {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                            [cite(h, line)], steps, h.score)
    return None


def answer_value(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer | None:
    """A labelled value ("the Wi-Fi password", "the phone numbers"); None: no such label in the
    evidence, and the question is answered as a search (the label may be a class: "what cereal")."""
    lab = parsed.label
    for h in anchors[:3]:
        if re.search(r"\b(phone|telephone|tel|fax|mobile|contact) numbers?\b|\bnumbers?\b", lab):
            found = readers.phones(h.ocr + " / " + h.transcript)
            if found:
                return done(f"{', '.join(dict.fromkeys(found))} (on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                            [cite(h, h.ocr or h.transcript)], steps, h.score)
        found = readers.after_label(_text_lines(h), lab) or readers.after_label(_text_lines(h), lab.split()[-1])
        if found:
            return done(f"{found.text} (\u201c{found.line}\u201d on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                        [cite(h, found.line)], steps, h.score)
    return None


NAME = re.compile(r"^(?:[^\W\d_][^\W\d_'’-]+(?:['’-][^\W\d_]+)?\s+){1,2}[^\W\d_][^\W\d_'’-]+$")


# the words of a question that name media are words too when reading a document ("the film on that poster")
MEDIA_NOUNS = set("film filmed video videos clip clips photo photos picture pictures recording recordings record recorded "
                  "note notes memo memos audio voice shot shots pic pics".split())


def _words(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in GENERIC or w in MEDIA_NOUNS}


def name_in_text(lines: list[str], question: str) -> tuple[str, str] | None:
    """A name written next to the question's words: a row like "EIN FILM VON" (sharing "film" with
    "who directed the film") followed by a row that reads as a name ("SABINE BOSS"), or
    "Directed by Sabine Boss" on one row. (name, the rows it was read from)."""
    qwords = _words(question)
    for i, line in enumerate(lines):
        shared = qwords & _words(line)
        if not shared:
            continue
        tail = re.split(r"\b(?:by|von|de|par|di|door|av|from|with)\b[:\s]*", line, flags=re.I)
        if len(tail) > 1 and NAME.match(tail[-1].strip()) and not _words(tail[-1]) & qwords:
            return tail[-1].strip(), line
        if i + 1 < len(lines) and NAME.match(lines[i + 1].strip()) and not _words(lines[i + 1]) & qwords:
            return lines[i + 1].strip(), f"{line} / {lines[i + 1]}"
    return None


def answer_person(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer | None:
    """Named faces in the anchor; else a name its text gives next to the question's words. Who
    the user was with ("company") is declined past that, since an unnamed face is not an answer to
    "who"; a person in what was said or written ("who had vanished behind the curtain") is left to
    the line that answers (None)."""
    unnamed = 0
    for h in anchors[:3]:
        faces = mem.who_is(h.episode_id)
        names = [n for n in faces if not n.startswith("unnamed person")]
        unnamed += len(faces) - len(names)
        if names:
            step(steps, "semantic", parsed.text, [(n, 1.0) for n in names], f"faces in {h.title[:40]}")
            return done(f"{', '.join(names)} ({label(h)})", [cite(h, ', '.join(names))], steps, h.score)
    for h in anchors[:3]:
        found = name_in_text(_text_lines(h), parsed.text)
        if found:
            return done(f"{found[0]} (\u201c{found[1]}\u201d in the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                        [cite(h, found[1])], steps, h.score)
    if parsed.asks == "person":
        return None
    top = anchors[0]
    extra = (f" ({unnamed} face{'s' * (unnamed != 1)} not named yet: `lifelog people name`)" if unnamed else "")
    return done(f"I don't know who: nobody is named in {label(top)}{extra}.", [cite(top, label(top))], steps, 0.0,
                abstained=True)


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
