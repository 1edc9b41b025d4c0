"""Inference never crashes: any Unicode, empty, whitespace, binary and very long input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from winnow import load_model
from winnow.cli import main
from winnow.config import FeatureConfig, ModelConfig, load_config
from winnow.data.load import load_units
from winnow.features.base import isolated
from winnow.fit.pipeline import FRAME_COLUMNS, build_pipeline, resolve_params
from winnow.inference.classifier import Classifier

MODEL = load_model("models/default")


def check_segments(text: str, segments: list[dict]) -> None:
    for s in segments:
        assert text[s["start"] : s["end"]] == s["text"]
        assert s["label"] in MODEL.labels
        assert abs(sum(s["scores"].values()) - 1) < 1e-3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_unicode_article(text: str) -> None:
    check_segments(text, MODEL.label_article(text))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_any_unicode_units(texts: list[str]) -> None:
    assert len(MODEL.predict(texts)) == len(texts)


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \r\n", "\x00\x01", "\ufeff", "🙂" * 50])
def test_degenerate_articles(text: str) -> None:
    check_segments(text, MODEL.label_article(text))


def test_empty_input_lists() -> None:
    assert MODEL.predict([]) == []
    assert MODEL.predict_proba([]).shape == (0, 3)


def test_binary_file_is_labelled_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    assert main(["predict", "models/default", str(binary)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert all(x["label"] in MODEL.labels for x in lines)


def test_a_long_line_without_spaces_is_cut_at_max_chars() -> None:
    text = "x" * (MODEL.max_chars * 3 + 7)
    segments = MODEL.label_article(text)
    check_segments(text, segments)
    assert [len(s["text"]) for s in segments] == [MODEL.max_chars] * 3 + [7]
    assert len(MODEL.predict([text])) == 1


def test_a_two_megabyte_article() -> None:
    paragraph = "Troops entered the town on Monday, officials said. It was a grave mistake.\n"
    text = paragraph * (2_000_000 // len(paragraph))
    segments = MODEL.label_article(text)
    assert len(segments) == 2 * text.count("\n")
    check_segments(text[:10_000], [s for s in segments if s["end"] <= 10_000])


@pytest.mark.slow
def test_a_fifty_megabyte_article(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paragraph = "Troops entered the town on Monday, officials said. Sign up now!\n"
    article = tmp_path / "big.txt"
    article.write_text(paragraph * (50_000_000 // len(paragraph)))
    out = tmp_path / "out.jsonl"
    assert main(["predict", "models/default", str(article), "--output", str(out)]) == 0
    assert sum(1 for _ in out.open()) == 2 * article.read_text().count("\n")


def test_batches_score_exactly_like_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    text = Path("examples/article.txt").read_text("utf-8") * 3
    whole = MODEL.label_article(text)
    monkeypatch.setattr("winnow.inference.classifier.BATCH_SIZE", 4)
    assert MODEL.label_article(text) == whole


def test_batches_of_shuffled_rows_match_one_pass_with_a_wide_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows of many articles, shuffled, scored in small batches by a model that reads 10 units
    either side: every probability equals the one-pass result."""
    config = load_config("configs/default.yaml")
    config.features = [
        FeatureConfig("cues.v1"),
        FeatureConfig("context.v1", params={"window": 10}),
    ]
    config.model = ModelConfig("logreg.v1")
    resolve_params(config)
    frame = load_units(config.data).frame
    frame = frame[frame["split"] == "train"]
    pipeline = build_pipeline(config).fit(frame[FRAME_COLUMNS], frame["label"])
    model = Classifier(pipeline, {"name": "wide"})
    assert model.context_margin == 10
    rows = frame[FRAME_COLUMNS].sample(frac=1, random_state=0).reset_index(drop=True)
    rows = pd.concat([rows, isolated(rows.head(50))], ignore_index=True)
    one_pass = pipeline.predict_proba(rows)
    monkeypatch.setattr("winnow.inference.classifier.BATCH_SIZE", 64)
    batched = model.proba_frame(rows)
    np.testing.assert_allclose(batched, one_pass, rtol=1e-9, atol=1e-12)
    assert (batched.argmax(axis=1) == one_pass.argmax(axis=1)).all()
    long_article = rows[rows["doc_id"] == rows["doc_id"].dropna().iloc[0]]
    monkeypatch.setattr("winnow.inference.classifier.BATCH_SIZE", 3)
    np.testing.assert_array_equal(
        model.proba_frame(long_article), pipeline.predict_proba(long_article)
    )
