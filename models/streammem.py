"""Streaming KV-compressed visual memory (StreamMem) for long videos, with MovieChat's frame merging.

    >>> enc = StreamMemEncoder(load_vlm(models.resolve("caption", "full"), cache_dir), budget_tokens=1024)
    >>> memory = enc.encode(frames, times)          # frames already sampled by ingestion
    >>> memory.n_tokens <= 1024                     # whatever the video's length
    >>> text, logits = enc.answer(memory, "What colour was the mug?")

How it works (Yang et al., "StreamMem: Query-Agnostic KV Cache Memory for Streaming Video
Understanding", 2025; Song et al., "MovieChat", CVPR 2024):

1. Frames go through the vision-language model in chunks of `chunk_frames`, laid out as SmolVLM2
   lays out a video ("Frame from 00:12:<image tokens>"); each chunk's tokens are appended to the
   running KV cache.
2. After each chunk a generic probe, the chat template's assistant prefix
   ("<end_of_utterance>\\nAssistant:"), is run over the cache. The attention its queries give each
   cached token, averaged over probe tokens, heads and layers, scores the token. The probe knows
   nothing of any question, so the memory serves any later question (query-agnostic).
3. A new frame whose mean (un-rotated) key is nearly the same as its predecessor's is merged into
   it, slot by slot (a running mean of keys and values): a static shot costs one frame. When more
   frames remain than the budget can give `min_tokens_per_frame` each, the most similar adjacent
   frames are merged until they fit, so every moment keeps a trace.
4. The top-scored tokens are kept (each frame first keeps its best `min_tokens_per_frame`), the
   rest are dropped: the cache never holds more than `budget_tokens` after a chunk.

Positions: keys carry their rotary (RoPE) position. With `positions="compact"` (the default) the
kept tokens are re-rotated to positions 0..n-1 after each chunk, so a 10-hour video never needs
positions past what the model was trained on; `positions="original"` keeps each token's first
position and continues after the largest. Both give a cache the model reads as is.

A leaf: imports only `models` and third-party packages. The module stays whole: the encoder, its
merge and eviction steps and the re-rotation of positions are one algorithm whose parts share the
cache layout, and are read and tested together.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from models.registry import ModelSpec

# the generic probe (StreamMem): the tokens that open the assistant's turn in the chat template
PROBE_TEXT = "<end_of_utterance>\nAssistant:"
# SmolVLM2's own video prompt (transformers' video_processing_smolvlm), without the frame count,
# which a stream does not know in advance
PREFIX_TEXT = "<|im_start|>User: You are provided the following series of frames from a video.\n"
FRAME_TEXT = "\nFrame from {timestamp}:"
OUTRO_TEXT = "\n\n"

# settings defaults: a SmolVLM2-500M token costs 40 KB at float16 (32 layers x 5 KV heads x 64 dims,
# keys and values), so 512 tokens (about 7 frames' worth at full detail, 64 image tokens each) are
# 20 MB per video or event, whatever its length
DEFAULT_BUDGET_TOKENS = 512
DEFAULT_CHUNK_FRAMES = 8
# the one line said where the active profile has no VLM (ingest and the agent both say it)
SKIP_MESSAGE = "visual memory skipped: the bundled profile has no vision-language model; `lifelog models pull full`"

# tiny profile: the registry's tiny SmolVLM gives 4 image tokens a frame through 2 layers, too few
# for compression to mean much; 128 px images (16 image tokens a frame) through 4 layers do.
TINY_STREAMMEM_OPTIONS: dict[str, object] = {"image_size": 128, "text_layers": 4}


class VisualMemoryError(ValueError):
    """A visual memory does not fit the model or settings it is used with; the message says how to fix it."""


@dataclass
class VisualMemory:
    """A compressed KV cache of one video (or event): what the VLM "saw", at a fixed size.

    Keys and values are stacked over layers, `[n_layers, n_kv_heads, n_tokens, head_dim]`, float16
    (half the bytes of float32, and bf16 models read it back without loss that matters).
    """

    keys: Any  # torch.Tensor [L, H, T, D], rotary already applied at `positions`
    values: Any  # torch.Tensor [L, H, T, Dv]
    positions: np.ndarray  # [T] int64: each token's rotary position
    token_times: np.ndarray  # [T] float64: seconds into the video of the token's frame; -1 for the prompt prefix
    frame_spans: list[tuple[float, float]]  # (first, last) sampled time of each kept (possibly merged) frame
    model_id: str
    budget: int  # token budget it was compressed to; 0 means uncompressed (the full-cache baseline)
    n_layers: int
    n_kv_heads: int
    head_dim: int
    next_position: int  # rotary position of the first token that may follow
    frames_seen: int = 0
    # tokens the stream produced before compression: the uncompressed cache would hold this many
    tokens_seen: int = 0
    positions_mode: str = "compact"
    dtype: str = "float16"

    @property
    def n_tokens(self) -> int:
        return int(self.keys.shape[2])

    @property
    def nbytes(self) -> int:
        """Bytes of the key and value tensors (what storage and RAM pay)."""
        return int(self.keys.numel() * self.keys.element_size() + self.values.numel() * self.values.element_size())

    @property
    def layout(self) -> tuple[int, int, int]:
        return (self.n_layers, self.n_kv_heads, self.head_dim)

    @property
    def times(self) -> list[float]:
        """Distinct frame times the memory still holds tokens of, in order."""
        return sorted({float(t) for t in self.token_times if t >= 0})


def streammem_spec(spec: ModelSpec) -> ModelSpec:
    """The spec the visual memory loads: the caption VLM itself, or for random weights a tiny VLM
    big enough for compression to mean something (a distinct name, so it is cached apart)."""
    if spec.source.kind != "random":
        return spec
    options = {**spec.opts, **TINY_STREAMMEM_OPTIONS}
    return dataclasses.replace(spec, name=f"{spec.name}-streammem", options=tuple(options.items()))


def load_vlm(spec: ModelSpec, cache_dir: str | Path, device: str = "cpu") -> Any:
    """The VLM wrapper (models.caption.HfVlmCaptioner) the visual memory runs on, loaded once per process."""
    import models

    if spec.family != "hf-vlm":
        raise models.ModelNotAvailableError(
            f"model {spec.name!r} is not a transformers vision-language model (family {spec.family!r}); "
            f"the visual memory needs one: `lifelog models pull full`"
        )
    return models.load(streammem_spec(spec), cache_dir, device)


def _timestamp(t: float) -> str:
    s = max(0, int(t))
    return f"{s // 60:02d}:{s % 60:02d}"


@dataclass
class _State:
    """The running cache while a video streams in (model dtype, batch dimension dropped)."""

    keys: Any  # [L, H, T, D]
    values: Any
    pos: np.ndarray  # [T] int64 rotary positions
    frame: np.ndarray  # [T] int64 frame id, -1 for the prefix
    slot: np.ndarray  # [T] int64 image-token index within its frame, -1 for text tokens
    score: np.ndarray  # [T] float64 probe attention
    next_pos: int
    n_prefix: int
    tokens_seen: int = 0
    # frame id -> [first time, last time, frames merged into it]
    frames: dict[int, list[float]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.keys.shape[2])

    def take(self, idx: np.ndarray) -> None:
        import torch

        t = torch.as_tensor(idx, dtype=torch.long, device=self.keys.device)
        self.keys = self.keys.index_select(2, t)
        self.values = self.values.index_select(2, t)
        self.pos, self.frame, self.slot, self.score = self.pos[idx], self.frame[idx], self.slot[idx], self.score[idx]


class StreamMemEncoder:
    """Encode sampled video frames into a `VisualMemory` of at most `budget_tokens`, and answer over it.

    `vlm` is the caption role's wrapper (`.model`, a SmolVLM / Idefics3-style
    `...ForConditionalGeneration` with a Llama-style text model, and `.processor`).
    """

    def __init__(
        self,
        vlm: Any,
        budget_tokens: int = DEFAULT_BUDGET_TOKENS,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        *,
        # tokens each surviving frame keeps before the rest compete on score alone
        min_tokens_per_frame: int = 4,
        # cosine similarity of mean un-rotated keys above which an adjacent frame is merged (MovieChat)
        merge_threshold: float = 0.95,
        positions: Literal["compact", "original"] = "compact",
    ) -> None:
        if positions not in ("compact", "original"):
            raise ValueError(f"positions={positions!r}: choose 'compact' or 'original'")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames={chunk_frames}: at least one frame per chunk")
        self.vlm = vlm
        self.model = vlm.model
        self.processor = vlm.processor
        self.model_id = str(getattr(vlm, "name", type(self.model).__name__))
        self.budget = int(budget_tokens)
        self.chunk_frames = int(chunk_frames)
        self.min_tokens_per_frame = max(1, int(min_tokens_per_frame))
        self.merge_threshold = float(merge_threshold)
        self.positions = positions
        self.device = getattr(vlm, "device", "cpu")
        self.text_model = self.model.model.text_model
        cfg = self.model.config.text_config
        self.n_layers = int(cfg.num_hidden_layers)
        self.n_heads = int(cfg.num_attention_heads)
        self.n_kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self.n_heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads)
        tok = self.processor.tokenizer
        self.image_token_id = int(self.model.config.image_token_id)
        self.eos_ids = {int(i) for i in np.atleast_1d(self.model.generation_config.eos_token_id or []) if i is not None}
        self.prefix_ids = tok(PREFIX_TEXT, add_special_tokens=False)["input_ids"]
        self.probe_ids = tok(PROBE_TEXT, add_special_tokens=False)["input_ids"]
        if self.budget and self.budget < len(self.prefix_ids) + self.min_tokens_per_frame:
            raise VisualMemoryError(
                f"budget_tokens={self.budget} leaves no room for frames: the prompt prefix alone takes "
                f"{len(self.prefix_ids)} tokens; use at least {len(self.prefix_ids) + 16 * self.min_tokens_per_frame}"
            )
        image_processor = self.processor.image_processor
        size = getattr(image_processor, "max_image_size", None) or getattr(image_processor, "size", None) or {}
        self._edge = int(size.get("longest_edge", 512))
        # merging and compact positions re-rotate keys; exact only for plain RoPE (no attention scaling)
        self._can_rotate = float(getattr(self.text_model.rotary_emb, "attention_scaling", 1.0)) == 1.0

    # --- the public API ----------------------------------------------------------------------
    def encode(self, frames: Sequence[Any], times: Sequence[float] | None = None) -> VisualMemory:
        """Stream `frames` (PIL images or HxWx3 uint8 arrays, in time order) into a compressed memory."""
        return self._run(frames, times, compress=True)

    def full_cache(self, frames: Sequence[Any], times: Sequence[float] | None = None) -> VisualMemory:
        """The uncompressed baseline: the same stream, every token kept (budget 0)."""
        return self._run(frames, times, compress=False)

    def answer(self, memory: VisualMemory, question: str, max_new_tokens: int = 32) -> tuple[str, Any]:
        """Greedy answer to `question` over the memory, and the logits of the first answer token
        (`[vocab]` float32: the next-token distribution that fidelity is measured on)."""
        import torch

        self.check(memory)
        text = OUTRO_TEXT + question.strip() + PROBE_TEXT
        ids = self.processor.tokenizer(text, add_special_tokens=False)["input_ids"]
        dtype = self.model.dtype
        keys = memory.keys.to(self.device, dtype)
        values = memory.values.to(self.device, dtype)
        cache = self._cache(keys, values)
        past = memory.n_tokens
        pos = memory.next_position
        out_ids: list[int] = []
        with self.vlm._lock, torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([ids], device=self.device),
                position_ids=torch.arange(pos, pos + len(ids), device=self.device)[None],
                attention_mask=torch.ones(1, past + len(ids), dtype=torch.long, device=self.device),
                cache=cache, use_cache=True,
            )
            first = out.logits[0, -1].float().cpu()
            logits = out.logits[0, -1]
            pos, past = pos + len(ids), past + len(ids)
            for _ in range(int(max_new_tokens)):
                nxt = int(logits.argmax())
                if nxt in self.eos_ids:
                    break
                out_ids.append(nxt)
                out = self.model(
                    input_ids=torch.tensor([[nxt]], device=self.device),
                    position_ids=torch.tensor([[pos]], device=self.device),
                    attention_mask=torch.ones(1, past + 1, dtype=torch.long, device=self.device),
                    cache=out.cache, use_cache=True,
                )
                logits = out.logits[0, -1]
                pos, past = pos + 1, past + 1
        return self.processor.decode(out_ids, skip_special_tokens=True).strip(), first

    def check(self, memory: VisualMemory) -> None:
        """Raise VisualMemoryError when `memory` was made by another model or layout."""
        if memory.model_id != self.model_id:
            raise VisualMemoryError(
                f"visual memory was encoded by {memory.model_id!r} but the loaded VLM is {self.model_id!r}; "
                f"re-encode the video with this model (`lifelog reindex`) or switch back to {memory.model_id!r}"
            )
        layout = (self.n_layers, self.n_kv_heads, self.head_dim)
        if memory.layout != layout:
            raise VisualMemoryError(f"visual memory layout {memory.layout} (layers, kv heads, head dim) "
                                    f"does not match the model's {layout}; re-encode the video")

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        """Bytes one cached token costs (keys + values over all layers), at float16 by default."""
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim * dtype_bytes

    # --- streaming ---------------------------------------------------------------------------
    def _run(self, frames: Sequence[Any], times: Sequence[float] | None, *, compress: bool) -> VisualMemory:
        import torch

        if len(frames) == 0:
            raise ValueError("encode() needs at least one frame")
        times = [float(t) for t in times] if times is not None else [float(i) for i in range(len(frames))]
        if len(times) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(times)} times")
        with self.vlm._lock, torch.inference_mode():
            state = self._prefix()
            for start in range(0, len(frames), self.chunk_frames):
                ids = list(range(start, min(len(frames), start + self.chunk_frames)))
                self._append(state, [frames[i] for i in ids], [times[i] for i in ids], ids)
                if compress:
                    self._compress(state, set(ids))
        return self._memory(state, frames_seen=len(frames), compressed=compress)

    def _prefix(self) -> _State:
        import torch

        ids = torch.tensor([self.prefix_ids], device=self.device)
        out = self.model(input_ids=ids, position_ids=torch.arange(ids.shape[1], device=self.device)[None],
                         cache=self._cache(None, None), use_cache=True)
        keys, values = self._unstack(out.cache, 0)
        n = ids.shape[1]
        return _State(keys=keys, values=values, pos=np.arange(n, dtype=np.int64), frame=np.full(n, -1, np.int64),
                      slot=np.full(n, -1, np.int64), score=np.full(n, np.inf), next_pos=n, n_prefix=n, tokens_seen=n)

    def _append(self, state: _State, frames: list[Any], times: list[float], frame_ids: list[int]) -> None:
        import torch
        from PIL import Image

        pil = [(im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im, dtype=np.uint8))).convert("RGB")
               for im in frames]
        # the processor would resize to its longest edge anyway; doing it first in PIL's reducing
        # resize is several times faster on 720p frames than its own numpy path
        edge = self._edge
        pil = [im if max(im.size) <= edge else im.resize(
            (max(1, round(im.width * edge / max(im.size))), max(1, round(im.height * edge / max(im.size)))),
            Image.BICUBIC, reducing_gap=2.0) for im in pil]
        text = "".join(FRAME_TEXT.format(timestamp=_timestamp(t)) + "<image>" for t in times)
        # no tiling: one global view per frame, as SmolVLM2 reads video frames
        inputs = self.processor(text=[text], images=[pil], return_tensors="pt", add_special_tokens=False, truncation=False,
                                do_image_splitting=False)
        inputs.pop("token_type_ids", None)
        ids = inputs["input_ids"]
        n = ids.shape[1]
        frame, slot = self._token_frames(ids[0].tolist(), frame_ids)
        kwargs = {"pixel_values": inputs["pixel_values"].to(self.device, self.model.dtype)}
        if "pixel_attention_mask" in inputs:
            kwargs["pixel_attention_mask"] = inputs["pixel_attention_mask"].to(self.device)
        out = self.model(
            input_ids=ids.to(self.device),
            position_ids=torch.arange(state.next_pos, state.next_pos + n, device=self.device)[None],
            attention_mask=torch.ones(1, state.n + n, dtype=torch.long, device=self.device),
            cache=self._cache(state.keys, state.values), use_cache=True, **kwargs,
        )
        keys, values = self._unstack(out.cache, state.n)
        state.keys = torch.cat([state.keys, keys], dim=2)
        state.values = torch.cat([state.values, values], dim=2)
        state.pos = np.concatenate([state.pos, np.arange(state.next_pos, state.next_pos + n, dtype=np.int64)])
        state.frame = np.concatenate([state.frame, frame])
        state.slot = np.concatenate([state.slot, slot])
        state.score = np.concatenate([state.score, np.zeros(n)])
        state.next_pos += n
        state.tokens_seen += n
        for f, t in zip(frame_ids, times):
            state.frames[f] = [t, t, 1.0]

    def _token_frames(self, ids: list[int], frame_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Which frame each token of a chunk belongs to (its timestamp text, wrappers and image
        tokens), and each image token's index within its frame (the slot merging matches on)."""
        frame = np.empty(len(ids), np.int64)
        slot = np.full(len(ids), -1, np.int64)
        run_ends = [i for i, t in enumerate(ids) if t == self.image_token_id
                    and (i + 1 == len(ids) or ids[i + 1] != self.image_token_id)]
        if len(run_ends) != len(frame_ids):
            raise RuntimeError(f"expected one run of image tokens per frame ({len(frame_ids)}), found {len(run_ends)}: "
                               f"the processor split the frames into tiles")
        start = 0
        for f, end in zip(frame_ids, run_ends):
            stop = min(len(ids), end + 2)  # the closing <fake_token_around_image> belongs to the frame
            frame[start:stop] = f
            k = 0
            for i in range(start, stop):
                if ids[i] == self.image_token_id:
                    slot[i] = k
                    k += 1
            start = stop
        frame[start:] = frame_ids[-1]
        return frame, slot

    # --- compression -------------------------------------------------------------------------
    def _compress(self, state: _State, new: set[int]) -> None:
        visual = np.flatnonzero(state.frame >= 0)
        state.score[visual] = self._probe_scores(state)[visual]
        self._merge_duplicates(state, new)
        budget = self.budget - state.n_prefix
        capacity = max(1, budget // self.min_tokens_per_frame)
        while len(self._frame_order(state)) > capacity:
            order = self._frame_order(state)
            sims = self._adjacent_similarity(state, order)
            i = int(np.argmax(sims))
            self._merge(state, order[i], order[i + 1])
        self._select(state, budget)
        if self.positions == "compact" and self._can_rotate:
            new = np.arange(state.n, dtype=np.int64)
            state.keys = self._rotate(state.keys, new - state.pos)
            state.pos = new
            state.next_pos = state.n

    def _probe_scores(self, state: _State) -> np.ndarray:
        """Attention each cached token receives from the probe's queries, averaged over probe tokens,
        heads and layers. Queries are caught at q_proj and rotated here: sdpa returns no weights."""
        import torch

        caught: dict[int, Any] = {}
        hooks = []
        for i, layer in enumerate(self.text_model.layers):
            hooks.append(layer.self_attn.q_proj.register_forward_hook(
                lambda _m, _inp, out, i=i: caught.__setitem__(i, out.detach())))
        p = len(self.probe_ids)
        position_ids = torch.arange(state.next_pos, state.next_pos + p, device=self.device)[None]
        try:
            out = self.model(
                input_ids=torch.tensor([self.probe_ids], device=self.device), position_ids=position_ids,
                attention_mask=torch.ones(1, state.n + p, dtype=torch.long, device=self.device),
                cache=self._cache(state.keys, state.values), use_cache=True,
            )
        finally:
            for h in hooks:
                h.remove()
        cos, sin = self.text_model.rotary_emb(state.keys, position_ids)
        total = torch.zeros(state.n + p, dtype=torch.float32, device=self.device)
        causal = torch.ones(p, p, dtype=torch.bool, device=self.device).tril()
        for i, layer in enumerate(self.text_model.layers):
            attn = layer.self_attn
            q = caught[i].view(1, p, -1, self.head_dim).transpose(1, 2)  # [1, Hq, p, D]
            if hasattr(attn, "q_norm"):
                q = attn.q_norm(q)
            q = q * cos[:, None] + _rotate_half(q) * sin[:, None]
            k = out.cache.layers[i].keys  # [1, Hkv, T + p, D], the probe's own keys last
            k = k.repeat_interleave(self.n_heads // self.n_kv_heads, dim=1)
            logits = (q.float() @ k.float().transpose(-1, -2)) * float(getattr(attn, "scaling", self.head_dim ** -0.5))
            logits[..., state.n:] = logits[..., state.n:].masked_fill(~causal, float("-inf"))
            total += logits.softmax(-1).mean(dim=(0, 1, 2))
        return (total[: state.n] / self.n_layers).cpu().numpy().astype(np.float64)

    def _frame_order(self, state: _State) -> list[int]:
        seen: dict[int, None] = {}
        for f in state.frame[state.frame >= 0]:
            seen.setdefault(int(f), None)
        return sorted(seen, key=lambda f: state.frames[f][0])

    def _frame_means(self, state: _State, order: list[int]) -> Any:
        """Mean un-rotated key of each frame's image tokens, flattened over layers and heads."""
        import torch

        keys = self._rotate(state.keys, -state.pos) if self._can_rotate else state.keys
        flat = keys.permute(2, 0, 1, 3).reshape(state.n, -1).float()
        means = []
        for f in order:
            idx = np.flatnonzero((state.frame == f) & (state.slot >= 0))
            if len(idx) == 0:
                idx = np.flatnonzero(state.frame == f)
            means.append(flat[torch.as_tensor(idx, device=flat.device)].mean(0))
        return torch.stack(means)

    def _adjacent_similarity(self, state: _State, order: list[int]) -> np.ndarray:
        import torch

        if len(order) < 2:
            return np.zeros(0)
        m = torch.nn.functional.normalize(self._frame_means(state, order), dim=-1)
        return (m[:-1] * m[1:]).sum(-1).cpu().numpy()

    def _merge_duplicates(self, state: _State, new: set[int]) -> None:
        """MovieChat: fold each new frame into its predecessor while their mean keys are near-identical."""
        order = self._frame_order(state)
        if len(order) < 2:
            return
        sims = self._adjacent_similarity(state, order)
        # walk from the end so that a run of duplicates collapses into its first frame
        for i in range(len(order) - 2, -1, -1):
            a, b = order[i], order[i + 1]
            if b in new and sims[i] > self.merge_threshold:
                self._merge(state, a, b)

    def _merge(self, state: _State, a: int, b: int) -> None:
        """Fold frame b into frame a (adjacent, a first): image tokens in the same slot are averaged
        (weighted by how many frames each already holds), b's other image tokens join a, and b's
        timestamp text is dropped (a's names when the run began)."""
        import torch

        wa, wb = state.frames[a][2], state.frames[b][2]
        ia = np.flatnonzero(state.frame == a)
        ib = np.flatnonzero(state.frame == b)
        slot_to_a = {int(state.slot[i]): int(i) for i in ia if state.slot[i] >= 0}
        pairs = [(slot_to_a[int(state.slot[j])], int(j)) for j in ib if int(state.slot[j]) in slot_to_a]
        drop = {j for _, j in pairs} | {int(j) for j in ib if state.slot[j] < 0}
        if pairs:
            pa = np.array([p[0] for p in pairs])
            pb = np.array([p[1] for p in pairs])
            ta = torch.as_tensor(pa, device=state.keys.device)
            tb = torch.as_tensor(pb, device=state.keys.device)
            ka, kb = state.keys[:, :, ta], state.keys[:, :, tb]
            if self._can_rotate:
                # bring b's keys to a's positions before averaging: RoPE rotations compose additively
                kb = self._rotate(kb, state.pos[pa] - state.pos[pb])
            state.keys[:, :, ta] = ((wa * ka.float() + wb * kb.float()) / (wa + wb)).to(state.keys.dtype)
            va, vb = state.values[:, :, ta], state.values[:, :, tb]
            state.values[:, :, ta] = ((wa * va.float() + wb * vb.float()) / (wa + wb)).to(state.values.dtype)
            state.score[pa] = (wa * state.score[pa] + wb * state.score[pb]) / (wa + wb)
        keep = np.array([i for i in range(state.n) if i not in drop], dtype=np.int64)
        state.frame[ib] = a
        state.take(keep)
        state.frames[a][1] = max(state.frames[a][1], state.frames[b][1])
        state.frames[a][2] = wa + wb

    def _select(self, state: _State, budget: int) -> None:
        """Keep the prefix, each frame's best `min_tokens_per_frame`, then the best of the rest."""
        if state.n - state.n_prefix <= budget:
            return
        keep = set(range(state.n_prefix))
        visual = np.arange(state.n_prefix, state.n)
        rest: list[int] = []
        for f in np.unique(state.frame[visual]):
            idx = visual[state.frame[visual] == f]
            ranked = idx[np.argsort(-state.score[idx], kind="stable")]
            keep.update(int(i) for i in ranked[: self.min_tokens_per_frame])
            rest.extend(int(i) for i in ranked[self.min_tokens_per_frame:])
        rest.sort(key=lambda i: -state.score[i])
        keep.update(rest[: max(0, state.n_prefix + budget - len(keep))])
        state.take(np.array(sorted(keep), dtype=np.int64))

    # --- tensors -------------------------------------------------------------------------------
    def _rotate(self, keys: Any, delta: np.ndarray) -> Any:
        """Rotate keys `[L, H, T, D]` by per-token position offsets (RoPE: R(a) R(b) = R(a + b))."""
        import torch

        d = torch.as_tensor(np.asarray(delta), dtype=torch.long, device=keys.device)[None]
        cos, sin = self.text_model.rotary_emb(keys.float(), d)  # [1, T, D]
        k = keys.float()
        return (k * cos + _rotate_half(k) * sin).to(keys.dtype)

    def _cache(self, keys: Any | None, values: Any | None) -> Any:
        from transformers import DynamicCache

        if keys is None:
            return DynamicCache()
        return DynamicCache(ddp_cache_data=[(keys[i][None], values[i][None]) for i in range(keys.shape[0])])

    @staticmethod
    def _unstack(cache: Any, start: int) -> tuple[Any, Any]:
        import torch

        keys = torch.stack([layer.keys[0, :, start:] for layer in cache.layers])
        values = torch.stack([layer.values[0, :, start:] for layer in cache.layers])
        return keys, values

    def _memory(self, state: _State, *, frames_seen: int, compressed: bool) -> VisualMemory:
        import torch

        finite = torch.finfo(torch.float16).max
        token_times = np.array([state.frames[int(f)][0] if f >= 0 else -1.0 for f in state.frame], np.float64)
        spans = [(state.frames[f][0], state.frames[f][1]) for f in self._frame_order(state)]
        return VisualMemory(
            keys=state.keys.float().clamp(-finite, finite).to(torch.float16).cpu().contiguous(),
            values=state.values.float().clamp(-finite, finite).to(torch.float16).cpu().contiguous(),
            positions=state.pos.copy(), token_times=token_times, frame_spans=spans, model_id=self.model_id,
            budget=self.budget if compressed else 0, n_layers=self.n_layers, n_kv_heads=self.n_kv_heads,
            head_dim=self.head_dim, next_position=int(state.next_pos), frames_seen=frames_seen,
            tokens_seen=state.tokens_seen,
            positions_mode=self.positions if compressed else "original",
        )


def _rotate_half(x: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


__all__ = ["DEFAULT_BUDGET_TOKENS", "DEFAULT_CHUNK_FRAMES", "SKIP_MESSAGE", "StreamMemEncoder", "VisualMemory", "VisualMemoryError", "load_vlm", "streammem_spec"]
