"""Load a packaged model and label sentences or whole articles with it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..package.store import load_artifact, verify_package
from ..registry import trusted_types
from .segment import split_units

# The only types outside skops' defaults that a package may contain: what the registered
# featurizers and models declare (our featurizers, scikit-learn's private calibration helpers).
TRUSTED_TYPES = trusted_types()

BATCH_SIZE = 4096
# Neighbours scored beside each batch: more than any context window a featurizer uses.
CONTEXT_MARGIN = 8
UNCERTAIN = "uncertain"


def units_frame(
    texts: Sequence[str],
    doc_id: str | None = None,
) -> pd.DataFrame:
    """The input frame the pipeline expects; with ``doc_id`` the texts are one article in order."""
    n = len(texts)
    frame = pd.DataFrame({"text": list(texts)})
    if doc_id is None:
        frame["doc_id"] = None
        frame["position"] = pd.array([pd.NA] * n, dtype="Int64")
        frame["doc_len"] = pd.array([pd.NA] * n, dtype="Int64")
    else:
        frame["doc_id"] = doc_id
        frame["position"] = pd.array(range(n), dtype="Int64")
        frame["doc_len"] = pd.array([n] * n, dtype="Int64")
    return frame


class Classifier:
    """A verified, loaded package: ``labels``, ``predict``, ``predict_proba`` and ``label_article``."""

    def __init__(self, pipeline: Any, manifest: dict[str, Any], path: Path | None = None) -> None:
        self.pipeline = pipeline
        self.manifest = manifest
        self.path = path
        self.labels: list[str] = [str(c) for c in pipeline.classes_]
        # Longest unit scored as a whole: longer units are cut (articles) or truncated (lone texts).
        self.max_chars: int = int(manifest.get("config", {}).get("data", {}).get("max_chars", 5000))

    def __repr__(self) -> str:
        return f"Classifier(name={self.manifest.get('name')!r}, labels={self.labels})"

    def proba_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities for a frame of units, ``BATCH_SIZE`` units at a time.

        Each batch is scored with ``CONTEXT_MARGIN`` neighbours on either side, so features drawn
        from neighbouring units are the same as if the whole frame were scored at once, while
        memory stays bounded however long an article is.
        """
        n = len(frame)
        if n == 0:
            return np.zeros((0, len(self.labels)))
        parts = []
        for start in range(0, n, BATCH_SIZE):
            stop = min(start + BATCH_SIZE, n)
            low, high = max(0, start - CONTEXT_MARGIN), min(n, stop + CONTEXT_MARGIN)
            proba = self.pipeline.predict_proba(frame.iloc[low:high])
            parts.append(proba[start - low : stop - low])
        return np.vstack(parts)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Probabilities of ``labels`` for each text, each read as a unit on its own.

        A text longer than ``max_chars`` is scored on its first ``max_chars`` characters.
        """
        return self.proba_frame(units_frame([t[: self.max_chars] for t in texts]))

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The most likely label of each text, each read as a unit on its own."""
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def _unit(
        self, start: int, end: int, text: str, proba: list[float], min_confidence: float
    ) -> dict[str, Any]:
        best = proba.index(max(proba))  # the first highest, as argmax
        return {
            "start": start,
            "end": end,
            "text": text,
            "label": self.labels[best] if proba[best] >= min_confidence else UNCERTAIN,
            "scores": {label: round(v, 4) for label, v in zip(self.labels, proba, strict=True)},
        }

    def label_article(
        self, text: str, doc: str = "article", min_confidence: float = 0.0
    ) -> list[dict[str, Any]]:
        """Split an article into units and label each in its place: offsets index ``text`` exactly.

        A unit whose top score is below ``min_confidence`` is labelled ``"uncertain"``.
        """
        segments = split_units(text, max_chars=self.max_chars)
        proba = self.proba_frame(units_frame([s.text for s in segments], doc_id=doc))
        return [
            self._unit(s.start, s.end, s.text, p, min_confidence)
            for s, p in zip(segments, proba.tolist(), strict=True)
        ]

    def label_units(
        self, texts: Sequence[str], min_confidence: float = 0.0
    ) -> list[dict[str, Any]]:
        """Label each text as one unit on its own, like ``label_article`` does for an article's units."""
        proba = self.predict_proba(texts)
        return [
            self._unit(0, len(t), t, p, min_confidence)
            for t, p in zip(texts, proba.tolist(), strict=True)
        ]


def load_model(path: str | Path, allow_pickle: bool = False) -> Classifier:
    """Verify every file's sha256, then load the pipeline with skops' trusted-type check."""
    path = Path(path)
    manifest = verify_package(path)
    pipeline = load_artifact(path, manifest, TRUSTED_TYPES, allow_pickle=allow_pickle)
    return Classifier(pipeline, manifest, path)
