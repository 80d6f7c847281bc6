"""The Models tab: the active profile's models, whether each runs here, and how to get the full ones."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ui.context import Context
from ui.reports import models_markdown


def models_view(ctx: Context) -> str:
    return models_markdown(ctx.mem.models_table(), ctx.mem.settings.profile)


@dataclass
class ModelsTab:
    """What the page wires from outside the tab: the table, filled when the page loads."""

    table: gr.Markdown


def build(ctx: Context) -> ModelsTab:
    """The Models tab, inside the page's `gr.Tabs`."""
    with gr.Tab("Models", id="models"):
        table = gr.Markdown(elem_id="ll-models")
    return ModelsTab(table=table)


__all__ = ["ModelsTab", "build", "models_view"]
