"""The desktop app: ask your memory, search it, walk its timeline, add media, see the models.

    import lifelog
    from ui.app import launch
    launch(lifelog.open(), port=7860)          # or: lifelog ui

This module only lays the page out (header, tabs, what the page does on load) and serves it; each
tab's handlers and components live in `ui.tabs.<tab>`. Media reaches the browser only through
`ui.media.MediaCache`.
"""

from __future__ import annotations

import atexit
import webbrowser
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

import lifelog
from lifelog import client, service
from lifelog.webserve import Served, api_token, check_exposure, is_loopback, serve, ui_token
from ui.context import Context, make_context
from ui.style import CSS, THEME
from ui.tabs import ask, library, models, people, search, timeline


def build_app(mem: lifelog.Memory, *, media_root: str | Path | None = None) -> gr.Blocks:
    """The app's page. Serve it with `launch` (which allows gradio to serve the staged media only)."""
    ctx = make_context(mem, media_root)
    ctx.warm.start()  # the first question should not wait for the models: load them now
    with gr.Blocks(title="Lifelog", analytics_enabled=False) as demo:
        demo.lifelog_context = ctx  # launch() and tests reach the staging folder and the ingestor here
        with gr.Row(elem_id="ll-top", equal_height=False):
            gr.Markdown(f"# Lifelog\nYour photos, videos and recordings, searchable and answerable. "
                        f"Library `{mem.settings.home}`, profile `{mem.settings.profile}`.", elem_id="ll-header", scale=4)
            warm = gr.HTML(ctx.warm.status_html(), elem_id="ll-warm", scale=1, min_width=220)
        warm_timer = gr.Timer(1.0, active=not ctx.warm.done)
        with gr.Tabs():
            ask.build(ctx)
            search.build(ctx)
            timeline_tab = timeline.build(ctx)
            people.build(ctx)
            library_tab = library.build(ctx)
            models_tab = models.build(ctx)

        # what the page shows before any tab is opened
        demo.load(partial(library.refresh_library, ctx), None, library_tab.refreshed)
        demo.load(partial(models.models_view, ctx), None, models_tab.table)
        demo.load(partial(timeline.refresh_days, ctx), None, timeline_tab.day)
        warm_timer.tick(partial(_warm_status, ctx), None, [warm, warm_timer])
        demo.load(partial(_warm_status, ctx), None, [warm, warm_timer])
    return demo


def _warm_status(ctx: Context) -> tuple[str, gr.Timer]:
    """The header's model line; the timer stops once the models are loaded."""
    return ctx.warm.status_html(), gr.Timer(active=not ctx.warm.done)


def launch(mem: lifelog.Memory, host: str = "127.0.0.1", port: int = 7860, open_browser: bool = True,
           *, auth: bool = False, prevent_thread_lock: bool = False, **kw: Any) -> Served:
    """Serve the app on `host:port` behind the Host/Origin guard (and the token, with `auth` or any
    host but loopback: see `lifelog.webserve`). Only the staged copies of library media can be fetched.

    The same server answers the HTTP API under `/api/` (lifelog/service.py), with the app's
    memory and ingestion job, and announces itself, so the CLI sends its questions here while it runs.

    Returns the running app (`.url`, `.token`, `.close()`). With `prevent_thread_lock` it returns at
    once (tests, scripts); without, it blocks until Ctrl-C. Either way stopping it removes the
    staging folder. Extra keyword arguments go to `gr.mount_gradio_app`.
    """
    check_exposure(host, auth)
    token = ui_token(mem.settings.home) if auth or not is_loopback(host) else None
    demo = build_app(mem)
    ctx: Context = demo.lifelog_context
    try:
        demo.queue(default_concurrency_limit=4)
        # the API first: gradio, mounted at "/", would take every path
        server = service.build_app(mem, ctx.ingestor)
        app = gr.mount_gradio_app(
            server, demo, path="/", server_name=host,
            server_port=port, theme=THEME, css=CSS, show_error=True, footer_links=["settings"],
            # server-side rendering would answer from a node server of its own, outside the guard
            ssr_mode=False,
            # the staging folder is the only place outside gradio's own cache it may serve
            allowed_paths=[str(ctx.media.root)], **kw)
        home = mem.settings.home

        def close() -> None:
            client.withdraw(home)
            ctx.media.close()

        served = serve(app, demo, host, port, token=token, on_close=close, api_token=api_token(home))
        service.announce(mem, served, host)
    except BaseException:  # the port in use, Ctrl-C while starting: the staged copies go all the same
        ctx.media.close()
        raise
    atexit.register(served.close)  # an interpreter that exits without close() still removes the staged copies
    if open_browser:
        webbrowser.open(served.url + (f"/?token={token}" if token else "/"))
    if not prevent_thread_lock:
        served.wait()
    return served


__all__ = ["build_app", "launch"]
