"""The Search tab: words or an example picture, with date, kind, place, people and scale filters;
the results as a scored gallery with a viewer."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

import lifelog
from lifelog import api
from lifelog.question import time_filters
from lifelog.timeparse import TimeRange
from ui.context import Context
from ui.errors import InputError, shown
from ui.evidence import GalleryItem, gallery, gallery_beside_viewer, open_selected
from ui.views import (
    Evidence,
    empty_html,
    from_hit,
    hint_html,
    image_empty_html,
    image_results_html,
    image_search_hint,
    results_html,
)

KINDS = [("Photos", "photo"), ("Videos", "video"), ("Recordings", "audio")]
SCALES = [("Moments", "segment"), ("Events", "event"), ("Sessions", "session"), ("Days", "day")]


def parse_day(value: Any, *, end: bool = False, now: datetime | None = None) -> datetime | None:
    """A date box's value as a local (wall-clock) time: a picked date, an ISO date or time, or the
    words a question would use ("June 2025", "last April", "yesterday"); the end of a span is the end
    of the day or month it names (`lifelog.api.parse_day`). None for an empty box; InputError for
    words that are no date."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value))
    try:
        return api.parse_day(str(value), now or datetime.now().astimezone(), end=end)
    except api.BadRequest as e:
        raise InputError(f"{e}: pick one with the calendar button, or type e.g. 2025-06-14, June 2025 or "
                         "last April") from e


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
        raise InputError("Type what to look for, e.g. \u201ccoffee\u201d or \u201cswimming pool\u201d, "
                       "or drop an example picture.")
    names = tuple(n.strip() for n in (people or "").split(",") if n.strip())  # as named in the People tab
    now = ctx.mem.settings.now
    lo, hi = parse_day(start, now=now), parse_day(end, end=True, now=now)
    if lo and hi and lo >= hi:
        raise InputError("The 'from' date is after the 'to' date: swap them.")
    filters = lifelog.Filters(kinds=tuple(kinds or ()), place=(place or "").strip(), people=names)
    if lo or hi:
        # days as lived where each file was captured, like the agent's "on 14 June"
        filters = time_filters(filters, TimeRange(lo or datetime(1900, 1, 1), hi or datetime(2999, 1, 1), ""))
    if image is not None:
        return _search_by_image(ctx, image, filters, scale, ignored_text=text)
    try:
        hits = ctx.mem.search(text, filters=filters, scale=scale or "segment", limit=24, classes=True)
    except RuntimeError as e:
        raise InputError(str(e)) from e
    evidence = [from_hit(h) for h in hits]
    if not evidence:
        return empty_html(text, filters), [], [], hint_html("")
    return (results_html(text, len(evidence), filters), evidence, gallery(ctx, evidence, with_score=True),
            hint_html("Select a result to open it here."))


def _search_by_image(ctx: Context, image: Any, filters: lifelog.Filters, scale: str,
                     *, ignored_text: str = "") -> tuple[str, list[Evidence], list[GalleryItem], str]:
    name = _example_name(image)
    if not can_search_by_image(ctx.mem):
        raise InputError(f"Profile {ctx.mem.settings.profile!r} has no image embedding available here: "
                       "search by words, or pull the full models (Models tab).")
    try:
        hits = ctx.mem.search_by_image(image, filters=filters, scale=scale or "segment", limit=24)
    except OSError as e:  # PIL's UnidentifiedImageError too
        raise InputError(f"Could not read {name} as a picture ({e}): use a JPEG, PNG or WebP photo.") from e
    except RuntimeError as e:
        raise InputError(str(e)) from e
    evidence = [from_hit(h) for h in hits]
    if not evidence:
        return image_empty_html(name, filters), [], [], hint_html("")
    return (image_results_html(name, len(evidence), filters, ignored_text=ignored_text), evidence,
            gallery(ctx, evidence, with_score=True), hint_html("Select a result to open it here."))


def preview(ctx: Context, image: Any) -> str | None:
    """The example picture as the browser can show it (an iPhone's HEIC converted), staged for the page."""
    if not image:
        return None
    try:
        return str(ctx.media.example(Path(image)))
    except OSError:
        return None


def search_with_preview(ctx: Context, *args: Any) -> tuple[Any, ...]:
    """`search`, and the example picture's preview beside its drop box (the box shows only the file's name)."""
    image = args[6] if len(args) > 6 else None
    shown_as = preview(ctx, image)
    return (*search(ctx, *args), gr.Image(value=shown_as, visible=shown_as is not None))


DATE_HELP = "pick one with the calendar button, or type 2025-06-14, June 2025, last April"
# the date boxes' text as typed: gradio keeps the last valid date when the text is not one ("June"),
# so the handler reads what the box shows and says plainly when it is not a date
READ_DATES_JS = """(...args) => {
  const typed = (id) => { const el = document.querySelector(`#${id} input`); return el ? el.value : null; };
  const from = typed('ll-from'), to = typed('ll-to');
  if (from !== null) args[1] = from;
  if (to !== null) args[2] = to;
  return args;
}"""


def build(ctx: Context) -> None:
    """The Search tab, inside the page's `gr.Tabs`: nothing in it is wired to other tabs."""
    with gr.Tab("Search", id="search"):
        hits = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                with gr.Row(elem_classes=["ll-ask-row"]):
                    query = gr.Textbox(placeholder="what to look for: coffee, the beach, keys on the table",
                                       show_label=False, scale=1, min_width=200, elem_id="ll-query")
                    search_btn = gr.Button("Search", variant="primary", scale=0, min_width=100, elem_id="ll-search")
                with gr.Row():
                    start = gr.DateTime(label="From", include_time=False, type="string", min_width=190,
                                        elem_id="ll-from")
                    end = gr.DateTime(label="To (included)", include_time=False, type="string", min_width=190,
                                      elem_id="ll-to")
                    kinds = gr.CheckboxGroup(KINDS, label="Kind", min_width=260, elem_id="ll-kinds")
                gr.HTML(f'<div class="ll-note">Dates: {DATE_HELP}; a day is the day where the file was '
                        "captured.</div>")
                with gr.Row():
                    place = gr.Textbox(label="Place", placeholder="e.g. Madrid", min_width=150)
                    people_filter = gr.Textbox(label="People", placeholder="e.g. Eileen", min_width=150,
                                               elem_id="ll-people-filter")
                    scale = gr.Dropdown(SCALES, value="segment", label="Look at", min_width=150)
            # hidden where the profile has no image embedding: the input would only fail
            with gr.Column(scale=2, min_width=240, visible=can_search_by_image(ctx.mem),
                           elem_id="ll-query-image-box"):
                # a file box, not gr.Image: browsers give an iPhone's .HEIC no image/* type, and
                # gr.Image refuses it although ingestion reads it; the preview shows it converted
                gr.HTML('<div class="ll-heading">Or search by example picture</div>')
                query_image = gr.File(label="Example picture", show_label=False, file_count="single", type="filepath",
                                      file_types=["image", ".heic", ".heif", ".HEIC", ".HEIF"], height=110,
                                      elem_id="ll-query-image")
                example = gr.Image(show_label=False, interactive=False, height=140, visible=False,
                                   elem_id="ll-query-preview", buttons=[])
                gr.HTML(image_search_hint(ctx.mem.settings.profile), elem_id="ll-query-image-hint")
        search_msg = gr.HTML(hint_html("Results appear here, best first, with their relevance."),
                             elem_id="ll-search-msg")
        hit_gallery, search_viewer = gallery_beside_viewer("Results", columns=4, elem_id="ll-results",
                                                           viewer_id="ll-search-viewer")

    search_in = [query, start, end, kinds, place, scale, query_image, people_filter]
    search_out = [search_msg, hits, hit_gallery, search_viewer]
    # an error empties the results (they answered another search) and says why in the message line
    search_fn = shown(partial(search, ctx), len(search_out), message_at=0, clear={1: [], 2: [], 3: hint_html("")})
    search_btn.click(search_fn, search_in, search_out, js=READ_DATES_JS)
    query.submit(search_fn, search_in, search_out, js=READ_DATES_JS)
    # dropping a picture is the search: no button press needed
    with_preview = shown(partial(search_with_preview, ctx), len(search_out) + 1, message_at=0,
                         clear={1: [], 2: [], 3: hint_html("")})
    query_image.upload(with_preview, search_in, [*search_out, example], js=READ_DATES_JS)
    query_image.clear(lambda: (hint_html("Picture cleared: type words and press Search."), gr.Image(value=None, visible=False)), None,
                      [search_msg, example])
    hit_gallery.select(open_selected(ctx), hits, search_viewer, api_name="on_hit")


__all__ = ["KINDS", "SCALES", "build", "can_search_by_image", "parse_day", "preview", "search"]
