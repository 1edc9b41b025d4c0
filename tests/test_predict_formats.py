"""``winnow predict`` outputs: passages, HTML, record files through datasets, resume."""

from __future__ import annotations

import itertools
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from winnow import load_model
from winnow.cli import main
from winnow.inference.predict import merge_passages

MODEL = "models/default"
ARTICLE = Path("examples/article.txt")


def run_predict(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["predict", MODEL, *args, "--quiet"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_passages_merge_same_label_units_within_a_paragraph(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = ARTICLE.read_text("utf-8")
    sentences = run_predict(capsys, str(ARTICLE))
    passages = run_predict(capsys, str(ARTICLE), "--unit", "passage")
    assert sum(p["units"] for p in passages) == len(sentences)
    for p in passages:
        assert text[p["start"] : p["end"]] == p["text"]
        inside = [s for s in sentences if p["start"] <= s["start"] and s["end"] <= p["end"]]
        assert len(inside) == p["units"] and {s["label"] for s in inside} == {p["label"]}
        assert "\n" not in p["text"]
    for a, b in itertools.pairwise(passages):
        assert a["label"] != b["label"] or "\n" in text[a["end"] : b["start"]]


def test_merge_passages_averages_scores() -> None:
    text = "One. Two.\nThree."
    segments = [
        {
            "start": 0,
            "end": 4,
            "text": "One.",
            "label": "event",
            "scores": {"event": 0.8, "opinion": 0.2},
        },
        {
            "start": 5,
            "end": 9,
            "text": "Two.",
            "label": "event",
            "scores": {"event": 0.6, "opinion": 0.4},
        },
        {
            "start": 10,
            "end": 16,
            "text": "Three.",
            "label": "event",
            "scores": {"event": 0.9, "opinion": 0.1},
        },
    ]
    passages = merge_passages(text, segments)
    assert [(p["text"], p["units"]) for p in passages] == [("One. Two.", 2), ("Three.", 1)]
    assert passages[0]["scores"] == {"event": 0.7, "opinion": 0.3}


class _Units(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.units: list[str] = []
        self._depth = 0
        self.legend = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "span" and "data-label" in values:
            self.units.append("")
            self._depth = 1
        if values.get("class") == "legend":
            self.legend = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._depth = 0

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.units[-1] += data


def test_html_page_parses_and_holds_every_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sentences = run_predict(capsys, str(ARTICLE))
    out = tmp_path / "page.html"
    assert main(["predict", MODEL, str(ARTICLE), "--format", "html", "--output", str(out)]) == 0
    parser = _Units()
    parser.feed(out.read_text("utf-8"))
    assert parser.units == [s["text"] for s in sentences]
    assert parser.legend


def test_record_files_go_through_datasets_in_parallel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [f"Unit number {i} was filed on Monday." for i in range(1500)] + ["Sign up now"]
    pd.DataFrame({"text": texts, "id": range(len(texts))}).to_parquet(tmp_path / "u.parquet")
    one = run_predict(capsys, str(tmp_path / "u.parquet"))
    two = run_predict(capsys, str(tmp_path / "u.parquet"), "--num-proc", "2")
    assert one == two and len(one) == len(texts)
    assert [r["record"] for r in one] == list(range(1, len(texts) + 1))
    assert one[-1]["label"] == "boilerplate"


def test_resume_keeps_complete_lines_and_finishes_the_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "u.jsonl"
    records.write_text("".join(json.dumps({"text": f"Line {i} here."}) + "\n" for i in range(50)))
    full = tmp_path / "full.jsonl"
    assert (
        main(["predict", MODEL, str(records), str(ARTICLE), "--output", str(full), "--quiet"]) == 0
    )
    lines = full.read_bytes().splitlines(keepends=True)
    partial = tmp_path / "partial.jsonl"
    partial.write_bytes(b"".join(lines[:20]) + lines[20][:15])  # a run killed mid-line
    # ...which had recorded its inputs and options beside its output when it started
    (tmp_path / "partial.jsonl.run.json").write_bytes(
        (tmp_path / "full.jsonl.run.json").read_bytes()
    )
    assert (
        main(
            [
                "predict",
                MODEL,
                str(records),
                str(ARTICLE),
                "--output",
                str(partial),
                "--resume",
                "--quiet",
            ]
        )
        == 0
    )
    assert partial.read_bytes() == full.read_bytes()
    assert main(["predict", MODEL, str(records), "--resume"]) == 2
    assert "--resume needs --output" in capsys.readouterr().err


def test_min_confidence_and_bad_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    assert main(["predict", MODEL, str(bad)]) == 2
    assert f"{bad}:2: invalid JSON" in capsys.readouterr().err
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"body": "no text here"}\n')
    assert main(["predict", MODEL, str(missing)]) == 2
    assert "no 'text' column" in capsys.readouterr().err
    assert main(["predict", MODEL, str(ARTICLE), "--min-confidence", "2"]) == 2


def test_python_label_units_and_uncertain() -> None:
    model = load_model(MODEL)
    texts = ["Share this article", "x", "It rained.", "Maybe so, officials said on Tuesday."]
    top = sorted(model.predict_proba(texts).max(axis=1))
    threshold = (top[0] + top[-1]) / 2  # some units fall below it, some above
    units = model.label_units(texts, min_confidence=threshold)
    for unit in units:
        assert (unit["label"] == "uncertain") == (max(unit["scores"].values()) < threshold)
    assert {"uncertain"} < {u["label"] for u in units}
    assert units[0]["end"] == len("Share this article")
