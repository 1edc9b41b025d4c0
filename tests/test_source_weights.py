"""data.source_weights: a kind of document can teach its layout without outvoting the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from winnow.config import load_config
from winnow.data.load import load_units
from winnow.data.split import assign_splits
from winnow.errors import ConfigError
from winnow.features.base import FRAME_COLUMNS, copy_mask
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.training import fit_pipeline, training_frame, training_weights

PAGES = "data/corpus/r[57]_pages_*.jsonl"
SMALL = [
    "data.source=[data/corpus/*.jsonl]",
    "features=[{name: cues.v2}, {name: position.v2}]",  # stateless: only the model sees weights
    "model={name: logreg.v1, params: {class_weight: null}}",  # balanced counts units, unweighted
    "article={decoder: none}",
    "data.source_weights={}",
    "data.splitter_only=[]",
]


def test_weights_follow_each_unit_and_its_lone_copy() -> None:
    config = load_config(Path("configs/default.yaml"), [f"data.source_weights={{'{PAGES}': 0.25}}"])
    frame = load_units(config.data).frame
    train = frame[assign_splits(frame, config.data) == "train"]
    weights = training_weights(train, config)
    assert len(weights) == len(training_frame(train, config))
    on_pages = train["_file"].str.contains(r"^data/corpus/r[57]_pages_").to_numpy()
    head = weights[: len(train)]
    assert on_pages.any() and (head[on_pages] == 0.25).all() and (head[~on_pages] == 1.0).all()
    np.testing.assert_array_equal(weights[len(train) :], head[copy_mask(train)])


def test_a_lightly_weighted_source_barely_moves_the_model() -> None:
    """Pages at weight 1e-4 leave nearly the model trained without them; at 1.0 they move it."""

    def fitted_proba(*overrides: str) -> np.ndarray:
        config = load_config(Path("configs/default.yaml"), [*SMALL, *overrides])
        resolve_params(config)
        frame = load_units(config.data).frame
        train = frame[assign_splits(frame, config.data) == "train"]
        held = frame[~frame["_file"].str.contains("_pages_")].head(2000)
        pipeline = fit_pipeline(build_pipeline(config), train, config)
        return pipeline.predict_proba(held[FRAME_COLUMNS])

    others = (
        '["data/corpus/[!r]*.jsonl", "data/corpus/r[2346]*.jsonl", "data/corpus/r5_[!p]*.jsonl"]'
    )
    without = fitted_proba(f"data.source={others}")
    light = fitted_proba(f"data.source_weights={{'{PAGES}': 0.0001}}")
    full = fitted_proba()
    assert np.abs(light - without).mean() < 0.2 * np.abs(full - without).mean()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "data.source_weights={data/corpus/r5_*.jsonl: 0}",
            r"source_weights.*must be a number > 0",
        ),
        ("data.source_weights={data/corpus/r5_*.jsonl: .nan}", r"must be a number > 0"),
        ("data.source_weights={data/corpus/r5_*.jsonl: heavy}", r"source_weights"),
    ],
)
def test_bad_weights_are_refused_by_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(Path("configs/default.yaml"), [override])


def test_a_pattern_outside_the_sources_is_named_and_weighs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = load_config(Path("configs/default.yaml"), ["data.source_weights={README.md: 2}"])
    frame = load_units(config.data).frame
    assert (training_weights(frame, config) == 1.0).all()
    assert "data.source_weights.README.md matches no file of data.source" in caplog.text


def test_streaming_refuses_weights() -> None:
    with pytest.raises(ConfigError, match=r"source_weights.*in memory"):
        load_config(Path("configs/streaming_sgd.yaml"), [f"data.source_weights={{'{PAGES}': 0.5}}"])


def test_class_weights_by_label_reach_the_calibrated_svm() -> None:
    """scikit-learn fits the calibration folds on encoded labels and the final SVM on the labels
    themselves; weights named by label reach both, and a key that is no label is refused."""

    def opinion_share(*overrides: str) -> float:
        """The share of units the SVM itself (before calibration) puts in ``opinion``."""
        config = load_config(Path("configs/default.yaml"), [*SMALL[:2], *SMALL[3:], *overrides])
        resolve_params(config)
        frame = load_units(config.data).frame
        train = frame[assign_splits(frame, config.data) == "train"]
        pipeline = fit_pipeline(build_pipeline(config), train, config)
        svm = pipeline[-1].calibrated_classifiers_[0].estimator
        scores = svm.decision_function(pipeline[0].transform(frame[FRAME_COLUMNS].head(3000)))
        return float((svm.classes_[scores.argmax(axis=1)] == "opinion").mean())

    svm = "model={name: linear_svm.v1, params: {cv: 2, ensemble: false, class_weight: %s}}"
    even = opinion_share(svm % "{opinion: 1.0}")
    heavy = opinion_share(svm % "{opinion: 20.0, boilerplate: 0.5}")
    assert heavy > even + 0.05
    with pytest.raises(ConfigError, match=r"class_weight\.gossip: not one of data\.labels"):
        opinion_share(svm % "{gossip: 2.0}")
