"""Hashed word and character n-gram TF-IDF computed for a whole batch with array operations.

scikit-learn's vectorizers count n-grams in a Python loop per document and per n-gram, which is
most of the time winnow spends predicting. Here the batch is joined and read as one array of code
points; every n-gram gets a polynomial hash in wrapping uint64 arithmetic (deterministic across
processes and machines, unlike Python's salted ``hash()``), windows that cross a unit or word
boundary are dropped, and one sparse construction counts them. The fitted state is plain arrays
(the kept hash buckets and their idf), so skops loads it without extra trust.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..registry import featurizers
from .base import Columns, l2_normalized_rows, ngram_range_of

# Polynomial bases for characters within an n-gram and for tokens within a word n-gram (odd,
# so invertible modulo 2**64), and the final mixer's constants (splitmix64).
_CHAR_BASE = np.uint64(0x100000001B3)
_TOKEN_BASE = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


class _CodePointTest:
    """A property of code points, looked up as an array and learned lazily.

    Only code points seen so far are computed (with Python's own definition, so results agree
    with ``re`` and ``str.split``); a batch costs one array lookup.
    """

    def __init__(self, test: Callable[[str], Any], dtype: type = bool) -> None:
        self._test = test
        self._as_bool = dtype is bool
        storage = np.uint8 if self._as_bool else np.uint32
        self._unknown = np.iinfo(storage).max  # never a value: a flag is 0/1, a code <= 0x10FFFF
        self._table = np.full(0x110000, self._unknown, dtype=storage)

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        values = self._table[codes]
        missing = values == self._unknown
        if missing.any():
            for code in np.unique(codes[missing]).tolist():
                self._table[code] = self._test(chr(code))
            values = self._table[codes]
        return values.view(bool) if self._as_bool else values


_WORD_CHAR = re.compile(r"\w")
is_space = _CodePointTest(str.isspace)
is_word_char = _CodePointTest(lambda ch: _WORD_CHAR.match(ch) is not None)


@cache
def compiled_kernel() -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """numba's one-pass counting kernel (see ``compiled``), or ``None`` where numba is missing or
    ``WINNOW_NO_NUMBA`` is set: then the array version below counts the same n-grams."""
    if os.environ.get("WINNOW_NO_NUMBA"):
        return None
    try:
        from .compiled import count_ngrams
    except ImportError:
        return None
    return count_ngrams


def batch_codes(texts: Sequence[str], lowercase: bool) -> tuple[np.ndarray, np.ndarray]:
    """The code points of the texts joined by line breaks, and the index where each text starts."""
    texts = list(texts)
    joined = "\n".join(texts)
    if lowercase:
        lowered = joined.lower()
        if len(lowered) != len(joined):  # a few letters lowercase to two code points
            texts = [t.lower() for t in texts]
            lowered = "\n".join(texts)
        joined = lowered
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, starts


def _mix(hashes: np.ndarray, n: int) -> np.ndarray:
    """Spread the bits of polynomial hashes (splitmix64's finalizer), salted by the n-gram order."""
    z = hashes + np.uint64((n * 0xBF58476D1CE4E5B9) & _MASK64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each maximal run of True."""
    edges = np.diff(np.concatenate([[False], flags, [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def char_wb_ngrams(
    codes: np.ndarray, starts: np.ndarray, low: int, high: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unit index and hash of every ``char_wb`` n-gram, as scikit-learn's analyzer emits them.

    Each whitespace-separated word is padded with one space on each side; windows of each length
    ``low..high`` inside a padded word are kept, and a padded word shorter than ``low`` counts
    once as a whole.
    """
    word_start, word_end = _runs(~is_space(codes))
    if word_start.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    word_len = word_end - word_start
    padded_len = word_len + 2
    padded_start = np.cumsum(padded_len) - padded_len
    padded = np.full(int(padded_len.sum()), ord(" "), dtype=np.uint64)
    word_of_char = np.repeat(np.arange(word_start.size), word_len)
    inside = np.arange(word_of_char.size) - np.repeat(np.cumsum(word_len) - word_len, word_len)
    padded[padded_start[word_of_char] + inside + 1] = codes[word_start[word_of_char] + inside]
    word_id = np.repeat(np.arange(word_start.size), padded_len)
    unit_of_word = np.searchsorted(starts, word_start, side="right") - 1

    units, hashes = [], []
    rolling = np.zeros(padded.size, dtype=np.uint64)
    whole = np.zeros(word_start.size, dtype=np.uint64)
    for n in range(1, high + 1):
        span = padded.size - n + 1
        if span <= 0:
            break
        rolling[:span] = rolling[:span] * _CHAR_BASE + padded[n - 1 :]
        exact = padded_len == n
        whole[exact] = rolling[padded_start[exact]]
        if n >= low:
            kept = np.flatnonzero(word_id[:span] == word_id[n - 1 :])
            units.append(unit_of_word[word_id[kept]])
            hashes.append(_mix(rolling[kept], n))
    short = padded_len < low
    units.append(unit_of_word[short])
    hashes.append(_short_word_hashes(whole, padded_len, short))
    return np.concatenate(units), np.concatenate(hashes)


def _short_word_hashes(whole: np.ndarray, padded_len: np.ndarray, short: np.ndarray) -> np.ndarray:
    """Hashes of padded words shorter than the lowest order, each mixed by its own length."""
    out = np.empty(int(short.sum()), dtype=np.uint64)
    lengths = padded_len[short]
    for n in np.unique(lengths).tolist():
        out[lengths == n] = _mix(whole[short][lengths == n], n)
    return out


def word_ngrams(
    codes: np.ndarray, starts: np.ndarray, low: int, high: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unit index and hash of every word n-gram over tokens ``\\w+`` or one other non-space mark.

    This is scikit-learn's ``token_pattern=r"(?u)\\b\\w+\\b|[^\\w\\s]"``; an n-gram never crosses a
    unit.
    """
    word = is_word_char(codes)
    other = ~word & ~is_space(codes)
    run_start, run_end = _runs(word)
    mark = np.flatnonzero(other)
    token_start = np.concatenate([run_start, mark])
    token_end = np.concatenate([run_end, mark + 1])
    order = np.argsort(token_start, kind="stable")
    token_start, token_end = token_start[order], token_end[order]
    if token_start.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    token_hash = substring_hashes(codes, token_start, token_end)
    unit = np.searchsorted(starts, token_start, side="right") - 1

    units, hashes = [], []
    rolling = np.zeros(token_hash.size, dtype=np.uint64)
    for n in range(1, high + 1):
        span = token_hash.size - n + 1
        if span <= 0:
            break
        rolling[:span] = rolling[:span] * _TOKEN_BASE + token_hash[n - 1 :]
        if n >= low:
            kept = np.flatnonzero(unit[:span] == unit[n - 1 :])
            units.append(unit[kept])
            hashes.append(_mix(rolling[kept], n))
    return np.concatenate(units), np.concatenate(hashes)


def _powers(base: np.uint64, count: int) -> np.ndarray:
    """``base**0 .. base**(count-1)`` modulo 2**64 (empty for a count of 0: a batch with no text)."""
    out = np.full(count, base, dtype=np.uint64)
    if count == 0:
        return out
    out[0] = 1
    return np.multiply.accumulate(out)


def substring_hashes(codes: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The polynomial hash of each ``codes[start:end]``, from prefix sums (no loop over lengths).

    ``sum(c[j] * B**(end-1-j)) = B**(end-1) * (Q[end] - Q[start])`` with ``Q`` the prefix sums of
    ``c[j] * B**-j``; the base is odd, so its inverse modulo 2**64 exists.
    """
    b = int(_CHAR_BASE)
    inverse = b
    for _ in range(6):  # Newton's iteration doubles the correct low bits each step
        inverse = (inverse * (2 - b * inverse)) & _MASK64
    scaled = codes.astype(np.uint64) * _powers(np.uint64(inverse), codes.size)
    prefix = np.zeros(codes.size + 1, dtype=np.uint64)
    np.cumsum(scaled, out=prefix[1:])
    up = _powers(_CHAR_BASE, codes.size + 1)
    return up[end - 1] * (prefix[end] - prefix[start])


def python_hash(term: str, analyzer: str) -> int:
    """The 64-bit hash of one n-gram as the batch code computes it: a slow reference for tests.

    A word n-gram is its tokens joined by single spaces, as scikit-learn writes its vocabulary.
    """
    if analyzer == "word":
        parts = term.split(" ")
        value = 0
        for token in parts:
            value = (value * int(_TOKEN_BASE) + python_hash(token, "chars")) & _MASK64
        return int(_mix(np.array([value], np.uint64), len(parts))[0])
    value = 0
    for ch in term:
        value = (value * int(_CHAR_BASE) + ord(ch)) & _MASK64
    if analyzer == "chars":
        return value
    return int(_mix(np.array([value], np.uint64), len(term))[0])


def _texts(X: Any) -> list[str]:
    """Unit texts from a frame's ``text`` column, a Series, a list, or a one-column 2-D array."""
    if isinstance(X, pd.DataFrame):
        X = X["text"] if "text" in X else X.iloc[:, 0]
    if isinstance(X, str):
        raise ValueError("expected a list of texts, got one string")
    values = np.asarray(X, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"expected a list of texts, got an array of shape {values.shape}")
    return [v if isinstance(v, str) else str(v) for v in values.tolist()]


class HashedTfidf(TransformerMixin, BaseEstimator):
    """Hashed word or ``char_wb`` n-gram TF-IDF: sublinear tf, idf learned at fit, L2 norm.

    Counts equal scikit-learn's ``TfidfVectorizer`` counts up to hash collisions; buckets seen in
    fewer than ``min_df`` training units are dropped, so the output has one column per kept bucket.
    """

    def __init__(
        self,
        analyzer: Literal["word", "char_wb"] = "char_wb",
        ngram_range: tuple[int, int] = (2, 5),
        n_features: int = 2**22,
        min_df: int = 1,
        lowercase: bool = False,
        sublinear_tf: bool = True,
    ) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.min_df = min_df
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf

    def _counts(self, texts: list[str]) -> sp.csr_matrix:
        """Raw n-gram counts over all ``n_features`` buckets, indices sorted in each row."""
        codes, starts = batch_codes(texts, self.lowercase)
        kernel = compiled_kernel()
        if kernel is not None:
            every_bucket = np.arange(self.n_features, dtype=np.int32)
            counts = self._compiled_counts(kernel, codes, starts, every_bucket, self.n_features)
            counts.sort_indices()
            return counts
        low, high = self.ngram_range
        ngrams = word_ngrams if self.analyzer == "word" else char_wb_ngrams
        units, hashes = ngrams(codes, starts, low, high)
        buckets = (hashes % np.uint64(self.n_features)).astype(np.int64)
        # Building from coordinates sums the repeated (unit, bucket) pairs: one pass, no Python loop.
        return sp.csr_matrix(
            (np.ones(units.size, dtype=np.float32), (units, buckets)),
            shape=(len(texts), self.n_features),
        )

    def _compiled_counts(
        self,
        kernel: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]],
        codes: np.ndarray,
        starts: np.ndarray,
        columns: np.ndarray,
        n_columns: int,
    ) -> sp.csr_matrix:
        """Counts in one compiled pass: each bucket's n-grams in its ``columns`` entry (-1: dropped)."""
        low, high = self.ngram_range
        space = is_space(codes)
        by_words = self.analyzer == "word"
        word = is_word_char(codes) if by_words else space
        indptr, indices, data = kernel(
            codes, space, word, starts, columns, self.n_features, low, high, by_words, n_columns
        )
        return sp.csr_matrix((data, indices, indptr), shape=(starts.size, n_columns))

    def fit(self, X: Any, y: object = None) -> HashedTfidf:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: object = None) -> sp.csr_matrix:
        return self.fit_transform_counts(self.count(X))

    def count(self, X: Any) -> sp.csr_matrix:
        """Each unit's raw n-gram counts over all ``n_features`` buckets: the part of fitting that
        learns nothing, so folds of one corpus can share it."""
        if self.analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer must be 'word' or 'char_wb', got {self.analyzer!r}")
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must satisfy 1 <= low <= high, got {[low, high]}")
        if self.n_features < 1 or self.min_df < 1:
            raise ValueError("n_features and min_df must be >= 1")
        return self._counts(_texts(X))

    def fit_transform_counts(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """``fit_transform`` of the units whose ``count`` is given: the kept buckets and their idf
        learned from these units alone, and their TF-IDF."""
        df = np.bincount(counts.indices, minlength=self.n_features)
        self.buckets_ = np.flatnonzero(df >= self.min_df).astype(np.int64)
        self.idf_ = (np.log((1 + counts.shape[0]) / (1 + df[self.buckets_])) + 1).astype(np.float32)
        self.unicode_version_ = unicodedata.unidata_version
        self._lookup = None
        return self._weigh(counts[:, self.buckets_])

    def _columns(self) -> np.ndarray:
        """Output column of each bucket (-1 where dropped), built on first use after loading."""
        lookup = getattr(self, "_lookup", None)
        if lookup is None:
            lookup = np.full(self.n_features, -1, dtype=np.int32)
            lookup[self.buckets_] = np.arange(self.buckets_.size)
            self._lookup = lookup
        return lookup

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        counts = counts.astype(np.float32)
        if self.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1
        counts.data *= self.idf_[counts.indices]
        return l2_normalized_rows(counts)

    def transform(self, X: Any) -> sp.csr_matrix:
        check_is_fitted(self, "idf_")
        if self.unicode_version_ != unicodedata.unidata_version:
            warnings.warn(
                f"fitted with Unicode {self.unicode_version_}, running with "
                f"{unicodedata.unidata_version}: a few rare characters may tokenize differently",
                stacklevel=2,
            )
        texts = _texts(X)
        low, high = self.ngram_range
        codes, starts = batch_codes(texts, self.lowercase)
        kernel = compiled_kernel()
        if kernel is not None:
            counts = self._compiled_counts(
                kernel, codes, starts, self._columns(), self.buckets_.size
            )
            return self._weigh(counts)
        ngrams = word_ngrams if self.analyzer == "word" else char_wb_ngrams
        units, hashes = ngrams(codes, starts, low, high)
        columns = self._columns()[(hashes % np.uint64(self.n_features)).astype(np.int64)]
        kept = columns >= 0
        counts = sp.csr_matrix(
            (np.ones(int(kept.sum()), dtype=np.float32), (units[kept], columns[kept])),
            shape=(len(texts), self.buckets_.size),
        )
        return self._weigh(counts)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_lookup", None)  # a cache of buckets_, rebuilt on first use
        return state

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "idf_")
        prefix = "word" if self.analyzer == "word" else "char"
        return np.asarray([f"{prefix}_hash_{b}" for b in self.buckets_.tolist()], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


_HASHED_TYPES = ("winnow.features.hashing.HashedTfidf",)


@featurizers.register("hashed_tfidf_words.v1", trusted_types=_HASHED_TYPES)
def hashed_tfidf_words(
    ngram_range: tuple[int, int] = (1, 2),
    n_features: int = 2**22,
    min_df: int = 1,
    lowercase: bool = True,
    sublinear_tf: bool = True,
) -> tuple[Any, Columns]:
    """Word n-gram TF-IDF over hashed n-grams, computed for a batch with array operations."""
    if n_features < 1 or min_df < 1:
        raise ValueError("n_features and min_df must be >= 1")
    return HashedTfidf(
        "word", ngram_range_of(ngram_range), n_features, min_df, lowercase, sublinear_tf
    ), "text"


@featurizers.register("hashed_tfidf_chars.v1", trusted_types=_HASHED_TYPES)
def hashed_tfidf_chars(
    ngram_range: tuple[int, int] = (2, 5),
    n_features: int = 2**22,
    min_df: int = 2,
    lowercase: bool = False,
    sublinear_tf: bool = True,
) -> tuple[Any, Columns]:
    """Character n-gram (``char_wb``) TF-IDF over hashed n-grams, for a batch at once."""
    if n_features < 1 or min_df < 1:
        raise ValueError("n_features and min_df must be >= 1")
    return HashedTfidf(
        "char_wb", ngram_range_of(ngram_range), n_features, min_df, lowercase, sublinear_tf
    ), "text"
