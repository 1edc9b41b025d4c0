"""``winnow data check`` on the shipped corpus and on a broken one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from winnow.cli import main
from winnow.config import load_config
from winnow.data.check import CheckReport, check_against
from winnow.data.load import load_units


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
        for folder in ("data/corpus", "data/corpus_html", "data/corpus_pages")
        for path in Path(folder).glob("*.jsonl")
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


# The development sets beside the repository (measurement only); a checkout without them skips.
SHARED_EVAL = Path(
    os.environ.get("WINNOW_SHARED_EVAL", Path(__file__).resolve().parents[2] / "shared" / "eval")
)


def test_units_sharing_eight_words_with_reference_text_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "units.jsonl"
    rows = [
        {"text": "The mayor said the bridge would reopen on the first of May.", "label": "event"},
        {
            "text": "Your email address will not be published. Required fields are marked *",
            "label": "boilerplate",
        },
        {
            "text": "© 2026 The Courier. All rights reserved and may not be republished.",
            "label": "boilerplate",
        },
        {"text": "Nobody believes the bridge will ever be finished.", "label": "opinion"},
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    reference = tmp_path / "reference.txt"
    reference.write_text(
        "Yesterday THE MAYOR said: the bridge would reopen on the first of June.\n"
        "Your email address will not be published. Required fields are marked *\n"
        "© 2026 The Courier. All rights reserved and may not be republished.\n",
        encoding="utf-8",
    )
    code = main(["data", "check", "--set", f"data.source=[{corpus}]", "--against", str(reference)])
    out = capsys.readouterr().out
    hits = [line for line in out.splitlines() if "shares 8 words" in line]
    assert code == 1
    assert hits == [
        f"ERROR: {corpus}:1: shares 8 words with {reference}: "
        "'the mayor said the bridge would reopen on'"
    ]


def test_missing_reference_file_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", "--against", "no/such/file.jsonl"]) == 2
    assert "no/such/file.jsonl: no such reference file" in capsys.readouterr().err


@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason=f"{SHARED_EVAL} is not present")
@pytest.mark.parametrize(
    "overrides",
    [[], ["data.source=[data/corpus_pages/*.jsonl]"]],
    ids=["default", "round 8 pages"],
)
def test_corpus_shares_no_run_of_eight_words_with_the_development_sets(
    overrides: list[str],
) -> None:
    config = load_config("configs/default.yaml", overrides)
    report = CheckReport()
    found = check_against(load_units(config.data).frame, [SHARED_EVAL], report)
    assert found == 0, "\n".join(report.problems)
