"""Photos: decode upright, guard against decompression bombs, describe, one segment episode each.

Bursts, near-duplicates and photo sessions span files: `ingest.sessions.consolidate` builds them.
"""

from __future__ import annotations

import warnings
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ingest.describe import PHOTO_TEXT_MIN_WORDS, ModelSet, Stopwatch, compose_caption, describe_images, face_records, save_jpeg, text_likely
from ingest.errors import IngestError
from ingest.options import IngestOptions, local_time, path_text, rel_to_home, thumbs_dir
from ingest.records import EpisodeRecord, FaceRecord, MediaRecord, Source, time_origin
from ingest.times import printed_date


def decode_photo(path: Path) -> np.ndarray:
    """The photo as an upright RGB array (EXIF orientation applied).

    Raises IngestError for a corrupt or truncated image or one whose declared size exceeds Pillow's
    MAX_IMAGE_PIXELS (a decompression bomb: a tiny file that would expand to gigabytes).
    """
    name = path_text(path)
    try:
        with warnings.catch_warnings():
            # a "possible bomb" warning is raised to an error: the limit is the whole point
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                try:
                    im = ImageOps.exif_transpose(im)
                except Exception:  # broken orientation tag: keep the stored orientation
                    pass
                return np.asarray(im.convert("RGB"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise IngestError(f"{name}: the image declares a huge size ({e}); refusing to decode a possible "
                          f"decompression bomb. Raise PIL.Image.MAX_IMAGE_PIXELS if the photo is genuine") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise IngestError(f"{name}: the image data is corrupt or truncated ({e}); re-copy or re-export the photo") from e


def ingest_photo(path: Path, media: MediaRecord, opts: IngestOptions, ms: ModelSet, watch: Stopwatch, *,
                 faces_out: list[FaceRecord] | None = None) -> list[EpisodeRecord]:
    """The photo's one segment episode; its faces (with crops) are appended to `faces_out` when given."""
    with watch.stage("decode"):
        rgb = decode_photo(path)
        media.height, media.width = rgb.shape[:2]  # upright size
        # one working copy at 1024 px long side: enough for tags, faces and OCR, fast to pass around
        im = Image.fromarray(rgb)
        im.thumbnail((1024, 1024), Image.Resampling.BILINEAR)
        work = np.asarray(im)
        del rgb
    with watch.stage("thumbs"):
        folder = thumbs_dir(opts, media.media_id)
        thumb, key = folder / "thumb.jpg", folder / "key_0000.jpg"
        save_jpeg(work, thumb, opts.thumb_px)
        save_jpeg(work, key, opts.keyframe_px)
        media.thumbnail = rel_to_home(opts, thumb)
    with watch.stage("ocr_gate"):
        run_ocr = opts.ocr == "always" or (opts.ocr == "auto" and text_likely(work, PHOTO_TEXT_MIN_WORDS))
    (info,) = describe_images([work], ms, watch, ocr=[run_ocr])
    if faces_out is not None and info.found_faces:
        with watch.stage("thumbs"):
            faces_out.extend(face_records(work, info.found_faces, media_id=media.media_id,
                                          episode_id=f"{media.media_id}:segment:0", offset_s=0.0,
                                          folder=folder, home=Path(opts.home)))
    tags = [label for label, _ in info.tags]
    ocr = " / ".join(info.ocr)
    if time_origin(media.time_source) in ("file", "ingest") and ocr:
        printed = printed_date(ocr)  # no capture time of its own: a date printed in it (a receipt, a ticket) is better
        if printed is not None:
            media.captured_at, media.utc_offset_min, media.time_source = printed.astimezone(timezone.utc), None, "text"
    start = media.captured_at
    assert start is not None
    caption = compose_caption("photo", tags, info.ocr, info.faces, vlm=info.caption)
    episode = EpisodeRecord(
        episode_id=f"{media.media_id}:segment:0",
        scale="segment",
        kind="photo",
        start=start,
        end=start + timedelta(seconds=1),
        media_id=media.media_id,
        sources=[Source(media.media_id, 0.0, 0.0)],
        title=f"Photo {local_time(start, media.utc_offset_min):%Y-%m-%d %H:%M}" + (f": {', '.join(tags[:2])}" if tags else ""),
        caption=caption,
        ocr=ocr,
        tags=tags,
        lat=media.lat,
        lon=media.lon,
        image_vector=info.image_vector,
        keyframe=rel_to_home(opts, key),
        thumbnail=media.thumbnail,
        phash=info.phash,
    )
    return [episode]
