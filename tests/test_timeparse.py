"""Time phrases in questions resolved against a fixed "now" (lifelog/timeparse.py): pure, no models.

NOW is Sunday 15 June 2025, 10:00 at UTC+1; MARCH (Monday 10 March 2025) is a second "now" for the
forms whose year depends on the month they are asked in.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lifelog.timeparse import BadDate, TimeRange, parse_time

TZ = timezone(timedelta(hours=1))
NOW = datetime(2025, 6, 15, 10, 0, tzinfo=TZ)  # a Sunday
MARCH = datetime(2025, 3, 10, 10, 0, tzinfo=TZ)  # a Monday
JANUARY = datetime(2025, 1, 20, 10, 0, tzinfo=TZ)


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, tzinfo=TZ) + timedelta(hours=hour)


def span(text: str, now: datetime = NOW) -> tuple[datetime, datetime]:
    r = parse_time(text, now)
    assert r is not None, text
    assert r.hours is None, (text, r)
    return r.start, r.end


DAY_14 = (at(2025, 6, 14), at(2025, 6, 15))


@pytest.mark.parametrize("text, expected", [
    # days relative to now
    ("last night", (at(2025, 6, 14, 18), at(2025, 6, 15, 5))),
    ("tonight", (at(2025, 6, 15, 18), at(2025, 6, 16, 5))),
    ("last Saturday", DAY_14),
    ("last Sunday", (at(2025, 6, 8), at(2025, 6, 9))),
    ("the day before yesterday", (at(2025, 6, 13), at(2025, 6, 14))),
    ("two days ago", (at(2025, 6, 13), at(2025, 6, 14))),
    ("3 days ago", (at(2025, 6, 12), at(2025, 6, 13))),
    # parts of a named day
    ("yesterday at 8pm", (at(2025, 6, 14, 19), at(2025, 6, 14, 21))),
    ("in the afternoon yesterday", (at(2025, 6, 14, 12), at(2025, 6, 14, 18))),
    ("yesterday evening", (at(2025, 6, 14, 17), at(2025, 6, 14, 23))),
    ("this morning", (at(2025, 6, 15, 5), at(2025, 6, 15, 12))),
    # dates without a year: the last one that has been
    ("June 14", DAY_14),
    ("14 June", DAY_14),
    ("on the 14th of June", DAY_14),
    # dates in digits
    ("14/06/2025", DAY_14),
    ("06/14/2025", DAY_14),
    ("2025-06-14", DAY_14),
    # dates in words with a year
    ("on 22 October 2008", (at(2008, 10, 22), at(2008, 10, 23))),
    ("the 10th of February 2015", (at(2015, 2, 10), at(2015, 2, 11))),
    ("October 22, 2008", (at(2008, 10, 22), at(2008, 10, 23))),
    ("on the night of 30 December 2016", (at(2016, 12, 30, 19), at(2016, 12, 31, 5))),
    # spans
    ("a week ago", (at(2025, 6, 5), at(2025, 6, 12))),
    ("last week", (at(2025, 6, 2), at(2025, 6, 9))),
    ("this weekend", (at(2025, 6, 14), at(2025, 6, 16))),
    ("last weekend", (at(2025, 6, 7), at(2025, 6, 9))),
    ("last month", (at(2025, 5, 1), at(2025, 6, 1))),
    ("last April", (at(2025, 4, 1), at(2025, 5, 1))),
    ("in April 2017", (at(2017, 4, 1), at(2017, 5, 1))),
    ("in June", (at(2025, 6, 1), at(2025, 7, 1))),
    ("last June", (at(2024, 6, 1), at(2024, 7, 1))),
    ("in December", (at(2024, 12, 1), at(2025, 1, 1))),
    ("in 2015", (at(2015, 1, 1), at(2016, 1, 1))),
    ("this year", (at(2025, 1, 1), at(2026, 1, 1))),
])
def test_span_asked_on_a_sunday_in_june(text, expected):
    assert span(text) == expected


@pytest.mark.parametrize("text, now, expected", [
    ("in June", MARCH, (at(2024, 6, 1), at(2024, 7, 1))),  # June has not come yet: last June
    ("last April", MARCH, (at(2024, 4, 1), at(2024, 5, 1))),
    ("June 14", MARCH, (at(2024, 6, 14), at(2024, 6, 15))),
    ("last month", MARCH, (at(2025, 2, 1), at(2025, 3, 1))),
    ("last month", JANUARY, (at(2024, 12, 1), at(2025, 1, 1))),
    ("last year", JANUARY, (at(2024, 1, 1), at(2025, 1, 1))),
])
def test_span_depends_on_the_month_asked_in(text, now, expected):
    assert span(text, now) == expected


def test_span_is_in_the_zone_of_now():
    r = parse_time("June 14", NOW)
    assert r.start.utcoffset() == timedelta(hours=1) and r.end.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text, hours, phrase", [
    ("around midday", (11, 14), "around midday"),
    ("my night photos", (19, 29), "night"),
    ("what did I record in the morning", (5, 12), "in the morning"),
])
def test_part_of_any_day_is_hours_only(text, hours, phrase):
    """A part of the day with no date names hours of any day, not a span."""
    r = parse_time(text, NOW)
    assert r is not None
    assert r.hours == hours
    assert r.phrase == phrase


@pytest.mark.parametrize("text, phrase", [
    ("What did I eat last night?", "last night"),
    ("Where was I on 22 October 2008?", "on 22 october 2008"),
    ("photos from 3 days ago", "3 days ago"),
    ("What did I buy in April 2017?", "in april 2017"),
])
def test_phrase_is_the_words_that_set_the_span(text, phrase):
    assert parse_time(text, NOW).phrase == phrase


def test_returns_a_time_range():
    assert isinstance(parse_time("yesterday", NOW), TimeRange)


@pytest.mark.parametrize("text, named", [
    ("31 February 2025", "31 february 2025"),
    ("30/02/2025", "30/02/2025"),
    ("What did I do on 31 June?", "31 june"),
])
def test_impossible_date_raises_bad_date(text, named):
    with pytest.raises(BadDate) as err:
        parse_time(text, NOW)
    assert isinstance(err.value, ValueError)
    assert named in str(err.value).lower()


def test_29_february_without_a_year_is_the_last_leap_day():
    assert span("on 29 February", NOW) == (at(2024, 2, 29), at(2024, 3, 1))


@pytest.mark.parametrize("text", [
    "where did I leave my keys",
    "May I ask what the tram cost?",
    "What did Sam say about the budget?",
])
def test_no_time_gives_none(text):
    assert parse_time(text, NOW) is None


def test_naive_now_is_read_as_local_time():
    r = parse_time("yesterday", datetime(2025, 6, 15, 10, 0))
    assert r is not None and r.start.tzinfo is not None
    assert r.start.replace(tzinfo=None) == datetime(2025, 6, 14)


# forms the module gets wrong (strict: each flips to a failure once fixed, so the mark comes off)

def test_last_night_at_a_place_is_yesterdays_night():
    assert span("What did I film last night at the concert?") == (at(2025, 6, 14, 18), at(2025, 6, 15, 5))


def test_the_night_before_last():
    assert span("the night before last") == (at(2025, 6, 13, 18), at(2025, 6, 14, 5))


def test_photos_from_a_year():
    assert span("photos from 2019") == (at(2019, 1, 1), at(2020, 1, 1))
