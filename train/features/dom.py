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
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from ..registry import featurizers
from .base import DOM_COLUMNS, Columns, UnitFeaturizer, positive, with_dom_columns

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


def attribute_words(value: str) -> list[str]:
    """Words of the class/id tokens of a block: ``"post-share_barTop"`` -> post, share, bar, top.

    Whole tokens are kept too (prefixed ``=``), so a site's exact class names can count.
    """
    words: list[str] = []
    for token in value.split():
        if "=" in token:
            words.append(token)
            continue
        words.append(f"={token.lower()}")
        words += _WORD.findall(_CAMEL.sub(" ", token).lower())
    return words


class DomFeatures(UnitFeaturizer):
    """Tag, ancestor, link, size, position and attribute features of each unit's DOM block.

    Explicit flags and numbers come first, then ``n_hash`` buckets of hashed class/id words
    (scikit-learn's murmurhash: the same buckets in every process, unlike ``hash()``).
    """

    def __init__(self, n_hash: int = 1024) -> None:
        self.n_hash = n_hash

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

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        frame = with_dom_columns(self._frame(X).copy())
        known = frame["dom_tags"].notna().to_numpy()
        # Units of one block share their tags and attributes: featurize each distinct pair once.
        pairs = frame["dom_tags"].fillna("") + "\x1f" + frame["dom_attrs"].fillna("").str.lower()
        codes, uniques = pd.factorize(pairs)
        flags = np.zeros((len(uniques), len(ANCESTOR_TAGS) + len(OWN_TAGS) + len(HINTS)))
        ancestor_index = {t: k for k, t in enumerate(ANCESTOR_TAGS)}
        own_index = {t: len(ANCESTOR_TAGS) + k for k, t in enumerate(OWN_TAGS)}
        hint_index = {h: len(ANCESTOR_TAGS) + len(OWN_TAGS) + k for k, h in enumerate(HINTS)}
        attrs = []
        for u, pair in enumerate(uniques):
            tags, attr = pair.split("\x1f")
            names = tags.split()
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
            attrs.append(attr)
        density = frame["link_density"].fillna(0.0).clip(0.0, 1.0).to_numpy()
        depth = frame["dom_depth"].fillna(0.0).to_numpy()
        chars = frame["block_chars"].fillna(0.0).clip(lower=0.0).to_numpy()
        position = frame["dom_position"].fillna(0.0).clip(0.0, 1.0).to_numpy()
        parent = frame["parent_text_share"].fillna(0.0).clip(0.0, 1.0).to_numpy()
        container = frame["container_text_share"].fillna(0.0).clip(0.0, 1.0).to_numpy()
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
            ]
        ).astype(float)
        hashed = self._hasher().transform(attrs)[codes]
        dense = sp.csr_matrix(np.hstack([numbers, flags[codes]]))
        return sp.hstack([dense, hashed], format="csr")

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [
            *(f"dom_{n}" for n in NUMBER_NAMES),
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
