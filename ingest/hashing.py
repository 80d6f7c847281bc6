"""Content hashes (file identity) and perceptual hashes (near-duplicate grouping)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

_CHUNK = 1 << 20  # 1 MiB reads: streaming, so a 4 GB video never sits in memory


def file_hash(path: str | Path) -> str:
    """blake2b-128 hex digest of the file's bytes: the media_id of a file, whatever its name."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def phash(image: np.ndarray | object) -> str:
    """64-bit DCT perceptual hash as 16 hex digits (the pHash of Zauner 2010, as imagehash does it).

    Grey 32x32, 2-D DCT, keep the 8x8 lowest frequencies, one bit per coefficient above their median.
    """
    arr = np.asarray(image)
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(arr.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8]
    bits = (low > np.median(low)).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes (64 for a missing one, so it never matches)."""
    if not a or not b:
        return 64
    return bin(int(a, 16) ^ int(b, 16)).count("1")
