"""One file in, one media record and its episodes out: probe, then the reader of its kind, then place and text.

    >>> opts = IngestOptions(home=Path("~/.lifelog").expanduser(), cache_dir=Path("~/.cache/lifelog"))
    >>> result = ingest_file(Path("IMG_0001.HEIC"), opts)
    >>> [e.caption for e in result.episodes]
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ingest import audio, photo, video
from ingest.describe import ModelSet, Stopwatch
from ingest.episodes import embed_texts
from ingest.errors import IngestError
from ingest.options import IngestOptions, path_text
from ingest.places import place_name
from ingest.probe import probe, unreadable
from ingest.records import FaceRecord, FileResult, MediaRecord, VoiceRecord


def ingest_file(path: Path, opts: IngestOptions, *, media: MediaRecord | None = None, model_set: ModelSet | None = None) -> FileResult:
    """Ingest one photo, video or recording into its media record and episodes.

    `media` may be a probe already made (batch ingestion probes first to skip known files).
    Raises IngestError with a reason for the user when the file cannot be ingested.
    """
    path = Path(path).absolute()
    ms = model_set or ModelSet(opts)
    watch = Stopwatch()
    with watch.stage("probe"):
        media = media or probe(path)
    try:
        visual = None
        faces: list[FaceRecord] = []
        voices: list[VoiceRecord] = []
        if media.kind == "photo":
            episodes = photo.ingest_photo(path, media, opts, ms, watch, faces_out=faces)
        elif media.kind == "video":
            episodes, visual = video.ingest_video(path, media, opts, ms, watch, faces_out=faces, voices_out=voices)
        else:
            episodes = audio.ingest_audio(path, media, opts, ms, watch, voices_out=voices)
    except IngestError:
        raise
    except MemoryError as e:
        raise IngestError(f"{path_text(path)}: ran out of memory decoding it ({media.width}x{media.height} {media.kind})") from e
    except OSError as e:  # unreadable now, deleted while read, a disk error
        if getattr(e, "errno", None) is None or not e.filename:
            raise  # not about the file: a decoder's own error, for the caller's report
        raise IngestError(f"{path_text(path)}: {unreadable(e)}") from e
    with watch.stage("place"):
        name = place_name(media.lat, media.lon)
        for e in episodes:
            if e.lat is None and media.lat is not None:
                e.lat, e.lon = media.lat, media.lon
            e.place = e.place or (place_name(e.lat, e.lon) if (e.lat, e.lon) != (media.lat, media.lon) else name)
    with watch.stage("text_embed"):
        embed_texts(episodes, ms.get("text_embed", required=True))
    media.ingested_at = datetime.now(timezone.utc)
    media.models = {role: ms.spec(role).name for role in used_roles(media.kind, ms)}
    return FileResult(media=media, episodes=episodes, timings=dict(watch.seconds), visual=visual, faces=faces,
                      voices=voices)


def used_roles(kind: str, ms: ModelSet) -> list[str]:
    """The model roles that make a file of this kind's episodes (MediaRecord.models)."""
    visual = ["tags", "image_text", "ocr", "faces"] + (["caption"] if ms.has_captioner() else [])
    speech = ["vad", "speech"]
    roles = {"photo": visual, "video": visual + speech, "audio": speech}[kind]
    return roles + ["text_embed"]
