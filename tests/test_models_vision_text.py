"""Vision and text model wrappers: text embeddings, image tags, image-text embeddings, OCR, faces.

Fast tests use the tiny profile's random-weight models; `slow` ones run the bundled models on real
photos from ../shared/media and check what comes out (a tag naming what is in the photo).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import models
from models import image_embed, tags, text_embed
from models.registry import ModelSpec, Source, get_spec, local_spec
from models.types import Face, FaceModel, ImageTextEmbedder, Ocr, OcrLine, Tag, Tagger, TextEmbedder

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
COFFEE = MEDIA / "photos" / "coffee_cup_skimage.png"
CAT = MEDIA / "photos" / "cat_chelsea_skimage.png"

needs_media = pytest.mark.skipif(not COFFEE.exists() or not CAT.exists(), reason=f"test media not found under {MEDIA}")


def _norms(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=1)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    if not COFFEE.exists() or not CAT.exists():
        pytest.skip(f"test media not found under {MEDIA}")
    return {"coffee": Image.open(COFFEE).convert("RGB"), "cat": Image.open(CAT).convert("RGB")}


# --- image conversion (plumbing) -------------------------------------------------------------------


def test_as_rgb_array_accepts_pil_gray_rgba_and_rejects_floats() -> None:
    rgb = tags.as_rgb_array(Image.new("RGB", (4, 3), (10, 20, 30)))
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8 and tuple(rgb[0, 0]) == (10, 20, 30)
    assert tags.as_rgb_array(np.zeros((5, 6), np.uint8)).shape == (5, 6, 3)
    assert tags.as_rgb_array(np.zeros((5, 6, 4), np.uint8)).shape == (5, 6, 3)
    with pytest.raises(TypeError, match="uint8"):
        tags.as_rgb_array(np.zeros((5, 6, 3), np.float32))
    with pytest.raises(TypeError, match="PIL image"):
        tags.as_rgb_array("photo.jpg")


# --- text embedding ---------------------------------------------------------------------------------


def test_random_bert_shapes_normalised_deterministic(cache_dir: Path) -> None:
    spec = get_spec("minilm-random")
    a = text_embed.load_random_bert(spec, cache_dir, "cpu")
    b = text_embed.load_random_bert(spec, cache_dir, "cpu")
    texts = ["I left my keys on the kitchen table", "short", "a much longer sentence " * 40]
    va, vb = a.embed(texts), b.embed(texts, kind="query")
    assert va.shape == (3, spec.dim) and va.dtype == np.float32 and a.dim == spec.dim
    np.testing.assert_allclose(_norms(va), 1.0, atol=1e-5)
    np.testing.assert_array_equal(va, vb)  # same seed, same weights; no prefix for this model
    assert not np.allclose(va[0], va[1])
    assert a.embed([]).shape == (0, spec.dim)
    with pytest.raises(ValueError, match="kind='document'"):
        a.embed(["x"], kind="document")


@pytest.mark.slow
def test_minilm_ranks_the_matching_sentence_first(cache_dir: Path) -> None:
    spec = get_spec("all-minilm-l6-v2")
    te = cast(TextEmbedder, models.load(spec, cache_dir))
    docs = ["I left my keys on the kitchen table", "The weather in Madrid was sunny all week",
            "We had pasta with tomato sauce for dinner", "My phone battery died on the train"]
    d, q = te.embed(docs), te.embed(["where are my keys"], kind="query")
    assert d.shape == (4, spec.dim) and d.dtype == np.float32
    np.testing.assert_allclose(_norms(d), 1.0, atol=1e-5)
    scores = d @ q[0]
    assert int(np.argmax(scores)) == 0, scores
    assert te.embed([]).shape == (0, 384)


# --- image tags -------------------------------------------------------------------------------------


def test_imagenet_labels_are_readable_names() -> None:
    labels = tags.imagenet_labels()
    assert len(labels) == 1000 and labels[967] == "espresso" and "tabby" in labels


def test_efficientnet_random_weights_shapes(cache_dir: Path) -> None:
    spec = get_spec("efficientnet-lite0-random")
    tagger = tags.load_efficientnet(spec, cache_dir, "cpu")
    images = [Image.new("RGB", (64, 48), "red"), np.full((300, 200, 3), 128, np.uint8), np.zeros((40, 40), np.uint8)]
    p = tagger.probs(images)
    assert p.shape == (3, spec.dim) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-4)
    out = tagger.tag(images, top_k=3)
    assert len(out) == 3 and all(len(t) == 3 and isinstance(t[0], Tag) and t[0].label in tagger.labels for t in out)
    assert out[0][0].score >= out[0][1].score
    np.testing.assert_array_equal(p, tags.load_efficientnet(spec, cache_dir, "cpu").probs(images))  # fixed seed
    assert tagger.tag([]) == [] and tagger.probs([]).shape == (0, 1000)


@pytest.mark.slow
@needs_media
def test_efficientnet_tags_coffee_and_cat(cache_dir: Path, photos: dict[str, Image.Image]) -> None:
    tagger = cast(Tagger, models.load(get_spec("efficientnet-lite0"), cache_dir))
    coffee, cat = tagger.tag([photos["coffee"], np.asarray(photos["cat"])])
    assert {"espresso", "cup", "coffee mug"} & {t.label for t in coffee}, coffee
    assert coffee[0].label == "espresso" and coffee[0].score > 0.5, coffee
    assert any("cat" in t.label or t.label == "tabby" for t in cat[:2]), cat


# --- image-text embedding: ConSE label embedding (bundled fallback) ------------------------------------


@pytest.mark.slow
@needs_media
def test_label_embed_puts_photos_near_their_words(cache_dir: Path, photos: dict[str, Image.Image]) -> None:
    spec = get_spec("label-embed-effnet-minilm")
    it = cast(ImageTextEmbedder, models.load(spec, cache_dir))
    img = it.embed_images([photos["coffee"], photos["cat"]])
    txt = it.embed_texts(["a cup of coffee", "a cat"])
    assert img.shape == (2, spec.dim) and txt.shape == (2, spec.dim) and img.dtype == np.float32
    np.testing.assert_allclose(_norms(img), 1.0, atol=1e-5)
    sim = img @ txt.T
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0], sim
    assert it.embed_images([]).shape == (0, spec.dim) and it.embed_texts([]).shape == (0, spec.dim)
    # the 1000 label vectors are kept in the model cache for the next process, and read back from it
    stored = list(spec.cache_path(cache_dir).glob("labels-*.npy"))
    assert len(stored) == 1 and np.load(stored[0]).shape == (1000, spec.dim)
    again = image_embed.load_label_embed(spec, cache_dir, "cpu")
    np.testing.assert_allclose(again.embed_images([photos["coffee"]]), img[:1], atol=1e-6)


# --- image-text embedding: OpenCLIP -------------------------------------------------------------------


def test_open_clip_arch_names_exist_with_spec_dims() -> None:
    import open_clip

    for name in ("vit-b-32-random", "mobileclip2-s2"):
        spec = get_spec(name)
        config = open_clip.get_model_config(str(spec.opts["arch"]))
        assert config is not None and config["embed_dim"] == spec.dim, name


def test_open_clip_rejects_wrong_dim_and_hub_without_pull(cache_dir: Path) -> None:
    wrong = dataclasses.replace(get_spec("vit-b-32-random"), dim=256)
    with pytest.raises(ValueError, match="512-d vectors but the spec says dim=256"):
        image_embed.load_open_clip(wrong, cache_dir, "cpu")
    with pytest.raises(FileNotFoundError, match="no weights at"):
        image_embed.load_open_clip(get_spec("mobileclip2-s2"), cache_dir, "cpu")


def test_weights_file_picks_the_one_file(tmp_path: Path) -> None:
    spec = get_spec("mobileclip2-s2")
    (tmp_path / "open_clip_model.safetensors").write_bytes(b"")
    (tmp_path / "other.bin").write_bytes(b"")
    assert image_embed._weights_file(tmp_path, spec).name == "open_clip_model.safetensors"
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "a.pt").write_bytes(b"")
    (odd / "b.pt").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"\['a.pt', 'b.pt'\]"):
        image_embed._weights_file(odd, spec)


@pytest.mark.slow
def test_open_clip_tokenizers_work_offline() -> None:
    code = ("import open_clip\n"
            "for arch in ('ViT-B-32', 'MobileCLIP2-S2'):\n"
            "    assert open_clip.get_tokenizer(arch)(['a cat']).shape == (1, 77), arch\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vit-b-32-random", "mobileclip2-s2-random"])
def test_open_clip_random_weights(cache_dir: Path, name: str) -> None:
    if name == "mobileclip2-s2-random":
        # the full profile's architecture, built with random weights (the registry has no such entry)
        spec = dataclasses.replace(get_spec("mobileclip2-s2"), name=name, source=Source("random", package="open-clip-torch", module="open_clip"))
    else:
        spec = get_spec(name)
    it = image_embed.load_open_clip(spec, cache_dir, "cpu")
    img = it.embed_images([Image.new("RGB", (320, 240), "blue"), np.zeros((100, 80, 3), np.uint8)])
    txt = it.embed_texts(["a cup of coffee", "a cat"])
    assert img.shape == (2, spec.dim) and txt.shape == (2, spec.dim) and img.dtype == txt.dtype == np.float32
    np.testing.assert_allclose(_norms(img), 1.0, atol=1e-5)
    np.testing.assert_allclose(_norms(txt), 1.0, atol=1e-5)
    assert it.embed_images([]).shape == (0, spec.dim) and it.embed_texts([]).shape == (0, spec.dim)


@pytest.mark.slow
def test_open_clip_loads_a_local_weights_file(tmp_path: Path, cache_dir: Path) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    # ViT-S-32: the smallest built-in CLIP config, so the file is small; the route is the same for any arch
    like = ModelSpec("vit-s-32", "image_text", "open-clip", Source("random"), dim=384, options=(("arch", "ViT-S-32"),))
    torch.manual_seed(1)
    ref = open_clip.create_model("ViT-S-32", pretrained=None).eval()
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(tmp_path / "open_clip_model.safetensors"))
    it = image_embed.load_open_clip(local_spec("image_text", tmp_path, like), cache_dir, "cpu")
    with torch.no_grad():
        want = torch.nn.functional.normalize(ref.encode_text(open_clip.get_tokenizer("ViT-S-32")(["a cat"])), dim=-1)
    np.testing.assert_allclose(it.embed_texts(["a cat"]), want.numpy(), atol=1e-5)


# --- OCR --------------------------------------------------------------------------------------------


def _text_image() -> Image.Image:
    img = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=48)
    draw.text((30, 30), "Kitchen receipt", fill="black", font=font)
    draw.text((30, 140), "Total 42.50 EUR", fill="black", font=font)
    return img


@pytest.mark.slow
def test_rapidocr_reads_rendered_words(cache_dir: Path) -> None:
    ocr = cast(Ocr, models.load(get_spec("rapidocr-ppocr"), cache_dir))
    lines = ocr.read(_text_image())
    assert all(isinstance(l, OcrLine) for l in lines)
    text = " ".join(l.text for l in lines).lower()
    assert "kitchen" in text and "receipt" in text and "42.50" in text, lines
    top = next(l for l in lines if "kitchen" in l.text.lower())
    x0, y0, x1, y1 = top.box
    assert 0 <= x0 < x1 <= 900 and 0 <= y0 < y1 < 140, top.box  # the first line's box, in image pixels
    assert ocr.read(np.full((120, 200, 3), 255, np.uint8)) == []


# --- faces ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_faces_find_embed_and_match_across_scales(cache_dir: Path) -> None:
    import skimage.data

    fm = cast(FaceModel, models.load(get_spec("centerface-dlib"), cache_dir))
    astronaut = skimage.data.astronaut()  # public-domain NASA portrait, 512x512, inside the scikit-image wheel
    found = fm.faces(astronaut)
    assert len(found) == 1 and isinstance(found[0], Face), found
    x0, y0, x1, y1 = found[0].box
    assert 150 < x0 < x1 < 300 and 30 < y0 < y1 < 210, found[0].box  # her face, upper middle of the photo
    assert found[0].embedding is not None and found[0].embedding.shape == (128,)
    smaller = Image.fromarray(astronaut).resize((320, 320), Image.Resampling.BICUBIC)
    again = fm.faces(smaller)
    assert len(again) == 1
    assert again[0].box[0] == pytest.approx(x0 * 320 / 512, abs=12)
    assert float(np.linalg.norm(found[0].embedding - again[0].embedding)) < 0.6
    if COFFEE.exists():
        assert fm.faces(Image.open(COFFEE)) == []
