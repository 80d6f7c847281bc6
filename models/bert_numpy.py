"""A BERT sentence encoder in numpy: the forward pass of a sentence-transformers "Transformer ->
mean Pooling -> Normalize" model without torch.

Importing torch costs 5-7 s on a cold two-core machine, more than the rest of a `lifelog ask`; this
encoder reads the same files (config.json, model.safetensors, tokenizer.json) and gives the same
vectors (cosine >= 0.9999 to sentence-transformers', tests/test_text_embed_numpy.py), so stored
libraries stay valid.

    >>> enc = BertEncoder.from_folder(path)     # UnsupportedModelError if it is not such a model
    >>> enc.encode(["where are my keys"]).shape
    (1, 384)

Imports only numpy at import time; `tokenizers` and `safetensors` with the weights.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

# sentence-transformers' cap for all-MiniLM-L6-v2 (its sentence_bert_config.json); a folder's own
# sentence_bert_config.json wins
DEFAULT_MAX_TOKENS = 256
# padded tokens per forward pass: big enough for efficient matmuls, small enough that a batch of
# 64 sentences makes several chunks to spread over the cores
CHUNK_TOKENS = 2048
# rows per feed-forward block and float32 scores per attention block: sized for a 2 MB L2 / 32 MB
# L3, measured on a 2-core EPYC (benchmarks/bench_text_embed.py)
FF_ROWS = 512
ATTN_SCORES = 4 * 1024 * 1024


class UnsupportedModelError(ValueError):
    """The folder is not a plain BERT with mean pooling; load it with sentence-transformers instead."""


@dataclass(frozen=True)
class BertConfig:
    """The parts of a Hugging Face BertConfig the forward pass reads."""

    hidden_size: int
    num_layers: int
    num_heads: int
    layer_norm_eps: float
    hidden_act: str
    # tokens per text, [CLS] and [SEP] included (truncated past it, as sentence-transformers does)
    max_tokens: int
    # sentence_bert_config.json's do_lower_case: sentence-transformers lowercases before tokenizing
    lowercase: bool


def _read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32's resolution near 1, and faster
    # than scipy.special.erf without its ~0.3 s import
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
             - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
    np.negative(a, out=a)
    a *= np.abs(x)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _gelu(x: np.ndarray) -> np.ndarray:
    # exact GELU, x * Phi(x), as BERT's hidden_act "gelu" (torch's erf form, not the tanh approximation)
    y = _erf(x * np.float32(1 / math.sqrt(2)))
    y += 1.0
    y *= 0.5
    y *= x
    return y


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    # hidden_act "gelu_new" / "gelu_pytorch_tanh" (GPT-2's approximation)
    inner = np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
    return 0.5 * x * (1.0 + np.tanh(inner))


_ACTIVATIONS = {"gelu": _gelu, "gelu_new": _gelu_tanh, "gelu_pytorch_tanh": _gelu_tanh}


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    var = np.mean(np.square(x), axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + np.float32(eps))
    x *= weight
    x += bias
    return x


def check_folder(path: Path) -> BertConfig:
    """The config of a folder this encoder can run, or UnsupportedModelError saying why not.

    Runs: a BERT (absolute positions, GELU) with model.safetensors and tokenizer.json whose
    sentence-transformers pipeline is Transformer -> mean Pooling [-> Normalize], or that has no
    modules.json (sentence-transformers then adds mean pooling itself)."""
    path = Path(path)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            raise UnsupportedModelError(f"{path} has no {name}")
    cfg = _read_json(path / "config.json")
    if cfg.get("model_type") != "bert":
        raise UnsupportedModelError(f"{path}: model_type={cfg.get('model_type')!r}, not 'bert'")
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedModelError(f"{path}: position_embedding_type={cfg['position_embedding_type']!r}")
    act = cfg.get("hidden_act", "gelu")
    if act not in _ACTIVATIONS:
        raise UnsupportedModelError(f"{path}: hidden_act={act!r}")
    st_cfg = _read_json(path / "config_sentence_transformers.json") if (path / "config_sentence_transformers.json").is_file() else {}
    if st_cfg.get("default_prompt_name"):
        raise UnsupportedModelError(f"{path}: a default prompt {st_cfg['default_prompt_name']!r} is applied by sentence-transformers")
    if (path / "modules.json").is_file():
        modules = _read_json(path / "modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]) or modules[0].get("path", ""):
            raise UnsupportedModelError(f"{path}: pipeline {kinds} is not Transformer -> Pooling [-> Normalize]")
        pooling = _read_json(path / modules[1]["path"] / "config.json")
        # sentence-transformers >= 6 writes "pooling_mode": "mean"; older folders one bool per mode
        mode = pooling.get("pooling_mode") or [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True]
        if mode not in ("mean", ["mean"], ["pooling_mode_mean_tokens"]):
            raise UnsupportedModelError(f"{path}: pooling {mode} is not mean pooling")
    sbert = _read_json(path / "sentence_bert_config.json") if (path / "sentence_bert_config.json").is_file() else {}
    max_tokens = int(sbert.get("max_seq_length") or DEFAULT_MAX_TOKENS)
    return BertConfig(
        hidden_size=int(cfg["hidden_size"]),
        num_layers=int(cfg["num_hidden_layers"]),
        num_heads=int(cfg["num_attention_heads"]),
        layer_norm_eps=float(cfg.get("layer_norm_eps", 1e-12)),
        hidden_act=act,
        max_tokens=min(max_tokens, int(cfg.get("max_position_embeddings", 512))),
        lowercase=bool(sbert.get("do_lower_case", False)),
    )


def _chunks(ids: list[list[int]], chunk_tokens: int) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
    """(rows, padded ids, attention mask) per forward pass; texts sorted by length so chunks pad little."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    chunks = []
    start = 0
    while start < len(order):
        end = start + 1
        # grow while the padded size (texts x the longest, which is the last) fits the budget
        while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= chunk_tokens:
            end += 1
        rows = order[start:end]
        longest = len(ids[rows[-1]])
        batch = np.zeros((len(rows), longest), dtype=np.int64)
        mask = np.zeros((len(rows), longest), dtype=np.float32)
        for r, i in enumerate(rows):
            batch[r, : len(ids[i])] = ids[i]
            mask[r, : len(ids[i])] = 1.0
        chunks.append((rows, batch, mask))
        start = end
    return chunks


class _Threads:
    """One BLAS thread per matmul, and chunks spread over one worker per usable CPU.

    OpenBLAS splits each matmul over all cores and waits for the slowest: on a busy machine (an
    ingest running beside a question, another process) one descheduled helper thread turns a
    5-10 ms query into 0.5-0.8 s, and a batch runs 2-5x slower than on one thread (measured on
    2 busy cores). Whole chunks on separate threads (numpy drops the GIL in matmuls and ufuncs)
    use the cores without that lockstep."""

    def __init__(self) -> None:
        self.workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._active = 0
        self._limiter: object | None = None
        self._pool: ThreadPoolExecutor | None = None
        # BLAS keeps its own threads and chunks run one after another. Holding BLAS to one thread
        # while encoding (threadpoolctl) was faster on a busy machine, but the limit is process-wide:
        # speech recognition's features, computed at the same moment in another ingest thread, came
        # out of a differently threaded BLAS and its transcripts differed from run to run
        self._controller: object | None = None
        self.workers = 1

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[None]:
        # the limit is process-wide: set by the first of concurrent encodes, restored by the last
        with self._lock:
            if self._active == 0 and self._controller is not None:
                self._limiter = self._controller.limit(limits=1, user_api="blas")  # type: ignore[attr-defined]
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._limiter is not None:
                    self._limiter.restore_original_limits()  # type: ignore[attr-defined]
                    self._limiter = None

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="bert-numpy")
            return self._pool


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden): query, key, value side by side, one matmul
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    ff_w: np.ndarray
    ff_b: np.ndarray
    ff_out_w: np.ndarray
    ff_out_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class BertEncoder:
    """BERT forward + mean pooling + L2 normalisation in float32 numpy (see the module docstring)."""

    def __init__(self, config: BertConfig, weights: dict[str, np.ndarray], tokenizer: object) -> None:
        self.config = config
        self.dim = config.hidden_size
        self.tokenizer = tokenizer
        self._act = _ACTIVATIONS[config.hidden_act]
        self._blas = _Threads()

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # torch stores (out, in); x @ W.T wants (in, out), made contiguous once here
            return np.ascontiguousarray(w(name + ".weight").T), w(name + ".bias")

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")
        self.emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers: list[_Layer] = []
        for i in range(config.num_layers):
            p = f"encoder.layer.{i}."
            qkv = [linear(p + f"attention.self.{n}") for n in ("query", "key", "value")]
            out_w, out_b = linear(p + "attention.output.dense")
            ff_w, ff_b = linear(p + "intermediate.dense")
            ff_out_w, ff_out_b = linear(p + "output.dense")
            self.layers.append(_Layer(
                qkv_w=np.ascontiguousarray(np.concatenate([q[0] for q in qkv], axis=1)),
                qkv_b=np.concatenate([q[1] for q in qkv]),
                out_w=out_w, out_b=out_b,
                ln1_w=w(p + "attention.output.LayerNorm.weight"), ln1_b=w(p + "attention.output.LayerNorm.bias"),
                ff_w=ff_w, ff_b=ff_b, ff_out_w=ff_out_w, ff_out_b=ff_out_b,
                ln2_w=w(p + "output.LayerNorm.weight"), ln2_b=w(p + "output.LayerNorm.bias"),
            ))

    @classmethod
    def from_folder(cls, path: str | Path) -> "BertEncoder":
        """Load a sentence-transformers BERT folder; UnsupportedModelError if `check_folder` refuses it."""
        from safetensors import safe_open
        from tokenizers import Tokenizer

        path = Path(path)
        config = check_folder(path)
        weights: dict[str, np.ndarray] = {}
        with safe_open(str(path / "model.safetensors"), framework="np") as f:
            keys = list(f.keys())
            # a checkpoint saved from BertForMaskedLM & co. prefixes the encoder with "bert."
            prefix = "bert." if "bert.embeddings.word_embeddings.weight" in keys else ""
            for key in keys:
                if key.startswith(prefix):
                    weights[key[len(prefix):]] = f.get_tensor(key)
        if "embeddings.word_embeddings.weight" not in weights:
            raise UnsupportedModelError(f"{path}/model.safetensors holds no BERT embeddings (keys like {keys[:3]})")
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizer.json may carry fixed padding/truncation (MiniLM's pads every text to 128):
        # pad per chunk here, truncate where sentence-transformers does
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=config.max_tokens)
        try:
            return cls(config, weights, tokenizer)
        except KeyError as e:
            raise UnsupportedModelError(f"{path}/model.safetensors lacks BERT weight {e}") from e

    def encode(self, texts: Sequence[str], *, chunk_tokens: int = CHUNK_TOKENS) -> np.ndarray:
        """(len(texts), dim) float32 rows, mean-pooled over each text's tokens and L2-normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if self.config.lowercase:
            texts = [t.lower() for t in texts]
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]  # type: ignore[attr-defined]
        chunks = _chunks(ids, chunk_tokens)

        def run(chunk: tuple[list[int], np.ndarray, np.ndarray]) -> None:
            rows, batch, mask = chunk
            out[rows] = self._forward(batch, mask)

        with self._blas.one_thread():
            if len(chunks) > 1 and self._blas.workers > 1:
                list(self._blas.pool().map(run, chunks))
            else:
                for chunk in chunks:
                    run(chunk)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        cfg = self.config
        b, n = ids.shape
        d = cfg.hidden_size
        # token type 0 throughout: one text per row, no pairs
        x = self.word[ids] + self.position[:n] + self.token_type[0]
        x = _layer_norm(x.reshape(b * n, d), *self.emb_ln, cfg.layer_norm_eps)
        # padded keys get a large negative score; every row has a real [CLS], so no row is all masked
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :] if mask.min() == 0 else None
        for layer in self.layers:
            qkv = x @ layer.qkv_w
            qkv += layer.qkv_b
            ctx = self._attention(qkv.reshape(b, n, 3 * d), bias)
            attn = ctx @ layer.out_w
            attn += layer.out_b
            attn += x
            x = _layer_norm(attn, layer.ln1_w, layer.ln1_b, cfg.layer_norm_eps)
            # the feed-forward in row blocks: its (rows, 4*hidden) activations stay in cache
            # through the dozen element-wise passes of the GELU
            ff = np.empty_like(x)
            for i in range(0, len(x), FF_ROWS):
                h = x[i : i + FF_ROWS] @ layer.ff_w
                h += layer.ff_b
                np.matmul(self._act(h), layer.ff_out_w, out=ff[i : i + FF_ROWS])
            ff += layer.ff_out_b
            ff += x
            x = _layer_norm(ff, layer.ln2_w, layer.ln2_b, cfg.layer_norm_eps)
        x = x.reshape(b, n, d)
        pooled = np.einsum("bnd,bn->bd", x, mask) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _attention(self, qkv: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """Masked multi-head self-attention: (b, n, 3*hidden) projections -> (b*n, hidden) context."""
        b, n, _ = qkv.shape
        heads, d = self.config.num_heads, self.config.hidden_size
        dh = d // heads
        scale = np.float32(1 / math.sqrt(dh))
        ctx = np.empty((b, n, heads, dh), dtype=np.float32)
        # a few texts at a time, so the (texts, heads, n, n) scores stay within ~16 MB
        step = max(1, ATTN_SCORES // (heads * n * n))
        for i in range(0, b, step):
            part = qkv[i : i + step].reshape(-1, n, 3, heads, dh)
            q = np.ascontiguousarray(part[:, :, 0].transpose(0, 2, 1, 3))  # (texts, heads, n, dh)
            q *= scale
            k_t = np.ascontiguousarray(part[:, :, 1].transpose(0, 2, 3, 1))
            v = np.ascontiguousarray(part[:, :, 2].transpose(0, 2, 1, 3))
            scores = q @ k_t
            if bias is not None:
                scores += bias[i : i + step]
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx[i : i + step] = (scores @ v).transpose(0, 2, 1, 3)
        return ctx.reshape(b * n, d)
