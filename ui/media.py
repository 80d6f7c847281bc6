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
import time
from pathlib import Path

from PIL import Image, ImageOps

import lifelog
from lifelog.lock import process_alive
from ui import tiles

# containers and codecs every desktop browser plays without help
PLAYABLE_VIDEO = {".mp4", ".m4v", ".webm"}
PLAYABLE_VIDEO_CODECS = {"", "h264", "avc1", "vp8", "vp9", "av1"}
PLAYABLE_AUDIO = {".wav", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm"}
SHOWABLE_IMAGE = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# long side (px) of a photo opened large: sharp on a laptop screen, light to send
LARGE_PHOTO_PX = 2048


STAGING_PREFIX = "lifelog-ui-"
PID_FILE = ".pid"  # the app process that owns a staging folder
LEGACY_LAYOUT = {"media", "thumbs", "tiles", "examples"}
LEGACY_AGE_S = 24 * 3600


def sweep_stale(tmp: str | Path | None = None) -> list[Path]:
    """Remove staging folders whose app is gone (killed before it could clean up); returns them."""
    gone = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(STAGING_PREFIX + "*"):
        try:
            pid = int((folder / PID_FILE).read_text().strip())
        except ValueError:
            continue
        except OSError:
            # an app from before staging folders named their owner: ours only by its layout, and
            # old enough that no app of that version still runs on it
            legacy = folder.is_dir() and {c.name for c in folder.iterdir()} <= LEGACY_LAYOUT
            if legacy and time.time() - folder.stat().st_mtime > LEGACY_AGE_S:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder)
            continue
        if pid != os.getpid() and not process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


def ffmpeg_exe() -> str:
    """A system ffmpeg, else the one inside the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:
        raise RuntimeError("no ffmpeg found to convert this file for the browser: install ffmpeg "
                           "(apt-get install ffmpeg) or the imageio-ffmpeg package") from e


class MediaCache:
    """Stages library files for the browser under one folder, `root` (the app's only allowed path)."""

    def __init__(self, mem: lifelog.Memory, root: str | Path | None = None):
        self.mem = mem
        # a folder of our own in the system's temp dir holds linked copies of private media: it goes
        # when the app stops (`close`), and one left by a killed app goes at the next start
        self.owned = root is None
        if self.owned:
            sweep_stale()
        self.root = Path(root or tempfile.mkdtemp(prefix=STAGING_PREFIX)).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        if self.owned:
            (self.root / PID_FILE).write_text(str(os.getpid()))
        self._lock = threading.Lock()

    def close(self) -> None:
        """Remove the staging folder, when this cache made it (a folder the caller gave stays)."""
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

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

    def placeholder(self, kind: str, label: str = "", detail: str = "") -> Path:
        """A tile standing in for a picture: the kind, a name and a detail line (a day, a person)."""
        key = hashlib.blake2b(f"{kind}|{label}|{detail}".encode(), digest_size=8).hexdigest()
        dest = self.root / "tiles" / f"{key}.png"
        with self._lock:
            return dest if dest.is_file() else tiles.draw(dest, kind, label, detail)

    def recording_tile(self, media_id: str, start_s: float = 0.0, end_s: float = 0.0, detail: str = "") -> Path:
        """A recording's tile: its own waveform with the cited part [start_s, end_s] lit, its file name
        and `detail`; decoded once per file (the levels are kept beside the tiles)."""
        record = self.mem.store.media(media_id)
        if record is None:
            raise KeyError(f"no media {media_id!r} in the library")
        name = Path(record.path).name
        length = float(record.duration_s or 0)
        lit = (start_s / length, end_s / length) if length > 0 and end_s > start_s else None
        key = hashlib.blake2b(f"{media_id}|{lit}|{detail}".encode(), digest_size=8).hexdigest()
        dest = self.root / "tiles" / f"rec-{key}.png"
        if dest.is_file():
            return dest
        wave_file = self.root / "tiles" / f"{media_id}.levels"
        with self._lock:
            if wave_file.is_file():
                wave = [float(v) for v in wave_file.read_text().split()]
            else:
                try:
                    src = self.mem.media_file(media_id)
                    wave = tiles.levels(src, ffmpeg_exe()) if src.is_file() else []
                except (KeyError, RuntimeError):
                    wave = []
                wave_file.parent.mkdir(parents=True, exist_ok=True)
                wave_file.write_text(" ".join(f"{v:.3f}" for v in wave))
            return tiles.draw(dest, "audio", name, detail, wave, lit)

    def example(self, src: Path) -> Path:
        """An example picture the user dropped (a HEIC too), as a JPEG the page can show beside it."""
        key = hashlib.blake2b(str(src).encode(), digest_size=10).hexdigest()
        dest = self.root / "examples" / f"{key}.jpg"
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            img = _open_image(src)
            img.thumbnail((640, 640))
            img.save(dest, quality=85)
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
