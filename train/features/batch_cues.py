"""Cue lexicons for a whole batch at once: a token-count matrix times a lexicon matrix.

``cues.v2`` keeps the cue names and lexicons of ``cues.v1`` and changes two things: contractions
also count their clitic (``he'll`` adds ``'ll``, ``it's`` adds ``'s``), so the lexicon entries
``'ll``, ``'s`` and ``'re`` match at last; and the work is array operations over the batch's code
points, with the regular-expression flags run once over the joined batch instead of per unit.
``cues.v1`` stays as it was, so models trained with it behave the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from ..registry import featurizers
from .base import FRAME_COLUMNS, Columns, UnitFeaturizer
from .cues import (
    _COPYRIGHT,
    _EMAIL,
    _PERCENT_MONEY,
    _RATE_LEXICONS,
    _TIME,
    _URL,
    _YEAR,
    CUE_NAMES,
    IMPERATIVE_START,
    text_cues,
)
from .hashing import (
    _CodePointTest,
    _runs,
    batch_codes,
    is_space,
    is_word_char,
    python_hash,
    substring_hashes,
)

_APOSTROPHE, _RIGHT_QUOTE = ord("'"), ord("’")
_FLAG_PATTERNS = {
    "url": _URL,
    "email": _EMAIL,
    "copyright": _COPYRIGHT,
    "year": _YEAR,
    "percent_or_money": _PERCENT_MONEY,
    "clock_time": _TIME,
}
_LOG_80 = math.log1p(80)

is_digit = _CodePointTest(str.isdecimal)
is_alnum = _CodePointTest(str.isalnum)
is_alpha = _CodePointTest(str.isalpha)
is_upper = _CodePointTest(str.isupper)
is_lower = _CodePointTest(str.islower)
is_quote = _CodePointTest(lambda ch: ch in '"“”‘’«»')
is_terminal = _CodePointTest(lambda ch: ch in ".!?…")
is_closer = _CodePointTest(lambda ch: ch in "\"'”’)]")


class _Lexicon:
    """Words as 64-bit hashes (sorted) and the rates each word feeds, as a sparse matrix."""

    def __init__(self, lexicons: Sequence[frozenset[str]]) -> None:
        words = sorted(frozenset().union(*lexicons))
        hashes = np.array([python_hash(w, "chars") for w in words], dtype=np.uint64)
        order = np.argsort(hashes)
        self.hashes = hashes[order]
        rows, cols = zip(
            *[
                (i, k)
                for i, w in enumerate(np.array(words)[order])
                for k, lex in enumerate(lexicons)
                if w in lex
            ],
            strict=True,
        )
        self.matrix = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(words), len(lexicons))
        )

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Index of each hash among the words, or -1."""
        at = np.minimum(np.searchsorted(self.hashes, hashes), self.hashes.size - 1)
        return np.where(self.hashes[at] == hashes, at, -1)


_RATES = _Lexicon(_RATE_LEXICONS)
_IMPERATIVES = _Lexicon([IMPERATIVE_START])


def _lower_char(ch: str) -> int:
    low = ch.lower()
    if low == "’":
        return _APOSTROPHE
    return ord(low) if len(low) == 1 else ord(ch)


# Lowercase code by code (length-preserving), with ’ read as '.
lower_codes = _CodePointTest(_lower_char, dtype=np.uint32)


def _contains(codes: np.ndarray, needle: str) -> np.ndarray:
    """Where ``needle`` starts in ``codes``."""
    span = codes.size - len(needle) + 1
    if span <= 0:
        return np.zeros(0, dtype=np.int64)
    found = codes[:span] == ord(needle[0])
    for k, ch in enumerate(needle[1:], start=1):
        found &= codes[k : k + span] == ord(ch)
    return np.flatnonzero(found)


# What a unit must contain (lowercased) before its pattern is worth running.
_PREFILTERS = {
    "url": ("http", "www.", ".com", ".org", ".net", ".co.", ".io"),
    "email": ("@",),
    "copyright": ("©", "(c)", "copyright", "all rights reserved"),
    "year": ("19", "20"),
    "percent_or_money": ("%", "$", "€", "£", "¥", "cent", "illion"),
    "clock_time": (":", ".", "am", "pm", "a.m.", "p.m."),
}


def _flags(texts: list[str], lowered: np.ndarray, unit_of: np.ndarray) -> dict[str, np.ndarray]:
    """Which units each regular expression matches, run only on units that hold a needed piece."""
    n = len(texts)
    out = {}
    digits = np.bincount(unit_of[is_digit(lowered)], minlength=n) > 0
    for name, pattern in _FLAG_PATTERNS.items():
        candidate = np.zeros(n, dtype=bool)
        for needle in _PREFILTERS[name]:
            candidate[unit_of[_contains(lowered, needle)]] = True
        if name in ("year", "clock_time"):
            candidate &= digits
        flag = np.zeros(n, dtype=bool)
        for i in np.flatnonzero(candidate).tolist():
            flag[i] = pattern.search(texts[i]) is not None
        out[name] = flag
    return out


def _span_sums(flags: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How many of ``flags[start:end]`` are set, for each span."""
    total = np.zeros(flags.size + 1, dtype=np.int64)
    np.cumsum(flags, out=total[1:])
    return total[end] - total[start]


def _first_of_unit(
    owner: np.ndarray, n: int, values: np.ndarray | None = None, last: bool = False
) -> np.ndarray:
    """For each unit, the first (or last) of its items (``owner`` is sorted), or -1 where none."""
    units = np.arange(n)
    if owner.size == 0:  # no items at all (a batch of empty units)
        return np.full(n, -1, dtype=np.int64)
    at = np.searchsorted(owner, units, side="right" if last else "left") - (1 if last else 0)
    valid = (at >= 0) & (at < owner.size)
    valid[valid] &= owner[at[valid]] == units[valid]
    picked = at if values is None else values[np.clip(at, 0, max(values.size - 1, 0))]
    return np.where(valid, picked, -1)


class _LastBatch:
    """The cue vectors of the last batch: ``cues.v2`` and ``context.v2`` read the same units'
    cues, one after the other, in one pipeline call."""

    def __init__(self) -> None:
        self.entry: tuple[list[str], np.ndarray] | None = None

    def get(self, texts: list[str]) -> np.ndarray | None:
        entry = self.entry  # one read: another thread may replace it
        return entry[1] if entry is not None and entry[0] == texts else None

    def put(self, texts: list[str], cues: np.ndarray) -> None:
        cues.setflags(write=False)  # shared by its readers
        self.entry = (texts, cues)


_LAST_BATCH = _LastBatch()


def batch_cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """The cue vectors of a batch, in the order of ``CUE_NAMES`` (read-only)."""
    texts = [t if isinstance(t, str) else str(t) for t in texts]
    cues = _LAST_BATCH.get(texts)
    if cues is None:
        cues = _cue_vectors(texts)
        _LAST_BATCH.put(texts, cues)
    return cues


def _cue_vectors(texts: list[str]) -> np.ndarray:
    n = len(texts)
    codes, starts = batch_codes(texts, lowercase=False)
    if codes.size == 0:  # a batch of empty units: v1's vector of the empty text, for each
        return np.tile(np.asarray(text_cues(""), dtype=np.float64), (n, 1))
    unit_of = np.repeat(np.arange(n), np.diff(np.append(starts, codes.size + 1)))[: codes.size]
    lowered = lower_codes(codes)
    apostrophe = lowered == _APOSTROPHE
    space = is_space(codes)

    run_start, run_end = _runs(is_word_char(codes) | apostrophe)
    # As in v1, a run opening with ’ (a closing quote, mostly) is not a word.
    word = is_alnum(codes[run_start]) | (codes[run_start] == _APOSTROPHE)
    start, end = run_start[word], run_end[word]
    unit = unit_of[start]

    whole = substring_hashes(lowered, start, end)
    # The clitic after a word's last apostrophe (he'll -> 'll) counts as a word of its own too.
    marks = np.flatnonzero(apostrophe)
    last = np.searchsorted(marks, end, side="left") - 1
    clitic = (last >= 0) & (marks[np.maximum(last, 0)] > start) if marks.size else last >= 0
    clitic_start = marks[last[clitic]] if marks.size else start[clitic]
    clitic_hash = substring_hashes(lowered, clitic_start, end[clitic])

    found = np.concatenate([_RATES.find(whole), _RATES.find(clitic_hash)])
    owner = np.concatenate([unit, unit[clitic]])
    hit = found >= 0
    counts = sp.csr_matrix(
        (np.ones(int(hit.sum())), (owner[hit], found[hit])), shape=(n, _RATES.hashes.size)
    )
    rates = np.minimum((counts @ _RATES.matrix).toarray(), 3) / 3.0

    n_words = np.bincount(unit, minlength=n)
    first_word = _first_of_unit(unit, n)
    has_first = first_word >= 0
    imperative = np.zeros(n)
    imperative[has_first] = _IMPERATIVES.find(whole[first_word[has_first]]) >= 0

    alpha = is_alpha(codes[start])
    title = np.bincount(unit[alpha], weights=is_upper(codes[start[alpha]]), minlength=n)
    lower = is_lower(codes)
    shouting = (
        alpha
        & (end - start > 1)
        & (_span_sums(lower | is_upper(codes), start, end) > 0)
        & (_span_sums(lower, start, end) == 0)
    )
    upper = np.bincount(unit[shouting], minlength=n)
    n_alpha = np.maximum(np.bincount(unit[alpha], minlength=n), 1)

    content = np.flatnonzero(~space)
    closer = is_closer(codes)
    first_char = _first_of_unit(unit_of[content], n, content)
    last_any = _first_of_unit(unit_of[content], n, content, last=True)
    solid = np.flatnonzero(~space & ~closer)
    last_solid = _first_of_unit(unit_of[solid], n, solid, last=True)
    # As v1's regex on the stripped text: a terminal mark, then only closing quotes or brackets.
    after = np.maximum(last_solid, 0)
    terminal = (
        (last_solid >= 0)
        & is_terminal(codes[after])
        & (_span_sums(closer, after + 1, last_any + 1) == last_any - after)
    )
    starts_lower = (first_char >= 0) & lower[np.maximum(first_char, 0)]

    flags = _flags(texts, lowered, unit_of)
    per_unit = np.zeros((n, 5))
    for k, test in enumerate(
        (is_digit(codes), is_quote(codes), codes == ord("?"), codes == ord("!"))
    ):
        per_unit[:, k] = np.bincount(unit_of[test], minlength=n) > 0
    columns = [
        rates[:, 0],
        rates[:, 1],
        rates[:, 2],
        rates[:, 3],
        rates[:, 4],
        imperative,
        rates[:, 5],
        rates[:, 6],
        rates[:, 7],
        flags["url"],
        flags["email"],
        flags["copyright"],
        flags["year"],
        per_unit[:, 0],
        flags["percent_or_money"],
        flags["clock_time"],
        per_unit[:, 1],
        per_unit[:, 2],
        per_unit[:, 3],
        terminal,
        np.minimum(np.log1p(np.maximum(n_words, 1)) / _LOG_80, 1.0),
        n_words <= 3,
        title / n_alpha,
        upper / n_alpha,
        starts_lower,
    ]
    return np.column_stack(columns).astype(np.float64).reshape(n, len(CUE_NAMES))


class CueCountFeatures(UnitFeaturizer):
    """``cues.v1``'s cue vector computed for a whole batch, with clitics counted as words.

    The output is sparse, so a union of v2 featurizers is joined without re-sorting.
    """

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(batch_cue_matrix(self._frame(X)["text"].tolist()))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"cue_{n}" for n in CUE_NAMES], dtype=object)


@featurizers.register(
    "cues.v2", trusted_types=("winnow.features.batch_cues.CueCountFeatures",), streamable=True
)
def cues_v2() -> tuple[Any, Columns]:
    """``cues.v1``'s rates for a whole batch at once, with ``'ll``, ``'s`` and ``'re`` matching."""
    return make_pipeline(CueCountFeatures(), MaxAbsScaler()), FRAME_COLUMNS
