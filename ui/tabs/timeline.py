"""The Timeline tab: a day's sessions and events, a session's moments, and a viewer.

Days come from the consolidated day episodes, else (a library not consolidated yet) from its
sessions grouped by local date.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import gradio as gr

import lifelog
from lifelog.hits import clock_of
from lifelog.schema import copy_dated
from ui.context import Context
from ui.evidence import (
    GalleryItem,
    gallery,
    gallery_beside_viewer,
    gallery_box,
    open_evidence,
    open_selected,
    rows_as_evidence,
)
from ui.views import Evidence, hint_html


def timeline_days(ctx: Context) -> list[tuple[str, str]]:
    """Dropdown choices, newest day first: (label, day episode id or 'date:YYYY-MM-DD'). Days whose
    files carry no capture time (dated only by when they were copied) come last, marked as such."""
    rows = ctx.mem.store.episodes("scale = 'day'", columns=["episode_id", "title", "start", "sources", "media_id"])
    if rows:
        media = ctx.mem.store.media_info(rows)
        dated = {r["episode_id"]: _file_dated(clock_of(r, media)) for r in rows}
        rows.sort(key=lambda r: (not dated[r["episode_id"]], r["start"]), reverse=True)
        return [((r["title"] or r["episode_id"]) + (FILE_DAY if dated[r["episode_id"]] else ""), r["episode_id"])
                for r in rows]
    # a library whose days were not consolidated yet: group its sessions by local date
    sessions = ctx.mem.store.episodes("scale = 'session' AND duplicate_of = ''", columns=["start"])
    days = sorted({r["start"].astimezone().date() for r in sessions}, reverse=True)
    return [(f"{d:%A %d %B %Y}", f"date:{d.isoformat()}") for d in days]


FILE_DAY = " \u2014 file dates only (when copied, not captured)"


def _file_dated(m: Any) -> bool:
    """A file (a `store.media_info` record) dated only by when it was copied."""
    return m is not None and copy_dated(m.time_source)


def _top_level(ctx: Context, day: str) -> list[dict]:
    if day.startswith("date:"):
        d = date.fromisoformat(day[5:])
        lo = datetime(d.year, d.month, d.day).astimezone()
        hi = lo + timedelta(days=1)
        f = lifelog.Filters(start=lo, end=hi)
        rows = [r for r in ctx.mem.store.episodes(f.where("session"))
                if lo <= r["start"].astimezone() < hi]
    else:
        rows = [r for r in ctx.mem.children(day) if not r.get("duplicate_of")]
    return sorted(rows, key=lambda r: r["start"])


def _with_thumbnail(ctx: Context, row: dict) -> dict:
    """Sessions have no picture of their own: borrow the first one among their episodes."""
    if row.get("thumbnail"):
        return row
    frontier = [row]
    for _ in range(3):
        nxt = []
        for r in frontier:
            for c in ctx.mem.children(r["episode_id"]):
                if c.get("thumbnail"):
                    return dict(row, thumbnail=c["thumbnail"])
                nxt.append(c)
        frontier = nxt
    return row


def open_day(ctx: Context, day: str | None) -> tuple[str, list[Evidence], list[GalleryItem], list[Evidence],
                                                     list[GalleryItem], str]:
    """A day's sessions and events; the moments gallery empties until one is chosen."""
    if not day:
        return hint_html("Choose a day."), [], [], [], [], hint_html("")
    rows = [_with_thumbnail(ctx, r) for r in _top_level(ctx, day)]
    items = rows_as_evidence(ctx, rows)
    head = ctx.mem.episode(day) if not day.startswith("date:") else None
    summary = html.escape((head.get("caption") if head else "") or f"{len(items)} session{'s' * (len(items) != 1)}")
    if items and all(e.file_dated for e in items):
        summary += (". <b>These files carry no capture time</b>: they are dated by when they were copied to this "
                    "computer, so this is not the day they were taken")
    return (f'<div class="ll-count">{summary}. Select a session to see its moments.</div>', items,
            gallery(ctx, items), [], [], hint_html("Select a moment to open it here."))


def segments_of(ctx: Context, episode_id: str) -> list[dict]:
    """Every moment (segment) under an episode, in time order, near-duplicates left out."""
    out, frontier = [], [episode_id]
    for _ in range(4):  # day > session > event > segment at most
        nxt = []
        for pid in frontier:
            for c in ctx.mem.children(pid):
                if c.get("duplicate_of"):
                    continue
                if c["scale"] == "segment":
                    out.append(c)
                else:
                    nxt.append(c["episode_id"])
        frontier = nxt
        if not frontier:
            break
    return sorted(out, key=lambda r: (r["start"], float(r.get("offset_start") or 0)))


def open_session(ctx: Context, sessions: Sequence[Evidence], index: int | None) -> tuple[list[Evidence],
                                                                                     list[GalleryItem], str]:
    if index is None or not 0 <= index < len(sessions):
        return [], [], hint_html("Select a session.")
    chosen = sessions[index]
    rows = segments_of(ctx, chosen.episode_id)
    items = rows_as_evidence(ctx, rows)
    if not items:  # a session without finer episodes opens as itself
        items = [chosen]
    return items, gallery(ctx, items), open_evidence(ctx, items, 0, autoplay=False)


def refresh_days(ctx: Context) -> gr.Dropdown:
    choices = timeline_days(ctx)
    return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)


@dataclass
class TimelineTab:
    """What the page wires from outside the tab: the day list, filled when the page loads."""

    day: gr.Dropdown


def build(ctx: Context) -> TimelineTab:
    """The Timeline tab, inside the page's `gr.Tabs`; its day list refreshes whenever the tab opens."""
    with gr.Tab("Timeline", id="timeline") as timeline_tab:
        sessions_state = gr.State([])
        moments_state = gr.State([])
        with gr.Row(elem_classes=["ll-ask-row"]):
            day = gr.Dropdown([], label="Day", scale=1, min_width=240, elem_id="ll-day")
            refresh_btn = gr.Button("Refresh", scale=0, min_width=100)
        day_msg = gr.HTML(hint_html("Choose a day."), elem_id="ll-day-msg")
        gr.HTML('<div class="ll-heading">Sessions and events</div>')
        session_gallery = gallery_box("Sessions and events", columns=6, elem_id="ll-sessions")
        moment_gallery, timeline_viewer = gallery_beside_viewer("Moments", columns=4, elem_id="ll-moments",
                                                                viewer_id="ll-timeline-viewer")

    day_out = [day_msg, sessions_state, session_gallery, moments_state, moment_gallery, timeline_viewer]
    day.change(partial(open_day, ctx), day, day_out)
    refresh_btn.click(partial(refresh_days, ctx), None, day)
    timeline_tab.select(partial(refresh_days, ctx), None, day)

    def on_session(items: list[Evidence], evt: gr.SelectData) -> tuple[list[Evidence], list[GalleryItem], str]:
        return open_session(ctx, items, evt.index)

    session_gallery.select(on_session, sessions_state, [moments_state, moment_gallery, timeline_viewer])
    moment_gallery.select(open_selected(ctx), moments_state, timeline_viewer, api_name="on_moment")
    return TimelineTab(day=day)


__all__ = ["TimelineTab", "build", "open_day", "open_session", "refresh_days", "segments_of", "timeline_days"]
