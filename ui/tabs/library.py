"""The Library tab: add a folder or drop files, watch ingestion's progress, see what is in memory
and which files failed. Ingestion runs in the background (`lifelog.jobs`); a timer polls it.
"""

from __future__ import annotations

import html
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import gradio as gr

from lifelog.forget import ForgetReport, parse_when
from ui.context import Context
from ui.errors import InputError, shown
from ui.reports import progress_html, status_html


def add_folder(ctx: Context, folder: str) -> tuple[str, gr.Timer]:
    folder = (folder or "").strip()
    if not folder:
        raise InputError("Type the path of a folder, e.g. ~/Pictures/2025")
    path = Path(folder).expanduser()
    if not path.exists():
        raise InputError(f"No such file or folder: {path}. Type its full path, e.g. /home/you/Pictures")
    return _start(ctx, [path])


def add_files(ctx: Context, files: list[str] | None) -> tuple[str, gr.Timer]:
    """Uploaded files are copied into <home>/uploads first: gradio's upload folder is temporary."""
    if not files:
        raise InputError("Drop one or more photos, videos or recordings first.")
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
        raise InputError(str(e)) from e
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


def _forget_job(ctx: Context, target: str, start: str, end: str, dry: bool) -> ForgetReport:
    """One forget through the API: a path (file or folder) or a date span; InputError for bad input."""
    target, start, end = (target or "").strip(), (start or "").strip(), (end or "").strip()
    if ctx.ingestor.job and ctx.ingestor.job.running:
        raise InputError("An ingestion is running: wait for it to finish (or stop it), then forget.")
    if target and (start or end):
        raise InputError("Forget either a file or folder, or a date span, not both at once.")
    try:
        if target:
            return ctx.mem.forget_files([target], dry_run=dry)
        if start and end:
            zone = (ctx.mem.settings.now or datetime.now().astimezone()).tzinfo
            return ctx.mem.forget_span(parse_when(start, zone), parse_when(end, zone, end=True), dry_run=dry)
    except ValueError as e:
        raise InputError(str(e)) from e
    raise InputError("Type a file or folder, or both dates of a span (e.g. 2025-06-14 to 2025-06-14).")


def forget_html(r: ForgetReport) -> str:
    unknown = "".join(f'<div class="ll-note">Not in memory: {html.escape(u)}</div>' for u in r.unknown)
    if not r.files:
        return unknown + '<div class="ll-note">Nothing in memory to forget there.</div>'
    files = "".join(f"<li>{html.escape(f)}</li>" for f in r.files[:50])
    files += f"<li>... and {len(r.files) - 50} more</li>" if len(r.files) > 50 else ""
    confirm = ('<div class="ll-note">Press <b>Forget for good</b> to remove these from memory (your own files '
               "stay where they are).</div>") if r.dry_run else ""
    return f"{unknown}<div>{html.escape(r.summary())}</div><ul>{files}</ul>{confirm}"


def forget_preview(ctx: Context, target: str, start: str, end: str) -> tuple[str, dict]:
    """The first step: what would be forgotten; nothing changes. Shows the confirm button."""
    report = _forget_job(ctx, target, start, end, dry=True)
    return forget_html(report), gr.update(visible=bool(report.files))


def forget_confirm(ctx: Context, target: str, start: str, end: str) -> tuple[str, dict, str]:
    """The confirm step: forget for good, then hide the button and refresh the status."""
    report = _forget_job(ctx, target, start, end, dry=False)
    return forget_html(report), gr.update(visible=False), status_html(ctx.mem.status())


def refresh_library(ctx: Context) -> tuple[str, list[list[str]], str]:
    return progress_html(ctx.ingestor.job), failures_table(ctx), status_html(ctx.mem.status())


@dataclass
class LibraryTab:
    """What the page wires from outside the tab: the outputs of `refresh_library`, filled on load."""

    progress: gr.HTML
    failures: gr.Dataframe
    status: gr.HTML

    @property
    def refreshed(self) -> list[gr.components.Component]:
        """The outputs of `refresh_library`, in its order."""
        return [self.progress, self.failures, self.status]


def build(ctx: Context) -> LibraryTab:
    """The Library tab, inside the page's `gr.Tabs`: handlers return at once, a timer polls the job."""
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
        with gr.Accordion("Forget", open=False, elem_id="ll-forget"):
            gr.Markdown("Remove a file, a folder or a date span from memory everywhere: its moments, the days "
                        "they were part of, faces, places, things and pictures. Your own files are not touched.")
            with gr.Row():
                forget_target = gr.Textbox(label="File or folder", placeholder="/home/you/Recordings/REC_0001.m4a",
                                           elem_id="ll-forget-path", scale=3)
                forget_from = gr.Textbox(label="Or from (date)", placeholder="2025-06-14", elem_id="ll-forget-from")
                forget_to = gr.Textbox(label="to (date, included)", placeholder="2025-06-14", elem_id="ll-forget-to")
            with gr.Row():
                preview_btn = gr.Button("Show what would be forgotten", elem_id="ll-forget-preview")
                confirm_btn = gr.Button("Forget for good", variant="stop", visible=False, elem_id="ll-forget-confirm")
            forget_out = gr.HTML(elem_id="ll-forget-out")
        timer = gr.Timer(1.0, active=False)

    tab = LibraryTab(progress=progress, failures=failures, status=status)
    add_fn = shown(partial(add_folder, ctx), 2, message_at=0)
    add_btn.click(add_fn, folder, [progress, timer])
    folder.submit(add_fn, folder, [progress, timer])
    upload_btn.click(shown(partial(add_files, ctx), 2, message_at=0), uploads, [progress, timer])
    stop_btn.click(partial(stop_ingest, ctx), None, progress)
    timer.tick(partial(poll, ctx), None, [progress, failures, status, timer])
    forget_inputs = [forget_target, forget_from, forget_to]
    preview_btn.click(shown(partial(forget_preview, ctx), 2, message_at=0, clear={1: gr.update(visible=False)}),
                      forget_inputs, [forget_out, confirm_btn])
    confirm_btn.click(shown(partial(forget_confirm, ctx), 3, message_at=0), forget_inputs,
                      [forget_out, confirm_btn, status])
    library_tab.select(partial(refresh_library, ctx), None, tab.refreshed)
    return tab


__all__ = ["LibraryTab", "add_files", "add_folder", "build", "failures_table", "forget_confirm", "forget_html",
           "forget_preview", "poll", "refresh_library", "stop_ingest"]
