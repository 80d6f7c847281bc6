"""The Gradio desktop app (`lifelog ui`). It uses only `lifelog`'s public API.

`build_app` and `launch` (from `ui.app`) load on first use, so importing `ui.views` or any other
part of the app does not build the whole of it.
"""

from __future__ import annotations

import os
from typing import Any

# before gradio is first imported: no usage statistics leave this machine (each Blocks says so too)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

__all__ = ["build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
