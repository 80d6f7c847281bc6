"""Routine input mistakes (an empty question, swapped dates, no person selected) as a message in the
tab (or a toast that fades), never as gradio's error state.

gradio marks every output of a handler that raised `gr.Error` with an "Error" badge that stays until
each one is closed and covers the inputs beneath it; it also logs the traceback. A handler raises
`InputError` instead and is wired through `shown`: the page keeps what it showed (or clears the
outputs named in `clear`), the tab's message area says what to do, and nothing goes to the log.
Anything else a handler raises is a bug, and reaches gradio (and the log) as before.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import gradio as gr


class InputError(gr.Error):
    """A mistake in what the user typed or chose; its message says how to put it right."""


def error_html(message: str) -> str:
    return f'<div class="ll-error" role="alert">{html.escape(message)}</div>'


def shown(fn: Callable[..., Any], n_outputs: int, *, message_at: int | None = None,
          clear: dict[int, Any] | None = None) -> Callable[..., Any]:
    """`fn` for an event with `n_outputs` outputs: an InputError becomes the message (as HTML) in
    output `message_at` where the tab has a message line (else a toast that fades), the values in
    `clear` (output index -> value, e.g. an emptied gallery) and `gr.skip()` for every other output."""

    @functools.wraps(fn)
    def handler(*args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except InputError as e:
            message = str(e.message if hasattr(e, "message") else e)
            if message_at is None:  # a tab with a message line says it there; a toast would only pile up
                gr.Warning(message, duration=6)
            out: list[Any] = [gr.skip()] * n_outputs
            for i, value in (clear or {}).items():
                out[i] = value
            if message_at is not None:
                out[message_at] = error_html(message)
            return out[0] if n_outputs == 1 else tuple(out)

    return handler


__all__ = ["InputError", "error_html", "shown"]
