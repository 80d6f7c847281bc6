"""Ingestion: files -> MediaRecord + multi-scale EpisodeRecords (entry points: ingest.pipeline, ingest.batch).

Imports point one way: a module imports only modules of lower layers (LAYERS below), never one of
its own layer or above, also not inside a function or under TYPE_CHECKING. Lowest first:

    errors, options, places, quiet    the standard library only: the error, the settings and clock, place
                               names, distance; the filter on decord's stderr chatter
    remote                     inputs in object storage (pyarrow's file systems): listed, copied down
    records, hashing, times    what ingestion produces; content and perceptual hashes; capture times
                               checked before they are believed (imports only the layer below)
    probe, describe            what a file is before decoding; the picture models (tags, OCR, faces, vectors)
    speech, frames, visual,    sound -> words with times; video frames -> keyframes and cuts; StreamMem memory;
    diarize                    who spoke when in one recording (speaker turns, voice vectors)
    episodes                   one file's episode tree (segments, events, session), summaries, episode text
    sessions, photo, audio, video    across files: photo sessions, bursts, days; each kind's reader
    pipeline                   one file: probe, dispatch by kind, place names, text vectors
    work                       one file's work wherever it runs (a thread, a Ray worker); the runners
    batch                      many files: discover, skip known content, ingest in parallel, report

This package imports nothing at import time: import the module you need.
"""

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "options", "places", "quiet", "remote"),
    ("records", "hashing", "times"),
    ("probe", "describe"),
    ("speech", "frames", "visual", "diarize"),
    ("episodes",),
    ("sessions", "photo", "audio", "video"),
    ("pipeline",),
    ("work",),
    ("batch",),
)
