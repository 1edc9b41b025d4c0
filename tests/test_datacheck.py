"""``winnow data check`` on the shipped corpus and on a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from winnow.cli import main


def test_shipped_corpus_passes_and_meets_its_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("corpus OK")
    counts = {}
    section = ""
    for line in out.splitlines():
        if line.startswith("== "):
            section = line[3:]
        elif line.startswith("  "):
            key, value = line.split()
            counts[(section, key)] = int(value)
    assert counts[("corpus", "units")] >= 3000 and counts[("corpus", "articles")] >= 150
    assert all(counts[("label", label)] >= 700 for label in ("event", "opinion", "boilerplate"))
    assert len([k for k in counts if k[0] == "domain"]) >= 12
    assert counts[("corpus", "publishers")] >= 40


def test_challenge_set_is_large_and_never_in_the_corpus() -> None:
    challenge = [
        json.loads(line)
        for line in Path("data/challenge.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(challenge) >= 300
    corpus = {
        json.loads(line)["text"]
        for path in Path("data/corpus").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    assert not [c["text"] for c in challenge if c["text"] in corpus]


def test_broken_corpus_fails_with_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {
            "text": "Troops entered the town on Monday.",
            "label": "event",
            "doc_id": "a",
            "position": 0,
            "doc_len": 2,
            "split": "train",
        },
        {
            "text": "Troops entered the town on Monday!",
            "label": "opinion",
            "doc_id": "a",
            "position": 1,
            "doc_len": 2,
            "split": "test",
        },
        {
            "text": "The council approved the budget by seven votes to two.",
            "label": "event",
            "doc_id": "b",
            "position": 0,
            "doc_len": 3,
            "split": "dev",
        },
        {
            "text": "The council approved the budget by seven votes to two on Friday.",
            "label": "event",
            "doc_id": "c",
            "position": 0,
            "doc_len": 1,
            "split": "test",
        },
        {"text": "", "label": "event", "doc_id": "c", "position": 1, "doc_len": 1, "split": "test"},
        {
            "text": "Sign up now",
            "label": "spam",
            "doc_id": "d",
            "position": 0,
            "doc_len": 1,
            "split": "train",
        },
    ]
    data = tmp_path / "corpus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(f"name: t\ndata:\n  source: [{data}]\nfeatures:\n  - name: tfidf_words.v1\n")
    assert main(["data", "check", str(config)]) == 1
    errors = [x for x in capsys.readouterr().out.splitlines() if x.startswith("ERROR")]
    text = "\n".join(errors)
    assert f"{data}:5: empty text" in text
    assert f"{data}:6: unknown label 'spam'" in text
    assert "article 'a' is cut across splits" in text
    assert "appears with labels ['event', 'opinion']" in text
    assert "article 'b' declares doc_len 3 but has 1 units" in text
    assert "near duplicate across splits" in text
