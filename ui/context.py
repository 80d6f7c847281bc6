"""The app's `Context`: what every handler takes first (the memory, the staged media, the ingestor)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lifelog
from lifelog.jobs import Ingestor
from ui.media import MediaCache
from ui.warm import Warmup


@dataclass
class Context:
    """What every handler needs: the memory, the staged media, the ingestion runner, the model warm-up."""

    mem: lifelog.Memory
    media: MediaCache
    ingestor: Ingestor
    warm: Warmup


def make_context(mem: lifelog.Memory, media_root: str | Path | None = None) -> Context:
    return Context(mem=mem, media=MediaCache(mem, media_root), ingestor=Ingestor(mem), warm=Warmup(mem))


__all__ = ["Context", "make_context"]
