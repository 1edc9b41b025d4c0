"""data.splitter_only: news pages teach the event-vs-opinion split without their layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from winnow.config import load_config
from winnow.data.load import load_units
from winnow.data.split import assign_splits
from winnow.errors import ConfigError, DataError
from winnow.features.base import FRAME_COLUMNS, copy_mask
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.run import fit_article_pass
from winnow.fit.training import fit_pipeline, training_frame, training_splitter_only

NEWS = "data/corpus_pages/r8_news_*.jsonl"
SOURCES = f"data.source=[data/corpus/*.jsonl, {NEWS}]"
# Stateless featurizers, so the features of a unit do not depend on which files are loaded.
SMALL = [
    "features=[{name: cues.v2}, {name: position.v2}]",
    "model.params={C: 0.25, class_weight: balanced, cv: 2, opinion_expert_C: 0.1, splitter_C: 0.25}",
    "data.source_weights={}",
]


def _train(*overrides: str) -> tuple[object, object]:
    config = load_config(Path("configs/default.yaml"), [*SMALL, *overrides])
    resolve_params(config)
    frame = load_units(config.data).frame
    return config, frame[assign_splits(frame, config.data) == "train"]


def test_the_flag_follows_each_unit_and_its_lone_copy() -> None:
    config, train = _train(SOURCES, f"data.splitter_only=[{NEWS}]")
    alone = training_splitter_only(train, config)
    assert len(alone) == len(training_frame(train, config))
    news = train["_file"].str.startswith("data/corpus_pages/r8_news_").to_numpy()
    assert news.any() and (alone[: len(train)] == news).all()
    np.testing.assert_array_equal(alone[len(train) :], news[copy_mask(train)])


def test_only_the_splitter_learns_from_splitter_only_files() -> None:
    """The classifier, the expert and the article pass are those of a run without the news
    pages; the splitter is not."""
    config, train = _train(SOURCES, f"data.splitter_only=[{NEWS}]")
    plain_config, plain_train = _train("data.source=[data/corpus/*.jsonl]")
    held = plain_train.head(3000)[FRAME_COLUMNS]
    flagged = fit_pipeline(build_pipeline(config), train, config)
    plain = fit_pipeline(build_pipeline(plain_config), plain_train, plain_config)
    ours, theirs = flagged.steps[-1][1], plain.steps[-1][1]
    X = flagged.steps[0][1].transform(held)
    np.testing.assert_array_equal(X.toarray(), plain.steps[0][1].transform(held).toarray())
    for part in ("classifier_", "expert_"):
        np.testing.assert_array_equal(
            getattr(ours, part).predict_proba(X), getattr(theirs, part).predict_proba(X)
        )
    assert np.abs(ours.splitter_.predict_proba(X) - theirs.splitter_.predict_proba(X)).max() > 0.01
    labels = [str(c) for c in ours.classes_]
    assert (
        fit_article_pass(train, config, labels).to_dict()
        == fit_article_pass(plain_train, plain_config, labels).to_dict()
    )


def test_streaming_refuses_splitter_only() -> None:
    with pytest.raises(ConfigError, match=r"data\.splitter_only: .*in memory"):
        load_config(
            Path("configs/streaming_sgd.yaml"),
            ["model.params.splitter_C=0.25", f"data.splitter_only=[{NEWS}]"],
        )


def test_a_pattern_outside_the_sources_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    config, train = _train("data.splitter_only=[README.md]")
    assert not training_splitter_only(train, config).any()
    fit_article_pass(train, config, ["boilerplate", "event", "opinion"])
    assert caplog.text.count("data.splitter_only.README.md matches no file of data.source") == 1


def test_naming_every_training_file_is_refused_before_fitting() -> None:
    config, train = _train(
        "data.source=[data/corpus/*.jsonl]", "data.splitter_only=[data/corpus/*.jsonl]"
    )
    with pytest.raises(DataError, match=r"data\.splitter_only: it names every file"):
        fit_pipeline(build_pipeline(config), train, config)
