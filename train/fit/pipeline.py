"""The scikit-learn Pipeline a config describes: a weighted union of featurizers, then a model."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .. import estimators, features  # noqa: F401  (importing them fills the registries)
from ..config import RunConfig
from ..errors import ConfigError
from ..features import FRAME_COLUMNS
from ..registry import featurizers, models

__all__ = [
    "FRAME_COLUMNS",
    "build_pipeline",
    "model_fit_params",
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


def model_fit_params(
    pipeline: Pipeline,
    groups: np.ndarray,
    weights: np.ndarray | None = None,
    splitter_only: np.ndarray | None = None,
) -> dict[str, Any]:
    """The fit parameters of the pipeline's model: each row's article, for a model with inner
    folds (calibration), so those folds never split an article; each row's weight
    (``data.source_weights``) where there are weights, which a model that cannot take them refuses;
    and which rows train the splitter alone (``data.splitter_only``) where any does.
    """
    name, model = pipeline.steps[-1]
    accepted = inspect.signature(model.fit).parameters
    params: dict[str, Any] = {f"{name}__groups": groups} if "groups" in accepted else {}
    if weights is not None:
        if "sample_weight" not in accepted:
            raise ConfigError(
                f"data.source_weights: model {type(model).__name__} cannot weight its training units"
            )
        params[f"{name}__sample_weight"] = weights
    if splitter_only is not None and splitter_only.any():
        if "splitter_only" not in accepted:
            raise ConfigError(
                f"data.splitter_only: model {type(model).__name__} has no event-vs-opinion "
                "splitter to train alone"
            )
        params[f"{name}__splitter_only"] = splitter_only
    return params
