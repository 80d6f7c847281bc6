"""The Ask tab: a question in the chat, the agent's answer, its evidence in a gallery and a viewer."""

from __future__ import annotations

from functools import partial

import gradio as gr

from ui.context import Context
from ui.errors import InputError, shown
from ui.evidence import (
    GalleryItem,
    gallery,
    gallery_box,
    open_evidence,
    open_selected,
    viewer,
)
from ui.views import Evidence, answer_markdown, from_citation, hint_html, steps_markdown

PLACEHOLDER = "Ask, e.g. where was I last Saturday?"


def ask(ctx: Context, question: str, history: list[dict] | None) -> tuple[list[dict], str, list[Evidence],
                                                                         list[GalleryItem], str, str]:
    """Answer in the chat; the evidence goes to the gallery, the top piece opens in the viewer."""
    question = (question or "").strip()
    if not question:
        raise InputError("Type a question first, e.g. \u201cwhere was I last Saturday?\u201d")
    ctx.warm.wait()  # the models the app started loading at launch: one load, not two
    try:
        answer = ctx.mem.ask(question)
    except (ValueError, RuntimeError) as e:
        raise InputError(str(e)) from e
    history = list(history or []) + [{"role": "user", "content": question},
                                     {"role": "assistant", "content": answer_markdown(answer)}]
    evidence = [from_citation(c) for c in answer.citations]
    opened = (open_evidence(ctx, evidence, 0, autoplay=False) if evidence
              else hint_html("No evidence: nothing in memory was close enough."))
    return history, "", evidence, gallery(ctx, evidence), steps_markdown(answer), opened


def build(ctx: Context) -> None:
    """The Ask tab, inside the page's `gr.Tabs`: nothing in it is wired to other tabs."""
    with gr.Tab("Ask", id="ask"):
        evidence = gr.State([])
        with gr.Row(equal_height=False, elem_classes=["ll-split"]):
            with gr.Column(scale=5, min_width=320, elem_classes=["ll-main"]):
                chat = gr.Chatbot(height=440, label="Conversation", show_label=False, feedback_options=None,
                                  placeholder="Ask about anything you photographed, filmed or recorded: the "
                                              "answer comes with the photo, the clip from the right second or "
                                              "the transcript line it rests on.",
                                  elem_id="ll-chat")
                with gr.Row(elem_classes=["ll-ask-row"]):
                    question = gr.Textbox(placeholder=PLACEHOLDER, show_label=False, scale=1, min_width=200,
                                          lines=1, max_lines=4, elem_id="ll-question", autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ll-ask")
            with gr.Column(scale=4, min_width=300, elem_classes=["ll-side"]):
                gr.HTML('<div class="ll-heading">Evidence</div>')
                ev_gallery = gallery_box("Evidence", columns=3, elem_id="ll-evidence")
                ask_viewer = viewer("ll-ask-viewer")
        with gr.Accordion("How was this found", open=False, elem_id="ll-steps-box"):
            steps = gr.Markdown("Ask a question to see the agent's steps.", elem_id="ll-steps")

    ask_out = [chat, question, evidence, ev_gallery, steps, ask_viewer]
    ask_fn = shown(partial(ask, ctx), len(ask_out))
    ask_btn.click(ask_fn, [question, chat], ask_out)
    question.submit(ask_fn, [question, chat], ask_out)
    ev_gallery.select(open_selected(ctx), evidence, ask_viewer, api_name="on_evidence")


__all__ = ["PLACEHOLDER", "ask", "build"]
