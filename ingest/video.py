"""Videos: keyframes described as they are found, shots cut into segments, speech, the episode tree.

The pictures are read by `ingest.frames` (I-frames only where the encoder put them often enough,
else a 1 fps scan); each batch of keyframes is described, written as JPEGs and dropped on the way,
so memory stays flat whatever the length. Speech is `ingest.speech`, the tree `ingest.episodes`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from ingest.describe import ModelSet, Stopwatch, describe_images, face_records, save_jpeg, text_likely
from ingest.diarize import diarize, file_voices, spoken_spans
from ingest.episodes import build_episodes, split_spans
from ingest.frames import FrameReader, Keyframe, iframe_times, iframes_usable, refine_cuts, scan, scan_iframes, shot_boundaries
from ingest.hashing import hamming, phash
from ingest.options import IngestOptions, path_text, rel_to_home, thumbs_dir
from ingest.records import EpisodeRecord, FaceRecord, MediaRecord, VoiceRecord
from ingest.speech import transcribe_track, words_of
from ingest.visual import VideoVisual, encode_keyframes

log = logging.getLogger(__name__)

# a keyframe this close (phash bits) to one of the last few described is the same picture: its
# description is copied, not recomputed (a static shot revisited, a paused camera)
SAME_PICTURE_BITS = 4


VOICES_MAX_S = 2 * 3600


def ingest_video(path: Path, media: MediaRecord, opts: IngestOptions, ms: ModelSet,
                 watch: Stopwatch, *, faces_out: list[FaceRecord] | None = None,
                 voices_out: list[VoiceRecord] | None = None) -> tuple[list[EpisodeRecord], VideoVisual | None]:
    """The video's episodes, and its StreamMem visual memory (None where the profile has no VLM).

    Faces on newly described keyframes (with crops) are appended to `faces_out` when given; a
    repeated picture's copied description adds none, so a static shot is not counted again.
    """
    threads = max(1, (os.cpu_count() or 1) // max(1, opts.workers))
    folder = thumbs_dir(opts, media.media_id)
    recent: list[Keyframe] = []  # the last few described keyframes, for copying a repeated picture's description
    n_saved = 0
    describe_s = 0.0  # seconds of describe() inside the decode stage, taken out of "decode" below

    def describe(batch: list[Keyframe]) -> None:
        """Describe a batch of keyframes, write their JPEGs and drop their pixels (streaming: memory stays flat)."""
        nonlocal n_saved, describe_s
        t_start = time.perf_counter()
        with watch.stage("hash"):
            hashes = [phash(k.rgb) for k in batch]
        todo: list[int] = []
        for i, (k, h) in enumerate(zip(batch, hashes)):
            same = next((r for r in reversed(recent) if r.info and hamming(r.info.phash, h) <= SAME_PICTURE_BITS), None)
            if same is not None:
                k.info = same.info
            else:
                todo.append(i)
        with watch.stage("ocr_gate"):
            run_ocr = [opts.ocr == "always" or (opts.ocr == "auto" and text_likely(batch[i].rgb)) for i in todo]
        infos = describe_images([batch[i].rgb for i in todo], ms, watch, ocr=run_ocr)
        for i, info in zip(todo, infos):
            batch[i].info = info
        with watch.stage("thumbs"):
            if faces_out is not None:
                for i, info in zip(todo, infos):
                    if info.found_faces:  # the segment is known only after the scan: episode_id set below
                        faces_out.extend(face_records(batch[i].rgb, info.found_faces, media_id=media.media_id,
                                                      episode_id="", offset_s=batch[i].t, folder=folder,
                                                      home=Path(opts.home), first=len(faces_out)))
            for k in batch:
                key_path = folder / f"key_{n_saved:04d}_{k.t:08.2f}.jpg"
                save_jpeg(k.rgb, key_path, opts.keyframe_px)
                if n_saved == 0:
                    save_jpeg(k.rgb, folder / "thumb.jpg", opts.thumb_px)
                    media.thumbnail = rel_to_home(opts, folder / "thumb.jpg")
                n_saved += 1
                k.path = rel_to_home(opts, key_path)
                k.rgb = np.empty((0, 0, 3), np.uint8)  # free the pixels now the JPEG is written
                recent.append(k)
        del recent[:-8]
        describe_s += time.perf_counter() - t_start

    reader: FrameReader | None = None
    iframes = iframe_times(path) if opts.video_decode == "auto" else None
    with watch.stage("decode"):
        duration = media.duration_s
        if iframes and not duration:
            duration = iframes[-1]
    keyframe_mode = iframes_usable(iframes, duration, opts)
    if keyframe_mode:
        try:
            with watch.stage("decode"):
                times, changes, keys = scan_iframes(path, media.rotation, opts, flush=describe)
        except Exception as e:  # a decoder error on some file: the 1 fps scan reads it or says why not
            log.info("%s: keyframes-only decoding failed (%s); scanning at 1 fps", path_text(path), e)
            keyframe_mode = False
            recent.clear()
            n_saved = 0
    if not keyframe_mode:
        with watch.stage("decode"):
            reader = FrameReader(path, threads)
            duration = media.duration_s or reader.n / reader.fps
            times, changes, keys = scan(reader, duration, media.rotation, opts, flush=describe)
    watch.seconds["decode"] -= describe_s  # the models' time is in their own stages
    if media.rotation % 180:
        media.width, media.height = media.height, media.width
    with watch.stage("segment"):
        rough = shot_boundaries(times, changes, opts.shot_threshold)
        cuts = refine_cuts(path, reader, media.rotation, times, rough, opts)
        spans = split_spans(0.0, duration, cuts, opts.segment_max_s)
    del reader
    # the samples stay for the speakers' voices, up to VOICES_MAX_S of sound (60 MB a quarter hour)
    audio: list = [] if voices_out is not None and opts.voices != "never" and duration <= VOICES_MAX_S else None
    transcript = transcribe_track(path, ms, watch, audio_out=audio) if media.has_audio else None
    words = words_of(transcript)
    episodes = build_episodes(media, spans, keys, words, transcript, opts, kind="video")
    if audio and transcript and transcript.segments and voices_out is not None:
        with watch.stage("voices"):  # a shot can hold two speakers: it is the one who says most of it
            turns = diarize(audio[0], spoken_spans(transcript.segments))
            voices_out.extend(file_voices(audio[0], media.media_id, turns, [
                (e.episode_id, e.offset_start, e.offset_end) for e in episodes if e.scale == "segment"]))
    for f in faces_out or []:
        n = next((j for j, (a, b) in enumerate(spans) if a <= f.offset_s < b), max(0, len(spans) - 1))
        f.episode_id = f"{media.media_id}:segment:{n}"
    with watch.stage("visual_memory"):
        visual = encode_keyframes(media.media_id, [(k.path, k.t) for k in keys if k.path], episodes, opts, ms)
    return episodes, visual
