"""Reading typed values out of evidence text: amounts, totals, numbers next to the words that name
them, the value printed after a label, phone numbers, clock times and offsets.

OCR text is stored as rows joined by " / " (ingest/describe.py); a receipt's total is read on the
row that names it ("TOTAL  $60.44", not "SUBTOTAL"), a Wi-Fi password on the row after "WIFI
Password". Standard library only: every function is tested on strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a money amount: an optional currency before or after, digits with two decimals (1,234.56 or 1.234,56)
CURRENCY = r"(?:[$€£¥₹]|rm|usd|eur|gbp|myr|sgd|chf|rs\.?|kr)"
AMOUNT = re.compile(rf"(?<![\w.,])({CURRENCY}\s?)?(\d{{1,3}}(?:[,.\s]\d{{3}})*[.,]\d{{2}}|\d+[.,]\d{{2}})(?!\d)(\s?{CURRENCY})?",
                    re.I)
# the rows that state what was paid, best first; rows that only look like them are skipped
TOTAL_WORDS = [r"grand\s*total", r"total\s*(?:due|amount|payable|to pay)", r"amount\s*(?:due|payable)", r"balance\s*due",
               r"\btotal\b", r"\bnett?\s*(?:amount|total)\b", r"\bamount\b", r"\bsum\b"]
NOT_TOTAL = re.compile(r"sub\s*-?\s*total|\bsttl\b|total\s*(?:items?|qty|quantity|savings?|discount|sales amount|tax)"
                       r"|items?\s*count|no\.? of", re.I)
PHONE = re.compile(r"(?<![\w+])(\+?\(?\d{1,4}\)?(?:[\s.-]?\(?\d{2,5}\)?){1,4})(?![\w.,]\d)")
CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)(?::[0-5]\d)?\s*(am|pm)?\b", re.I)


@dataclass(frozen=True)
class Value:
    text: str  # the value as written
    line: str  # the row or sentence it was read from
    label: str = ""  # what named it ("TOTAL")


def rows(ocr: str) -> list[str]:
    return [r.strip() for r in ocr.split(" / ") if r.strip()]


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]


def amounts(text: str) -> list[str]:
    return [m.group(0).strip() for m in AMOUNT.finditer(text)]


def total(lines: list[str]) -> Value | None:
    """What a receipt or bill says was paid: the amount on its total row (the last such row: a
    table's header "Qty Description Total" comes first, the sum at the bottom), else on the row
    after it."""
    for pattern in TOTAL_WORDS:
        same_row, next_row = [], []
        for i, line in enumerate(lines):
            m = re.search(pattern, line, re.I)
            if not m or NOT_TOTAL.search(line):
                continue
            found = amounts(line[m.end():])
            if found:
                same_row.append(Value(found[-1], line, m.group(0)))
            elif i + 1 < len(lines) and amounts(lines[i + 1]):
                next_row.append(Value(amounts(lines[i + 1])[-1], f"{line} / {lines[i + 1]}", m.group(0)))
        if same_row or next_row:
            return (same_row or next_row)[-1]
    return None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def after_label(lines: list[str], label: str) -> Value | None:
    """The value printed after a label: on the same row ("Password: 1234") or on the next one."""
    key = _norm(label)
    if len(key) < 3:
        return None
    for i, line in enumerate(lines):
        flat = _norm(line)
        if key not in flat:
            continue
        # the rest of the row after the label's last letter
        letters = list(re.finditer(r"[A-Za-z0-9]", line))
        seen, cut = "", len(line)
        for m in letters:
            seen += m.group(0).lower()
            if seen.endswith(key):
                cut = m.end()
                break
        rest = line[cut:].strip(" :=#-–—.\t")
        if len(_norm(rest)) >= 2:
            return Value(rest, line, label)
        if i + 1 < len(lines):
            return Value(lines[i + 1].strip(), lines[i] + " / " + lines[i + 1], label)
    return None


def number_near(text: str, words: set[str]) -> Value | None:
    """A number written next to one of the words ("331 in favour, 225 against": against -> 225)."""
    for clause in re.split(r"[,;]\s+|(?<=[^\d])\.\s*|\s+/\s+", text):  # "331 in favour, 225 against": one clause each
        found = _number_in(clause, words)
        if found:
            return Value(found, text)
    return None


def _number_in(text: str, words: set[str]) -> str | None:
    best: tuple[int, str] | None = None
    tokens = list(re.finditer(r"[\w'.,-]+", text))
    for i, tok in enumerate(tokens):
        word = tok.group(0).lower().strip(".,")
        if not any(word.startswith(w[:5]) for w in words if len(w) > 2):
            continue
        for j in range(max(0, i - 3), min(len(tokens), i + 4)):
            num = tokens[j].group(0).strip(".,")
            if j != i and re.fullmatch(r"\d[\d,.]*", num):
                dist = abs(j - i)
                if best is None or dist < best[0]:
                    best = (dist, num)
    return best[1] if best else None


def phones(text: str) -> list[str]:
    found = []
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if 7 <= len(digits) <= 15 and not AMOUNT.search(m.group(1)) and not re.fullmatch(r"(19|20)\d{6}", digits):
            found.append(m.group(1).strip())
    return found


def clock_of(seconds: float) -> str:
    """An offset into a file as it reads on a player: 7:38, or 1:02:05."""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def duration_words(seconds: float) -> str:
    """A length as people say it: "15 min", "1 h 5 min", "42 s"."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{m} min {s} s" if s and m < 10 else f"{m} min"
