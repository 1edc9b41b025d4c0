"""What every featurizer shares: the input frame, and the article columns it may lack."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
from sklearn.utils.validation import check_is_fitted, validate_data

# Columns every input frame carries; units without an article have missing doc_id/position/doc_len,
# and units whose line or paragraph is unknown (lone sentences, rows written without one) a missing block.
ARTICLE_FRAME_COLUMNS = ["text", "doc_id", "position", "doc_len", "block"]
# Where an HTML unit sits in its page's DOM (winnow.inference.html); missing for plain text.
DOM_TEXT_COLUMNS = ["dom_tags", "dom_attrs"]
DOM_NUMBER_COLUMNS = [
    "link_density",
    "dom_depth",
    "block_chars",
    "dom_position",
    "parent_text_share",
    "container_text_share",
    "main_element",
]
DOM_COLUMNS = DOM_TEXT_COLUMNS + DOM_NUMBER_COLUMNS
FRAME_COLUMNS = ARTICLE_FRAME_COLUMNS + DOM_COLUMNS
Columns = str | list[str]


# The most units either side a featurizer may read: batch scoring keeps that many units of an
# article on each side of every window, and a wider reach is no neighbourhood any more.
MAX_NEIGHBOUR_WINDOW = 1024


def neighbour_reach(name: str, value: int) -> None:
    """Refuse a neighbour window outside ``1..MAX_NEIGHBOUR_WINDOW``, naming the parameter."""
    if not 1 <= value <= MAX_NEIGHBOUR_WINDOW:
        raise ValueError(f"{name} must be from 1 to {MAX_NEIGHBOUR_WINDOW:,}, got {value}")


def positive(name: str, value: float) -> None:
    """Refuse a parameter that must be positive, naming it."""
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def ngram_range_of(value: tuple[int, int]) -> tuple[int, int]:
    """Refuse an n-gram range unless ``1 <= low <= high``."""
    low, high = value
    if not 1 <= low <= high:
        raise ValueError(f"ngram_range must satisfy 1 <= low <= high, got {list(value)}")
    return (low, high)


def l2_normalized_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` (CSR, float) with each row scaled to unit length, in place: what
    ``sklearn.preprocessing.normalize`` does to it, without the argument checks that cost more
    than normalizing a page's rows."""
    inplace_csr_row_normalize_l2(matrix)
    return matrix


def as_frame(X: pd.DataFrame | Sequence[str]) -> pd.DataFrame:
    """Accept a frame with a ``text`` column, a plain list of unit texts, or a 2-D array whose
    columns are ``FRAME_COLUMNS`` in order."""
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError(f"expected a 'text' column, got {list(X.columns)}")
        return X
    if sp.issparse(X):
        raise TypeError("sparse input is not supported: featurizers read unit texts")
    if isinstance(X, str):
        raise ValueError("expected a list of unit texts, got one string")
    values = np.asarray(X, dtype=object)
    if values.ndim == 2:
        width = min(values.shape[1], len(FRAME_COLUMNS))
        frame = pd.DataFrame(values[:, :width], columns=FRAME_COLUMNS[:width])
        for column in FRAME_COLUMNS[width:]:
            frame[column] = None
        return frame
    if values.ndim != 1:
        raise ValueError(f"expected unit texts, got an array of shape {values.shape}")
    return pd.DataFrame({"text": list(values)})


class UnitFeaturizer(TransformerMixin, BaseEstimator):
    """A featurizer of unit frames (or lists of unit texts) that learns nothing from the corpus.

    A unit's features depend only on the unit and its own article, so cross-validation folds,
    which take whole articles, share one pass over the training frame (``winnow.fit.fold_features``).

    ``fit`` records the input's columns as scikit-learn does (``n_features_in_``,
    ``feature_names_in_``) and ``transform`` checks them. Objects fitted by winnow 0.2, which
    recorded no columns, are not checked, so their packages keep loading.
    """

    def _check_params(self) -> None:
        """Refuse invalid parameters at fit (``__init__`` only stores them)."""

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> UnitFeaturizer:
        self._check_params()
        as_frame(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        self._checks_input = True
        return self

    def _frame(self, X: pd.DataFrame | Sequence[str]) -> pd.DataFrame:
        """The input of ``transform`` as a frame, once the featurizer is known to be fitted."""
        check_is_fitted(self)
        frame = as_frame(X)
        if getattr(self, "_checks_input", False) and not self._has_fitted_columns(X):
            validate_data(self, X, skip_check_array=True, reset=False)
        return frame

    def _has_fitted_columns(self, X: object) -> bool:
        """``X`` is a frame with exactly the columns seen in ``fit``, in order: ``validate_data``
        would pass it, and costs more than the featurizing of a page's units."""
        names = getattr(self, "feature_names_in_", None)
        return (
            isinstance(X, pd.DataFrame)
            and names is not None
            and X.columns.tolist() == names.tolist()
        )

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "_checks_input", False) or hasattr(self, "n_features_in_")


def with_dom_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every DOM column present, missing (plain text) where it had none."""
    for column in DOM_TEXT_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    for column in DOM_NUMBER_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def unit_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's ``FRAME_COLUMNS``, with missing DOM columns (plain text) filled in."""
    present = [c for c in FRAME_COLUMNS if c in frame.columns]
    return with_dom_columns(frame[present].copy())[FRAME_COLUMNS]


def has_value(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Where ``frame[column]`` has a value, as a boolean array (``notna`` without a Series)."""
    return ~np.asarray(pd.isna(frame[column].array), dtype=bool)


def has_article(frame: pd.DataFrame) -> np.ndarray:
    if "doc_id" not in frame or "position" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return has_value(frame, "doc_id") & has_value(frame, "position")


def article_rows(frame: pd.DataFrame) -> tuple[list[np.ndarray], np.ndarray]:
    """The row indices of each article in ``position`` order (a missing position last, ties in
    row order), and the rows of lone units (no ``doc_id``)."""
    if "doc_id" not in frame.columns:
        return [], np.arange(len(frame))
    known = frame["doc_id"].notna().to_numpy()
    rows = np.flatnonzero(known)
    if not rows.size:
        return [], np.arange(len(frame))
    keys = frame["doc_id"].iloc[rows].astype(str).to_numpy()
    if "position" in frame.columns:
        position = frame["position"].iloc[rows].to_numpy(dtype=float, na_value=np.inf)
    else:
        position = np.zeros(len(rows))
    order = rows[np.lexsort((rows, position, keys))]
    sorted_keys = keys[np.searchsorted(rows, order)]
    cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    return np.split(order, cuts), np.flatnonzero(~known)


def isolated(frame: pd.DataFrame) -> pd.DataFrame:
    """The same units with their article information removed, as lone sentences arrive at inference."""
    alone = frame.copy()
    alone["doc_id"] = None
    alone["position"] = pd.array([pd.NA] * len(alone), dtype="Int64")
    alone["doc_len"] = pd.array([pd.NA] * len(alone), dtype="Int64")
    alone["block"] = pd.array([pd.NA] * len(alone), dtype="Int64")
    for column in DOM_TEXT_COLUMNS:
        alone[column] = None
    for column in DOM_NUMBER_COLUMNS:
        alone[column] = np.nan
    return alone


def copy_mask(frame: pd.DataFrame) -> np.ndarray:
    """The rows that also train as lone units (isolated copies): all but those whose ``isolate``
    column is false, furniture whose label only its page can tell, like a reader's comment."""
    if "isolate" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    isolate = frame["isolate"]
    given = isolate.notna().to_numpy()
    copies = np.ones(len(frame), dtype=bool)
    copies[given] = [bool(v) for v in isolate[given]]
    return copies
