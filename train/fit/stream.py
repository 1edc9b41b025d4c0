"""Streaming training: the train rows are read in shuffled batches and fed to ``partial_fit``.

Peak memory depends on ``training.batch_size`` and ``training.shuffle_buffer``, not on the size of
the corpus: the corpus goes through a HuggingFace ``IterableDataset`` (``load_dataset(...,
streaming=True)``), and only the held-out rows (test and dev, small by design) are kept in memory
for evaluation.

Splits are decided row by row, so that no pass needs the whole corpus: a row takes the split its
``data.split_column`` declares (``train``/``dev``/``test``); a row without one is placed by a
seeded hash of its ``doc_id`` (of its text where it has none) against ``data.split_ratios``.
Hashing the ``doc_id`` sends every unit of an article to the same split, so no article is cut.
"""

from __future__ import annotations

import inspect
import logging
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from tqdm.auto import tqdm

from ..config import DataConfig, RunConfig, check_training
from ..data.load import (
    ARTICLE_COLUMNS,
    LOADERS,
    LoadedData,
    resolve_files,
    standard_columns,
    unit_problem,
    with_origin,
)
from ..data.split import assign_splits
from ..errors import ConfigError, DataError
from ..features.base import DOM_COLUMNS, FRAME_COLUMNS, copy_mask, isolated
from ..registry import featurizers, models

log = logging.getLogger(__name__)
SURVEY_BATCH = 10_000
FILTER_BATCH = 1_000
# Newer datasets fill the shuffle buffer from up to 10 files read at once, each reader holding a
# block of its file (~30 MB of JSON), so memory grew with the number of files up to 10: read one
# file at a time (the order of the files is still shuffled every epoch).
_ONE_SHARD = (
    {"max_buffer_input_shards": 1}
    if "max_buffer_input_shards" in inspect.signature(datasets.IterableDataset.shuffle).parameters
    else {}
)


@dataclass
class TrainCounts:
    """What the survey pass saw of the train rows: units, articles and units per label."""

    rows: int = 0
    articles: int = 0
    labels: dict[str, int] = field(default_factory=dict)

    def add(self, train: pd.DataFrame) -> None:
        """Count one batch of train rows; an article is counted at its unit in position 0."""
        self.rows += len(train)
        self.articles += int((train["doc_id"].notna() & (train["position"] == 0)).sum())
        for label, n in train["label"].value_counts().items():
            self.labels[str(label)] = self.labels.get(str(label), 0) + int(n)

    def balanced_weights(self) -> dict[str, float]:
        """scikit-learn's ``class_weight="balanced"`` from the counts, as ``partial_fit`` cannot."""
        return {k: self.rows / (len(self.labels) * n) for k, n in sorted(self.labels.items())}


def _units(
    batch: dict[str, list[Any]], config: DataConfig, origin: tuple[str, int] | None = None
) -> pd.DataFrame:
    """One batch as a frame with the pipeline's columns, typed as ``data.load_units`` types them.
    ``origin``, the batch's file and first line, lets an error name the line it is on."""
    frame = pd.DataFrame(batch)
    if origin is not None:
        frame = with_origin(frame, *origin)
    return standard_columns(frame, config, ", ".join(config.source))


def _problems(frame: pd.DataFrame, config: DataConfig) -> pd.Series:
    """Why each row is unusable ('' where it is fine), as ``data.load_units`` words it."""
    found = [unit_problem(t, y, config) for t, y in zip(frame["text"], frame["label"], strict=True)]
    return pd.Series(found, index=frame.index, dtype=object)


def check_streamable(config: RunConfig) -> None:
    """Streaming needs featurizers that fit nothing on the corpus as a whole and a model with
    ``partial_fit``: what the registry marks ``streamable``."""
    check_training(config)
    if not config.training.streaming:
        return
    usable = [e.name for e in featurizers.entries() if e.streamable]
    for i, feature in enumerate(config.features):
        if not featurizers.entry(feature.name, f"features.{i}").streamable:
            why = (
                "reads the neighbouring units of its article, which a shuffled stream separates"
                if feature.name.startswith(("context.", "blocks."))
                else "needs the whole corpus"
            )
            raise ConfigError(
                f"features.{i}: {feature.name} {why}; streaming needs "
                f"{', '.join(usable)} (or set training.streaming: false)"
            )
    if not models.entry(config.model.name, "model.name").streamable:
        incremental = [e.name for e in models.entries() if e.streamable]
        raise ConfigError(
            f"model.name: {config.model.name} has no partial_fit; streaming needs "
            f"{' or '.join(incremental)} (or set training.streaming: false)"
        )


def _aligned(
    parts: list[datasets.IterableDataset], sources: list[str], needed: set[str]
) -> list[datasets.IterableDataset]:
    """The parts with the columns the run reads, the same in each part: batches that span two
    files are then one table. A column a part lacks is added as missing; numbers typed apart
    (3 and 2.5, int32 and int64) become floats; other columns typed apart become strings, which
    the unit frame coerces as it does for a whole corpus. Other columns are dropped. Lists or
    mappings against other types, or ``isolate`` typed apart, are a ``DataError`` naming both files."""
    parts = [
        part.remove_columns([n for n in (part.features or {}) if n not in needed]) for part in parts
    ]
    seen: dict[str, list[tuple[Any, str]]] = {}
    for part, source in zip(parts, sources, strict=True):
        for name, feature in (part.features or {}).items():
            if feature != datasets.Value("null"):
                seen.setdefault(name, []).append((feature, source))
    merged = {}
    for name, typed in seen.items():
        kinds = {_kind(feature) for feature, _ in typed}
        if len(kinds) == 1:
            merged[name] = typed[0][0]
        elif kinds <= _NUMBERS:
            merged[name] = datasets.Value("float64")
        elif name != "isolate" and all(isinstance(f, datasets.Value) for f, _ in typed):
            merged[name] = datasets.Value("string")
        else:
            (first, where), (other, source) = (
                typed[0],
                next(t for t in typed if _kind(t[0]) != _kind(typed[0][0])),
            )
            raise DataError(
                f"{source}: column '{name}' holds {_kind(other)}, but {where} holds {_kind(first)}"
            )
    for part in parts:
        for name, feature in (part.features or {}).items():
            merged.setdefault(name, feature)  # only ever missing (null)
    features = datasets.Features(merged)
    return [
        part
        if part.features == features
        else part.map(
            lambda batch, missing=[n for n in features if n not in (part.features or {})]: {
                n: [None] * len(next(iter(batch.values()))) for n in missing
            },
            batched=True,
            features=features,
        )
        for part in parts
    ]


_NUMBERS = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float32", "float64"}
)


def _reason(exc: BaseException) -> str:
    """The first line of an error from a reader, or what its type means where it says nothing."""
    text = str(exc).strip().splitlines()
    if text:
        return text[0]
    return "no rows (an empty file?)" if isinstance(exc, StopIteration) else type(exc).__name__


def _kind(feature: Any) -> str:
    """A column type as a person reads it: ``int64``, ``string``."""
    return str(getattr(feature, "dtype", feature))


class CorpusStream:
    """A corpus read as a stream: held-out rows kept in memory, train rows streamed in batches."""

    def __init__(self, config: RunConfig) -> None:
        check_streamable(config)
        self.config = config
        self.counts = TrainCounts()
        self.skipped: list[str] = []
        self._sources: list[str] = []

    def _open(self, sources: list[str]) -> datasets.IterableDataset:
        """The rows of ``sources`` as one lazily read IterableDataset, each source read on its
        own and the columns aligned: files may hold different columns (``block`` and
        ``isolate`` in some), which one reader over all files refuses."""
        data = self.config.data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parts = [
                    datasets.load_dataset(s, split="train", streaming=True)
                    if data.format == "hub"
                    else datasets.load_dataset(
                        LOADERS[data.format], data_files=[s], split="train", streaming=True
                    )
                    for s in sources
                ]
            except Exception as exc:  # datasets wraps reader errors in many types
                raise DataError(
                    f"{', '.join(sources)}: cannot stream as {data.format}: {_reason(exc)}"
                ) from None
        if len(parts) == 1:
            return parts[0]
        return datasets.concatenate_datasets(_aligned(parts, sources, self._columns()))

    def _columns(self) -> set[str]:
        """The columns a streamed run reads: text, label, article, split, isolate and DOM ones."""
        data = self.config.data
        return {
            data.text_column,
            data.label_column,
            *ARTICLE_COLUMNS,
            *([data.split_column] if data.split_column else []),
            "isolate",
            *DOM_COLUMNS,
        }

    def survey(self) -> LoadedData:
        """One pass in file order: check every row, count the train rows, keep the held-out rows."""
        data = self.config.data
        files = [] if data.format == "hub" else resolve_files(data.source)
        self._sources = list(data.source) if data.format == "hub" else [str(f) for f in files]
        first_line = 2 if data.format == "csv" else 1
        held_out = []
        for source in self._sources:
            line = first_line
            for batch in self._read(self._open([source]).iter(batch_size=SURVEY_BATCH), [source]):
                frame = _units(batch, data, (source, line))
                line += len(frame)
                kept = self._check_and_count(frame)
                if len(kept):
                    held_out.append(kept)
        for problem in self.skipped:
            log.warning("skipped %s", problem)
        if not self.counts.rows or not held_out:
            raise DataError(f"{data.source}: the train or test split is empty")
        return LoadedData(pd.concat(held_out, ignore_index=True), files, self.skipped)

    def _check_and_count(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Refuse or skip bad rows, count the train rows and return the held-out ones."""
        problems = _problems(frame, self.config.data)
        bad = problems != ""
        if bad.any():
            found = [
                f"{f}:{n}: {p}"
                for f, n, p in zip(frame["_file"], frame["_line"], problems, strict=True)
                if p
            ]
            if self.config.data.on_error == "raise":
                raise DataError(
                    found[0] + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
                )
            self.skipped.extend(found)
        frame = frame.loc[~bad]
        is_train = assign_splits(frame, self.config.data) == "train"
        self.counts.add(frame.loc[is_train])
        return frame.loc[~is_train]

    def _keep(self, batch: dict[str, list[Any]]) -> list[bool]:
        frame = _units(batch, self.config.data)
        keep = (assign_splits(frame, self.config.data) == "train") & (
            _problems(frame, self.config.data) == ""
        )
        return keep.tolist()

    def train_rows(self) -> datasets.IterableDataset:
        """The usable train rows of every source, shuffled through a buffer where one is set."""
        if not self._sources:
            raise RuntimeError("survey() the corpus before streaming its train rows")
        training = self.config.training
        rows = self._open(self._sources).filter(self._keep, batched=True, batch_size=FILTER_BATCH)
        if training.shuffle_buffer:
            rows = rows.shuffle(
                seed=self.config.data.seed, buffer_size=training.shuffle_buffer, **_ONE_SHARD
            )
        return rows

    def batches(self, rows: datasets.IterableDataset, epoch: int) -> Iterator[pd.DataFrame]:
        """The train rows of one epoch in frames of at most ``training.batch_size`` units."""
        rows.set_epoch(epoch)
        batches = rows.iter(batch_size=self.config.training.batch_size)
        for batch in self._read(batches, self._sources):
            yield _units(batch, self.config.data)

    def _read(
        self, batches: Iterable[dict[str, list[Any]]], sources: list[str]
    ) -> Iterator[dict[str, list[Any]]]:
        """``batches`` as they come, a reader's error mid-file (bad JSON, a ragged CSV row) a
        ``DataError`` naming the sources instead of a traceback."""
        read = iter(batches)
        while True:
            try:
                batch = next(read)
            except StopIteration:
                return
            except (DataError, ConfigError):
                raise
            except Exception as exc:
                raise DataError(
                    f"{', '.join(sources)}: cannot read as {self.config.data.format}: "
                    f"{_reason(exc)}"
                ) from None
            yield batch

    def fit(self, pipeline: Pipeline, progress: bool = True) -> Pipeline:
        """Fit the featurizers on the first batch, then ``partial_fit`` the model batch by batch."""
        training = self.config.training
        features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
        if model.get_params().get("class_weight") == "balanced":
            model.set_params(class_weight=self.counts.balanced_weights())
        classes = np.array(sorted(self.counts.labels))
        rows = self.train_rows()
        bar = tqdm(
            total=self.counts.rows * training.epochs,
            unit="rows",
            unit_scale=True,
            desc="streaming",
            disable=not progress,
            file=sys.stderr,
            leave=False,
        )
        began, fitted = time.perf_counter(), False
        for epoch in range(training.epochs):
            for frame in self.batches(rows, epoch):
                units, labels = frame[FRAME_COLUMNS], frame["label"]
                if training.isolated_copies:
                    copied = copy_mask(frame)
                    units = pd.concat([units, isolated(units[copied])], ignore_index=True)
                    labels = pd.concat([labels, labels[copied]], ignore_index=True)
                if not fitted:
                    features.fit(units, labels)
                    fitted = True
                model.partial_fit(features.transform(units), labels.to_numpy(), classes=classes)
                bar.update(len(frame))
        bar.close()
        rate = self.counts.rows * training.epochs / max(time.perf_counter() - began, 1e-9)
        tqdm.write(
            f"[winnow] streamed {self.counts.rows:,} units x {training.epochs} epochs "
            f"at {rate:,.0f} units/s",
            file=sys.stderr,
        )
        return pipeline

    def train_metrics(self) -> dict[str, int]:
        """The training-set sizes a run reports, from the survey instead of an in-memory frame."""
        return {"n_train": self.counts.rows, "n_train_articles": self.counts.articles}
