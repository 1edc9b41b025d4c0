"""The data layer: labelled units through HuggingFace ``datasets``, checked, split by article.

JSON lines, CSV, parquet files and hub dataset ids all go through ``load_dataset``. Problems are
``DataError``s that name the file and line, or counted warnings where ``on_error: skip`` asks.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd

from ..config import DataConfig
from ..errors import DataError
from ..features.base import with_dom_columns

log = logging.getLogger(__name__)
# The column of a loaded frame that flags units of data.splitter_only files.
SPLITTER_ONLY = "_splitter_only"
datasets.disable_progress_bars()
datasets.logging.set_verbosity_error()
# datasets pings the hub to count every load, even of a local file: a name lookup per file
# (0.15 s each where lookups are slow, 5 s of training the default) that tells us nothing.
datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False

ARTICLE_COLUMNS = ("doc_id", "position", "doc_len", "block")
# The datasets builder that reads each file format.
LOADERS = {"json": "json", "csv": "csv", "parquet": "parquet"}


@dataclass
class LoadedData:
    """Checked units as a frame: text, label, doc_id, position, doc_len, _file, _line and any other columns."""

    frame: pd.DataFrame
    files: list[Path]
    skipped: list[str] = field(default_factory=list)


def resolve_files(patterns: Sequence[str]) -> list[Path]:
    """Expand globs; a pattern that matches nothing is an error naming it."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not Path(matches[0]).exists():
            raise DataError(f"{pattern}: no such data file")
        files.extend(Path(m) for m in matches if Path(m).is_file())
    if not files:
        raise DataError(f"{', '.join(patterns)}: no data files found")
    return files


def source_weights(frame: pd.DataFrame, config: DataConfig) -> np.ndarray | None:
    """Each unit's weight in the fit from ``data.source_weights`` (1.0 where no pattern matches its
    file; the last matching pattern wins), or None where the config weights nothing.

    A pattern that matches no file of ``data.source`` is named in a warning, not refused: a run
    that narrows the sources with ``--set data.source=...`` keeps the config's weights.
    """
    if not config.source_weights:
        return None
    files = frame["_file"].astype(str).to_numpy()
    sources = {str(f) for f in resolve_files(config.source)}
    weights = np.ones(len(frame))
    for pattern, weight in config.source_weights.items():
        matched = source_files(pattern, sources, "data.source_weights")
        weights[np.isin(files, matched)] = weight
    return weights


def splitter_only(frame: pd.DataFrame, config: DataConfig) -> np.ndarray:
    """Whether each unit comes from a file of ``data.splitter_only``: it trains the splitter alone.
    ``load_units`` keeps the answer in the ``_splitter_only`` column (``splitter_only_rows``).

    A pattern that matches no file of ``data.source`` is warned of, as ``source_weights`` are.
    """
    mask = np.zeros(len(frame), dtype=bool)
    if not config.splitter_only:
        return mask
    files = frame["_file"].astype(str).to_numpy()
    sources = {str(f) for f in resolve_files(config.source)}
    for pattern in config.splitter_only:
        mask |= np.isin(files, source_files(pattern, sources, "data.splitter_only"))
    return mask


def splitter_only_rows(frame: pd.DataFrame) -> np.ndarray:
    """The ``_splitter_only`` flags ``load_units`` set (all False for a frame without them)."""
    if SPLITTER_ONLY not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[SPLITTER_ONLY].to_numpy(dtype=bool)


def source_files(pattern: str, sources: set[str], key: str) -> list[str]:
    """The files among ``sources`` (``data.source``, resolved) that ``pattern`` (of config
    ``key``) matches; none is warned of."""
    matched = [str(Path(m)) for m in glob.glob(pattern) if str(Path(m)) in sources]
    if not matched:
        log.warning("%s.%s matches no file of data.source", key, pattern)
    return matched


def fingerprint(files: Sequence[Path]) -> dict[str, str]:
    """sha256 of each data file, so a packaged model says exactly what it was trained on."""
    return {str(f): sha256_file(f) for f in files}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def diagnose_json_lines(path: Path) -> str:
    """Find the first line of a JSON-lines file that does not decode, for a precise error."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"{path}:{number}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                return f"{path}:{number}: invalid JSON ({exc.msg}, column {exc.colno})"
            if not isinstance(record, dict):
                return f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
    return ""


def _load_file(path: Path, fmt: str) -> datasets.Dataset:
    """One file through ``datasets``; a failure is re-read to name the bad line where we can."""
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty data file")
    if fmt == "json":
        problem = diagnose_json_lines(path)
        if problem:
            raise DataError(problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return datasets.load_dataset(
                LOADERS[fmt], data_files=str(path), split="train", keep_in_memory=True
            )
    except Exception as exc:  # datasets wraps parser errors in many types
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from None


def load_units(config: DataConfig) -> LoadedData:
    """Load and check every unit named by ``config.source``."""
    if config.format == "hub":
        frames, files = [], []
        for name in config.source:
            try:
                ds = datasets.load_dataset(name, split="train")
            except Exception as exc:
                raise DataError(f"{name}: cannot load hub dataset: {exc}") from None
            frames.append(with_origin(ds.to_pandas(), name, first_line=1))
    else:
        files = resolve_files(config.source)
        frames = []
        for path in files:
            ds = _load_file(path, config.format)
            first_line = 2 if config.format == "csv" else 1
            frames.append(with_origin(ds.to_pandas(), str(path), first_line))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    checked, skipped = check_units(frame, config)
    for problem in skipped:
        log.warning("skipped %s", problem)
    checked[SPLITTER_ONLY] = splitter_only(checked, config)
    return LoadedData(checked, files, skipped)


def with_origin(frame: pd.DataFrame, source: str, first_line: int) -> pd.DataFrame:
    """``frame`` with each row's file and line (``_file``, ``_line``), for errors to name them."""
    frame = frame.copy()
    frame["_file"] = source
    frame["_line"] = np.arange(first_line, first_line + len(frame))
    return frame


def standard_columns(frame: pd.DataFrame, config: DataConfig, where: str) -> pd.DataFrame:
    """Rename the configured text and label columns and give every frame typed article columns."""
    for column in (config.text_column, config.label_column):
        if column not in frame.columns:
            found = ", ".join(c for c in frame.columns if not c.startswith("_"))
            raise DataError(f"{where}: missing column '{column}' (found: {found})")
    frame = frame.rename(columns={config.text_column: "text", config.label_column: "label"})
    for column in ARTICLE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    for column in ("position", "doc_len", "block"):
        frame[column] = whole_numbers(frame, column, where)
    frame["doc_id"] = frame["doc_id"].astype(object).where(frame["doc_id"].notna(), None)
    return with_dom_columns(frame)


# Positions, lengths and blocks beyond this (either sign) are no count of units a corpus holds.
MAX_COUNT = 2**40


def whole_numbers(frame: pd.DataFrame, column: str, where: str) -> pd.Series:
    """``column`` as nullable integers (a blank or a word is missing); a fraction such as 1.5 or a
    number beyond ``MAX_COUNT`` is a ``DataError`` naming its file and line."""
    numbers = pd.to_numeric(frame[column], errors="coerce")
    finite = numbers.where(np.isfinite(numbers.astype(float)))
    bad = numbers.notna() & (finite.isna() | (finite % 1 != 0) | (finite.abs() > MAX_COUNT))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        file = frame["_file"].iloc[i] if "_file" in frame else where
        line = f":{frame['_line'].iloc[i]}" if "_line" in frame else ""
        value = frame[column].iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise DataError(
            f"{file}{line}: '{column}' must be a whole number no larger than {MAX_COUNT:,}, "
            f"got {value!r}"
        )
    return finite.astype("Int64")


def unit_problem(text: Any, label: Any, config: DataConfig) -> str:
    """Why a unit is unusable, or '' where it is fine."""
    if not isinstance(text, str) or not text.strip():
        return "empty text"
    if len(text) > config.max_chars:
        return f"text of {len(text):,} characters exceeds data.max_chars={config.max_chars:,}"
    if label not in config.labels:
        return f"unknown label {label!r} (valid: {', '.join(config.labels)})"
    return ""


def check_units(frame: pd.DataFrame, config: DataConfig) -> tuple[pd.DataFrame, list[str]]:
    """Rename the configured columns, then refuse (or skip) rows with missing or bad values."""
    where = frame["_file"].iloc[0] if len(frame) else ", ".join(config.source)
    frame = standard_columns(frame, config, where)
    problems: list[str] = []
    bad = np.zeros(len(frame), dtype=bool)
    for i, (text, label, source, line) in enumerate(
        zip(frame["text"], frame["label"], frame["_file"], frame["_line"], strict=True)
    ):
        problem = unit_problem(text, label, config)
        if problem:
            bad[i] = True
            problems.append(f"{source}:{line}: {problem}")
    if problems and config.on_error == "raise":
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(problems[0] + more)
    frame = frame.loc[~bad].reset_index(drop=True)
    if frame.empty:
        raise DataError(f"{where}: no usable units")
    return frame, problems


def read_labelled_jsonl(path: str | Path, labels: Sequence[str]) -> pd.DataFrame:
    """A labelled evaluation file (``text``, ``label``; article columns optional), checked like the corpus."""
    config = DataConfig(source=[str(path)], labels=list(labels), max_chars=10**9)
    return load_units(config).frame
