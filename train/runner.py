"""One training run: config -> data -> pipeline -> fit -> evaluate -> package."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from tqdm.auto import tqdm

from .config import RunConfig
from .data import assign_splits, fingerprint, isolated, load_units, read_labelled_jsonl
from .errors import DataError
from .evaluate import format_metrics, score
from .package import save_package
from .pipeline import FRAME_COLUMNS, build_pipeline, resolve_params

STAGES = ("load data", "split", "fit", "evaluate", "package")


class StageTimer:
    """A tqdm bar over the run's stages that also records and prints each stage's time."""

    def __init__(self, enabled: bool = True) -> None:
        self.times: dict[str, float] = {}
        self.bar = tqdm(total=len(STAGES), disable=not enabled, file=sys.stderr, leave=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.bar.set_description(name)
        began = time.perf_counter()
        yield
        self.times[name] = round(time.perf_counter() - began, 3)
        self.bar.update(1)
        tqdm.write(f"[winnow] {name}: {self.times[name]:.1f}s", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


@dataclass
class RunResult:
    """What a run produced: the package folder and every metric it wrote."""

    output_dir: Path
    metrics: dict[str, Any]
    report: str


def model_card(manifest: dict[str, Any], metrics: dict[str, Any]) -> str:
    """A short human-readable card: intended use, labels, data, metrics, limits."""
    test = metrics["test"]
    lines = [
        f"# Model card: {manifest['name']} {manifest['version']}",
        "",
        "## Intended use",
        "Labels each sentence or page fragment of a news article as `event` (a reported happening or "
        "sourced fact), `opinion` (judgement, claim, speculation, forecast) or `boilerplate` (page "
        "text that is no part of the story). Use it to keep events for event extraction, flag "
        "opinion, and drop boilerplate from scraped pages.",
        "",
        "## Labels",
        ", ".join(f"`{label}`" for label in manifest["labels"]),
        "",
        "## Data",
        f"Trained on {metrics['n_train']} units ({metrics['n_train_articles']} articles) of the "
        "corpus shipped in `data/`: English text written for this project, across many domains "
        "and genres. Data files and their sha256 are in `manifest.json`.",
        "",
        "## Model",
        f"Featurizers: {', '.join(f['name'] for f in manifest['config']['features'])}; "
        f"model: {manifest['config']['model']['name']}. The resolved config is in `manifest.json`.",
        "",
        "## Metrics",
        "| set | units | macro-F1 | 95% CI | accuracy |",
        "|---|---:|---:|---|---:|",
    ]
    for name, m in [("test split", test), *metrics.get("extra_sets", {}).items()]:
        ci = m.get("macro_f1_ci95")
        interval = f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "-"
        lines.append(
            f"| {name} | {m['n']} | {m['macro_f1']:.3f} | {interval} | {m['accuracy']:.3f} |"
        )
    lines += [
        "",
        "## Limits",
        "- The corpus is written by the project, not sampled from real outlets: scores on it "
        "overstate accuracy on real news; measure on real text before relying on it.",
        "- English only. Units are lines and sentences; a unit that mixes story and page text "
        "gets one label.",
        "- Opinion without cue words (flat analytical claims) and teaser headlines of other "
        "stories are the hardest cases; a lone sentence lacks the context features an article gives.",
        "",
    ]
    return "\n".join(lines)


def training_frame(train: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """The units the pipeline fits on; with ``isolated_copies`` each also appears without its article."""
    frame = train[FRAME_COLUMNS]
    if config.training.isolated_copies:
        frame = pd.concat([frame, isolated(frame)], ignore_index=True)
    return frame


def _labels_of(train: pd.DataFrame, config: RunConfig) -> pd.Series:
    labels = train["label"]
    if config.training.isolated_copies:
        labels = pd.concat([labels, labels], ignore_index=True)
    return labels


def run(config: RunConfig, output: Path | None = None, progress: bool = True) -> RunResult:
    """Train, evaluate and package one config; returns where the package went and its metrics."""
    resolve_params(config)
    pipeline = build_pipeline(config)
    out_dir = Path(output) if output else config.output_dir
    timer = StageTimer(progress)
    try:
        with timer.stage("load data"):
            data = load_units(config.data)
            extra = {
                path: read_labelled_jsonl(path, config.data.labels)
                for path in config.evaluation.extra_sets
            }
        with timer.stage("split"):
            frame = data.frame
            frame["split"] = assign_splits(frame, config.data)
            train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
            if train.empty or test.empty:
                raise DataError(f"{config.data.source}: the train or test split is empty")
            missing = set(config.data.labels) - set(train["label"])
            if missing:
                raise DataError(f"no training units of label(s) {sorted(missing)}")
        with timer.stage("fit"):
            pipeline.fit(training_frame(train, config), _labels_of(train, config))
        with timer.stage("evaluate"):
            labels = [str(c) for c in pipeline.classes_]
            n_boot = config.evaluation.bootstrap
            metrics: dict[str, Any] = {
                "n_train": len(train),
                "n_train_articles": int(train["doc_id"].nunique()),
                "test": score(
                    test["label"],
                    pipeline.predict_proba(test[FRAME_COLUMNS]),
                    labels,
                    groups=test["doc_id"].tolist(),
                    n_bootstrap=n_boot,
                ),
                "extra_sets": {
                    path: score(
                        ex["label"],
                        pipeline.predict_proba(isolated(ex)[FRAME_COLUMNS]),
                        labels,
                        n_bootstrap=n_boot,
                    )
                    for path, ex in extra.items()
                },
            }
            report = "\n\n".join(
                [format_metrics(metrics["test"], "test split")]
                + [format_metrics(m, p) for p, m in metrics["extra_sets"].items()]
            )
        with timer.stage("package"):
            manifest = {
                "name": config.name,
                "version": config.version,
                "labels": labels,
                "config": config.to_dict(),
                "data": {"files": fingerprint(data.files), "skipped": len(data.skipped)},
                "metrics": {
                    "test_macro_f1": metrics["test"]["macro_f1"],
                    **{f"{p}_macro_f1": m["macro_f1"] for p, m in metrics["extra_sets"].items()},
                },
                "timings_s": timer.times,
            }
            documents = {
                "metrics.json": json.dumps(metrics, indent=2),
                "config.yaml": yaml.safe_dump(config.to_dict(), sort_keys=False),
                "MODEL_CARD.md": model_card(manifest, metrics),
            }
            save_package(pipeline, out_dir, manifest, documents, config.output.format)
    finally:
        timer.close()
    metrics["timings_s"] = timer.times
    return RunResult(out_dir, metrics, report)
