"""Streaming training: partial_fit over bounded batches, no full-corpus load, split by article."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from winnow import load_model
from winnow.config import DataConfig, RunConfig, load_config
from winnow.data.load import load_units
from winnow.data.split import assign_splits
from winnow.errors import ConfigError, DataError
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.run import run
from winnow.fit.stream import CorpusStream

from benchmarks.scale.corpus import build

CONFIG = Path("configs/streaming_sgd.yaml")
N_TRAIN = 2000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shipped train articles resampled to N_TRAIN units, plus the shipped test rows."""
    return build(N_TRAIN, tmp_path_factory.mktemp("corpus"), seed=1)


def streaming_config(corpus: Path, *overrides: str) -> RunConfig:
    settings = [
        f"data.source=[{corpus}/*.jsonl]",
        "evaluation.extra_sets=[]",
        "evaluation.bootstrap=0",
        "training.epochs=2",
        *overrides,
    ]
    config = load_config(CONFIG, settings)
    resolve_params(config)
    return config


def test_streaming_run_trains_predicts_and_never_loads_the_whole_corpus(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("streaming must not load the corpus into memory")

    monkeypatch.setattr("winnow.fit.training.load_units", refuse)
    result = run(streaming_config(corpus), output=tmp_path / "m", progress=False)
    assert result.metrics["n_train"] == N_TRAIN
    assert result.metrics["n_train_articles"] > 50
    assert result.metrics["test"]["macro_f1"] > 0.75
    model = load_model(tmp_path / "m")
    assert model.predict(["Sign up for our newsletter and never miss a story."]) == ["boilerplate"]
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["config"]["training"]["streaming"] is True


def test_batches_are_bounded_and_copies_stay_in_their_batch(corpus: Path) -> None:
    config = streaming_config(corpus, "training.batch_size=128", "training.shuffle_buffer=256")
    stream = CorpusStream(config)
    held_out = stream.survey().frame
    pipeline = build_pipeline(config)
    model = pipeline.named_steps["model"]
    sizes: list[int] = []
    partial_fit = model.partial_fit

    def spy(X: object, y: object, **kwargs: object) -> object:
        sizes.append(X.shape[0])
        return partial_fit(X, y, **kwargs)

    model.partial_fit = spy
    stream.fit(pipeline, progress=False)
    assert max(sizes) <= 2 * 128, "a batch and its isolated copies, never more"
    assert sum(sizes) == 2 * N_TRAIN * config.training.epochs
    assert set(held_out["split"]) == {"test"}, "only held-out rows are kept in memory"
    assert isinstance(model.class_weight, dict), "balanced weights come from the survey counts"


def test_without_declared_splits_articles_are_hashed_whole(corpus: Path) -> None:
    frame = pd.concat(pd.read_json(p, lines=True) for p in sorted(corpus.glob("*.jsonl")))
    config = DataConfig(split_column=None)
    split = assign_splits(frame, config)
    assert (split.groupby(frame["doc_id"].to_numpy()).nunique() == 1).all()
    share = split.value_counts(normalize=True)
    assert 0.7 < share["train"] < 0.9
    assert (assign_splits(frame, config) == split).all(), "the split is seeded"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "features.0.name=tfidf_words.v1",
            r"features\.0: tfidf_words\.v1 needs the whole corpus; streaming needs cues\.v1, cues\.v2, dom\.v1, dom\.v2, hashing\.v1",
        ),
        ("features.2.name=context.v1", r"features\.2: context\.v1 reads the neighbouring units"),
        ("model.name=logreg.v1", r"model\.name: logreg\.v1 has no partial_fit"),
        ("evaluation.cv_folds=3", r"evaluation\.cv_folds: cross-validation needs"),
        ("search.params={model.alpha: [0.001]}", r"search\.params: a search refits"),
        ("training.batch_size=0", r"training\.batch_size must be >= 1"),
    ],
)
def test_unstreamable_configs_are_refused_naming_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CorpusStream(load_config(CONFIG, [override]))


def test_bad_rows_name_file_and_line_or_are_skipped(tmp_path: Path) -> None:
    rows = [
        {"text": f"Unit {i} of the story.", "label": "event", "doc_id": "a", "position": i}
        for i in range(3)
    ]
    rows[1]["label"] = "rumour"
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(CONFIG, [f"data.source=[{path}]", "data.split_column=null"])
    with pytest.raises(DataError, match=rf"{path}:2: unknown label 'rumour'"):
        CorpusStream(config).survey()
    config.data.on_error = "skip"
    stream = CorpusStream(config)
    with pytest.raises(DataError):
        stream.survey()  # one article cannot fill both a train and a test split
    assert stream.skipped == [
        f"{path}:2: unknown label 'rumour' (valid: event, opinion, boilerplate)"
    ]


def test_a_fractional_position_mid_stream_names_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The survey reads in batches; the error still names the line, past the first batch."""
    monkeypatch.setattr("winnow.fit.stream.SURVEY_BATCH", 1000)
    rows = [
        {"text": f"Unit {i} of the story.", "label": "event", "doc_id": "a", "position": i}
        for i in range(1500)
    ]
    rows[1234]["position"] = 2.5
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(CONFIG, [f"data.source=[{path}]", "data.split_column=null"])
    with pytest.raises(DataError, match=rf"{path}:1235: 'position' must be a whole number"):
        CorpusStream(config).survey()


def test_streamed_and_in_memory_runs_hold_out_the_same_units(tmp_path: Path) -> None:
    """One stateless split: the same config streamed or loaded whole holds out the same articles."""
    rows = [
        {"text": f"Unit {p} of article {d}.", "label": "event", "doc_id": f"d{d}", "position": p}
        for d in range(60)
        for p in range(3)
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(CONFIG, [f"data.source=[{path}]", "data.split_column=null"])
    streamed = CorpusStream(config).survey().frame
    whole = load_units(config.data).frame
    streamed_split = assign_splits(streamed, config.data)
    whole_split = assign_splits(whole, config.data)
    held_out = set(streamed.loc[streamed_split == "test", "doc_id"])
    assert held_out and held_out == set(whole.loc[whole_split == "test", "doc_id"])


def test_the_shipped_corpus_streams_though_its_files_hold_different_columns(
    tmp_path: Path,
) -> None:
    """Round 5 on adds ``block`` and ``isolate`` to its files; one reader over every file refused
    them once a batch spanned two files. Each file is now read on its own, columns aligned."""
    config = load_config(
        CONFIG, ["evaluation.extra_sets=[]", "evaluation.bootstrap=0", "training.epochs=1"]
    )
    resolve_params(config)
    columns = {
        frozenset(json.loads(path.open(encoding="utf-8").readline()))
        for path in Path("data/corpus").glob("*.jsonl")
    }
    assert len(columns) > 1
    result = run(config, output=tmp_path / "m", progress=False)
    assert result.metrics["test"]["macro_f1"] > 0.8


def test_a_streamed_package_is_byte_identical_on_a_rerun(corpus: Path, tmp_path: Path) -> None:
    """The hashing vectorizer keeps ``id(stop_words)``, an address that differs from process to
    process; the package leaves it out, as it does skops' own ids. Two processes train."""
    settings = [f"data.source=[{corpus}/*.jsonl]", "evaluation.extra_sets=[]"]
    settings += ["evaluation.bootstrap=0", "training.epochs=2"]
    for name in ("a", "b"):
        command = [sys.executable, "-m", "winnow", "train", str(CONFIG), "--quiet"]
        command += [*(f"--set={s}" for s in settings), "--output", str(tmp_path / name)]
        subprocess.run(command, check=True, capture_output=True)
    first, second = ((tmp_path / n / "model.skops").read_bytes() for n in ("a", "b"))
    assert first == second
    model = load_model(tmp_path / "a")
    assert model.predict(["Sign up for our newsletter and never miss a story."]) == ["boilerplate"]


def test_columns_typed_apart_across_files_stream_as_loading_reads_them(tmp_path: Path) -> None:
    """Numbers typed apart become floats, other columns strings (the unit frame coerces them as
    it does a whole corpus), columns the run never reads are dropped; ``isolate`` or a list typed
    apart is refused naming both files."""
    rows = [
        {"text": f"The council met on day {i} to vote.", "label": "event", "doc_id": f"d{i}"}
        for i in range(60)
    ]
    extra = {"a": None, "b": 2, "c": "first", "d": 2.5}
    for name, block in extra.items():
        lines = [
            json.dumps({**r, "doc_id": f"{name}{r['doc_id']}", "block": block, "notes": [name]})
            for r in rows
        ]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = CorpusStream(streaming_config(tmp_path, "data.split_column=null"))
    sources = [str(tmp_path / f"{name}.jsonl") for name in extra]
    batches = list(stream._open(sources).iter(batch_size=50))
    assert sum(len(b["text"]) for b in batches) == 240 and "notes" not in batches[0]
    for name, isolate in (("e", False), ("f", "no")):
        lines = [
            json.dumps({**r, "doc_id": f"{name}{r['doc_id']}", "isolate": isolate}) for r in rows
        ]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"f\.jsonl: column 'isolate' holds string, but .*e\.jsonl"):
        stream._open([str(tmp_path / "e.jsonl"), str(tmp_path / "f.jsonl")])


def test_an_unreadable_file_mid_stream_is_one_error_naming_it(tmp_path: Path) -> None:
    rows = [{"text": f"Unit {i}.", "label": "event", "doc_id": f"d{i}"} for i in range(40)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps(rows[0]) + "\n{not json at all\n", "utf-8")
    (tmp_path / "c.jsonl").write_text("", "utf-8")
    for name, message in (("b", r"b\.jsonl: cannot read as json"), ("c", r"c\.jsonl: .*no rows")):
        config = streaming_config(tmp_path, f"data.source=[{tmp_path / name}.jsonl]")
        with pytest.raises(DataError, match=message):
            CorpusStream(config).survey()
