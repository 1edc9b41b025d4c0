"""One training run: config -> data -> pipeline -> fit -> evaluate -> package."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..config import RunConfig
from ..data.load import (
    article_folds,
    fingerprint,
    isolated,
    load_units,
    read_labelled_jsonl,
)
from ..data.split import assign_splits
from ..errors import DataError
from ..evaluate.metrics import coverage_at, coverage_curve, format_metrics, score, score_groups
from ..evaluate.report import most_confident_errors, render_report
from ..inference.decode import ArticleDecoder
from ..package.store import save_package
from .pipeline import FRAME_COLUMNS, build_pipeline, resolve_params
from .search import SearchResult, joblib_backend, search_pipeline
from .stream import CorpusStream

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


def training_labels(train: pd.DataFrame, config: RunConfig) -> pd.Series:
    """The labels matching ``training_frame``."""
    labels = train["label"]
    if config.training.isolated_copies:
        labels = pd.concat([labels, labels], ignore_index=True)
    return labels


def fit_pipeline(pipeline: Any, train: pd.DataFrame, config: RunConfig) -> Any:
    """Fit on the training frame; a model that cross-validates inside itself (calibration) gets
    folds by article in which a unit and its isolated copy always fall together.

    Plain k-fold would put a unit in one fold and its copy in another, so the calibrator would
    learn from scores of units the SVM had seen and come out overconfident.
    """
    X, y = training_frame(train, config), training_labels(train, config)
    model = pipeline.steps[-1][1]
    k = model.get_params(deep=False).get("cv")
    if not isinstance(k, int) or isinstance(k, bool):
        return pipeline.fit(X, y)
    try:
        folds = article_folds(
            train["doc_id"].reset_index(drop=True),
            k,
            config.training.isolated_copies,
            held_out_copies=True,
        )
    except ValueError as exc:
        raise DataError(f"model.params.cv: {exc}") from None
    model.set_params(cv=folds)
    try:
        pipeline.fit(X, y)
    finally:
        model.set_params(cv=k)  # the saved model keeps the config's value, not index arrays
    return pipeline


def fit_article_pass(train: pd.DataFrame, config: RunConfig, labels: list[str]) -> Any:
    """The fitted article decoder the config asks for, counted from the training articles, or None."""
    if config.article.decoder == "none":
        return None
    articles = train[train["doc_id"].notna()].sort_values(["doc_id", "position"], kind="stable")
    sequences = articles.groupby("doc_id", sort=False)["label"].agg(list)
    return ArticleDecoder(strength=config.article.strength).fit(sequences, labels)


def _fit_and_score_fold(
    config: RunConfig, train: pd.DataFrame, held_out: pd.DataFrame
) -> dict[str, Any]:
    pipeline = fit_pipeline(build_pipeline(config), train, config)
    labels = [str(c) for c in pipeline.classes_]
    return score(
        held_out["label"], pipeline.predict_proba(held_out[FRAME_COLUMNS]), labels, n_bootstrap=0
    )


def cross_validate(config: RunConfig, train: pd.DataFrame, folds: int) -> dict[str, Any]:
    """Mean and standard deviation of each metric over ``folds`` folds that never cut an article."""
    try:
        splits = article_folds(train["doc_id"].reset_index(drop=True), folds, copies=False)
    except ValueError as exc:
        raise DataError(f"evaluation.cv_folds: {exc}") from None
    jobs = (delayed(_fit_and_score_fold)(config, train.iloc[a], train.iloc[b]) for a, b in splits)
    results = Parallel(n_jobs=min(folds, os.cpu_count() or 1))(jobs)
    values: dict[str, list[float]] = {}
    for r in results:
        for key in ("macro_f1", "weighted_f1", "accuracy", "log_loss", "ece"):
            values.setdefault(key, []).append(r[key])
        for label, c in r["per_class"].items():
            values.setdefault(f"f1_{label}", []).append(c["f1"])
    return {
        "folds": folds,
        "metrics": {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in values.items()
        },
    }


def _prediction_rows(
    name: str, frame: pd.DataFrame, proba: np.ndarray, labels: list[str]
) -> list[str]:
    rows = []
    for (text, doc, label), p in zip(
        frame[["text", "doc_id", "label"]].itertuples(index=False), proba, strict=True
    ):
        record = {
            "set": name,
            "text": text,
            "doc_id": doc,
            "label": label,
            "pred": labels[int(p.argmax())],
            "scores": {k: round(float(v), 5) for k, v in zip(labels, p, strict=True)},
        }
        rows.append(json.dumps(record, ensure_ascii=False))
    return rows


def evaluate_fitted(
    pipeline: Any,
    config: RunConfig,
    train: pd.DataFrame,
    test: pd.DataFrame,
    extra: dict[str, pd.DataFrame],
    decoder: ArticleDecoder | None = None,
) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Every metric of a fitted pipeline, the test probabilities and the prediction records.

    With an article ``decoder`` the test split is scored as it ships: each article decoded as a
    sequence. Extra sets are lone units, which the article pass leaves as they are.
    """
    labels = [str(c) for c in pipeline.classes_]
    n_boot = config.evaluation.bootstrap
    test_proba = pipeline.predict_proba(test[FRAME_COLUMNS])
    if decoder is not None:
        test_proba = decoder.decode_frame(test, test_proba)
    metrics: dict[str, Any] = {
        "n_train": len(train),
        "n_train_articles": int(train["doc_id"].nunique()),
        "test": score(
            test["label"], test_proba, labels, groups=test["doc_id"].tolist(), n_bootstrap=n_boot
        ),
        "extra_sets": {},
    }
    for column in ("domain", "genre"):
        if column in test.columns and test[column].notna().any():
            metrics["test"][f"by_{column}"] = score_groups(test, test_proba, labels, column)
    predictions = _prediction_rows("test", test, test_proba, labels)
    for path, frame in extra.items():
        proba = pipeline.predict_proba(isolated(frame)[FRAME_COLUMNS])
        metrics["extra_sets"][path] = score(frame["label"], proba, labels, n_bootstrap=n_boot)
        predictions += _prediction_rows(path, frame, proba, labels)
    threshold = config.evaluation.min_confidence
    metrics["abstention"] = coverage_at(test["label"], test_proba, labels, threshold)
    metrics["coverage_curve"] = coverage_curve(test["label"], test_proba, labels)
    metrics["confident_errors"] = most_confident_errors(
        test["text"].tolist(),
        test["label"].to_numpy(),
        test_proba,
        labels,
        test["doc_id"].tolist(),
    )
    return metrics, test_proba, predictions


def format_report(metrics: dict[str, Any]) -> str:
    """The text tables a run prints: test split, extra sets, abstention and cross-validation."""
    parts = [format_metrics(metrics["test"], "test split")]
    parts += [format_metrics(m, p) for p, m in metrics["extra_sets"].items()]
    a = metrics["abstention"]
    parts.append(
        f"abstaining below {a['min_confidence']:.2f}: coverage {a['coverage']:.3f}, "
        f"accuracy {a['accuracy']:.3f}"
    )
    if "cv" in metrics:
        cv = metrics["cv"]["metrics"]
        parts.append(
            f"cross-validation ({metrics['cv']['folds']} folds by article): "
            + ", ".join(f"{k} {v['mean']:.3f} ± {v['std']:.3f}" for k, v in cv.items())
        )
    return "\n\n".join(parts)


def run(config: RunConfig, output: Path | None = None, progress: bool = True) -> RunResult:
    """Train, evaluate and package one config; returns where the package went and its metrics."""
    resolve_params(config)
    pipeline = build_pipeline(config)
    out_dir = Path(output) if output else config.output_dir
    timer = StageTimer(progress)
    stream = CorpusStream(config) if config.training.streaming else None
    searched: SearchResult | None = None
    try:
        with timer.stage("load data"):
            data = stream.survey() if stream else load_units(config.data)
            extra = {
                path: read_labelled_jsonl(path, config.data.labels)
                for path in config.evaluation.extra_sets
            }
        with timer.stage("split"):
            frame = data.frame
            frame["split"] = assign_splits(frame, config.data)
            train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
            if (train.empty and not stream) or test.empty:
                raise DataError(f"{config.data.source}: the train or test split is empty")
            trained = stream.counts.labels if stream else train["label"]
            missing = set(config.data.labels) - set(trained)
            if missing:
                raise DataError(f"no training units of label(s) {sorted(missing)}")
        with timer.stage("fit"), joblib_backend(config.parallel):
            if stream:
                stream.fit(pipeline, progress)
            elif config.search.params:
                X, y = training_frame(train, config), training_labels(train, config)
                searched = search_pipeline(pipeline, config, X, y, train["doc_id"])
                searched.apply_to(config)
                pipeline = searched.best
            else:
                fit_pipeline(pipeline, train, config)
            decoder = fit_article_pass(train, config, [str(c) for c in pipeline.classes_])
        with timer.stage("evaluate"), joblib_backend(config.parallel):
            metrics, test_proba, predictions = evaluate_fitted(
                pipeline, config, train, test, extra, decoder
            )
            if stream:
                metrics.update(stream.train_metrics())
            if searched:
                metrics["search"] = searched.metrics_entry(config)
            if config.evaluation.cv_folds:
                metrics["cv"] = cross_validate(config, train, config.evaluation.cv_folds)
        with timer.stage("package"):
            labels = [str(c) for c in pipeline.classes_]
            manifest = {
                "name": config.name,
                "version": config.version,
                "labels": labels,
                "config": config.to_dict(),
                "data": {"files": fingerprint(data.files), "skipped": len(data.skipped)},
                "metrics": {
                    "test_macro_f1": metrics["test"]["macro_f1"],
                    "test_macro_f1_ci95": metrics["test"].get("macro_f1_ci95"),
                    **{f"{p}_macro_f1": m["macro_f1"] for p, m in metrics["extra_sets"].items()},
                },
                "timings_s": timer.times,
            }
            if decoder is not None:
                manifest["article_pass"] = decoder.to_dict()
            if searched:
                manifest["search"] = searched.manifest_entry(config)
            documents = {
                "metrics.json": json.dumps(metrics, indent=2),
                "predictions.jsonl": "\n".join(predictions) + "\n",
                "config.yaml": yaml.safe_dump(config.to_dict(), sort_keys=False),
                "MODEL_CARD.md": model_card(manifest, metrics),
                "report.html": render_report(manifest, metrics, test["label"].tolist(), test_proba),
            }
            save_package(pipeline, out_dir, manifest, documents, config.output.format)
    finally:
        timer.close()
    metrics["timings_s"] = timer.times
    return RunResult(out_dir, metrics, format_report(metrics))
