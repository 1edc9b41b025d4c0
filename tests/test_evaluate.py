"""Metrics checked against values worked out by hand on tiny cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from winnow import load_model
from winnow.data.load import read_labelled_jsonl
from winnow.evaluate.metrics import (
    bootstrap_macro_f1,
    coverage_at,
    evaluate_set,
    expected_calibration_error,
    format_metrics,
    mcnemar,
    paired_bootstrap,
    score,
)

LABELS = ["boilerplate", "event", "opinion"]


def test_ece_matches_a_hand_computed_value() -> None:
    # Bin (0.5, 0.6]: confidences 0.6, 0.6, accuracy 1/2 -> gap 0.1, weight 2/4.
    # Bin (0.8, 0.9]: confidences 0.9, 0.9, accuracy 2/2 -> gap 0.1, weight 2/4.  ECE = 0.1.
    proba = np.array([[0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])
    y = ["boilerplate", "event", "event", "opinion"]
    assert expected_calibration_error(y, proba, LABELS) == pytest.approx(0.1)


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    proba = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    assert expected_calibration_error(["boilerplate", "event"], proba, LABELS) == 0.0


def test_bootstrap_interval_collapses_on_a_perfect_model_and_covers_the_estimate() -> None:
    y = ["event", "opinion", "boilerplate"] * 20
    assert bootstrap_macro_f1(y, y, LABELS, n_resamples=200) == (1.0, 1.0)
    rng = np.random.default_rng(1)
    pred = [label if rng.random() < 0.8 else "event" for label in y]
    low, high = bootstrap_macro_f1(y, pred, LABELS, n_resamples=500)
    metrics = score(y, np.eye(3)[[LABELS.index(p) for p in pred]], LABELS, n_bootstrap=0)
    assert low < metrics["macro_f1"] < high and high - low < 0.4


def test_bootstrap_by_article_resamples_whole_articles() -> None:
    # Two articles: one all right, one all wrong. Any resample holds whole articles only, so the
    # accuracy of a resample is 0, 1/2 or 1, and macro-F1 takes few distinct values.
    y = ["event"] * 4 + ["opinion"] * 4
    pred = ["event"] * 4 + ["event"] * 4
    low, high = bootstrap_macro_f1(y, pred, LABELS, groups=["a"] * 4 + ["b"] * 4, n_resamples=300)
    assert low == 0.0 and high == pytest.approx(1 / 3)


def test_score_reports_every_metric() -> None:
    y = ["event", "opinion", "boilerplate", "event"]
    proba = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    m = score(y, proba, LABELS, n_bootstrap=50)
    assert m["accuracy"] == 0.75
    assert m["confusion"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert m["per_class"]["event"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    expected_loss = -np.mean(np.log([0.8, 0.6, 0.7, 0.3]))
    assert m["log_loss"] == pytest.approx(expected_loss)
    assert 0 <= m["roc_auc_ovr"] <= 1 and len(m["macro_f1_ci95"]) == 2


def test_mcnemar_exact_p_value() -> None:
    # A alone right on 1 unit, B alone right on 9: exact two-sided binomial p = 2 * 11/1024.
    y = ["event"] * 10
    a = ["event"] + ["opinion"] * 9
    b = ["opinion"] + ["event"] * 9
    result = mcnemar(y, a, b)
    assert (result["a_only_correct"], result["b_only_correct"]) == (1, 9)
    assert result["p_value"] == pytest.approx(2 * 11 / 1024)


def test_paired_bootstrap_sees_a_real_difference_and_no_difference() -> None:
    y = ["event", "opinion", "boilerplate"] * 30
    better = list(y)
    worse = [("opinion" if t == "event" else t) for t in y]
    strong = paired_bootstrap(y, worse, better, LABELS, n_resamples=300)
    assert strong["difference"] > 0.3 and strong["p_value"] < 0.01
    assert strong["ci95"][0] > 0
    same = paired_bootstrap(y, worse, worse, LABELS, n_resamples=300)
    assert same["difference"] == 0 and same["p_value"] == 1.0


def test_coverage_at_a_threshold() -> None:
    proba = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.1, 0.2, 0.7]])
    result = coverage_at(["boilerplate", "event", "event"], proba, LABELS, 0.5)
    assert result["coverage"] == pytest.approx(2 / 3) and result["accuracy"] == 0.5
    assert math.isnan(coverage_at(["event"], np.array([[0.4, 0.3, 0.3]]), LABELS, 0.9)["accuracy"])


def test_one_evaluator_states_how_it_read_the_set(tmp_path: Path) -> None:
    """`winnow evaluate` and the run's extra sets share evaluate_set: context and grouping are
    explicit and printed, and a file with articles is read in its articles unless told not to."""
    rows = [
        {
            "text": "Troops entered the town on Monday.",
            "label": "event",
            "doc_id": "a",
            "position": 0,
        },
        {"text": "This was a grave mistake.", "label": "opinion", "doc_id": "a", "position": 1},
        {"text": "Share this article", "label": "boilerplate", "doc_id": "a", "position": 2},
        {"text": "Police arrested two men.", "label": "event", "doc_id": "b", "position": 0},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    model = load_model("models/default")
    frame = read_labelled_jsonl(path, model.labels)
    in_article, proba = evaluate_set(model.proba_frame, frame, model.labels, n_bootstrap=50)
    assert in_article["context"] == "article" and in_article["bootstrap_by"] == "article"
    assert proba.shape == (4, 3)
    alone, _ = evaluate_set(model.proba_frame, frame, model.labels, context="lone", n_bootstrap=50)
    assert alone["context"] == "lone" and alone["bootstrap_by"] == "unit"
    assert "read in their articles, bootstrap by article" in format_metrics(in_article, "set")
    with pytest.raises(ValueError, match="context 'article' needs a doc_id"):
        evaluate_set(model.proba_frame, frame.assign(doc_id=None), model.labels, context="article")


def test_bootstrap_draws_the_same_resamples_as_one_f1_score_per_resample() -> None:
    """The array form of the bootstrap gives exactly the interval of scoring each resample."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y_true = rng.choice(LABELS, 600)
    y_pred = np.where(rng.random(600) < 0.8, y_true, rng.choice(LABELS, 600))
    groups = [f"doc{i % 90}" if i % 7 else None for i in range(600)]
    order: dict[object, list[int]] = {}
    for i, g in enumerate(groups):
        order.setdefault(("unit", i) if g is None else ("doc", g), []).append(i)
    members = [np.asarray(v) for v in order.values()]
    draw = np.random.default_rng(0)
    scores = []
    for _ in range(200):
        rows = np.concatenate([members[p] for p in draw.integers(0, len(members), len(members))])
        scores.append(f1_score(y_true[rows], y_pred[rows], labels=LABELS, average="macro"))
    expected = np.percentile(scores, [2.5, 97.5])
    found = bootstrap_macro_f1(y_true, y_pred, LABELS, groups, n_resamples=200)
    np.testing.assert_allclose(found, expected, atol=1e-12)
