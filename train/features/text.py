"""Word and character n-gram features: TF-IDF with a compact vocabulary, hashing, name masking."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.pipeline import make_pipeline

from ..registry import featurizers
from .base import Columns, UnitFeaturizer, ngram_range_of, positive

_NAME = re.compile(r"(?<=[\w,;:’'\"”)] )[A-Z][\w’'-]*|(?<=\w-)[A-Z][\w’'-]*")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def mask_text(text: str) -> str:
    """Replace capitalized words inside a sentence with ``Xx`` and numbers with ``0``.

    Invented names and figures in a written corpus say nothing about real news; their shape does.
    """
    return _DIGITS.sub("0", _NAME.sub("Xx", text))


class MaskedText(UnitFeaturizer):
    """The unit texts with names and numbers masked, for an n-gram featurizer that follows it."""

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        texts = self._frame(X)["text"]
        return np.asarray([mask_text(str(t)) for t in texts], dtype=object)


class CompactTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose vocabulary is saved as two arrays instead of a dict.

    skops writes a dict as verbose JSON, one node per term: a 300k-term character vocabulary made
    files of 70 MB and took seconds to parse. The terms' UTF-8 bytes and their offsets load in
    milliseconds, and the dict is rebuilt on load.
    """

    def __getstate__(self) -> dict[str, object]:
        state = dict(super().__getstate__())
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            encoded = [t.encode("utf-8") for t in terms]
            state["_vocabulary_bytes"] = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            state["_vocabulary_ends"] = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state = dict(state)
        data = state.pop("_vocabulary_bytes", None)
        ends = state.pop("_vocabulary_ends", None)
        if data is not None and ends is not None:
            raw = np.asarray(data, dtype=np.uint8).tobytes()
            starts = np.concatenate([[0], np.asarray(ends)[:-1]])
            state["vocabulary_"] = {
                raw[a:b].decode("utf-8"): i
                for i, (a, b) in enumerate(zip(starts, ends, strict=True))
            }
        super().__setstate__(state)


def _masked(vectorizer: Any, mask: bool) -> Any:
    return make_pipeline(MaskedText(), vectorizer) if mask else vectorizer


_TFIDF_TYPES = (
    "winnow.features.text.CompactTfidfVectorizer",
    "winnow.features.text.MaskedText",
)


@featurizers.register("tfidf_words.v1", trusted_types=_TFIDF_TYPES)
def tfidf_words(
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
    sublinear_tf: bool = True,
    lowercase: bool = True,
    mask: bool = False,
) -> tuple[Any, Columns]:
    """Word n-gram TF-IDF over the unit text; ``mask`` first replaces names and numbers by their shape."""
    vectorizer = CompactTfidfVectorizer(
        ngram_range=ngram_range_of(ngram_range),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        lowercase=lowercase,
        token_pattern=r"(?u)\b\w+\b|[^\w\s]",
        dtype=np.float32,
    )
    return _masked(vectorizer, mask), "text"


@featurizers.register("tfidf_chars.v1", trusted_types=_TFIDF_TYPES)
def tfidf_chars(
    ngram_range: tuple[int, int] = (2, 5),
    analyzer: Literal["char", "char_wb"] = "char_wb",
    min_df: int = 2,
    max_df: float = 1.0,
    max_features: int | None = None,
    sublinear_tf: bool = True,
    lowercase: bool = False,
    mask: bool = False,
) -> tuple[Any, Columns]:
    """Character n-gram TF-IDF: robust to spelling, casing and the punctuation of page furniture."""
    vectorizer = CompactTfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range_of(ngram_range),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        lowercase=lowercase,
        dtype=np.float32,
    )
    return _masked(vectorizer, mask), "text"


@featurizers.register("hashing.v1", streamable=True)
def hashing(
    n_features: int = 2**20,
    ngram_range: tuple[int, int] = (1, 2),
    analyzer: Literal["word", "char", "char_wb"] = "word",
    lowercase: bool = True,
) -> tuple[Any, Columns]:
    """Stateless hashed n-grams: no vocabulary to fit, so it streams and stays small."""
    positive("n_features", n_features)
    vectorizer = HashingVectorizer(
        n_features=n_features,
        ngram_range=ngram_range_of(ngram_range),
        analyzer=analyzer,
        lowercase=lowercase,
        alternate_sign=False,
        dtype=np.float32,
    )
    return vectorizer, "text"
