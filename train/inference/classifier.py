"""Load a packaged model and label sentences or whole articles with it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..features.base import with_dom_columns
from ..package.store import load_artifact, verify_package
from ..registry import trusted_types
from .segment import split_units

# The only types outside skops' defaults that a package may contain: what the registered
# featurizers and models declare (our featurizers, scikit-learn's private calibration helpers).
TRUSTED_TYPES = trusted_types()

BATCH_SIZE = 4096
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
    return with_dom_columns(frame)


def neighbour_window(estimator: Any) -> int:
    """The widest neighbourhood, in units either side, that any fitted featurizer reads.

    Featurizers that read neighbouring units say how far with a ``neighbour_window`` attribute.
    """
    widest = int(getattr(estimator, "neighbour_window", 0) or 0)
    children: list[Any] = []
    for attribute in ("steps", "transformers_", "transformer_list"):
        children += [step[1] for step in getattr(estimator, attribute, [])]
    for attribute in ("estimator", "base_estimator"):
        if hasattr(estimator, attribute):
            children.append(getattr(estimator, attribute))
    return max([widest, *(neighbour_window(c) for c in children if not isinstance(c, str))])


def article_batches(
    frame: pd.DataFrame, batch_size: int, margin: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Row indices to score together, and which of them (a boolean mask) each batch answers for.

    Units of one article are kept together in position order; lone units (no ``doc_id``) fill
    batches in any order. An article longer than ``batch_size`` is cut into windows scored with
    ``margin`` neighbours on either side, which they read but do not answer for.
    """
    if "doc_id" in frame.columns and frame["doc_id"].notna().any():
        known = frame["doc_id"].notna().to_numpy()
        keys = pd.Series(np.where(known, frame["doc_id"].astype(str), ""), index=frame.index)
        first_seen = pd.factorize(keys)[0]
        article = np.where(known, first_seen, -1)  # lone units: one pseudo-article, no neighbours
        position = frame["position"].to_numpy(dtype=float, na_value=0.0)
        order = np.lexsort((position, article))
        cuts = np.flatnonzero(np.diff(article[order])) + 1
        articles = np.split(order, cuts)
    else:
        articles = [np.arange(len(frame))]
        margin = 0
    batch: list[np.ndarray] = []
    size = 0
    for rows in articles:
        if len(rows) > batch_size:
            if batch:
                yield np.concatenate(batch), np.ones(size, dtype=bool)
                batch, size = [], 0
            for start in range(0, len(rows), batch_size):
                low = max(0, start - margin)
                high = min(len(rows), start + batch_size + margin)
                own = np.zeros(high - low, dtype=bool)
                own[start - low : min(start + batch_size, len(rows)) - low] = True
                yield rows[low:high], own
            continue
        if size + len(rows) > batch_size and batch:
            yield np.concatenate(batch), np.ones(size, dtype=bool)
            batch, size = [], 0
        batch.append(rows)
        size += len(rows)
    if batch:
        yield np.concatenate(batch), np.ones(size, dtype=bool)


class Classifier:
    """A verified, loaded package: ``labels``, ``predict``, ``predict_proba`` and ``label_article``."""

    def __init__(self, pipeline: Any, manifest: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.manifest = manifest
        self.labels: list[str] = [str(c) for c in pipeline.classes_]
        self.context_margin: int = neighbour_window(pipeline)
        # Longest unit scored as a whole: longer units are cut (articles) or truncated (lone texts).
        self.max_chars: int = int(manifest.get("config", {}).get("data", {}).get("max_chars", 5000))

    def __repr__(self) -> str:
        return f"Classifier(name={self.manifest.get('name')!r}, labels={self.labels})"

    def proba_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities for a frame of units, scored in batches of whole articles.

        Rows may come in any order: they are grouped by article and ordered by position, so
        features drawn from neighbouring units see the same neighbours as in one pass. An article
        longer than ``BATCH_SIZE`` is scored in windows with ``context_margin`` neighbours on each
        side, the widest neighbourhood any fitted featurizer reads.
        """
        n = len(frame)
        proba = np.zeros((n, len(self.labels)))
        for rows, own in article_batches(frame, BATCH_SIZE, self.context_margin):
            proba[rows[own]] = self.pipeline.predict_proba(frame.iloc[rows])[own]
        return proba

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
        self, start: int, end: int, text: str, proba: np.ndarray, min_confidence: float
    ) -> dict[str, Any]:
        best = int(proba.argmax())
        return {
            "start": start,
            "end": end,
            "text": text,
            "label": self.labels[best] if proba[best] >= min_confidence else UNCERTAIN,
            "scores": {
                label: round(float(v), 4) for label, v in zip(self.labels, proba, strict=True)
            },
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
            for s, p in zip(segments, proba, strict=True)
        ]

    def label_html(
        self, data: bytes | str, doc: str = "page", min_confidence: float = 0.0
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse an HTML page and label each unit of its visible text, with its DOM features.

        Returns the extracted text (blocks joined by ``"\\n"``) and the units, whose offsets
        index that text exactly; each unit also carries its ``block`` and ``dom_path``.
        """
        from .html import parse_html

        page = parse_html(data, source=doc, max_chars=self.max_chars)
        frame = units_frame([u.text for u in page.units], doc_id=doc)
        for column, values in pd.DataFrame([u.dom_columns() for u in page.units]).items():
            frame[column] = values.to_numpy()
        proba = self.proba_frame(with_dom_columns(frame)) if len(frame) else []
        return page.text, [
            {
                **self._unit(u.start, u.end, u.text, p, min_confidence),
                "block": u.block,
                "dom_path": u.dom_path,
            }
            for u, p in zip(page.units, proba, strict=True)
        ]

    def label_units(
        self, texts: Sequence[str], min_confidence: float = 0.0
    ) -> list[dict[str, Any]]:
        """Label each text as one unit on its own, like ``label_article`` does for an article's units."""
        proba = self.predict_proba(texts)
        return [
            self._unit(0, len(t), t, p, min_confidence) for t, p in zip(texts, proba, strict=True)
        ]


def load_model(path: str | Path, allow_pickle: bool = False) -> Classifier:
    """Verify every file's sha256, then load the pipeline with skops' trusted-type check."""
    path = Path(path)
    manifest = verify_package(path)
    pipeline = load_artifact(path, manifest, TRUSTED_TYPES, allow_pickle=allow_pickle)
    return Classifier(pipeline, manifest)
