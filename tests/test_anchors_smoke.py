"""Smoke run of the anchors benchmark on a few hundred sentences: every system trains and scores."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("fasttext")
pytest.importorskip("spacy")


def _write(path: Path, rows: list[dict]) -> Path:
    """Rows as JSON lines."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _small_data(tmp: Path) -> tuple[Path, Path, Path]:
    """A small corpus (whole train and test articles), challenge set and a 'real' set with sources."""
    rows = [
        json.loads(line)
        for path in sorted((ROOT / "data/corpus").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    by_doc: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if "split" in row:  # rows of whole documents (rounds 5 on) take a hashed split instead
            by_doc.setdefault((row["split"], row["doc_id"]), []).append(row)
    docs = sorted(by_doc)
    random.Random(0).shuffle(docs)
    train = [r for key in docs if key[0] == "train" for r in by_doc[key]][:300]
    test = [r for key in docs if key[0] == "test" for r in by_doc[key]][:100]
    real = [
        {"text": r["text"], "label": r["label"], "source": r["genre"]}
        for key in docs
        if key[0] == "dev"
        for r in by_doc[key]
    ][:80]
    challenge = (ROOT / "data/challenge.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    return (
        _write(tmp / "corpus.jsonl", train + test),
        _write(tmp / "challenge.jsonl", [json.loads(line) for line in challenge]),
        _write(tmp / "real.jsonl", real),
    )


@pytest.mark.slow
def test_every_system_scores_and_predicts(tmp_path: Path) -> None:
    """Each system yields macro-F1 within [0, 1] on every set and source, and a positive speed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.anchors.harness import benchmark, load_corpus, markdown
    from benchmarks.anchors.systems import FastTextSystem, SpacySystem, WinnowSystem

    corpus_file, challenge, real = _small_data(tmp_path)
    overrides = [f"data.source=[{corpus_file}]"]
    corpus = load_corpus(
        ROOT / "configs/default.yaml", overrides, {"challenge": challenge, "real": real}
    )
    systems = [
        *(WinnowSystem(path, overrides) for path in sorted((ROOT / "configs").glob("*.yaml"))),
        FastTextSystem(epoch=5),
        SpacySystem("bow", epochs=2),
        SpacySystem("ensemble", epochs=1),
    ]
    outcomes = benchmark(systems, corpus, repeats=1, n_texts=300, log=lambda line: None)
    assert [o.name for o in outcomes] == [s.name for s in systems]
    for outcome in outcomes:
        for name in ("test", "challenge", "real"):
            assert 0.0 <= outcome.median(f"{name}_f1") <= 1.0, (outcome.name, name)
        assert all(0.0 <= f <= 1.0 for f in outcome.median_by("real_by_source").values())
        assert outcome.median("sent_per_s") > 0
        assert outcome.median("size_mb") > 0
        assert outcome.median("train_s") > 0
    table = markdown(outcomes, corpus, 300)
    assert "fastText" in table and "1.00x" in table
