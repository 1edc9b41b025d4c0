"""How the training split reaches the pipeline: held in memory (with an optional search), or
streamed in batches. Both answer the same questions, so one run drives either."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import RunConfig
from ..data.load import LoadedData, load_units, source_weights, splitter_only_rows
from ..data.split import article_groups
from ..errors import DataError
from ..features.base import copy_mask, isolated, unit_columns
from .pipeline import model_fit_params
from .search import SearchResult, search_pipeline
from .stream import CorpusStream


def training_frame(train: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """The units the pipeline fits on; with ``isolated_copies`` each (but those marked
    ``isolate: false``) also appears without its article."""
    frame = unit_columns(train)
    if config.training.isolated_copies:
        frame = pd.concat([frame, isolated(frame[copy_mask(train)])], ignore_index=True)
    return frame


def training_labels(train: pd.DataFrame, config: RunConfig) -> pd.Series:
    """The labels matching ``training_frame``."""
    labels = train["label"]
    if config.training.isolated_copies:
        labels = pd.concat([labels, labels[copy_mask(train)]], ignore_index=True)
    return labels


def with_copies(values: np.ndarray, train: pd.DataFrame, config: RunConfig) -> np.ndarray:
    """A value for each unit of ``train`` as one for each row of ``training_frame``: an isolated
    copy takes its original's."""
    if not config.training.isolated_copies:
        return values
    return np.concatenate([values, values[copy_mask(train)]])


def training_groups(train: pd.DataFrame, config: RunConfig) -> np.ndarray:
    """The article of each row of ``training_frame``: an isolated copy keeps its original's."""
    return with_copies(article_groups(train), train, config)


def training_weights(train: pd.DataFrame, config: RunConfig) -> np.ndarray | None:
    """The weight of each row of ``training_frame`` (``data.source_weights``), or None."""
    weights = source_weights(train, config.data)
    return None if weights is None else with_copies(weights, train, config)


def training_splitter_only(train: pd.DataFrame, config: RunConfig) -> np.ndarray:
    """Whether each row of ``training_frame`` trains the splitter alone (``data.splitter_only``);
    a split with no other rows is a ``DataError``."""
    mask = splitter_only_rows(train)
    if len(mask) and mask.all():
        raise DataError(
            "data.splitter_only: it names every file of the training split, so the three-label "
            "model has no units of its own"
        )
    return with_copies(mask, train, config)


def fit_params(pipeline: Any, train: pd.DataFrame, config: RunConfig) -> dict[str, Any]:
    """The model's fit parameters: each row's article for its inner folds, its weight, and
    whether it trains the splitter alone."""
    return model_fit_params(
        pipeline,
        training_groups(train, config),
        training_weights(train, config),
        training_splitter_only(train, config),
    )


def training_rows(train: pd.DataFrame, index: np.ndarray, config: RunConfig) -> np.ndarray:
    """The rows of ``training_frame(train)`` that make ``training_frame(train.iloc[index])``, in
    its order: the units ``index`` picks, then their isolated copies."""
    if not config.training.isolated_copies:
        return index
    copies = copy_mask(train)
    copy_row = len(train) + np.cumsum(copies) - 1
    return np.concatenate([index, copy_row[index[copies[index]]]])


def fit_pipeline(pipeline: Any, train: pd.DataFrame, config: RunConfig) -> Any:
    """Fit on the training frame, with every inner cross-validation (calibration) split by article.

    Plain k-fold would put a unit in one fold and its isolated copy in another, so the calibrator
    would learn from scores of units the SVM had seen and come out overconfident.
    """
    X, y = training_frame(train, config), training_labels(train, config)
    return fit_with(pipeline, X, y, fit_params(pipeline, train, config))


def fit_with(pipeline: Any, X: Any, y: pd.Series, params: dict[str, Any]) -> Any:
    """``pipeline.fit(X, y, **params)``; too few articles for the model's inner folds is a
    ``DataError``."""
    try:
        return pipeline.fit(X, y, **params)
    except ValueError as exc:
        if "folds need at least" in str(exc):
            raise DataError(f"model.params.{exc}") from None
        raise


class Training(Protocol):
    """One way of presenting the training split to the pipeline."""

    def load(self) -> LoadedData:
        """Checked units: every held-out row, and the train rows where they are held in memory."""
        ...

    def trained_labels(self, train: pd.DataFrame) -> Collection[str]:
        """The labels the training split holds."""
        ...

    def fit(self, pipeline: Pipeline, train: pd.DataFrame, progress: bool) -> Pipeline:
        """The fitted pipeline (a search may return another one)."""
        ...

    def metrics(self, train: pd.DataFrame) -> dict[str, Any]:
        """What the run reports about training: sizes, and the search where there was one."""
        ...

    def manifest(self) -> dict[str, Any]:
        """What the package's manifest records about training beyond the config."""
        ...


class InMemoryTraining:
    """The whole corpus in memory: a plain fit, or the configured search and its best refit."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.searched: SearchResult | None = None

    def load(self) -> LoadedData:
        return load_units(self.config.data)

    def trained_labels(self, train: pd.DataFrame) -> Collection[str]:
        if train.empty:
            raise DataError(f"{self.config.data.source}: the train split is empty")
        return set(train["label"])

    def fit(self, pipeline: Pipeline, train: pd.DataFrame, progress: bool) -> Pipeline:
        if not self.config.search.params:
            return fit_pipeline(pipeline, train, self.config)
        X, y = training_frame(train, self.config), training_labels(train, self.config)
        groups = training_groups(train, self.config)
        weights = training_weights(train, self.config)
        alone = training_splitter_only(train, self.config)
        self.searched = search_pipeline(pipeline, self.config, X, y, groups, weights, alone)
        self.searched.apply_to(self.config)
        return self.searched.best

    def metrics(self, train: pd.DataFrame) -> dict[str, Any]:
        found: dict[str, Any] = {
            "n_train": len(train),
            "n_train_articles": int(train["doc_id"].nunique()),
        }
        alone = splitter_only_rows(train)
        if alone.any():
            found["n_train_splitter_only"] = int(alone.sum())
        if self.searched:
            found["search"] = self.searched.metrics_entry(self.config)
        return found

    def manifest(self) -> dict[str, Any]:
        return {"search": self.searched.manifest_entry(self.config)} if self.searched else {}


class StreamedTraining:
    """The train rows streamed in batches from disk; only held-out rows are held in memory."""

    def __init__(self, config: RunConfig) -> None:
        self.stream = CorpusStream(config)

    def load(self) -> LoadedData:
        return self.stream.survey()

    def trained_labels(self, train: pd.DataFrame) -> Collection[str]:
        return set(self.stream.counts.labels)

    def fit(self, pipeline: Pipeline, train: pd.DataFrame, progress: bool) -> Pipeline:
        return self.stream.fit(pipeline, progress)

    def metrics(self, train: pd.DataFrame) -> dict[str, Any]:
        return dict(self.stream.train_metrics())

    def manifest(self) -> dict[str, Any]:
        return {}


def training_for(config: RunConfig) -> Training:
    """The training the config asks for."""
    return StreamedTraining(config) if config.training.streaming else InMemoryTraining(config)
