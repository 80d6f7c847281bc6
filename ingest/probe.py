"""What a file is, before any decoding: kind (by content), identity, capture time, place, device.

    >>> media = probe(Path("IMG_0001.HEIC"))
    >>> media.kind, media.captured_at, media.time_source, (media.lat, media.lon)

The kind comes from the bytes (Pillow, then PyAV), not the extension: a `.jpg` that is really an
mp4 is ingested as a video, a `.jpg` that is really text fails with a reason.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from ingest.errors import IngestError
from ingest.hashing import file_hash
from ingest.options import utc
from ingest.records import MediaRecord

log = logging.getLogger(__name__)

try:  # HEIC/HEIF photos (iPhones) through Pillow
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - a declared dependency
    pillow_heif = None

PHOTO_EXTS = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff", ".bmp", ".gif"})
VIDEO_EXTS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".3gp", ".mts", ".m2ts", ".wmv", ".mpg", ".mpeg"})
AUDIO_EXTS = frozenset({".wav", ".m4a", ".mp3", ".flac", ".ogg", ".opus", ".aac", ".wma", ".amr"})
SUPPORTED_EXTS = PHOTO_EXTS | VIDEO_EXTS | AUDIO_EXTS

# EXIF tag numbers (CIPA DC-008)
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 271, 272, 274, 306
_DT_ORIGINAL, _OFFSET_ORIGINAL, _OFFSET, _SUBSEC_ORIGINAL = 36867, 36881, 36880, 37521
# EXIF orientation -> degrees the stored picture must turn (clockwise) to show upright
_ORIENTATION_DEG = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}
# QuickTime / MP4 tags holding an ISO 6709 location ("+40.4470-003.7250+639.500/")
_LOCATION_KEYS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng")
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


def _fail(path: Path, reason: str, cause: BaseException | None = None) -> IngestError:
    err = IngestError(f"{os.fsdecode(path)}: {reason}")
    err.__cause__ = cause
    return err


def probe(path: Path) -> MediaRecord:
    """Identify and describe one file without decoding its pictures or sound.

    Raises IngestError (with a reason for the user) when the file is empty, unreadable, or not a
    photo, video or recording this project can read.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise _fail(path, f"cannot read the file ({e.strerror})", e) from e
    if st.st_size == 0:
        raise _fail(path, "the file is empty (0 bytes); nothing to ingest")
    media = MediaRecord(
        media_id=file_hash(path),
        path=os.fsdecode(path.absolute()),
        kind="photo",
        size_bytes=st.st_size,
        mtime=datetime.fromtimestamp(st.st_mtime, timezone.utc),
        captured_at=datetime.fromtimestamp(st.st_mtime, timezone.utc),
        time_source="file",
    )
    if _probe_photo(path, media):
        return media
    _probe_av(path, media)
    return media


# --- photos -------------------------------------------------------------------------------

def _probe_photo(path: Path, media: MediaRecord) -> bool:
    """Fill `media` if Pillow recognises the bytes as an image; False when it is not an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as e:
        raise _fail(path, f"image declares an implausible size ({e}); refusing to decode a possible decompression bomb") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    with im:
        # PyAV also opens single images, but Pillow knows their EXIF; movie containers that
        # Pillow does not claim fall through to PyAV
        media.kind = "photo"
        media.width, media.height = im.size
        media.codec = (im.format or "").lower()
        if media.width * media.height > (Image.MAX_IMAGE_PIXELS or 1 << 62):
            raise _fail(path, f"image is {media.width}x{media.height} pixels, over the "
                              f"{Image.MAX_IMAGE_PIXELS} pixel limit; refusing a possible decompression bomb")
        try:
            _read_exif(im, media)
        except Exception as e:  # broken EXIF must never lose the photo
            log.warning("%s: unreadable EXIF (%s); using the file time", os.fsdecode(path), e)
    return True


def _read_exif(im: Image.Image, media: MediaRecord) -> None:
    exif = im.getexif()
    if not exif:
        return
    media.device = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (_MAKE, _MODEL)).strip()
    media.rotation = _ORIENTATION_DEG.get(int(exif.get(_ORIENTATION, 1) or 1), 0)
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception as e:
        log.warning("unreadable EXIF sub-IFD: %s", e)
        sub = {}
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except Exception as e:
        log.warning("unreadable EXIF GPS IFD: %s", e)
        gps = {}
    if gps:
        _read_gps(gps, media)
    raw = sub.get(_DT_ORIGINAL) or exif.get(_DATETIME)
    if not raw:
        return
    local = datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    subsec = str(sub.get(_SUBSEC_ORIGINAL, "") or "").strip("\x00 ")
    if subsec.isdigit():
        local += timedelta(seconds=float("0." + subsec))
    offset = _parse_offset(sub.get(_OFFSET_ORIGINAL) or sub.get(_OFFSET))
    if offset is None:
        offset = _offset_from_gps_time(gps, local)
    if offset is not None:
        media.utc_offset_min = offset
        media.captured_at = (local - timedelta(minutes=offset)).replace(tzinfo=timezone.utc)
    else:
        # no offset anywhere: read the wall-clock time in this machine's zone, the usual guess
        media.captured_at = local.astimezone().astimezone(timezone.utc)
    media.time_source = "exif"


def _parse_offset(value: object) -> int | None:
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", str(value or "").strip("\x00 "))
    if not m:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    return -minutes if m[1] == "-" else minutes


def _offset_from_gps_time(gps: dict, local: datetime) -> int | None:
    """The camera's UTC offset from the GPS clock (UTC) beside the local EXIF time, to 15 min."""
    try:
        date, hms = gps.get(29), gps.get(7)
        if not date or not hms:
            return None
        h, m, s = (float(x) for x in hms)
        utc = datetime.strptime(str(date).strip("\x00 "), "%Y:%m:%d") + timedelta(hours=h, minutes=m, seconds=s)
        minutes = round((local - utc).total_seconds() / 900) * 15
        return minutes if abs(minutes) <= 14 * 60 else None
    except Exception:
        return None


def _read_gps(gps: dict, media: MediaRecord) -> None:
    def deg(v: object) -> float:
        d, m, s = (float(x) for x in v)  # type: ignore[union-attr]
        return d + m / 60 + s / 3600

    try:
        if 2 in gps and 4 in gps:
            lat, lon = deg(gps[2]), deg(gps[4])
            if str(gps.get(1, "N")).upper().startswith("S"):
                lat = -lat
            if str(gps.get(3, "E")).upper().startswith("W"):
                lon = -lon
            if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0):
                media.lat, media.lon = lat, lon
        if 6 in gps:
            alt = float(gps[6])
            media.altitude = -alt if gps.get(5) in (1, b"\x01") else alt
    except Exception as e:
        log.warning("unreadable GPS tags: %s", e)


# --- videos and recordings ---------------------------------------------------------------

def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(512)
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    return printable / max(1, len(head)) > 0.95


def _probe_av(path: Path, media: MediaRecord) -> None:
    ext = path.suffix.lower()
    if _looks_like_text(path):
        raise _fail(path, "not a photo, video or recording: the content is text; the extension "
                          f"{ext or '(none)'} is wrong or the file was saved from a web page")
    try:
        container = av.open(os.fsdecode(path), metadata_errors="ignore")
    except av.error.InvalidDataError as e:
        what = "video" if ext in VIDEO_EXTS else "recording" if ext in AUDIO_EXTS else "photo, video or recording"
        raise _fail(path, f"not a {what} that can be read: the content is corrupt, truncated, or of another "
                          f"kind ({_short(e)}); re-export or re-copy the file") from e
    except Exception as e:
        raise _fail(path, f"cannot open as media ({_short(e)})") from e
    with container:
        vstreams = [s for s in container.streams.video if s.codec_context is not None]
        astreams = [s for s in container.streams.audio if s.codec_context is not None]
        if not vstreams and not astreams:
            raise _fail(path, "contains neither pictures nor sound that can be decoded")
        if container.format.name in ("image2", "png_pipe", "jpeg_pipe") or (vstreams and vstreams[0].frames == 1 and not astreams):
            raise _fail(path, "looks like an image but the picture data is corrupt; re-export the photo")
        if not vstreams and ext in VIDEO_EXTS:
            raise _fail(path, f"has no video stream (sound only, {astreams[0].codec_context.name}); "
                              f"to keep it as a recording, rename it to .m4a or .wav")
        meta = {k.lower(): v for k, v in container.metadata.items()}
        if vstreams:
            v = vstreams[0]
            media.kind = "video"
            media.codec = v.codec_context.name
            media.width, media.height = v.codec_context.width, v.codec_context.height
            for k, val in v.metadata.items():
                meta.setdefault(k.lower(), val)
            media.rotation = _video_rotation(container, v)
        else:
            media.kind = "audio"
            media.codec = astreams[0].codec_context.name
        media.has_audio = bool(astreams)
        media.duration_s = _duration(container, vstreams[0] if vstreams else astreams[0])
        if media.duration_s <= 0:
            raise _fail(path, "has no playable duration (truncated or still being written?)")
        _check_tail(path, container, vstreams[0] if vstreams else astreams[0], media.duration_s)
        _video_time(meta, media)
        _video_location(meta, media)
        make = meta.get("com.apple.quicktime.make", "")
        model = meta.get("com.apple.quicktime.model", "")
        media.device = f"{make} {model}".strip() or ("GoPro" if "gopro" in str(meta.get("handler_name", "")).lower() else "")
        if vstreams and any("gopro met" in str(s.metadata.get("handler_name", "")).lower() for s in container.streams.data):
            try:
                _gopro_gpmf(container, media)
            except Exception as e:  # telemetry is a bonus, never a failure
                log.warning("%s: unreadable GoPro GPMF telemetry: %s", os.fsdecode(path), e)


def _check_tail(path: Path, container: av.container.InputContainer, stream: av.stream.Stream, duration: float) -> None:
    """Decode one frame near the end: a copy cut short keeps an index promising data that is not there."""
    try:
        target = max(0.0, duration * 0.9 - 0.5)
        container.seek(int(target / stream.time_base), stream=stream, any_frame=False, backward=True)
        for frame in container.decode(stream):
            if frame.time is None or frame.time >= target - 5:
                return
        raise av.error.EOFError(0, "no frames near the end")
    except Exception as e:
        raise _fail(path, f"truncated or corrupt: its index promises {duration:.1f} s but the data near the end "
                          f"cannot be decoded ({_short(e)}); the copy is probably incomplete, copy it again") from e


def _short(e: BaseException) -> str:
    return str(e).split(": '")[0][:160]


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if container.duration:
        return container.duration / 1_000_000
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _video_rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """Degrees (clockwise) to turn decoded frames so they show upright (display matrix / rotate tag)."""
    tag = stream.metadata.get("rotate")
    if tag and str(tag).lstrip("-").isdigit():
        return int(tag) % 360
    try:
        frame = next(container.decode(stream))
        # PyAV's rotation is counter-clockwise, from the display matrix side data
        return int(-round(frame.rotation)) % 360 if frame.rotation else 0
    except Exception:
        return 0


def _parse_iso_time(value: str) -> datetime | None:
    value = value.strip().replace("Z", "+00:00")
    m = re.fullmatch(r"(.+?)([+-]\d{2}):?(\d{2})", value)
    if m and "T" in value:
        value = f"{m[1]}{m[2]}:{m[3]}"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt


def _video_time(meta: dict[str, str], media: MediaRecord) -> None:
    # Apple writes the local time with its offset here; creation_time is UTC (QuickTime epoch)
    apple = _parse_iso_time(meta.get("com.apple.quicktime.creationdate", ""))
    if apple and apple.tzinfo:
        media.captured_at = apple.astimezone(timezone.utc)
        media.utc_offset_min = int(apple.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        media.time_source = "quicktime"
        return
    created = _parse_iso_time(meta.get("creation_time", ""))
    # 1904-01-01 (QuickTime epoch zero) and 1970 mean "not set"
    if created and created.year > 1971:
        media.captured_at = utc(created)
        media.time_source = "quicktime"


def _video_location(meta: dict[str, str], media: MediaRecord) -> None:
    for key in _LOCATION_KEYS:
        m = _ISO6709.match(meta.get(key.lower(), "").strip())
        if m:
            lat, lon = float(m[1]), float(m[2])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                media.lat, media.lon = lat, lon
                media.altitude = float(m[3]) if m[3] else None
                return


def _gopro_gpmf(container: av.container.InputContainer, media: MediaRecord) -> None:
    """First GPS fix and GPS time from a GoPro's GPMF telemetry track (KLV, big-endian)."""
    stream = next(s for s in container.streams.data if "gopro met" in str(s.metadata.get("handler_name", "")).lower())
    container.seek(0)
    for packet in container.demux(stream):
        fix = _gpmf_gps(bytes(packet))
        if fix:
            (lat, lon, alt), when = fix
            if media.lat is None:
                media.lat, media.lon, media.altitude = lat, lon, alt
            if when and media.time_source in ("file", "quicktime"):
                # GoPros write creation_time in local time labelled UTC; GPS time is true UTC
                start = when - timedelta(seconds=float(packet.pts * stream.time_base) if packet.pts else 0.0)
                media.captured_at, media.time_source = start, "gpmf"
            return


def _gpmf_gps(data: bytes) -> tuple[tuple[float, float, float], datetime | None] | None:
    scale: list[float] = [1.0]
    when: datetime | None = None
    fix_ok = True
    i = 0
    while i + 8 <= len(data):
        key = data[i:i + 4]
        typ = chr(data[i + 4]) if data[i + 4] else "\0"
        size, repeat = data[i + 5], struct.unpack(">H", data[i + 6:i + 8])[0]
        body = data[i + 8:i + 8 + size * repeat]
        if typ == "\0":  # a nested container: descend into it
            i += 8
            continue
        if key == b"SCAL":
            fmt = {"l": "i", "L": "I", "s": "h", "S": "H"}.get(typ)
            if fmt:
                scale = list(struct.unpack(f">{size * repeat // struct.calcsize(fmt)}{fmt}", body))
        elif key == b"GPSF":
            fix_ok = struct.unpack(">I", body[:4])[0] >= 2
        elif key == b"GPSU":
            try:
                when = datetime.strptime(body[:16].decode("ascii"), "%y%m%d%H%M%S.%f").replace(tzinfo=timezone.utc)
            except ValueError:
                when = None
        elif key == b"GPS5" and typ == "l" and fix_ok:
            vals = struct.unpack(">5i", body[:20])
            sc = (scale + [1.0] * 5)[:5] if len(scale) > 1 else [scale[0]] * 5
            lat, lon, alt = vals[0] / sc[0], vals[1] / sc[1], vals[2] / sc[2]
            if (lat, lon) != (0.0, 0.0):
                return (lat, lon, alt), when
        elif key == b"GPRI" and size >= 20 and len(scale) >= 4:
            # Karma/Hero "GPS RAW" records, TYPE "Jlll...": microsecond clock, lat, lon, alt
            lat_i, lon_i, alt_i = struct.unpack(">3i", body[8:20])
            lat, lon, alt = lat_i / scale[1], lon_i / scale[2], alt_i / scale[3]
            if (lat, lon) != (0.0, 0.0) and -90 <= lat <= 90 and -180 <= lon <= 180:
                return (lat, lon, alt), when
        i += 8 + ((size * repeat + 3) & ~3)
    return None
