"""Registered classifiers: the ``model`` section of a config names one of these."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from .features.base import positive
from .registry import models


class ArticleCalibratedClassifierCV(CalibratedClassifierCV):
    """``CalibratedClassifierCV`` whose calibration folds, given ``groups`` at fit, never split an
    article: a unit and its isolated copy are always scored by a model that saw neither.

    scikit-learn does not route ``groups`` to the splitter when ``ensemble=False``, so the folds
    are computed here from ``cv: k`` and the groups, and ``cv`` keeps its value.
    """

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        groups: np.ndarray | None = None,
        **fit_params: Any,
    ) -> ArticleCalibratedClassifierCV:
        self._parts = None  # the fast path's cache of the folds fitted before
        weights = self.estimator.get_params().get("class_weight")
        if isinstance(weights, dict):
            # scikit-learn scores the calibration folds with the labels encoded as 0..k-1, and
            # fits the final model with the labels themselves: the weights must name both.
            classes = [str(c) for c in np.unique(np.asarray(y))]
            unknown = sorted(set(weights) - set(classes))
            if unknown:
                raise ValueError(
                    f"class_weight names {', '.join(unknown)}, not a label of the training "
                    f"data ({', '.join(classes)})"
                )
            by_class = [weights.get(c, 1.0) for c in classes]
            self.estimator.set_params(
                class_weight={
                    **dict(zip(classes, by_class, strict=True)),
                    **dict(enumerate(by_class)),
                }
            )
            try:
                return self._fit_by_articles(X, y, sample_weight, groups, **fit_params)
            finally:
                self.estimator.set_params(class_weight=weights)
        return self._fit_by_articles(X, y, sample_weight, groups, **fit_params)

    def _fit_by_articles(
        self, X: Any, y: Any, sample_weight: Any, groups: np.ndarray | None, **fit_params: Any
    ) -> ArticleCalibratedClassifierCV:
        k = self.cv
        if groups is None or not isinstance(k, int):
            return super().fit(X, y, sample_weight=sample_weight, **fit_params)
        found = len(set(groups))
        if found < k:
            raise ValueError(f"cv: {k} folds need at least {k} articles, found {found}")
        self.cv = list(GroupKFold(n_splits=k).split(X, y, groups=groups))
        try:
            super().fit(X, y, sample_weight=sample_weight, **fit_params)
        finally:
            self.cv = k
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``CalibratedClassifierCV.predict_proba``, computed directly for sigmoid-calibrated
        ``LinearSVC`` folds: the same decision values and Platt sigmoids, without scikit-learn's
        per-call input checks and label encoding (about 1 ms a call, three calls a page)."""
        parts = self._sigmoid_parts()
        if parts is None or not _plain_matrix(X, self.n_features_in_):
            return super().predict_proba(X)
        n_classes = self.classes_.shape[0]
        mean = np.zeros((X.shape[0], n_classes))
        for coef_T, intercept, columns, a, b in parts:
            scores = np.asarray(X @ coef_T) + intercept
            proba = np.zeros((X.shape[0], n_classes))
            for j, column in enumerate(columns):
                proba[:, column] = expit(-(a[j] * scores[:, j] + b[j]))
            if n_classes == 2:
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                total = proba.sum(axis=1)[:, None]
                proba = np.divide(
                    proba, total, out=np.full_like(proba, 1 / n_classes), where=total != 0
                )
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        return mean / len(parts)

    def _sigmoid_parts(self) -> list[tuple[Any, ...]] | None:
        """Per fold: the SVM's transposed coefficients and intercepts, the probability column of
        each of its scores, and the sigmoids' slopes and offsets; None where the folds are not
        sigmoid-calibrated ``LinearSVC`` models (then scikit-learn computes the probabilities)."""
        from sklearn.svm import LinearSVC

        cached = getattr(self, "_parts", None)
        if cached is not None:
            return cached or None
        parts: list[tuple[Any, ...]] = []
        for fold in getattr(self, "calibrated_classifiers_", []):
            svm = fold.estimator
            if fold.method != "sigmoid" or type(svm) is not LinearSVC:
                parts = []
                break
            classes = list(fold.classes)
            columns = [classes.index(c) for c in svm.classes_]
            if len(classes) == 2:
                columns = [1]
            coef = svm.coef_
            parts.append(
                (
                    coef.T,
                    svm.intercept_,
                    columns,
                    [c.a_ for c in fold.calibrators],
                    [c.b_ for c in fold.calibrators],
                )
            )
        self._parts = parts
        return parts or None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_parts", None)  # rebuilt from the fitted folds on first use
        return state


def _plain_matrix(X: Any, n_features: int) -> bool:
    """``X`` is a finite 2-D sparse matrix or array of ``n_features`` columns, as the featurizers
    give: what scikit-learn's checks would pass unchanged."""
    if sp.issparse(X) and X.format == "csr":
        data = X.data
    elif isinstance(X, np.ndarray) and X.dtype.kind == "f":
        data = X
    else:
        return False
    return X.ndim == 2 and X.shape[1] == n_features and bool(np.isfinite(data).all())


def opinion_piece_rows(
    y: np.ndarray, groups: np.ndarray, opinion_share: float, min_units: int
) -> np.ndarray:
    """The event and opinion rows of articles whose story is mostly opinion: at least
    ``min_units`` event or opinion units, ``opinion_share`` or more of them opinion."""
    content = np.isin(y, ["event", "opinion"])
    frame = pd.DataFrame({"group": groups, "content": content, "opinion": y == "opinion"})
    by_article = frame.groupby("group", sort=False)
    units = by_article["content"].transform("sum").to_numpy()
    opinions = by_article["opinion"].transform("sum").to_numpy()
    piece = (units >= min_units) & (opinions >= opinion_share * units)
    return np.flatnonzero(content & piece)


class OpinionExpertClassifier(ClassifierMixin, BaseEstimator):
    """A classifier, and beside it an event-vs-opinion expert fitted on opinion pieces only.

    Real editorials and columns argue in flat declaratives and tell anecdotes; a model fitted on
    news and pages as well reads their claims as reports. The expert is ``classifier`` refitted
    with ``C = opinion_expert_C`` on the event and opinion units of training articles (``groups``)
    that are ``opinion_share`` or more opinion. ``predict_proba`` is the classifier's; the article
    pass asks ``route`` to split an opinion piece's content between event and opinion by the
    expert's ``event_share`` instead. A lone unit is never routed. ``classifier`` takes
    ``groups`` at fit and has a ``C`` (its own or its ``estimator``'s), as ``linear_svm.v1``'s.

    With ``splitter_C``, a third copy (that C) is fitted on every event and opinion unit, and
    ``predict_proba`` splits each unit's content (the classifier's event + opinion) by the
    splitter's event probability. The last ``splitter_columns`` columns of ``X`` are read by the
    splitter alone: features that tell a report from a judgement but blur story and furniture
    (pretrained word vectors: a teaser reads like news) stay out of the other two. Rows flagged
    ``splitter_only`` at fit train the splitter alone, in the same way: more reports and
    judgements for the split, without their pages' layout in the three-label model.
    """

    def __init__(
        self,
        classifier: Any = None,
        opinion_expert_C: float | None = 0.1,
        opinion_share: float = 0.6,
        min_units: int = 8,
        splitter_C: float | None = None,
        splitter_columns: int = 0,
    ) -> None:
        self.classifier = classifier
        self.opinion_expert_C = opinion_expert_C
        self.opinion_share = opinion_share
        self.min_units = min_units
        self.splitter_C = splitter_C
        self.splitter_columns = splitter_columns

    def _check_params(self) -> None:
        """Refuse parameters (and, once fitted, an expert) that ``route`` cannot use; loading a
        package runs this too."""
        if self.opinion_expert_C is not None:
            positive("opinion_expert_C", self.opinion_expert_C)
        if self.splitter_C is not None:
            positive("splitter_C", self.splitter_C)
        if self.splitter_columns < 0 or (self.splitter_columns and self.splitter_C is None):
            raise ValueError(
                f"splitter_columns must be >= 0, and 0 without a splitter_C, got {self.splitter_columns}"
            )
        if not 0 < self.opinion_share < 1:
            raise ValueError(f"opinion_share must be between 0 and 1, got {self.opinion_share}")
        if self.min_units < 1:
            raise ValueError(f"min_units must be >= 1, got {self.min_units}")
        for name in ("expert_", "splitter_"):
            fitted = getattr(self, name, None)
            if fitted is not None and not (
                callable(getattr(fitted, "predict_proba", None))
                and "event" in list(getattr(fitted, "classes_", []))
            ):
                raise ValueError(f"{name} must be a fitted classifier of 'event' and 'opinion'")
        splitter = getattr(self, "splitter_", None)
        shared = getattr(getattr(self, "classifier_", None), "n_features_in_", None)
        expert = getattr(self, "expert_", None)
        if expert is not None and shared is not None and expert.n_features_in_ != shared:
            raise ValueError(
                f"expert_ reads {expert.n_features_in_} columns, the classifier {shared}"
            )
        if splitter is not None and shared is not None:
            width = getattr(splitter, "n_features_in_", None)
            if width != shared + self.splitter_columns:
                raise ValueError(
                    f"splitter_columns is {self.splitter_columns}, but the splitter reads {width} "
                    f"columns and the classifier {shared}"
                )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        groups: np.ndarray | None = None,
        splitter_only: Any = None,
    ) -> OpinionExpertClassifier:
        """Fit the classifier, the splitter and the expert; rows flagged ``splitter_only`` train
        the splitter alone (reports and judgements whose pages the classifier should not learn)."""
        self._check_params()
        y = np.asarray(y)
        groups = None if groups is None else np.asarray(groups)
        if self.splitter_columns >= X.shape[1]:
            raise ValueError(
                f"splitter_columns is {self.splitter_columns}, but the features have "
                f"{X.shape[1]} columns"
            )
        alone = np.zeros(len(y), dtype=bool)
        if splitter_only is not None:
            alone = np.asarray(splitter_only, dtype=bool)
            if alone.shape != y.shape:
                raise ValueError(f"splitter_only has {alone.size} rows, y {y.size}")
            if alone.any() and self.splitter_C is None:
                raise ValueError("splitter_only rows need a splitter (splitter_C)")
        kept = np.flatnonzero(~alone)
        shared = self._shared(X)
        self.classifier_ = self._fit_copy(None, shared, y, kept, sample_weight, groups)
        self.classes_ = self.classifier_.classes_
        if not {"event", "opinion"} <= set(self.classes_.tolist()):
            raise ValueError("an opinion expert needs the labels 'event' and 'opinion'")
        content = np.flatnonzero(np.isin(y, ["event", "opinion"]))
        self.splitter_ = None
        if self.splitter_C is not None:
            self.splitter_ = self._fit_copy(self.splitter_C, X, y, content, sample_weight, groups)
        self.expert_ = None
        if groups is None or self.opinion_expert_C is None:  # no articles to tell pieces by
            return self
        rows = opinion_piece_rows(y, groups, self.opinion_share, self.min_units)
        rows = rows[~alone[rows]]
        folds = getattr(self.classifier, "cv", 2)
        if len(set(groups[rows])) >= (folds if isinstance(folds, int) else 2):
            self.expert_ = self._fit_copy(
                self.opinion_expert_C, shared, y, rows, sample_weight, groups
            )
        return self

    def _fit_copy(
        self,
        C: float | None,
        X: Any,
        y: np.ndarray,
        rows: np.ndarray,
        sample_weight: Any,
        groups: np.ndarray | None,
    ) -> Any:
        """``classifier`` (with this ``C`` unless None) fitted on ``rows`` (sorted and distinct)
        of ``X``, with their weights and articles; all rows are passed as they are, uncopied."""
        model = clone(self.classifier)
        if C is not None:
            getattr(model, "estimator", model).set_params(C=C)
        if len(rows) == len(y):
            return model.fit(X, y, sample_weight=sample_weight, groups=groups)
        weights = None if sample_weight is None else np.asarray(sample_weight)[rows]
        in_rows = None if groups is None else groups[rows]
        return model.fit(X[rows], y[rows], sample_weight=weights, groups=in_rows)

    def _shared(self, X: Any) -> Any:
        """The columns the classifier and the expert read: all but the splitter's own."""
        n = self.splitter_columns
        return X[:, : X.shape[1] - n] if n else X

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        proba = self.classifier_.predict_proba(self._shared(X))
        splitter = getattr(self, "splitter_", None)  # None in packages made before splitters
        if splitter is None:
            return proba
        share = splitter.predict_proba(X)[:, list(splitter.classes_).index("event")]
        return self._split(proba, share)

    def _split(self, proba: np.ndarray, event_share: np.ndarray) -> np.ndarray:
        """``proba`` with each unit's content (event + opinion) split by ``event_share``."""
        classes = self.classes_.tolist()
        e, o = classes.index("event"), classes.index("opinion")
        content = proba[:, e] + proba[:, o]
        split = proba.copy()
        split[:, e] = content * event_share
        split[:, o] = content - split[:, e]
        return split

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def event_share(self, X: Any) -> np.ndarray | None:
        """The expert's probability that each unit, if it is story, is an event (None if no
        training article was an opinion piece)."""
        check_is_fitted(self, "classifier_")
        if self.expert_ is None:
            return None
        return self.expert_.predict_proba(self._shared(X))[
            :, list(self.expert_.classes_).index("event")
        ]

    def route(self, proba: np.ndarray, event_share: np.ndarray | None) -> np.ndarray:
        """One article's scores, with its content split by ``event_share`` if the article is an
        opinion piece: ``min_units`` units or more, ``opinion_share`` of their story opinion."""
        if event_share is None or len(proba) < self.min_units:
            return proba
        classes = self.classes_.tolist()
        e, o = classes.index("event"), classes.index("opinion")
        content = proba[:, e] + proba[:, o]
        if proba[:, o].sum() < self.opinion_share * content.sum():
            return proba
        return self._split(proba, event_share)


ClassWeight = Literal["balanced"] | dict[str, float] | None


@models.register("logreg.v1")
def logreg(
    C: float = 1.0,
    class_weight: ClassWeight = "balanced",
    max_iter: int = 2000,
    random_state: int = 0,
) -> Any:
    """Multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    positive("C", C)
    return LogisticRegression(
        C=C, class_weight=class_weight, max_iter=max_iter, random_state=random_state
    )


@models.register(
    "linear_svm.v1",
    trusted_types=(
        "winnow.estimators.ArticleCalibratedClassifierCV",
        "winnow.estimators.OpinionExpertClassifier",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    ),
)
def linear_svm(
    C: float = 0.5,
    class_weight: ClassWeight = "balanced",
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid",
    cv: int = 3,
    ensemble: bool = True,
    random_state: int = 0,
    opinion_expert_C: float | None = None,
    opinion_share: float = 0.6,
    splitter_C: float | None = None,
    splitter_columns: int = 0,
) -> Any:
    """Linear SVM with calibrated probabilities.

    ``ensemble: false`` keeps one SVM fitted on all the data (calibrated on cross-validated
    scores) instead of one per fold: a ``cv`` times smaller, faster model. ``opinion_expert_C``
    adds an event-vs-opinion expert fitted on opinion pieces (``OpinionExpertClassifier``), which
    the article pass uses for articles whose story is ``opinion_share`` or more opinion.
    ``splitter_C`` adds an event-vs-opinion splitter for every unit, which alone reads the last
    ``splitter_columns`` feature columns.
    """
    positive("C", C)
    if cv < 2:
        raise ValueError(f"cv must be >= 2, got {cv}")
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=C, class_weight=class_weight, random_state=random_state)
    model = ArticleCalibratedClassifierCV(svm, method=calibration, cv=cv, ensemble=ensemble)
    if opinion_expert_C is None and splitter_C is None:
        return model
    return OpinionExpertClassifier(
        model,
        opinion_expert_C,
        opinion_share,
        splitter_C=splitter_C,
        splitter_columns=splitter_columns,
    )


@models.register("sgd.v1", streamable=True)
def sgd(
    loss: Literal["log_loss", "modified_huber"] = "modified_huber",
    alpha: float = 2e-5,
    max_iter: int = 50,
    class_weight: ClassWeight = "balanced",
    random_state: int = 0,
) -> Any:
    """Linear model trained by stochastic gradient descent; probabilities from its loss."""
    from sklearn.linear_model import SGDClassifier

    positive("alpha", alpha)
    return SGDClassifier(
        loss=loss,
        alpha=alpha,
        max_iter=max_iter,
        tol=1e-4,
        class_weight=class_weight,
        random_state=random_state,
    )


@models.register("complement_nb.v1", streamable=True)
def complement_nb(alpha: float = 0.3, norm: bool = False) -> Any:
    """Complement naive Bayes: fast, strong on short texts with unbalanced classes."""
    from sklearn.naive_bayes import ComplementNB

    positive("alpha", alpha)
    return ComplementNB(alpha=alpha, norm=norm)
