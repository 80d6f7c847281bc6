"""Tiles for evidence that has no picture of its own: a recording's real waveform (the cited part lit),
a day, a person without a face crop. Each says what it is in words too, so two tiles never look alike
only because they stand for the same kind of thing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KIND_COLOURS = {"audio": ("#312e81", "#a5b4fc"), "video": ("#134e4a", "#5eead4"), "photo": ("#7c2d12", "#fdba74"),
                "mixed": ("#1e293b", "#cbd5e1"), "day": ("#1e293b", "#cbd5e1"), "person": ("#3f3f46", "#e4e4e7")}
KIND_WORDS = {"audio": "recording", "video": "video", "photo": "photo", "mixed": "day", "day": "day",
              "person": "person"}
BARS = 40
SIZE = 400  # square: galleries crop tiles to squares
# samples per second decoded for a waveform: enough for 40 bars of any recording, cheap for an hour
WAVE_RATE = 2000


def levels(src: Path, ffmpeg: str, bars: int = BARS, timeout: float = 120) -> list[float]:
    """The loudness of `bars` equal parts of a recording, 0..1 (its loudest part is 1); [] when it cannot
    be decoded (the tile then shows no waveform rather than a made-up one)."""
    cmd = [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(src), "-vn", "-ac", "1", "-ar", str(WAVE_RATE),
           "-f", "s16le", "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return []
    samples = np.frombuffer(done.stdout, dtype="<i2").astype(np.float32)
    if done.returncode != 0 or samples.size < bars:
        return []
    parts = np.array_split(np.abs(samples), bars)
    rms = np.array([float(np.sqrt(np.mean(p ** 2))) if p.size else 0.0 for p in parts])
    top = rms.max()
    return [float(v) for v in (rms / top if top > 0 else rms)]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # old Pillow: the bitmap font
        return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int, lines: int) -> list[str]:
    """`text` in at most `lines` lines of `width` pixels; a name without spaces is cut anywhere."""
    out, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            out.append(line)
            line = ch
            if len(out) == lines:
                out[-1] = out[-1][:-1] + "\u2026"
                return out
        else:
            line += ch
    return out + [line] if line else out


def draw(dest: Path, kind: str, title: str, detail: str = "", wave: Sequence[float] = (),
         lit: tuple[float, float] | None = None) -> Path:
    """A tile: the kind in words, a waveform (the part `lit`, as fractions of the length, brighter),
    the title (a file name) on two lines and a detail line (a length, a date)."""
    bg, fg = KIND_COLOURS.get(kind, KIND_COLOURS["mixed"])
    img = Image.new("RGB", (SIZE, SIZE), bg)
    d = ImageDraw.Draw(img)
    d.text((28, 24), KIND_WORDS.get(kind, kind), fill=fg, font=_font(30))
    if wave:
        step = (SIZE - 56) / len(wave)
        for i, v in enumerate(wave):
            h = 6 + int(120 * v)
            x = 28 + i * step
            on = lit is None or lit[0] <= (i + 0.5) / len(wave) <= lit[1] or lit[1] <= lit[0]
            colour = fg if on else "#6b7280"
            d.rounded_rectangle((x, 170 - h // 2, x + max(step - 4, 2), 170 + h // 2), radius=2, fill=colour)
    font = _font(24)
    y = 262
    for line in _wrap(d, title, font, SIZE - 56, 2):
        d.text((28, y), line, fill="#f8fafc", font=font)
        y += 32
    if detail:
        d.text((28, max(y + 6, 336)), detail[:40], fill=fg, font=_font(22))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name("part-" + dest.name)
    img.save(tmp, format="PNG")
    tmp.replace(dest)
    return dest


__all__ = ["BARS", "KIND_COLOURS", "draw", "levels"]
