"""Model-free ingestion tests: probe, hashes, discovery, shot boundaries, grouping (fast)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from ingest.batch import discover
from ingest.episodes import group_events, split_spans
from ingest.errors import IngestError
from ingest.frames import shot_boundaries
from ingest.hashing import file_hash, hamming, phash
from ingest.options import IngestOptions
from ingest.photo import decode_photo
from ingest.probe import probe
from ingest.records import EpisodeRecord, Source
from ingest.sessions import consolidate

from _ingest_helpers import MEDIA, bomb_png, needs_media

pytestmark = needs_media


def test_wisteria_time_and_madrid_gps():
    m = probe(MEDIA / "photos" / "wisteria_madrid_gps_iphone6.jpg")
    assert m.kind == "photo" and m.time_source == "exif" and m.device == "Apple iPhone 6"
    # no OffsetTime tag: the offset comes from the GPS clock (18:12:22 UTC) beside the local 20:12:23
    assert m.utc_offset_min == 120
    local = m.captured_at.astimezone(timezone(timedelta(minutes=m.utc_offset_min)))
    assert local.replace(microsecond=0, tzinfo=None) == datetime(2015, 4, 10, 20, 12, 23)
    assert m.lat == pytest.approx(40.447, abs=1e-3) and m.lon == pytest.approx(-3.725, abs=1e-3)
    assert (m.width, m.height) == (3264, 2448)
    assert m.media_id == file_hash(MEDIA / "photos" / "wisteria_madrid_gps_iphone6.jpg") and len(m.media_id) == 32


def test_heic_date_and_decode():
    path = MEDIA / "photos" / "wildflower_gps_iphone11.HEIC"
    m = probe(path)
    assert m.kind == "photo" and m.codec == "heif" and m.utc_offset_min == -300
    assert m.captured_at == datetime(2021, 4, 11, 20, 47, 53, 54000, tzinfo=timezone.utc)  # 15:47:53 -05:00
    assert m.lat == pytest.approx(39.051, abs=1e-3) and m.lon == pytest.approx(-94.289, abs=1e-3)
    rgb = decode_photo(path)
    assert rgb.shape == (3313, 2566, 3) and rgb.std() > 10  # real pixels, not a blank


def test_video_probe_quicktime_time_and_gopro_gps():
    m = probe(MEDIA / "video" / "gopro_drone_beach_coast_gps_karma.mp4")
    assert m.kind == "video" and m.codec == "h264" and m.has_audio
    assert m.captured_at == datetime(2017, 4, 17, 19, 27, 57, tzinfo=timezone.utc) and m.time_source == "quicktime"
    assert m.utc_offset_min == -7 * 60  # no offset in the file: the zone at its GPS position (PDT in April)
    assert m.lat == pytest.approx(33.1254, abs=1e-3) and m.lon == pytest.approx(-117.331, abs=1e-3)  # GPMF
    assert m.duration_s == pytest.approx(13.0, abs=0.1)
    silent = probe(MEDIA / "video" / "kids_jumping_on_bed_sam2.mp4")
    assert not silent.has_audio and silent.time_source == "file"  # no creation time: flagged file time


def test_audio_probe():
    m = probe(MEDIA / "audio" / "one_two_three_speechrecognition.wav")
    assert m.kind == "audio" and m.duration_s == pytest.approx(2.74, abs=0.01) and m.codec == "pcm_s16le"


def test_rotation_from_display_matrix(tmp_path):
    from _ingest_helpers import ffmpeg

    dest = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(MEDIA / "video" / "ego4d_cooking_stir_pan_lavila.mp4"), "-c", "copy", str(dest))
    # 90 counter-clockwise in the display matrix = 270 clockwise to show upright
    assert probe(dest).rotation == 270


def test_content_decides_kind(tmp_path):
    fake = tmp_path / "holiday.jpg"
    shutil.copy(MEDIA / "video" / "ego4d_cooking_stir_pan_lavila.mp4", fake)
    assert probe(fake).kind == "video"


@pytest.mark.parametrize("make,expect", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("hello, this is not a photo\n" * 20), "not a photo, video or recording"),
    (lambda p: bomb_png(p), "decompression bomb"),
])
def test_probe_bad_input(tmp_path, make, expect):
    p = tmp_path / "bad.jpg"
    make(p)
    with pytest.raises(IngestError, match=expect):
        probe(p)


def test_truncated_and_video_without_picture(tmp_path):
    src = (MEDIA / "video" / "pour_coffee_blue_mug_sam2.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src[: len(src) * 3 // 10])
    with pytest.raises(IngestError, match="truncated"):
        probe(cut)
    wav_as_mp4 = tmp_path / "sound.mp4"
    shutil.copy(MEDIA / "audio" / "one_two_three_speechrecognition.wav", wav_as_mp4)
    with pytest.raises(IngestError, match="no video stream"):
        probe(wav_as_mp4)


def test_broken_exif_keeps_the_photo(tmp_path):
    from PIL import Image

    p = tmp_path / "broken_exif.jpg"
    Image.open(MEDIA / "photos" / "coffee_cup_skimage.png").convert("RGB").save(p, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x13" * 40)
    m = probe(p)  # warns, falls back to the file time
    assert m.kind == "photo" and m.time_source == "file" and decode_photo(p).shape == (400, 600, 3)


def test_phash_groups_near_duplicates():
    rgb = decode_photo(MEDIA / "photos" / "coffee_cup_skimage.png")
    brighter = np.clip(rgb.astype(int) + 12, 0, 255).astype(np.uint8)
    cat = decode_photo(MEDIA / "photos" / "cat_chelsea_skimage.png")
    assert hamming(phash(rgb), phash(brighter)) <= 4
    assert hamming(phash(rgb), phash(cat)) > 20


def test_discover_odd_names(tmp_path):
    odd = tmp_path / os.fsdecode(b"caf\xe9 and spaces")
    odd.mkdir()
    (odd / os.fsdecode(b"r\xe9sum\xe9 photo.PNG")).write_bytes(b"x")
    (odd / "notes.txt").write_text("skip me")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "a.jpg").write_bytes(b"x")
    (tmp_path / ".dot.jpg").write_bytes(b"x")
    found = discover([tmp_path])
    assert [os.fsencode(p.name) for p in found] == [b"r\xe9sum\xe9 photo.PNG"]
    assert found[0].exists()


def test_shot_boundaries_and_spans():
    times = [float(t) for t in range(10)]
    changes = [0.0, 0.05, 0.04, 0.06, 0.8, 0.05, 0.03, 0.04, 0.05, 0.05]
    assert shot_boundaries(times, changes, 0.45) == [3.5]
    # steady fast motion (every change high) is not a cut
    assert shot_boundaries(times, [0.0] + [0.5] * 9, 0.45) == []
    edges = [b for _, b in split_spans(0.0, 70.0, [3.5], 30.0)]
    assert edges == pytest.approx([3.5, 25.667, 47.833, 70.0], abs=1e-3)
    assert group_events([(0, 10), (10, 20), (20, 30)], breaks=[False, True, False], max_len=100) == [[0], [1, 2]]


def _photo(n: int, minutes: float, lat: float, ph: str) -> EpisodeRecord:
    t = datetime(2024, 5, 1, 10, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return EpisodeRecord(episode_id=f"m{n}:segment:0", scale="segment", kind="photo", start=t, end=t + timedelta(seconds=1),
                         media_id=f"m{n}", sources=[Source(f"m{n}", 0, 0)], tags=["espresso"], lat=lat, lon=-3.7, phash=ph)


def test_consolidate_sessions_bursts_days():
    base = "f0f0f0f0f0f0f0f0"
    photos = [
        _photo(0, 0, 40.45, base), _photo(1, 0.2, 40.45, "f0f0f0f0f0f0f0f1"),  # a burst: near-duplicates
        _photo(2, 30, 40.45, "0f0f0f0f0f0f0f0f"),  # same outing, other picture
        _photo(3, 40, 41.50, base),  # 100 km away: another session
        _photo(4, 60 * 20, 41.50, base),  # the next local day
    ]
    video = EpisodeRecord(episode_id="v:session:0", scale="session", kind="video", media_id="v",
                          start=photos[0].start, end=photos[0].start + timedelta(minutes=5))
    out = consolidate(photos + [video], timezone(timedelta(hours=2)), IngestOptions(home=Path("."), cache_dir=Path(".")))
    by_id = {e.episode_id: e for e in out}
    assert photos[1].duplicate_of == "m0:segment:0" and not photos[0].duplicate_of and not photos[2].duplicate_of
    assert photos[0].parent_id == photos[2].parent_id == "photos:m0" != photos[3].parent_id
    days = sorted(e.episode_id for e in out if e.scale == "day")
    assert days == ["day:2024-05-01", "day:2024-05-02"]
    assert by_id["photos:m0"].parent_id == "day:2024-05-01" and by_id["v:session:0"].parent_id == "day:2024-05-01"
    assert by_id["day:2024-05-01"].kind == "mixed" and "near-duplicates" in by_id["photos:m0"].caption
