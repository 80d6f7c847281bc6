"""Describe pictures with the profile's models: tags, text in the image, faces, image vectors.

Shared by photos and video keyframes. Models are obtained lazily through `models.load` the first
time a role is needed, so a batch of audio files never loads an image model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import cv2
import numpy as np

import models
from ingest.hashing import phash
from ingest.records import FaceRecord

if TYPE_CHECKING:
    from ingest.options import IngestOptions

log = logging.getLogger(__name__)

# a tag must reach this probability to be kept (ImageNet tags below it are mostly noise)
MIN_TAG_SCORE = 0.1
MAX_TAGS = 5
# word-like boxes with an aligned neighbour that make text_likely() say yes: a video's frames
# need many (dozens of frames a minute); a photo is read once, and the facts people ask about
# (receipts, signs, posters, tickets) are in its text, so a few suffice (a false yes costs ~0.5 s
# of OCR; on ../shared/eval/media, 7 missed a street sign, a shop sign and a poster)
TEXT_MIN_WORDS = 7
PHOTO_TEXT_MIN_WORDS = 3


class ModelSet:
    """The profile's models for one ingestion run, loaded at first use, with per-stage timings.

    A role whose model is missing is skipped with one warning (e.g. no faces), except the text
    embedder, without which nothing could be searched.
    """

    def __init__(self, opts: "IngestOptions") -> None:
        self.opts = opts
        self._lock = threading.Lock()
        self._missing: dict[str, str] = {}

    def spec(self, role: str) -> models.ModelSpec:
        return models.resolve(role, self.opts.profile, dict(self.opts.model_overrides))  # type: ignore[arg-type]

    def get(self, role: str, *, required: bool = False) -> Any | None:
        spec = self.spec(role)
        if spec.family == "none":
            return None
        try:
            return models.load(spec, self.opts.cache_dir, self.opts.device)
        except (models.ModelNotAvailableError, ImportError) as e:
            # ImportError: the role's wrapper module or its package is missing from this install
            if required:
                raise
            with self._lock:
                if role not in self._missing:
                    self._missing[role] = str(e)
                    log.warning("skipping %s: %s", role, e)
            return None

    def has_captioner(self) -> bool:
        return self.spec("caption").family != "none"


@dataclass
class Stopwatch:
    """Seconds per stage, summed (FileResult.timings)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def stage(self, name: str) -> "_Stage":
        return _Stage(self, name)


class _Stage:
    def __init__(self, watch: Stopwatch, name: str) -> None:
        self.watch, self.name = watch, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.watch.seconds[self.name] += time.perf_counter() - self.t0


@dataclass
class FrameInfo:
    """What the models saw in one picture."""

    tags: list[tuple[str, float]] = field(default_factory=list)
    ocr: list[str] = field(default_factory=list)
    faces: int = 0
    # the embedded faces themselves (box in this picture's pixels), for FaceRecords and crops
    found_faces: list[Any] = field(default_factory=list)
    image_vector: np.ndarray | None = None
    phash: str = ""
    caption: str = ""


def text_likely(rgb: np.ndarray, min_words: int | None = None) -> bool:
    """A cheap test (a few ms) for "this picture probably holds text", to gate OCR (~0.5 s a picture).

    Text is rows of small, high-contrast strokes: a morphological gradient, binarised and closed
    with a horizontal kernel, joins the letters of a word into a wide short blob. Two or more such
    blobs of a plausible letter height mean text is likely. Misses tiny or heavily slanted text.
    """
    grey = cv2.cvtColor(np.asarray(rgb)[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = 640 / max(h, w)
    if scale < 1:
        grey = cv2.resize(grey, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    grad = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, bw = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if bw.mean() / 255 > 0.35:  # texture everywhere (foliage, gravel): Otsu found no strokes
        return False
    joined = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    # RETR_LIST, not EXTERNAL: a frame or sign border around the text must not hide the words inside
    contours, _ = cv2.findContours(joined, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours:
        x, y, cw, ch = cv2.boundingRect(c)
        if 8 <= ch <= 60 and cw >= 2.5 * ch and cw < 0.9 * grey.shape[1]:
            fill = cv2.countNonZero(bw[y:y + ch, x:x + cw]) / float(cw * ch)
            if 0.25 <= fill <= 0.8:
                boxes.append((x, y, cw, ch))
    # text comes in lines and columns: count word boxes that have a neighbour of similar height
    # on the same line or left-aligned above/below; lone elongated blobs (edges, rims) do not count
    boxes = boxes[:300]  # bounds the pairwise check on very busy pictures
    aligned = 0
    for i, (x, y, cw, ch) in enumerate(boxes):
        for j, (x2, y2, cw2, ch2) in enumerate(boxes):
            if i != j and 0.6 <= ch2 / ch <= 1.6 and (
                (abs((y + ch / 2) - (y2 + ch2 / 2)) < ch / 2 and abs(x2 - x) < 4 * (cw + cw2))
                or (abs(x2 - x) < ch and abs(y2 - y) < 3 * ch)
            ):
                aligned += 1
                break
    return aligned >= (TEXT_MIN_WORDS if min_words is None else min_words)


def describe_images(
    images: Sequence[np.ndarray], ms: ModelSet, watch: Stopwatch, *, ocr: Sequence[bool]
) -> list[FrameInfo]:
    """Tags, gated OCR, faces, image vector and phash for each RGB picture (batched where the model allows)."""
    infos = [FrameInfo() for _ in images]
    if not images:
        return infos
    with watch.stage("hash"):
        for info, img in zip(infos, images):
            info.phash = phash(img)
    tagger = ms.get("tags")
    if tagger is not None:
        with watch.stage("tags"):
            for info, tags in zip(infos, tagger.tag(list(images), top_k=MAX_TAGS)):
                info.tags = [(t.label, float(t.score)) for t in tags if t.score >= MIN_TAG_SCORE]
    embedder = ms.get("image_text")
    if embedder is not None:
        with watch.stage("image_embed"):
            vecs = np.asarray(embedder.embed_images(list(images)), dtype=np.float32)
            for info, v in zip(infos, vecs):
                info.image_vector = v
    if any(ocr):
        reader = ms.get("ocr")
        if reader is not None:
            with watch.stage("ocr"):
                for info, img, run in zip(infos, images, ocr):
                    if run:
                        info.ocr = ocr_rows([ln for ln in reader.read(img) if ln.score >= 0.6 and ln.text.strip()])
    detector = ms.get("faces")
    if detector is not None:
        with watch.stage("faces"):
            for info, img in zip(infos, images):
                found = [f for f in detector.faces(img) if f.score >= 0.5]
                info.faces = len(found)
                info.found_faces = [f for f in found if f.embedding is not None]
    if ms.has_captioner():
        captioner = ms.get("caption")
        if captioner is not None:
            with watch.stage("caption"):
                for info, img in zip(infos, images):
                    info.caption = captioner.caption([img]).strip()
    return infos


def merge_tags(tag_lists: Sequence[Sequence[tuple[str, float]]], k: int = MAX_TAGS) -> list[str]:
    """The k labels with the highest summed score over several pictures (frequent and confident first)."""
    total: dict[str, float] = defaultdict(float)
    for tags in tag_lists:
        for label, score in tags:
            total[label] += score
    return [label for label, _ in sorted(total.items(), key=lambda kv: -kv[1])[:k]]


def unique_lines(lines: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for line in lines:
        key = line.casefold()
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out


def mean_vector(vectors: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """L2-normalised mean of the given vectors (a coarser episode's image vector), None if none."""
    vs = [v for v in vectors if v is not None]
    if not vs:
        return None
    m = np.mean(np.stack(vs), axis=0).astype(np.float32)
    n = float(np.linalg.norm(m))
    return m / n if n > 0 else m


def ocr_rows(lines: Sequence[object]) -> list[str]:
    """Join OCR boxes that sit on one row (a menu's "pastel de nata .... 1,20 €") into one line,
    rows top to bottom, boxes left to right: a price or label stays with what it belongs to."""
    rows: list[list[object]] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):  # type: ignore[attr-defined]
        x0, y0, x1, y1 = ln.box  # type: ignore[attr-defined]
        mid = (y0 + y1) / 2
        if rows:
            px0, py0, px1, py1 = rows[-1][-1].box  # type: ignore[attr-defined]
            if abs(mid - (py0 + py1) / 2) < 0.5 * max(y1 - y0, py1 - py0):
                rows[-1].append(ln)
                continue
        rows.append([ln])
    return ["  ".join(ln.text.strip() for ln in sorted(row, key=lambda ln: ln.box[0])) for row in rows]  # type: ignore[attr-defined]


def compose_caption(kind: str, tags: Sequence[str], ocr: Sequence[str], faces: int, transcript: str = "", vlm: str = "") -> str:
    """A caption from the signals, for profiles without a captioner ("Photo: espresso, cup; text: 'Café Aurora'")."""
    noun = {"photo": "Photo", "video": "Video", "audio": "Recording"}.get(kind, kind.capitalize())
    parts = [f"{noun}: {vlm}" if vlm else f"{noun}: {', '.join(tags)}" if tags else noun]
    if faces:
        parts.append("1 person" if faces == 1 else f"{faces} people")
    if ocr:
        text = " / ".join(ocr)
        parts.append(f"text: '{text[:120]}'")
    if transcript:
        words = transcript.split()
        parts.append("said: '" + " ".join(words[:25]) + ("...'" if len(words) > 25 else "'"))
    return "; ".join(parts)


# long side (px) of a stored face crop: enough to recognise someone in a list of people
FACE_CROP_PX = 128


def face_records(rgb: np.ndarray, faces: Sequence[Any], *, media_id: str, episode_id: str, offset_s: float,
                 folder: Path, home: Path, first: int = 0) -> list[FaceRecord]:
    """FaceRecords for faces found in one picture, each with a crop saved as folder/face_<n>.jpg.

    The crop is the box widened by a quarter on each side (hair and chin help a person recognise
    the face); n counts from `first` so a video's keyframes never overwrite each other's crops.
    """
    out = []
    h, w = rgb.shape[:2]
    for i, f in enumerate(faces):
        n = first + i
        x0, y0, x1, y1 = f.box
        mx, my = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        crop = rgb[int(max(0, y0 - my)):int(min(h, y1 + my)), int(max(0, x0 - mx)):int(min(w, x1 + mx))]
        dest = folder / f"face_{n}.jpg"
        if crop.size:
            save_jpeg(crop, dest, FACE_CROP_PX)
        out.append(FaceRecord(
            face_id=f"{media_id}:face:{n}", media_id=media_id, episode_id=episode_id, offset_s=float(offset_s),
            box=tuple(float(v) for v in f.box), score=float(f.score),  # type: ignore[arg-type]
            embedding=np.asarray(f.embedding, np.float32),
            crop=dest.relative_to(home).as_posix() if crop.size else "",
        ))
    return out


def save_jpeg(rgb: np.ndarray, dest: Path, long_side: int, quality: int = 85) -> None:
    """Write a JPEG no longer than long_side, atomically (a crash leaves no half file)."""
    from PIL import Image

    im = Image.fromarray(np.asarray(rgb)[..., :3].astype(np.uint8))
    im.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    im.save(tmp, "JPEG", quality=quality, optimize=True)
    tmp.replace(dest)
