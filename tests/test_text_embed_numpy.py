"""The numpy BERT encoder (models/bert_numpy.py) that runs the bundled MiniLM without torch.

It must give sentence-transformers' vectors (stored libraries were embedded with them) and must
keep torch out of a process that only embeds text. The equivalence test imports torch: `slow`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models
from models import bert_numpy, text_embed
from models.bert_numpy import BertEncoder, UnsupportedModelError, check_folder
from models.registry import local_spec

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "Where did I leave my keys?",
    "Sam said dinner is at eight, at the Thai place on Rua Augusta.",
    "pastel de nata",
    "",
    "The tram to the viewpoint was so full that we waited for the next one, and then it started to rain.",
]
# well past the 256-token cap, so truncation must match too
LONG = (
    "We took the early train along the coast, and for most of the ride the sea was on the left, grey "
    "under low cloud, with fishing boats pulled up on the sand at every small town. At the third stop an "
    "old man got on with a basket of oranges and offered them to everyone in the carriage; Sam took two "
    "and gave me one, and we ate them while the guard argued with a tourist about a ticket that had been "
    "stamped on the wrong day. The station at the end of the line was closed for repairs, so a bus "
    "carried us the last few kilometres up the hill, past the cemetery, the football ground and a "
    "bakery that smelled of cinnamon. We had lunch on a terrace above the harbour: grilled sardines, "
    "boiled potatoes, a salad of tomato and onion, and a jug of cold white wine that cost less than the "
    "coffee afterwards. In the afternoon we walked to the lighthouse, where a sign said the museum "
    "opened only on weekends, and sat on the rocks watching the swell break against the breakwater "
    "until the wind turned cold. On the way back I realised I had left my sunglasses on the terrace, "
    "so we went down again, and the waiter had put them behind the bar with a note that said "
    "'the lady in the blue jacket'. The last bus left at seven; we caught it with two minutes to spare, "
    "and on the train home Sam fell asleep against the window while I read the menu we had taken "
    "as a souvenir, trying to remember the name of the wine."
)


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    return text_embed._bundled_minilm_dir()


@pytest.fixture(scope="module")
def encoder(minilm_dir: Path) -> BertEncoder:
    return BertEncoder.from_folder(minilm_dir)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_bundled_loader_uses_the_numpy_encoder(tmp_path: Path) -> None:
    te = models.load(models.resolve("text_embed", "bundled"), tmp_path)
    assert isinstance(te, text_embed.SentenceTransformerEmbedder) and isinstance(te.model, BertEncoder)
    vecs = te.embed(["I left my keys on the kitchen table", "the keys are on the table in the kitchen",
                     "the tram was full"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32 and te.dim == 384
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.3  # a real model: paraphrases are close
    assert te.embed([], kind="query").shape == (0, 384)


def test_batches_pad_and_chunk_without_changing_vectors(encoder: BertEncoder) -> None:
    texts = SENTENCES + [LONG] + [f"note {i}: buy {i} eggs and a loaf of bread" for i in range(12)]
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    for chunk_tokens in (64, 2048, 100_000):  # many small chunks (on worker threads), one big one
        together = encoder.encode(texts, chunk_tokens=chunk_tokens)
        assert together.dtype == np.float32
        assert _cosines(together, alone).min() > 0.99999, chunk_tokens


def test_prefix_goes_before_the_text(encoder: BertEncoder) -> None:
    te = text_embed.SentenceTransformerEmbedder(encoder, 384, query_prefix="query: ", passage_prefix="passage: ")
    np.testing.assert_allclose(te.embed(["keys"], kind="query"), encoder.encode(["query: keys"]), atol=1e-6)
    np.testing.assert_allclose(te.embed(["keys"]), encoder.encode(["passage: keys"]), atol=1e-6)


def _copy_folder(src: Path, dst: Path) -> Path:
    """The model folder with its weights linked, not copied, so configs can be edited."""
    dst.mkdir()
    for p in src.iterdir():
        if p.is_dir():
            shutil.copytree(p, dst / p.name)
        elif p.suffix == ".json":
            shutil.copy(p, dst / p.name)
        else:
            os.symlink(p, dst / p.name)
    return dst


def test_check_folder_refuses_what_it_cannot_run(minilm_dir: Path, tmp_path: Path) -> None:
    cfg = check_folder(minilm_dir)
    assert (cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.max_tokens, cfg.hidden_act) == (384, 6, 12, 256, "gelu")

    cls_pooled = _copy_folder(minilm_dir, tmp_path / "cls")
    pooling = json.loads((cls_pooled / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (cls_pooled / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(UnsupportedModelError, match="not mean pooling"):
        check_folder(cls_pooled)

    roberta = _copy_folder(minilm_dir, tmp_path / "roberta")
    config = json.loads((roberta / "config.json").read_text())
    (roberta / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(UnsupportedModelError, match="roberta"):
        check_folder(roberta)

    dense = _copy_folder(minilm_dir, tmp_path / "dense")
    modules = json.loads((dense / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (dense / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(UnsupportedModelError, match="Dense"):
        check_folder(dense)

    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    shutil.copy(minilm_dir / "config.json", no_weights / "config.json")
    with pytest.raises(UnsupportedModelError, match="no model.safetensors"):
        check_folder(no_weights)


def test_a_cold_query_imports_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys, models\n"
        f"te = models.load(models.resolve('text_embed', 'bundled'), {str(tmp_path)!r})\n"
        "v = te.embed(['where did I leave my keys?'], kind='query')\n"
        "assert v.shape == (1, 384), v.shape\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


@pytest.mark.slow
def test_vectors_match_sentence_transformers(minilm_dir: Path, encoder: BertEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm_dir), device="cpu", local_files_only=True)
    texts = SENTENCES + [LONG, LONG[: len(LONG) // 2]]
    assert len(encoder.tokenizer.encode(LONG).ids) == bert_numpy.DEFAULT_MAX_TOKENS  # truncated
    assert len(reference.tokenizer(LONG)["input_ids"]) > bert_numpy.DEFAULT_MAX_TOKENS
    want = reference.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    got = encoder.encode(texts)
    assert _cosines(got, want).min() >= 0.9999
    # one at a time (no padding) too
    singles = np.stack([encoder.encode([t])[0] for t in texts])
    assert _cosines(singles, want).min() >= 0.9999


@pytest.mark.slow
def test_other_pipelines_fall_back_to_sentence_transformers(minilm_dir: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    bundled = models.get_spec("all-minilm-l6-v2")
    local = text_embed.load_sentence_transformer(local_spec("text_embed", _copy_folder(minilm_dir, tmp_path / "mean"), bundled), tmp_path)
    assert isinstance(local.model, BertEncoder)

    cls_pooled = _copy_folder(minilm_dir, tmp_path / "cls")
    (cls_pooled / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    te = text_embed.load_sentence_transformer(local_spec("text_embed", cls_pooled, bundled), tmp_path)
    assert isinstance(te.model, SentenceTransformer)
    cls_vecs, mean_vecs = te.embed(SENTENCES[:2]), local.embed(SENTENCES[:2])
    np.testing.assert_allclose(np.linalg.norm(cls_vecs, axis=1), 1.0, atol=1e-5)
    assert _cosines(cls_vecs, mean_vecs).max() < 0.99  # the [CLS] vector, not the mean
