"""The fast HTML path labels pages exactly as the plain one did.

Two pages of our corpus rendered in our own site templates (``data/render_html.py``: a blog with
a comment thread, a portal of nested layout tables with ``<br>`` paragraphs) are pinned: their
units and DOM columns, and their block and DOM features, as winnow wrote them before the walker,
the featurizers and the article pass were made faster (``rendered_pages_expected.json``). The
shipped package's scores are checked against its own scikit-learn pipeline and the array version
of the article pass, so the check holds for any retrained default.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from winnow import load_model
from winnow.features.base import DOM_COLUMNS
from winnow.features.blocks import BlockFeatures
from winnow.features.dom import DomFeatures
from winnow.inference import classifier, decode
from winnow.inference.classifier import units_frame
from winnow.inference.html import parse_html

DATA = Path(__file__).resolve().parent / "data"
EXPECTED = json.loads((DATA / "rendered_pages_expected.json").read_text(encoding="utf-8"))
PAGES = sorted(EXPECTED)
MODEL = "models/default"


def page_frame(name: str) -> tuple[object, object]:
    page = parse_html((DATA / name).read_bytes(), source=name, max_chars=5000)
    dom = {c: [getattr(u, c) for u in page.units] for c in DOM_COLUMNS}
    frame = units_frame(
        [u.text for u in page.units], doc_id=name, blocks=[u.block for u in page.units], dom=dom
    )
    return page, frame


@pytest.mark.parametrize("name", PAGES)
def test_rendered_pages_parse_into_the_pinned_units(name: str) -> None:
    expected = EXPECTED[name]
    page, _ = page_frame(name)
    assert page.text == expected["text"]
    assert (page.title, page.h1, page.og_title) == (
        expected["title"],
        expected["h1"],
        expected["og_title"],
    )
    fields = expected["unit_fields"]
    assert [[getattr(u, f) for f in fields] for u in page.units] == expected["units"]
    assert all(u.text == page.text[u.start : u.end] for u in page.units)


@pytest.mark.parametrize("name", PAGES)
def test_block_and_dom_features_of_rendered_pages_are_pinned(name: str) -> None:
    expected = EXPECTED[name]
    _, frame = page_frame(name)
    blocks = BlockFeatures().fit(frame).transform(frame)
    np.testing.assert_allclose(blocks, expected["blocks"], rtol=0, atol=1e-9)
    columns = frame[["text", *DOM_COLUMNS]]
    dom = DomFeatures().fit(columns).transform(columns)
    assert dom.nnz == expected["dom_nonzeros"]
    np.testing.assert_allclose(dom.sum(axis=1).A.ravel(), expected["dom_row_sums"], atol=1e-9)
    column_sums = dom.sum(axis=0).A.ravel()
    pinned = {int(c): v for c, v in expected["dom_column_sums"].items()}
    assert set(np.flatnonzero(column_sums).tolist()) == set(pinned)
    np.testing.assert_allclose(column_sums[sorted(pinned)], [pinned[c] for c in sorted(pinned)])


@pytest.mark.parametrize("name", PAGES)
def test_label_html_scores_as_the_pipeline_and_the_array_article_pass(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_model(MODEL)
    text, units = model.label_html((DATA / name).read_bytes(), doc=name)
    page, frame = page_frame(name)
    assert text == page.text
    assert [(u["start"], u["end"], u["text"], u["block"], u["dom_path"]) for u in units] == [
        (u.start, u.end, u.text, u.block, u.dom_path) for u in page.units
    ]
    fast = model.scorer.predict_proba(frame)
    assert model.decoder is not None
    fast_posteriors = model.decoder.posteriors(fast)  # the article pass, once
    # The reference: scikit-learn's own pipeline call, and forward-backward without numba.
    monkeypatch.setenv("WINNOW_NO_NUMBA", "1")
    decode.compiled_forward_backward.cache_clear()
    try:
        proba = model.pipeline.predict_proba(frame)
        posteriors = model.decoder.posteriors(proba)
    finally:
        decode.compiled_forward_backward.cache_clear()
    np.testing.assert_allclose(fast, proba, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast_posteriors, posteriors, rtol=0, atol=1e-9)
    scores = [[u["scores"][label] for label in model.labels] for u in units]
    assert scores == [[round(v, 4) for v in row] for row in posteriors.tolist()]
    assert [u["label"] for u in units] == [model.labels[i] for i in posteriors.argmax(axis=1)]


def test_pages_labelled_together_equal_pages_labelled_one_by_one() -> None:
    """``label_html_pages`` scores several pages in one pipeline call (its speed), and each page
    comes out as ``label_html`` labels it alone: same text, units, labels and scores."""
    model = load_model(MODEL)
    pages = [(name, (DATA / name).read_bytes()) for name in PAGES]
    pages += [("empty.html", b"<html><body><script>x()</script></body></html>")]
    pages += [(f"again-{name}", (DATA / name).read_bytes()) for name in PAGES]
    together = list(model.label_html_pages(pages))
    assert [doc for doc, _, _ in together] == [doc for doc, _ in pages]
    for (doc, data), (_, text, units) in zip(pages, together, strict=True):
        alone_text, alone = model.label_html(data, doc=doc)
        assert text == alone_text and units == alone
    assert together[len(PAGES)][2] == []


def test_pages_without_units_do_not_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of nothing but script hold no units; they are still handed on in bounded batches."""
    model = load_model(MODEL)
    sizes: list[int] = []
    label_parsed = model._label_parsed

    def counting(pages: list, min_confidence: float) -> object:
        sizes.append(len(pages))
        return label_parsed(pages, min_confidence)

    monkeypatch.setattr(model, "_label_parsed", counting)
    pages = ((f"p{i}.html", b"<script>track()</script>") for i in range(600))
    out = list(model.label_html_pages(pages))
    assert len(out) == 600 and all(units == [] for _, _, units in out)
    assert max(sizes) <= classifier.PAGES_PER_CALL and sum(sizes) == 600
