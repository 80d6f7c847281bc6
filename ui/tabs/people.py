"""The People tab: everyone found by face, most often seen first; name, hide or merge them.

It goes through `Memory.people`, `name_person`, `hide_person` and `merge_people` only.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

import gradio as gr

from ui.context import Context
from ui.evidence import GalleryItem, gallery_box
from ui.views import hint_html, people_html, person_caption, person_html

PeopleView = tuple[str, list[str], list[GalleryItem], str, str, str, gr.Dropdown]


def people_view(ctx: Context, selected: str = "", message: str = "") -> PeopleView:
    """The gallery of people, most often seen first, and the selected one's name box and merge choices.

    Returns (message, person ids in gallery order, gallery, selected id, name box, details, merge dropdown).
    """
    people = ctx.mem.people()
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
        p = ctx.mem.name_person(_chosen(person_id), name or "")
    except ValueError as e:
        raise gr.Error(f"{e}: type a name, e.g. Eileen, or press Hide") from e
    except KeyError as e:  # renamed or merged away in another tab or by the CLI
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Named {p.label}.")


def hide_selected(ctx: Context, person_id: str) -> PeopleView:
    """Hide the selected person (a stranger in the background): no longer listed or named in answers."""
    try:
        p = ctx.mem.hide_person(_chosen(person_id))
    except KeyError as e:
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, "", f"Hid {p.label}; `lifelog people` can show them again.")


def merge_selected(ctx: Context, person_id: str, into: str | None) -> PeopleView:
    """Merge the selected person into the one chosen in the dropdown (the same person, found twice)."""
    _chosen(person_id)
    if not into:
        raise gr.Error("Choose in 'Merge into' the person this one really is.")
    try:
        gone = next((q.label for q in ctx.mem.people(include_hidden=True)
                     if q.person_id == person_id), person_id[-6:])
        p = ctx.mem.merge_people(into, person_id)
    except KeyError as e:
        raise gr.Error(str(e).strip("'\"")) from e
    return people_view(ctx, p.person_id, f"Merged {gone} into {p.label}.")


def build(ctx: Context) -> None:
    """The People tab, inside the page's `gr.Tabs`: every action answers with the whole refreshed tab."""
    with gr.Tab("People", id="people") as people_tab:
        people_ids = gr.State([])
        person = gr.State("")
        people_msg = gr.HTML(people_html(0), elem_id="ll-people-msg")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                people_gallery = gallery_box("People", columns=5, height=420, elem_id="ll-people")
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

    people_out = [people_msg, people_ids, people_gallery, person, person_name, person_info, merge_into]
    people_tab.select(partial(people_view, ctx), person, people_out)

    def on_person(ids: list[str], evt: gr.SelectData) -> PeopleView:
        return select_person(ctx, ids, evt.index)

    people_gallery.select(on_person, people_ids, people_out)
    name_btn.click(partial(save_name, ctx), [person, person_name], people_out)
    person_name.submit(partial(save_name, ctx), [person, person_name], people_out)
    hide_btn.click(partial(hide_selected, ctx), person, people_out)
    merge_btn.click(partial(merge_selected, ctx), [person, merge_into], people_out)


__all__ = ["PeopleView", "build", "hide_selected", "merge_selected", "people_view", "save_name", "select_person"]
