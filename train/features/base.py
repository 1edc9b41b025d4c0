"""What every featurizer shares: the input frame, and the article columns it may lack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

# Columns every input frame carries; units without an article have missing doc_id/position/doc_len.
FRAME_COLUMNS = ["text", "doc_id", "position", "doc_len"]
Columns = str | list[str]


def positive(name: str, value: float) -> None:
    """Refuse a parameter that must be positive, naming it."""
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def as_frame(X: pd.DataFrame | Sequence[str]) -> pd.DataFrame:
    """Accept a frame with a ``text`` column or a plain list of unit texts."""
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame({"text": list(X)})


def has_article(frame: pd.DataFrame) -> np.ndarray:
    if "doc_id" not in frame or "position" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["doc_id"].notna() & frame["position"].notna()).to_numpy()


def record_input(estimator: Any, X: pd.DataFrame | Sequence[str]) -> None:
    """Set ``n_features_in_`` (and ``feature_names_in_`` for a frame) at fit, as scikit-learn does."""
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError(f"expected a 'text' column, got {list(X.columns)}")
        estimator.feature_names_in_ = np.asarray(X.columns, dtype=object)
        estimator.n_features_in_ = X.shape[1]
        return
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    estimator.n_features_in_ = 1


def unit_texts(estimator: Any, X: pd.DataFrame | Sequence[str]) -> list[str]:
    """The unit texts of a fitted featurizer's input: a frame's ``text`` column or a list of texts."""
    check_is_fitted(estimator, "n_features_in_")
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError(f"expected a 'text' column, got {list(X.columns)}")
        texts = X["text"]
    elif isinstance(X, str):
        raise ValueError("expected a list of texts, got one string")
    else:
        texts = X
    return [t if isinstance(t, str) else str(t) for t in texts]


def text_tags(tags: Any) -> Any:
    """Tags of a featurizer that reads unit texts rather than a numeric matrix."""
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    return tags
