"""Every registered featurizer's transformers follow scikit-learn's estimator contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks
from winnow import features  # noqa: F401  (importing it fills the registry)
from winnow.features.text import MaskedText
from winnow.features.vectors import ColumnScaler
from winnow.registry import featurizers


def _steps(transformer: Any) -> list[BaseEstimator]:
    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps]
    return [transformer]


def registered_transformers() -> list[BaseEstimator]:
    """One of each transformer class any registered featurizer builds, with default arguments."""
    found: dict[type, BaseEstimator] = {}
    for entry in featurizers.entries():
        for mask in (False, True):
            params = featurizers.resolve(entry.name, {}, entry.name)
            if "mask" in params:
                params["mask"] = mask
            transformer, _columns = entry.builder(**params)
            for step in _steps(transformer):
                found.setdefault(type(step), step)
    return list(found.values())


# Featurizers read unit texts (and, for the frame featurizers, a frame with text, doc_id, position
# and doc_len), not numeric matrices; scikit-learn's checks feed numbers. Where a check's premise
# does not hold for text, the reason is written here.
_NUMBERS_ARE_NOT_TEXT = (
    "it reads unit texts: any value, NaN and inf included, is read as the text str(value), so "
    "non-finite or non-numeric input is not an error"
)
_CONSTANT = "it learns nothing from y or the sample, so its output cannot depend on them"
_FRAME_EXPECTED: dict[str, str] = {
    "check_estimators_nan_inf": _NUMBERS_ARE_NOT_TEXT,
    "check_dtype_object": _NUMBERS_ARE_NOT_TEXT,
    "check_complex_data": _NUMBERS_ARE_NOT_TEXT,
    "check_estimators_empty_data_messages": (
        "an empty batch is valid at prediction time (a page with no text units): it gives an "
        "empty feature matrix rather than an error"
    ),
    "check_fit1d": "a list of unit texts is the featurizer's one-dimensional input",
    "check_fit2d_predict1d": (
        "a one-dimensional list of unit texts is valid input, read as units without an article"
    ),
}
_TEXT_OUT = "its output is the masked unit texts, which the check compares as numbers"
_TEXT_OUTPUT_EXPECTED: dict[str, str] = {
    "check_pipeline_consistency": _TEXT_OUT,
    "check_estimators_pickle": _TEXT_OUT,
    "check_transformer_general": _TEXT_OUT,
    "check_methods_sample_order_invariance": _TEXT_OUT,
    "check_methods_subset_invariance": _TEXT_OUT,
    "check_fit_idempotent": _TEXT_OUT,
    "check_transformer_data_not_an_array": _TEXT_OUT,
    "check_transformer_preserve_dtypes": "its output is text, so its dtype is object",
}


def expected_failures(estimator: BaseEstimator) -> dict[str, str]:
    """The checks each transformer is expected to fail, with the reason."""
    if type(estimator).__module__.startswith("sklearn.") or isinstance(estimator, ColumnScaler):
        return {}  # these read numbers, as the checks do
    if isinstance(estimator, MaskedText):
        return {**_FRAME_EXPECTED, **_TEXT_OUTPUT_EXPECTED}
    return dict(_FRAME_EXPECTED)


@parametrize_with_checks(registered_transformers(), expected_failed_checks=expected_failures)
def test_sklearn_contract(estimator: BaseEstimator, check: Any) -> None:
    check(estimator)


@pytest.mark.parametrize("estimator", registered_transformers(), ids=lambda e: type(e).__name__)
def test_transform_before_fit_raises_not_fitted(estimator: BaseEstimator) -> None:
    frame = pd.DataFrame({"text": ["A unit."], "doc_id": ["d"], "position": [0], "doc_len": [1]})
    if not get_tags(estimator).requires_fit:
        pytest.skip("stateless: transform needs no fit")
    if type(estimator).__module__.startswith("sklearn.preprocessing"):
        frame = np.ones((1, 1))
    with pytest.raises(NotFittedError):
        estimator.transform(frame)
