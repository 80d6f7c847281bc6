"""Capture times as cameras write them, each checked before it is believed.

    >>> exif_time("2015:04:10 20:12:23", "54", "+02:00", gps={})   # (UTC time, offset minutes)
    >>> gps_clock(gps_ifd)                                          # the EXIF GPS date and time, UTC
    >>> quicktime_time({"creation_time": "2017-04-17T19:27:57Z"})    # (UTC time, offset, rejected)

A camera with an unset or broken clock writes 0000:00:00, 9999:12:31 or 1850. Every reader here
gives None for a date that is unreadable or outside `ingest.options.plausible_time` (1900 to a day
after now), and no datetime arithmetic in it can overflow, so the caller falls back to the next
source (see `ingest.records.TimeSource`). Also the GoPro GPMF telemetry parser (first GPS fix and
the GPS clock). Imports nothing of ingest above `options`: `probe` fills the records.
"""

from __future__ import annotations

import math
import re
import struct
from datetime import datetime, timedelta, timezone

from ingest.options import EARLIEST, plausible_time, utc

# UTC offsets span -12:00 .. +14:00; anything past 14 h is a broken tag (and no tzinfo could hold it)
MAX_OFFSET_MIN = 14 * 60


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 ")


def parse_offset(value: object) -> int | None:
    """An EXIF OffsetTime ("+02:00", "-0530") in minutes; None when absent or not a real offset."""
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", _text(value))
    if not m or int(m[3]) >= 60:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    if minutes > MAX_OFFSET_MIN:
        return None
    return -minutes if m[1] == "-" else minutes


def exif_local(raw: object, subsec: object = "") -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" (+ SubSecTime digits) as a naive wall-clock time; None when it is
    unreadable ("0000:00:00 00:00:00", blanks) or its year is outside 1900 .. next year."""
    try:
        local = datetime.strptime(_text(raw)[:19], "%Y:%m:%d %H:%M:%S")
    except (ValueError, TypeError):
        return None
    if not EARLIEST.year <= local.year <= datetime.now(timezone.utc).year + 1:
        return None  # checked before any arithmetic: 9999-12-31 plus an offset would overflow
    digits = _text(subsec)
    if digits.isdigit():
        local += timedelta(seconds=float("0." + digits[:6]))
    return local


def gps_clock(gps: dict) -> datetime | None:
    """The EXIF GPS date and time stamps (UTC); None when absent, unreadable or out of range."""
    try:
        date, hms = gps.get(29), gps.get(7)
        if not date or not hms:
            return None
        h, m, s = (float(x) for x in hms)  # a zero denominator reads as NaN: refused just below
        if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 61):
            return None
        day = datetime.strptime(_text(date)[:10], "%Y:%m:%d")
        when = (day + timedelta(hours=h, minutes=m, seconds=s)).replace(tzinfo=timezone.utc)
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        return None
    return when if plausible_time(when) else None


def offset_from_gps(local: datetime, gps_utc: datetime | None) -> int | None:
    """The camera's UTC offset from the GPS clock (UTC) beside its local time, to 15 min."""
    if gps_utc is None:
        return None
    minutes = round((local - gps_utc.replace(tzinfo=None)).total_seconds() / 900) * 15
    return minutes if abs(minutes) <= MAX_OFFSET_MIN else None


def exif_time(raw: object, subsec: object, offset_tag: object, gps: dict) -> tuple[datetime, int | None] | None:
    """A photo's capture time (UTC) and the camera's UTC offset (minutes, None when unknown) from
    EXIF DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal and the GPS clock; None when the
    date is unreadable or out of range. With no offset anywhere the wall-clock time is read in this
    machine's zone, the usual guess."""
    local = exif_local(raw, subsec)
    if local is None:
        return None
    offset = parse_offset(offset_tag)
    if offset is None:
        offset = offset_from_gps(local, gps_clock(gps))
    try:
        if offset is not None:
            when = (local - timedelta(minutes=offset)).replace(tzinfo=timezone.utc)
        else:
            when = local.astimezone().astimezone(timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None
    return (when, offset) if plausible_time(when) else None


def parse_iso_time(value: str) -> datetime | None:
    value = value.strip().replace("Z", "+00:00")
    m = re.fullmatch(r"(.+?)([+-]\d{2}):?(\d{2})", value)
    if m and "T" in value:
        value = f"{m[1]}{m[2]}:{m[3]}"
    try:
        return datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None


def quicktime_time(meta: dict[str, str]) -> tuple[datetime | None, int | None, bool]:
    """(UTC capture time, UTC offset in minutes, whether a date was there but rejected) from a
    movie's metadata: Apple's creationdate (local time with its offset), else creation_time (UTC;
    QuickTime's epoch 1904 and 1970 mean "not set")."""
    rejected = False
    apple_text = meta.get("com.apple.quicktime.creationdate", "")
    apple = parse_iso_time(apple_text)
    if apple is not None and apple.tzinfo is not None:
        offset = apple.utcoffset()
        when = utc(apple)
        if offset is not None and plausible_time(when):
            return when, int(offset.total_seconds() // 60), False
    rejected = bool(apple_text.strip())
    created_text = meta.get("creation_time", "")
    created = parse_iso_time(created_text)
    if created is not None and created.year > 1971:
        when = utc(created)
        if plausible_time(when):
            return when, None, False
        rejected = True
    elif created is None and created_text.strip():
        rejected = True
    return None, None, rejected


def gpmf_start(when: datetime | None, into_s: float) -> datetime | None:
    """The start of a video whose GPS clock read `when` at `into_s` seconds in; None when out of range."""
    if when is None or not math.isfinite(into_s):
        return None
    try:
        start = when - timedelta(seconds=into_s)
    except OverflowError:
        return None
    return start if plausible_time(start) else None


def gpmf_gps(data: bytes) -> tuple[tuple[float, float, float], datetime | None] | None:
    """First GPS fix ((lat, lon, alt), GPS time) in a packet of GoPro GPMF telemetry (KLV, big-endian)."""
    scale: list[float] = [1.0]
    when: datetime | None = None
    fix_ok = True
    i = 0
    while i + 8 <= len(data):
        key = data[i:i + 4]
        typ = chr(data[i + 4]) if data[i + 4] else "\0"
        size, repeat = data[i + 5], struct.unpack(">H", data[i + 6:i + 8])[0]
        body = data[i + 8:i + 8 + size * repeat]
        if typ == "\0":  # a nested container: descend into it
            i += 8
            continue
        if key == b"SCAL":
            fmt = {"l": "i", "L": "I", "s": "h", "S": "H"}.get(typ)
            if fmt:
                scale = list(struct.unpack(f">{size * repeat // struct.calcsize(fmt)}{fmt}", body))
        elif key == b"GPSF":
            fix_ok = struct.unpack(">I", body[:4])[0] >= 2
        elif key == b"GPSU":
            try:
                when = datetime.strptime(body[:16].decode("ascii"), "%y%m%d%H%M%S.%f").replace(tzinfo=timezone.utc)
            except ValueError:
                when = None
        elif key == b"GPS5" and typ == "l" and fix_ok:
            vals = struct.unpack(">5i", body[:20])
            sc = (scale + [1.0] * 5)[:5] if len(scale) > 1 else [scale[0]] * 5
            lat, lon, alt = vals[0] / sc[0], vals[1] / sc[1], vals[2] / sc[2]
            if (lat, lon) != (0.0, 0.0):
                return (lat, lon, alt), when
        elif key == b"GPRI" and size >= 20 and len(scale) >= 4:
            # Karma/Hero "GPS RAW" records, TYPE "Jlll...": microsecond clock, lat, lon, alt
            lat_i, lon_i, alt_i = struct.unpack(">3i", body[8:20])
            lat, lon, alt = lat_i / scale[1], lon_i / scale[2], alt_i / scale[3]
            if (lat, lon) != (0.0, 0.0) and -90 <= lat <= 90 and -180 <= lon <= 180:
                return (lat, lon, alt), when
        i += 8 + ((size * repeat + 3) & ~3)
    return None


_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def printed_date(text: str) -> datetime | None:
    """A date (and a clock time on the same row) printed in a picture, as on a receipt or a ticket:
    "07/04/2018 - 18:10", "2018-04-08 14:26", "12/30/2016", "12 June 2019"; naive wall-clock time
    (midday when no time is printed), read in this machine's zone like an EXIF time without an
    offset. Day first unless that cannot be; None without a plausible date."""
    for row in text.split(" / "):
        low = row.lower()
        m = re.search(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", low)
        found = None
        if m:
            found = (int(m[1]), int(m[2]), int(m[3]))
        elif m := re.search(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![\d/.])", low):
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            year += 2000 if year < 100 else 0
            found = (year, a, b) if b > 12 >= a else (year, b, a)
        elif m := re.search(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})", low):
            found = (int(m[3]), _MONTHS[m[2]], int(m[1]))
        elif m := re.search(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", low):
            found = (int(m[3]), _MONTHS[m[1]], int(m[2]))
        if not found:
            continue
        try:
            day = datetime(*found)
        except ValueError:
            continue
        clock = re.search(r"(?<!\d)([01]?\d|2[0-3])[:.]([0-5]\d)(?::[0-5]\d)?\s*(am|pm)?(?!\d)", low[m.end():] + " " + low[:m.start()])
        hour, minute = 12, 0
        if clock:
            hour, minute = int(clock[1]), int(clock[2])
            if clock[3]:
                hour = hour % 12 + (12 if clock[3] == "pm" else 0)
        when = day.replace(hour=hour, minute=minute)
        if plausible_time(when.replace(tzinfo=timezone.utc)):
            return when
    return None
