"""The committed sample day (sample_media/) is complete and carries the metadata ingest relies on.

Fast and model-free: it reads files and metadata only. The content itself (what the narration
says, what the menu reads) was checked with Whisper tiny.en and RapidOCR when the files were
built; SOURCES.md records it.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"
SCRIPT = ROOT / "scripts" / "make_sample_media.py"

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 36867, 36881


def _load_script():
    spec = importlib.util.spec_from_file_location("make_sample_media", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the file executes
    spec.loader.exec_module(mod)
    return mod


SCRIPT_MOD = _load_script()
FILES = SCRIPT_MOD.FILES


def _by_kind(kind: str) -> list:
    return [f for f in FILES if f.kind == kind]


def _gps_degrees(dms, ref: str) -> float:
    d, m, s = (float(x) for x in dms)
    return (d + m / 60 + s / 3600) * (-1 if ref in ("S", "W") else 1)


def test_every_file_listed_exists_and_sources_names_it():
    sources = (SAMPLE / "SOURCES.md").read_text(encoding="utf-8")
    for f in FILES:
        assert (SAMPLE / f.name).is_file(), f"{f.name} missing: run `python scripts/make_sample_media.py`"
        assert f"`{f.name}`" in sources
    assert "Hard cut at" in sources
    kinds = {f.kind for f in FILES}
    assert kinds == {"photo", "video", "audio"}
    assert 4 <= len({f.source for f in _by_kind("photo")}) and len(_by_kind("photo")) >= 5


def test_total_size_is_small():
    total = sum(p.stat().st_size for p in SAMPLE.iterdir() if p.is_file())
    assert total < 15_000_000, f"sample_media/ is {total / 1e6:.1f} MB; keep it under 15 MB"


@pytest.mark.parametrize("spec", _by_kind("photo"), ids=lambda f: f.name)
def test_photo_exif_time_and_gps(spec):
    with Image.open(SAMPLE / spec.name) as im:
        assert im.format == "JPEG"
        exif = im.getexif()
    sub, gps = exif.get_ifd(EXIF_IFD), exif.get_ifd(GPS_IFD)
    assert exif.get(271) == "Lifelog" and exif.get(272) == "Sample Phone 1"  # Make, Model
    taken = datetime.strptime(sub[DATETIME_ORIGINAL], "%Y:%m:%d %H:%M:%S")
    assert sub[OFFSET_TIME_ORIGINAL] == "+01:00"
    assert taken.replace(tzinfo=timezone(timedelta(hours=1))) == spec.taken
    lat = _gps_degrees(gps[2], gps[1])
    lon = _gps_degrees(gps[4], gps[3])
    assert lat == pytest.approx(spec.place.lat, abs=1e-4)
    assert lon == pytest.approx(spec.place.lon, abs=1e-4)
    assert 38.6 < lat < 38.8 and -9.5 < lon < -9.0  # Lisbon and Cascais


def test_burst_is_three_near_duplicates_one_second_apart():
    import numpy as np

    burst = [f for f in _by_kind("photo") if f.taken.hour == 8]
    assert len(burst) == 3
    assert [(b.taken - burst[0].taken).total_seconds() for b in burst] == [0, 1, 2]
    coffee = next(f for f in _by_kind("photo") if "coffee" in f.shows)

    def thumb(name: str) -> np.ndarray:
        return np.asarray(Image.open(SAMPLE / name).convert("L").resize((32, 32)), dtype=float).ravel()

    assert len({(SAMPLE / b.name).read_bytes() for b in burst}) == 3  # not byte copies...
    first = thumb(burst[0].name)
    for other in burst[1:]:
        assert np.corrcoef(first, thumb(other.name))[0, 1] > 0.9  # ...but the same scene
    assert abs(np.corrcoef(first, thumb(coffee.name))[0, 1]) < 0.5


def _location(meta: dict[str, str]) -> tuple[float, float]:
    m = re.fullmatch(r"([+-]\d+\.\d+)([+-]\d+\.\d+)/", meta["location"])
    assert m, meta["location"]
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("spec", _by_kind("video") + _by_kind("audio"), ids=lambda f: f.name)
def test_video_and_voice_notes_carry_time_place_and_decode(spec):
    with av.open(str(SAMPLE / spec.name)) as c:
        created = datetime.fromisoformat(c.metadata["creation_time"].replace("Z", "+00:00"))
        assert created == spec.taken
        lat, lon = _location(c.metadata)
        assert (lat, lon) == pytest.approx((spec.place.lat, spec.place.lon), abs=1e-4)
        kinds = {s.type for s in c.streams}
        assert "audio" in kinds
        assert ("video" in kinds) == (spec.kind == "video")
        seconds = c.duration / av.time_base
        assert 8 <= seconds <= 20
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        decoded = sum(frame.samples for frame in c.decode(audio))
        assert decoded / audio.codec_context.sample_rate == pytest.approx(seconds, abs=0.3)


def test_video_is_h264_with_a_hard_cut_where_sources_says():
    import numpy as np

    spec = _by_kind("video")[0]
    cut_frame = round(SCRIPT_MOD.VIDEO_SCENE_1_S * SCRIPT_MOD.VIDEO_FPS)
    with av.open(str(SAMPLE / spec.name)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"
        assert (v.codec_context.width, v.codec_context.height) == SCRIPT_MOD.VIDEO_SIZE
        prev, diffs = None, {}
        for i, frame in enumerate(c.decode(v)):
            if i > cut_frame + 5:
                break
            a = frame.to_ndarray(format="rgb24").astype(np.int16)
            if prev is not None:
                diffs[i] = float(np.abs(a - prev).mean())
            prev = a
    assert max(diffs, key=diffs.get) == cut_frame


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or not SCRIPT_MOD.FONT_DIR.exists(),
    reason="rebuilding needs espeak-ng and DejaVu fonts (apt-get install espeak-ng fonts-dejavu-core)",
)
def test_rebuild_is_byte_identical(tmp_path):
    SCRIPT_MOD.build(tmp_path / "a")
    SCRIPT_MOD.build(tmp_path / "b")
    for f in [*(x.name for x in FILES), "SOURCES.md"]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
