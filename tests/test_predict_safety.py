"""Issue 13: predict never destroys an input, resumes only its own output, and streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from winnow import load_model
from winnow.cli import main

MODEL = "models/default"
ARTICLE = Path("examples/article.txt")


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("winnow: error: ") and "\n" not in err, err
    return err


@pytest.fixture
def article(tmp_path: Path) -> Path:
    copy = tmp_path / "article.txt"
    copy.write_bytes(ARTICLE.read_bytes())
    return copy


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted"])
def test_output_that_is_an_input_is_refused_and_the_input_kept(
    article: Path, tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = article.read_bytes()
    output = {
        "same": article,
        "symlink": tmp_path / "link.txt",
        "hardlink": tmp_path / "hard.txt",
        "dotted": tmp_path / "." / "article.txt",
    }[how]
    if how == "symlink":
        output.symlink_to(article)
    if how == "hardlink":
        os.link(article, output)
    for fmt in ("jsonl", "html"):
        argv = ["predict", MODEL, str(article), "--output", str(output), "--format", fmt]
        assert "writing would destroy it" in _one_line_error(argv, capsys)
        assert article.read_bytes() == before


def test_output_in_a_missing_folder_or_at_a_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope" / "out.jsonl"
    err = _one_line_error(["predict", MODEL, str(ARTICLE), "--output", str(missing)], capsys)
    assert "does not exist" in err
    err = _one_line_error(["predict", MODEL, str(ARTICLE), "--output", str(tmp_path)], capsys)
    assert "is a folder" in err


def _records(path: Path, n: int, word: str) -> Path:
    path.write_text("".join(json.dumps({"text": f"{word} {i} here."}) + "\n" for i in range(n)))
    return path


def test_resume_refuses_another_runs_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _records(tmp_path / "a.jsonl", 30, "Alpha")
    b = _records(tmp_path / "b.jsonl", 30, "Beta")
    out = tmp_path / "out.jsonl"
    assert main(["predict", MODEL, str(a), "--output", str(out), "--quiet"]) == 0
    done = out.read_bytes()
    for argv in (
        [str(b)],  # other inputs
        [str(a), str(b)],  # more inputs
        [str(a), "--format", "text"],  # other options
        [str(a), "--min-confidence", "0.5"],
    ):
        err = _one_line_error(
            ["predict", MODEL, *argv, "--output", str(out), "--resume", "--quiet"], capsys
        )
        assert "written by another run" in err
        assert out.read_bytes() == done
    _records(a, 31, "Alpha")  # the same file, grown: no longer the same input
    err = _one_line_error(
        ["predict", MODEL, str(a), "--output", str(out), "--resume", "--quiet"], capsys
    )
    assert "written by another run" in err


def test_resume_refuses_an_output_with_no_record_of_its_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _records(tmp_path / "a.jsonl", 5, "Alpha")
    out = tmp_path / "out.jsonl"
    out.write_text('{"someone": "else"}\n')
    err = _one_line_error(["predict", MODEL, str(a), "--output", str(out), "--resume"], capsys)
    assert "out.jsonl.run.json" in err
    assert out.read_text() == '{"someone": "else"}\n'


def test_text_format_never_keeps_a_carriage_return(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "mac.txt"
    source.write_bytes(b"Floods cut rail line\rBy Jane Doe\r\rThe line closed. Trains stopped.\r")
    assert main(["predict", MODEL, str(source), "--format", "text", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    assert [line.split("\t")[1] for line in out.splitlines()] == [
        "Floods cut rail line",
        "By Jane Doe",
        "The line closed.",
        "Trains stopped.",
    ]


def test_non_utf8_stdin_and_files_are_read_alike_with_a_counted_warning(tmp_path: Path) -> None:
    data = b"The council met on Monday.\xff\xfe It voted \xc3 to close the library.\n"
    source = tmp_path / "latin.txt"
    source.write_bytes(data)
    command = [sys.executable, "-m", "winnow", "predict", MODEL, "--quiet", "--format", "text"]
    env = {**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": ""}
    from_stdin = subprocess.run(
        [*command, "-"], input=data, capture_output=True, env=env, check=False
    )
    from_file = subprocess.run([*command, str(source)], capture_output=True, env=env, check=False)
    assert from_stdin.returncode == 0, from_stdin.stderr.decode()
    assert from_file.returncode == 0, from_file.stderr.decode()
    assert from_stdin.stdout == from_file.stdout
    assert "\ufffd".encode() in from_stdin.stdout
    assert b"3 undecodable byte sequence(s) replaced" in from_stdin.stderr
    assert b"Traceback" not in from_stdin.stderr + from_file.stderr


@pytest.mark.parametrize("article_pass", [False, True], ids=["no-article-pass", "article-pass"])
def test_a_long_article_streams_the_same_labels_batch_by_batch(
    monkeypatch: pytest.MonkeyPatch, article_pass: bool
) -> None:
    """Windows of a long article are scored a batch at a time and give one pass's labels. Without
    the article pass and the opinion expert each unit comes out once its batch is scored; with
    them, once the sequence is routed and decoded (the scores, a few numbers a unit, are all that
    is kept)."""
    from winnow.inference import classifier

    model = load_model(MODEL)
    assert model.decoder is not None and model.router is not None
    if not article_pass:
        model.decoder = model.router = None
    text = ARTICLE.read_text("utf-8") * 6
    whole = model.label_article(text)
    monkeypatch.setattr(classifier, "BATCH_SIZE", 16)
    scored: list[int] = []
    real = model.scorer.scores

    def counted(frame: object) -> object:
        scored.append(len(frame))  # type: ignore[arg-type]
        return real(frame)  # type: ignore[arg-type]

    monkeypatch.setattr(model.scorer, "scores", counted)
    stream = model.iter_label_article(text)
    first = next(stream)
    if not article_pass:
        assert len(scored) == 1 and scored[0] <= 16 + 2 * model.context_margin
    assert [first, *stream] == whole
    assert len(scored) > 1 and max(scored) <= 16 + 2 * model.context_margin


def test_predict_of_a_single_string_is_a_type_error() -> None:
    model = load_model(MODEL)
    with pytest.raises(TypeError, match="single string"):
        model.predict("Subscribe to our newsletter.")
    assert model.predict(["Subscribe to our newsletter."]) == ["boilerplate"]


def test_record_progress_moves_every_few_thousand_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tqdm.auto import tqdm
    from winnow.inference.predict import load_records, record_segments

    steps: list[int] = []

    class Recording(tqdm):
        def update(self, n: float = 1) -> bool | None:
            steps.append(int(n))
            return super().update(n)

    monkeypatch.setattr("winnow.inference.predict.tqdm", Recording)
    records = _records(tmp_path / "many.jsonl", 5000, "Line")
    model = load_model(MODEL)
    segments = record_segments(model, records, load_records(records), progress=False)
    assert sum(1 for _ in segments) == 5000
    assert steps and max(steps) <= 2000
