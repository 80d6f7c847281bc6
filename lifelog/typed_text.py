"""Answers read in text (a receipt, a sign, a poster, a transcript): an amount on an item's row or
the total row, the number next to the asked words, the value printed after a label, a name written
next to the question's words; or "I don't know" with what the text lacks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lifelog import readers
from lifelog.labels import Done, cite, declined, kind_name, label, step, stems, text_lines, when
from lifelog.question import GENERIC, ParsedQuestion
from lifelog.schema import Answer, Hit, Step

if TYPE_CHECKING:
    from lifelog.schema import Retriever

AMOUNT_WORDS = set("""total cost costs price paid pay spend spent much come came bill amount receipt receipts charge charged
fee fare sum owe owed buy bought dinner lunch breakfast meal food shopping groceries order everything all altogether
restaurant shop store cafe café bar""".split())



def answer_amount(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer:
    words = {w for w in re.findall(r"[a-z']+", parsed.text.lower()) if w not in GENERIC and w not in AMOUNT_WORDS
             and len(w) > 2}
    texts = [h for h in anchors if readers.amounts(h.ocr + " / " + h.transcript)]
    # the best document that holds amounts, only: another receipt's total is not this one's
    texts = [h for h in texts if h.media_id == texts[0].media_id][:3] if texts else []
    for h in texts:  # an item named in the question: the first amount after it on its row
        for line in text_lines(h):
            low = line.lower()
            at = [m.end() for w in words for m in re.finditer(rf"\b{re.escape(w[:5])}", low)]
            if at and not any(w in h.title.lower() + h.place.lower() for w in words if re.search(rf"\b{re.escape(w[:5])}", low)):
                after = readers.amounts(line[min(at):])
                if after:
                    return done(f"{after[0]} (\u201c{line}\u201d on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                                [cite(h, line)], steps, h.score)
    if texts and words:
        doc = " ".join(f"{h.title} {h.ocr} {h.transcript} {h.place}".lower() for h in texts)
        absent = sorted(w for w in words if not re.search(rf"\b{re.escape(w[:5])}", doc))
        if absent:  # "how much did I tip": an item the document does not name is not its total
            top = texts[0]
            return declined(done, steps, top, f"I don't know: {label(top)} shows no {', '.join(absent)}.")
    for h in texts:
        found = readers.total(readers.rows(h.ocr))
        if found:
            return done(f"{found.text} (the {found.label.lower()} on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, "
                        f"{when(h)}{' at ' + h.place if h.place else ''}: \u201c{found.line}\u201d)", [cite(h, found.line)],
                        steps, h.score)
    top = anchors[0]
    return declined(done, steps, top, f"I don't know: {label(top)} shows no amount for that.")


def answer_number(mem: "Retriever", parsed: ParsedQuestion, anchors: list[Hit], steps: list[Step], done: Done) -> Answer | None:
    words = {w for w in re.findall(r"[a-z']+", parsed.text.lower()) if w not in GENERIC and len(w) > 2}
    for h in anchors[:3]:
        for line in text_lines(h):
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
        if PHONE_LABEL.search(lab):
            found = readers.phones(h.ocr + " / " + h.transcript)
            if found:
                return done(f"{', '.join(dict.fromkeys(found))} (on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                            [cite(h, h.ocr or h.transcript)], steps, h.score)
        found = readers.after_label(text_lines(h), lab) or readers.after_label(text_lines(h), lab.split()[-1])
        if found:
            return done(f"{found.text} (\u201c{found.line}\u201d on the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                        [cite(h, found.line)], steps, h.score)
    if PHONE_LABEL.search(lab):  # a phone number is a number or nothing
        top = anchors[0]
        return declined(done, steps, top, f"I don't know: {label(top)} shows no phone number.")
    return None


PHONE_LABEL = re.compile(r"\b(?:phone|telephone|tel|fax|mobile|contact|whatsapp) ?(?:numbers?|no)?\b|\bnumbers? to call\b")


NAME = re.compile(r"^(?:[^\W\d_][^\W\d_'’-]+(?:['’-][^\W\d_]+)?\s+){1,2}[^\W\d_][^\W\d_'’-]+$")


def name_in_text(lines: list[str], question: str) -> tuple[str, str] | None:
    """A name written next to the question's words: a row like "EIN FILM VON" (sharing "film" with
    "who directed the film") followed by a row that reads as a name ("SABINE BOSS"), or
    "Directed by Sabine Boss" on one row. (name, the rows it was read from)."""
    qwords = stems(question)
    for i, line in enumerate(lines):
        shared = qwords & stems(line)
        if not shared:
            continue
        tail = re.split(r"\b(?:by|von|de|par|di|door|av|from|with)\b[:\s]*", line, flags=re.I)
        if len(tail) > 1 and NAME.match(tail[-1].strip()) and not stems(tail[-1]) & qwords:
            return tail[-1].strip(), line
        if i + 1 < len(lines) and NAME.match(lines[i + 1].strip()) and not stems(lines[i + 1]) & qwords:
            return lines[i + 1].strip(), f"{line} / {lines[i + 1]}"
    if MAKER.search(question):
        # "who directed / wrote / made ...": a row ending in "by" (von, de, par, di) names its maker on the next row
        for i, line in enumerate(lines[:-1]):
            if BY.search(line) and NAME.match(lines[i + 1].strip()):
                return lines[i + 1].strip(), f"{line} / {lines[i + 1]}"
    return None


MAKER = re.compile(r"\bwho (?:directed|wrote|made|painted|composed|shot|designed|built|created|produced|sang|drew|took)\b", re.I)
BY = re.compile(r"\b(?:by|von|de|par|di|door|av|regie|directed by|written by)\s*:?\s*$", re.I)


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
        found = name_in_text(text_lines(h), parsed.text)
        if found:
            return done(f"{found[0]} (\u201c{found[1]}\u201d in the {kind_name(h)} {h.path.rsplit('/', 1)[-1]}, {when(h)})",
                        [cite(h, found[1])], steps, h.score)
    if parsed.asks == "person":
        return None
    top = anchors[0]
    extra = (f" ({unnamed} face{'s' * (unnamed != 1)} not named yet: `lifelog people name`)" if unnamed else "")
    return declined(done, steps, top, f"I don't know who: nobody is named in {label(top)}{extra}.")
