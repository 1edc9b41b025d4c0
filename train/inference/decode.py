"""The article pass: read an article's units as a sequence, with label transitions learned from corpus articles.

A headline between two menu lines, a short fact between two claims: a unit's neighbours say what
it likely is. The decoder is a hidden Markov model whose emissions are the classifier's scores
turned into likelihoods, ``p(y|x) / p(y)``; forward-backward gives each unit's posterior marginal,
so the label, ``--min-confidence`` and passages all read the same number. What it learns is a few
plain arrays, stored in the package manifest: nothing to unpickle.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PackageError
from ..features.base import article_rows

DECODERS = ("none", "forward_backward")


@cache
def compiled_forward_backward() -> Callable[..., np.ndarray] | None:
    """numba's forward-backward loop (see ``compiled``), or ``None`` where numba is missing or
    ``WINNOW_NO_NUMBA`` is set: then ``posteriors`` takes the array version, to rounding the same."""
    if os.environ.get("WINNOW_NO_NUMBA"):
        return None
    try:
        from .compiled import forward_backward
    except ImportError:
        return None
    return forward_backward


def _chain_products(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running products of a sequence of positive square matrices, each scaled to a maximum of 1:
    from the start ``[m0, m0 @ m1, ..., m0 @ ... @ mn]`` and to the end ``[m0 @ ... @ mn, ...,
    mn]``.

    Doubling the span each round takes ``log2(n)`` array products instead of a Python loop over
    the units, both directions in one product; the scale drops out once messages are normalized.
    """
    products = np.stack([matrices, matrices])
    products /= products.max(axis=(2, 3), keepdims=True)
    span = 1
    while span < products.shape[1]:
        joined = products[:, :-span] @ products[:, span:]
        products[0, span:] = joined[0]
        products[1, :-span] = joined[1]
        products /= products.max(axis=(2, 3), keepdims=True)
        span *= 2
    return products[0], products[1]


class ArticleDecoder:
    """Label transitions, first-unit and unit priors counted (add-one) from labelled articles.

    ``strength`` is an exponent on the transition and start probabilities: 0 ignores the sequence
    (each unit keeps its own scores), 1 trusts the counts as they are.
    """

    def __init__(self, strength: float = 1.0) -> None:
        self.strength = strength

    def fit(self, articles: Iterable[Sequence[str]], labels: Sequence[str]) -> ArticleDecoder:
        """Count transitions between consecutive units of each article (units in reading order)."""
        if self.strength < 0:
            raise ValueError(f"strength must be >= 0, got {self.strength}")
        index = {label: i for i, label in enumerate(labels)}
        k = len(labels)
        transitions, start, prior = np.ones((k, k)), np.ones(k), np.ones(k)
        for article in articles:
            ids = [index[label] for label in article]
            if not ids:
                continue
            start[ids[0]] += 1
            np.add.at(prior, ids, 1)
            np.add.at(transitions, (ids[:-1], ids[1:]), 1)
        self.labels_ = list(labels)
        self.transitions_ = transitions / transitions.sum(axis=1, keepdims=True)
        self.start_ = start / start.sum()
        self.prior_ = prior / prior.sum()
        return self

    def posteriors(self, proba: np.ndarray) -> np.ndarray:
        """Posterior marginals of one article's units, in reading order, from their own scores.

        Forward-backward: a compiled loop where numba is installed, otherwise products of the
        per-unit matrices ``transitions * emissions[t]``: the forward message at ``t`` is the
        start times the product of the first ``t``, the backward one the product of those after
        ``t``, both taken for all units at once.
        """
        if len(proba) == 0 or self.strength == 0:
            return proba
        transitions = self.transitions_**self.strength
        transitions /= transitions.sum(axis=1, keepdims=True)
        start = self.start_**self.strength
        emissions = np.clip(proba, 1e-9, None) / self.prior_
        kernel = compiled_forward_backward()
        if kernel is not None:
            return kernel(start, transitions, emissions)
        n, k = emissions.shape
        forward, backward = np.empty((n, k)), np.ones((n, k))
        forward[0] = start * emissions[0]
        steps = transitions[None, :, :] * emissions[1:, None, :]
        if n > 1:
            from_start, to_end = _chain_products(steps)
            forward[1:] = forward[0] @ from_start
            backward[:-1] = to_end.sum(axis=2)
        forward /= forward.sum(axis=1, keepdims=True)
        backward /= backward.sum(axis=1, keepdims=True)
        joint = forward * backward
        return joint / joint.sum(axis=1, keepdims=True)

    def decode_frame(self, frame: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        """Posteriors for every unit of ``frame`` that has a ``doc_id``; lone units keep their scores.

        Rows may come in any order: each article is read in ``position`` order.
        """
        out = proba.copy()
        for article in article_rows(frame)[0]:
            out[article] = self.posteriors(proba[article])
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fitted arrays as plain JSON data, for the package manifest."""
        return {
            "decoder": "forward_backward",
            "strength": self.strength,
            "labels": self.labels_,
            "transitions": self.transitions_.round(8).tolist(),
            "start": self.start_.round(8).tolist(),
            "prior": self.prior_.round(8).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], labels: Sequence[str]) -> ArticleDecoder:
        """Rebuild a fitted decoder from a manifest entry; a malformed one is a ``PackageError``."""
        try:
            decoder = cls(strength=float(data["strength"]))
            decoder.labels_ = [str(x) for x in data["labels"]]
            decoder.transitions_ = np.asarray(data["transitions"], dtype=float)
            decoder.start_ = np.asarray(data["start"], dtype=float)
            decoder.prior_ = np.asarray(data["prior"], dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise PackageError(f"manifest article_pass is malformed ({exc})") from None
        k = len(labels)
        shapes = (decoder.transitions_.shape, decoder.start_.shape, decoder.prior_.shape)
        if decoder.labels_ != list(labels) or shapes != ((k, k), (k,), (k,)):
            raise PackageError("manifest article_pass does not match the model's labels")
        if decoder.strength < 0 or (decoder.prior_ <= 0).any():
            raise PackageError("manifest article_pass has negative strength or zero priors")
        return decoder


def article_posteriors(
    frame: pd.DataFrame,
    proba: np.ndarray,
    decoder: ArticleDecoder | None,
    router: Any = None,
    event_share: np.ndarray | None = None,
) -> np.ndarray:
    """Scores as a package gives them: each article's units routed (an opinion piece's story
    split by the expert's ``event_share``, where the model has a ``router``) and decoded, in
    ``position`` order; lone units keep their own scores."""
    routing = router is not None and event_share is not None
    if decoder is None and not routing:
        return proba
    out = proba.copy()
    for rows in article_rows(frame)[0]:
        scores = router.route(proba[rows], event_share[rows]) if routing else proba[rows]
        out[rows] = decoder.posteriors(scores) if decoder is not None else scores
    return out
