"""What the Library and Models tabs show: ingestion's progress bar and report, the library's status
cards, and the models table. Pure functions of `lifelog` results, like `ui.views`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lifelog
from ui.views import KIND_NAMES, SEP, clock, duration, hint_html, when


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def progress_html(job: Any) -> str:
    """The ingestion bar: files done/total, the current file, speed, time left, then the report."""
    if job is None:
        return hint_html("Add a folder or drop files to put them in memory. Files already known are skipped.")
    if job.error:
        return f'<div class="ll-error">Ingestion stopped: {html.escape(job.error)}</div>'
    p = job.progress
    if job.running:
        if p is None or not p.files_total:
            return '<div class="ll-progress"><div class="ll-bar"><div style="width:2%"></div></div>Looking for files\u2026</div>'
        pct = 100.0 * p.files_done / max(p.files_total, 1)
        bits = [f"<b>{p.files_done} / {p.files_total}</b> files"]
        if p.current:
            bits.append(f"last: {html.escape(Path(p.current).name)}")
        if p.rate:
            bits.append(f"{p.rate:.1f}\u00d7 realtime" if p.media_seconds_done else f"{p.rate:.2f} files/s")
        if p.eta_s is not None:
            bits.append(f"about {clock(p.eta_s)} left")
        stop = " (stopping after the current file)" if job.stop.is_set() else ""
        return (f'<div class="ll-progress"><div class="ll-bar"><div style="width:{max(pct, 2):.0f}%"></div></div>'
                f'{SEP.join(bits)}{stop}</div>')
    r = job.report
    if r is None:
        return hint_html("Ingestion ended.")
    failed = len(r.failed)
    cls = "ll-done-warn" if failed else "ll-done"
    return (f'<div class="ll-progress {cls}"><div class="ll-bar"><div style="width:100%"></div></div>'
            f"<b>Done</b> in {r.seconds:.0f} s: {r.ingested} added, {r.skipped} already known"
            + (f" ({r.moved} moved)" if r.moved else "") + f", {failed} failed.</div>")


def status_html(status: lifelog.Status) -> str:
    kinds = status.media_by_kind
    media = " \u00b7 ".join(f"{kinds.get(k, 0)} {KIND_NAMES[k]}{'s' * (kinds.get(k, 0) != 1)}"
                            for k in ("photo", "video", "audio"))
    scales = status.episodes_by_scale
    episodes = " \u00b7 ".join(f"{scales.get(k, 0)} {k}{'s' * (scales.get(k, 0) != 1)}"
                               for k in ("segment", "event", "session", "day"))
    extra = status.extra or {}
    span_ = (f"{when(status.first, extra.get('first_offset_min'))} \u2192 {when(status.last, extra.get('last_offset_min'))}"
             if status.first else "no capture times yet")
    if extra.get("file_dated"):
        n = extra["file_dated"]
        span_ += f"<br>and {n} file{'s' * (n != 1)} with only a file date (when copied, not captured)"
    disk = " \u00b7 ".join(f"{k} {_mb(v)}" for k, v in status.disk_bytes.items())
    cards = [("In memory", media), ("Moments", episodes), ("Time span", span_),
             ("Sound and video", duration(status.media_hours * 3600)), ("Disk use", disk),
             ("Library", f"{html.escape(status.home)} \u00b7 profile {html.escape(status.profile)}")]
    out = '<div class="ll-cards">' + "".join(
        f'<div class="ll-card"><div class="ll-card-k">{k}</div><div class="ll-card-v">{v}</div></div>'
        for k, v in cards) + "</div>"
    if status.failed:
        out += f'<div class="ll-note">{status.failed} file{"s" * (status.failed != 1)} could not be read: see below.</div>'
    if status.stale_columns:
        out += ('<div class="ll-error">The active models differ from the ones that filled this library ('
                + html.escape("; ".join(status.stale_columns)) + "). Run <code>lifelog reindex</code>.</div>")
    return out


def models_markdown(rows: Sequence[lifelog.ModelRow], profile: str) -> str:
    active = [r for r in rows if r.profile == profile]
    lines = [f"### Active profile: `{profile}`", "",
             "| role | model | available | size | licence | notes |", "|---|---|---|---|---|---|"]
    for r in active:
        # plain words (a machine without an emoji font draws those as empty boxes)
        ok = "yes" if r.available else "no"
        notes = r.notes if r.available or r.reason in r.notes else f"{r.reason} {r.notes}".strip()
        size = f"{r.size_mb:.0f}\u00a0MB" if r.size_mb else "-"
        lines.append(f"| {r.title} | `{r.name}` | {ok} | {size} | {r.licence} | {notes} |")
    others = sorted({r.profile for r in rows} - {profile})
    for other in others:
        missing = [r for r in rows if r.profile == other and not r.available]
        have = sum(1 for r in rows if r.profile == other and r.available)
        lines += ["", f"**`{other}`**: {have} of {have + len(missing)} roles available here"
                  + (f"; missing: {', '.join(r.name for r in missing)}" if missing else ".")]
    lines += ["", "### Getting the full models",
              "The bundled profile runs with no download. For better captions, transcripts and answers, fetch the "
              "full models once (a network is needed), then switch profile:", "",
              "```bash\nlifelog models pull full\nLIFELOG_PROFILE=full lifelog ui    # or profile = \"full\" in "
              "<home>/config.toml\n```", "",
              "After switching, `lifelog reindex` recomputes only the vector columns whose model changed."]
    return "\n".join(lines)


__all__ = ["models_markdown", "progress_html", "status_html"]
