"""Cross-validation of a whole config on the training split, in folds that never cut an article."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from ..config import RunConfig
from ..data.split import article_groups
from ..errors import DataError
from ..evaluate.metrics import score
from ..features.base import FRAME_COLUMNS
from .fold_features import SharedFeatures
from .pipeline import build_pipeline
from .training import (
    fit_params,
    fit_pipeline,
    fit_with,
    training_frame,
    training_labels,
    training_rows,
)


def _fit_and_score_fold(
    config: RunConfig,
    train: pd.DataFrame,
    held_out: pd.DataFrame,
    shared: SharedFeatures | None = None,
    rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """Refit the config on ``train`` and score ``held_out``; with ``shared`` features (``rows``
    of them make ``train``'s training frame) only what the featurizers learn is refitted."""
    pipeline = build_pipeline(config)
    found = shared.fit_transform(rows) if shared is not None and rows is not None else None
    if found is None:
        pipeline = fit_pipeline(pipeline, train, config)
        proba = pipeline.predict_proba(held_out[FRAME_COLUMNS])
    else:
        features, X = found
        pipeline = Pipeline([pipeline.steps[-1]])
        fit_with(pipeline, X, training_labels(train, config), fit_params(pipeline, train, config))
        proba = pipeline.predict_proba(features.transform(held_out[FRAME_COLUMNS]))
    labels = [str(c) for c in pipeline.classes_]
    return score(held_out["label"], proba, labels, n_bootstrap=0)


def quiet(detail: str) -> None:
    """A progress ``note`` that says nothing."""


class CrossValidation:
    """The folds of one cross-validation, handed to the joblib backend as soon as it is made.

    A fold refits the whole config on the other folds and scores the one held out; folds never
    cut an article. The folds run on the backend's workers while the caller goes on (with the
    final fit, say, which leaves cores idle), and ``summary`` waits for them; ``elapsed_s`` then
    says how long they took from the start.
    """

    def __init__(self, config: RunConfig, train: pd.DataFrame, folds: int) -> None:
        groups = article_groups(train)
        if len(set(groups)) < folds:
            raise DataError(
                f"evaluation.cv_folds: {folds} folds need at least {folds} articles, "
                f"found {len(set(groups))}"
            )
        self.folds = folds
        self.started = time.perf_counter()
        self.elapsed_s = 0.0
        splits = GroupKFold(n_splits=folds).split(np.zeros(len(train)), groups=groups)
        # The featurizing that learns nothing is done once here rather than once a fold.
        shared = SharedFeatures.of(
            build_pipeline(config).steps[0][1], training_frame(train, config)
        )
        jobs = [
            delayed(_fit_and_score_fold)(
                config, train.iloc[a], train.iloc[b], shared, training_rows(train, a, config)
            )
            for a, b in splits
        ]
        # One worker more than the cores: the caller's final fit shares them at first, and the
        # last folds then run side by side instead of one alone beside an idle core.
        workers = min(folds, (os.cpu_count() or 1) + 1)
        self._results: Generator[dict[str, Any], None, None] = Parallel(
            n_jobs=workers, return_as="generator"
        )(jobs)

    def summary(self, note: Callable[[str], None] = quiet) -> dict[str, Any]:
        """Mean and standard deviation of each metric over the folds; ``note`` hears of each
        finished fold."""
        results = []
        note(f"cross-validation 0/{self.folds} folds")
        for result in self._results:
            results.append(result)
            note(f"cross-validation {len(results)}/{self.folds} folds")
        self.elapsed_s = time.perf_counter() - self.started
        return summarise_folds(results)

    def cancel(self) -> None:
        """Stop the folds still running (the run failed); nothing once ``summary`` has them."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # joblib: "tasks ... have been cancelled"
            self._results.close()


def summarise_folds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over the folds of each metric and each label's F1."""
    values: dict[str, list[float]] = {}
    for r in results:
        for key in ("macro_f1", "weighted_f1", "accuracy", "log_loss", "ece"):
            values.setdefault(key, []).append(r[key])
        for label, c in r["per_class"].items():
            values.setdefault(f"f1_{label}", []).append(c["f1"])
    return {
        "folds": len(results),
        "metrics": {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in values.items()
        },
    }
