"""Registered classifiers: the ``model`` section of a config names one of these."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GroupKFold

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
) -> Any:
    """Linear SVM with calibrated probabilities.

    ``ensemble: false`` keeps one SVM fitted on all the data (calibrated on cross-validated
    scores) instead of one per fold: a ``cv`` times smaller, faster model.
    """
    positive("C", C)
    if cv < 2:
        raise ValueError(f"cv must be >= 2, got {cv}")
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=C, class_weight=class_weight, random_state=random_state)
    return ArticleCalibratedClassifierCV(svm, method=calibration, cv=cv, ensemble=ensemble)


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
