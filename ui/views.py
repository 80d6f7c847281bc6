"""What the app shows, as plain data and HTML: evidence items, the viewer, progress, status, models.

Pure functions of `lifelog` results, so tests can check them without a browser.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

import lifelog
from lifelog.schema import KIND_NAMES as MEDIA_KIND_NAMES, local_time

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


def from_citation(c: lifelog.Citation) -> Evidence:
    return Evidence(media_id=c.media_id, kind=c.kind, start_s=c.start_s, end_s=c.end_s, time=c.time,
                    title=Path(c.path).name if c.path else c.kind, text=LABEL_PREFIX.sub("", c.snippet),
                    place=c.place, episode_id=c.episode_id, thumbnail=c.thumbnail, path=c.path, score=c.score,
                    utc_offset_min=c.utc_offset_min)


def from_hit(h: lifelog.Hit) -> Evidence:
    return Evidence(media_id=h.media_id, kind=h.kind, start_s=h.offset_start, end_s=h.offset_end, time=h.start,
                    title=h.title or (Path(h.path).name if h.path else h.kind), text=h.transcript or h.text,
                    place=h.place, episode_id=h.episode_id, thumbnail=h.thumbnail, path=h.path, score=h.score,
                    utc_offset_min=h.utc_offset_min)


def from_row(row: dict[str, Any], home: str | Path, utc_offset_min: int | None = None) -> Evidence:
    """An episode row of the store (the timeline reads those); the offset comes from its media record."""
    thumb = row.get("thumbnail") or ""
    return Evidence(media_id=row.get("media_id") or "", kind=row.get("kind") or "mixed",
                    start_s=float(row.get("offset_start") or 0), end_s=float(row.get("offset_end") or 0),
                    time=row.get("start"), title=row.get("title") or "",
                    text=row.get("transcript") or row.get("caption") or row.get("text") or "",
                    place=row.get("place") or "", episode_id=row["episode_id"],
                    thumbnail=str(Path(home) / thumb) if thumb else "", path="", utc_offset_min=utc_offset_min)


def when(t: datetime | None, utc_offset_min: int | None = None) -> str:
    """A time as the person lived it: the camera's clock where known (as the agent's answers say
    it), else this computer's local time."""
    return local_time(t, utc_offset_min).strftime("%a %d %b %Y, %H:%M") if t else "time unknown"


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
    """The line under a thumbnail: what, when, where (and how relevant, in search)."""
    bits = [Path(e.path).name] if e.path else []
    bits += [KIND_NAMES.get(e.kind, e.kind), when(e.time, e.utc_offset_min)]
    if span(e):
        bits.append(span(e))
    if e.place:
        bits.append(e.place)
    line = " \u00b7 ".join(bits)
    if with_score and e.score is not None:
        line = f"{e.score:.2f} \u00b7 {line}"
    return line


def file_url(path: Path) -> str:
    return "/gradio_api/file=" + quote(str(path))


def viewer_html(e: Evidence, media: Path | None, context: Sequence[tuple[float, str, bool]] = (),
                *, autoplay: bool = True, note: str = "") -> str:
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
    meta = [html.escape(caption(replace(e, path="")))]
    name = Path(e.path).name if e.path else ""
    # the file's name too, when the title is something else ("Photo 2025-06-14 09:41: espresso")
    file_line = f'<div class="ll-file">{html.escape(name)}</div>' if name and name != e.title else ""
    parts.append(f'<div class="ll-meta"><div class="ll-title">{title}</div>{file_line}<div>{SEP.join(meta)}</div></div>')
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


def empty_html(query: str, filters: lifelog.Filters) -> str:
    extra = "" if filters.describe() == "none" else f" with the filters ({html.escape(filters.describe())})"
    return (f'<div class="ll-empty"><div class="ll-empty-title">Nothing in memory matches '
            f'\u201c{html.escape(query)}\u201d{extra}.</div><div>Try other words, widen the dates, or add '
            f"the folder that holds it in the Library tab.</div></div>")


def results_html(query: str, n: int, filters: lifelog.Filters) -> str:
    extra = "" if filters.describe() == "none" else f" \u00b7 filters: {html.escape(filters.describe())}"
    return (f'<div class="ll-count">{n} moment{"s" * (n != 1)} for \u201c{html.escape(query)}\u201d{extra}. '
            f"Select one to open it.</div>")


def image_results_html(name: str, n: int, filters: lifelog.Filters, *, ignored_text: str = "") -> str:
    extra = "" if filters.describe() == "none" else f" \u00b7 filters: {html.escape(filters.describe())}"
    note = (f" The words \u201c{html.escape(ignored_text)}\u201d were not used: clear the picture to search by words."
            if ignored_text else "")
    return (f'<div class="ll-count">{n} moment{"s" * (n != 1)} that look{"s" * (n == 1)} like {html.escape(name)}{extra}. '
            f"Select one to open it.{note}</div>")


def image_empty_html(name: str, filters: lifelog.Filters) -> str:
    extra = "" if filters.describe() == "none" else f" with the filters ({html.escape(filters.describe())})"
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
            f"on the right*")


def person_caption(p: Any) -> str:
    """The line under a face: who, how often, when last seen (a person from `Memory.people`)."""
    n = f"{p.n_faces} face{'s' * (p.n_faces != 1)}"
    last = f"last seen {when(p.last_seen)}" if p.last_seen else "never dated"
    return SEP.join([p.label, n, last])


def person_html(p: Any) -> str:
    """The selected person, above the name box."""
    first = when(p.first_seen) if p.first_seen else "unknown"
    return (f'<div class="ll-meta"><div class="ll-title">{html.escape(p.label)}</div>'
            f"<div>{p.n_faces} face{'s' * (p.n_faces != 1)}{SEP}first seen {html.escape(first)}{SEP}"
            f"last seen {html.escape(when(p.last_seen))}</div></div>")


def people_html(n: int, message: str = "") -> str:
    if not n:
        return ('<div class="ll-empty"><div class="ll-empty-title">No people yet.</div><div>Faces found in photos '
                "and videos are grouped into people as media is added (Library tab).</div></div>")
    note = f"<b>{html.escape(message)}</b> " if message else ""
    return (f'<div class="ll-count">{note}{n} {"person" if n == 1 else "people"}, most often seen first. '
            "Select one to name, hide or merge them; names are used in answers to \u201cwho\u201d questions.</div>")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def progress_html(job: Any) -> str:
    """The ingestion bar: files done/total, the current file, speed, time left, then the report."""
    if job is None:
        return hint_html("Add a folder or drop files to put them in memory. Files already known are skipped.")
    if job.error:
        return f'<div class="ll-error">Ingestion stopped: {html.escape(job.error)}</div>'
    p = job.progress
    if job.running:
        if p is None or not p.files_total:
            return '<div class="ll-progress"><div class="ll-bar"><div style="width:2%"></div></div>Looking for files\u2026</div>'
        pct = 100.0 * p.files_done / max(p.files_total, 1)
        bits = [f"<b>{p.files_done} / {p.files_total}</b> files"]
        if p.current:
            bits.append(f"last: {html.escape(Path(p.current).name)}")
        if p.rate:
            bits.append(f"{p.rate:.1f}\u00d7 realtime" if p.media_seconds_done else f"{p.rate:.2f} files/s")
        if p.eta_s is not None:
            bits.append(f"about {clock(p.eta_s)} left")
        stop = " (stopping after the current file)" if job.stop.is_set() else ""
        return (f'<div class="ll-progress"><div class="ll-bar"><div style="width:{max(pct, 2):.0f}%"></div></div>'
                f'{SEP.join(bits)}{stop}</div>')
    r = job.report
    if r is None:
        return hint_html("Ingestion ended.")
    failed = len(r.failed)
    cls = "ll-done-warn" if failed else "ll-done"
    return (f'<div class="ll-progress {cls}"><div class="ll-bar"><div style="width:100%"></div></div>'
            f"<b>Done</b> in {r.seconds:.0f} s: {r.ingested} added, {r.skipped} already known"
            + (f" ({r.moved} moved)" if r.moved else "") + f", {failed} failed.</div>")


def status_html(status: lifelog.Status) -> str:
    kinds = status.media_by_kind
    media = " \u00b7 ".join(f"{kinds.get(k, 0)} {KIND_NAMES[k]}{'s' * (kinds.get(k, 0) != 1)}"
                            for k in ("photo", "video", "audio"))
    scales = status.episodes_by_scale
    episodes = " \u00b7 ".join(f"{scales.get(k, 0)} {k}{'s' * (scales.get(k, 0) != 1)}"
                               for k in ("segment", "event", "session", "day"))
    span_ = (f"{when(status.first)} \u2192 {when(status.last)}" if status.first else "empty")
    disk = " \u00b7 ".join(f"{k} {_mb(v)}" for k, v in status.disk_bytes.items())
    cards = [("In memory", media), ("Moments", episodes), ("Time span", span_),
             ("Sound and video", duration(status.media_hours * 3600)), ("Disk use", disk),
             ("Library", f"{html.escape(status.home)} \u00b7 profile {html.escape(status.profile)}")]
    out = '<div class="ll-cards">' + "".join(
        f'<div class="ll-card"><div class="ll-card-k">{k}</div><div class="ll-card-v">{v}</div></div>'
        for k, v in cards) + "</div>"
    if status.failed:
        out += f'<div class="ll-note">{status.failed} file{"s" * (status.failed != 1)} could not be read: see below.</div>'
    if status.stale_columns:
        out += ('<div class="ll-error">The active models differ from the ones that filled this library ('
                + html.escape("; ".join(status.stale_columns)) + "). Run <code>lifelog reindex</code>.</div>")
    return out


def models_markdown(rows: Sequence[lifelog.ModelRow], profile: str) -> str:
    active = [r for r in rows if r.profile == profile]
    lines = [f"### Active profile: `{profile}`", "",
             "| role | model | available | size | licence | notes |", "|---|---|---|---|---|---|"]
    for r in active:
        ok = "\u2705 yes" if r.available else f"\u274c no: {r.reason}"
        size = f"{r.size_mb:.0f} MB" if r.size_mb else "-"
        lines.append(f"| {r.title} | `{r.name}` | {ok} | {size} | {r.licence} | {r.notes} |")
    others = sorted({r.profile for r in rows} - {profile})
    for other in others:
        missing = [r for r in rows if r.profile == other and not r.available]
        have = sum(1 for r in rows if r.profile == other and r.available)
        lines += ["", f"**`{other}`**: {have} of {have + len(missing)} roles available here"
                  + (f"; missing: {', '.join(r.name for r in missing)}" if missing else ".")]
    lines += ["", "### Getting the full models",
              "The bundled profile runs with no download. For better captions, transcripts and answers, fetch the "
              "full models once (a network is needed), then switch profile:", "",
              "```bash\nlifelog models pull full\nLIFELOG_PROFILE=full lifelog ui    # or profile = \"full\" in "
              "<home>/config.toml\n```", "",
              "After switching, `lifelog reindex` recomputes only the vector columns whose model changed."]
    return "\n".join(lines)
