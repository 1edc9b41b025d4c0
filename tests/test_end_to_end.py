"""The README's main job: train the default config, evaluate, package, label an article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from winnow import load_model
from winnow.cli import main
from winnow.fit.run import RunResult

ARTICLE = Path("examples/article.txt")


def test_training_reports_metrics_on_test_split_and_challenge(trained_default: RunResult) -> None:
    metrics = trained_default.metrics
    shipped = json.loads(Path("models/default/manifest.json").read_text("utf-8"))["metrics"]
    # Retraining the default reproduces the shipped package's figures exactly (same data, seed).
    assert metrics["test"]["macro_f1"] == pytest.approx(shipped["test_macro_f1"], abs=1e-9)
    assert metrics["extra_sets"]["data/challenge.jsonl"]["macro_f1"] == pytest.approx(
        shipped["data/challenge.jsonl_macro_f1"], abs=1e-9
    )
    assert "data/challenge.jsonl" in metrics["extra_sets"]
    low, high = metrics["test"]["macro_f1_ci95"]
    assert low <= metrics["test"]["macro_f1"] <= high
    assert set(metrics["timings_s"]) == {"load data", "split", "fit", "evaluate", "package"}
    assert "macro-F1" in trained_default.report and "true \\ pred" in trained_default.report


def test_python_api_labels_sentences_and_articles(trained_default: RunResult) -> None:
    model = load_model(trained_default.output_dir)
    assert model.labels == ["boilerplate", "event", "opinion"]
    sentences = [
        "Flood waters cut the rail line between Tarn and Ostrava on Tuesday.",
        "The ministry's plan is likely to collapse before the summer.",
        "Sign up for our morning briefing and never miss a story.",
    ]
    assert model.predict(sentences) == ["event", "opinion", "boilerplate"]
    proba = model.predict_proba(sentences)
    assert proba.shape == (3, 3) and abs(proba.sum(axis=1) - 1).max() < 1e-6
    text = ARTICLE.read_text(encoding="utf-8")
    segments = model.label_article(text)
    assert all(text[s["start"] : s["end"]] == s["text"] for s in segments)
    by_text = {s["text"]: s["label"] for s in segments}
    assert by_text["© 2026 Harbour Post Media Ltd. All rights reserved."] == "boilerplate"
    assert by_text["Who will pay for the repairs this time?"] == "opinion"


def test_cli_predict_jsonl_offsets_and_text_format(
    trained_default: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = tmp_path / "second.txt"
    second.write_text("Police said two people were arrested.\nShare this article\n", "utf-8")
    assert main(["predict", str(trained_default.output_dir), str(ARTICLE), str(second)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {x["doc"] for x in lines} == {str(ARTICLE), str(second)}
    sources = {str(ARTICLE): ARTICLE.read_text("utf-8"), str(second): second.read_text("utf-8")}
    for x in lines:
        assert set(x) == {"doc", "start", "end", "text", "label", "scores"}
        assert sources[x["doc"]][x["start"] : x["end"]] == x["text"]
    assert main(["predict", str(trained_default.output_dir), str(second), "--format", "text"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "boilerplate\tShare this article"


def test_cli_predict_jsonl_records_and_stdin(
    trained_default: RunResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = tmp_path / "units.jsonl"
    records.write_text('{"text": "Cookies help us. Accept all"}\n\n{"text": "Troops left."}\n')
    assert main(["predict", str(trained_default.output_dir), str(records)]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["record"] for x in out] == [1, 2] and out[0]["text"] == "Cookies help us. Accept all"
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Share on Facebook\n"))
    assert main(["predict", str(trained_default.output_dir), "-"]) == 0
    assert json.loads(capsys.readouterr().out)["doc"] == "-"


def test_cli_evaluate_json(trained_default: RunResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["evaluate", str(trained_default.output_dir), "data/challenge.jsonl", "--json"]) == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"macro_f1", "accuracy", "per_class", "confusion"}
    assert set(metrics["per_class"]["event"]) == {"precision", "recall", "f1", "support"}
    assert "by_case" not in metrics
    assert main(["evaluate", str(trained_default.output_dir), "data/challenge.jsonl"]) == 0
    assert "macro-F1" in capsys.readouterr().out
