"""Time expressions in questions, resolved against a reference "now".

Handles what people say to a memory: "yesterday afternoon", "last April", "in April 2017",
"on 22 October 2008", "this morning", "last week", "in 2015". dateparser misses several of these
(MODELS.md: it returns None for "last April"), so the common forms are parsed here directly.
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
PARTS = {"morning": (5, 12), "afternoon": (12, 18), "evening": (18, 23), "night": (20, 29), "lunch": (11, 15)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # aware, in the reference "now"'s zone
    end: datetime
    phrase: str  # the words that set it, removed from the search text


def _day(d: datetime) -> datetime:
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def _month(year: int, month: int, tz) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def parse_time(text: str, now: datetime) -> TimeRange | None:
    """The time span a question refers to, or None when it names none."""
    if now.tzinfo is None:
        now = now.astimezone()
    tz = now.tzinfo
    low = text.lower()

    def part_of_day(day_start: datetime, phrase: str, rest: str) -> TimeRange:
        for name, (h0, h1) in PARTS.items():
            if re.search(rf"\b{name}\b", rest):
                return TimeRange(day_start + timedelta(hours=h0), day_start + timedelta(hours=h1), phrase)
        return TimeRange(day_start, day_start + timedelta(days=1), phrase)

    m = re.search(r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + MONTH_RE + r")\.?,?\s+(\d{4})\b", low)
    if not m:
        m2 = re.search(r"\b(?:on\s+)?(" + MONTH_RE + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", low)
        if m2:
            day, month, year = int(m2.group(2)), MONTHS[m2.group(1)], int(m2.group(3))
            start = datetime(year, month, day, tzinfo=tz)
            return part_of_day(start, m2.group(0), low)
    if m:
        day, month, year = int(m.group(1)), MONTHS[m.group(2)], int(m.group(3))
        start = datetime(year, month, day, tzinfo=tz)
        return part_of_day(start, m.group(0), low)

    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", low)
    if m:
        start = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=tz)
        return part_of_day(start, m.group(0), low)

    for word, delta in (("today", 0), ("this", 0), ("yesterday", 1), ("tonight", 0)):
        m = re.search(rf"\b{word}\b(\s+(morning|afternoon|evening|night))?", low)
        if m and (word != "this" or m.group(1)):
            start = _day(now) - timedelta(days=delta)
            if word == "tonight":
                return TimeRange(start + timedelta(hours=18), start + timedelta(days=1, hours=5), m.group(0))
            return part_of_day(start, m.group(0), m.group(0))

    m = re.search(r"\b(?:last|on)\s+(" + "|".join(WEEKDAYS) + r")\b", low)
    if m:
        back = (now.weekday() - WEEKDAYS.index(m.group(1))) % 7 or 7
        start = _day(now) - timedelta(days=back)
        return part_of_day(start, m.group(0), low)

    m = re.search(r"\b(last|this)\s+(week|month|year)\b", low)
    if m:
        which, unit = m.groups()
        if unit == "week":
            monday = _day(now) - timedelta(days=now.weekday())
            start = monday - timedelta(days=7) if which == "last" else monday
            return TimeRange(start, start + timedelta(days=7), m.group(0))
        if unit == "month":
            year, month = now.year, now.month
            if which == "last":
                year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            return TimeRange(*_month(year, month, tz), m.group(0))
        year = now.year - (which == "last")
        return TimeRange(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz), m.group(0))

    m = re.search(r"\b(?:in\s+|during\s+)?(" + MONTH_RE + r")\.?\s+(\d{4})\b", low)
    if m and m.group(1) in MONTHS:
        return TimeRange(*_month(int(m.group(2)), MONTHS[m.group(1)], tz), m.group(0))

    m = re.search(r"\b(last|this|in|during)\s+(" + MONTH_RE + r")\b", low)
    if m:
        month = MONTHS[m.group(2)]
        year = now.year if month < now.month or (m.group(1) == "this" and month <= now.month) else now.year - 1
        if m.group(1) == "this":
            year = now.year
        return TimeRange(*_month(year, month, tz), m.group(0))

    m = re.search(r"\b(?:in|during)\s+((?:19|20)\d{2})\b", low)
    if m:
        year = int(m.group(1))
        return TimeRange(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz), m.group(0))
    return None
