"""The predict path stays lean: no heavy imports it does not need, records read in batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from winnow.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "models/default")


def _imported_after(code: str) -> set[str]:
    """Top-level modules imported by running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_scientific_library(flag: str) -> None:
    code = f"from winnow.cli import main\ntry:\n    main([{flag!r}])\nexcept SystemExit:\n    pass"
    modules = _imported_after(code)
    assert not {"sklearn", "pandas", "numpy", "datasets", "skops"} & modules


def test_predicting_jsonl_imports_no_datasets_search_dask_or_ray(tmp_path: Path) -> None:
    records = tmp_path / "units.jsonl"
    records.write_text(json.dumps({"text": "It rained on Monday."}) + "\n")
    code = (
        "from winnow.cli import main\n"
        f"assert main(['predict', {MODEL!r}, {str(records)!r}, '--quiet',"
        f" '--output', {str(tmp_path / 'out.jsonl')!r}]) == 0"
    )
    modules = _imported_after(code)
    assert not {"datasets", "dask", "ray", "winnow.fit.search", "winnow.data.load"} & modules
    assert json.loads((tmp_path / "out.jsonl").read_text())["label"] == "event"


def test_jsonl_read_lean_equals_datasets_path_with_blank_lines_and_resume(tmp_path: Path) -> None:
    texts = ["It rained.", "Subscribe now!", "I think it was a mistake.", "Share this", "Ok."]
    records = tmp_path / "units.jsonl"
    lines = [json.dumps({"text": t, "id": i}) for i, t in enumerate(texts * 3)]
    lines.insert(4, "   ")
    records.write_text("\n".join(lines) + "\n")
    lean, mapped = tmp_path / "lean.jsonl", tmp_path / "mapped.jsonl"
    assert main(["predict", MODEL, str(records), "--quiet", "--output", str(lean)]) == 0
    args = ["predict", MODEL, str(records), "--quiet", "--num-proc", "2", "--output", str(mapped)]
    assert main(args) == 0
    assert lean.read_text() == mapped.read_text()
    full = lean.read_bytes()
    lean.write_bytes(full[: full.index(b"\n", len(full) // 2) + 10])  # a cut-off line
    resume = ["predict", MODEL, str(records), "--quiet", "--output", str(lean), "--resume"]
    assert main(resume) == 0
    assert lean.read_bytes() == full


def test_a_bad_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "units.jsonl"
    records.write_text('{"text": "fine"}\n\n{"text": 3}\n')
    assert main(["predict", MODEL, str(records), "--quiet"]) == 2
    assert f"{records}:3: 'text' is not a string" in capsys.readouterr().err
