"""Issue 13: packages never destroy what they replace, and a crafted package gets no way in."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from winnow import load_model
from winnow.cli import main
from winnow.errors import PackageError
from winnow.package.store import prepare_output, save_package
from winnow.package.wheel import build_wheel

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "default"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A private copy of the shipped package, free to tamper with."""
    copy = tmp_path / "pkg"
    shutil.copytree(SHIPPED, copy)
    return copy


def _resign(package: Path, edit: object = None, **fields: object) -> None:
    """Rewrite the manifest with ``fields`` and recompute every hash, as an attacker would."""
    manifest = json.loads((package / "manifest.json").read_text())
    manifest.update(fields)
    if callable(edit):
        edit(manifest)
    if isinstance(manifest.get("files"), dict):
        manifest["files"] = {
            name: hashlib.sha256((package / name).read_bytes()).hexdigest()
            if (package / name).is_file()
            else digest
            for name, digest in manifest["files"].items()
        }
    body = json.dumps(manifest, indent=2).encode()
    (package / "manifest.json").write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    (package / "manifest.sha256").write_text(f"{digest}  manifest.json\n")


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("winnow: error: ") and "\n" not in err, err
    return err


def _load_error(pipeline: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line error of ``winnow predict`` on ``pipeline`` saved as a package, hashes and all."""
    out = tmp_path / "evil"
    manifest = {"name": "evil", "version": "1", "labels": ["boilerplate", "event", "opinion"]}
    save_package(pipeline, out, manifest, {})
    return _one_line_error(["predict", str(out), "examples/article.txt"], capsys)


# --- train --output never deletes what it does not own -------------------------------------


def test_train_refuses_a_folder_that_holds_other_things(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "p"
    (target / "sub").mkdir(parents=True)
    (target / "important.txt").write_text("keep")
    argv = ["train", "configs/complement_nb.yaml", "--output", str(target), "--quiet"]
    err = _one_line_error(argv, capsys)
    assert "refusing to replace" in err and str(target) in err
    assert (target / "important.txt").read_text() == "keep" and (target / "sub").is_dir()


def test_train_refuses_a_file_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    argv = ["train", "configs/complement_nb.yaml", "--output", str(target), "--quiet"]
    assert "not a folder" in _one_line_error(argv, capsys)
    assert target.read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_force_moves_other_things_aside_and_a_package_may_be_replaced(
    package: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "important.txt").write_text("keep")
    backup = prepare_output(other, force=True)
    assert backup is not None and (backup / "important.txt").read_text() == "keep"
    assert not other.exists()
    assert prepare_output(package) is None  # a verified package is replaced without --force
    assert prepare_output(tmp_path / "missing") is None
    (package / "stray.txt").write_text("mine")  # not listed: no longer only a package
    with pytest.raises(PackageError, match="holds no winnow package"):
        prepare_output(package)


# --- ways in: names, labels, paths, links -----------------------------------------------------


CRAFTED_NAMES = [
    'x"""\nimport os; os.system("touch /tmp/pwned")\n"""',
    "x'; import os #",
    "../../evil",
    "a\nRequires-Dist: not-a-real-package",
]


@pytest.mark.parametrize("name", CRAFTED_NAMES)
def test_crafted_names_are_refused_when_written(name: str, tmp_path: Path) -> None:
    pipeline = load_model(SHIPPED).pipeline
    with pytest.raises(PackageError, match=r"name .* is not allowed"):
        save_package(pipeline, tmp_path / "out", {"name": name, "version": "1"}, {})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", CRAFTED_NAMES)
def test_crafted_names_with_recomputed_hashes_never_reach_a_wheel(
    package: Path, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _resign(package, name=name)
    err = _one_line_error(["package", str(package), "--wheel", "--output", str(tmp_path)], capsys)
    assert "is not allowed" in err
    assert not list(tmp_path.glob("*.whl"))
    with pytest.raises(PackageError):
        load_model(package)


def test_labels_with_line_breaks_cannot_inject_wheel_metadata(package: Path) -> None:
    _resign(package, labels=["event\nRequires-Dist: not-a-real-package", "opinion"])
    with pytest.raises(PackageError, match=r"label .* is not allowed"):
        build_wheel(package, package.parent / "dist")


def test_the_wheel_module_holds_the_name_as_a_plain_literal(package: Path, tmp_path: Path) -> None:
    wheel = build_wheel(package, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        init = archive.read("winnow_model_default/__init__.py").decode()
        metadata = archive.read("winnow_model_default-0.1.0.dist-info/METADATA").decode()
    assert 'MODEL_NAME = "default"' in init
    assert [line.split(":")[0] for line in metadata.splitlines()] == [
        "Metadata-Version",
        "Name",
        "Version",
        "Summary",
        "Requires-Dist",
    ]


@pytest.mark.parametrize("entry", ["../../etc/passwd", "/etc/hostname", "sub/model.skops", ".."])
def test_manifest_paths_outside_the_package_are_refused(
    package: Path, entry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def add(manifest: dict) -> None:
        manifest["files"][entry] = "0" * 64

    _resign(package, edit=add)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "not allowed in a package" in err


def test_an_artifact_named_outside_the_package_is_refused(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _resign(package, artifact="../model.joblib")
    err = _one_line_error(
        ["predict", str(package), "examples/article.txt", "--allow-pickle"], capsys
    )
    assert "artifact" in err


def test_symlinked_files_are_refused_at_load_and_when_packaging(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("api key")
    card = package / "MODEL_CARD.md"
    shutil.copy(card, secret)  # same bytes, so only the link itself is wrong
    card.unlink()
    card.symlink_to(secret)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "MODEL_CARD.md" in err and "links are refused" in err
    err = _one_line_error(["package", str(package), "--wheel", "--output", str(tmp_path)], capsys)
    assert "links are refused" in err


def test_unlisted_files_are_refused_at_load_and_never_packaged(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "id_rsa").write_text("secret")
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "id_rsa: not listed in the manifest" in err
    err = _one_line_error(["package", str(package), "--wheel", "--output", str(tmp_path)], capsys)
    assert "id_rsa" in err and not list(tmp_path.glob("*.whl"))


def test_each_file_is_read_once_and_the_checked_bytes_are_loaded(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from winnow.package import store

    real_load = store.load_artifact

    def swap_then_load(verified: store.VerifiedPackage, *args: object, **kwargs: object) -> object:
        # An attacker replaces the artifact after the check: the checked bytes must still be used.
        (package / "model.skops").write_bytes(b"not a zip at all")
        return real_load(verified, *args, **kwargs)

    monkeypatch.setattr("winnow.inference.classifier.load_artifact", swap_then_load)
    assert load_model(package).predict(["Subscribe to our newsletter."]) == ["boilerplate"]


# --- malformed manifests and artifacts: one line, naming the file ------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"files": ["model.skops"]}, "'files' must map"),
        ({"config": {"data": {"max_chars": "abc"}}}, "max_chars must be a positive integer"),
        ({"labels": "event"}, "labels must be a list"),
        ({"format_version": "1"}, "package format"),
        ({"artifact": 7}, "artifact 7 is not one of"),
    ],
)
def test_malformed_manifests_give_one_line(
    package: Path, fields: dict, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _resign(package, **fields)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert message in err and "manifest.json" in err


def test_a_non_zip_artifact_gives_one_line(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "model.skops").write_bytes(b"hello, not a zip")
    _resign(package)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "model.skops: not a skops (zip) archive" in err


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "members",
    [{"1.npy": b"x"}, {"schema.json": b"{}"}, {"schema.json": b"[" * 200_000}],
    ids=["no schema", "empty schema", "deeply nested schema"],
)
def test_a_malformed_skops_archive_gives_one_line(
    package: Path, members: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    (package / "model.skops").write_bytes(_zip(members))
    _resign(package)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "model.skops: not a valid skops archive" in err


def test_a_config_name_that_could_reach_code_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(Path("configs/complement_nb.yaml").read_text() + "\nname: 'x\"y'\n")
    err = _one_line_error(["train", str(config), "--output", str(tmp_path / "out")], capsys)
    assert "bad.yaml: name: " in err and "is not allowed" in err
    assert not (tmp_path / "out").exists()


def test_an_artifact_that_unzips_far_beyond_its_size_is_refused(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"{}")
        archive.writestr("1.npy", bytes(96 * 1024**2))
    (package / "model.skops").write_bytes(buffer.getvalue())
    _resign(package)
    err = _one_line_error(["predict", str(package), "examples/article.txt"], capsys)
    assert "over the limit" in err


def test_a_regular_expression_the_registry_does_not_build_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A vocabulary TF-IDF package whose token_pattern was swapped for a catastrophic one."""
    from winnow.config import FeatureConfig, ModelConfig, load_config
    from winnow.fit.pipeline import build_pipeline, resolve_params
    from winnow.inference.classifier import units_frame

    config = load_config("configs/tfidf_vocabulary.yaml")
    config.features = [FeatureConfig("tfidf_words.v1")]
    config.model = ModelConfig("logreg.v1")
    resolve_params(config)
    texts = ["Troops entered the town.", "This is a disgrace.", "Share this story"] * 2
    labels = ["event", "opinion", "boilerplate"] * 2
    pipeline = build_pipeline(config).fit(units_frame(texts), labels)
    changed = 0
    for _, step in pipeline.get_params(deep=True).items():
        if hasattr(step, "token_pattern"):
            step.token_pattern = r"(\w+)+!"
            changed += 1
    assert changed
    err = _load_error(pipeline, tmp_path, capsys)
    assert "token_pattern '(\\\\w+)+!' is not a pattern winnow builds" in err


def test_the_shipped_package_still_loads_through_every_check() -> None:
    assert os.path.isdir(SHIPPED)
    assert load_model(SHIPPED).predict(["Subscribe to our newsletter."]) == ["boilerplate"]


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("span", 10**9, "NeighbourhoodFeatures: span must be from 1 to 1,024, got 1000000000"),
        ("span", 0, "NeighbourhoodFeatures: span must be from 1 to 1,024, got 0"),
        ("span", "8", "NeighbourhoodFeatures: '<=' not supported"),
        ("cues", ("page_furniture", "os.system"), "NeighbourhoodFeatures: cues must name cues.v2"),
    ],
)
def test_featurizer_parameters_a_config_would_refuse_are_refused_at_load(
    attribute: str, value: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped pipeline, re-saved with one featurizer's parameter changed: a billion-unit
    window would stall every article, a missing cue would fail mid-run."""
    from winnow.features.context import NeighbourhoodFeatures
    from winnow.package.store import objects_in

    model = load_model(SHIPPED)
    found = [n for n in objects_in(model.pipeline) if isinstance(n, NeighbourhoodFeatures)]
    assert found  # the union's unfitted featurizer and its fitted clone
    for featurizer in found:
        setattr(featurizer, attribute, value)
    err = _load_error(model.pipeline, tmp_path, capsys)
    assert message in err and "refusing to load" in err


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("opinion_share", 2.0, "OpinionExpertClassifier: opinion_share must be between 0 and 1"),
        ("min_units", -1, "OpinionExpertClassifier: min_units must be >= 1"),
        ("expert_", "svm", "OpinionExpertClassifier: expert_ must be a fitted classifier"),
        ("splitter_", "svm", "OpinionExpertClassifier: splitter_ must be a fitted classifier"),
        ("splitter_columns", -3, "OpinionExpertClassifier: splitter_columns must be >= 0"),
    ],
)
def test_an_opinion_expert_that_cannot_route_is_refused_at_load(
    attribute: str, value: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crafted expert (an SVM without probabilities, a share no article reaches) would fail or
    route every article mid-run; it is refused when the package loads."""
    model = load_model(SHIPPED)
    expert = model.pipeline.steps[-1][1]
    if value == "svm":
        value = expert.expert_.calibrated_classifiers_[0].estimator
    setattr(expert, attribute, value)
    err = _load_error(model.pipeline, tmp_path, capsys)
    assert message in err and "refusing to load" in err


@pytest.mark.parametrize(
    ("kind", "attribute", "value", "message"),
    [
        ("vectors", "vectors_", "short", "MeanWordVectors: the word table must be 50 finite"),
        ("vectors", "vectors_", "nan", "MeanWordVectors: the word table must be 50 finite"),
        ("vectors", "word_rows_", "shifted", "MeanWordVectors: the word table must be 50 finite"),
        ("scale", "scale_", "zero", "ColumnScaler: scale_ must hold one finite, positive number"),
        ("model", "splitter_columns", 49, "OpinionExpertClassifier: splitter_columns is 49, but"),
    ],
)
def test_a_crafted_word_table_or_splitter_width_is_refused_at_load(
    kind: str,
    attribute: str,
    value: object,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A word table whose parts disagree, a zero scale or a splitter reading columns the
    classifier also reads would fail or mislabel mid-run: each is refused when the package loads."""
    from winnow.features.vectors import ColumnScaler, MeanWordVectors
    from winnow.package.store import objects_in

    model = load_model(SHIPPED)
    if kind == "model":
        targets = [model.pipeline.steps[-1][1]]
    else:
        wanted = MeanWordVectors if kind == "vectors" else ColumnScaler
        targets = [
            n for n in objects_in(model.pipeline) if isinstance(n, wanted) and hasattr(n, attribute)
        ]
    assert targets
    for target in targets:
        current = getattr(target, attribute)
        if value == "short":
            value_now = current[:, :10]
        elif value == "nan":
            value_now = current.copy()
            value_now[3, 4] = np.nan
        elif value == "shifted":
            value_now = current + 10**6  # rows past the end of the table
        elif value == "zero":
            value_now = np.zeros_like(current)
        else:
            value_now = value
        setattr(target, attribute, value_now)
    err = _load_error(model.pipeline, tmp_path, capsys)
    assert message in err and "refusing to load" in err
