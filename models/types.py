"""What models return: small typed records shared by every wrapper (a leaf: imports nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class Word:
    start: float  # seconds from the start of the audio given to the model
    end: float
    text: str
    prob: float = 1.0


@dataclass(frozen=True)
class SpeechSegment:
    start: float  # seconds
    end: float
    text: str
    words: tuple[Word, ...] = ()
    channel: int | None = None  # audio channel when a stereo file is split per speaker


@dataclass(frozen=True)
class Transcript:
    segments: tuple[SpeechSegment, ...]
    language: str = ""
    # seconds of audio that voice activity detection judged to be speech
    speech_seconds: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True)
class Tag:
    label: str
    score: float


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the image given


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    score: float
    embedding: np.ndarray | None = field(default=None, compare=False)  # 128-d, L2 distance < 0.6: same person


# The interfaces each role's wrapper offers. Images are RGB PIL images or HxWx3 uint8 arrays;
# audio is 16 kHz mono float32 in [-1, 1] (or a path, which the wrapper decodes).

class TextEmbedder(Protocol):
    dim: int
    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray: ...


class ImageTextEmbedder(Protocol):
    dim: int
    def embed_images(self, images: Sequence[object]) -> np.ndarray: ...
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


class Tagger(Protocol):
    def tag(self, images: Sequence[object], *, top_k: int = 5) -> list[list[Tag]]: ...


class Ocr(Protocol):
    def read(self, image: object) -> list[OcrLine]: ...


class SpeechToText(Protocol):
    def transcribe(self, audio: np.ndarray, *, language: str | None = None, word_timestamps: bool = True) -> Transcript: ...


class VoiceActivity(Protocol):
    def speech_spans(self, audio: np.ndarray) -> list[tuple[float, float]]: ...


class FaceModel(Protocol):
    def faces(self, image: object) -> list[Face]: ...


class Captioner(Protocol):
    def caption(self, images: Sequence[object], *, prompt: str | None = None, max_new_tokens: int = 48) -> str: ...


class ChatModel(Protocol):
    def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 128, temperature: float = 0.0) -> str: ...
