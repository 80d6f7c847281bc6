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
"""

THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="emerald", neutral_hue="slate")

__all__ = ["CSS", "THEME"]
