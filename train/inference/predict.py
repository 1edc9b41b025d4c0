"""The labelling job behind ``winnow predict``: articles and record files in, segments out as they go.

A JSONL record file labelled in one process is read in batches with the ``json`` module. Parquet
files and runs with several processes go through ``datasets``, labelled chunk by chunk with
``Dataset.map(batched=True, num_proc=N)``; ``datasets`` is imported only then. Every finished
batch of segments is written at once, so an interrupted run keeps a valid prefix and ``resume``
carries on after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import numpy as np
from tqdm.auto import tqdm

from ..errors import WinnowError
from ..package.store import write_atomic
from .classifier import Classifier

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

RECORD_SUFFIXES = {".jsonl": "json", ".parquet": "parquet"}
# Bytes of each input hashed to tell a resumed run's inputs from others.
RUN_HEAD_BYTES = 64 * 1024
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Records per map() call and per process: each call starts its worker processes anew, so a
# chunk must be large enough to repay that start-up.
CHUNK_SIZE = 20_000
# In one process there is no start-up to repay: small chunks keep output and progress flowing.
SINGLE_PROCESS_CHUNK = 2_000


LINE_BREAKS = ("\n", "\r")


def iter_passages(text: str, segments: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Merge adjacent units of one label within a paragraph (no line break between them), one
    passage at a time.

    A passage keeps exact offsets into ``text``, the mean of its units' scores and their count.
    """
    group: list[dict[str, Any]] = []

    def close() -> dict[str, Any]:
        start, end = group[0]["start"], group[-1]["end"]
        names = group[0]["scores"]
        return {
            "start": start,
            "end": end,
            "text": text[start:end],
            "label": group[0]["label"],
            "scores": {k: round(float(np.mean([g["scores"][k] for g in group])), 4) for k in names},
            "units": len(group),
        }

    for segment in segments:
        gap = text[group[-1]["end"] : segment["start"]] if group else ""
        joined = (
            group
            and group[-1]["label"] == segment["label"]
            and not any(c in gap for c in LINE_BREAKS)
        )
        if group and not joined:
            yield close()
            group = []
        group.append(segment)
    if group:
        yield close()


def merge_passages(text: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every passage of ``segments`` (see ``iter_passages``)."""
    return list(iter_passages(text, segments))


def article_segments(
    model: Classifier,
    doc: str,
    text: str,
    unit: str = "sentence",
    min_confidence: float = 0.0,
    progress: bool = False,
) -> Iterator[dict[str, Any]]:
    """The labelled units (or passages) of one article, each with its ``doc``, yielded as each
    batch is scored so that a long article streams out in bounded memory."""
    total = model.count_units(text)
    bar = tqdm(total=total, unit="unit", disable=not progress, file=sys.stderr, desc=doc, delay=1.0)

    def labelled() -> Iterator[dict[str, Any]]:
        for segment in model.iter_label_article(text, doc, min_confidence, total=total):
            bar.update(1)
            yield segment

    segments = iter_passages(text, labelled()) if unit == "passage" else labelled()
    try:
        for segment in segments:
            yield {"doc": doc, **segment}
    finally:
        bar.close()


HTML_SUFFIXES = {".html", ".htm"}


def is_html(source: str, input_format: str = "auto") -> bool:
    """Whether an input is read as an HTML page: by ``--input-format``, else by its extension."""
    if input_format != "auto":
        return input_format == "html"
    return Path(source).suffix.lower() in HTML_SUFFIXES


def read_page(source: str, stdin: BinaryIO | None = None) -> bytes:
    """The bytes of an HTML page file, or of stdin for ``-``; the parser decodes them."""
    if source == "-":
        return (stdin or sys.stdin.buffer).read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise WinnowError(f"{source}: cannot read ({exc.strerror})") from None


def write_sidecar(folder: Path, source: str, text: str) -> None:
    """Write a page's extracted text to ``folder/<name>.txt``, the text its offsets index."""
    folder.mkdir(parents=True, exist_ok=True)
    name = "stdin" if source == "-" else Path(source).name
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")


class JsonlRecords:
    """A JSON-lines record file read in batches with the ``json`` module; blank lines are skipped.

    A bad line stops the run with an error naming the file and line, after the batches before it.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise WinnowError(f"{path}: cannot read (no such file)")
        self.path = path

    def __len__(self) -> int:
        with open(self.path, "rb") as handle:
            return sum(1 for raw in handle if raw.strip())

    def _text(self, raw: bytes, number: int) -> str:
        try:
            record = json.loads(raw)
        except UnicodeDecodeError as exc:
            raise WinnowError(f"{self.path}:{number}: not valid UTF-8 ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise WinnowError(
                f"{self.path}:{number}: invalid JSON ({exc.msg}, column {exc.colno})"
            ) from None
        if not isinstance(record, dict):
            raise WinnowError(
                f"{self.path}:{number}: expected a JSON object, got {type(record).__name__}"
            )
        if "text" not in record:
            found = ", ".join(record) or "nothing"
            raise WinnowError(f"{self.path}:{number}: no 'text' column (found: {found})")
        if not isinstance(record["text"], str):
            raise WinnowError(f"{self.path}:{number}: 'text' is not a string")
        return record["text"]

    def batches(
        self, skip: int = 0, size: int = SINGLE_PROCESS_CHUNK
    ) -> Iterator[tuple[int, list[str]]]:
        """``(index of the batch's first record, texts)`` for the records after the first ``skip``."""
        first, seen, texts = skip, 0, []
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                seen += 1
                if seen <= skip:
                    continue
                texts.append(self._text(raw, number))
                if len(texts) == size:
                    yield first, texts
                    first, texts = first + size, []
        if texts:
            yield first, texts


def load_records(path: Path, num_proc: int = 1) -> JsonlRecords | datasets.Dataset:
    """A record file with a ``text`` column: JSONL for one process read lean, else ``datasets``."""
    fmt = RECORD_SUFFIXES[path.suffix]
    if fmt == "json" and num_proc == 1:
        return JsonlRecords(path)
    import datasets

    from ..data.load import diagnose_json_lines

    if fmt == "json":
        problem = diagnose_json_lines(path)
        if problem:
            raise WinnowError(problem)
    try:
        ds = datasets.load_dataset(fmt, data_files=str(path), split="train")
    except Exception as exc:  # datasets wraps parser errors in many types
        raise WinnowError(f"{path}: cannot read as {fmt}: {exc}") from None
    if "text" not in ds.column_names:
        raise WinnowError(f"{path}: no 'text' column (found: {', '.join(ds.column_names)})")
    return ds


class _BatchLabeller:
    """A picklable ``Dataset.map`` function: labels a batch of records as lone units."""

    def __init__(self, model: Classifier, path: Path, min_confidence: float) -> None:
        self.model, self.path, self.min_confidence = model, path, min_confidence

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        for text, i in zip(batch["text"], indices, strict=True):
            if not isinstance(text, str):
                raise WinnowError(f"{self.path}: record {i + 1}: 'text' is not a string")
        labelled = self.model.label_units(batch["text"], self.min_confidence)
        return {"segment": [json.dumps(s, ensure_ascii=False) for s in labelled]}


def record_segments(
    model: Classifier,
    path: Path,
    ds: JsonlRecords | datasets.Dataset,
    skip: int = 0,
    num_proc: int = 1,
    min_confidence: float = 0.0,
    progress: bool = True,
) -> Iterator[dict[str, Any]]:
    """Label each record's ``text`` as one unit, chunk by chunk, starting after ``skip`` records."""
    total = len(ds) if progress else None
    bar = tqdm(
        total=total,
        initial=min(skip, total) if total is not None else skip,
        unit="rec",
        disable=not progress,
        file=sys.stderr,
        desc=str(path),
        delay=1.0,
    )
    try:
        if isinstance(ds, JsonlRecords):
            for first, texts in ds.batches(skip, SINGLE_PROCESS_CHUNK):
                labelled = model.label_units(texts, min_confidence)
                for offset, segment in enumerate(labelled):
                    yield {"doc": str(path), "record": first + offset + 1, **segment}
                bar.update(len(texts))
            return
        labeller = _BatchLabeller(model, path, min_confidence)
        size = CHUNK_SIZE * num_proc if num_proc > 1 else SINGLE_PROCESS_CHUNK
        for start in range(min(skip, len(ds)), len(ds), size):
            chunk = ds.select(range(start, min(start + size, len(ds))))
            labelled = chunk.map(
                labeller,
                batched=True,
                batch_size=1024,
                with_indices=True,
                num_proc=num_proc if num_proc > 1 and len(chunk) > 1024 else None,
                remove_columns=chunk.column_names,
                load_from_cache_file=False,
                keep_in_memory=True,
            )
            for offset, row in enumerate(labelled["segment"]):
                yield {"doc": str(path), "record": start + offset + 1, **json.loads(row)}
            bar.update(len(chunk))
    finally:
        bar.close()


def in_batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last one shorter), so output is written per batch."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def count_complete_lines(path: Path) -> int:
    """Complete lines already in an output file; a cut-off last line is dropped from the file."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(complete)
    return data[:complete].count(b"\n")


class LineWriter:
    """Writes each output line with one ``write`` call on an unbuffered file, so a killed run
    leaves only whole lines behind."""

    def __init__(self, path: Path | None, append: bool = False) -> None:
        self.path = path
        self._fd = (
            os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o644)
            if path
            else None
        )

    def write(self, line: str) -> None:
        if self._fd is None:
            sys.stdout.buffer.write(line.encode("utf-8"))  # UTF-8 whatever the locale
        else:
            os.write(self._fd, line.encode("utf-8"))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        else:
            sys.stdout.buffer.flush()

    def __enter__(self) -> LineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_line(segment: dict[str, Any], fmt: str) -> str:
    """One output line: a JSON object, or ``LABEL<TAB>text`` with every line break a space."""
    if fmt == "text":
        return f"{segment['label']}\t{_LINE_BREAK.sub(' ', segment['text'])}\n"
    return json.dumps(segment, ensure_ascii=False) + "\n"


def decode_article(data: bytes, source: str) -> str:
    """UTF-8 text with undecodable bytes replaced by U+FFFD, and a warning that counts them:
    the same for files and stdin."""
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    if replaced:
        logger.warning(
            "%s: %d undecodable byte sequence(s) replaced by U+FFFD (not UTF-8)", source, replaced
        )
    return text


def label_document(
    model: Classifier, source: str, input_format: str = "auto"
) -> list[dict[str, Any]]:
    """The labelled units of one whole document, as ``winnow predict`` labels it: an HTML page
    (by ``input_format``, else by its extension) through ``label_html``, text as an article."""
    if is_html(source, input_format):
        return model.label_html(read_page(source), doc=Path(source).name)[1]
    return model.label_article(read_article(source), doc=Path(source).name)


def text_lengths(documents: Mapping[str, Path], input_format: str = "auto") -> dict[str, int]:
    """The characters of each text document (HTML pages aside), as ``label_document`` reads it:
    what span offsets index."""
    return {
        name: len(read_article(str(path)))
        for name, path in documents.items()
        if not is_html(str(path), input_format)
    }


def read_article(source: str, stdin: TextIO | None = None) -> str:
    """The text of an article file or of stdin for ``-`` (see ``decode_article``)."""
    if source == "-":
        stream = stdin or sys.stdin
        if hasattr(stream, "buffer"):  # the bytes, not the locale's reading of them
            return decode_article(stream.buffer.read(), "<stdin>")
        return stream.read()
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise WinnowError(f"{source}: cannot read ({exc.strerror})") from None
    return decode_article(data, source)


def check_output(output: Path, inputs: list[str]) -> None:
    """Refuse an ``--output`` that is a folder, sits in a missing folder or is one of the inputs
    (same real file: links and hard links included), before anything is opened for writing."""
    if output.is_dir():
        raise WinnowError(f"--output {output}: is a folder; give a file name")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise WinnowError(f"--output {output}: folder {parent} does not exist")
    if not output.exists():
        return
    for source in inputs:
        if source != "-" and Path(source).exists() and os.path.samefile(source, output):
            raise WinnowError(f"--output {output}: is the input {source}; writing would destroy it")


def _head_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read(RUN_HEAD_BYTES)).hexdigest()


def run_identity(inputs: list[str], options: dict[str, Any]) -> dict[str, Any] | None:
    """What makes an output this run's: each input's real path, size and first-block sha256,
    and the options that shape the lines; None where stdin is an input (it cannot be checked)."""
    if "-" in inputs:
        return None
    files = []
    for source in inputs:
        path = Path(source)
        try:
            size = path.stat().st_size
            head = _head_sha256(path)
        except OSError as exc:
            raise WinnowError(f"{source}: cannot read ({exc.strerror})") from None
        files.append({"path": str(path.resolve()), "size": size, "head_sha256": head})
    return {"version": 1, "inputs": files, "options": options}


def run_record_path(output: Path) -> Path:
    """The file beside ``--output`` that records which run wrote it."""
    return output.with_name(output.name + ".run.json")


def start_run(output: Path, identity: dict[str, Any] | None, resume: bool) -> None:
    """Record the run beside its output; on ``resume`` refuse an output another run wrote."""
    record = run_record_path(output)
    if identity is None:
        if resume:
            raise WinnowError("--resume cannot check that stdin is the same input; name a file")
        record.unlink(missing_ok=True)  # a record of an earlier run would no longer be true
        return
    if resume and output.exists() and output.stat().st_size:
        try:
            saved = json.loads(record.read_bytes())
        except FileNotFoundError:
            raise WinnowError(
                f"--resume: {output} has no {record.name}, so which run wrote it is unknown; "
                "refusing to append to it"
            ) from None
        except ValueError:
            raise WinnowError(f"--resume: {record}: not valid JSON; refusing to append") from None
        if saved != identity:
            raise WinnowError(
                f"--resume: {output} was written by another run (inputs or options differ, "
                f"see {record.name}); refusing to append to it"
            )
        return
    write_atomic(record, (json.dumps(identity, indent=2) + "\n").encode())


@dataclass(frozen=True)
class PredictOptions:
    """How ``winnow predict`` reads and labels its inputs."""

    unit: str = "sentence"
    min_confidence: float = 0.0
    num_proc: int = 1
    input_format: str = "auto"
    text_sidecar: Path | None = None
    progress: bool = True


def is_record_file(source: str) -> bool:
    """Whether an input is a record file (each record's ``text`` one unit), by its extension."""
    return source != "-" and Path(source).suffix in RECORD_SUFFIXES


def _page(
    model: Classifier, source: str, options: PredictOptions
) -> tuple[str, list[dict[str, Any]]]:
    """An HTML input's extracted text and labelled segments; the text goes to the sidecar."""
    return next(_pages(model, [source], options))


def _records(
    model: Classifier, path: Path, ds: Any, options: PredictOptions, skip: int = 0
) -> Iterator[dict[str, Any]]:
    """The labelled records of a record file, after the first ``skip``."""
    return record_segments(
        model,
        path,
        ds,
        skip=skip,
        num_proc=options.num_proc,
        min_confidence=options.min_confidence,
        progress=options.progress,
    )


def _document(
    model: Classifier, source: str, options: PredictOptions
) -> tuple[str, Iterable[dict[str, Any]]]:
    """An article or HTML input's text and its labelled segments."""
    if is_html(source, options.input_format):
        return _page(model, source, options)
    text = read_article(source)
    segments = article_segments(
        model, source, text, options.unit, options.min_confidence, progress=options.progress
    )
    return text, segments


def _pages(
    model: Classifier, sources: list[str], options: PredictOptions
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Consecutive HTML inputs, read one by one and scored together (``label_html_pages``):
    each page's text (also to the sidecar) and labelled units (or passages), each with its
    ``doc``."""
    pages = ((source, read_page(source)) for source in sources)
    for source, text, units in model.label_html_pages(pages, options.min_confidence):
        if options.unit == "passage":
            units = merge_passages(text, units)
        if options.text_sidecar:
            write_sidecar(options.text_sidecar, source, text)
        yield text, [{"doc": source, **u} for u in units]


def labelled_inputs(
    model: Classifier, inputs: list[str], options: PredictOptions, skip: int = 0
) -> Iterator[dict[str, Any]]:
    """Every output segment of every input in order, after the first ``skip`` (a resumed run).

    A run of consecutive HTML inputs is scored together; its pages come out one after another.
    """
    left = skip

    def after_skip(segments: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal left
        for segment in segments:
            if left:
                left -= 1
            else:
                yield segment

    runs = groupby(inputs, key=lambda s: not is_record_file(s) and is_html(s, options.input_format))
    for pages_run, group in runs:
        if pages_run:
            pages = _pages(model, list(group), options)
            yield from after_skip(segment for _, segments in pages for segment in segments)
            continue
        for source in group:
            if is_record_file(source):
                ds = load_records(Path(source), num_proc=options.num_proc)
                here = min(left, len(ds))
                left -= here
                yield from _records(model, Path(source), ds, options, here)
            else:
                yield from after_skip(_document(model, source, options)[1])


def highlighted_documents(
    model: Classifier, inputs: list[str], options: PredictOptions
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """``(source, text, segments)`` for the HTML view; a record file becomes one document of its
    records, one a line, with offsets re-based onto that text."""
    documents = []
    for source in inputs:
        if is_record_file(source):
            text, shifted, cursor = [], [], 0
            ds = load_records(Path(source), num_proc=options.num_proc)
            for segment in _records(model, Path(source), ds, options):
                text.append(segment["text"])
                shifted.append({**segment, "start": cursor, "end": cursor + len(segment["text"])})
                cursor += len(segment["text"]) + 1
            documents.append((source, "\n".join(text), shifted))
        else:
            text, segments = _document(model, source, options)
            documents.append((source, text, list(segments)))
    return documents
