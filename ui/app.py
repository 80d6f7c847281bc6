"""The desktop app: ask your memory, search it, walk its timeline, add media, see the models.

    import lifelog
    from ui.app import launch
    launch(lifelog.open(), port=7860)          # or: lifelog ui

Handlers are top-level functions taking the app's `Context` first, so tests call them directly;
`build_app` binds them. Media reaches the browser only through `ui.media.MediaCache`.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Sequence

import gradio as gr

import lifelog
from lifelog import semantic
from ui.jobs import Ingestor
from ui.media import MediaCache
from ui.views import (Evidence, answer_markdown, caption, empty_html, from_citation, from_hit, from_row, hint_html,
                      image_empty_html, image_results_html, image_search_hint, models_markdown, people_html,
                      person_caption, person_html, progress_html, results_html, status_html, steps_markdown,
                      viewer_html)

KINDS = [("Photos", "photo"), ("Videos", "video"), ("Recordings", "audio")]
SCALES = [("Moments", "segment"), ("Events", "event"), ("Sessions", "session"), ("Days", "day")]
# transcript lines shown before and after the cited one
CONTEXT_LINES = 2
GalleryItem = tuple[str, str]


@dataclass
class Context:
    """What every handler needs: the memory, the staged media, the ingestion runner."""

    mem: lifelog.Memory
    media: MediaCache
    ingestor: Ingestor


def make_context(mem: lifelog.Memory, media_root: str | Path | None = None) -> Context:
    return Context(mem=mem, media=MediaCache(mem, media_root), ingestor=Ingestor(mem))


# --- evidence: thumbnails and the viewer --------------------------------------------------------
def tile(ctx: Context, e: Evidence) -> str:
    """The picture for a gallery item: its thumbnail, else a tile naming the kind and file."""
    staged = ctx.media.thumbnail(e.thumbnail)
    if staged is None and e.kind == "photo" and e.media_id:
        try:
            staged = ctx.media.media(e.media_id)
        except (KeyError, OSError, RuntimeError):
            staged = None
    return str(staged or ctx.media.placeholder(e.kind, e.title or Path(e.path).name))


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
    return viewer_html(e, staged, transcript_context(ctx, e), autoplay=autoplay, note=note)


# --- Ask -------------------------------------------------------------------------------------------
def ask(ctx: Context, question: str, history: list[dict] | None) -> tuple[list[dict], str, list[Evidence],
                                                                         list[GalleryItem], str, str]:
    """Answer in the chat; the evidence goes to the gallery, the top piece opens in the viewer."""
    question = (question or "").strip()
    if not question:
        raise gr.Error("Type a question first, e.g. \u201cwhat did the man say about the corner?\u201d")
    try:
        answer = ctx.mem.ask(question)
    except (ValueError, RuntimeError) as e:
        raise gr.Error(str(e)) from e
    history = list(history or []) + [{"role": "user", "content": question},
                                     {"role": "assistant", "content": answer_markdown(answer)}]
    evidence = [from_citation(c) for c in answer.citations]
    viewer = (open_evidence(ctx, evidence, 0, autoplay=False) if evidence
              else hint_html("No evidence: nothing in memory was close enough."))
    return history, "", evidence, gallery(ctx, evidence), steps_markdown(answer), viewer


# --- Search ----------------------------------------------------------------------------------------
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


# --- Timeline --------------------------------------------------------------------------------------
def timeline_days(ctx: Context) -> list[tuple[str, str]]:
    """Dropdown choices, newest day first: (label, day episode id or 'date:YYYY-MM-DD')."""
    rows = ctx.mem.store.episodes("scale = 'day'", columns=["episode_id", "title", "start", "caption"])
    if rows:
        rows.sort(key=lambda r: r["start"], reverse=True)
        return [(r["title"] or r["episode_id"], r["episode_id"]) for r in rows]
    # a library whose days were not consolidated yet: group its sessions by local date
    sessions = ctx.mem.store.episodes("scale = 'session' AND duplicate_of = ''", columns=["start"])
    days = sorted({r["start"].astimezone().date() for r in sessions}, reverse=True)
    return [(f"{d:%A %d %B %Y}", f"date:{d.isoformat()}") for d in days]


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


def offsets(ctx: Context, rows: Sequence[dict]) -> dict[str, int | None]:
    """media id -> the camera's UTC offset, for showing episode rows at the time they were lived."""
    ids = sorted({r["media_id"] for r in rows if r.get("media_id")})
    if not ids:
        return {}
    where = "media_id IN (" + ", ".join("'" + i.replace("'", "''") + "'" for i in ids) + ")"
    return {m.media_id: m.utc_offset_min for m in ctx.mem.store.all_media(where)}


def rows_as_evidence(ctx: Context, rows: Sequence[dict]) -> list[Evidence]:
    found = offsets(ctx, rows)
    return [from_row(r, ctx.mem.settings.home, found.get(r.get("media_id") or "")) for r in rows]


def open_day(ctx: Context, day: str | None) -> tuple[str, list[Evidence], list[GalleryItem], list[Evidence],
                                                     list[GalleryItem], str]:
    """A day's sessions and events; the moments gallery empties until one is chosen."""
    if not day:
        return hint_html("Choose a day."), [], [], [], [], hint_html("")
    rows = [_with_thumbnail(ctx, r) for r in _top_level(ctx, day)]
    items = rows_as_evidence(ctx, rows)
    head = ctx.mem.episode(day) if not day.startswith("date:") else None
    summary = (head.get("caption") if head else "") or f"{len(items)} session{'s' * (len(items) != 1)}"
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


# --- People ----------------------------------------------------------------------------------------
PeopleView = tuple[str, list[str], list[GalleryItem], str, str, str, gr.Dropdown]


def people_view(ctx: Context, selected: str = "", message: str = "") -> PeopleView:
    """The gallery of people, most often seen first, and the selected one's name box and merge choices.

    Returns (message, person ids in gallery order, gallery, selected id, name box, details, merge dropdown).
    """
    people = semantic.list_people(ctx.mem)
    ids = [p.person_id for p in people]
    items = [(str(ctx.media.thumbnail(p.cover) or ctx.media.placeholder("person", p.label)), person_caption(p))
             for p in people]
    chosen = next((p for p in people if p.person_id == selected), None)
    merge = gr.Dropdown(choices=[(p.label, p.person_id) for p in people if p is not chosen], value=None)
    msg = people_html(len(people), message)
    if chosen is None:
        return msg, ids, items, "", "", hint_html("Select a person to name, hide or merge them."), merge
    return msg, ids, items, chosen.person_id, chosen.name, person_html(chosen), merge


def select_person(ctx: Context, ids: Sequence[str], index: int | None) -> PeopleView:
    if index is None or not 0 <= index < len(ids):
        return people_view(ctx)
    return people_view(ctx, ids[index])


def _chosen(person_id: str) -> str:
    if not person_id:
        raise gr.Error("Select a person in the gallery first.")
    return person_id


def save_name(ctx: Context, person_id: str, name: str) -> PeopleView:
    """Name the selected person: answers to "who" questions then use the name."""
    try:
        p = semantic.name_person(ctx.mem, _chosen(person_id), name or "")
    except ValueError as e:
        raise gr.Error(f"{e}: type a name, e.g. Eileen, or press Hide") from e
    except KeyError as e:  # renamed or merged away in another tab or by the CLI
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Named {p.label}.")


def hide_selected(ctx: Context, person_id: str) -> PeopleView:
    """Hide the selected person (a stranger in the background): no longer listed or named in answers."""
    try:
        p = semantic.hide_person(ctx.mem, _chosen(person_id))
    except KeyError as e:
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, "", f"Hid {p.label}; `lifelog people` can show them again.")


def merge_selected(ctx: Context, person_id: str, into: str | None) -> PeopleView:
    """Merge the selected person into the one chosen in the dropdown (the same person, found twice)."""
    _chosen(person_id)
    if not into:
        raise gr.Error("Choose in 'Merge into' the person this one really is.")
    try:
        gone = next((q.label for q in semantic.list_people(ctx.mem, include_hidden=True)
                     if q.person_id == person_id), person_id[-6:])
        p = semantic.merge_people(ctx.mem, into, person_id)
    except KeyError as e:
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Merged {gone} into {p.label}.")


# --- Library ---------------------------------------------------------------------------------------
def add_folder(ctx: Context, folder: str) -> tuple[str, gr.Timer]:
    folder = (folder or "").strip()
    if not folder:
        raise gr.Error("Type the path of a folder, e.g. ~/Pictures/2025")
    path = Path(folder).expanduser()
    if not path.exists():
        raise gr.Error(f"No such file or folder: {path}. Type its full path, e.g. /home/you/Pictures")
    return _start(ctx, [path])


def add_files(ctx: Context, files: list[str] | None) -> tuple[str, gr.Timer]:
    """Uploaded files are copied into <home>/uploads first: gradio's upload folder is temporary."""
    if not files:
        raise gr.Error("Drop one or more photos, videos or recordings first.")
    dest = Path(ctx.mem.settings.home) / "uploads" / datetime.now().strftime("%Y-%m-%d")
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in files:
        src = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
        target = dest / src.name
        if target.exists() and target.stat().st_size != src.stat().st_size:
            target = dest / f"{src.stem}-{int(time.time())}{src.suffix}"
        shutil.copyfile(src, target)
        copied.append(target)
    return _start(ctx, copied)


def _start(ctx: Context, paths: list[Path]) -> tuple[str, gr.Timer]:
    try:
        job = ctx.ingestor.start(paths)
    except RuntimeError as e:
        raise gr.Error(str(e)) from e
    return progress_html(job), gr.Timer(active=True)


def stop_ingest(ctx: Context) -> str:
    job = ctx.ingestor.job
    if job and job.running:
        job.stop.set()
    return progress_html(job)


def failures_table(ctx: Context) -> list[list[str]]:
    rows = {path: reason for path, reason in ctx.mem.failures()}
    job = ctx.ingestor.job
    if job and job.report:
        rows.update({str(p): r for p, r in job.report.failed})
    return [[p, r] for p, r in sorted(rows.items())]


def poll(ctx: Context) -> tuple[str, list[list[str]], str, gr.Timer]:
    """The timer's tick: progress while running; status and failures refresh, and the timer stops, at the end."""
    job = ctx.ingestor.job
    running = bool(job and job.running)
    return progress_html(job), failures_table(ctx), status_html(ctx.mem.status()), gr.Timer(active=running)


def refresh_library(ctx: Context) -> tuple[str, list[list[str]], str]:
    return progress_html(ctx.ingestor.job), failures_table(ctx), status_html(ctx.mem.status())


def refresh_days(ctx: Context) -> gr.Dropdown:
    choices = timeline_days(ctx)
    return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)


def models_view(ctx: Context) -> str:
    return models_markdown(ctx.mem.models_table(), ctx.mem.settings.profile)


# --- layout ----------------------------------------------------------------------------------------
CSS = """
.gradio-container {max-width: 1400px !important; margin: auto;}
#ll-header h1 {margin-bottom: 0;}
#ll-header p {margin-top: 2px; opacity: .75;}
.ll-viewer {display: flex; flex-direction: column; gap: 10px;}
.ll-player {width: 100%; max-height: 420px; border-radius: 10px; background: #000;}
audio.ll-player {background: transparent; max-height: 60px;}
.ll-photo {width: 100%; max-height: 520px; object-fit: contain; border-radius: 10px; background: #0f172a;}
.ll-title {font-weight: 600; font-size: 1.05em;}
.ll-meta {font-size: .92em; opacity: .9;}
.ll-file {font-family: ui-monospace, monospace; font-size: .9em;}
.ll-transcript {list-style: none; padding: 0; margin: 0; font-size: .95em;}
.ll-transcript li {padding: 4px 8px; border-radius: 6px; opacity: .7;}
.ll-transcript li.ll-current {background: rgba(99,102,241,.15); opacity: 1; font-weight: 500;}
.ll-at {font-family: ui-monospace, monospace; font-size: .85em; opacity: .7; margin-right: 6px;}
.ll-snippet {margin: 0; padding: 8px 12px; border-left: 3px solid #6366f1; background: rgba(99,102,241,.07);}
.ll-hint, .ll-count {opacity: .75; padding: 6px 2px;}
.ll-note {opacity: .8; font-size: .9em;}
.ll-empty {padding: 36px 20px; text-align: center; border: 2px dashed rgba(100,116,139,.4); border-radius: 12px;}
.ll-empty-title {font-size: 1.2em; font-weight: 600; margin-bottom: 6px;}
.ll-error {padding: 10px 14px; border-radius: 8px; background: rgba(220,38,38,.12); color: #b91c1c;}
.ll-progress {padding: 6px 0;}
.ll-bar {height: 12px; border-radius: 6px; background: rgba(100,116,139,.25); overflow: hidden; margin-bottom: 6px;}
.ll-bar > div {height: 100%; background: linear-gradient(90deg, #6366f1, #22c55e); transition: width .4s;}
.ll-done-warn .ll-bar > div {background: linear-gradient(90deg, #6366f1, #f59e0b);}
.ll-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 10px;}
.ll-card {padding: 10px 12px; border-radius: 10px; border: 1px solid rgba(100,116,139,.3);}
.ll-card-k {font-size: .8em; text-transform: uppercase; letter-spacing: .04em; opacity: .65;}
.ll-card-v {font-size: .98em; margin-top: 2px; word-break: break-word;}
"""

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


def _viewer(elem_id: str) -> gr.HTML:
    return gr.HTML(hint_html("Select a piece of evidence to open it here."), elem_id=elem_id,
                   js_on_load=PLAYER_JS, elem_classes=["ll-viewer-box"])


def build_app(mem: lifelog.Memory, *, media_root: str | Path | None = None) -> gr.Blocks:
    """The app's page. Serve it with `launch` (which allows gradio to serve the staged media only)."""
    ctx = make_context(mem, media_root)
    with gr.Blocks(title="Lifelog") as demo:
        demo.lifelog_context = ctx  # launch() and tests reach the staging folder and the ingestor here
        gr.Markdown(f"# Lifelog\nYour photos, videos and recordings, searchable and answerable. "
                    f"Library `{mem.settings.home}`, profile `{mem.settings.profile}`.", elem_id="ll-header")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                evidence = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        chat = gr.Chatbot(height=440, label="Conversation", feedback_options=None,
                                          placeholder="Ask about anything you photographed, filmed or recorded.",
                                          elem_id="ll-chat")
                        with gr.Row():
                            question = gr.Textbox(placeholder="e.g. what did the man say about the corner?",
                                                  show_label=False, scale=5, elem_id="ll-question", autofocus=True)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="ll-ask")
                    with gr.Column(scale=4):
                        ev_gallery = gr.Gallery(label="Evidence", columns=3, height=220, allow_preview=False, fit_columns=False,
                                                object_fit="cover", elem_id="ll-evidence")
                        ask_viewer = _viewer("ll-ask-viewer")
                with gr.Accordion("How was this found", open=False, elem_id="ll-steps-box"):
                    steps = gr.Markdown("Ask a question to see the agent's steps.", elem_id="ll-steps")
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
                    with gr.Column(scale=2, min_width=220, visible=can_search_by_image(mem),
                                   elem_id="ll-query-image-box"):
                        query_image = gr.Image(label="Or search by example picture", type="filepath",
                                               sources=["upload", "clipboard"], height=150,
                                               elem_id="ll-query-image")
                        gr.HTML(image_search_hint(mem.settings.profile), elem_id="ll-query-image-hint")
                search_msg = gr.HTML(hint_html("Results appear here, best first, with their relevance."),
                                     elem_id="ll-search-msg")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        hit_gallery = gr.Gallery(label="Results", columns=4, height=460, allow_preview=False, fit_columns=False,
                                                 object_fit="cover", elem_id="ll-results")
                    with gr.Column(scale=4):
                        search_viewer = _viewer("ll-search-viewer")
            with gr.Tab("Timeline", id="timeline") as timeline_tab:
                sessions_state = gr.State([])
                moments_state = gr.State([])
                with gr.Row():
                    day = gr.Dropdown([], label="Day", scale=4, elem_id="ll-day")
                    refresh_btn = gr.Button("Refresh", scale=1)
                day_msg = gr.HTML(hint_html("Choose a day."))
                session_gallery = gr.Gallery(label="Sessions and events", columns=6, height=200,
                                             allow_preview=False, fit_columns=False, object_fit="cover", elem_id="ll-sessions")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        moment_gallery = gr.Gallery(label="Moments", columns=4, height=380, allow_preview=False, fit_columns=False,
                                                    object_fit="cover", elem_id="ll-moments")
                    with gr.Column(scale=4):
                        timeline_viewer = _viewer("ll-timeline-viewer")
            with gr.Tab("People", id="people") as people_tab:
                people_ids = gr.State([])
                person = gr.State("")
                people_msg = gr.HTML(people_html(0), elem_id="ll-people-msg")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        people_gallery = gr.Gallery(label="People", columns=5, height=420, allow_preview=False,
                                                    fit_columns=False, object_fit="cover", elem_id="ll-people")
                    with gr.Column(scale=3):
                        person_info = gr.HTML(hint_html("Select a person to name, hide or merge them."),
                                              elem_id="ll-person")
                        person_name = gr.Textbox(label="Name", placeholder="e.g. Eileen", elem_id="ll-person-name")
                        with gr.Row():
                            name_btn = gr.Button("Save name", variant="primary", elem_id="ll-person-save")
                            hide_btn = gr.Button("Hide", variant="stop", elem_id="ll-person-hide")
                        merge_into = gr.Dropdown([], label="Merge into", info="the same person, found twice",
                                                 elem_id="ll-person-merge-into")
                        merge_btn = gr.Button("Merge", elem_id="ll-person-merge")
            with gr.Tab("Library", id="library") as library_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        folder = gr.Textbox(label="Add a folder", placeholder="/home/you/Pictures/2025",
                                            elem_id="ll-folder")
                        with gr.Row():
                            add_btn = gr.Button("Add folder", variant="primary", elem_id="ll-add")
                            stop_btn = gr.Button("Stop", variant="stop")
                    with gr.Column(scale=2):
                        uploads = gr.File(label="Or drop files", file_count="multiple", height=120)
                        upload_btn = gr.Button("Add these files")
                progress = gr.HTML(progress_html(None), elem_id="ll-progress")
                gr.Markdown("### In memory")
                status = gr.HTML(elem_id="ll-status")
                failures = gr.Dataframe(headers=["File", "Why it could not be read"], label="Files that failed",
                                        interactive=False, wrap=True, elem_id="ll-failures")
                timer = gr.Timer(1.0, active=False)
            with gr.Tab("Models", id="models"):
                models_md = gr.Markdown(elem_id="ll-models")

        # Ask
        ask_fn = partial(ask, ctx)
        ask_out = [chat, question, evidence, ev_gallery, steps, ask_viewer]
        ask_btn.click(ask_fn, [question, chat], ask_out)
        question.submit(ask_fn, [question, chat], ask_out)

        def on_evidence(items: list[Evidence], evt: gr.SelectData) -> str:
            return open_evidence(ctx, items, evt.index)

        ev_gallery.select(on_evidence, evidence, ask_viewer)

        # Search
        search_fn = partial(search, ctx)
        search_in = [query, start, end, kinds, place, scale, query_image, people_filter]
        search_out = [search_msg, hits, hit_gallery, search_viewer]
        search_btn.click(search_fn, search_in, search_out)
        query.submit(search_fn, search_in, search_out)
        # dropping a picture is the search: no button press needed
        query_image.upload(search_fn, search_in, search_out)
        query_image.clear(lambda: hint_html("Picture cleared: type words and press Search."), None, search_msg)

        def on_hit(items: list[Evidence], evt: gr.SelectData) -> str:
            return open_evidence(ctx, items, evt.index)

        hit_gallery.select(on_hit, hits, search_viewer)

        # Timeline
        day_out = [day_msg, sessions_state, session_gallery, moments_state, moment_gallery, timeline_viewer]
        day.change(partial(open_day, ctx), day, day_out)
        refresh_btn.click(partial(refresh_days, ctx), None, day)
        timeline_tab.select(partial(refresh_days, ctx), None, day)

        def on_session(items: list[Evidence], evt: gr.SelectData) -> tuple[list[Evidence], list[GalleryItem], str]:
            return open_session(ctx, items, evt.index)

        session_gallery.select(on_session, sessions_state, [moments_state, moment_gallery, timeline_viewer])

        def on_moment(items: list[Evidence], evt: gr.SelectData) -> str:
            return open_evidence(ctx, items, evt.index)

        moment_gallery.select(on_moment, moments_state, timeline_viewer)

        # People: every action answers with the whole refreshed tab
        people_out = [people_msg, people_ids, people_gallery, person, person_name, person_info, merge_into]
        people_tab.select(partial(people_view, ctx), person, people_out)

        def on_person(ids: list[str], evt: gr.SelectData) -> PeopleView:
            return select_person(ctx, ids, evt.index)

        people_gallery.select(on_person, people_ids, people_out)
        name_btn.click(partial(save_name, ctx), [person, person_name], people_out)
        person_name.submit(partial(save_name, ctx), [person, person_name], people_out)
        hide_btn.click(partial(hide_selected, ctx), person, people_out)
        merge_btn.click(partial(merge_selected, ctx), [person, merge_into], people_out)

        # Library: handlers return at once; the timer polls the background job
        add_btn.click(partial(add_folder, ctx), folder, [progress, timer])
        folder.submit(partial(add_folder, ctx), folder, [progress, timer])
        upload_btn.click(partial(add_files, ctx), uploads, [progress, timer])
        stop_btn.click(partial(stop_ingest, ctx), None, progress)
        timer.tick(partial(poll, ctx), None, [progress, failures, status, timer])
        library_tab.select(partial(refresh_library, ctx), None, [progress, failures, status])

        demo.load(partial(refresh_library, ctx), None, [progress, failures, status])
        demo.load(partial(models_view, ctx), None, models_md)
        demo.load(partial(refresh_days, ctx), None, day)
    return demo


THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="emerald", neutral_hue="slate")


def launch(mem: lifelog.Memory, host: str = "127.0.0.1", port: int = 7860, open_browser: bool = True,
           **kw: Any) -> gr.Blocks:
    """Serve the app on `host:port`. Only the staged copies of library media can be fetched.

    Extra keyword arguments go to `gr.Blocks.launch` (tests pass prevent_thread_lock=True and
    then call `.close()` on the returned app).
    """
    demo = build_app(mem)
    ctx: Context = demo.lifelog_context
    kw.setdefault("quiet", True)
    demo.queue(default_concurrency_limit=4).launch(
        server_name=host, server_port=port, inbrowser=open_browser, theme=THEME, css=CSS,
        # the staging folder is the only place outside gradio's own cache it may serve
        allowed_paths=[str(ctx.media.root)], show_error=True, **kw)
    return demo


__all__ = ["Context", "ask", "build_app", "can_search_by_image", "hide_selected", "launch", "merge_selected",
           "open_day", "open_evidence", "open_session", "people_view", "save_name", "search", "select_person",
           "timeline_days"]
