"""What jusText and trafilatura read from a page's blocks: length, stop words, punctuation, neighbours.

A block is one line or paragraph of the document (the ``block`` column: the index of the unit's
non-blank line). Boilerplate comes in runs of short blocks with few stop words and no terminal
punctuation; story text comes in long blocks dense with stop words; a document's first block is
its headline. Units whose block is unknown (lone sentences, corpus rows written without blocks)
get the unit-level features only and a flag that says so, the same at training and inference.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..registry import featurizers
from .base import FRAME_COLUMNS, Columns, UnitFeaturizer, has_value

_STOP_WORD_TEXT = """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves"""
# A small English stop-word list: story prose is dense with these, menus and teasers are not.
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_TERMINALS = tuple(".!?…:")
_CLOSERS = "\"'”’)]"
# Characters that menus, breadcrumbs, separators and share rows are made of.
_LINK_LIKE = re.compile(r"[|›»«‹•·/>\\<–—=+*#@_~^]")

NAMES = (
    "block_missing",
    "block_words",
    "block_units",
    "whole_block",
    "block_stop_density",
    "block_terminal",
    "previous_block_words",
    "next_block_words",
    "last_block",
    "short_run",
    "short_neighbours",
    "first_block",
    "unit_words",
    "unit_stop_density",
    "unit_terminal",
    "link_like_share",
)


def _scaled_log(count: np.ndarray, cap: float) -> np.ndarray:
    """``log1p(count)`` scaled so that ``cap`` maps to 1, clipped there: dense features stay in [0, 1]."""
    return np.minimum(np.log1p(np.maximum(count, 0.0)) / math.log1p(cap), 1.0)


def _ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with terminal punctuation, then only closing quotes or brackets and
    whitespace; read from the end, where a regular expression would be tried at every position."""
    return text.rstrip().rstrip(_CLOSERS).endswith(_TERMINALS)


def unit_statistics(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Words, stop words, characters, terminal punctuation and link-like characters of each unit."""
    rows = []
    is_stop_word = STOP_WORDS.__contains__
    for text in texts:
        words = _WORD.findall(text.lower().replace("’", "'"))
        rows.append(
            (
                len(words),
                sum(map(is_stop_word, words)),
                len(text),
                _ends_sentence(text),
                len(_LINK_LIKE.findall(text)),
            )
        )
    table = np.array(rows, dtype=float).reshape(len(rows), 5)
    return dict(zip(("words", "stops", "chars", "terminal", "links"), table.T, strict=True))


def has_block(frame: pd.DataFrame) -> np.ndarray:
    """Units that sit in a known block of a known document."""
    if "block" not in frame or "doc_id" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return has_value(frame, "doc_id") & has_value(frame, "block")


class BlockFeatures(UnitFeaturizer):
    """Block length in words and units, stop-word density, terminal punctuation, the lengths of the
    neighbouring blocks, runs of short blocks and the headline block, as jusText reads a page.

    ``short_words`` is the length below which a block counts as short (jusText's ``length_low``
    of 70 characters is about 10 words); ``max_words`` is where length features saturate.
    """

    def __init__(self, short_words: int = 10, max_words: int = 200) -> None:
        self.short_words = short_words
        self.max_words = max_words

    def _check_params(self) -> None:
        if self.short_words < 1:
            raise ValueError(f"short_words must be >= 1, got {self.short_words}")
        if self.max_words <= self.short_words:
            raise ValueError(f"max_words must be > short_words, got {self.max_words}")

    @property
    def neighbour_window(self) -> int:
        """Units either side that batch scoring keeps: a unit reads its own and the next blocks."""
        return 64

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        frame = self._frame(X)
        units = unit_statistics([str(t) for t in frame["text"]])
        out = np.zeros((len(frame), len(NAMES)))
        out[:, NAMES.index("unit_words")] = _scaled_log(units["words"], self.max_words)
        out[:, NAMES.index("unit_stop_density")] = units["stops"] / np.maximum(units["words"], 1)
        out[:, NAMES.index("unit_terminal")] = units["terminal"]
        out[:, NAMES.index("link_like_share")] = np.minimum(
            units["links"] / np.maximum(units["chars"], 1) * 5, 1.0
        )
        known = has_block(frame)
        out[:, NAMES.index("block_missing")] = ~known
        if known.any():
            rows = np.flatnonzero(known)
            position = (
                frame["position"].iloc[rows].to_numpy(dtype=float, na_value=np.nan)
                if "position" in frame
                else np.full(rows.size, np.nan)
            )
            columns = self._block_columns(
                frame["doc_id"].iloc[rows].astype(str).to_numpy(),
                frame["block"].iloc[rows].to_numpy(dtype=np.int64),
                position,
                {name: values[rows] for name, values in units.items()},
            )
            for name, values in columns.items():
                out[rows, NAMES.index(name)] = values
        return out

    def _block_columns(
        self,
        doc_ids: np.ndarray,
        block: np.ndarray,
        position: np.ndarray,
        units: dict[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """The block-level features of units whose block is known, in the rows' order.

        Array operations over the units sorted by document, block and position (missing
        positions in row order): a page's few hundred units cost no more than grouping would.
        """
        n = len(block)
        doc = pd.factorize(doc_ids, sort=True)[0]
        order_key = np.where(np.isnan(position), np.arange(n, dtype=float), position)
        order = np.lexsort((order_key, block, doc))
        doc, block = doc[order], block[order]
        starts = np.flatnonzero(np.r_[True, (doc[1:] != doc[:-1]) | (block[1:] != block[:-1])])
        group = np.cumsum(np.r_[True, (doc[1:] != doc[:-1]) | (block[1:] != block[:-1])]) - 1
        words = np.add.reduceat(units["words"][order], starts)
        stops = np.add.reduceat(units["stops"][order], starts)
        sizes = np.diff(np.r_[starts, n])
        terminal = units["terminal"][order][np.r_[starts[1:], n] - 1]
        doc = doc[starts]
        same_previous = np.r_[False, doc[1:] == doc[:-1]]
        same_next = np.r_[doc[:-1] == doc[1:], False]
        previous_words = np.where(same_previous, np.r_[0.0, words[:-1]], 0.0)
        next_words = np.where(same_next, np.r_[words[1:], 0.0], 0.0)
        short = words < self.short_words
        # A run of short blocks: consecutive short blocks of one document share a run id.
        run_starts = np.flatnonzero(~(short & np.r_[False, short[:-1]] & same_previous))
        run_sums = np.add.reduceat(short.astype(float), run_starts)
        run_length = np.repeat(run_sums, np.diff(np.r_[run_starts, len(short)]))
        short_previous = np.where(same_previous, np.r_[False, short[:-1]], True)
        short_next = np.where(same_next, np.r_[short[1:], False], True)
        table = {
            "block_words": _scaled_log(words, self.max_words),
            "block_units": _scaled_log(sizes.astype(float), 20),
            "whole_block": (sizes == 1).astype(float),
            "block_stop_density": stops / np.maximum(words, 1),
            "block_terminal": terminal.astype(float),
            "previous_block_words": _scaled_log(previous_words, self.max_words),
            "next_block_words": _scaled_log(next_words, self.max_words),
            "last_block": (~same_next).astype(float),
            "short_run": np.where(short, _scaled_log(run_length, 10), 0.0),
            "short_neighbours": (short_previous & short_next).astype(float),
            "first_block": (~same_previous).astype(float),
        }
        unit_group = np.empty(n, dtype=np.int64)
        unit_group[order] = group
        return {name: values[unit_group] for name, values in table.items()}

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"blocks_{n}" for n in NAMES], dtype=object)


@featurizers.register("blocks.v1", trusted_types=("winnow.features.blocks.BlockFeatures",))
def blocks(short_words: int = 10, max_words: int = 200) -> tuple[Any, Columns]:
    """Block length, stop-word density, punctuation and neighbouring blocks, as jusText reads a page."""
    return BlockFeatures(short_words=short_words, max_words=max_words), FRAME_COLUMNS


class SparseBlockFeatures(BlockFeatures):
    """``blocks.v1``'s features as a sparse matrix: scikit-learn joins all-sparse blocks in one
    pass, while one dense block makes it re-sort the whole feature matrix."""

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(super().transform(X))


@featurizers.register("blocks.v2", trusted_types=("winnow.features.blocks.SparseBlockFeatures",))
def blocks_v2(short_words: int = 10, max_words: int = 200) -> tuple[Any, Columns]:
    """``blocks.v1`` as a sparse matrix, so a union of v2 featurizers stays sparse."""
    return SparseBlockFeatures(short_words=short_words, max_words=max_words), FRAME_COLUMNS
