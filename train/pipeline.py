"""Registered featurizers and models, and the scikit-learn Pipeline a config describes."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from .config import RunConfig
from .features import (
    CompactTfidfVectorizer,
    ContextFeatures,
    CueLexiconFeatures,
    MaskedText,
    PositionFeatures,
    StyleFeatures,
)
from .registry import featurizers, models

# Columns every input frame carries; units without an article have missing doc_id/position/doc_len.
FRAME_COLUMNS = ["text", "doc_id", "position", "doc_len"]
Columns = str | list[str]


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _ngrams(value: tuple[int, int]) -> tuple[int, int]:
    low, high = value
    if not 1 <= low <= high:
        raise ValueError(f"ngram_range must satisfy 1 <= low <= high, got {list(value)}")
    return (low, high)


def _masked(vectorizer: Any, mask: bool) -> Any:
    return make_pipeline(MaskedText(), vectorizer) if mask else vectorizer


@featurizers.register("tfidf_words.v1")
def tfidf_words(
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
    sublinear_tf: bool = True,
    lowercase: bool = True,
    mask: bool = False,
) -> tuple[Any, Columns]:
    """Word n-gram TF-IDF over the unit text; ``mask`` first replaces names and numbers by their shape."""
    vectorizer = CompactTfidfVectorizer(
        ngram_range=_ngrams(ngram_range),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        lowercase=lowercase,
        token_pattern=r"(?u)\b\w+\b|[^\w\s]",
        dtype=np.float32,
    )
    return _masked(vectorizer, mask), "text"


@featurizers.register("tfidf_chars.v1")
def tfidf_chars(
    ngram_range: tuple[int, int] = (2, 5),
    analyzer: Literal["char", "char_wb"] = "char_wb",
    min_df: int = 2,
    max_df: float = 1.0,
    max_features: int | None = None,
    sublinear_tf: bool = True,
    lowercase: bool = False,
    mask: bool = False,
) -> tuple[Any, Columns]:
    """Character n-gram TF-IDF: robust to spelling, casing and the punctuation of page furniture."""
    vectorizer = CompactTfidfVectorizer(
        analyzer=analyzer,
        ngram_range=_ngrams(ngram_range),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        lowercase=lowercase,
        dtype=np.float32,
    )
    return _masked(vectorizer, mask), "text"


@featurizers.register("hashing.v1")
def hashing(
    n_features: int = 2**20,
    ngram_range: tuple[int, int] = (1, 2),
    analyzer: Literal["word", "char", "char_wb"] = "word",
    lowercase: bool = True,
) -> tuple[Any, Columns]:
    """Stateless hashed n-grams: no vocabulary to fit, so it streams and stays small."""
    _positive("n_features", n_features)
    vectorizer = HashingVectorizer(
        n_features=n_features,
        ngram_range=_ngrams(ngram_range),
        analyzer=analyzer,
        lowercase=lowercase,
        alternate_sign=False,
        dtype=np.float32,
    )
    return vectorizer, "text"


@featurizers.register("cues.v1")
def cues() -> tuple[Any, Columns]:
    """Cue-lexicon rates, scaled to [0, 1]."""
    return make_pipeline(CueLexiconFeatures(), MaxAbsScaler()), FRAME_COLUMNS


@featurizers.register("style.v1")
def style() -> tuple[Any, Columns]:
    """Tense, reference, proper-name and number rates."""
    return StyleFeatures(), FRAME_COLUMNS


@featurizers.register("position.v1")
def position(edge: int = 3) -> tuple[Any, Columns]:
    """Position of the unit in its article."""
    return PositionFeatures(edge=edge), FRAME_COLUMNS


@featurizers.register("context.v1")
def context(window: int = 1) -> tuple[Any, Columns]:
    """Cues of the neighbouring units of the same article."""
    return ContextFeatures(window=window), FRAME_COLUMNS


ClassWeight = Literal["balanced"] | dict[str, float] | None


@models.register("logreg.v1")
def logreg(
    C: float = 1.0,
    class_weight: ClassWeight = "balanced",
    max_iter: int = 2000,
    random_state: int = 0,
) -> Any:
    """Multinomial logistic regression."""
    _positive("C", C)
    return LogisticRegression(
        C=C, class_weight=class_weight, max_iter=max_iter, random_state=random_state
    )


@models.register("linear_svm.v1")
def linear_svm(
    C: float = 0.5,
    class_weight: ClassWeight = "balanced",
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid",
    cv: int = 3,
    ensemble: bool = True,
    random_state: int = 0,
) -> Any:
    """Linear SVM with calibrated probabilities.

    ``ensemble: false`` keeps one SVM fitted on all the data (calibrated on cross-validated
    scores) instead of one per fold: a ``cv`` times smaller, faster model.
    """
    _positive("C", C)
    if cv < 2:
        raise ValueError(f"cv must be >= 2, got {cv}")
    svm = LinearSVC(C=C, class_weight=class_weight, random_state=random_state)
    return CalibratedClassifierCV(svm, method=calibration, cv=cv, ensemble=ensemble)


@models.register("sgd.v1")
def sgd(
    loss: Literal["log_loss", "modified_huber"] = "modified_huber",
    alpha: float = 2e-5,
    max_iter: int = 50,
    class_weight: ClassWeight = "balanced",
    random_state: int = 0,
) -> Any:
    """Linear model trained by stochastic gradient descent; probabilities from its loss."""
    _positive("alpha", alpha)
    return SGDClassifier(
        loss=loss,
        alpha=alpha,
        max_iter=max_iter,
        tol=1e-4,
        class_weight=class_weight,
        random_state=random_state,
    )


@models.register("complement_nb.v1")
def complement_nb(alpha: float = 0.3, norm: bool = False) -> Any:
    """Complement naive Bayes: fast, strong on short texts with unbalanced classes."""
    _positive("alpha", alpha)
    return ComplementNB(alpha=alpha, norm=norm)


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
        key = f"{i}_{feature.name.split('.')[0]}"
        transformers.append((key, transformer, columns))
        weights[key] = feature.weight
    union = ColumnTransformer(transformers, transformer_weights=weights, sparse_threshold=1.0)
    model = models.build(config.model.name, config.model.params, "model")
    return Pipeline([("features", union), ("model", model)])
