"""Cross-validation of a whole config on the training split, in folds that never cut an article."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

from ..config import RunConfig
from ..data.split import article_groups
from ..errors import DataError
from ..evaluate.metrics import score
from ..features.base import FRAME_COLUMNS
from .pipeline import build_pipeline
from .training import fit_pipeline


def _fit_and_score_fold(
    config: RunConfig, train: pd.DataFrame, held_out: pd.DataFrame
) -> dict[str, Any]:
    pipeline = fit_pipeline(build_pipeline(config), train, config)
    labels = [str(c) for c in pipeline.classes_]
    return score(
        held_out["label"], pipeline.predict_proba(held_out[FRAME_COLUMNS]), labels, n_bootstrap=0
    )


def quiet(detail: str) -> None:
    """A progress ``note`` that says nothing."""


def cross_validate(
    config: RunConfig,
    train: pd.DataFrame,
    folds: int,
    note: Callable[[str], None] = quiet,
) -> dict[str, Any]:
    """Mean and standard deviation of each metric over ``folds`` folds that never cut an article.

    ``note`` hears of each finished fold.
    """
    groups = article_groups(train)
    if len(set(groups)) < folds:
        raise DataError(
            f"evaluation.cv_folds: {folds} folds need at least {folds} articles, "
            f"found {len(set(groups))}"
        )
    splits = GroupKFold(n_splits=folds).split(np.zeros(len(train)), groups=groups)
    jobs = (delayed(_fit_and_score_fold)(config, train.iloc[a], train.iloc[b]) for a, b in splits)
    results = []
    note(f"cross-validation 0/{folds} folds")
    for result in Parallel(n_jobs=min(folds, os.cpu_count() or 1), return_as="generator")(jobs):
        results.append(result)
        note(f"cross-validation {len(results)}/{folds} folds")
    values: dict[str, list[float]] = {}
    for r in results:
        for key in ("macro_f1", "weighted_f1", "accuracy", "log_loss", "ece"):
            values.setdefault(key, []).append(r[key])
        for label, c in r["per_class"].items():
            values.setdefault(f"f1_{label}", []).append(c["f1"])
    return {
        "folds": folds,
        "metrics": {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in values.items()
        },
    }
