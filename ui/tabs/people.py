"""The People tab: everyone found by face, most often seen first; name, hide or merge them.

It goes through `Memory.people`, `person_faces`, `name_person`, `hide_person` and `merge_people`;
a person's appearances are the episodes their faces are in, newest first.
"""

from __future__ import annotations

import html

from collections.abc import Sequence
from functools import partial

import gradio as gr

from lifelog.sql import in_list
from ui.context import Context
from ui.errors import InputError, shown
from ui.evidence import (
    GalleryItem,
    gallery,
    gallery_beside_viewer,
    gallery_box,
    open_selected,
    rows_as_evidence,
)
from ui.views import Evidence, hint_html, people_html, person_caption, person_html, when

PeopleView = tuple[str, list[str], list[GalleryItem], str, str, str, gr.Dropdown, list[Evidence],
                   list[GalleryItem], str]
# the most recent appearances a person's page lists (a gallery of thousands helps no one)
APPEARANCES = 60


def appearances(ctx: Context, person_id: str) -> list[Evidence]:
    """The moments a person is seen or heard in, newest first, each at the time it was lived there."""
    faces = ctx.mem.person_faces(person_id)
    heard = [{"episode_id": e, "time": v["time"]}
             for v in ctx.mem.person_voices(person_id) for e in v["episode_ids"] or []]
    found = sorted(faces + heard, key=lambda f: (f["time"] is not None, f["time"] or 0))  # oldest first
    episode_ids = list(dict.fromkeys(f["episode_id"] for f in reversed(found) if f.get("episode_id")))[:APPEARANCES]
    if not episode_ids:
        return []
    rows = ctx.mem.store.episodes(in_list("episode_id", episode_ids))
    order = {e: i for i, e in enumerate(episode_ids)}
    rows.sort(key=lambda r: order.get(r["episode_id"], len(order)))
    return rows_as_evidence(ctx, rows)


def _seen(items: Sequence[Evidence]) -> tuple[str, str]:
    """First and last seen, as lived where the pictures were taken (items newest first)."""
    dated = [e for e in items if e.time and not e.file_dated]
    if not dated:
        copied = [e for e in items if e.time]
        # only in files without a capture time: say so, with the copy date, rather than "unknown"
        return ("unknown", "unknown") if not copied else (when(copied[-1].time, time_source="file"),
                                                           when(copied[0].time, time_source="file"))
    return (when(dated[-1].time, dated[-1].utc_offset_min), when(dated[0].time, dated[0].utc_offset_min))


def people_view(ctx: Context, selected: str = "", message: str = "") -> PeopleView:
    """The gallery of people, most often seen first, and the selected one's name box, merge choices
    and appearances.

    Returns (message, person ids in gallery order, gallery, selected id, name box, details, merge
    dropdown, the selected person's appearances, their gallery, the viewer).
    """
    people = ctx.mem.people()
    ids = [p.person_id for p in people]
    seen = {p.person_id: appearances(ctx, p.person_id) for p in people}
    # no face to show: a plain tile (the caption under it names them)
    items = [(str(ctx.media.thumbnail(p.cover) or ctx.media.placeholder("person" if p.n_faces else "voice")),
              person_caption(p, _seen(seen[p.person_id])[1])) for p in people]
    chosen = next((p for p in people if p.person_id == selected), None)
    merge = gr.Dropdown(choices=[(p.label, p.person_id) for p in people if p is not chosen], value=None)
    msg = people_html(len(people), message)
    if chosen is None:
        return (msg, ids, items, "", "", hint_html("Select a person to name, hide or merge them and to see "
                                                    "where they appear."), merge, [], [], hint_html(""))
    shown_in = seen[chosen.person_id]
    first, last = _seen(shown_in)
    maybe = "".join(f"<div>Maybe the same person as <b>{html.escape(q.label)}</b> ({html.escape(why)}): merge "
                    "them to make one record.</div>" for q, why in ctx.mem.link_proposals(chosen.person_id)[:3])
    details = person_html(chosen, first, last, len(shown_in)) + (f'<div class="ll-note">{maybe}</div>' if maybe else "")
    return (msg, ids, items, chosen.person_id, chosen.name, details, merge,
            shown_in, gallery(ctx, shown_in), hint_html("Select an appearance to open it here."))


def select_person(ctx: Context, ids: Sequence[str], index: int | None) -> PeopleView:
    if index is None or not 0 <= index < len(ids):
        return people_view(ctx)
    return people_view(ctx, ids[index])


def _chosen(person_id: str) -> str:
    if not person_id:
        raise InputError("Select a person in the gallery first.")
    return person_id


def save_name(ctx: Context, person_id: str, name: str) -> PeopleView:
    """Name the selected person: answers to "who" questions then use the name."""
    chosen = _chosen(person_id)
    try:
        p = ctx.mem.name_person(chosen, name or "")
    except ValueError as e:
        raise InputError(f"{e}: type a name, e.g. Eileen, or press Hide") from e
    except KeyError as e:  # renamed or merged away in another tab or by the CLI
        raise InputError(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Named {p.label}.")


def hide_selected(ctx: Context, person_id: str) -> PeopleView:
    """Hide the selected person (a stranger in the background): no longer listed or named in answers."""
    try:
        p = ctx.mem.hide_person(_chosen(person_id))
    except KeyError as e:
        raise InputError(str(e).strip("'\"")) from e
    return people_view(ctx, "", f"Hid {p.label}; `lifelog people` can show them again.")


def merge_selected(ctx: Context, person_id: str, into: str | None) -> PeopleView:
    """Merge the selected person into the one chosen in the dropdown (the same person, found twice)."""
    _chosen(person_id)
    if not into:
        raise InputError("Choose in 'Merge into' the person this one really is.")
    try:
        gone = next((q.label for q in ctx.mem.people(include_hidden=True)
                     if q.person_id == person_id), person_id[-6:])
        p = ctx.mem.merge_people(into, person_id)
    except KeyError as e:
        raise InputError(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Merged {gone} into {p.label}.")


def split_selected(ctx: Context, person_id: str, episode_id: str) -> PeopleView:
    """"Not them": the selected appearance's faces of this person (or, where none is on screen, the
    voice heard there) move to a new unnamed person; the rest stays."""
    chosen = _chosen(person_id)
    if not episode_id:
        raise InputError("Select an appearance under 'Where they appear' first: the one that is not them.")
    try:
        faces = [f["face_id"] for f in ctx.mem.person_faces(chosen) if f.get("episode_id") == episode_id]
        voices = [v["voice_id"] for v in ctx.mem.person_voices(chosen) if episode_id in (v["episode_ids"] or [])]
        if not faces and not voices:
            raise InputError("That appearance is not one of theirs any more: select another.")
        new = ctx.mem.split_person(chosen, faces or voices)
    except ValueError as e:
        raise InputError(f"{e}. To take them out of every appearance, press Hide.") from e
    except KeyError as e:
        raise InputError(str(e).strip("'\"")) from e
    return people_view(ctx, chosen, f"Moved that {'face' if faces else 'voice'} to a new person, {new.label}.")


def build(ctx: Context) -> None:
    """The People tab, inside the page's `gr.Tabs`: every action answers with the whole refreshed tab."""
    with gr.Tab("People", id="people") as people_tab:
        people_ids = gr.State([])
        person = gr.State("")
        shown_in = gr.State([])
        people_msg = gr.HTML(people_html(0), elem_id="ll-people-msg")
        with gr.Row(equal_height=False, elem_classes=["ll-split"]):
            with gr.Column(scale=5, min_width=320, elem_classes=["ll-main"]):
                people_gallery = gallery_box("People", columns=5, elem_id="ll-people")
            with gr.Column(scale=3, min_width=280, elem_classes=["ll-side"]):
                person_info = gr.HTML(hint_html("Select a person to name, hide or merge them and to see where "
                                                "they appear."), elem_id="ll-person")
                person_name = gr.Textbox(label="Name", placeholder="e.g. Eileen", elem_id="ll-person-name")
                with gr.Row():
                    name_btn = gr.Button("Save name", variant="primary", elem_id="ll-person-save", min_width=100)
                    hide_btn = gr.Button("Hide", variant="stop", elem_id="ll-person-hide", min_width=80)
                merge_into = gr.Dropdown([], label="Merge into", info="the same person, found twice",
                                         elem_id="ll-person-merge-into")
                merge_btn = gr.Button("Merge", elem_id="ll-person-merge")
        appearances_gallery, person_viewer = gallery_beside_viewer(
            "Where they appear", columns=4, elem_id="ll-appearances", viewer_id="ll-person-viewer")
        picked = gr.State("")  # the appearance selected, for "Not them"
        with gr.Row():
            split_btn = gr.Button("Not them: move the selected appearance to a new person", size="sm", scale=0,
                                  min_width=400,
                                  elem_id="ll-person-split")

    people_out = [people_msg, people_ids, people_gallery, person, person_name, person_info, merge_into,
                  shown_in, appearances_gallery, person_viewer]
    n = len(people_out)
    people_tab.select(partial(people_view, ctx), person, people_out)

    def on_person(ids: list[str], evt: gr.SelectData) -> PeopleView:
        return select_person(ctx, ids, evt.index)

    people_gallery.select(on_person, people_ids, people_out)
    for event, fn, inputs in ((name_btn.click, save_name, [person, person_name]),
                              (person_name.submit, save_name, [person, person_name]),
                              (hide_btn.click, hide_selected, [person]),
                              (merge_btn.click, merge_selected, [person, merge_into]),
                              (split_btn.click, split_selected, [person, picked])):
        event(shown(partial(fn, ctx), n, message_at=0), inputs, people_out)
    appearances_gallery.select(open_selected(ctx), shown_in, person_viewer, api_name="on_appearance")

    def on_pick(items: list[Evidence], evt: gr.SelectData) -> str:
        return items[evt.index].episode_id if evt.index is not None and 0 <= evt.index < len(items) else ""

    appearances_gallery.select(on_pick, shown_in, picked, api_name="pick_appearance")
    people_gallery.select(lambda: "", None, picked)  # another person: nothing picked


__all__ = ["APPEARANCES", "PeopleView", "appearances", "build", "hide_selected", "merge_selected", "people_view", "save_name",
           "select_person", "split_selected"]
