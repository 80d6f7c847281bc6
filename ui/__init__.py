"""The Gradio desktop app (`lifelog ui`). It uses only `lifelog`'s public API."""

from ui.app import build_app, launch

__all__ = ["build_app", "launch"]
