"""Packages: written atomically, verified byte for byte, loaded only through trusted types."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from winnow import load_model
from winnow.cli import main
from winnow.errors import PackageError
from winnow.fit.run import RunResult
from winnow.inference.classifier import TRUSTED_TYPES
from winnow.package.store import save_package

PACKAGE_FILES = {
    "model.skops",
    "manifest.json",
    "manifest.sha256",
    "metrics.json",
    "config.yaml",
    "MODEL_CARD.md",
    "predictions.jsonl",
    "report.html",
}


@pytest.fixture
def package(trained_default: RunResult, tmp_path: Path) -> Path:
    """A private copy of the trained package, free to tamper with."""
    copy = tmp_path / "pkg"
    shutil.copytree(trained_default.output_dir, copy)
    return copy


def test_package_holds_every_file_and_hashes_them(package: Path) -> None:
    assert {p.name for p in package.iterdir()} == PACKAGE_FILES
    manifest = json.loads((package / "manifest.json").read_text())
    assert set(manifest["files"]) == PACKAGE_FILES - {"manifest.json", "manifest.sha256"}
    assert manifest["labels"] == ["boilerplate", "event", "opinion"]
    assert manifest["config"]["model"]["params"]["C"] > 0
    assert set(manifest["libraries"]) >= {"python", "scikit-learn", "datasets", "skops"}
    assert all(len(h) == 64 for h in manifest["data"]["files"].values())
    assert "## Limits" in (package / "MODEL_CARD.md").read_text()


@pytest.mark.parametrize("name", sorted(PACKAGE_FILES))
@pytest.mark.parametrize("how", ["change", "append"])
def test_any_tampered_byte_is_refused_naming_the_file(
    package: Path, name: str, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = package / name
    data = bytearray(path.read_bytes())
    if how == "change":
        data[len(data) // 2] ^= 0x01
    else:
        data += b"\n"
    path.write_bytes(bytes(data))
    article = Path("examples/article.txt")
    assert main(["predict", str(package), str(article)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and name in err


def test_untrusted_types_are_refused(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dropped = "winnow.features.context.BatchContextFeatures"
    without_context = [t for t in TRUSTED_TYPES if t != dropped]
    monkeypatch.setattr("winnow.inference.classifier.TRUSTED_TYPES", without_context)
    with pytest.raises(PackageError, match=rf"refusing untrusted types: {re.escape(dropped)}"):
        load_model(package)


def test_joblib_packages_need_allow_pickle(trained_default: RunResult, tmp_path: Path) -> None:
    model = load_model(trained_default.output_dir)
    manifest = {"name": "j", "version": "0", "labels": model.labels}
    out = save_package(model.pipeline, tmp_path / "j", manifest, {}, artifact_format="joblib")
    with pytest.raises(PackageError, match=r"model\.joblib: joblib .* --allow-pickle"):
        load_model(out)
    assert load_model(out, allow_pickle=True).predict(["Sign up now."]) == ["boilerplate"]


def test_a_failed_write_leaves_the_previous_package_untouched(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    model = load_model(package)

    def explode(*args: object, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr("skops.io.dumps", explode)
    with pytest.raises(OSError, match="disk full"):
        save_package(model.pipeline, package, {"name": "x", "version": "0"}, {})
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before
    assert [p.name for p in package.parent.iterdir()] == ["pkg"]


def test_rewriting_a_package_replaces_it_whole(package: Path) -> None:
    model = load_model(package)
    save_package(model.pipeline, package, {"name": "again", "version": "2", "labels": []}, {})
    assert json.loads((package / "manifest.json").read_text())["name"] == "again"
    assert not (package / "metrics.json").exists()
    assert sorted(p.name for p in package.parent.iterdir()) == ["pkg"]


def _saved_with_sklearn(
    version: str, pipeline: object, out: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    from winnow.package import store as package

    versions = {**package.library_versions(), "scikit-learn": version}
    monkeypatch.setattr(package, "library_versions", lambda: versions)
    save_package(pipeline, out, {"name": "v", "version": "0", "labels": []}, {})
    monkeypatch.undo()
    return out


def test_other_sklearn_minor_warns_and_major_is_refused(
    trained_default: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sklearn

    pipeline = load_model(trained_default.output_dir).pipeline
    major, minor = sklearn.__version__.split(".")[:2]
    other_minor = f"{major}.{int(minor) + 1}.0"
    pkg = _saved_with_sklearn(other_minor, pipeline, tmp_path / "minor", monkeypatch)
    with pytest.warns(UserWarning, match=rf"saved with scikit-learn {other_minor}, loading with"):
        load_model(pkg)
    pkg = _saved_with_sklearn(f"{int(major) + 1}.0.0", pipeline, tmp_path / "major", monkeypatch)
    with pytest.raises(PackageError, match=rf"saved with scikit-learn {int(major) + 1}\.0\.0"):
        load_model(pkg)
