"""Measure systems on one corpus split: macro-F1 per set and per source, fit time, speed, size."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import f1_score
from winnow.config import load_config
from winnow.data.load import load_units, read_labelled_jsonl
from winnow.data.split import assign_splits

from .systems import Model, System

REFERENCE = "fastText"


@dataclass
class Corpus:
    """The benchmark's data: the corpus train and test splits and the extra labelled sets."""

    train: pd.DataFrame
    test: pd.DataFrame
    sets: dict[str, pd.DataFrame]
    labels: list[str]

    def scored_sets(self) -> dict[str, pd.DataFrame]:
        """Every set that is scored, the test split first."""
        return {"test": self.test, **self.sets}


def load_corpus(
    config: Path, overrides: Sequence[str] = (), extra: dict[str, Path] | None = None
) -> Corpus:
    """The corpus a winnow config names, split as winnow splits it, plus labelled extra sets."""
    data = load_config(config, overrides).data
    frame = load_units(data).frame
    frame["split"] = assign_splits(frame, data)
    sets = {name: read_labelled_jsonl(path, data.labels) for name, path in (extra or {}).items()}
    return Corpus(
        train=frame[frame["split"] == "train"].reset_index(drop=True),
        test=frame[frame["split"] == "test"].reset_index(drop=True),
        sets=sets,
        labels=list(data.labels),
    )


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-F1 over ``labels``."""
    return float(f1_score(truth, predicted, labels=list(labels), average="macro", zero_division=0))


def per_source(frame: pd.DataFrame, predicted: Sequence[str]) -> dict[str, float]:
    """Macro-F1 of each ``source``, over the labels that source contains (some hold only one)."""
    out: dict[str, float] = {}
    predicted = pd.Series(list(predicted), index=frame.index)
    for source, rows in frame.groupby("source", sort=True):
        out[str(source)] = macro_f1(
            rows["label"], predicted[rows.index], sorted(set(rows["label"]))
        )
    return out


def throughput_texts(corpus: Corpus, n: int) -> list[str]:
    """``n`` texts cycled from the scored sets, the same list for every system."""
    pool = [t for frame in corpus.scored_sets().values() for t in frame["text"]]
    return list(islice(cycle(pool), n))


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path`` (or of ``path`` itself)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(system: System, corpus: Corpus, texts: list[str], seed: int) -> dict[str, Any]:
    """One repetition of one system: fit, save, load, score every set, time prediction of ``texts``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        train_s = system.train(corpus.train, path, seed)
        size = folder_size(path)
        gc.collect()
        began = time.perf_counter()
        model: Model = system.load(path)
        load_s = time.perf_counter() - began
        row: dict[str, Any] = {"train_s": train_s, "size_mb": size / 1e6, "load_s": load_s}
        for name, frame in corpus.scored_sets().items():
            predicted = model.predict_frame(frame)
            row[f"{name}_f1"] = macro_f1(frame["label"], predicted, corpus.labels)
            if "source" in frame.columns:
                row[f"{name}_by_source"] = per_source(frame, predicted)
        model.predict(texts[:100])
        began = time.perf_counter()
        model.predict(texts)
        row["sent_per_s"] = len(texts) / (time.perf_counter() - began)
    return row


@dataclass
class Outcome:
    """Every repetition of one system, and their medians."""

    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        """The median of a figure over the repetitions."""
        return float(statistics.median(run[key] for run in self.runs))

    def median_by(self, key: str) -> dict[str, float]:
        """The median of a per-source figure, source by source."""
        sources = self.runs[0][key]
        return {s: float(statistics.median(run[key][s] for run in self.runs)) for s in sources}


def benchmark(
    systems: Sequence[System],
    corpus: Corpus,
    repeats: int = 3,
    n_texts: int = 10_000,
    log: Any = print,
) -> list[Outcome]:
    """Every system, ``repeats`` times, interleaved so that load on a shared machine hits all alike."""
    texts = throughput_texts(corpus, n_texts)
    outcomes = [Outcome(s.name) for s in systems]
    for r in range(repeats):
        for system, outcome in zip(systems, outcomes, strict=True):
            row = measure(system, corpus, texts, seed=r)
            outcome.runs.append(row)
            log(
                f"[anchors] repeat {r + 1}/{repeats} {system.name}: test {row['test_f1']:.3f} "
                f"train {row['train_s']:.1f}s {row['sent_per_s']:,.0f} sent/s"
            )
    return outcomes


def ratio(value: float, reference: float | None) -> str:
    """``value / reference`` as text, or a dash without a reference."""
    return f"{value / reference:.2f}x" if reference else "-"


def markdown(outcomes: Sequence[Outcome], corpus: Corpus, n_texts: int) -> str:
    """The main table and the per-source table, medians over the repetitions."""
    ref = next((o for o in outcomes if o.name == REFERENCE), None)
    sets = list(corpus.scored_sets())
    sizes = {name: len(frame) for name, frame in corpus.scored_sets().items()}
    head = [f"{name} F1 (n={sizes[name]})" for name in sets]
    lines = [
        "| system | "
        + " | ".join(head)
        + " | train s | train vs fastText | sent/s | sent/s vs fastText"
        " | size MB | size vs fastText | load s |",
        "|---|" + "---:|" * (len(sets) + 7),
    ]
    for o in outcomes:
        f1s = " | ".join(f"{o.median(f'{name}_f1'):.3f}" for name in sets)
        train, speed, size = o.median("train_s"), o.median("sent_per_s"), o.median("size_mb")
        lines.append(
            f"| {o.name} | {f1s} | {train:.1f} | "
            f"{ratio(train, ref and ref.median('train_s'))} | {speed:,.0f} | "
            f"{ratio(speed, ref and ref.median('sent_per_s'))} | {size:.1f} | "
            f"{ratio(size, ref and ref.median('size_mb'))} | {o.median('load_s'):.2f} |"
        )
    for name, frame in corpus.sets.items():
        if "source" not in frame.columns:
            continue
        counts = frame["source"].value_counts()
        sources = sorted(counts.index, key=str)
        lines += [
            "",
            f"Macro-F1 on `{name}` per source (over the labels each source holds):",
            "",
            "| system | " + " | ".join(f"{s} (n={counts[s]})" for s in sources) + " |",
            "|---|" + "---:|" * len(sources),
        ]
        for o in outcomes:
            by = o.median_by(f"{name}_by_source")
            lines.append(f"| {o.name} | " + " | ".join(f"{by[str(s)]:.3f}" for s in sources) + " |")
    lines += ["", f"Throughput: {n_texts:,} sentences, one process, one `predict` call per system."]
    return "\n".join(lines)
