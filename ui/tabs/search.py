"""The Search tab: words or an example picture, with date, kind, place, people and scale filters;
the results as a scored gallery with a viewer."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

import lifelog
from ui.context import Context
from ui.evidence import GalleryItem, gallery, gallery_beside_viewer, open_selected
from ui.views import (Evidence, empty_html, from_hit, hint_html, image_empty_html, image_results_html,
                      image_search_hint, results_html)

KINDS = [("Photos", "photo"), ("Videos", "video"), ("Recordings", "audio")]
SCALES = [("Moments", "segment"), ("Events", "event"), ("Sessions", "session"), ("Days", "day")]


def parse_day(value: Any, *, end: bool = False) -> datetime | None:
    """A date-picker value as an aware datetime; a bare end date means up to the end of that day."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        t = datetime.fromtimestamp(float(value))
        has_time = True
    else:
        text = str(value).strip()
        try:
            t = datetime.fromisoformat(text)
        except ValueError as e:
            raise gr.Error(f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-14") from e
        has_time = len(text) > 10
    if end and not has_time:
        t += timedelta(days=1)
    return t.astimezone() if t.tzinfo is None else t


def can_search_by_image(mem: lifelog.Memory) -> bool:
    """Whether the profile has an image embedding that runs here (else the picture input is hidden)."""
    try:
        return mem.has_model("image_text")
    except (KeyError, ValueError):  # a profile without that role at all
        return False


def _example_name(image: Any) -> str:
    """How the results line names the example picture: its file name where there is one."""
    source = image if isinstance(image, (str, Path)) else getattr(image, "filename", "")
    return Path(source).name if source else "this picture"


def search(ctx: Context, text: str, start: Any, end: Any, kinds: list[str] | None, place: str,
           scale: str, image: Any = None, people: str = "") -> tuple[str, list[Evidence], list[GalleryItem], str]:
    """Results as a gallery with scores, or a clear empty state.

    With an example picture (a path or a PIL image) the search goes by image vectors and the words,
    if any, are left aside: the two scores do not mix on one scale.
    """
    text = (text or "").strip()
    if not text and image is None:
        raise gr.Error("Type what to look for, e.g. \u201ccoffee\u201d or \u201cswimming pool\u201d, "
                       "or drop an example picture.")
    names = tuple(n.strip() for n in (people or "").split(",") if n.strip())  # as named in the People tab
    filters = lifelog.Filters(start=parse_day(start), end=parse_day(end, end=True), kinds=tuple(kinds or ()),
                              place=(place or "").strip(), people=names)
    if filters.start and filters.end and filters.start >= filters.end:
        raise gr.Error("The 'from' date is after the 'to' date: swap them.")
    if image is not None:
        return _search_by_image(ctx, image, filters, scale, ignored_text=text)
    try:
        hits = ctx.mem.search(text, filters=filters, scale=scale or "segment", limit=24)
    except RuntimeError as e:
        raise gr.Error(str(e)) from e
    evidence = [from_hit(h) for h in hits]
    if not evidence:
        return empty_html(text, filters), [], [], hint_html("")
    return (results_html(text, len(evidence), filters), evidence, gallery(ctx, evidence, with_score=True),
            hint_html("Select a result to open it here."))


def _search_by_image(ctx: Context, image: Any, filters: lifelog.Filters, scale: str,
                     *, ignored_text: str = "") -> tuple[str, list[Evidence], list[GalleryItem], str]:
    name = _example_name(image)
    if not can_search_by_image(ctx.mem):
        raise gr.Error(f"Profile {ctx.mem.settings.profile!r} has no image embedding available here: "
                       "search by words, or pull the full models (Models tab).")
    try:
        hits = ctx.mem.search_by_image(image, filters=filters, scale=scale or "segment", limit=24)
    except OSError as e:  # PIL's UnidentifiedImageError too
        raise gr.Error(f"Could not read {name} as a picture ({e}): use a JPEG, PNG or WebP photo.") from e
    except RuntimeError as e:
        raise gr.Error(str(e)) from e
    evidence = [from_hit(h) for h in hits]
    if not evidence:
        return image_empty_html(name, filters), [], [], hint_html("")
    return (image_results_html(name, len(evidence), filters, ignored_text=ignored_text), evidence,
            gallery(ctx, evidence, with_score=True), hint_html("Select a result to open it here."))


def build(ctx: Context) -> None:
    """The Search tab, inside the page's `gr.Tabs`: nothing in it is wired to other tabs."""
    with gr.Tab("Search", id="search"):
        hits = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                with gr.Row():
                    query = gr.Textbox(placeholder="what to look for: coffee, the beach, keys on the table",
                                       show_label=False, scale=5, elem_id="ll-query")
                    search_btn = gr.Button("Search", variant="primary", scale=1, elem_id="ll-search")
                with gr.Row():
                    start = gr.DateTime(label="From", include_time=False, type="string", scale=1)
                    end = gr.DateTime(label="To", include_time=False, type="string", scale=1)
                    kinds = gr.CheckboxGroup(KINDS, label="Kind", scale=2)
                    place = gr.Textbox(label="Place", placeholder="e.g. Madrid", scale=1)
                    people_filter = gr.Textbox(label="People", placeholder="e.g. Eileen", scale=1,
                                               elem_id="ll-people-filter")
                    scale = gr.Dropdown(SCALES, value="segment", label="Look at", scale=1)
            # hidden where the profile has no image embedding: the input would only fail
            with gr.Column(scale=2, min_width=220, visible=can_search_by_image(ctx.mem),
                           elem_id="ll-query-image-box"):
                query_image = gr.Image(label="Or search by example picture", type="filepath",
                                       sources=["upload", "clipboard"], height=150,
                                       elem_id="ll-query-image")
                gr.HTML(image_search_hint(ctx.mem.settings.profile), elem_id="ll-query-image-hint")
        search_msg = gr.HTML(hint_html("Results appear here, best first, with their relevance."),
                             elem_id="ll-search-msg")
        hit_gallery, search_viewer = gallery_beside_viewer("Results", columns=4, height=460, elem_id="ll-results",
                                                           viewer_id="ll-search-viewer")

    search_fn = partial(search, ctx)
    search_in = [query, start, end, kinds, place, scale, query_image, people_filter]
    search_out = [search_msg, hits, hit_gallery, search_viewer]
    search_btn.click(search_fn, search_in, search_out)
    query.submit(search_fn, search_in, search_out)
    # dropping a picture is the search: no button press needed
    query_image.upload(search_fn, search_in, search_out)
    query_image.clear(lambda: hint_html("Picture cleared: type words and press Search."), None, search_msg)
    hit_gallery.select(open_selected(ctx), hits, search_viewer, api_name="on_hit")


__all__ = ["KINDS", "SCALES", "build", "can_search_by_image", "parse_day", "search"]
