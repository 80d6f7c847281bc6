"""Evidence as every tab shows it: gallery tiles, the transcript around a cited line, and the viewer
(its HTML, its player script `PLAYER_JS` and the component itself).

A viewer opens a citation, a search hit or a timeline episode alike: tabs hold `Evidence` lists in
a `gr.State` beside their gallery and open the selected one with `open_selected`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import gradio as gr

from lifelog.hits import clock_of
from lifelog.schema import time_origin
from ui.context import Context
from ui.views import (
    Evidence,
    caption,
    from_row,
    hint_html,
    people_named,
    span,
    viewer_html,
    when,
)

# transcript lines shown before and after the cited one
CONTEXT_LINES = 2
GalleryItem = tuple[str, str]


def tile(ctx: Context, e: Evidence) -> str:
    """The picture for a gallery item: its thumbnail; a recording's own waveform; a day's tile."""
    if e.scale == "day" or e.kind == "mixed":
        return str(ctx.media.placeholder("day", e.title or "a day", when(e.time, e.utc_offset_min)[:16]))
    staged = ctx.media.thumbnail(e.thumbnail)
    if staged is None and e.kind == "photo" and e.media_id:
        try:
            staged = ctx.media.media(e.media_id)
        except (KeyError, OSError, RuntimeError):
            staged = None
    if staged is None and e.kind == "audio" and e.media_id:
        try:
            lit = (e.start_s, e.end_s) if e.scale == "segment" or e.end_s - e.start_s > 0 else (0.0, 0.0)
            staged = ctx.media.recording_tile(e.media_id, *lit, detail=span(e) or "")
        except (KeyError, OSError, RuntimeError):
            staged = None
    return str(staged or ctx.media.placeholder(e.kind, e.title or Path(e.path).name, span(e)))


def rows_as_evidence(ctx: Context, rows: Sequence[dict]) -> list[Evidence]:
    """Episode rows with the clock they were lived by (their file's, or for a session of several the
    first dated one's), where that time came from, and the file's name."""
    media = ctx.mem.store.media_info(rows)
    out = []
    for r in rows:
        clock = clock_of(r, media)
        sources = r.get("sources") or ()
        # a session of one photo is that photo: name its file
        own = media.get(r.get("media_id") or (sources[0].get("media_id", "") if len(sources) == 1 else ""))
        out.append(from_row(r, ctx.mem.settings.home, clock.utc_offset_min if clock else None,
                            time_origin(clock.time_source) if clock else "", own.path if own else ""))
    return out


def gallery(ctx: Context, items: Sequence[Evidence], *, with_score: bool = False) -> list[GalleryItem]:
    return [(tile(ctx, e), caption(e, with_score=with_score)) for e in items]


def transcript_context(ctx: Context, e: Evidence) -> list[tuple[float, str, bool]]:
    """The cited line with its neighbours from the same recording: (second, words, is_cited)."""
    if e.kind not in ("video", "audio") or not e.episode_id:
        return []
    row = ctx.mem.episode(e.episode_id)
    if not row or not (row.get("transcript") or "").strip():
        return []
    siblings = ctx.mem.children(row["parent_id"]) if row.get("parent_id") else []
    siblings = [s for s in siblings if s.get("scale") == row.get("scale") and (s.get("transcript") or "").strip()]
    if not siblings:
        return [(float(row.get("offset_start") or 0), row["transcript"].strip(), True)]
    ids = [s["episode_id"] for s in siblings]
    i = ids.index(e.episode_id) if e.episode_id in ids else 0
    window = siblings[max(0, i - CONTEXT_LINES): i + CONTEXT_LINES + 1]
    return [(float(s.get("offset_start") or 0), s["transcript"].strip(), s["episode_id"] == e.episode_id)
            for s in window]


def open_evidence(ctx: Context, items: Sequence[Evidence], index: int | None, *, autoplay: bool = True) -> str:
    """The viewer's HTML for item `index`: a clip from the cited second, a large photo, or the words."""
    if index is None or not items or not 0 <= index < len(items):
        return hint_html("Select a piece of evidence to open it here.")
    e = items[index]
    note = ""
    staged = None
    if e.media_id:
        try:
            staged = ctx.media.media(e.media_id)
        except KeyError:
            note = "This file is no longer in the library."
        except (OSError, RuntimeError) as err:
            note = str(err)
    names = _people_in(ctx, e)
    if names:
        e = replace(e, text=people_named(e.text, names))
    return viewer_html(e, staged, transcript_context(ctx, e), autoplay=autoplay, note=note, people=names)


def _people_in(ctx: Context, e: Evidence) -> list[str]:
    """Who is seen in the piece of evidence, as named now (a name given after ingestion shows at once)."""
    if not e.episode_id or e.scale == "day":
        return []
    try:
        return ctx.mem.who_is(e.episode_id)
    except (KeyError, ValueError):
        return []


def open_selected(ctx: Context) -> Callable[[list[Evidence], gr.SelectData], str]:
    """A gallery's select handler: the viewer's HTML for the chosen item of the gallery's evidence.

    Wire it with an `api_name` of its own: gradio would otherwise name every such event "on_select".
    """

    def on_select(items: list[Evidence], evt: gr.SelectData) -> str:
        return open_evidence(ctx, items, evt.index)

    return on_select


# When a new clip replaces the old one in the same element, seek again: the media fragment only
# applies to the first load of a source.
PLAYER_JS = """
const seek = () => {
  const v = element.querySelector('video, audio');
  if (!v) return;
  const s = parseFloat(v.dataset.start || '0');
  const go = () => { if (Math.abs(v.currentTime - s) > 0.4) v.currentTime = s; };
  if (v.readyState >= 1) go(); else v.addEventListener('loadedmetadata', go, {once: true});
};
seek();
watch('value', seek);
"""


def viewer(elem_id: str) -> gr.HTML:
    """An empty viewer; `PLAYER_JS` seeks its player to the cited second whenever its value changes."""
    return gr.HTML(hint_html("Select a piece of evidence to open it here."), elem_id=elem_id,
                   js_on_load=PLAYER_JS, elem_classes=["ll-viewer-box"])


def gallery_box(label: str, *, columns: int, elem_id: str, height: int | str = "auto") -> gr.Gallery:
    """A gallery as every tab shows one: cropped tiles with their captions over them, no preview
    (selecting opens the viewer instead), no label over the first tile (the tab heads it instead),
    and as tall as its rows unless `height` says otherwise (then it scrolls)."""
    return gr.Gallery(label=label, show_label=False, columns=columns, height=height, allow_preview=False,
                      fit_columns=False, object_fit="cover", elem_id=elem_id, elem_classes=["ll-gallery"])


def gallery_beside_viewer(label: str, *, columns: int, elem_id: str, viewer_id: str,
                          height: int | str = "auto") -> tuple[gr.Gallery, gr.HTML]:
    """A row: a headed gallery on the left, the viewer that opens its selected item on the right."""
    with gr.Row(equal_height=False, elem_classes=["ll-split"]):
        with gr.Column(scale=5, min_width=320, elem_classes=["ll-main"]):
            gr.HTML(f'<div class="ll-heading">{label}</div>')
            shown = gallery_box(label, columns=columns, height=height, elem_id=elem_id)
        with gr.Column(scale=4, min_width=300, elem_classes=["ll-side"]):
            opened = viewer(viewer_id)
    return shown, opened


__all__ = ["CONTEXT_LINES", "PLAYER_JS", "GalleryItem", "gallery", "gallery_beside_viewer", "gallery_box",
           "open_evidence", "open_selected", "rows_as_evidence", "tile", "transcript_context", "viewer"]
