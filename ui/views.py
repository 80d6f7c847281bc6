"""What the app shows, as plain data and HTML: evidence items, the viewer, progress, status, models.

Pure functions of `lifelog` results, so tests can check them without a browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import lifelog
from lifelog.schema import KIND_NAMES as MEDIA_KIND_NAMES
from lifelog.schema import local_time

SEP = " \u00b7 "
# a media kind in words; "mixed" is a timeline episode spanning several kinds
KIND_NAMES = {**MEDIA_KIND_NAMES, "mixed": "mixed"}
# the agent's evidence label, "photo Sat 14 Jun 2025, 09:42 at Lisbon, Portugal: CAFÉ AURORA": the viewer
# already shows kind, time and place above the snippet, so only the words after the colon are kept
# the agent's "photo IMG_1.jpg, Sat 14 Jun 2025, 09:42 at Lisbon: " (lifelog.typed.label): the viewer shows those apart
LABEL_PREFIX = re.compile(r"^\w+ (?:[^,]+, )?(?:\w{3} \d{1,2} \w{3} \d{4}, \d{1,2}:\d{2}(?: \([^)]*\))?|file date [^,]+, "
                          r"not capture time)(?: at [^:]+)?: ")


@dataclass(frozen=True)
class Evidence:
    """Anything the viewer can open: a citation, a search hit or an episode of the timeline."""

    media_id: str
    kind: str
    start_s: float  # seconds into the file
    end_s: float
    time: datetime | None  # absolute time of the moment, UTC
    title: str
    text: str  # the snippet, caption or transcript that matters here
    place: str
    episode_id: str
    thumbnail: str  # as the store gives it (inside the home), or ""
    path: str  # the file as last seen, for display only: never served from this
    score: float | None = None
    utc_offset_min: int | None = None  # the camera's clock offset: times show as lived there
    time_source: str = ""  # where the capture time came from; "file"/"ingest": only a copy date
    scale: str = ""  # segment, event, session, day ("" where not known)
    count: int = 0  # files in a session or day, where it is more than one

    @property
    def file_dated(self) -> bool:
        return self.time_source in ("file", "ingest")


def from_citation(c: lifelog.Citation) -> Evidence:
    return Evidence(media_id=c.media_id, kind=c.kind, start_s=c.start_s, end_s=c.end_s, time=c.time,
                    title=Path(c.path).name if c.path else c.kind,
                    text=snippet(LABEL_PREFIX.sub("", c.snippet)), place=c.place, episode_id=c.episode_id,
                    thumbnail=c.thumbnail, path=c.path, score=c.score, utc_offset_min=c.utc_offset_min,
                    time_source=c.time_source)


def from_hit(h: lifelog.Hit) -> Evidence:
    return Evidence(media_id=h.media_id, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end, time=h.start,
                    title=Path(h.path).name if h.path else h.title or h.kind,
                    text=h.transcript or snippet(h.text, h.title, h.place), place=h.place, episode_id=h.episode_id,
                    thumbnail=h.thumbnail, path=h.path, score=h.score, utc_offset_min=h.utc_offset_min,
                    time_source=h.time_source, scale=h.scale, )


def from_row(row: dict[str, Any], home: str | Path, utc_offset_min: int | None = None, time_source: str = "",
             path: str = "") -> Evidence:
    """An episode row of the store (the timeline reads those); the offset, the time's source and the
    file come from its media records."""
    thumb = row.get("thumbnail") or ""
    title = Path(path).name if path else row.get("title") or ""
    return Evidence(media_id=row.get("media_id") or "", kind=row.get("kind") or "mixed",
                    start_s=float(row.get("offset_start") or 0), end_s=float(row.get("offset_end") or 0),
                    time=row.get("start"), title=title,
                    text=row.get("transcript") or snippet(row.get("text") or row.get("caption") or "",
                                                          row.get("title") or "", row.get("place") or ""),
                    place=row.get("place") or "", episode_id=row["episode_id"],
                    thumbnail=str(Path(home) / thumb) if thumb else "", path=path, utc_offset_min=utc_offset_min,
                    time_source=time_source, scale=row.get("scale") or "", count=len(row.get("sources") or ()))


# the labelled lines of an episode's text ("Tags: ...", "Place: ..."): the viewer shows the place apart
_FIELD = re.compile(r"^(?:Tags|Text|Place|Video|Photo|Recording|Said|People):\s*", re.IGNORECASE)


def snippet(text: str, title: str = "", place: str = "") -> str:
    """What an episode says, each thing once: its text is the title, then the caption, then labelled
    fields (tags, text, place) that repeat the caption's words; the title and place are shown apart."""
    kept: list[str] = []
    seen = ""
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line == title.strip() or line.lower().startswith("place:"):
            continue
        core = _FIELD.sub("", line)
        if place and core == place:
            continue
        # a line that only repeats what is already shown ("Tags: coffeepot" after "Video: coffeepot, water jug")
        if all(part.strip().lower() in seen for part in re.split(r"[,;/]", core) if part.strip()):
            continue
        kept.append(line)
        seen += " " + line.lower()
    return "\n".join(kept) or (text or "").strip()


def zone(utc_offset_min: int | None) -> str:
    """"UTC+1", "UTC-5", "UTC+5:30"."""
    m = int(utc_offset_min or 0)
    sign = "+" if m >= 0 else "-"
    return f"UTC{sign}{abs(m) // 60}" + (f":{abs(m) % 60:02d}" if m % 60 else "")


def when(t: datetime | None, utc_offset_min: int | None = None, *, time_source: str = "") -> str:
    """A time as the person lived it: the camera's clock where known (as the agent's answers say
    it), with its zone where that differs from this computer's; else this computer's local time.
    A copy date is said to be one."""
    if not t:
        return "time unknown"
    if time_source in ("file", "ingest"):
        return f"file date {local_time(t, None):%d %b %Y} (not capture time)"
    shown = local_time(t, utc_offset_min).strftime("%a %d %b %Y, %H:%M")
    if utc_offset_min is not None:
        here = t.astimezone().utcoffset()
        if here is None or int(here.total_seconds() // 60) != utc_offset_min:
            shown += f" {zone(utc_offset_min)}"
    if time_source == "text":
        shown += ", the date printed in it"
    return shown


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def span(e: Evidence) -> str:
    if e.kind == "photo" or e.end_s <= 0:
        return ""
    return f"{clock(e.start_s)}\u2013{clock(e.end_s)}"


def caption(e: Evidence, *, with_score: bool = False) -> str:
    """The lines over a thumbnail: what and when, then where, then the file (and how relevant, in search)."""
    what = KIND_NAMES.get(e.kind, e.kind) if e.scale != "day" else "day"
    if e.count > 1 and e.scale in ("session", "day"):
        what = f"{what} of {e.count} files"
    first = SEP.join([what, when(e.time, e.utc_offset_min, time_source=e.time_source)] + ([span(e)] if span(e) else []))
    if with_score and e.score is not None:
        first = f"{e.score:.2f}{SEP}{first}"
    lines = [first] + ([e.place] if e.place else []) + ([Path(e.path).name] if e.path else [])
    return "\n".join(lines)


def file_url(path: Path) -> str:
    return "/gradio_api/file=" + quote(str(path))


def people_named(text: str, names: Sequence[str]) -> str:
    """A caption's face count ("1 person", "3 people") as the people's names, once they are known."""
    named = [n for n in names if not n.startswith("unnamed person")]
    if not named:
        return text
    return _FACE_COUNT.sub(", ".join(named) + (f" and {len(names) - len(named)} more" if len(names) > len(named)
                                               else ""), text, count=1)


_FACE_COUNT = re.compile(r"\b(?:1 person|\d+ people)\b")


def viewer_html(e: Evidence, media: Path | None, context: Sequence[tuple[float, str, bool]] = (),
                *, autoplay: bool = True, note: str = "", people: Sequence[str] = ()) -> str:
    """The opened piece of evidence: a player seeking to the cited second, a large photo, the words.

    The player's source carries a media fragment (`#t=start,end`), so the browser itself starts at
    the cited second and pauses at its end; `data-start` lets the page's script seek again when a
    new clip replaces the old one in the same element.
    """
    parts = ['<div class="ll-viewer">']
    if media is not None:
        url = html.escape(file_url(media))
        if e.kind in ("video", "audio"):
            frag = f"#t={e.start_s:.2f}" + (f",{e.end_s:.2f}" if e.end_s > e.start_s else "")
            tag = "video" if e.kind == "video" else "audio"
            auto = " autoplay" if autoplay else ""
            parts.append(f'<{tag} class="ll-player" src="{url}{frag}" data-start="{e.start_s:.2f}" '
                         f'data-end="{e.end_s:.2f}" controls preload="auto" playsinline{auto}></{tag}>')
        else:
            parts.append(f'<a href="{url}" target="_blank" rel="noopener"><img class="ll-photo" src="{url}" '
                         f'alt="{html.escape(e.title)}"></a>')
    title = html.escape(e.title or KIND_NAMES.get(e.kind, e.kind))
    meta = SEP.join(caption(replace(e, path="", score=None)).splitlines())
    name = Path(e.path).name if e.path else ""
    # the file's name too, when the title is something else (a day, a session's title)
    file_line = f'<div class="ll-file">{html.escape(name)}</div>' if name and name != e.title else ""
    dated = ('<div class="ll-note">This file carries no capture time: it is dated by when it was copied, '
             "so it is left out of answers about when.</div>") if e.file_dated else ""
    who = f'<div class="ll-people">People: {html.escape(", ".join(people))}</div>' if people else ""
    parts.append(f'<div class="ll-meta"><div class="ll-title">{title}</div>{file_line}<div>{html.escape(meta)}</div>'
                 f"{who}{dated}</div>")
    if context:
        lines = []
        for at, words, current in context:
            cls = ' class="ll-current"' if current else ""
            lines.append(f"<li{cls}><span class=\"ll-at\">{clock(at)}</span> {html.escape(words)}</li>")
        parts.append('<ol class="ll-transcript">' + "".join(lines) + "</ol>")
    elif e.text:
        parts.append(f'<blockquote class="ll-snippet">{html.escape(e.text)}</blockquote>')
    if note:
        parts.append(f'<div class="ll-note">{html.escape(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def hint_html(text: str) -> str:
    return f'<div class="ll-hint">{html.escape(text)}</div>'


def filters_words(filters: lifelog.Filters) -> str:
    """The search's filters as a person would say them: "from 01 Jun 2025 to 14 Jun 2025 (days where
    captured) · photos · in Lisbon · with Eileen"; "" when there are none."""
    bits = []
    lo, hi = filters.local_start, filters.local_end
    if lo and lo.year > 1900:
        bits.append(f"from {lo:%a %d %b %Y}")
    if hi and hi.year < 2999:
        bits.append(f"to {hi - timedelta(seconds=1):%a %d %b %Y}")
    if bits:
        bits = [" ".join(bits) + " (days where captured)"]
    if filters.kinds:
        bits.append(", ".join(KIND_NAMES.get(k, k) + "s" for k in filters.kinds))
    if filters.place:
        bits.append(f"in {filters.place}")
    if filters.people:
        bits.append("with " + ", ".join(filters.people))
    return SEP.join(bits)


def empty_html(query: str, filters: lifelog.Filters) -> str:
    extra = f" with the filters ({html.escape(filters_words(filters))})" if filters_words(filters) else ""
    return (f'<div class="ll-empty"><div class="ll-empty-title">Nothing in memory matches '
            f'\u201c{html.escape(query)}\u201d{extra}.</div><div>Try other words, widen the dates, or add '
            f"the folder that holds it in the Library tab.</div></div>")


def results_html(query: str, n: int, filters: lifelog.Filters) -> str:
    extra = f" \u00b7 {html.escape(filters_words(filters))}" if filters_words(filters) else ""
    return (f'<div class="ll-count">{n} moment{"s" * (n != 1)} for \u201c{html.escape(query)}\u201d{extra}. '
            f"Select one to open it.</div>")


def image_results_html(name: str, n: int, filters: lifelog.Filters, *, ignored_text: str = "") -> str:
    extra = f" \u00b7 {html.escape(filters_words(filters))}" if filters_words(filters) else ""
    note = (f" The words \u201c{html.escape(ignored_text)}\u201d were not used: clear the picture to search by words."
            if ignored_text else "")
    return (f'<div class="ll-count">{n} moment{"s" * (n != 1)} that look{"s" * (n == 1)} like {html.escape(name)}{extra}. '
            f"Select one to open it.{note}</div>")


def image_empty_html(name: str, filters: lifelog.Filters) -> str:
    extra = f" with the filters ({html.escape(filters_words(filters))})" if filters_words(filters) else ""
    return (f'<div class="ll-empty"><div class="ll-empty-title">Nothing in memory looks like {html.escape(name)}'
            f"{extra}.</div><div>Try another picture, widen the dates, or search by words.</div></div>")


def image_search_hint(profile: str) -> str:
    """The note under the example-picture input: how much to expect from this profile's image vectors."""
    if profile == "bundled":
        return ('<div class="ll-note">The bundled profile compares pictures by the things it recognises in them '
                "(a cat, a cup, a bridge), not by how they look: it finds photos of the same kind of thing. "
                "The full profile compares the pictures themselves.</div>")
    return '<div class="ll-note">Finds photos and video frames that look like this picture.</div>'


def steps_markdown(answer: lifelog.Answer) -> str:
    if not answer.steps:
        return "No search was needed."
    rows = ["| round | memory | scale | filters | best hits | decision |", "|---|---|---|---|---|---|"]
    for s in answer.steps:
        hits = ", ".join(f"{html.escape(t)[:40]} ({score:.2f})" for t, score in s.hits[:3]) or "none"
        rows.append(f"| {s.round} | {s.memory} | {s.scale} | {s.filters} | {hits} | {s.decision} |")
    return (f"Agent **{answer.agent}**, {len(answer.steps)} round{'s' * (len(answer.steps) != 1)}, "
            f"{answer.seconds:.1f} s, searched for \u201c{answer.steps[0].query}\u201d.\n\n" + "\n".join(rows))


def _listed(answer: lifelog.Answer) -> str:
    """Counting and browsing answers name each piece of evidence in a row ("2 recordings yesterday:
    a; b"): shown as a list, one line per piece, they read at a glance. Other answers stay as written."""
    labels = [c.snippet for c in answer.citations]
    joined = "; ".join(labels)
    if len(labels) < 2 or joined not in answer.text:
        return answer.text
    head, tail = answer.text.split(joined, 1)
    head = head.strip().rstrip(":")
    return (f"{head}:\n\n" if head else "") + "\n".join(f"- {label}" for label in labels) + (
        f"\n\n{tail.strip()}" if tail.strip() else "")


def answer_markdown(answer: lifelog.Answer) -> str:
    if answer.abstained:
        return f"{answer.text}\n\n*Nothing I found was close enough to be evidence; try other words or add more media.*"
    n = len(answer.citations)
    return (f"{_listed(answer)}\n\n*confidence {answer.confidence:.2f} \u00b7 {n} piece{'s' * (n != 1)} of evidence "
            f"beside this*")


def person_caption(p: Any, last_seen: str = "") -> str:
    """The lines over a face: who, then how often and when last seen (a person from `Memory.people`;
    `last_seen` as lived where the picture was taken)."""
    n = f"{p.n_faces} face{'s' * (p.n_faces != 1)}" if p.n_faces else "voice only"
    last = (f"last seen {last_seen}" if last_seen and last_seen != "unknown" and not last_seen.startswith("file date")
            else "no capture time" if last_seen.startswith("file date") else "never dated")
    return f"{p.label}\n{n}{SEP}{last}"


def person_html(p: Any, first_seen: str = "unknown", last_seen: str = "unknown", n_moments: int = 0) -> str:
    """The selected person, above the name box."""
    moments = f"{SEP}in {n_moments} moment{'s' * (n_moments != 1)} (below)" if n_moments else ""
    return (f'<div class="ll-meta"><div class="ll-title">{html.escape(p.label)}</div>'
            f"<div>{f'{p.n_faces} face' + 's' * (p.n_faces != 1) if p.n_faces else 'voice only'}{moments}</div>"
            f"<div>first seen {html.escape(first_seen)}</div><div>last seen {html.escape(last_seen)}</div></div>")


def people_html(n: int, message: str = "") -> str:
    if not n:
        return ('<div class="ll-empty"><div class="ll-empty-title">No people yet.</div><div>Faces found in photos '
                "and videos are grouped into people as media is added (Library tab).</div></div>")
    note = f"<b>{html.escape(message)}</b> " if message else ""
    return (f'<div class="ll-count">{note}{n} {"person" if n == 1 else "people"}, most often seen first. '
            "Select one to name, hide or merge them; names are used in answers to \u201cwho\u201d questions.</div>")
