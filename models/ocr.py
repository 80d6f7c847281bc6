"""Text in images with RapidOCR (PP-OCR detection, angle and recognition ONNX models inside its wheel).

    >>> ocr = models.load(models.resolve("ocr", "bundled"), cache_dir)
    >>> [line.text for line in ocr.read(Image.open("receipt.jpg"))]
    ['Total 42.50', ...]

About 0.5 s per image on 2 cores: callers gate it (only frames that changed, only where text is likely).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from models.registry import ModelSpec
from models.tags import as_rgb_array
from models.types import OcrLine


class RapidOcrReader:
    """Lines of text, in RapidOCR's reading order, with axis-aligned boxes."""

    def __init__(self, engine: object, min_score: float = 0.5) -> None:
        self.engine = engine
        self.min_score = min_score

    def read(self, image: object) -> list[OcrLine]:
        # RapidOCR reads a bare array as OpenCV's BGR; ours are RGB
        bgr = np.ascontiguousarray(as_rgb_array(image)[:, :, ::-1])
        result = self.engine(bgr)  # type: ignore[operator]
        if result.txts is None or result.boxes is None:
            return []
        lines = []
        for text, score, quad in zip(result.txts, result.scores, result.boxes):
            if not text.strip() or score < self.min_score:
                continue
            q = np.asarray(quad, dtype=np.float32)  # 4 corners of a possibly rotated box
            box = (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
            lines.append(OcrLine(text=text, score=float(score), box=box))
        return lines


def load_rapidocr(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> RapidOcrReader:
    from rapidocr import RapidOCR

    # RapidOCR logs every model path at INFO and warns on every image without text
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    engine = RapidOCR(params={"Global.log_level": "error"})
    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    return RapidOcrReader(engine, min_score=float(opts.get("min_score", 0.5)))
