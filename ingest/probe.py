"""What a file is, before any decoding: kind (by content), identity, capture time, place, device.

    >>> media = probe(Path("IMG_0001.HEIC"))
    >>> media.kind, media.captured_at, media.time_source, (media.lat, media.lon)

The kind comes from the bytes (Pillow, then PyAV), not the extension: a `.jpg` that is really an
mp4 is ingested as a video, a `.jpg` that is really text fails with a reason.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import stat
import warnings
from datetime import datetime, timezone
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from ingest.errors import IngestError
from ingest.hashing import file_hash
from ingest.options import MAX_DURATION_S, from_timestamp, path_text, plausible_time
from ingest.places import zone_at
from ingest.records import MediaRecord, time_origin
from ingest.times import exif_time, gps_clock, gpmf_gps, gpmf_start, quicktime_time

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


_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _fail(path: Path, reason: str, cause: BaseException | None = None) -> IngestError:
    err = IngestError(f"{path_text(path)}: {reason}")
    err.__cause__ = cause
    return err


def not_regular(mode: int) -> str:
    """What a file that is not a regular file is ("a named pipe (FIFO)"), "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    return next((what for test, what in _NOT_REGULAR if test(mode)), "not a regular file")


def unreadable(e: OSError) -> str:
    """The reason for a file that cannot be read, from the OS error."""
    if isinstance(e, FileNotFoundError):
        return "the file is gone (deleted or moved after it was found)"
    if e.errno == errno.EACCES:
        return "cannot read the file: permission denied (check its owner and mode)"
    return f"cannot read the file ({e.strerror or e})"


def probe(path: Path) -> MediaRecord:
    """Identify and describe one file without decoding its pictures or sound.

    Raises IngestError (with a reason for the user) when the file is empty, unreadable, or not a
    photo, video or recording this project can read.
    """
    path = Path(path).absolute()  # a relative "a:b.mp4" would be read by FFmpeg as protocol "a"
    try:
        st = path.stat()
    except OSError as e:
        raise _fail(path, unreadable(e), e) from e
    what = not_regular(st.st_mode)
    if what:
        raise _fail(path, f"not a photo, video or recording: it is {what}, not a regular file")
    if st.st_size == 0:
        raise _fail(path, "the file is empty (0 bytes); nothing to ingest")
    try:
        media_id = file_hash(path)
    except OSError as e:
        raise _fail(path, unreadable(e), e) from e
    mtime = from_timestamp(st.st_mtime)
    media = MediaRecord(
        media_id=media_id,
        path=path_text(path),
        kind="photo",
        size_bytes=st.st_size,
        mtime=mtime or datetime(1970, 1, 1, tzinfo=timezone.utc),
        captured_at=mtime,
        time_source="file",
    )
    rejected: list[str] = []  # time sources whose date was unreadable or out of range
    if not _probe_photo(path, media, rejected):
        _probe_av(path, media, rejected)
    _settle_time(media, rejected)
    _zone_from_position(media)
    return media


def _zone_from_position(media: MediaRecord) -> None:
    """A file with a position but no UTC offset (an action camera's UTC creation time, EXIF without
    OffsetTime) gets the offset of the zone it was in: its times then read as lived there. An EXIF
    local time, read in this machine's zone for want of better, is read again in that zone."""
    if media.utc_offset_min is not None or media.captured_at is None or time_origin(media.time_source) in ("file", "ingest"):
        return
    zone = zone_at(media.lat, media.lon)
    if zone is None:
        return
    when = media.captured_at
    if time_origin(media.time_source) == "exif":
        local = when.astimezone().replace(tzinfo=None)  # as exif_time read it
        when = local.replace(tzinfo=zone).astimezone(timezone.utc)
    offset = when.astimezone(zone).utcoffset()
    if offset is not None and plausible_time(when):
        media.captured_at, media.utc_offset_min = when, int(offset.total_seconds() // 60)


def _settle_time(media: MediaRecord, rejected: list[str]) -> None:
    """The last resort for the capture time, and the note of the sources passed over (TimeSource)."""
    if not plausible_time(media.captured_at):  # even the file's mtime: 1970 from a bad copy, 2100
        rejected.append("file")
        media.captured_at, media.time_source, media.utc_offset_min = datetime.now(timezone.utc), "ingest", None
    notes = [f"{r}_out_of_range" for r in dict.fromkeys(rejected) if r != time_origin(media.time_source)]
    if notes:
        media.time_source = f"{time_origin(media.time_source)}:{','.join(notes)}"


# --- photos -------------------------------------------------------------------------------

def _probe_photo(path: Path, media: MediaRecord, rejected: list[str]) -> bool:
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
            _read_exif(im, media, rejected)
        except Exception as e:  # broken EXIF must never lose the photo
            log.warning("%s: unreadable EXIF (%s); using the file time", path_text(path), e)
    return True


def _read_exif(im: Image.Image, media: MediaRecord, rejected: list[str]) -> None:
    exif = im.getexif()
    if not exif:
        return
    try:  # a garbage tag here must not cost the date and place below
        media.device = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (_MAKE, _MODEL)).strip()
        media.rotation = _ORIENTATION_DEG.get(int(exif.get(_ORIENTATION, 1) or 1), 0)
    except (TypeError, ValueError) as e:
        log.warning("unreadable EXIF make, model or orientation: %s", e)
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
    if raw:
        found = exif_time(raw, sub.get(_SUBSEC_ORIGINAL, ""), sub.get(_OFFSET_ORIGINAL) or sub.get(_OFFSET), gps)
        if found is not None:
            media.captured_at, media.utc_offset_min = found
            media.time_source = "exif"
            return
        rejected.append("exif")
    when = gps_clock(gps)  # the camera's clock unset or broken: the GPS clock, when it has one
    if when is not None:
        media.captured_at, media.time_source = when, "gps"


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
            alt = float(gps[6])  # a zero denominator reads as NaN: no altitude
            if math.isfinite(alt):
                media.altitude = -alt if gps.get(5) in (1, b"\x01") else alt
    except Exception as e:
        log.warning("unreadable GPS tags: %s", e)


# --- videos and recordings ---------------------------------------------------------------

def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(512)
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    return printable / max(1, len(head)) > 0.95


def _probe_av(path: Path, media: MediaRecord, rejected: list[str]) -> None:
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
        # a cover picture in a song or a voice memo (attached_pic) is no video
        vstreams = [s for s in container.streams.video if s.codec_context is not None and not _attached_picture(s)]
        astreams = [s for s in container.streams.audio if s.codec_context is not None]
        if not vstreams and not astreams:
            raise _fail(path, "contains neither pictures nor sound that can be decoded")
        # an image FFmpeg reads that Pillow did not: a corrupt photo. A one-frame movie is a video
        image_demuxer = container.format.name == "image2" or container.format.name.endswith("_pipe")
        if image_demuxer or (vstreams and vstreams[0].frames == 1 and not astreams and ext in PHOTO_EXTS):
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
        if not media.duration_s > 0:
            raise _fail(path, "has no playable duration (truncated or still being written?)")
        if not media.duration_s <= MAX_DURATION_S:
            raise _fail(path, f"its header claims a duration of {media.duration_s / 86400:.0f} days, more than "
                              f"{MAX_DURATION_S / 86400:.0f}; the file is corrupt")
        _check_tail(path, container, vstreams[0] if vstreams else astreams[0], media.duration_s)
        _video_time(meta, media, rejected)
        _video_location(meta, media)
        make = meta.get("com.apple.quicktime.make", "")
        model = meta.get("com.apple.quicktime.model", "")
        media.device = f"{make} {model}".strip() or ("GoPro" if "gopro" in str(meta.get("handler_name", "")).lower() else "")
        if vstreams and any("gopro met" in str(s.metadata.get("handler_name", "")).lower() for s in container.streams.data):
            try:
                _gopro_gpmf(container, media)
            except Exception as e:  # telemetry is a bonus, never a failure
                log.warning("%s: unreadable GoPro GPMF telemetry: %s", path_text(path), e)


def _attached_picture(stream: av.stream.Stream) -> bool:
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):  # an older PyAV without dispositions
        return False


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


def _video_time(meta: dict[str, str], media: MediaRecord, rejected: list[str]) -> None:
    when, offset, bad = quicktime_time(meta)
    if when is not None:
        media.captured_at, media.utc_offset_min, media.time_source = when, offset, "quicktime"
    elif bad:
        rejected.append("quicktime")


def _video_location(meta: dict[str, str], media: MediaRecord) -> None:
    for key in _LOCATION_KEYS:
        m = _ISO6709.match(meta.get(key.lower(), "").strip())
        if m:
            lat, lon = float(m[1]), float(m[2])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                media.lat, media.lon = lat, lon
                alt = float(m[3]) if m[3] else math.nan
                media.altitude = alt if math.isfinite(alt) else None
                return


def _gopro_gpmf(container: av.container.InputContainer, media: MediaRecord) -> None:
    """First GPS fix and GPS time from a GoPro's GPMF telemetry track (KLV, big-endian)."""
    stream = next(s for s in container.streams.data if "gopro met" in str(s.metadata.get("handler_name", "")).lower())
    container.seek(0)
    for packet in container.demux(stream):
        fix = gpmf_gps(bytes(packet))
        if fix:
            (lat, lon, alt), when = fix
            if media.lat is None and all(map(math.isfinite, (lat, lon, alt))):
                media.lat, media.lon, media.altitude = lat, lon, alt
            # GoPros write creation_time in local time labelled UTC; GPS time is true UTC
            start = gpmf_start(when, float(packet.pts * stream.time_base) if packet.pts else 0.0)
            if start is not None and time_origin(media.time_source) in ("file", "quicktime"):
                media.captured_at, media.time_source = start, "gpmf"
            return
