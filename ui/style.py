"""The page's look: its stylesheet (`CSS`) and gradio theme (`THEME`), both given to `launch`."""

from __future__ import annotations

import gradio as gr

CSS = """
.gradio-container {max-width: 1400px !important; margin: auto;}
#ll-header h1 {margin-bottom: 0;}
#ll-header p {margin-top: 2px; opacity: .75;}
.ll-viewer {display: flex; flex-direction: column; gap: 10px;}
.ll-player {width: 100%; max-height: 420px; border-radius: 10px; background: #000;}
audio.ll-player {background: transparent; max-height: 60px;}
.ll-photo {width: 100%; max-height: 520px; object-fit: contain; border-radius: 10px; background: #0f172a;}
.ll-title {font-weight: 600; font-size: 1.05em;}
.ll-meta {font-size: .92em; opacity: .9;}
.ll-file {font-family: ui-monospace, monospace; font-size: .9em;}
.ll-transcript {list-style: none; padding: 0; margin: 0; font-size: .95em;}
.ll-transcript li {padding: 4px 8px; border-radius: 6px; opacity: .7;}
.ll-transcript li.ll-current {background: rgba(99,102,241,.15); opacity: 1; font-weight: 500;}
.ll-at {font-family: ui-monospace, monospace; font-size: .85em; opacity: .7; margin-right: 6px;}
.ll-snippet {margin: 0; padding: 8px 12px; border-left: 3px solid #6366f1; background: rgba(99,102,241,.07);}
.ll-hint, .ll-count {opacity: .75; padding: 6px 2px;}
.ll-note {opacity: .8; font-size: .9em;}
.ll-empty {padding: 36px 20px; text-align: center; border: 2px dashed rgba(100,116,139,.4); border-radius: 12px;}
.ll-empty-title {font-size: 1.2em; font-weight: 600; margin-bottom: 6px;}
.ll-error {padding: 10px 14px; border-radius: 8px; background: rgba(220,38,38,.12); color: #b91c1c;}
.ll-progress {padding: 6px 0;}
.ll-bar {height: 12px; border-radius: 6px; background: rgba(100,116,139,.25); overflow: hidden; margin-bottom: 6px;}
.ll-bar > div {height: 100%; background: linear-gradient(90deg, #6366f1, #22c55e); transition: width .4s;}
.ll-done-warn .ll-bar > div {background: linear-gradient(90deg, #6366f1, #f59e0b);}
.ll-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 10px;}
.ll-card {padding: 10px 12px; border-radius: 10px; border: 1px solid rgba(100,116,139,.3);}
.ll-card-k {font-size: .8em; text-transform: uppercase; letter-spacing: .04em; opacity: .65;}
.ll-card-v {font-size: .98em; margin-top: 2px; word-break: break-word;}
.ll-heading {font-weight: 600; font-size: .95em; opacity: .8; margin: 2px 0 -6px 2px;}
.ll-people {font-size: .95em; margin-top: 2px;}
/* side-by-side columns keep their share of the row whatever they hold (no jump after the first answer) */
.ll-split > .ll-main, .ll-split > .ll-side {flex-basis: 0 !important; min-width: min(300px, 100%);}
/* a text box and its button: the box takes the room, the button its own width */
.ll-ask-row {flex-wrap: nowrap !important; align-items: stretch;}
.ll-ask-row textarea::placeholder, .ll-ask-row input::placeholder {white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis;}
/* gallery captions: the whole line over the tile's foot, wrapped, never cut to "photo · Sat 14 Ju..." */
.ll-gallery .caption-label {left: 0 !important; right: 0 !important; bottom: 0 !important; max-width: none !important;
  white-space: pre-line !important; overflow: hidden; text-overflow: clip !important; border-radius: 0 !important;
  border: 0 !important; padding: 4px 6px !important; font-size: 11.5px !important; line-height: 1.3;
  background: rgba(15, 23, 42, .72) !important; color: #f8fafc !important; opacity: 1 !important;
  max-height: 62%; overflow-wrap: anywhere;}
.ll-gallery .grid-wrap {padding-top: 4px !important; height: auto !important; max-height: 760px;
  min-height: 0 !important;}
/* as many tiles a row as fit (about 150 px each), so a narrow window keeps them whole */
.ll-gallery .grid-container {grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)) !important;
  grid-template-rows: none !important; grid-auto-rows: auto !important;}
#ll-people .grid-container, #ll-sessions .grid-container {grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)) !important;}
/* a gallery with nothing in it (nothing found, nothing selected yet) takes no room: no blank box */
.ll-split > .ll-main:has(.ll-gallery):not(:has(.ll-gallery img)) {display: none !important;}
/* a narrow window: the viewer goes under its gallery instead of squeezing both */
@media (max-width: 1100px) {
  .ll-split {flex-direction: column !important;}
  .ll-split > .ll-main, .ll-split > .ll-side {flex-basis: auto !important; width: 100% !important;}
}
/* the date boxes keep their calendar button in view */
#ll-from .timebox, #ll-to .timebox {min-width: 0;}
#ll-from input, #ll-to input {min-width: 0; width: 100%;}
#ll-warm {text-align: right; align-self: center;}
.ll-warm {font-size: .9em; padding: 2px 8px; border-radius: 999px;}
.ll-warm-loading {background: rgba(245, 158, 11, .15);}
.ll-warm-ready {background: rgba(34, 197, 94, .12);}
.ll-warm-error {background: rgba(220, 38, 38, .12);}
/* the models table: words break between words ("110 MB", not "siz e" / "110 M B") */
#ll-models table {width: 100%; table-layout: auto;}
#ll-models td, #ll-models th {word-break: normal !important; overflow-wrap: normal !important; hyphens: none;}
#ll-models td:nth-child(4), #ll-models th:nth-child(4) {white-space: nowrap;}
/* a model's name breaks after its hyphens only ("composite-" / "caption", not "compos ite-captio n") */
#ll-models td:nth-child(2) code {overflow-wrap: normal; word-break: normal; white-space: normal;}
"""

# the machine's own fonts: the theme's default (Google Fonts) would be fetched from the network on
# every page load, and nothing leaves this machine
SANS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "DejaVu Sans", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "DejaVu Sans Mono", "monospace"]
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="emerald", neutral_hue="slate", font=SANS, font_mono=MONO)

__all__ = ["CSS", "MONO", "SANS", "THEME"]
