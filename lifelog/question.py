"""What a question asks, and under which constraints: the agent (lifelog/agent.py) answers it.

A question is parsed into
- what is asked (`asks`): a place, a date or a clock time, an offset inside a file, a duration, a
  count, a person, a device, an amount, a number, what was said, a value read in a picture, yes or
  no, or a moment to find;
- its order (`intent`): find, count, first, last, after, before;
- its constraints (`filters`): a time span in the place's own wall-clock time, a part of the day, a
  kind of media, a place;
- the words left to search for (`text`): the question without the words that set the above, so
  "which town was I in on 12 September" searches for nothing and browses the day.

Every pattern here is about the form of an English question ("how far into", "which camera"),
never about what a library holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Sequence

from lifelog.schema import Filters
from lifelog.timeparse import MONTHS, PART_RE, WEEKDAYS, TimeRange, parse_time

KIND_WORDS = {
    "video": ("video", "clip", "footage", "filmed"),
    "photo": ("photo", "picture", "pic", "image", "snapshot", "snap", "photograph", "photographed", "selfie", "screenshot"),
    "audio": ("voice note", "recording", "recorded", "memo", "audio", "voice memo", "talk", "call", "lecture",
              "podcast", "dictation"),
}
# "recorded" and "film" also describe videos: they set a kind only when no other word does
WEAK_KIND_WORDS = {"recorded", "talk", "call", "lecture"}

# words that carry no content of their own in a question to a memory
GENERIC = set("""a an the i me my mine we our you your it its this that these those of in on at to from for with by and or
what whats which who whom whose where when how why many much did do does done is was were are be been am have had has
show find tell give list any some all thing things something anything stuff time times first last latest earliest
after before then next take took taken photograph photographed photos photo pictures picture pics pic shot shots
film filmed video videos clip clips record recorded recording recordings voice note notes memo memos audio
see saw seen say said hear heard go went get got make made day today yesterday there here please can could would
one ones ive i've got about roughly approximately exactly around just also again ever still
spend spent stay stayed staying been being what's where's who's when's how's it's that's there's i'm i'd think thought feel felt like liked look looked want wanted need needed
know knew talk talked speak spoke mention mentioned use used using snap snapped shoot capture captured shows show showing shown word words written writing says
""".split())
# "the short voice note", "the long recording": the file's length, not a word to search for
LENGTH_WORDS = {"short": "short", "shorter": "short", "shortest": "short", "brief": "short", "quick": "short",
                "long": "long", "longer": "long", "longest": "long", "lengthy": "long"}
# a venue asked for where a file was made: "which beach was the photo taken at"
VENUES = (r"beach|restaurant|museum|park|hotel|shop|store|caf[eé]|bar|pub|station|airport|lake|mountain|island|church"
          r"|market|venue|building|school|street|square|bridge|garden|zoo|stadium|hospital|office|campsite|river")

# what is asked, by the form of the question; the first that matches wins
ASKS: list[tuple[str, str]] = [
    ("offset", r"\bhow (?:far|long|many (?:minutes|seconds)) into\b|\bat what point\b|\bhow (?:soon|early|late) in\b"
               r"|\b(?:which|what) (?:minute|second|timestamp|part of the (?:recording|video|talk|call))\b|\bwhere in the\b"),
    ("duration", r"\bhow long (?:is|was|were|are|does|did|do|lasted)\b(?!.*\bago\b)|\bhow long\b(?!.*\b(?:ago|into)\b)"
                 r"|\b(?:length|duration) of\b|\bwhat (?:is|was) the (?:length|duration)\b"),
    ("device", r"\b(?:what|which)\b[^?]{0,30}\b(?:camera|phone(?! ?numbers?)|device|smartphone|lens|gadget|tablet)\b"
               r"|\b(?:what|which) (?:game|app|software|program)\b[^?]{0,30}\b(?:made|make|took|take|created)\b"
               r"|\bwhat (?:took|shot|made|captured)\b|\b(?:taken|shot|made) (?:with|on|by) what\b"),
    ("amount", r"\bhow much\b|\b(?:what|which)(?:'s| was| is| were) the (?:\w+ )?(?:total|price|cost|bill|amount|fee|fare|sum)\b"
               r"|\bwhat (?:did|does|do|will|would) .{0,40}\b(?:cost|come to)\b|\bhow expensive\b|\bprice of\b"),
    ("said", r"\bwhat (?:did|does|do|was|were) .{0,40}\b(?:say|said|tell|told|mention|mentioned|talk|read|sing|ask|explain)\b"
             r"|\bwhat was .{0,30}\babout\b|\bwhat (?:was|were) (?:said|mentioned|discussed)\b|\bwhat numbers? did\b"),
    ("company", r"^\W*who (?:did|was|were|have|had) (?:i|we)\b.*\bwith\b|^\W*who (?:was|were|is|are) (?:with me|there)\b"
                r"|^\W*who (?:was|were|is|are) (?:in|on) (?:the|this|that|my) (?:photo|picture|video|clip|selfie)\b|\bwith whom\b"),
    ("person", r"^\W*(?:who|whom)\b|\b(?:which|what) (?:person|people|friend|friends)\b"),
    # where the user was or a file was made; "where does Diane live" is a fact in what was said
    ("place", r"^\W*where (?:was|were|am|did|have|had|do) (?:i|we)\b|^\W*where (?:was|were|is) (?:this|that|the|my) "
              r"(?:[\w'-]+ ){0,3}?(?:taken|shot|filmed|recorded|photographed|made)\b|\b(?:which|what) (?:town|city|country|place"
              r"|village|state|region|province|county|location|area|neighbou?rhood|part of town)\b(?! (?:does|do|did|is|was) "
              r"(?!i\b|we\b)\w+ (?:live|come|work|say|mention))"
              rf"|\b(?:which|what) (?:{VENUES}) (?:was|were|did) (?:[\w'-]+ ){{0,4}}?(?:taken|shot|filmed|recorded|photographed|made)"
              r" (?:at|in|on|near)\b"),
    ("time", r"\b(?:at )?what time\b|\bwhat hour\b|\bhow late\b|\bhow early\b"),
    # when something was captured; "when is dinner with Sam?" is a plan in what was said
    ("date", r"^\W*when (?:was|were|did|had|have)\b|\b(?:on )?(?:what|which) (?:date|day|year|month|weekday) (?:was|were|did|had)\b"
             r"|\bhow long ago\b|\bwhen (?:was|were|did) (?:i|we)\b"),
    ("yes_no", r"^\W*(?:did|do|does|have|has|had|was|were|is|are|am) (?:i|we|you|anyone|anybody|somebody|someone)\b"),
]
# the words that set what is asked, removed from the words to search for
ASK_WORDS = re.compile(
    r"\b(how (far|long|many (minutes|seconds)) into|at what point|how long( ago)?|how much|how many|how often|what time|"
    r"what hour|on what date|what date|which day|what day|what year|which year|what month|length|duration|"
    r"camera|phone|device|smartphone|lens|gadget|tablet|town|city|country|village|state|region|province|county|location|"
    r"area|neighbou?rhood|place|where|when|who|whom|whose)\b", re.I)
# things counted across the library rather than read from a document ("how many photos", "how often")
COUNTED = re.compile(r"\bhow (?:many|much) (?:\w+ )?(?:photos?|pictures?|pics?|images?|shots?|snaps?|selfies?|videos?|clips?|recordings?|voice notes?|"
                     r"memos?|files?|times?|days?|trips?|visits?|places?|towns?|cities|countries|people|persons?)\b"
                     r"|\bhow often\b|\bnumber of (?:photos|pictures|videos|recordings|times|days|visits|places)\b", re.I)


@dataclass(frozen=True)
class ParsedQuestion:
    text: str  # what to search for: the question without its time, place, kind and asked-type words
    filters: Filters
    time_phrase: str = ""
    intent: str = "find"  # find, count, first, last, after, before, compare
    anchor: str = ""  # for after/before: what the question is relative to ("the café")
    asks: str = "find"  # see ASKS ("company": who the user was with; "person": anyone named), "number" for a count
    # read from a document, "value" for a labelled value, "find"
    question: str = ""  # as asked
    label: str = ""  # for "value": what names it in the evidence ("wi-fi password", "phone numbers")
    length: str = ""  # "short" or "long": the question describes the file by its length
    day_of_stay: str = ""  # "first" or "last": "on my last day in Lisbon" (the agent finds that day)
    place_named: str = ""  # the user's word for the place when the library spells it otherwise ("Warsaw")
    place_unknown: str = ""  # a place the question names that the library has no trace of
    options: tuple[str, ...] = ()  # for "compare": the two things whose order is asked ("the cat or the beach")

    @property
    def content_words(self) -> set[str]:
        return {w for w in re.findall(r"[\w']+", self.text.lower()) if w not in GENERIC and len(w) > 1}


# "which came first, the cat photo or the beach?", "which did I see earlier: A or B"
COMPARE = re.compile(r"\bwhich (?:one )?(?:came|was|happened|did (?:i|we) (?:\w+ )?(?:see|do|take|make|record|film|visit))? ?"
                     r"(first|earlier|before|last|later|second)\b[,:]?\s*(?:the |my )?(.+?),? or (?:the |my )?(.+?)\s*\??$", re.I)
# "what was the Wi-Fi password on ...", "what's the name of ...": a value printed next to its label
LABEL = re.compile(r"\bwhat(?:'s| is| was| were| are)(?: the| my| our| his| her| their)? ((?:[\w-]+ ){0,2}?[\w-]+?)s?"
                   r"(?: (?:on|in|at|of|for|printed|written|shown|from|that|i|we|did|do)\b|\s*\?|$)", re.I)
LABEL_WHICH = re.compile(r"^\W*which ([\w-]+) (?:was|were|is|are|did|do)\b", re.I)
LABEL_BEFORE = re.compile(r"\bwhat ((?:[\w-]+ ){0,2}?[\w-]+?)s? (?:was|were|is|are) (?:on|in|printed|written|shown|at)\b", re.I)
NOT_LABELS = {"like", "i", "we", "you", "he", "she", "they", "first", "last", "earliest", "latest", "oldest", "newest", "next", "most", "photo", "picture",
              "video", "recording", "clip", "file", "voice", "it", "that", "this", "there", "he", "she", "they", "thing", "something", "one", "time", "date", "day", "place",
              "weather", "story", "point", "idea", "plan", "reason", "problem", "matter", "deal", "best", "first", "last"}


def value_label(question: str) -> str:
    m = LABEL.search(question) or LABEL_BEFORE.search(question) or LABEL_WHICH.search(question)
    if not m:
        return ""
    label = m.group(1).lower()
    return "" if label in NOT_LABELS or set(label.split()) & NOT_LABELS else label


def asked_type(question: str) -> str:
    low = question.lower().strip()
    if re.search(ASKS[0][1], low):
        return "offset"  # "how many seconds into the video": a time inside a file, not a number in it
    if re.search(r"\bhow many\b", low) and not COUNTED.search(low):
        return "number"  # "how many votes against were there": a number in the evidence, not a count of files
    for name, pattern in ASKS:
        if re.search(pattern, low):
            return name
    return "value" if value_label(question) else "find"


def time_filters(filters: Filters, span: TimeRange) -> Filters:
    """A span as the question's wall-clock bounds; the store is asked a day wider on each side (the
    capture's zone is not the machine's), and `Filters.admits` keeps the local ones."""
    if span.hours:
        return replace(filters, hours=span.hours)
    start, end = span.start.replace(tzinfo=None), span.end.replace(tzinfo=None)
    return replace(filters, start=(span.start - timedelta(hours=14)).astimezone(timezone.utc),
                   end=(span.end + timedelta(hours=14)).astimezone(timezone.utc), local_start=start, local_end=end)


def parse_question(question: str, now: datetime, places: Sequence[str] = ()) -> ParsedQuestion:
    """Time range, media kind, place, what is asked, and in which order (module doc)."""
    text = question.strip()
    filters = Filters()
    phrase = ""
    cmp = COMPARE.search(text)  # the options are things to find, not times ("the museum or the lunch")
    span = parse_time(text[:cmp.start(2)] if cmp else text, now)
    if span:
        filters = time_filters(filters, span)
        phrase = span.phrase
        text = re.sub(rf"(?<!\w){re.escape(span.phrase)}(?!\w)", " ", text, flags=re.I)
        text = re.sub(r"\b(?:at|around|about|by)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?(?!\w)", " ", text, flags=re.I)
        # the part of the day the span was narrowed to ("the evening of ...", "around midday")
        text = re.sub(rf"\b(?:(?:in|on|during|around|at|about) )?(?:the )?(?:early )?(?:{PART_RE})(?: of)?\b", " ", text, flags=re.I)
    length = ""
    for word, which in LENGTH_WORDS.items():
        if re.search(rf"\b{word}\b(?= (?:\w+ )?(?:{'|'.join(w for ws in KIND_WORDS.values() for w in ws)}))", text, re.I):
            length = which
            text = re.sub(rf"\b{word}\b", " ", text, flags=re.I)
            break
    low = question.lower()
    # "what did I film before I photographed the receipt": the kind is the main clause's, not the anchor's
    rel = re.search(r"\b(?:right |just |soon |straight )?(after|before)\s+(.+?)[?.!]*$", low)
    main = low[:rel.start()] if rel and rel.group(2).strip() not in ("lunch", "dinner", "breakfast") else low
    found = {k: [w for w in words if re.search(rf"\b{w}s?\b", main)] for k, words in KIND_WORDS.items()}
    if re.search(r"\b(?:i|we)\s+(?:\w+\s+)?film\b", main):  # "what did I film": the verb ("the film on the poster" is not)
        found["video"].append("filmed")
    strong = tuple(k for k, ws in found.items() if any(w not in WEAK_KIND_WORDS for w in ws))
    kinds = strong or tuple(k for k, ws in found.items() if ws)
    if "recorded" in found["audio"] and not strong:
        kinds = ("audio", "video")  # "something I recorded": a voice note or a video
    if kinds:
        filters = replace(filters, kinds=kinds)
    for place in sorted(places, key=len, reverse=True):
        m = re.search(rf"\b(in|at|from|near|around|of|to)\s+(?:the\s+)?({re.escape(place.lower())})\b", text.lower())
        if m:
            filters = replace(filters, place=place)
            text = text[:m.start()] + " " + text[m.end():]
            break
    asks = asked_type(question)
    intent, anchor = "find", ""
    weekday_or_span = r"\blast (week|weekend|month|year|night|" + "|".join(list(MONTHS) + WEEKDAYS) + r")\b"
    stay = re.search(r"\b(?:on |during )?(?:my |our |the )(first|last) (?:day|evening|night|morning)(?: there)?\b", text, re.I)
    day_of_stay = ""
    if stay and filters.place:
        day_of_stay = stay.group(1).lower()
        text = text[:stay.start()] + " " + text[stay.end():]
        low = re.sub(r"\b(?:my |our |the )(first|last) (?:day|evening|night|morning)\b", " ", low)
    if asks not in ("number", "offset") and (re.search(r"\bhow many\b|\bhow often\b", low) or COUNTED.search(low)):
        intent = asks = "count"
    elif re.search(r"\b(first|earliest|oldest)\b|\bcame (?:first|earlier)\b", low):
        intent = "first"
    elif re.search(r"\b(last|latest|most recent|newest)\b", re.sub(weekday_or_span, " ", low)):
        intent = "last"
    m = re.search(r"\b(?:right |just |soon |straight )?(after|before)\s+(.+?)[?.!]*$", text, flags=re.I)
    if m and not m.group(2).strip(" ?.!"):
        m = None  # the anchor was a time ("after lunch"), already a filter
    if m and intent in ("find", "first", "last") and m.group(2).strip().lower() not in ("lunch", "dinner", "breakfast"):
        intent, anchor = m.group(1).lower(), m.group(2).strip()
        text = text[:m.start()]
    if cmp:
        intent = "compare_" + ("first" if cmp.group(1).lower() in ("first", "earlier", "before") else "last")
        options = (cmp.group(2).strip(" ,"), cmp.group(3).strip(" ,?"))
    else:
        options = ()
    if intent in ("first", "last"):
        text = re.sub(r"\b(first|earliest|oldest|last|latest|most recent|newest|came|earlier)\b", " ", text, flags=re.I)
    if asks not in ("find", "said", "yes_no"):
        text = ASK_WORDS.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" ?.!,:;") or question
    return ParsedQuestion(text=text, filters=filters, time_phrase=phrase, intent=intent, anchor=anchor, asks=asks,
                          question=question, label=value_label(question) if asks in ("value", "number") else "",
                          length=length, day_of_stay=day_of_stay, options=options)
