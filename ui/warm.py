"""Models warmed in the background when the app starts, so the first question does not wait for them.

Loading the text embedding (and the small language model, where the profile has one) and running one
search takes seconds on a laptop. `Warmup` does it in a thread as soon as the page is built; the
header says "loading models" until it is done, and a question asked before then waits for the same
load instead of starting a second one.
"""

from __future__ import annotations

import html
import threading
import time

import lifelog
from lifelog.jobs import WARM_ROLES, warm_models

ROLES = WARM_ROLES


class Warmup:
    """One background load of the models a question needs; `wait` blocks until it is done."""

    def __init__(self, mem: lifelog.Memory):
        self.mem = mem
        self.loading = ""  # the role being loaded now
        self.error = ""
        self.seconds: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Warmup:
        if self._thread is None:
            # not a daemon: a process that exits while a native library is still loading its weights
            # aborts ("terminate called without an active exception"); exit waits the few seconds instead
            self._thread = threading.Thread(target=self._run, name="lifelog-warmup", daemon=False)
            self._thread.start()
        return self

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            warm_models(self.mem, on_stage=lambda stage: setattr(self, "loading", stage))
        except Exception as e:  # noqa: BLE001 - shown in the header; the question will say it again
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.loading = ""
            self.seconds = time.perf_counter() - t0
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the models are loaded (or loading failed); False when `timeout` passed first."""
        if self._thread is None:
            return True
        return self._done.wait(timeout)

    def status_html(self) -> str:
        """The header's line about the models: loading, ready, or why they failed."""
        if self.error:
            return f'<span class="ll-warm ll-warm-error">Models failed to load: {html.escape(self.error)}</span>'
        if not self.done:
            what = {"text_embed": "the text model", "llm": "the language model", "index": "the library"}.get(
                self.loading, "models")
            return f'<span class="ll-warm ll-warm-loading">Loading {what}\u2026 the first answer waits for it</span>'
        return f'<span class="ll-warm ll-warm-ready">Models ready ({self.seconds:.1f} s)</span>'


__all__ = ["ROLES", "Warmup"]
