"""`lifelog selftest`: questions with known answers, generated from the user's own library, asked
of the agent and scored per type.

The answers come from what the store holds, not from anything the agent computes: capture times
and places (where was I on a day, when was I in a town), devices (which camera in a town),
counts (photos on a day), order (the earliest photo, the first one of a day), lengths and
offsets of recordings, what was said (a sentence's rarest words), text read in a picture (its
rarest words, a receipt's total), and questions whose answer is not in the library (a town and a
day with nothing, a device question about a town never visited). Each fact is asked in several
phrasings, so a change that only helps one way of asking shows up as a gap between them.

A score here says how well the agent reads this library; a change that raises the score on the
question files you wrote but not here has been fitted to those questions.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable

from lifelog import readers
from lifelog.question import GENERIC
from lifelog.schema import Filters, Hit
from lifelog.typed import device_name

if TYPE_CHECKING:
    from lifelog.memory import Memory

# towns no library is likely to hold; any that this one does hold are left out
ELSEWHERE = ("Reykjavik", "Ulaanbaatar", "Montevideo", "Nairobi", "Tbilisi", "Hobart", "Yellowknife", "Windhoek")
DECLINE = re.compile(r"\b(don't know|do not know|no record|nothing in memory|not in memory)\b", re.I)


@dataclass(frozen=True)
class Probe:
    kind: str  # time_place, device, count, order, duration, offset, speech, ocr, unanswerable
    question: str
    accept: str  # a regular expression the answer must match; "" for unanswerable
    file: str = ""  # the file whose evidence answers it (for the report)


@dataclass
class Result:
    probe: Probe
    answer: str
    correct: bool
    seconds: float


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        for r in self.results:
            tally = out.setdefault(r.probe.kind, [0, 0])
            tally[0] += r.correct
            tally[1] += 1
        return {k: (a, n) for k, (a, n) in sorted(out.items())}

    def table(self) -> str:
        lines = [f"{'type':14s} {'right':>5s} {'asked':>5s} {'share':>6s}"]
        for kind, (a, n) in self.by_kind().items():
            lines.append(f"{kind:14s} {a:5d} {n:5d} {a / n:6.2f}")
        answerable = [r for r in self.results if r.probe.kind != "unanswerable"]
        declined = [r for r in self.results if r.probe.kind == "unanswerable"]
        if answerable:
            lines.append(f"{'answerable':14s} {sum(r.correct for r in answerable):5d} {len(answerable):5d} "
                         f"{sum(r.correct for r in answerable) / len(answerable):6.2f}")
        if declined:
            lines.append(f"{'declined':14s} {sum(r.correct for r in declined):5d} {len(declined):5d} "
                         f"{sum(r.correct for r in declined) / len(declined):6.2f}")
        times = sorted(r.seconds for r in self.results)
        if times:
            lines.append(f"ask p50 {1000 * times[len(times) // 2]:.0f} ms over {len(times)} questions")
        return "\n".join(lines)


def _town(place: str) -> str:
    return place.split(",")[0].strip()


def _day_words(d: date) -> list[str]:
    """A day as people write it, several ways."""
    return [f"{d.day} {d:%B %Y}", f"{d:%B} {d.day}, {d.year}", f"the {d.day}{_suffix(d.day)} of {d:%B %Y}", f"{d:%d/%m/%Y}"]


def _suffix(n: int) -> str:
    return "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _date_pattern(d: date) -> str:
    return rf"{d.day:02d} {d:%b} {d.year}|{d.day} {d:%b} {d.year}|{d:%a %d %b %Y}"


def _rare_words(text: str, common: Counter, n: int = 2) -> list[str]:
    """Words of the text that no other file holds, the rarest first."""
    words = [w for w in re.findall(r"[^\W\d_]{5,}", text) if w.lower() not in GENERIC and common[w.lower()] <= 1]
    return sorted(dict.fromkeys(words), key=lambda w: (common[w.lower()], -len(w)))[:n]


def probes(mem: "Memory", *, per_kind: int = 8, seed: int = 0) -> list[Probe]:
    """Questions with known answers from this library (module doc), at most `per_kind` facts each."""
    rng = random.Random(seed)
    hits = [h for h in mem.browse(Filters()) if h.media_id]
    dated = [h for h in hits if not h.file_dated]
    out: list[Probe] = []

    def take(kind: str, items: list, make: Callable[..., Iterable[Probe]]) -> None:
        items = list(items)
        rng.shuffle(items)
        for item in items[:per_kind]:
            out.extend(make(item))

    # where was I on a day / when was I in a town: days and towns with one place only
    by_day: dict[date, set[str]] = {}
    for h in dated:
        if h.place:
            by_day.setdefault(h.local_start.date(), set()).add(_town(h.place))
    single = {d: next(iter(t)) for d, t in by_day.items() if len(t) == 1}
    days_of: dict[str, set[date]] = {}
    for d, town in single.items():
        days_of.setdefault(town, set()).add(d)
    take("time_place", sorted(single.items()), lambda item: [
        Probe("time_place", q, re.escape(item[1].lower())) for q in
        (f"Where was I on {_day_words(item[0])[0]}?", f"Which town was I in on {_day_words(item[0])[3]}?",
         f"Where did I spend {_day_words(item[0])[1]}?")])
    take("time_place", [(t, ds) for t, ds in days_of.items() if len(ds) == 1 and
                        all(t not in other for other in days_of if other != t)], lambda item: [
        Probe("time_place", q, _date_pattern(next(iter(item[1])))) for q in
        (f"When was I in {item[0]}?", f"On what date did I go to {item[0]}?")])

    # which device in a town: towns whose files all name one device
    devices: dict[str, set[str]] = {}
    for h in dated:
        if h.place and h.device:
            devices.setdefault(_town(h.place), set()).add(h.device)
    take("device", [(t, next(iter(d))) for t, d in devices.items() if len(d) == 1], lambda item: [Probe("device", q, re.escape(device_name(item[1]).lower())) for q in
                       (f"What camera took my pictures in {item[0]}?", f"Which device did I use in {item[0]}?")])

    # counts per day and kind
    per_day = Counter((h.local_start.date(), h.kind) for h in {h.media_id: h for h in dated}.values())
    noun = {"photo": "photos", "video": "videos", "audio": "recordings"}
    verb = {"photo": "take", "video": "film", "audio": "record"}
    take("count", sorted(per_day.items()), lambda item: [
        Probe("count", f"How many {noun[item[0][1]]} did I {verb[item[0][1]]} on {_day_words(item[0][0])[0]}?",
              rf"^{item[1]} ")])

    # order: the earliest photo of the library, the first file of a day
    photos = sorted((h for h in dated if h.kind == "photo"), key=lambda h: h.start)
    if photos:
        name = photos[0].path.rsplit("/", 1)[-1]
        out += [Probe("order", q, re.escape(name.lower()), name) for q in
                ("Which is the oldest photo I have?", "What was the first picture I ever took?")]
    firsts = {}
    for h in sorted(dated, key=lambda h: h.start):
        firsts.setdefault((h.local_start.date(), h.kind), h)
    take("order", [v for v in firsts.values() if per_day[(v.local_start.date(), v.kind)] > 1], lambda h: [
        Probe("order", f"What was the first {noun[h.kind][:-1]} I {verb[h.kind]} on {_day_words(h.local_start.date())[0]}?"
              .replace("I take", "I took").replace("I film", "I filmed").replace("I record", "I made"),
              re.escape(h.path.rsplit("/", 1)[-1].lower()), h.path)])

    # lengths of recordings and videos that a day and a place pin down
    files = {h.media_id: h for h in dated if h.kind in ("audio", "video") and h.duration_s >= 2 and h.place}
    pinned = [h for h in files.values() if sum(1 for o in files.values() if o.local_start.date() == h.local_start.date()
                                               and _town(h.place).lower() in o.place.lower() and o.kind == h.kind) == 1]
    take("duration", pinned, lambda h: [
        Probe("duration", f"How long is the {'recording' if h.kind == 'audio' else 'video'} I made in {_town(h.place)} "
                          f"on {_day_words(h.local_start.date())[0]}?", re.escape(readers.duration_words(h.duration_s)), h.path)])

    # what was said, and where in the file: a sentence's rarest words
    # in how many files each word appears
    common = Counter(w for m in {h.media_id: h for h in hits} for w in
                     {x.lower() for h in hits if h.media_id == m for x in re.findall(r"[^\W\d_]{5,}", h.transcript + " " + h.ocr)})
    spoken = [h for h in hits if len(h.transcript.split()) >= 6]

    def said(h: Hit) -> list[Probe]:
        sentence = max(readers.sentences(h.transcript), key=len)
        rare = _rare_words(sentence, common, 3)
        if len(rare) < 2:
            return []
        cue, answer = rare[:-1], rare[-1]
        where = f" in {_town(h.place)}" if h.place else ""
        name = h.path.rsplit("/", 1)[-1]
        return [Probe("speech", f"What was said about {' and '.join(cue)}{where}?", re.escape(answer.lower()), name),
                Probe("offset", f"How far into the recording is {' and '.join(rare)} mentioned?",
                      rf"\b{re.escape(readers.clock_of(h.offset_start))}\b", name)]

    take("speech", spoken, said)

    # text read in pictures: a receipt's total, a row's rarest words
    texts = [h for h in dated if h.kind == "photo" and len(readers.rows(h.ocr)) >= 3]

    def read(h: Hit) -> list[Probe]:
        where = f" in {_town(h.place)}" if h.place else f" on {_day_words(h.local_start.date())[0]}"
        name = h.path.rsplit("/", 1)[-1]
        found = readers.total(readers.rows(h.ocr))
        out = []
        head = _rare_words(" ".join(readers.rows(h.ocr)[:4]), common, 1)
        if found and head:
            out.append(Probe("ocr", f"How much did the receipt from {head[0]}{where} come to?",
                             re.escape(found.text.lower()), name))
        rows = [r for r in readers.rows(h.ocr) if len(_rare_words(r, common, 3)) >= 2]
        if rows:
            rare = _rare_words(rng.choice(rows), common, 2)
            out.append(Probe("ocr", f"Which photo{where} shows the words {rare[0]}?", re.escape(name.lower()), name))
        return out

    take("ocr", texts, read)

    # not in the library: towns never visited, days with nothing, a device question about them
    held = {p.lower() for p in mem.places()}
    away = [t for t in ELSEWHERE if t.lower() not in held][:max(2, per_kind // 2)]
    busy = {h.local_start.date() for h in hits}
    span = sorted(busy)
    empty = []
    if span:
        d = span[0]
        while d <= span[-1] and len(empty) < max(2, per_kind // 2):
            if all(abs((d - b).days) > 3 for b in busy):
                empty.append(d)
            d += timedelta(days=rng.randint(20, 90))
    for t in away:
        out += [Probe("unanswerable", q, "") for q in
                (f"When was I in {t}?", f"What camera did I use in {t}?", f"What did I record in {t}?")]
    for d in empty:
        out += [Probe("unanswerable", q, "") for q in
                (f"Where was I on {_day_words(d)[0]}?", f"What did I say in my voice note on {_day_words(d)[1]}?")]
    return out


def run(mem: "Memory", *, per_kind: int = 8, seed: int = 0, now: datetime | None = None,
        progress: Callable[[int, int], None] | None = None) -> Report:
    items = probes(mem, per_kind=per_kind, seed=seed)
    report = Report()
    for i, p in enumerate(items):
        t0 = time.perf_counter()
        answer = mem.ask(p.question, now=now)
        seconds = time.perf_counter() - t0
        text = answer.text.lower()
        if p.kind == "unanswerable":
            correct = answer.abstained and bool(DECLINE.search(text))
        else:
            correct = not answer.abstained and bool(re.search(p.accept, text, re.I))
        report.results.append(Result(p, answer.text, correct, seconds))
        if progress:
            progress(i + 1, len(items))
    return report
