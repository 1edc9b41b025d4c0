"""Where a unit sits in its article, and the cues of its neighbours there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..registry import featurizers
from .base import FRAME_COLUMNS, Columns, UnitFeaturizer, has_article, neighbour_reach
from .cues import CUE_NAMES, _cue_matrix


class PositionFeatures(UnitFeaturizer):
    """Where a unit sits in its article: relative position, first or last few units, no article."""

    def __init__(self, edge: int = 3) -> None:
        self.edge = edge

    def _check_params(self) -> None:
        if self.edge < 1:
            raise ValueError(f"edge must be >= 1, got {self.edge}")

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        frame = self._frame(X)
        known = has_article(frame)
        out = np.zeros((len(frame), 6))
        out[:, 5] = ~known
        if known.any():
            pos = frame["position"].to_numpy(dtype=float, na_value=0.0)
            length = np.maximum(frame["doc_len"].to_numpy(dtype=float, na_value=1.0), 1.0)
            from_end = length - 1 - pos
            out[:, 0] = np.where(known, pos / np.maximum(length - 1, 1.0), 0.0)
            out[:, 1] = known & (pos == 0)
            out[:, 2] = known & (pos < self.edge)
            out[:, 3] = known & (from_end < self.edge)
            out[:, 4] = known & (from_end == 0)
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = ["relative", "first", "near_start", "near_end", "last", "no_article"]
        return np.asarray([f"position_{n}" for n in names], dtype=object)


class ContextFeatures(UnitFeaturizer):
    """Cues of the neighbouring units of the same article, as jusText revises a block by its neighbours.

    A short line between short lines is likely a menu; a legal sentence after a copyright line is a
    footer. For each offset in ``-window..window`` (0 excluded) the neighbour's cue vector is
    appended, with a flag where there is no neighbour.
    """

    def __init__(self, window: int = 1) -> None:
        self.window = window

    def _check_params(self) -> None:
        neighbour_reach("window", self.window)

    @property
    def neighbour_window(self) -> int:
        """How many units either side this featurizer reads: batch scoring keeps that many."""
        return self.window

    def _offsets(self) -> list[int]:
        return [o for o in range(-self.window, self.window + 1) if o != 0]

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        frame = self._frame(X).reset_index(drop=True)
        n, width = len(frame), len(CUE_NAMES) + 1
        offsets = self._offsets()
        out = np.zeros((n, width * len(offsets)))
        out[:, len(CUE_NAMES) :: width] = 1.0  # "no neighbour" until one is found
        known = has_article(frame)
        if not known.any():
            return out
        cues = _cue_matrix(frame["text"])
        keys = {
            (doc, int(pos)): i
            for i, (doc, pos, ok) in enumerate(
                zip(frame["doc_id"], frame["position"], known, strict=False)
            )
            if ok
        }
        for i in np.flatnonzero(known):
            doc, pos = frame.at[i, "doc_id"], int(frame.at[i, "position"])
            for k, offset in enumerate(offsets):
                j = keys.get((doc, pos + offset))
                if j is not None:
                    out[i, k * width : k * width + len(CUE_NAMES)] = cues[j]
                    out[i, k * width + len(CUE_NAMES)] = 0.0
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [*CUE_NAMES, "missing"]
        return np.asarray(
            [f"context{o:+d}_{n}" for o in self._offsets() for n in names], dtype=object
        )


@featurizers.register(
    "position.v1", trusted_types=("winnow.features.context.PositionFeatures",), streamable=True
)
def position(edge: int = 3) -> tuple[Any, Columns]:
    """Position of the unit in its article."""
    return PositionFeatures(edge=edge), FRAME_COLUMNS


@featurizers.register("context.v1", trusted_types=("winnow.features.context.ContextFeatures",))
def context(window: int = 1) -> tuple[Any, Columns]:
    """Cues of the neighbouring units of the same article."""
    return ContextFeatures(window=window), FRAME_COLUMNS


def neighbour_rows(frame: pd.DataFrame, known: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """For each row in ``known`` (rows with an article) and each offset, the index into ``known``
    of the unit that many places away in the same article, or -1: one sorted search a offset.

    Where two units share a place, the last one there counts, as ``context.v1``'s dict keeps it.
    """
    doc = pd.factorize(frame["doc_id"].iloc[known])[0].astype(np.int64)
    pos = frame["position"].iloc[known].to_numpy(dtype=np.int64)
    reach = max((abs(o) for o in offsets), default=0)
    stride = int(pos.max() - min(pos.min(), 0)) + 2 * reach + 2
    keys = doc * stride + (pos - min(pos.min(), 0) + reach)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    found = np.full((known.size, len(offsets)), -1, dtype=np.int64)
    for k, offset in enumerate(offsets):
        at = np.searchsorted(sorted_keys, keys + offset, side="right") - 1
        here = (at >= 0) & (sorted_keys[np.maximum(at, 0)] == keys + offset)
        found[here, k] = order[at[here]]
    return found


class BatchContextFeatures(ContextFeatures):
    """``context.v1`` for a whole batch: ``cues.v2`` vectors, neighbours found by one sorted search.

    The output is sparse, like every v2 featurizer's: scikit-learn joins all-sparse blocks in one
    linear pass, while a single dense block makes it re-sort the whole feature matrix.
    """

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        from .batch_cues import batch_cue_matrix

        frame = self._frame(X).reset_index(drop=True)
        n, width = len(frame), len(CUE_NAMES) + 1
        offsets = self._offsets()
        out = np.zeros((n, width * len(offsets)))
        out[:, len(CUE_NAMES) :: width] = 1.0  # "no neighbour" until one is found
        known = np.flatnonzero(has_article(frame))
        if known.size == 0:
            return sp.csr_matrix(out)
        cues = batch_cue_matrix(frame["text"].iloc[known].tolist())
        neighbours = neighbour_rows(frame, known, offsets)
        for k in range(len(offsets)):
            found = neighbours[:, k] >= 0
            rows = known[found]
            out[rows, k * width : k * width + len(CUE_NAMES)] = cues[neighbours[found, k]]
            out[rows, k * width + len(CUE_NAMES)] = 0.0
        return sp.csr_matrix(out)


class SparsePositionFeatures(PositionFeatures):
    """``position.v1``'s features as a sparse matrix (see ``BatchContextFeatures``)."""

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(super().transform(X))


@featurizers.register(
    "position.v2",
    trusted_types=("winnow.features.context.SparsePositionFeatures",),
    streamable=True,
)
def position_v2(edge: int = 3) -> tuple[Any, Columns]:
    """``position.v1`` as a sparse matrix, so a union of v2 featurizers stays sparse."""
    return SparsePositionFeatures(edge=edge), FRAME_COLUMNS


@featurizers.register("context.v2", trusted_types=("winnow.features.context.BatchContextFeatures",))
def context_v2(window: int = 1) -> tuple[Any, Columns]:
    """``context.v1`` computed for a batch at once, with ``cues.v2`` vectors for the neighbours."""
    return BatchContextFeatures(window=window), FRAME_COLUMNS


# The cues of a unit's shape rather than its meaning: what tells a run of menu lines, teasers and
# footer text from a run of story paragraphs, as jusText reads a block's neighbours.
LAYOUT_CUES: tuple[str, ...] = (
    "page_furniture",
    "url",
    "email",
    "copyright",
    "ends_with_terminal",
    "log_tokens",
    "short_1_3_tokens",
    "title_case_ratio",
    "upper_case_ratio",
    "starts_lower",
)


class NeighbourhoodFeatures(UnitFeaturizer):
    """The mean cue vector of the units within ``span`` of a unit in its article, itself left out.

    One neighbour (``context.v2``) cannot tell a short line inside a menu from a short line inside
    a story; the mean over eight units either side can: a story's neighbourhood is long sentences
    that end in a full stop, a menu's is short title-case lines. By default only the layout cues
    are averaged (``LAYOUT_CUES``). A unit with no neighbour gets zeros and an ``alone`` flag.
    """

    def __init__(self, span: int = 8, cues: Sequence[str] = LAYOUT_CUES) -> None:
        self.span = span
        self.cues = cues

    def _check_params(self) -> None:
        neighbour_reach("span", self.span)
        unknown = [name for name in self.cues if name not in CUE_NAMES]
        if unknown or not self.cues:
            raise ValueError(
                f"cues must name cues.v2 cues, got {list(self.cues)}; known: {', '.join(CUE_NAMES)}"
            )

    @property
    def neighbour_window(self) -> int:
        """How many units either side this featurizer reads: batch scoring keeps that many."""
        return self.span

    def transform(self, X: pd.DataFrame | Sequence[str]) -> sp.csr_matrix:
        from .batch_cues import batch_cue_matrix

        frame = self._frame(X).reset_index(drop=True)
        columns = [CUE_NAMES.index(name) for name in self.cues]
        width = len(columns)
        out = np.zeros((len(frame), width + 1))
        out[:, width] = 1.0  # alone until a neighbour is found
        known = np.flatnonzero(has_article(frame))
        if known.size == 0:
            return sp.csr_matrix(out)
        cues = batch_cue_matrix(frame["text"].iloc[known].tolist())[:, columns]
        offsets = [o for o in range(-self.span, self.span + 1) if o != 0]
        neighbours = neighbour_rows(frame, known, offsets)
        total = np.zeros((known.size, width))
        count = np.zeros(known.size)
        # Offset by offset, in a fixed order, so a unit's mean is the same in any batch that holds
        # its neighbours (batch scoring of a long article gives the scores of one pass).
        for k in range(len(offsets)):
            found = neighbours[:, k] >= 0
            total[found] += cues[neighbours[found, k]]
            count[found] += 1
        has = count > 0
        out[known[has], :width] = total[has] / count[has, None]
        out[known[has], width] = 0.0
        return sp.csr_matrix(out)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [*self.cues, "alone"]
        return np.asarray([f"neighbourhood_{n}" for n in names], dtype=object)


@featurizers.register(
    "neighbourhood.v1", trusted_types=("winnow.features.context.NeighbourhoodFeatures",)
)
def neighbourhood(span: int = 8, cues: list[str] | None = None) -> tuple[Any, Columns]:
    """The mean layout cues (or the ``cues`` named) of the units within ``span`` of a unit."""
    return NeighbourhoodFeatures(span=span, cues=LAYOUT_CUES if cues is None else tuple(cues)), (
        FRAME_COLUMNS
    )
