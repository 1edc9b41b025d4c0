"""Issue 13.16: long stages say how far along they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from tqdm.auto import tqdm
from winnow.cli import main
from winnow.config import load_config
from winnow.fit.run import run

SMALL = [
    "data.source=[data/corpus/r2_wire_briefs.jsonl, data/corpus/r3_headlines.jsonl]",
    "evaluation.cv_folds=2",
    "evaluation.bootstrap=20",
]


def test_the_evaluate_stage_reports_each_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(load_config("configs/complement_nb.yaml", SMALL), output=tmp_path / "m", progress=True)
    err = capsys.readouterr().err
    assert "test split" in err and "cross-validation 2/2 folds" in err


def test_winnow_evaluate_and_a_long_article_show_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    counted: dict[str, int] = {}

    class Recording(tqdm):
        def update(self, n: float = 1) -> bool | None:
            if not self.disable:
                counted[self.unit] = counted.get(self.unit, 0) + int(n)
            return super().update(n)

    monkeypatch.setattr("winnow.inference.classifier.tqdm", Recording)
    monkeypatch.setattr("winnow.inference.predict.tqdm", Recording)
    assert main(["evaluate", "models/default", "data/challenge.jsonl"]) == 0
    units = sum(1 for line in Path("data/challenge.jsonl").read_text().splitlines() if line.strip())
    assert counted.pop("unit") == units
    article = tmp_path / "long.txt"
    article.write_text(Path("examples/article.txt").read_text() * 20)
    assert main(["predict", "models/default", str(article), "--output", str(tmp_path / "o")]) == 0
    lines = (tmp_path / "o").read_text().splitlines()
    assert counted["unit"] == len(lines)
