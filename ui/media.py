"""The only files the browser can fetch: copies of library media, staged by media id.

The app never hands the browser a path it was given. A clip, photo or thumbnail is looked up by
its media id through `Memory.media_file` / `Memory.thumbnail_path` (which refuse anything not in
the library), then hard-linked (or copied, across file systems) into one staging folder; gradio is
allowed to serve that folder and nothing else. Files a browser cannot play (AVI, HEVC, HEIC, AMR)
are converted once into a format it can.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

import lifelog

# containers and codecs every desktop browser plays without help
PLAYABLE_VIDEO = {".mp4", ".m4v", ".webm"}
PLAYABLE_VIDEO_CODECS = {"", "h264", "avc1", "vp8", "vp9", "av1"}
PLAYABLE_AUDIO = {".wav", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm"}
SHOWABLE_IMAGE = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# long side (px) of a photo opened large: sharp on a laptop screen, light to send
LARGE_PHOTO_PX = 2048
KIND_COLOURS = {"audio": ("#312e81", "#a5b4fc"), "video": ("#134e4a", "#5eead4"), "photo": ("#7c2d12", "#fdba74"),
                "mixed": ("#1e293b", "#cbd5e1")}
KIND_SYMBOLS = {"audio": "recording", "video": "video", "photo": "photo", "mixed": "day"}


def ffmpeg_exe() -> str:
    """A system ffmpeg, else the one inside the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:  # noqa: BLE001 - any failure means the same to the user
        raise RuntimeError("no ffmpeg found to convert this file for the browser: install ffmpeg "
                           "(apt-get install ffmpeg) or the imageio-ffmpeg package") from e


class MediaCache:
    """Stages library files for the browser under one folder, `root` (the app's only allowed path)."""

    def __init__(self, mem: lifelog.Memory, root: str | Path | None = None):
        self.mem = mem
        self.root = Path(root or tempfile.mkdtemp(prefix="lifelog-ui-")).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _link(self, src: Path, dest: Path) -> Path:
        if dest.is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        return dest

    def _convert(self, src: Path, dest: Path, args: list[str]) -> Path:
        if dest.is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name("part-" + dest.name)
        cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *args, str(tmp)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise RuntimeError(f"could not convert {src.name} for the browser: {done.stderr.strip()[-300:]}")
        os.replace(tmp, dest)
        return dest

    def media(self, media_id: str) -> Path:
        """A browser-playable copy of a library file. KeyError when the id is not in the library."""
        src = self.mem.media_file(media_id)  # the library's check: raises KeyError for anything else
        if not src.is_file():
            raise FileNotFoundError(f"{src} is in the library but no longer on disk: was it moved? "
                                    f"Add its new folder in the Library tab")
        record = self.mem.store.media(media_id)
        kind = record.kind if record else "photo"
        suffix = src.suffix.lower()
        folder = self.root / "media"
        with self._lock:
            if kind == "video":
                codec = (record.codec if record else "").lower()
                if suffix in PLAYABLE_VIDEO and codec in PLAYABLE_VIDEO_CODECS:
                    return self._link(src, folder / f"{media_id}{suffix}")
                return self._convert(src, folder / f"{media_id}.mp4", [
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
                    # even sizes for yuv420p
                    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:a", "aac", "-b:a", "128k",
                    "-movflags", "+faststart"])
            if kind == "audio":
                if suffix in PLAYABLE_AUDIO:
                    return self._link(src, folder / f"{media_id}{suffix}")
                return self._convert(src, folder / f"{media_id}.m4a", ["-vn", "-c:a", "aac", "-b:a", "128k"])
            dest = folder / f"{media_id}.jpg"
            if suffix in SHOWABLE_IMAGE:
                return self._link(src, folder / f"{media_id}{suffix}")
            if not dest.is_file():
                _open_image(src).save(dest, quality=90)
            return dest

    def thumbnail(self, path: str) -> Path | None:
        """Stage a thumbnail the store named (absolute inside the home, or relative to it)."""
        if not path:
            return None
        home = Path(self.mem.settings.home).resolve()
        p = Path(path)
        try:
            relative = str(p.resolve().relative_to(home)) if p.is_absolute() else path
        except ValueError:
            return None  # outside the home: never served
        found = self.mem.thumbnail_path(relative)
        if found is None:
            return None
        name = hashlib.blake2b(relative.encode(), digest_size=10).hexdigest() + found.suffix.lower()
        with self._lock:
            return self._link(found, self.root / "thumbs" / name)

    def placeholder(self, kind: str, label: str = "") -> Path:
        """A tile standing in for a thumbnail (recordings have no picture)."""
        key = hashlib.blake2b(f"{kind}|{label}".encode(), digest_size=8).hexdigest()
        dest = self.root / "tiles" / f"{key}.png"
        if dest.is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        bg, fg = KIND_COLOURS.get(kind, KIND_COLOURS["mixed"])
        img = Image.new("RGB", (400, 400), bg)  # square: galleries crop tiles to squares
        draw = ImageDraw.Draw(img)
        # a waveform-ish row of bars: recognisable at a glance as "sound"
        for i in range(28):
            h = 18 + int(90 * abs(((i * 37) % 23 - 11) / 11))
            x = 32 + i * 12
            draw.rounded_rectangle((x, 170 - h // 2, x + 6, 170 + h // 2), radius=3, fill=fg)
        try:
            from PIL import ImageFont

            font = ImageFont.load_default(size=30)
            small = ImageFont.load_default(size=22)
        except Exception:  # noqa: BLE001 - old Pillow: the bitmap font
            font = small = None
        draw.text((32, 262), KIND_SYMBOLS.get(kind, kind), fill=fg, font=font)
        if label:
            draw.text((32, 306), label[:28], fill="#f8fafc", font=small)
        img.save(dest)
        return dest


def _open_image(path: Path) -> Image.Image:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    img.thumbnail((LARGE_PHOTO_PX, LARGE_PHOTO_PX))
    return img
