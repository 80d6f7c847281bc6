"""What a question asks: its time range, place, kind of media, and whether it wants a fact, a
count, an order or what came before or after something. The agent (lifelog/agent.py) answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Sequence

from lifelog.schema import Filters
from lifelog.timeparse import MONTHS, parse_time

KIND_WORDS = {
    "video": ("video", "clip", "footage", "filmed"),
    "photo": ("photo", "picture", "pic", "image", "snapshot"),
    "audio": ("voice note", "recording", "memo", "audio", "voice memo"),
}

# words that carry no content of their own in a question to a memory
GENERIC = set("""a an the i me my mine we our you your it its this that these those of in on at to from for with by and or
what whats which who whom whose where when how why many much did do does done is was were are be been am have had has
show find tell give list any some all thing things something anything stuff time times first last latest earliest
after before then next take took taken photograph photographed photos photo pictures picture pics pic shot shots
film filmed video videos clip clips record recorded recording recordings voice note notes memo memos audio
see saw seen say said hear heard go went get got make made day today yesterday there here please can could would
""".split())


@dataclass(frozen=True)
class ParsedQuestion:
    text: str  # what to search for: the question without its time, place and kind words
    filters: Filters
    time_phrase: str = ""
    intent: str = "find"  # find, count, first, last, after, before
    anchor: str = ""  # for after/before: what the question is relative to ("the café")

    @property
    def content_words(self) -> set[str]:
        return {w for w in re.findall(r"[\w']+", self.text.lower()) if w not in GENERIC and len(w) > 1}


def parse_question(question: str, now: datetime, places: Sequence[str] = ()) -> ParsedQuestion:
    """Time range, media kind, place, and what kind of answer is wanted (a fact, a count, an order)."""
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
    for place in sorted(places, key=len, reverse=True):
        m = re.search(rf"\b(in|at|from|near)\s+({re.escape(place.lower())})\b", text.lower())
        if m:
            filters = replace(filters, place=place)
            text = text[:m.start()] + " " + text[m.end():]
            break
    intent, anchor = "find", ""
    if re.search(r"\bhow many\b|\bhow often\b|\bnumber of\b", low):
        intent = "count"
    elif re.search(r"\b(first|earliest)\b", low):
        intent = "first"
    elif re.search(r"\b(last|latest|most recent)\b", low) and not re.search(r"\blast (week|month|year|night|" +
                                                                             "|".join(MONTHS) + r")\b", low):
        intent = "last"
    m = re.search(r"\b(after|before)\s+(.+?)[?.!]*$", text, flags=re.I)
    if m and intent == "find" and m.group(2).strip().lower() not in ("lunch", "dinner", "breakfast"):
        intent, anchor = m.group(1).lower(), m.group(2).strip()
    text = re.sub(r"\s+", " ", text).strip(" ?.!") or question
    return ParsedQuestion(text=text, filters=filters, time_phrase=phrase, intent=intent, anchor=anchor)
