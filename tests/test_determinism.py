"""The same config and seed give identical metrics and predictions, run after run."""

from __future__ import annotations

from pathlib import Path

from winnow.config import load_config
from winnow.fit.run import run

SMALL = [
    "data.source=[data/corpus/r2_wire_briefs.jsonl, data/corpus/r3_headlines.jsonl, data/corpus/r4_long_news.jsonl]",
    "evaluation.cv_folds=2",
    "evaluation.bootstrap=100",
]


def test_two_runs_are_identical(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        config = load_config("configs/default.yaml", SMALL)
        result = run(config, output=tmp_path / name, progress=False)
        outputs.append(result.output_dir)
    a, b = outputs
    # Every file byte for byte, model.skops and the manifest included: retraining the shipped
    # model must leave a clean git tree.
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for file in names:
        assert (a / file).read_bytes() == (b / file).read_bytes(), file
