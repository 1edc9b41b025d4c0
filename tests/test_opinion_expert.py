"""The opinion expert: fitted on opinion pieces only, used for articles that are mostly opinion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import LinearSVC
from winnow import load_model
from winnow.estimators import (
    ArticleCalibratedClassifierCV,
    OpinionExpertClassifier,
    opinion_piece_rows,
)
from winnow.inference.classifier import units_frame
from winnow.inference.segment import iter_units

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "default"
LABELS = np.array(["boilerplate", "event", "opinion"])


def test_opinion_pieces_are_articles_of_enough_story_mostly_opinion() -> None:
    y = np.array(
        ["boilerplate"] * 3
        + ["opinion"] * 6
        + ["event"] * 2  # piece: 6 of 8 story units
        + ["opinion"] * 4
        + ["event"] * 4  # news-like: 4 of 8
        + ["opinion"] * 5  # too short: 5 units
    )
    groups = np.array(["a"] * 11 + ["b"] * 8 + ["c"] * 5)
    rows = opinion_piece_rows(y, groups, opinion_share=0.6, min_units=8)
    assert rows.tolist() == list(range(3, 11))  # a's story units, not its furniture


def _expert(groups: np.ndarray | None) -> OpinionExpertClassifier:
    rng = np.random.default_rng(0)
    n_articles, size = 12, 10
    y = rng.choice(LABELS, size=n_articles * size, p=[0.2, 0.3, 0.5])
    X = (LABELS[None, :] == y[:, None]) + rng.normal(scale=0.5, size=(len(y), 3))
    svm = ArticleCalibratedClassifierCV(LinearSVC(C=1.0), cv=2, ensemble=False)
    return OpinionExpertClassifier(svm, opinion_expert_C=0.1, opinion_share=0.4).fit(
        X, y, groups=groups
    )


def test_without_articles_there_is_no_expert_and_nothing_is_routed() -> None:
    model = _expert(groups=None)
    assert model.expert_ is None and model.event_share(np.zeros((2, 3))) is None
    proba = np.full((10, 3), 1 / 3)
    assert model.route(proba, None) is proba


def test_route_splits_an_opinion_piece_story_and_keeps_its_furniture() -> None:
    model = _expert(groups=np.repeat(np.arange(12), 10))
    assert model.expert_ is not None
    b, e, o = (model.classes_.tolist().index(k) for k in ("boilerplate", "event", "opinion"))
    piece = np.tile([0.2, 0.1, 0.7], (10, 1))[:, [b, e, o]]
    share = np.linspace(0.0, 0.9, 10)
    routed = model.route(piece, share)
    np.testing.assert_allclose(routed[:, b], piece[:, b])
    np.testing.assert_allclose(routed[:, e], 0.8 * share)
    np.testing.assert_allclose(routed.sum(axis=1), 1.0)
    news = np.tile([0.2, 0.6, 0.2], (10, 1))[:, [b, e, o]]
    assert model.route(news, share) is news  # a quarter opinion: not a piece
    short = piece[:7]
    assert model.route(short, share[:7]) is short  # fewer units than min_units


def test_the_shipped_model_routes_an_editorial_and_never_a_lone_sentence() -> None:
    model = load_model(SHIPPED)
    assert model.router is not None
    editorial = (
        "The council's housing plan is a fantasy dressed up as policy.\n"
        "It promises homes that nobody will build and rents that nobody can pay.\n"
        "Last March the council sold the Tanner Street site to a car park operator.\n"
        "That sale tells you everything about its priorities.\n"
        "Voters deserve better than slogans.\n"
        "The mayor should scrap the plan and start again.\n"
        "Nobody believes the targets anyway.\n"
        "We have heard these promises before, and we will hear them again.\n"
        "It is time the council stopped pretending.\n"
    )
    segments = list(iter_units(editorial))
    units = units_frame(
        [u.text for u in segments],
        doc_id="article",
        doc_len=len(segments),
        blocks=[u.block for u in segments],
    )
    proba, share = model.scorer.scores(units)
    assert share is not None and share.shape == (len(units),)
    routed = model.router.route(proba, share)
    assert not np.allclose(routed, proba)  # nine units, mostly opinion: a piece
    labelled = model.label_article(editorial)
    assert np.allclose(
        [[u["scores"][k] for k in model.labels] for u in labelled],
        model.decoder.posteriors(routed),
        atol=1e-4,
    )
    sentences = editorial.splitlines()
    lone = model.scorer.features(units_frame(sentences))
    # Lone sentences get the model's own scores (its splitter's split), never the expert's.
    np.testing.assert_allclose(model.predict_proba(sentences), model.router.predict_proba(lone))


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_opinion_share_outside_zero_to_one_is_refused(share: float) -> None:
    from winnow.errors import ConfigError
    from winnow.registry import models

    with pytest.raises(ConfigError, match="opinion_share must be between 0 and 1"):
        models.build("linear_svm.v1", {"opinion_expert_C": 0.1, "opinion_share": share}, "model")


def _with_splitter(columns: int) -> tuple[OpinionExpertClassifier, np.ndarray]:
    """A model whose last ``columns`` columns only its splitter reads, and a few rows to score."""
    rng = np.random.default_rng(1)
    y = rng.choice(LABELS, size=120, p=[0.2, 0.3, 0.5])
    X = (LABELS[None, :] == y[:, None]) + rng.normal(scale=0.5, size=(len(y), 3))
    story = (y == "event")[:, None] + rng.normal(scale=0.3, size=(len(y), columns))
    X = np.hstack([X, story])
    svm = ArticleCalibratedClassifierCV(LinearSVC(C=1.0), cv=2, ensemble=False)
    model = OpinionExpertClassifier(
        svm, opinion_expert_C=None, splitter_C=0.5, splitter_columns=columns
    ).fit(X, y, groups=np.repeat(np.arange(12), 10))
    return model, X[:20]


def test_the_splitter_divides_the_story_and_leaves_furniture_as_the_classifier_scored_it() -> None:
    model, X = _with_splitter(columns=2)
    assert model.expert_ is None and model.splitter_ is not None
    base = model.classifier_.predict_proba(X[:, :3])  # the classifier never sees the last two
    proba = model.predict_proba(X)
    b, e, o = (model.classes_.tolist().index(k) for k in ("boilerplate", "event", "opinion"))
    np.testing.assert_allclose(proba[:, b], base[:, b])
    np.testing.assert_allclose(proba[:, e] + proba[:, o], base[:, e] + base[:, o])
    share = model.splitter_.predict_proba(X)[:, list(model.splitter_.classes_).index("event")]
    np.testing.assert_allclose(proba[:, e], (base[:, e] + base[:, o]) * share)


def test_splitter_columns_past_the_features_are_refused_at_fit() -> None:
    svm = ArticleCalibratedClassifierCV(LinearSVC(), cv=2, ensemble=False)
    model = OpinionExpertClassifier(svm, splitter_C=0.5, splitter_columns=3)
    with pytest.raises(ValueError, match="splitter_columns is 3, but the features have 3 columns"):
        model.fit(np.zeros((12, 3)), np.array(["event", "opinion", "boilerplate"] * 4))


def _splitter_only_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of 16 articles, the last four of them flagged to train the splitter alone."""
    rng = np.random.default_rng(2)
    y = rng.choice(LABELS, size=160, p=[0.2, 0.3, 0.5])
    X = (LABELS[None, :] == y[:, None]) + rng.normal(scale=0.8, size=(len(y), 3))
    groups = np.repeat(np.arange(16), 10)
    return X, y, groups, groups >= 12


def _splitter_model() -> OpinionExpertClassifier:
    svm = ArticleCalibratedClassifierCV(LinearSVC(C=1.0), cv=2, ensemble=False)
    return OpinionExpertClassifier(svm, opinion_expert_C=0.1, opinion_share=0.4, splitter_C=0.5)


def test_splitter_only_rows_train_the_splitter_and_nothing_else() -> None:
    X, y, groups, alone = _splitter_only_data()
    flagged = _splitter_model().fit(X, y, groups=groups, splitter_only=alone)
    without = _splitter_model().fit(X[~alone], y[~alone], groups=groups[~alone])
    everything = _splitter_model().fit(X, y, groups=groups)
    for part in ("classifier_", "expert_"):
        np.testing.assert_array_equal(
            getattr(flagged, part).predict_proba(X), getattr(without, part).predict_proba(X)
        )
    np.testing.assert_array_equal(
        flagged.splitter_.predict_proba(X), everything.splitter_.predict_proba(X)
    )
    assert not np.array_equal(
        flagged.splitter_.predict_proba(X), without.splitter_.predict_proba(X)
    )


def test_splitter_only_rows_without_a_splitter_or_of_the_wrong_length_are_refused() -> None:
    X, y, groups, alone = _splitter_only_data()
    svm = ArticleCalibratedClassifierCV(LinearSVC(), cv=2, ensemble=False)
    with pytest.raises(ValueError, match="splitter_only rows need a splitter"):
        OpinionExpertClassifier(svm).fit(X, y, groups=groups, splitter_only=alone)
    with pytest.raises(ValueError, match="splitter_only has 159 rows, y 160"):
        _splitter_model().fit(X, y, groups=groups, splitter_only=alone[1:])


def test_calibrated_probabilities_are_scikit_learns_exactly() -> None:
    """The shipped model's three calibrated SVMs (model, expert, splitter) compute probabilities
    without scikit-learn's per-call checks; they must be its own, bit for bit."""
    from sklearn.calibration import CalibratedClassifierCV

    model = load_model(SHIPPED)
    texts = ["Troops entered the town on Monday.", "This is a disgrace.", "Share this story", ""]
    X = model.scorer.features(units_frame(texts * 20))
    wrapper = model.pipeline.steps[-1][1]
    for fitted, columns in [
        (wrapper.classifier_, wrapper._shared(X)),
        (wrapper.expert_, wrapper._shared(X)),
        (wrapper.splitter_, X),
    ]:
        assert fitted._sigmoid_parts() is not None
        np.testing.assert_array_equal(
            fitted.predict_proba(columns), CalibratedClassifierCV.predict_proba(fitted, columns)
        )


def test_isotonic_calibration_is_left_to_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.choice(LABELS, size=90)
    X = (LABELS[None, :] == y[:, None]) + rng.normal(scale=0.5, size=(len(y), 3))
    model = ArticleCalibratedClassifierCV(LinearSVC(), method="isotonic", cv=2).fit(X, y)
    assert model._sigmoid_parts() is None
    assert model.predict_proba(X).shape == (90, 3)
