"""Bad input gets a clear one-line reason and loses nothing; a batch goes on past any bad file.

One test per finding of a tester's run on a fresh clone (each of them failed before its fix), then
a camera roll of bad inputs through the real CLI in a subprocess. Media is made here (PIL, piexif,
PyAV, links, a FIFO). Model-free and fast, except the CLI run (`slow`). The bad inputs tested
elsewhere (empty, text as .jpg, truncated mp4, corrupt jpg, decompression bomb, video without a
picture, broken EXIF, odd names, really-a-video .jpg) are in tests/test_ingest_probe.py and
tests/test_ingest_media.py.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.batch import ingest_paths
from ingest.hashing import file_hash
from ingest.options import IngestOptions, local_time
from ingest.probe import probe
from ingest.records import FileResult

from _ingest_helpers import MemorySink, bomb_png, exif_jpeg, make_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_media"
PHOTO_A, PHOTO_B, PHOTO_C = (SAMPLE / f"IMG_20250614_08120{n}.jpg" for n in (5, 6, 7))
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads files whatever their mode


def _opts(tmp_path: Path) -> IngestOptions:
    return IngestOptions(home=tmp_path / "home", cache_dir=tmp_path / "models", workers=1)


def _no_models(path, opts, *, media, model_set):
    """ingest_file without the models: the batch's own handling is what these tests look at."""
    return FileResult(media=media, episodes=[])


def _text(path: str | Path) -> str:
    """What a record holds for a path: its bytes as UTF-8, an invalid byte as "\\xNN"."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _names(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {Path(p).name: reason for p, reason in pairs}


class ArrowSink(MemorySink):
    """A MemorySink that, like the LanceDB store, puts each record's text through Arrow (strict UTF-8)."""

    @staticmethod
    def _arrow(media) -> None:
        pa.array([media.path, media.error, media.device, media.codec, media.time_source], pa.string())

    def write(self, result: FileResult) -> None:
        self._arrow(result.media)
        super().write(result)

    def write_failure(self, media) -> None:
        self._arrow(media)
        super().write_failure(media)


def _deny(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `path` unreadable: its mode where that counts, else (as root) the OS's answer faked."""
    if not AS_ROOT:
        path.chmod(0)
        return
    target = os.fspath(path)
    denied = PermissionError(errno.EACCES, "Permission denied", target)
    if path.is_dir():
        real_scandir = os.scandir

        def scandir(p="."):
            if os.fspath(p) == target:
                raise denied
            return real_scandir(p)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        import builtins

        real_open = builtins.open

        def opener(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) == target:
                raise denied
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", opener)


# --- 1. a name that is not UTF-8 ---------------------------------------------------------------

def test_non_utf8_names_are_stored_as_text_and_the_batch_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr("ingest.work.ingest_file", _no_models)
    roll = tmp_path / "roll"
    roll.mkdir()
    good = roll / os.fsdecode(b"caf\xe9 photo.jpg")
    shutil.copy(PHOTO_A, good)
    bad = roll / os.fsdecode(b"not a photo \xff.jpg")
    bad.write_text("hello, not a photo\n" * 40)
    shutil.copy(PHOTO_B, roll / "z after.jpg")

    sink = ArrowSink()
    report = ingest_paths([roll], sink, _opts(tmp_path))
    assert report.ingested == 2, report.failed
    assert list(_names(report.failed)) == ["not a photo \\xff.jpg"]
    stored = {r.media.path for r in sink.results.values()}
    assert _text(good) in stored and _text(good).endswith("caf\\xe9 photo.jpg")
    (failure,) = sink.failures
    assert failure.path == _text(bad) and failure.error.startswith(_text(bad)) and "text" in failure.error

    from ingest.options import path_text, text_path

    assert text_path(path_text(good)) == good and text_path(path_text(good)).is_file()  # back to the file


def test_non_utf8_video_name_is_decoded_not_crashed(tmp_path):
    # OpenCV's VideoCapture crashed the whole process (SIGSEGV) on such a name, after decord refused it
    video = make_video(tmp_path / os.fsdecode(b"clip \xe9.mp4"), 16, 64, frames=30)
    code = ("import sys; from pathlib import Path; from ingest.frames import FrameReader; "
            "r = FrameReader(Path(sys.argv[1]), 1); print(len(r.get([0, r.n - 1])))")
    out = subprocess.run([sys.executable, "-c", code, os.fsencode(video)], cwd=ROOT, capture_output=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split()[-1] == b"2", (out.returncode, out.stderr[-2000:])


# --- 2. dates a datetime cannot take further ------------------------------------------------------

def _plausible(dt: datetime | None) -> bool:
    return dt is not None and datetime(1900, 1, 1, tzinfo=timezone.utc) <= dt <= datetime.now(timezone.utc) + timedelta(days=1)


def _downstream_arithmetic(m) -> None:
    """What consolidation, days and display do with a capture time: none of it may overflow."""
    for dt in (m.captured_at, m.captured_at + timedelta(days=2), m.captured_at - timedelta(days=1)):
        local_time(dt, m.utc_offset_min).date()
        dt.astimezone()


@pytest.mark.parametrize("taken,tags,expect", [
    (b"9999:12:31 23:59:59", {}, "file:exif_out_of_range"),
    (b"0000:00:00 00:00:00", {}, "file:exif_out_of_range"),
    (b"0001:01:01 00:00:00", {"offset": b"+12:00"}, "file:exif_out_of_range"),
    (b"1850:06:14 08:12:05", {}, "file:exif_out_of_range"),
    ((datetime.now() + timedelta(days=3)).strftime("%Y:%m:%d %H:%M:%S").encode(), {}, "file:exif_out_of_range"),
    (b"9999:12:31 23:00:00", {"offset": b"-12:00"}, "file:exif_out_of_range"),
    (b"9999:01:01 10:00:00", {"gps": b"2021:05:06"}, "gps:exif_out_of_range"),  # the GPS clock is next
    (b"2021:05:06 10:00:00", {"offset": b"+99:99"}, "exif"),  # no such offset: the date is kept, not the offset
])
def test_out_of_range_photo_dates_fall_back_to_the_next_source(tmp_path, taken, tags, expect):
    import piexif

    exif = {piexif.ExifIFD.OffsetTimeOriginal: tags["offset"]} if "offset" in tags else {}
    gps = {piexif.GPSIFD.GPSDateStamp: tags["gps"], piexif.GPSIFD.GPSTimeStamp: ((10, 1), (0, 1), (0, 1))} if "gps" in tags else {}
    m = probe(exif_jpeg(tmp_path / "dated.jpg", taken, exif=exif, gps=gps))
    assert _plausible(m.captured_at), m.captured_at
    assert m.time_source == expect
    if "gps" in tags:
        assert m.captured_at == datetime(2021, 5, 6, 10, 0, tzinfo=timezone.utc)
    assert m.utc_offset_min is None or abs(m.utc_offset_min) <= 14 * 60
    _downstream_arithmetic(m)


def test_out_of_range_video_date_and_file_time(tmp_path):
    ahead = (datetime.now(timezone.utc) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    m = probe(make_video(tmp_path / "ahead.mp4", metadata={"creation_time": ahead}))
    assert _plausible(m.captured_at) and m.time_source == "file:quicktime_out_of_range"
    _downstream_arithmetic(m)
    # the file's own time out of range too (a bad copy stamped 2400): the time it was ingested, said so
    photo = exif_jpeg(tmp_path / "stamped.jpg", b"9999:12:31 23:59:59")
    far = datetime(2400, 1, 1, tzinfo=timezone.utc).timestamp()
    os.utime(photo, (far, far))
    m = probe(photo)
    assert _plausible(m.captured_at) and m.time_source == "ingest:exif_out_of_range,file_out_of_range"
    _downstream_arithmetic(m)


# --- 3. a file rewritten while it is read --------------------------------------------------------

def test_file_rewritten_while_read_is_read_again_then_failed(tmp_path, monkeypatch):
    live = tmp_path / "roll" / "live.jpg"
    live.parent.mkdir()
    rewrites: list[bytes] = []

    def rewriting(path, opts, *, media, model_set):  # the camera app saves over it mid-read
        if rewrites:
            path.write_bytes(rewrites.pop(0))
        return FileResult(media=media, episodes=[])

    monkeypatch.setattr("ingest.work.ingest_file", rewriting)
    # rewritten once: read again, stored with the hash of what is on disk now
    shutil.copy(PHOTO_A, live)
    rewrites[:] = [PHOTO_B.read_bytes()]
    sink = MemorySink()
    report = ingest_paths([live.parent], sink, _opts(tmp_path))
    assert report.ingested == 1 and not report.failed, report.failed
    assert list(sink.results) == [file_hash(live)] == [file_hash(PHOTO_B)]
    # rewritten on every read: failed with the reason, nothing stored
    shutil.copy(PHOTO_A, live)
    rewrites[:] = [PHOTO_B.read_bytes(), PHOTO_C.read_bytes()]
    sink = MemorySink()
    report = ingest_paths([live.parent], sink, _opts(tmp_path))
    assert report.ingested == 0 and not sink.results
    assert "the file changed while it was read" in _names(report.failed)["live.jpg"]
    assert [m.status for m in sink.failures] == ["failed"]


# --- 4. paths discovery cannot take ----------------------------------------------------------------

def test_every_skipped_path_is_in_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr("ingest.work.ingest_file", _no_models)
    roll = tmp_path / "roll"
    roll.mkdir()
    shutil.copy(PHOTO_A, roll / "good.jpg")
    os.symlink(roll / "gone.jpg", roll / "dangling.jpg")
    os.symlink("loop.jpg", roll / "loop.jpg")  # points at itself
    os.symlink(roll, roll / "back up")  # a folder link to the folder it is in
    os.mkfifo(roll / "pipe.mp4")
    (roll / "x.jpg").mkdir()  # a folder named like a photo: walked into
    shutil.copy(PHOTO_B, roll / "x.jpg" / "inside.jpg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(PHOTO_C, elsewhere / "linked.jpg")
    os.symlink(elsewhere, roll / "linked folder")  # followed
    (roll / "notes.txt").write_text("not media")
    (roll / ".hidden.jpg").write_bytes(PHOTO_A.read_bytes())
    locked = roll / "locked"
    locked.mkdir()
    (locked / "inside.jpg").write_bytes(b"never read")
    _deny(locked, monkeypatch)

    report = ingest_paths([roll], MemorySink(), _opts(tmp_path))
    failed = _names(report.failed)
    assert set(failed) == {"dangling.jpg", "loop.jpg", "back up", "pipe.mp4", "locked"}, failed
    assert "broken link" in failed["dangling.jpg"] and "loop" in failed["loop.jpg"] and "loop" in failed["back up"]
    assert "named pipe" in failed["pipe.mp4"] and "cannot open the folder" in failed["locked"]
    assert report.ingested == 3  # good.jpg, x.jpg/inside.jpg, linked folder/linked.jpg
    ignored = _names(report.ignored)
    assert {"notes.txt", ".hidden.jpg"} <= set(ignored)
    # a file of another type given by name is reported, not silently dropped
    report = ingest_paths([roll / "notes.txt"], MemorySink(), _opts(tmp_path))
    assert "not a photo, video or recording type (.txt)" in _names(report.failed)["notes.txt"]


# --- 5. one-frame and narrow videos, an unreadable file ---------------------------------------------

def test_one_frame_video_is_a_video(tmp_path):
    m = probe(make_video(tmp_path / "one frame.mp4", frames=1))
    assert m.kind == "video" and m.duration_s > 0


def test_narrow_video_frames_are_read(tmp_path):
    from ingest.frames import FrameReader  # decord's frame copy fails under 32 px wide: OpenCV reads them

    reader = FrameReader(make_video(tmp_path / "narrow.mp4", 16, 2000, frames=50), 1)
    assert [f.shape for f in reader.get([0, reader.n - 1])] == [(2000, 16, 3)] * 2


def test_unreadable_file_is_a_one_line_reason(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("ingest.work.ingest_file", _no_models)
    roll = tmp_path / "roll"
    roll.mkdir()
    shutil.copy(PHOTO_A, roll / "locked.jpg")
    shutil.copy(PHOTO_B, roll / "open.jpg")
    _deny(roll / "locked.jpg", monkeypatch)
    with caplog.at_level(logging.INFO):
        report = ingest_paths([roll], MemorySink(), _opts(tmp_path))
    assert report.ingested == 1
    assert "permission denied" in _names(report.failed)["locked.jpg"]
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING], "a traceback was logged"


# --- 6. GPS altitude over a zero denominator ---------------------------------------------------------

def test_gps_altitude_with_zero_denominator_is_none(tmp_path):
    import piexif

    gps = {piexif.GPSIFD.GPSAltitude: (100, 0), piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLongitudeRef: b"E",
           piexif.GPSIFD.GPSLatitude: ((40, 1), (26, 1), (0, 1)), piexif.GPSIFD.GPSLongitude: ((3, 1), (42, 1), (0, 1))}
    m = probe(exif_jpeg(tmp_path / "alt.jpg", b"2021:05:06 10:00:00", gps=gps))
    assert m.altitude is None and m.lat == pytest.approx(40.4333, abs=1e-3)


# --- 7. nothing from one file ends the batch ---------------------------------------------------------

def test_no_error_of_one_file_ends_the_batch(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("ingest.work.ingest_file", _no_models)
    roll = tmp_path / "roll"
    roll.mkdir()
    for name, src in (("a probe bug.jpg", PHOTO_A), ("b refused.jpg", PHOTO_B), ("c good.jpg", PHOTO_C)):
        shutil.copy(src, roll / name)
    gone = roll / "d gone.jpg"  # found, then deleted before its turn
    real_probe = probe

    def buggy_probe(path):
        if path.name.startswith("a "):
            raise RuntimeError("a bug in building the record\nwith a second line")
        return real_probe(path)

    class RefusingSink(MemorySink):
        def write(self, result):
            if result.media.path.endswith("b refused.jpg"):
                raise ValueError("the store refused a value")
            super().write(result)

    monkeypatch.setattr("ingest.work.probe", buggy_probe)
    import ingest.batch

    real_discover = ingest.batch.discover
    monkeypatch.setattr("ingest.batch.discover", lambda *a, **k: [gone] + real_discover(*a, **k))
    sink = RefusingSink()
    with caplog.at_level(logging.INFO):
        report = ingest_paths([roll], sink, _opts(tmp_path))
    failed = _names(report.failed)
    assert report.ingested == 1 and list(sink.results.values())[0].media.path.endswith("c good.jpg")
    assert set(failed) == {"a probe bug.jpg", "b refused.jpg", "d gone.jpg"}, failed
    assert "RuntimeError" in failed["a probe bug.jpg"] and "could not be stored" in failed["b refused.jpg"]
    assert "gone" in failed["d gone.jpg"]
    assert all("\n" not in r for r in failed.values())
    assert {Path(m.path).name for m in sink.failures} == set(failed)
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING], "a traceback was logged"


# --- more of what a camera roll holds -------------------------------------------------------------------

def test_sound_with_a_cover_picture_is_a_recording(tmp_path):
    # the cover (an attached_pic video stream) made it a "video", then failed it as truncated
    from _ingest_helpers import ffmpeg

    for ext in (".mp3", ".m4a"):
        dest = tmp_path / f"with cover{ext}"
        ffmpeg("-i", str(SAMPLE / "REC_20250614_190500.m4a"), "-i", str(PHOTO_A), "-map", "0:a", "-map", "1",
               "-c:a", "libmp3lame" if ext == ".mp3" else "copy", "-c:v", "mjpeg", "-disposition:v", "attached_pic", str(dest))
        m = probe(dest)
        assert m.kind == "audio" and m.has_audio and m.duration_s == pytest.approx(13.6, abs=0.2), (ext, m)


def test_relative_name_with_a_colon_is_not_a_protocol(tmp_path, monkeypatch):
    # FFmpeg reads "clip:1.mp4" as the URL protocol "clip"; `lifelog ingest clip:1.mp4` must still work
    make_video(tmp_path / "clip:1.mp4")
    monkeypatch.chdir(tmp_path)
    m = probe(Path("clip:1.mp4"))
    assert m.kind == "video" and Path(m.path).is_absolute()


# --- a camera roll of bad inputs through the CLI -----------------------------------------------------

def _roll(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], set[str]]:
    """Bad inputs and a few good files: ({name: what its reason must say}, {names that must be stored})."""
    import piexif

    folder.mkdir()
    expect: dict[str, str] = {}
    good = {"good photo.jpg", os.fsdecode(b"caf\xe9 \xe9t\xe9.jpg"), "dated 9999.jpg", "one frame.mp4", "narrow.mp4"}
    shutil.copy(PHOTO_A, folder / "good photo.jpg")
    shutil.copy(PHOTO_B, folder / os.fsdecode(b"caf\xe9 \xe9t\xe9.jpg"))  # good, and not UTF-8
    exif_jpeg(folder / "dated 9999.jpg", b"9999:12:31 23:59:59", color=(20, 160, 90),
              gps={piexif.GPSIFD.GPSAltitude: (100, 0)})
    make_video(folder / "one frame.mp4", frames=1)
    make_video(folder / "narrow.mp4", 16, 2000, frames=25)

    def bad(name: str, reason: str) -> Path:
        expect[name] = reason
        return folder / os.fsdecode(name.encode("utf-8", "surrogateescape"))

    bad("empty.jpg", "empty").write_bytes(b"")
    bad("text.jpg", "text").write_text("<html>not a photo</html>\n" * 30)
    bad(os.fsdecode(b"text \xff.jpg"), "text").write_text("still not a photo\n" * 30)
    jpg = PHOTO_C.read_bytes()
    bad("truncated.jpg", "truncated").write_bytes(jpg[: len(jpg) // 3])
    mp4 = (SAMPLE / "VID_20250614_103000.mp4").read_bytes()
    bad("truncated.mp4", "truncated").write_bytes(mp4[: len(mp4) * 3 // 10])
    m4a = (SAMPLE / "REC_20250614_211000.m4a").read_bytes()
    bad("truncated.m4a", "truncated").write_bytes(m4a[: len(m4a) // 3])
    shutil.copy(SAMPLE / "REC_20250614_211000.m4a", bad("sound only.mp4", "no video stream"))
    bomb_png(bad("bomb.png", "decompression bomb"))
    with wave.open(str(bad("header only.wav", "no playable duration")), "wb") as w:  # 44 bytes, no sound
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    bad("quote's \"name\"\nnewline 🎉.jpg", "text").write_text("a note\n" * 40)
    os.symlink(folder / "nowhere.jpg", bad("dangling.jpg", "broken link"))
    os.symlink("self.jpg", bad("self.jpg", "loop"))
    os.symlink(folder, bad("up", "loop"))
    os.mkfifo(bad("pipe.mp4", "named pipe"))
    (folder / "album.jpg").mkdir()
    shutil.copy(PHOTO_A, folder / "album.jpg" / "copy of good.jpg")  # the same bytes under two names: skipped
    (folder / "notes.txt").write_text("ignored: not media")
    (folder / ".hidden.jpg").write_bytes(b"ignored: hidden")
    if not AS_ROOT:  # root reads whatever the mode says
        shutil.copy(PHOTO_C, bad("locked.jpg", "permission denied"))
        _deny(folder / "locked.jpg", monkeypatch)
        (folder / "locked folder").mkdir()
        bad("locked folder", "cannot open the folder")
        _deny(folder / "locked folder", monkeypatch)
    return expect, good


def _cli(home: Path, folder: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "lifelog.cli", "--home", str(home), "--workers", "2", "ingest", str(folder)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _library(home: Path) -> tuple[list, list]:
    import lifelog

    mem = lifelog.open(home)
    return mem.store.all_media(), mem.store.episodes(columns=["episode_id", "media_id", "scale", "keyframe"])


@pytest.mark.slow
def test_camera_roll_of_bad_inputs_through_the_cli(tmp_path, monkeypatch):
    folder, home = tmp_path / "roll", tmp_path / "home"
    expect, good = _roll(folder, monkeypatch)
    run = _cli(home, folder)
    # 0: the CLI has no "some files failed" code; failures are reported, the run itself succeeded
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for name, reason in expect.items():
        prefix = f"  FAILED {_text(folder / os.fsdecode(name.encode('utf-8', 'surrogateescape')))}: "
        at = run.stdout.find(prefix)  # a name with a newline in it spans two lines; its reason is one
        shown = run.stdout[at + len(prefix):].split("\n", 1)[0] if at >= 0 else ""
        assert reason in shown.lower(), (name, reason, shown, run.stdout[-3000:])
    assert f"failed {len(expect)} " in run.stdout and "already known 1" in run.stdout, run.stdout[-3000:]

    media, episodes = _library(home)
    ok = {Path(m.path).name: m for m in media if m.status == "ok"}
    assert set(ok) == {_text(n) for n in good}, sorted(ok)
    assert ok["dated 9999.jpg"].time_source == "file:exif_out_of_range" and ok["dated 9999.jpg"].altitude is None
    assert ok["one frame.mp4"].kind == ok["narrow.mp4"].kind == "video"
    keys = {e["keyframe"] for e in episodes if e["media_id"] == ok["one frame.mp4"].media_id and e["keyframe"]}
    assert len(keys) == 1, keys
    assert all(m.path.encode("utf-8") for m in media)

    again = _cli(home, folder)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
    assert f"Ingested 0, already known {len(good) + 1}" in again.stdout, again.stdout[-2000:]
    media2, episodes2 = _library(home)
    assert len(media2) == len(media) and len(episodes2) == len(episodes)  # the second run adds nothing
