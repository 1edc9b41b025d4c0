"""Hyperparameter search: folds by article, best parameters in the manifest, trials in metrics, backends."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from joblib.parallel import get_active_backend
from winnow import load_model
from winnow.config import ParallelConfig, RunConfig, load_config
from winnow.errors import ConfigError
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.run import run
from winnow.fit.search import joblib_backend, search_params

from benchmarks.scale.corpus import build

GRID = "search.params={model.alpha: [0.0001, 0.001], features.0.ngram_range: [[1, 1], [1, 2]]}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(1200, tmp_path_factory.mktemp("corpus"), seed=2)


def search_config(corpus: Path, *overrides: str) -> RunConfig:
    """configs/streaming_sgd.yaml in memory (a search needs the folds in memory), small and fast."""
    settings = [
        f"data.source=[{corpus}/*.jsonl]",
        "evaluation.extra_sets=[]",
        "evaluation.bootstrap=0",
        "training.streaming=false",
        "features.0.params.n_features=4096",
        "search.cv=2",
        GRID,
        *overrides,
    ]
    return load_config("configs/streaming_sgd.yaml", settings)


def test_grid_search_writes_best_params_and_every_trial(corpus: Path, tmp_path: Path) -> None:
    result = run(search_config(corpus), output=tmp_path / "m", progress=False)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    best = manifest["search"]["best_params"]
    assert set(best) == {"model.alpha", "features.0.ngram_range"}
    assert manifest["search"]["method"] == "grid" and manifest["search"]["n_trials"] == 4
    trials = metrics["search"]["trials"]
    assert len(trials) == 4 and result.metrics["search"]["trials"] == trials
    assert {tuple(t["params"]["features.0.ngram_range"]) for t in trials} == {(1, 1), (1, 2)}
    assert all(0 < t["mean_test_score"] <= 1 and t["std_test_score"] >= 0 for t in trials)
    winner = min(trials, key=lambda t: t["rank"])
    assert winner["params"] == best
    assert manifest["search"]["best_score"] == pytest.approx(winner["mean_test_score"])
    packaged = manifest["config"]
    assert packaged["model"]["params"]["alpha"] == best["model.alpha"]
    assert list(packaged["features"][0]["params"]["ngram_range"]) == best["features.0.ngram_range"]
    assert load_model(tmp_path / "m").predict(["Subscribe to our newsletter."]) == ["boilerplate"]


def test_halving_random_search_records_iterations(corpus: Path, tmp_path: Path) -> None:
    config = search_config(corpus, "search.method=halving_random", "search.n_iter=4")
    metrics = run(config, output=tmp_path / "m", progress=False).metrics["search"]
    assert metrics["method"] == "halving_random"
    assert {"iter", "n_resources"} <= set(metrics["trials"][0])
    assert len({t["iter"] for t in metrics["trials"]}) >= 2


def test_a_search_ships_the_same_calibration_as_a_plain_fit(tmp_path: Path) -> None:
    """A one-candidate search refits exactly what a plain fit fits: the calibration folds split
    by article with each isolated copy beside its original in both (was: plain k-fold in the
    search, log-loss 0.188 -> 0.301 on the default)."""
    overrides = [
        "features=[{name: tfidf_words.v1}, {name: cues.v1}, {name: position.v1}]",
        "model.params.splitter_columns=0",  # no word vectors among these features
        "model.params.cv=3",
        "model.params.C=0.3",  # the one candidate of the search below
        "evaluation.extra_sets=[]",
        "evaluation.bootstrap=0",
        "evaluation.cv_folds=0",
    ]
    plain = run(load_config("configs/default.yaml", overrides), tmp_path / "plain", False)
    searched = run(
        load_config(
            "configs/default.yaml", [*overrides, "search.params={model.C: [0.3]}", "search.cv=2"]
        ),
        tmp_path / "searched",
        False,
    )
    a, b = plain.metrics["test"], searched.metrics["test"]
    assert a["log_loss"] == pytest.approx(b["log_loss"], abs=1e-9)
    assert a["ece"] == pytest.approx(b["ece"], abs=1e-9)
    model = load_model(searched.output_dir)
    # The default wraps its SVM with an opinion expert (``classifier``), whose folds are the same.
    assert model.pipeline.steps[-1][1].get_params()["classifier__cv"] == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "{model.alpah: [0.1]}",
            r"search\.params\.model\.alpah: sgd\.v1 has no argument 'alpah' \(did you mean 'alpha'\?\)",
        ),
        ("{model.alpha: [-1.0]}", r"search\.params\.model\.alpha\.0: alpha must be > 0"),
        (
            "{features.0.ngram_range: [3]}",
            r"search\.params\.features\.0\.ngram_range\.0: expected a list",
        ),
        (
            "{features.9.lowercase: [true]}",
            r"search\.params\.features\.9\.lowercase: there are 3 features",
        ),
        ("{optimizer.lr: [1]}", r"search\.params\.optimizer\.lr: expected 'model\.<argument>'"),
    ],
)
def test_bad_search_params_name_the_key(corpus: Path, params: str, message: str) -> None:
    config = search_config(corpus, f"search.params={params}")
    resolve_params(config)
    with pytest.raises(ConfigError, match=message):
        search_params(build_pipeline(config), config)


def test_search_keys_map_to_pipeline_parameters(corpus: Path) -> None:
    config = search_config(
        corpus, "search.params={model.params.alpha: [0.01], features.2.edge: [2]}"
    )
    resolve_params(config)
    found = {p.key: p.target for p in search_params(build_pipeline(config), config)}
    assert found == {
        "model.params.alpha": "model__alpha",
        "features.2.edge": "features__2_position__edge",
    }


def test_unknown_scorer_is_refused(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"search\.scoring: unknown scorer 'f1_macor' \(did you mean 'f1_macro'\?\)",
    ):
        run(search_config(corpus, "search.scoring=f1_macor"), output=tmp_path / "m", progress=False)


def test_backend_choice_is_applied() -> None:
    with joblib_backend(ParallelConfig(backend="threading", n_jobs=2)):
        backend, n_jobs = get_active_backend()
        assert type(backend).__name__ == "ThreadingBackend" and n_jobs == 2
    assert type(get_active_backend()[0]).__name__ != "ThreadingBackend"


def test_search_runs_on_the_threading_backend(corpus: Path, tmp_path: Path) -> None:
    config = search_config(corpus, "parallel.backend=threading", "parallel.n_jobs=2")
    metrics = run(config, output=tmp_path / "m", progress=False).metrics
    assert metrics["search"]["backend"] == "ThreadingBackend"


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs winnow[dask]")
def test_search_runs_on_a_dask_local_cluster(corpus: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    config = search_config(corpus, "parallel.backend=dask", "search.n_jobs=-1")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client, get_task_stream(client) as tasks:
        metrics = run(config, output=tmp_path / "m", progress=False).metrics
    assert tasks.data, "the trials ran as tasks on the Dask cluster"
    assert metrics["search"]["backend"] == "DaskDistributedBackend"
    assert len(metrics["search"]["trials"]) == 4


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_missing_ray_is_a_config_error() -> None:
    with (
        pytest.raises(ConfigError, match=r"parallel\.backend: ray needs ray"),
        joblib_backend(ParallelConfig(backend="ray")),
    ):
        pass


def test_no_search_leaves_manifest_and_metrics_without_one(corpus: Path, tmp_path: Path) -> None:
    config = search_config(corpus, "search.params={}")
    metrics = run(config, output=tmp_path / "m", progress=False).metrics
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert "search" not in metrics and "search" not in manifest
    assert np.isfinite(metrics["test"]["macro_f1"])
