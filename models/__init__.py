"""Model registry and lazy loaders. A leaf package: it imports nothing else of the project.

    >>> import models
    >>> spec = models.resolve("speech", "bundled")
    >>> stt = models.load(spec, cache_dir)      # first call loads, later calls reuse
    >>> stt.transcribe(audio).text

Nothing here loads weights at import time.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

# weights load from local files in well under a second: a "Loading weights 0/103" bar per model is
# chatter (read by huggingface_hub and transformers when they are first imported)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from models.registry import (
    PROFILE_SPECS,
    PROFILES,
    ROLE_TITLES,
    ROLES,
    SPECS,
    ModelNotAvailableError,
    ModelSpec,
    Source,
    get_spec,
    resolve,
)

# family -> "module:function"; each function takes (spec, cache_dir, device) and returns a wrapper
LOADERS: dict[str, str] = {
    "faster-whisper": "models.speech:load_faster_whisper",
    "openai-whisper": "models.speech:load_openai_whisper",
    "silero": "models.vad:load_silero",
    "sentence-transformers": "models.text_embed:load_sentence_transformer",
    "bert-random": "models.text_embed:load_random_bert",
    "label-embed": "models.image_embed:load_label_embed",
    "open-clip": "models.image_embed:load_open_clip",
    "rapidocr": "models.ocr:load_rapidocr",
    "efficientnet": "models.tags:load_efficientnet",
    "faces": "models.faces:load_faces",
    "llama-cpp": "models.llm:load_llama_cpp",
    "hf-vlm": "models.caption:load_hf_vlm",
}

_cache: dict[tuple[str, str, str], object] = {}
_lock = threading.RLock()


def load(spec: ModelSpec, cache_dir: str | Path, device: str = "cpu") -> object:
    """Load a model once per process and return its wrapper (see models.types for the interfaces)."""
    key = (spec.name + "|" + spec.source.path, str(cache_dir), device)
    with _lock:
        if key in _cache:
            return _cache[key]
        if spec.family not in LOADERS:
            raise ModelNotAvailableError(f"{spec.name}: {spec.notes or 'no model for this role'}")
        ok, reason = spec.availability(Path(cache_dir))
        if not ok:
            raise ModelNotAvailableError(
                f"model {spec.name!r} ({ROLE_TITLES[spec.role]}) is not available: {reason}. "
                f"It comes from {spec.source.describe()}. Get it with: {spec.how_to_get()}"
            )
        module_name, func = LOADERS[spec.family].split(":")
        loader = getattr(importlib.import_module(module_name), func)
        model = loader(spec, Path(cache_dir), device)
        _cache[key] = model
        return model


def loaded() -> list[str]:
    """Names of the models this process has loaded (for status and tests)."""
    return sorted(k[0].split("|")[0] for k in _cache)


def unload_all() -> None:
    with _lock:
        _cache.clear()


__all__ = [
    "LOADERS", "PROFILES", "PROFILE_SPECS", "ROLES", "ROLE_TITLES", "SPECS", "ModelNotAvailableError",
    "ModelSpec", "Source", "get_spec", "load", "loaded", "resolve", "unload_all",
]
