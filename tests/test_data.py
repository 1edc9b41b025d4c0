"""The data layer: bad records are named by file and line, splits never cut an article."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from winnow.config import DataConfig
from winnow.data.load import load_units
from winnow.data.split import assign_splits
from winnow.errors import DataError


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rows(n_docs: int = 20, per_doc: int = 4) -> list[dict]:
    labels = ["event", "opinion", "boilerplate"]
    return [
        {
            "text": f"Unit {p} of article {d}.",
            "label": labels[(d + p) % 3],
            "doc_id": f"d{d}",
            "position": p,
            "doc_len": per_doc,
        }
        for d in range(n_docs)
        for p in range(per_doc)
    ]


def config(path: Path, **kwargs: object) -> DataConfig:
    return DataConfig(source=[str(path)], **kwargs)


def test_loads_through_datasets_with_file_and_line(tmp_path: Path) -> None:
    data = load_units(config(jsonl(tmp_path / "a.jsonl", rows(2))))
    assert len(data.frame) == 8
    assert data.frame["_line"].tolist() == list(range(1, 9))
    assert data.files == [tmp_path / "a.jsonl"]


def test_csv_and_parquet_take_the_same_path(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows(2))
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    for name, fmt in (("a.csv", "csv"), ("a.parquet", "parquet")):
        loaded = load_units(DataConfig(source=[str(tmp_path / name)], format=fmt)).frame
        assert loaded["text"].tolist() == frame["text"].tolist()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"text": "", "label": "event"}, "empty text"),
        ({"text": "   ", "label": "event"}, "empty text"),
        ({"text": "A sentence.", "label": "news"}, "unknown label 'news'"),
    ],
)
def test_bad_records_name_file_and_line(tmp_path: Path, bad: dict, message: str) -> None:
    path = jsonl(tmp_path / "a.jsonl", [*rows(1), bad])
    with pytest.raises(DataError, match=rf"{path}:5: {message}"):
        load_units(config(path))


@pytest.mark.parametrize(
    ("column", "value"),
    [("position", 1.5), ("position", 1e300), ("doc_len", 2**62), ("block", -(2**50))],
)
def test_fractional_or_enormous_article_numbers_name_file_and_line(
    tmp_path: Path, column: str, value: float
) -> None:
    """Such numbers crashed in a cast; a neighbourhood that spans positions must never see them."""
    bad = {"text": "A sentence.", "label": "event", "doc_id": "d0", "position": 4, column: value}
    path = jsonl(tmp_path / "a.jsonl", [*rows(1), bad])
    with pytest.raises(DataError, match=rf"{path}:5: '{column}' must be a whole number no larger"):
        load_units(config(path))


def test_skip_mode_counts_instead_of_failing(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [*rows(1), {"text": "", "label": "event"}])
    data = load_units(config(path, on_error="skip"))
    assert len(data.frame) == 4 and len(data.skipped) == 1 and ":5:" in data.skipped[0]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"sentence": "x", "label": "event"}])
    with pytest.raises(DataError, match=r"missing column 'text' \(found: sentence, label\)"):
        load_units(config(path))


def test_invalid_json_and_non_utf8_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "ok", "label": "event"}\n{"text": "broken"\n')
    with pytest.raises(DataError, match=r"a\.jsonl:2: invalid JSON"):
        load_units(config(path))
    path.write_bytes(b'{"text": "ok", "label": "event"}\n{"text": "caf\xe9", "label": "event"}\n')
    with pytest.raises(DataError, match=r"a\.jsonl:2: not valid UTF-8"):
        load_units(config(path))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DataError, match="empty data file"):
        load_units(config(tmp_path / "empty.jsonl"))
    with pytest.raises(DataError, match="no such data file"):
        load_units(config(tmp_path / "missing.jsonl"))
    with pytest.raises(DataError, match="no such data file"):
        load_units(DataConfig(source=[str(tmp_path / "*.nothing")]))


def test_overlong_text_is_refused(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"text": "x" * 101, "label": "event"}])
    with pytest.raises(DataError, match=r"a\.jsonl:1: text of 101 characters exceeds"):
        load_units(config(path, max_chars=100))


def test_seeded_split_never_cuts_an_article(tmp_path: Path) -> None:
    data = load_units(config(jsonl(tmp_path / "a.jsonl", rows(40))))
    split = assign_splits(data.frame, config(tmp_path / "a.jsonl"))
    per_doc = split.groupby(data.frame["doc_id"]).nunique()
    assert (per_doc == 1).all()
    assert set(split) == {"train", "dev", "test"}
    again = assign_splits(data.frame, config(tmp_path / "a.jsonl"))
    assert split.equals(again)


def test_declared_splits_are_used_and_checked(tmp_path: Path) -> None:
    declared = [{**r, "split": "test" if r["doc_id"] == "d0" else "train"} for r in rows(3)]
    data = load_units(config(jsonl(tmp_path / "a.jsonl", declared)))
    split = assign_splits(data.frame, config(tmp_path / "a.jsonl"))
    assert split[data.frame["doc_id"] == "d0"].eq("test").all()
    declared[1]["split"] = "dev"
    data = load_units(config(jsonl(tmp_path / "b.jsonl", declared)))
    with pytest.raises(DataError, match="article 'd0' is declared in more than one split"):
        assign_splits(data.frame, config(tmp_path / "b.jsonl"))


def test_a_ten_megabyte_line_is_named_not_crashed_on(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [*rows(1), {"text": "word " * 2_000_000, "label": "event"}])
    with pytest.raises(DataError, match=rf"{path}:5: text of 10,000,000 characters exceeds"):
        load_units(config(path))
    data = load_units(config(path, on_error="skip"))
    assert len(data.frame) == 4 and len(data.skipped) == 1


def test_skipped_rows_are_a_counted_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = [{"text": "", "label": "event"}, {"text": "x", "label": "gossip"}]
    path = jsonl(tmp_path / "a.jsonl", [*rows(1), *bad])
    with caplog.at_level("WARNING"):
        data = load_units(config(path, on_error="skip"))
    assert len(data.skipped) == 2
    assert [r.getMessage() for r in caplog.records] == [f"skipped {p}" for p in data.skipped]


def test_cli_data_errors_are_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from winnow.cli import main

    path = jsonl(tmp_path / "a.jsonl", [*rows(3), {"text": "x", "label": "gossip"}])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata:\n  source: [{path}]\nfeatures:\n  - name: tfidf_words.v1\n")
    assert main(["train", str(cfg), "--output", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"winnow: error: {path}:13: unknown label 'gossip' (valid: event, opinion, boilerplate)"
    )
    assert not (tmp_path / "out").exists()


def test_rows_marked_isolate_false_get_no_lone_copy() -> None:
    """A reader's comment is furniture only on its page: a row with ``isolate: false`` trains in
    its article but gets no isolated copy, while every other row gets one with its group."""
    from winnow.config import RunConfig
    from winnow.fit.training import training_frame, training_groups, training_labels

    train = pd.DataFrame(
        {
            "text": ["Troops entered the town.", "What a great read!", "Share this"],
            "label": ["event", "boilerplate", "boilerplate"],
            "doc_id": ["a", "a", "a"],
            "position": pd.array([0, 1, 2], dtype="Int64"),
            "doc_len": pd.array([3, 3, 3], dtype="Int64"),
            "block": pd.array([0, 1, 2], dtype="Int64"),
            "isolate": [None, False, True],
        }
    )
    config = RunConfig(name="t")
    frame = training_frame(train, config)
    assert frame["text"].tolist()[3:] == ["Troops entered the town.", "Share this"]
    assert frame["doc_id"].iloc[3:].isna().all()
    assert training_labels(train, config).tolist()[3:] == ["event", "boilerplate"]
    assert training_groups(train, config).tolist() == ["a"] * 5


def test_loading_local_files_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """``datasets`` pings the hub to count each load, even of a local file; where name lookups
    are slow that cost 0.15 s a file, 5 s of the default's training."""
    import socket

    lookups: list[object] = []

    def refuse(host: object, *args: object, **kwargs: object) -> None:
        lookups.append(host)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    loaded = load_units(DataConfig(source=["data/corpus/*.jsonl"]))
    assert len(loaded.frame) > 1000
    assert lookups == []
