"""report.html holds every section, self-contained; ``winnow compare`` tests runs on shared sets."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from winnow import load_model
from winnow.cli import main
from winnow.fit.run import RunResult
from winnow.package.store import save_package


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        for key in ("href", "src"):
            if values.get(key):
                self.links.append(values[key] or "")


def test_report_has_every_section_and_needs_no_server(trained_default: RunResult) -> None:
    page = (trained_default.output_dir / "report.html").read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    assert set(parser.ids) >= {
        "metrics",
        "cv",
        "figures",
        "abstention",
        "errors",
        "by-domain",
        "by-genre",
        "config",
    }
    assert len(parser.images) == 4 and all(
        s.startswith("data:image/png;base64,") for s in parser.images
    )
    assert not [link for link in parser.links if not link.startswith("data:")]
    errors_section = page.split("id=errors>")[1].split("<h2")[0]
    assert errors_section.count("<tr>") == 31  # header + the 30 most confident errors
    assert "macro-F1" in page and "data/challenge.jsonl" in page


def test_metrics_json_holds_cv_abstention_and_extra_sets(trained_default: RunResult) -> None:
    metrics = json.loads((trained_default.output_dir / "metrics.json").read_text())
    assert metrics["cv"]["folds"] == 2
    assert {"mean", "std"} == set(metrics["cv"]["metrics"]["macro_f1"])
    assert 0 < metrics["abstention"]["coverage"] <= 1
    assert len(metrics["coverage_curve"]) == 20
    assert set(metrics["test"]) >= {"log_loss", "ece", "roc_auc_ovr", "macro_f1_ci95", "by_domain"}


def test_min_confidence_abstains(
    trained_default: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "predict",
                str(trained_default.output_dir),
                "examples/article.txt",
                "--min-confidence",
                "0.999999",
            ]
        )
        == 0
    )
    labels = {json.loads(x)["label"] for x in capsys.readouterr().out.splitlines()}
    assert "uncertain" in labels


def test_compare_two_runs(
    trained_default: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    model = load_model(trained_default.output_dir)
    records = [
        json.loads(line)
        for line in (trained_default.output_dir / "predictions.jsonl").read_text().splitlines()
    ]
    # A second run that gets every test unit right: the difference must be significant.
    for r in records:
        if r["set"] == "test":
            r["pred"] = r["label"]
    metrics = json.loads((trained_default.output_dir / "metrics.json").read_text())
    save_package(
        model.pipeline,
        other,
        dict(model.manifest, name="other"),
        {
            "metrics.json": json.dumps(metrics),
            "predictions.jsonl": "\n".join(json.dumps(r) for r in records) + "\n",
        },
    )
    assert main(["compare", str(trained_default.output_dir), str(other)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"other - default on test: macro-F1 \+0\.\d{3} .* significant at 0\.05", out)
    assert "not significant" in out.split("on data/challenge.jsonl")[1]
    assert main(["compare", str(other)]) == 2
