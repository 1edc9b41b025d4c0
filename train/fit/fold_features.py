"""Cross-validation folds featurized from one pass over the whole training frame.

Most featurizing learns nothing from the corpus: cue counts, position, context, block and DOM
features of a unit, and the raw n-gram counts behind hashed TF-IDF. Done once for every training
row, a fold only takes its rows and fits what it learns (kept buckets and idf, scaling), and gets
the very matrix a plain refit of the whole pipeline would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array

from ..features.base import Columns, UnitFeaturizer
from ..features.hashing import HashedTfidf


@dataclass
class SharedBlock:
    """One featurizer of the union: its per-row output where it learns nothing (``fitted`` is
    then fitted already), else its raw counts, plus whatever is fitted on top (``rest``)."""

    columns: Columns
    weight: float | None
    rows: sp.csr_matrix
    fitted: Any = None
    counter: HashedTfidf | None = None
    rest: Pipeline | None = None

    def fit_transform(self, index: np.ndarray) -> tuple[Any, sp.csr_matrix]:
        """The featurizer fitted on the rows ``index``, and its (weighted) output for them."""
        rows = self.rows[index]
        if self.counter is not None:
            counter = clone(self.counter)
            return counter, weighted(counter.fit_transform_counts(rows), self.weight)
        if self.rest is None:
            return self.fitted, weighted(rows, self.weight)
        rest = clone(self.rest)
        fitted = Pipeline([("rows", self.fitted), *rest.steps])
        return fitted, weighted(rest.fit_transform(rows), self.weight)


def weighted(block: Any, weight: float | None) -> Any:
    """A block as ``ColumnTransformer`` weighs it: multiplied unless it has no weight."""
    return block if weight is None else block * weight


def share_block(
    transformer: Any, columns: Columns, weight: float | None, frame: pd.DataFrame
) -> Any:
    """The block's shareable work done for every row of ``frame``, or None where it has none."""
    selected = frame[columns]
    if isinstance(transformer, HashedTfidf):
        return SharedBlock(columns, weight, transformer.count(selected), counter=transformer)
    head, rest = transformer, None
    if isinstance(transformer, Pipeline):
        head = transformer.steps[0][1]
        rest = Pipeline(transformer.steps[1:]) if len(transformer.steps) > 1 else None
    if not isinstance(head, UnitFeaturizer):
        return None
    fitted = clone(head).fit(selected)
    rows = fitted.transform(selected)
    if not sp.issparse(rows):
        return None
    return SharedBlock(columns, weight, sp.csr_matrix(rows), fitted=fitted, rest=rest)


@dataclass
class FoldFeatures:
    """The union as fitted on one fold's training rows, to featurize its held-out units."""

    blocks: list[tuple[Any, Columns, float | None]]

    def transform(self, frame: pd.DataFrame) -> sp.csr_matrix:
        """What the union fitted on the fold gives ``frame``, as ``ColumnTransformer`` stacks it."""
        return stack([weighted(t.transform(frame[c]), w) for t, c, w in self.blocks])


def stack(blocks: list[Any]) -> sp.csr_matrix:
    """``ColumnTransformer``'s sparse output of these (weighted) blocks."""
    return sp.hstack(
        [check_array(b, accept_sparse=True, ensure_all_finite=False) for b in blocks]
    ).tocsr()


class SharedFeatures:
    """The union's work that learns nothing, done once for every row of the training frame.

    ``fit_transform(index)`` equals ``union.fit_transform(frame.iloc[index])`` exactly, given that
    a unit's features depend only on it and its own article (the ``UnitFeaturizer`` contract) and
    that ``index`` takes whole articles.
    """

    def __init__(self, union: ColumnTransformer, blocks: list[SharedBlock]) -> None:
        self.union = union
        self.blocks = blocks

    @classmethod
    def of(cls, union: ColumnTransformer, frame: pd.DataFrame) -> SharedFeatures | None:
        """The shared work of ``union`` over ``frame``; None unless every featurizer has some and
        the union stacks sparse blocks (what a fold would otherwise refit is not worth sharing)."""
        weights = union.transformer_weights or {}
        blocks = []
        for name, transformer, columns in union.transformers:
            block = share_block(transformer, columns, weights.get(name), frame)
            if block is None:
                return None
            blocks.append(block)
        return cls(union, blocks)

    def fit_transform(self, index: np.ndarray) -> tuple[FoldFeatures, sp.csr_matrix] | None:
        """The union fitted on the rows ``index`` and its output for them; None where the union
        would give dense output, which only a plain refit reproduces."""
        fitted, outputs = [], []
        for block in self.blocks:
            transformer, output = block.fit_transform(index)
            fitted.append((transformer, block.columns, block.weight))
            outputs.append(output)
        nnz = sum(o.nnz for o in outputs)
        total = sum(o.shape[0] * o.shape[1] for o in outputs)
        if total and nnz / total >= self.union.sparse_threshold:
            return None
        return FoldFeatures(fitted), stack(outputs)
