"""Load a packaged model and label sentences or whole articles with it."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.utils import check_array
from tqdm.auto import tqdm

from ..features.base import (
    DOM_NUMBER_COLUMNS,
    DOM_TEXT_COLUMNS,
    article_rows,
)
from ..package.store import load_artifact, read_package, string_patterns
from ..registry import featurizers, models, trusted_types
from .decode import ArticleDecoder, article_posteriors
from .segment import Segment, iter_units

# The only types outside skops' defaults that a package may contain: what the registered
# featurizers and models declare (our featurizers, scikit-learn's private calibration helpers).
TRUSTED_TYPES = trusted_types()


def registered_patterns() -> set[str]:
    """Every regular expression the registered builders make: all a loaded package may carry."""
    found: set[str] = set()
    for registry in (featurizers, models):
        for entry in registry.entries():
            found |= {p for _, p in string_patterns(registry.build(entry.name, {}, entry.name))}
    return found


ALLOWED_PATTERNS = registered_patterns()

BATCH_SIZE = 4096
# Pages scored in one call by ``label_html_pages`` at most, however few units they hold: pages
# that are all script or markup would otherwise pile up without bound.
PAGES_PER_CALL = 256
UNCERTAIN = "uncertain"


def units_frame(
    texts: Sequence[str],
    doc_id: str | None = None,
    first: int = 0,
    doc_len: int | None = None,
    blocks: Sequence[int] | None = None,
    dom: dict[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """The input frame the pipeline expects; with ``doc_id`` the texts are one article in order,
    or the units ``first`` onwards of an article of ``doc_len`` units, and ``blocks`` gives each
    unit's block (its line or paragraph) where it is known. ``dom`` holds the DOM columns of units
    parsed from HTML; plain text has none.
    Built in one step: a page's few hundred units cost less than inserting columns one by one.
    """
    n = len(texts)
    missing = pd.array([pd.NA] * n, dtype="Int64")
    columns: dict[str, Any] = {"text": list(texts), "doc_id": np.full(n, None, dtype=object)}
    if doc_id is None:
        columns.update(position=missing, doc_len=missing)
    else:
        columns["position"] = pd.array(np.arange(first, first + n), dtype="Int64")
        columns["doc_len"] = pd.array(np.full(n, n if doc_len is None else doc_len), dtype="Int64")
    known = doc_id is not None and blocks is not None
    columns["block"] = pd.array(list(blocks), dtype="Int64") if known else missing
    for column in DOM_TEXT_COLUMNS:
        values = [None] * n if dom is None else dom[column]
        # Object dtype, as ``with_dom_columns`` gives: pandas would infer its string dtype.
        columns[column] = pd.Series(
            [v if isinstance(v, str) else None for v in values], dtype=object
        )
    for column in DOM_NUMBER_COLUMNS:
        columns[column] = (
            np.full(n, np.nan) if dom is None else np.asarray(dom[column], dtype=float)
        )
    frame = pd.DataFrame(columns)
    if doc_id is not None:
        frame["doc_id"] = doc_id  # the dtype pandas gives a string column
    return frame


def _as_texts(texts: Iterable[str]) -> list[str]:
    """``texts`` as a list of strings; a lone string is a mistake that would label each character."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("expected a list of texts, got a single string: pass [text]")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, not str")
    return texts


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


def _columns_of(frame: pd.DataFrame, columns: str | list[str], names: list[str]) -> Any:
    """``frame[columns]``: the frame itself where it has exactly those columns, else taken by
    position (a fifth of the time ``frame[columns]`` takes for a list)."""
    if isinstance(columns, str):
        return frame[columns]
    if columns == names:
        return frame
    return frame.take([names.index(c) for c in columns], axis=1)


def opinion_router(pipeline: Any) -> Any | None:
    """The pipeline's model where it carries a fitted opinion expert (``OpinionExpertClassifier``),
    which splits an opinion piece's story; else None."""
    model = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    return model if getattr(model, "expert_", None) is not None else None


class FrameScorer:
    """``pipeline.predict_proba`` for frames of units, without the per-call overheads of a
    ``ColumnTransformer`` that a page of a few hundred units notices.

    For the pipelines winnow builds (a ``ColumnTransformer`` of featurizers with sparse output,
    then a classifier) each featurizer gets the frame itself where it reads all its columns,
    and the weighted blocks are stacked as ``ColumnTransformer`` stacks them: the same matrix,
    without selecting, checking and copying columns once per featurizer. Any other pipeline is
    scored by its own ``predict_proba``.
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        steps = getattr(pipeline, "steps", [])
        union = steps[0][1] if len(steps) == 2 else None
        direct = (
            isinstance(union, ColumnTransformer)
            and union.sparse_output_
            and hasattr(union, "feature_names_in_")
            and all(
                isinstance(columns, (str, list))
                and (not isinstance(transformer, str) or transformer == "drop")
                for _, transformer, columns in union.transformers_
            )
        )
        self.union: ColumnTransformer | None = union if direct else None
        self.router = opinion_router(pipeline)

    def features(self, frame: pd.DataFrame) -> Any:
        """The feature matrix of ``frame``: what the pipeline's last step reads."""
        if self.union is None:
            return self.pipeline[:-1].transform(frame)
        names = list(frame.columns)
        missing = set(self.union.feature_names_in_) - set(names)
        if missing:
            raise ValueError(f"columns are missing: {missing}")
        weights = self.union.transformer_weights or {}
        blocks = []
        for name, transformer, columns in self.union.transformers_:
            if isinstance(transformer, str):  # "drop"
                continue
            block = transformer.transform(_columns_of(frame, columns, names))
            if not sp.issparse(block):
                block = check_array(block, accept_sparse=True, ensure_all_finite=False)
            weight = weights.get(name)
            blocks.append(block if weight is None else block * weight)
        return sp.hstack(blocks).tocsr()

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities of each unit of ``frame``, as ``pipeline.predict_proba`` gives."""
        if self.union is None:
            return self.pipeline.predict_proba(frame)
        return self.pipeline.steps[1][1].predict_proba(self.features(frame))

    def scores(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict_proba`` of ``frame`` and, for a model with an opinion expert, each unit's
        expert event share (else None), from one pass of the featurizers."""
        if self.router is None:
            return self.predict_proba(frame), None
        features = (
            self.pipeline[:-1].transform(frame) if self.union is None else self.features(frame)
        )
        return self.router.predict_proba(features), self.router.event_share(features)


def article_batches(
    frame: pd.DataFrame, batch_size: int, margin: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Row indices to score together, and which of them (a boolean mask) each batch answers for.

    Units of one article are kept together in position order; lone units (no ``doc_id``) fill
    batches in any order. An article longer than ``batch_size`` is cut into windows scored with
    ``margin`` neighbours on either side, which they read but do not answer for.
    """
    articles, lone = article_rows(frame)
    if not articles:
        margin = 0  # no article: no unit reads a neighbour
    if lone.size:
        articles.insert(0, lone)  # one pseudo-article of units with no neighbours
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


# The end of an iterable of pages: ``None`` is a page a caller may pass, wrongly, and is refused.
_END = object()


class Classifier:
    """A verified, loaded package: ``labels``, ``predict``, ``predict_proba`` and ``label_article``."""

    def __init__(self, pipeline: Any, manifest: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.scorer = FrameScorer(pipeline)
        self.manifest = manifest
        self.labels: list[str] = [str(c) for c in pipeline.classes_]
        self.context_margin: int = neighbour_window(pipeline)
        # Longest unit scored as a whole: longer units are cut (articles) or truncated (lone texts).
        self.max_chars: int = int(manifest.get("config", {}).get("data", {}).get("max_chars", 5000))
        # The article pass, where the package has one: units with a doc_id are decoded as a sequence.
        article_pass = manifest.get("article_pass")
        self.decoder: ArticleDecoder | None = (
            ArticleDecoder.from_dict(article_pass, self.labels) if article_pass else None
        )
        # A fitted opinion expert (``OpinionExpertClassifier``): splits an opinion piece's story.
        self.router: Any = self.scorer.router

    @property
    def fingerprint(self) -> str:
        """The sha256 of the model's artifact: which model labelled an output."""
        files = self.manifest.get("files", {})
        return str(files.get(self.manifest.get("artifact"), ""))

    def __repr__(self) -> str:
        return f"Classifier(name={self.manifest.get('name')!r}, labels={self.labels})"

    def warm_up(self) -> None:
        """Score one unit of an article once, so that lazy imports and compiled kernels (numba's,
        about 0.3 s) load with the model: the first input is then labelled as fast as the rest."""
        proba = self.scorer.predict_proba(units_frame(["Warm-up."], doc_id="warm-up", blocks=[0]))
        if self.decoder is not None:
            self.decoder.posteriors(proba)

    def proba_frame(self, frame: pd.DataFrame, progress: bool = False) -> np.ndarray:
        """Class probabilities for a frame of units, scored in batches of whole articles.

        Rows may come in any order: they are grouped by article and ordered by position, so
        features drawn from neighbouring units see the same neighbours as in one pass. An article
        longer than ``BATCH_SIZE`` is scored in windows with ``context_margin`` neighbours on each
        side, the widest neighbourhood any fitted featurizer reads. Where the package has an article
        pass, the units of each article get their posteriors from it; lone units keep their scores.
        ``progress`` shows a bar on stderr once scoring takes more than a second.
        """
        n = len(frame)
        proba = np.zeros((n, len(self.labels)))
        share = np.zeros(n) if self.router is not None else None
        if n == 0:
            return proba
        with tqdm(total=n, unit="unit", disable=not progress, file=sys.stderr, delay=1.0) as bar:
            for rows, own in article_batches(frame, BATCH_SIZE, self.context_margin):
                scores, shares = self.scorer.scores(frame.iloc[rows])
                proba[rows[own]] = scores[own]
                if share is not None:
                    share[rows[own]] = shares[own]
                bar.update(int(own.sum()))
        return article_posteriors(frame, proba, self.decoder, self.router, share)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Probabilities of ``labels`` for each text, each read as a unit on its own.

        A text longer than ``max_chars`` is scored on its first ``max_chars`` characters.
        """
        return self.proba_frame(units_frame([t[: self.max_chars] for t in _as_texts(texts)]))

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The most likely label of each text, each read as a unit on its own."""
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def _unit(
        self, start: int, end: int, text: str, proba: Sequence[float], min_confidence: float
    ) -> dict[str, Any]:
        # Python floats: one tolist per row is cheaper than a float() per score.
        proba = proba.tolist() if isinstance(proba, np.ndarray) else list(proba)
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
        return list(self.iter_label_article(text, doc, min_confidence))

    def count_units(self, text: str) -> int:
        """How many units ``label_article`` cuts ``text`` into."""
        return sum(1 for _ in iter_units(text, max_chars=self.max_chars))

    def iter_label_article(
        self, text: str, doc: str = "article", min_confidence: float = 0.0, total: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """``label_article`` one unit at a time, memory bounded by the batch however long the
        article (``total``, its unit count, saves one pass).

        Without an article pass or an opinion expert each unit comes out as soon as its batch is
        scored. With either, the whole article is needed (is it an opinion piece? what is the
        sequence?): the scores (a few numbers a unit) are kept, routed and decoded, and the units
        are cut again to come out with their posteriors.
        """
        total = self.count_units(text) if total is None else total
        if self.decoder is None and self.router is None:
            for segments, proba, _ in self._scored_windows(text, doc, total):
                for s, p in zip(segments, proba, strict=True):
                    yield self._unit(s.start, s.end, s.text, p, min_confidence)
            return
        scores = np.zeros((total, len(self.labels)))
        shares = np.zeros(total)
        done = 0
        for segments, proba, share in self._scored_windows(text, doc, total):
            scores[done : done + len(segments)] = proba
            if share is not None:
                shares[done : done + len(segments)] = share
            done += len(segments)
        posteriors = scores[:done]
        if self.router is not None:
            posteriors = self.router.route(posteriors, shares[:done])
        if self.decoder is not None:
            posteriors = self.decoder.posteriors(posteriors)
        for s, p in zip(iter_units(text, max_chars=self.max_chars), posteriors, strict=True):
            yield self._unit(s.start, s.end, s.text, p, min_confidence)

    def _scored_windows(
        self, text: str, doc: str, total: int
    ) -> Iterator[tuple[list[Segment], np.ndarray, np.ndarray | None]]:
        """The article's units in windows of ``BATCH_SIZE``, each with the pipeline's scores and,
        for a model with an opinion expert, the expert's event shares.

        Each window is scored with ``context_margin`` neighbours either side, as ``proba_frame``
        scores a long article, so the scores are the same as in one pass.
        """
        margin = self.context_margin
        window: list[
            Segment
        ] = []  # units from ``base`` on: the margin already answered for, then more
        base = answered = 0
        units = iter_units(text, max_chars=self.max_chars)
        exhausted = False
        while not exhausted or answered < base + len(window):
            while not exhausted and base + len(window) < answered + BATCH_SIZE + margin:
                unit = next(units, None)
                if unit is None:
                    exhausted = True
                else:
                    window.append(unit)
            if answered >= base + len(window):
                break
            own_end = min(answered + BATCH_SIZE, base + len(window))
            low = max(base, answered - margin)
            high = min(base + len(window), own_end + margin)
            rows = window[low - base : high - base]
            frame = units_frame(
                [s.text for s in rows],
                doc_id=doc,
                first=low,
                doc_len=total,
                blocks=[s.block for s in rows],
            )
            proba, share = self.scorer.scores(frame)
            own = slice(answered - low, own_end - low)
            yield rows[own], proba[own], None if share is None else share[own]
            answered = own_end
            keep_from = max(base, answered - margin)
            del window[: keep_from - base]
            base = keep_from

    def label_html(
        self, data: bytes | str, doc: str = "page", min_confidence: float = 0.0
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse an HTML page and label each unit of its visible text, with its DOM features.

        Returns the extracted text (blocks joined by ``"\\n"``) and the units, whose offsets
        index that text exactly; each unit also carries its ``block`` and ``dom_path``.
        """
        ((_, text, units),) = self.label_html_pages([(doc, data)], min_confidence)
        return text, units

    def label_html_pages(
        self, pages: Iterable[tuple[str, bytes | str]], min_confidence: float = 0.0
    ) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
        """``label_html`` for many pages, given as ``(doc, data)``: yields ``(doc, text, units)``
        in order, the same as one ``label_html`` call a page.

        Pages are scored together, up to ``BATCH_SIZE`` units a pipeline call: each call's fixed
        cost (a few milliseconds) would otherwise be a fifth of a small page's time. A page that
        cannot be read or parsed raises only after every page before it has been yielded.
        """
        from .html import parse_html

        batch: list[tuple[str, Any]] = []
        size = 0
        pending = iter(pages)
        while True:
            try:
                item = next(pending, _END)
                if item is _END:
                    break
                if not isinstance(item, tuple | list) or len(item) != 2:
                    raise TypeError(f"label_html_pages takes (doc, data) pairs, got {item!r:.80}")
                doc, data = item
                page = parse_html(data, source=doc, max_chars=self.max_chars)
            except Exception:
                if batch:
                    yield from self._label_parsed(batch, min_confidence)
                raise
            if batch and (size + len(page.units) > BATCH_SIZE or len(batch) >= PAGES_PER_CALL):
                yield from self._label_parsed(batch, min_confidence)
                batch, size = [], 0
            batch.append((doc, page))
            size += len(page.units)
        if batch:
            yield from self._label_parsed(batch, min_confidence)

    def _label_parsed(
        self, pages: list[tuple[str, Any]], min_confidence: float
    ) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
        """Score parsed pages in one frame, each page one article in reading order."""
        units = [u for _, page in pages for u in page.units]
        if not units:
            yield from ((doc, page.text, []) for doc, page in pages)
            return
        dom = {c: [getattr(u, c) for u in units] for c in DOM_TEXT_COLUMNS + DOM_NUMBER_COLUMNS}
        frame = units_frame(
            [u.text for u in units], doc_id="page", blocks=[u.block for u in units], dom=dom
        )
        if len(pages) > 1:
            # Each page its own article, by its place in the batch: callers may give pages one name.
            lengths = [len(page.units) for _, page in pages]
            frame["doc_id"] = np.repeat(np.array([f"page-{i}" for i in range(len(pages))]), lengths)
            frame["position"] = pd.array(np.concatenate([np.arange(n) for n in lengths]), "Int64")
            frame["doc_len"] = pd.array(np.repeat(lengths, lengths), dtype="Int64")
        if len(frame) > BATCH_SIZE:  # one long page: scored in windows of whole articles
            proba = self.proba_frame(frame)
        else:  # articles in reading order, one batch: proba_frame's result without regrouping
            proba, share = self.scorer.scores(frame)
            proba = article_posteriors(frame, proba, self.decoder, self.router, share)
        done = 0
        for doc, page in pages:
            scores = proba[done : done + len(page.units)]
            done += len(page.units)
            yield (
                doc,
                page.text,
                [
                    {
                        **self._unit(u.start, u.end, u.text, p, min_confidence),
                        "block": u.block,
                        "dom_path": u.dom_path,
                    }
                    for u, p in zip(page.units, scores, strict=True)
                ],
            )

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
    """Read and verify every file once, then load the pipeline from those bytes with skops'
    trusted-type check, the unzipped-size bound and the regular-expression check.
    """
    package = read_package(path)
    pipeline = load_artifact(package, TRUSTED_TYPES, ALLOWED_PATTERNS, allow_pickle=allow_pickle)
    classifier = Classifier(pipeline, package.manifest)
    classifier.warm_up()
    return classifier


def settle_process() -> None:
    """Move every object alive now out of the garbage collector's full passes (``gc.freeze``).

    For a process that loads a model and then only labels (``winnow predict``, ``winnow serve``):
    the model and the libraries it imported (numba, scikit-learn, pandas: some 200,000 objects)
    live as long as the process, and each full pass over them took about 100 ms, 2 ms a page of
    HTML. Not done by ``load_model``: in someone else's process it would also keep their objects
    from ever being collected.
    """
    gc.freeze()
