"""DOM features of a unit parsed from HTML: what only the markup shows about page furniture.

The tag of a unit's block and its ancestors (``nav``, ``footer``, ``li``, ``a``...), the share of
the block's text inside links, its depth, size and place in the page, hashed words of its
``class``/``id`` values (``share``, ``related``, ``comment``, ``cookie``, ``byline``) and
schema.org/ARIA hints (``itemprop=articlebody``, ``role=navigation``). A unit of plain text has
none of these: it gets zeros and a ``no_dom`` flag, so one model reads both kinds of input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from ..registry import featurizers
from .base import DOM_COLUMNS, Columns, UnitFeaturizer, l2_normalized_rows, positive

# Tags whose presence among a block's ancestors (or as the block itself) is a feature.
ANCESTOR_TAGS: tuple[str, ...] = (
    "nav",
    "header",
    "footer",
    "aside",
    "article",
    "main",
    "form",
    "ul",
    "ol",
    "li",
    "table",
    "td",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "figcaption",
    "blockquote",
    "button",
    "label",
    "time",
    "address",
    "section",
    "dl",
)
# The block's own tag, one-hot.
OWN_TAGS: tuple[str, ...] = ("p", "div", "li", "td", "th", "span", "a", "h1", "h2", "h3", "pre")
# Hints from schema.org microdata, ARIA roles and our own title match (see inference.html).
HINTS: tuple[str, ...] = (
    "itemprop=articlebody",
    "itemprop=headline",
    "itemprop=author",
    "itemprop=datepublished",
    "role=main",
    "role=navigation",
    "role=banner",
    "role=contentinfo",
    "role=complementary",
    "role=dialog",
    "hint=title",
)
NUMBER_NAMES: tuple[str, ...] = (
    "no_dom",
    "link_density",
    "all_links",
    "depth",
    "log_block_chars",
    "short_block",
    "position",
    "in_first_tenth",
    "in_last_tenth",
    "parent_text_share",
    "container_text_share",
    "in_main_container",
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[a-z]{2,}")
_LOG_5000 = math.log1p(5000)
# Hash buckets of class/id tokens, by number of buckets: bounded, cleared when full.
_TOKEN_BUCKETS: dict[int, dict[str, tuple[int, ...]]] = {}
MAX_CACHED_TOKENS = 200_000


def attribute_words(value: str) -> list[str]:
    """Words of the class/id tokens of a block: ``"post-share_barTop"`` -> post, share, bar, top.

    Whole tokens are kept too (prefixed ``=``), so a site's exact class names can count.
    """
    words: list[str] = []
    for token in value.split():
        words += _token_words(token)
    return words


@lru_cache(maxsize=1 << 16)
def _token_words(token: str) -> tuple[str, ...]:
    """``attribute_words`` of one token; a site repeats its class names on every block."""
    if "=" in token:
        return (token,)
    return (f"={token.lower()}", *_WORD.findall(_CAMEL.sub(" ", token).lower()))


def _text_column(frame: pd.DataFrame, column: str) -> list[str | None]:
    """A DOM text column as strings, ``None`` where missing or absent (plain text)."""
    if column not in frame.columns:
        return [None] * len(frame)
    return [v if isinstance(v, str) else None for v in frame[column].tolist()]


def _number_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A DOM number column as floats, 0 where missing, absent or not a number."""
    if column not in frame.columns:
        return np.zeros(len(frame))
    values = frame[column]
    if not pd.api.types.is_float_dtype(values.dtype):
        values = pd.to_numeric(values, errors="coerce")
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(numbers), 0.0, numbers)


class DomFeatures(UnitFeaturizer):
    """Tag, ancestor, link, size, position and attribute features of each unit's DOM block.

    Explicit flags and numbers come first, then ``n_hash`` buckets of hashed class/id words
    (scikit-learn's murmurhash: the same buckets in every process, unlike ``hash()``).
    ``main_element`` adds a flag for units under the page's main element (the deepest element
    above its paragraphs holding more than half its prose, see ``winnow.inference.html``):
    packages fitted without it keep their features.
    """

    # The default of packages saved before the parameter existed.
    main_element = False

    def __init__(self, n_hash: int = 1024, main_element: bool = False) -> None:
        self.n_hash = n_hash
        self.main_element = main_element

    def _check_params(self) -> None:
        positive("n_hash", self.n_hash)

    def _hasher(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=self.n_hash,
            analyzer=attribute_words,
            alternate_sign=False,
            norm="l2",
            dtype=np.float32,
        )

    def _hashed_words(self, attrs: list[str]) -> sp.csr_matrix:
        """``_hasher().transform(attrs)``, with each distinct class/id token hashed once a process:
        a page repeats its ancestors' tokens on every block, a site its class names on every page."""
        buckets = _TOKEN_BUCKETS.setdefault(self.n_hash, {})
        if len(buckets) > MAX_CACHED_TOKENS:
            buckets.clear()
        # Counts of each block's tokens, times the buckets of each token's words.
        vocabulary: dict[str, int] = {}
        token_rows = [[vocabulary.setdefault(t, len(vocabulary)) for t in a.split()] for a in attrs]
        new = [t for t in vocabulary if t not in buckets]
        if new:
            words = [_token_words(t) for t in new]
            # One word a row: each row's only column is the word's bucket, as the hasher gives it.
            hasher = self._hasher()._get_hasher()
            columns = hasher.transform([[w] for ws in words for w in ws]).indices.tolist()
            at = 0
            for token, token_words in zip(new, words, strict=True):
                buckets[token] = tuple(columns[at : at + len(token_words)])
                at += len(token_words)
        tokens = sp.csr_matrix(
            (
                np.ones(sum(map(len, token_rows)), dtype=np.float32),
                np.fromiter(chain.from_iterable(token_rows), dtype=np.int64),
                np.cumsum([0, *map(len, token_rows)]),
            ),
            shape=(len(attrs), len(vocabulary)),
        )
        words = [buckets[t] for t in vocabulary]
        token_buckets = sp.csr_matrix(
            (
                np.ones(sum(map(len, words)), dtype=np.float32),
                np.fromiter(chain.from_iterable(words), dtype=np.int64),
                np.cumsum([0, *map(len, words)]),
            ),
            shape=(len(vocabulary), self.n_hash),
        )
        counts = (tokens @ token_buckets).tocsr()
        counts.sum_duplicates()  # and sorted columns, as the hasher's matrix has them
        return l2_normalized_rows(counts)

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        frame = self._frame(X)
        tags = _text_column(frame, "dom_tags")
        known = np.array([t is not None for t in tags], dtype=bool)
        # Units of one block share their tags and attributes: featurize each distinct pair once.
        pairs: dict[tuple[str, str], int] = {}
        codes = np.array(
            [
                pairs.setdefault((t or "", (a or "").lower()), len(pairs))
                for t, a in zip(tags, _text_column(frame, "dom_attrs"), strict=True)
            ],
            dtype=np.intp,
        )
        flags = np.zeros((len(pairs), len(ANCESTOR_TAGS) + len(OWN_TAGS) + len(HINTS)))
        ancestor_index = {t: k for k, t in enumerate(ANCESTOR_TAGS)}
        own_index = {t: len(ANCESTOR_TAGS) + k for k, t in enumerate(OWN_TAGS)}
        hint_index = {h: len(ANCESTOR_TAGS) + len(OWN_TAGS) + k for k, h in enumerate(HINTS)}
        attrs: dict[str, int] = {}
        pair_attrs = np.zeros(len(pairs), dtype=np.intp)
        for u, (tags_of_block, attr) in enumerate(pairs):
            names = tags_of_block.split()
            for name in names:
                k = ancestor_index.get(name)
                if k is not None:
                    flags[u, k] = 1.0
            if names and names[-1] in own_index:
                flags[u, own_index[names[-1]]] = 1.0
            for token in attr.split():
                k = hint_index.get(token)
                if k is not None:
                    flags[u, k] = 1.0
            pair_attrs[u] = attrs.setdefault(attr, len(attrs))
        density = np.clip(_number_column(frame, "link_density"), 0.0, 1.0)
        depth = _number_column(frame, "dom_depth")
        chars = np.maximum(_number_column(frame, "block_chars"), 0.0)
        position = np.clip(_number_column(frame, "dom_position"), 0.0, 1.0)
        parent = np.clip(_number_column(frame, "parent_text_share"), 0.0, 1.0)
        container = np.clip(_number_column(frame, "container_text_share"), 0.0, 1.0)
        numbers = np.column_stack(
            [
                ~known,
                density,
                known & (density >= 0.99),
                np.minimum(depth / 40.0, 1.0),
                np.minimum(np.log1p(chars) / _LOG_5000, 1.0),
                known & (chars < 40),
                position,
                known & (position <= 0.1),
                known & (position >= 0.9),
                parent,
                container,
                known & (container >= 0.5),
                *(
                    [known & (_number_column(frame, "main_element") >= 0.5)]
                    if self.main_element
                    else []
                ),
            ]
        ).astype(float)
        hashed = self._hashed_words(list(attrs))[pair_attrs[codes]]
        dense = sp.csr_matrix(np.hstack([numbers, flags[codes]]))
        return sp.hstack([dense, hashed], format="csr")

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [
            *(f"dom_{n}" for n in NUMBER_NAMES),
            *(["dom_in_main_element"] if self.main_element else []),
            *(f"dom_in_{t}" for t in ANCESTOR_TAGS),
            *(f"dom_tag_{t}" for t in OWN_TAGS),
            *(f"dom_{h}" for h in HINTS),
            *(f"dom_attr_hash_{k}" for k in range(self.n_hash)),
        ]
        return np.asarray(names, dtype=object)


@featurizers.register(
    "dom.v1",
    trusted_types=("winnow.features.dom.DomFeatures",),
    streamable=True,
)
def dom(n_hash: int = 1024) -> tuple[Any, Columns]:
    """DOM features of HTML units (tags, links, size, position, hashed class/id words); plain
    text gets a ``no_dom`` flag."""
    positive("n_hash", n_hash)
    return DomFeatures(n_hash=n_hash), ["text", *DOM_COLUMNS]


@featurizers.register(
    "dom.v2",
    trusted_types=("winnow.features.dom.DomFeatures",),
    streamable=True,
)
def dom_v2(n_hash: int = 1024) -> tuple[Any, Columns]:
    """``dom.v1`` and a flag for units under the page's main element, the deepest element above
    the paragraphs that holds more than half the page's prose: short lines of the story (headings, specs, code) sit there too."""
    positive("n_hash", n_hash)
    return DomFeatures(n_hash=n_hash, main_element=True), ["text", *DOM_COLUMNS]
