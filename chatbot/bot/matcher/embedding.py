"""Static sentence embeddings: the mean of WordLlama's token vectors.

Why: word and character n-grams only match words seen in the examples; the
token vectors (distilled from a large language model, shipped inside the
``wordllama`` wheel: 32,000 tokens × 256 numbers, MIT licence) also
place "reserve" near "book" and "paycheck" near "salary". Added as one more
feature block, they raised top-1 accuracy on CLINC150 val from 0.934 to 0.946
(docs/matcher.md). No network, no neural network at query time: one tokenizer
call and a mean, tens of microseconds.

We read the two files from the wheel ourselves: the package's own loader looks
for its tokenizer under a directory name the wheel does not have and then tries
to download it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer

_PACKAGE = "wordllama"
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
DIMENSIONS = 64
"""The first 64 of the 256 numbers (the vectors are trained so that any prefix is an embedding): on CLINC150
val as good as all 256 (top-1 0.947 against 0.946) and four times less work for the SVM at build time."""


class TokenEmbedding:
    """Maps a text to the unit-length mean of its token vectors (zeros when it has no token)."""

    def __init__(self, vectors: np.ndarray, tokenizer: Tokenizer) -> None:
        self._vectors = vectors
        self._tokenizer = tokenizer
        self.dimensions = vectors.shape[1]

    def __call__(self, text: str) -> np.ndarray:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return np.zeros(self.dimensions)
        mean = self._vectors[ids].astype(np.float64).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        unit: np.ndarray = mean / norm if norm else mean
        return unit


@cache
def token_embedding() -> TokenEmbedding:
    """Loaded once per process (0.2-0.4 s, measured) and shared by every matcher: it never changes."""
    root = files(_PACKAGE)
    with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
        vectors = weights.get_tensor("embedding.weight")[:, :DIMENSIONS]  # float16, kept so: half the memory
    return TokenEmbedding(np.ascontiguousarray(vectors), Tokenizer.from_file(str(root / _TOKENIZER)))
