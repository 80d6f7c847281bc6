"""Shared fixtures: the real media beside the project, and throwaway library homes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = ROOT.parent / "shared" / "media"
SAMPLE_MEDIA = ROOT / "sample_media"

# tests never reach a model hub, and must not try
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real media folder {SHARED_MEDIA} is missing (it sits beside the project in CI)")
    return SHARED_MEDIA


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"
