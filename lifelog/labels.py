"""How evidence is named in answers: the kind, the capture's local time (or a plain "file date,
not capture time"), the file, the place and what it says; and the citations that carry it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from lifelog import readers
from lifelog.question import GENERIC, ParsedQuestion
from lifelog.schema import KIND_NAMES, Answer, Citation, Hit, Step

Done = Callable[..., Answer]
# the words of a question that name media are words too when reading a document ("the film on that poster")
MEDIA_NOUNS = set(["film", "filmed", "video", "videos", "clip", "clips", "photo", "photos", "picture", "pictures", "recording", "recordings", "record", "recorded", "note", "notes", "memo", "memos", "audio", "voice", "shot", "shots", "pic", "pics"])


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


# a title's own kind and time ("Photo 2015-04-10 20:12: ", "0:00-0:10 "): the label says those already
TITLE_PREFIX = re.compile(r"^(?:(?:Photo|Video|Recording) (?:\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?|\d+:\d{2})|"
                          r"\d+:\d{2}(?:-\d+:\d{2})?)[:\s]\s*")
# a photo's title that is only its time (nothing recognised in it): it names no content
TIME_ONLY = re.compile(r"^Photo \d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?$")


def label(h: Hit) -> str:
    title = "" if TIME_ONLY.match(h.title) else TITLE_PREFIX.sub("", h.title) or h.title
    what = h.transcript.strip() or first_words(h.ocr) or title
    what = what if len(what) <= 80 else what[:80].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
    name = h.path.rsplit("/", 1)[-1]
    return (f"{kind_name(h)} {name + ', ' if name else ''}{when(h)}{' at ' + h.place if h.place else ''}"
            + (f": {what}" if what else ""))


def cite(h: Hit, snippet: str) -> Citation:
    return Citation(media_id=h.media_id, path=h.path, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end, time=h.start,
                    snippet=snippet, thumbnail=h.thumbnail, place=h.place, episode_id=h.episode_id, score=h.score,
                    utc_offset_min=h.utc_offset_min, time_source=h.time_source)


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


def stems(text: str) -> set[str]:
    """Content words, crudely stemmed (first 4 letters), media nouns kept."""
    return {w[:4] for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in GENERIC or w in MEDIA_NOUNS}


def text_lines(h: Hit) -> list[str]:
    """The rows of a picture's text and the sentences of what was said."""
    return readers.rows(h.ocr) + readers.sentences(h.transcript)


def declined(done: Done, steps: list[Step], top: Hit, text: str) -> Answer:
    """"I don't know", with the nearest evidence cited so the user can check what was missing."""
    return done(text, [cite(top, label(top))], steps, 0.0, abstained=True)


def ranked_by(hits: list[Hit], key: Callable[[Hit], str]) -> list[tuple[str, list[Hit]]]:
    """Hits grouped by a field (a place, a device), in time order within each group, the group with
    the most files first; hits without the field are left out."""
    groups: dict[str, list[Hit]] = {}
    for h in sorted(hits, key=lambda h: h.start):
        if key(h):
            groups.setdefault(key(h), []).append(h)
    return sorted(groups.items(), key=lambda kv: -len({h.media_id for h in kv[1]}))
