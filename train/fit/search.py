"""Hyperparameter search from the config, with folds by article, on a chosen joblib backend.

``search.params`` names config keys (``model.C``, ``features.0.ngram_range``); each is checked
against its builder's signature and mapped to the parameter of the built Pipeline it sets
(``model__C``, ``features__0_tfidf_words__ngram_range``). ``parallel.backend`` picks where the
trials run: this machine's processes (loky) or threads, or a Dask or Ray cluster.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import parallel_config
from joblib.parallel import get_active_backend
from sklearn.experimental import enable_halving_search_cv  # noqa: F401  (enables the import below)
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import GridSearchCV, GroupKFold, HalvingRandomSearchCV
from sklearn.pipeline import Pipeline

from ..config import ParallelConfig, RunConfig, coerce, suggest
from ..errors import ConfigError
from ..registry import featurizers, models
from .pipeline import model_fit_params


@dataclass
class SearchParam:
    """One searched config key, the Pipeline parameter it sets and its checked candidate values."""

    key: str
    target: str
    values: list[Any]


def _split_key(key: str, config: RunConfig) -> tuple[str, int | None, str]:
    """``model.C`` -> ("model", None, "C"); ``features.0.ngram_range`` -> ("features", 0, ...)."""
    parts = [p for p in key.split(".") if p != "params"]
    if len(parts) == 2 and parts[0] == "model":
        return "model", None, parts[1]
    if len(parts) == 3 and parts[0] == "features" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(config.features):
            return "features", index, parts[2]
        raise ConfigError(f"search.params.{key}: there are {len(config.features)} features")
    raise ConfigError(
        f"search.params.{key}: expected 'model.<argument>' or 'features.<index>.<argument>'"
    )


def search_params(pipeline: Pipeline, config: RunConfig) -> list[SearchParam]:
    """Map every ``search.params`` key to a Pipeline parameter and check its values like the config."""
    names = list(pipeline.get_params(deep=True))
    found = []
    for key, values in config.search.params.items():
        section, index, arg = _split_key(key, config)
        if index is None:
            registry, block, prefix = models, config.model, "model"
        else:
            block = config.features[index]
            registry, prefix = featurizers, f"features__{index}_{block.name.split('.')[0]}"
        builder = registry.get(block.name, section if index is None else f"features.{index}")
        valid = list(inspect.signature(builder).parameters)
        if arg not in valid:
            raise ConfigError(
                f"search.params.{key}: {block.name} has no argument '{arg}'"
                f"{suggest(arg, valid)}; valid: {', '.join(valid)}"
            )
        hints = typing.get_type_hints(builder)
        checked = []
        for j, value in enumerate(values):
            value = coerce(value, hints.get(arg, Any), f"search.params.{key}.{j}")
            try:
                builder(**{**block.params, arg: value})
            except ValueError as exc:
                raise ConfigError(f"search.params.{key}.{j}: {exc}") from None
            checked.append(value)
        target = _target(names, prefix, arg, key)
        if target in {p.target for p in found}:
            raise ConfigError(f"search.params.{key}: the same parameter is searched twice")
        found.append(SearchParam(key, target, checked))
    return found


def _target(names: list[str], prefix: str, arg: str, key: str) -> str:
    """The one Pipeline parameter under ``prefix`` called ``arg`` (directly or in a nested step)."""
    exact = f"{prefix}__{arg}"
    if exact in names:
        return exact
    nested = [n for n in names if n.startswith(f"{prefix}__") and n.endswith(f"__{arg}")]
    if len(nested) == 1:
        return nested[0]
    searchable = sorted(n.removeprefix(f"{prefix}__") for n in names if n.startswith(prefix))
    raise ConfigError(
        f"search.params.{key}: '{arg}' is not one pipeline parameter of {prefix}; "
        f"searchable there: {', '.join(searchable) or 'none'}"
    )


def _plain(value: Any) -> Any:
    """JSON-ready: tuples as lists, numpy scalars as Python numbers, NaN as None."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass
class SearchResult:
    """The refit best pipeline, its parameters by config key, and every trial."""

    best: Pipeline
    best_params: dict[str, Any]
    best_score: float
    trials: list[dict[str, Any]]
    backend: str

    def manifest_entry(self, config: RunConfig) -> dict[str, Any]:
        """What the manifest records: how the search ran and what won."""
        search = config.search
        return {
            "method": search.method,
            "scoring": search.scoring,
            "cv": search.cv,
            "best_params": _plain(self.best_params),
            "best_score": _plain(self.best_score),
            "n_trials": len(self.trials),
            "backend": self.backend,
        }

    def metrics_entry(self, config: RunConfig) -> dict[str, Any]:
        """What metrics.json records: the manifest entry plus every trial."""
        return {**self.manifest_entry(config), "trials": self.trials}

    def apply_to(self, config: RunConfig) -> None:
        """Write the best values into the config, so the saved config describes the packaged model."""
        for key, value in self.best_params.items():
            _, index, arg = _split_key(key, config)
            block = config.model if index is None else config.features[index]
            block.params[arg] = value


def _searcher(
    pipeline: Pipeline, config: RunConfig, grid: dict[str, list[Any]], folds: GroupKFold
) -> Any:
    search = config.search
    if search.scoring not in get_scorer_names():
        raise ConfigError(
            f"search.scoring: unknown scorer '{search.scoring}'"
            f"{suggest(search.scoring, get_scorer_names())}"
        )
    common = {"scoring": search.scoring, "cv": folds, "n_jobs": search.n_jobs, "refit": True}
    if search.method == "grid":
        return GridSearchCV(pipeline, grid, **common)
    return HalvingRandomSearchCV(
        pipeline,
        grid,
        n_candidates=search.n_iter,
        min_resources="exhaust",
        random_state=search.seed,
        **common,
    )


def search_pipeline(
    pipeline: Pipeline,
    config: RunConfig,
    X: pd.DataFrame,
    y: pd.Series,
    groups: np.ndarray,
    weights: np.ndarray | None = None,
    splitter_only: np.ndarray | None = None,
) -> SearchResult:
    """Run the configured search on the training frame ``X``, every fold split by article.

    ``groups`` gives each row's article (an isolated copy has its original's), so neither the
    search's folds nor a model's inner calibration folds put a unit and its copy apart.
    ``weights`` (``data.source_weights``) weight each row in every fit; the scores stay unweighted.
    ``splitter_only`` marks the rows that train the splitter alone in every fit.
    """
    params = search_params(pipeline, config)
    by_target = {p.target: p.key for p in params}
    found = len(set(groups))
    if found < config.search.cv:
        raise ConfigError(
            f"search.cv: {config.search.cv} folds need at least {config.search.cv} articles, "
            f"found {found}"
        )
    backend = type(get_active_backend()[0]).__name__
    searcher = _searcher(
        pipeline, config, {p.target: p.values for p in params}, GroupKFold(config.search.cv)
    )
    searcher.fit(X, y, groups=groups, **model_fit_params(pipeline, groups, weights, splitter_only))
    results = searcher.cv_results_
    trials = []
    for i, candidate in enumerate(results["params"]):
        trial = {
            "params": {by_target[t]: _plain(v) for t, v in candidate.items()},
            "mean_test_score": _plain(results["mean_test_score"][i]),
            "std_test_score": _plain(results["std_test_score"][i]),
            "rank": int(results["rank_test_score"][i]),
        }
        for extra in ("iter", "n_resources"):
            if extra in results:
                trial[extra] = _plain(results[extra][i])
        trials.append(trial)
    best = {by_target[t]: v for t, v in searcher.best_params_.items()}
    return SearchResult(
        searcher.best_estimator_, best, float(searcher.best_score_), trials, backend
    )


@contextmanager
def joblib_backend(config: ParallelConfig) -> Iterator[None]:
    """Run the enclosed joblib work (search, cross-validation) on the configured backend."""
    with ExitStack() as stack:
        if config.backend == "dask":
            stack.enter_context(_dask_client(config.address))
        elif config.backend == "ray":
            stack.enter_context(_ray_session(config.address))
        jobs = {} if config.n_jobs is None else {"n_jobs": config.n_jobs}
        stack.enter_context(parallel_config(backend=config.backend, **jobs))
        yield


@contextmanager
def _dask_client(address: str | None) -> Iterator[None]:
    """The current Dask client, else one for ``address``, else a LocalCluster on this machine."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "parallel.backend: dask needs dask.distributed: pip install 'winnow[dask]'"
        ) from None
    try:
        Client.current()
        running = True
    except ValueError:
        running = False
    if running:
        yield
    elif address:
        with Client(address):
            yield
    else:
        with LocalCluster(dashboard_address=None, processes=True) as cluster, Client(cluster):
            yield


@contextmanager
def _ray_session(address: str | None) -> Iterator[None]:
    """A Ray session at ``address`` (a local one where it is null), unless one is running."""
    try:
        import ray
    except ImportError:
        raise ConfigError("parallel.backend: ray needs ray: pip install 'ray[default]'") from None
    if ray.is_initialized():
        yield
        return
    ray.init(address=address)
    try:
        yield
    finally:
        ray.shutdown()
