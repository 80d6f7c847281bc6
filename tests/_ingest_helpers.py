"""Shared helpers for the ingestion tests: where the real media is, an in-memory Sink, bad files."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from ingest.records import FileResult, MediaRecord

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"real test media not found at {MEDIA} (../shared/media)")


class MemorySink:
    """A Sink in a dict, for tests (the real one is lifelog.store.Store)."""

    def __init__(self) -> None:
        self.results: dict[str, FileResult] = {}
        self.failures: list[MediaRecord] = []
        self.moves: list[tuple[str, str]] = []

    def known(self, media_id: str) -> MediaRecord | None:
        r = self.results.get(media_id)
        return r.media if r else None

    def write(self, result: FileResult) -> None:
        self.results[result.media.media_id] = result

    def write_failure(self, media: MediaRecord) -> None:
        self.failures.append(media)

    def note_path(self, media_id: str, path: str) -> None:
        self.moves.append((media_id, path))
        self.results[media_id].media.path = path


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def bomb_png(path: Path, width: int = 100_000, height: int = 100_000) -> None:
    """A valid PNG header declaring width x height, with almost no data: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def composed_clip(dest: Path, first_s: float = 4.0) -> Path:
    """cockatoo (first `first_s` s) then the coffee pour, both 640x360 at 25 fps: a hard cut at first_s."""
    a = MEDIA / "video" / "cockatoo_closeup_imageio.mp4"
    b = MEDIA / "video" / "pour_coffee_blue_mug_sam2.mp4"
    ffmpeg("-t", str(first_s), "-i", str(a), "-i", str(b), "-filter_complex",
           "[0:v]scale=640:360,setsar=1,fps=25[v0];[1:v]scale=640:360,setsar=1,fps=25[v1];[v0][v1]concat=n=2:v=1:a=0[v]",
           "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(dest))
    return dest


def make_video(path: Path, width: int = 64, height: int = 48, frames: int = 25, fps: int = 25,
               metadata: dict[str, str] | None = None) -> Path:
    """A small H.264 video made with PyAV: a grey ramp over a fixed top half, `metadata` on the container."""
    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        for k, v in (metadata or {}).items():
            c.metadata[k] = v
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            img = np.full((height, width, 3), (40 + i * 20) % 255, np.uint8)
            img[: height // 2] = (200, 120, 40)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def exif_jpeg(path: Path, taken: bytes | None = None, *, exif: dict | None = None, gps: dict | None = None,
              color: tuple[int, int, int] = (120, 30, 200)) -> Path:
    """A small JPEG with piexif tags: DateTimeOriginal `taken`, more Exif-IFD tags, GPS-IFD tags."""
    import piexif
    from PIL import Image

    tags = {"0th": {}, "Exif": dict(exif or {}), "GPS": dict(gps or {})}
    if taken is not None:
        tags["Exif"][piexif.ExifIFD.DateTimeOriginal] = taken
    Image.new("RGB", (64, 48), color).save(path, exif=piexif.dump(tags))
    return path
