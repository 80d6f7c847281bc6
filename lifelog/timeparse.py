"""Time expressions in questions, resolved against a reference "now".

Handles what people say to a memory: dates in words or digits ("on 22 October 2008", "June 14",
"14/06/2025", "2025-06-14"), days relative to now ("yesterday", "the day before yesterday", "two
days ago", "last Saturday", "last night", "tonight"), parts of a day ("in the afternoon
yesterday", "yesterday at 8pm", "around midday"), and spans ("last week", "this weekend", "last
April", "in June", "in April 2017", "in 2015", "this year"). A part of the day without a date
("my night photos", "around midday") is returned as hours of any day. dateparser misses several of
these (MODELS.md: it returns None for "last April"), so they are parsed here directly.

A date that does not exist ("31 February") raises `BadDate`, a ValueError that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
# hours of the day each part covers (a night runs past midnight: 29 is 05:00 the next day)
PARTS = {"early morning": (4, 8), "morning": (5, 12), "midday": (11, 14), "noon": (11, 14), "lunchtime": (11, 15),
         "lunch": (11, 15), "afternoon": (12, 18), "evening": (17, 23), "night": (19, 29), "midnight": (23, 25),
         "breakfast": (6, 11), "dinner": (17, 24), "supper": (17, 24)}
PART_RE = "|".join(sorted(PARTS, key=len, reverse=True))
MEAL_WORDS = {"breakfast", "lunch", "lunchtime", "dinner", "supper"}
MEALS = {("before", "breakfast"): (4, 8), ("after", "breakfast"): (8, 12), ("before", "lunch"): (8, 12),
         ("after", "lunch"): (13, 18), ("before", "dinner"): (15, 19), ("after", "dinner"): (20, 29)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3}
# "in may" is a month; "may i" is not: a lone "may" counts only after in/during/last/this/of or a day number
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"


class BadDate(ValueError):
    """A date in a question that no calendar has ("31 February")."""


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # aware, in the reference "now"'s zone; read as wall-clock time at the place of capture
    end: datetime
    phrase: str  # the words that set it, removed from the search text
    hours: tuple[int, int] | None = None  # set instead of a span: a part of any day ("my night photos")


def _day(d: datetime) -> datetime:
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def _month(year: int, month: int, tz) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _date(year: int, month: int, day: int, tz, phrase: str) -> datetime:
    try:
        return datetime(year, month, day, tzinfo=tz)
    except ValueError:
        raise BadDate(f"there is no such date as {phrase.strip()!r}") from None


def _clock(low: str) -> tuple[float, str] | None:
    """An hour of the day named in the text ("at 8pm", "at 20:30", "around 7 in the evening")."""
    m = re.search(r"\b(?:at|around|about|by)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", low)
    if not m or (not m.group(2) and not m.group(3)):
        return None
    hour = int(m.group(1)) % 24
    if m.group(3) and m.group(3).startswith("p") and hour < 12:
        hour += 12
    if m.group(3) and m.group(3).startswith("a") and hour == 12:
        hour = 0
    return hour + int(m.group(2) or 0) / 60, m.group(0)


def _within_day(day_start: datetime, phrase: str, low: str) -> TimeRange:
    """The whole day, or the part of it or the hour the rest of the question names."""
    clock = _clock(low)
    if clock:
        at = day_start + timedelta(hours=clock[0])
        return TimeRange(at - timedelta(minutes=60), at + timedelta(minutes=60), phrase)
    m = re.search(rf"\b({PART_RE})\b", low)
    if m:
        h0, h1 = PARTS[m.group(1)]
        return TimeRange(day_start + timedelta(hours=h0), day_start + timedelta(hours=h1), phrase)
    return TimeRange(day_start, day_start + timedelta(days=1), phrase)


def _past(now: datetime, month: int, day: int, phrase: str) -> datetime:
    """The most recent such day (a date without a year is the last one that has been)."""
    this = _date(now.year, month, day, now.tzinfo, phrase) if not (month == 2 and day == 29) else None
    if this is None or this > now:
        for back in range(1, 9):
            try:
                return datetime(now.year - back, month, day, tzinfo=now.tzinfo)
            except ValueError:
                continue
        raise BadDate(f"there is no such date as {phrase.strip()!r}")
    return this


def parse_time(text: str, now: datetime) -> TimeRange | None:
    """The time span a question refers to, or None when it names none."""
    if now.tzinfo is None:
        now = now.astimezone()
    tz = now.tzinfo
    low = text.lower()
    today = _day(now)

    # explicit dates: "22 October 2008", "the 10th of February 2015", "October 22, 2008", "2008-10-22", "22/10/2008"
    m = re.search(rf"\b(?:on\s+)?(?:the\s+)?(?:night\s+of\s+(?:the\s+)?)?{_ORD}\s+(?:of\s+)?({MONTH_RE})\.?,?\s+(\d{{4}})\b", low)
    if m:
        return _within_day(_date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)), tz, m.group(0)), m.group(0), low)
    m = re.search(rf"\b(?:on\s+)?({MONTH_RE})\.?\s+{_ORD},?\s+(\d{{4}})\b", low)
    if m:
        return _within_day(_date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)), tz, m.group(0)), m.group(0), low)
    m = re.search(r"\b(?:on\s+)?(\d{4})-(\d{1,2})-(\d{1,2})\b", low)
    if m:
        return _within_day(_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), tz, m.group(0)), m.group(0), low)
    m = re.search(r"\b(?:on\s+)?(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b", low)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year += 2000 if year < 100 else 0
        # day first, as most of the world writes it, unless that cannot be (06/14/2025)
        day, month = (b, a) if b > 12 >= a else (a, b)
        return _within_day(_date(year, month, day, tz, m.group(0)), m.group(0), low)
    # a day and month without a year: the last one that has been ("June 14", "on the 14th of June")
    m = (re.search(rf"\b(?:on\s+)?(?:the\s+)?{_ORD}\s+(?:of\s+)?({MONTH_RE})\b(?!\s+\d{{4}})", low)
         or re.search(rf"\b(?:on\s+)?({MONTH_RE})\.?\s+{_ORD}\b(?!\s*(?:\d|:|am|pm))", low))
    if m and not (m.group(0).strip().endswith("may") and not re.search(r"\d", m.group(0))):
        day, month = (int(m.group(1)), MONTHS[m.group(2)]) if m.group(1).isdigit() else (int(m.group(2)), MONTHS[m.group(1)])
        if 1 <= day <= 31:
            return _within_day(_past(now, month, day, m.group(0)), m.group(0), low)

    # days relative to now
    m = re.search(r"\b(?:the\s+)?day\s+before\s+yesterday\b", low)
    if m:
        return _within_day(today - timedelta(days=2), m.group(0), low)
    m = re.search(r"\b(?:the\s+)?night\s+before\s+last\b", low)
    if m:
        start = today - timedelta(days=2)
        return TimeRange(start + timedelta(hours=18), start + timedelta(days=1, hours=5), m.group(0))
    # "my last night in Rome" is the end of a stay (the agent finds it), not yesterday
    m = re.search(r"(?<!my )(?<!our )(?<!the )\blast\s+night\b", low)
    if m:
        start = today - timedelta(days=1) if now.hour >= 5 else today - timedelta(days=2)
        return TimeRange(start + timedelta(hours=18), start + timedelta(days=1, hours=5), m.group(0))
    m = re.search(r"\btonight\b", low)
    if m:
        return TimeRange(today + timedelta(hours=18), today + timedelta(days=1, hours=5), m.group(0))
    for word, delta in (("today", 0), ("yesterday", 1)):
        m = re.search(rf"\b{word}\b(\s+({PART_RE}))?", low)
        if m:
            return _within_day(today - timedelta(days=delta), m.group(0), low)
    m = re.search(rf"\bthis\s+({PART_RE})\b", low)
    if m:
        return _within_day(today, m.group(0), low)
    m = re.search(r"\b(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\s+(day|week|month|year)s?\s+ago\b", low)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
        unit = m.group(2)
        if unit == "day":
            return _within_day(today - timedelta(days=n), m.group(0), low)
        days = {"week": 7, "month": 30, "year": 365}[unit]
        centre = today - timedelta(days=n * days)
        half = timedelta(days=max(1, days // 2))
        return TimeRange(centre - half, centre + half + timedelta(days=1), m.group(0))
    m = re.search(r"\b(?:last|on|this past)\s+(" + "|".join(WEEKDAYS) + r")\b", low)
    if m:
        back = (now.weekday() - WEEKDAYS.index(m.group(1))) % 7 or 7
        return _within_day(today - timedelta(days=back), m.group(0), low)
    m = re.search(r"\b(last|this)\s+weekend\b", low)
    if m:
        saturday = today - timedelta(days=(now.weekday() - 5) % 7)
        if m.group(1) == "last" and now.weekday() in (5, 6):
            saturday -= timedelta(days=7)
        return TimeRange(saturday, saturday + timedelta(days=2), m.group(0))

    m = re.search(r"\b(last|this)\s+(week|month|year)\b", low)
    if m:
        which, unit = m.groups()
        if unit == "week":
            monday = today - timedelta(days=now.weekday())
            start = monday - timedelta(days=7) if which == "last" else monday
            return TimeRange(start, start + timedelta(days=7), m.group(0))
        if unit == "month":
            year, month = now.year, now.month
            if which == "last":
                year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            return TimeRange(*_month(year, month, tz), m.group(0))
        year = now.year - (which == "last")
        return TimeRange(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz), m.group(0))

    m = re.search(rf"\b(?:in\s+|during\s+|of\s+)?({MONTH_RE})\.?\s+(\d{{4}})\b", low)
    if m:
        return TimeRange(*_month(int(m.group(2)), MONTHS[m.group(1)], tz), m.group(0))

    m = re.search(rf"\b(last|this|in|during|of)\s+({MONTH_RE})\b", low)
    if m and not (m.group(2) == "may" and m.group(1) in ("in", "of") and re.search(r"\bmay\s+(i|we|you|have)\b", low)):
        month = MONTHS[m.group(2)]
        if m.group(1) == "last":
            year = now.year if month < now.month else now.year - 1
        else:  # "in June" asked in June is this June so far; asked in March, last June
            year = now.year if month <= now.month else now.year - 1
        return TimeRange(*_month(year, month, tz), m.group(0))

    m = re.search(r"\b(?:in|during|of|from)\s+((?:19|20)\d{2})\b", low)
    if m:
        year = int(m.group(1))
        return TimeRange(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz), m.group(0))

    # before and after a meal: a part of the day ("what did I do after lunch")
    m = re.search(r"\b(before|after)\s+(breakfast|lunch|dinner)\b", low)
    if m:
        return TimeRange(today, today, m.group(0), hours=MEALS[m.groups()])
    # a part of the day with no day: any day's ("my night photos", "around midday", "in the morning")
    # (a meal alone is not a time: "when is dinner with Sam?" asks about a plan)
    m = re.search(rf"\b(?:(?:around|about|at|in the|during the|by)\s+)?({PART_RE})\b", low)
    if m and m.group(1) not in MEAL_WORDS:
        return TimeRange(today, today, m.group(0), hours=PARTS[m.group(1)])
    return None
