"""The scikit-learn Pipeline a config describes: a weighted union of featurizers, then a model."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .. import estimators, features  # noqa: F401  (importing them fills the registries)
from ..config import RunConfig
from ..features import FRAME_COLUMNS
from ..registry import featurizers, models

__all__ = [
    "FRAME_COLUMNS",
    "build_pipeline",
    "group_fit_params",
    "resolve_params",
    "step_name",
]


def step_name(index: int, name: str) -> str:
    """The pipeline step of the ``index``-th featurizer: ``"2_cues"`` for ``cues.v1``."""
    return f"{index}_{name.split('.')[0]}"


def resolve_params(config: RunConfig) -> None:
    """Fill every builder default into the config, so the saved config repeats the run exactly."""
    for i, feature in enumerate(config.features):
        feature.params = featurizers.resolve(feature.name, feature.params, f"features.{i}")
    config.model.params = models.resolve(config.model.name, config.model.params, "model")


def build_pipeline(config: RunConfig) -> Pipeline:
    """The unfitted Pipeline the config describes: a weighted union of featurizers, then a model."""
    transformers, weights = [], {}
    for i, feature in enumerate(config.features):
        transformer, columns = featurizers.build(feature.name, feature.params, f"features.{i}")
        key = step_name(i, feature.name)
        transformers.append((key, transformer, columns))
        weights[key] = feature.weight
    union = ColumnTransformer(transformers, transformer_weights=weights, sparse_threshold=1.0)
    model = models.build(config.model.name, config.model.params, "model")
    return Pipeline([("features", union), ("model", model)])


def group_fit_params(pipeline: Pipeline, groups: np.ndarray) -> dict[str, Any]:
    """The fit parameters that hand each row's article to a model with inner folds (calibration),
    so those folds never split an article; empty for a model without them."""
    model = pipeline.steps[-1][1]
    if "groups" not in inspect.signature(model.fit).parameters:
        return {}
    return {f"{pipeline.steps[-1][0]}__groups": groups}
