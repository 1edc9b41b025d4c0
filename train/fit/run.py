"""One training run: config -> data -> pipeline -> fit -> evaluate -> package."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from ..config import RunConfig
from ..data.load import fingerprint, read_labelled_jsonl, splitter_only_rows
from ..data.split import assign_splits
from ..errors import DataError
from ..evaluate.metrics import (
    coverage_at,
    coverage_curve,
    evaluate_set,
    format_metrics,
    score,
    score_groups,
)
from ..evaluate.report import most_confident_errors, render_report
from ..evaluate.spans import (
    Span,
    check_span_labels,
    check_span_offsets,
    format_span_metrics,
    read_spans,
    score_spans,
)
from ..features.base import FRAME_COLUMNS
from ..inference.classifier import Classifier, FrameScorer
from ..inference.decode import ArticleDecoder, article_posteriors
from ..inference.predict import label_document, text_lengths
from ..package.card import model_card
from ..package.store import Manifest, check_identity, prepare_output, save_package
from .cv import CrossValidation, quiet
from .pipeline import build_pipeline, resolve_params
from .search import joblib_backend
from .training import training_for

logger = logging.getLogger(__name__)

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

    def beside(self, name: str, seconds: float) -> None:
        """Print the time of work that ran beside the stages (and is not part of their sum)."""
        tqdm.write(f"[winnow] {name} (beside the stages): {seconds:.1f}s", file=sys.stderr)

    def note(self, detail: str) -> None:
        """Say what the current stage is doing now (e.g. which fold), on the same bar."""
        self.bar.set_postfix_str(detail)

    def close(self) -> None:
        self.bar.close()


@dataclass
class RunResult:
    """What a run produced: the package folder and every metric it wrote."""

    output_dir: Path
    metrics: dict[str, Any]
    report: str


def fit_article_pass(
    train: pd.DataFrame, config: RunConfig, labels: list[str]
) -> ArticleDecoder | None:
    """The article decoder the config asks for, counted from the training articles (those that
    train the splitter alone left out), or None."""
    if config.article.decoder == "none":
        return None
    counted = train["doc_id"].notna().to_numpy() & ~splitter_only_rows(train)
    articles = train[counted].sort_values(["doc_id", "position"], kind="stable")
    sequences = articles.groupby("doc_id", sort=False)["label"].agg(list)
    return ArticleDecoder(strength=config.article.strength).fit(sequences, labels)


def shipped_proba(
    pipeline: Any, decoder: ArticleDecoder | None
) -> Callable[[pd.DataFrame], np.ndarray]:
    """Scores as the package gives them: the pipeline's, then, in each article, the opinion
    expert's split of an opinion piece and the article pass, where the model has them."""
    scorer = FrameScorer(pipeline)
    if decoder is None and scorer.router is None:
        return pipeline.predict_proba

    def proba(units: pd.DataFrame) -> np.ndarray:
        scores, share = scorer.scores(units)
        return article_posteriors(units, scores, decoder, scorer.router, share)

    return proba


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
    test: pd.DataFrame,
    extra: dict[str, pd.DataFrame],
    dev: pd.DataFrame | None = None,
    note: Callable[[str], None] = quiet,
    decoder: ArticleDecoder | None = None,
) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Every metric of a fitted pipeline, the test probabilities and the prediction records.

    The dev split, held out from training like the test split, is scored too where it has units.
    ``note`` hears which set is being scored. With an article ``decoder`` every set is scored as
    the package ships: units of an article decoded as a sequence, lone units as they are.
    """
    labels = [str(c) for c in pipeline.classes_]
    n_boot = config.evaluation.bootstrap
    proba_of = shipped_proba(pipeline, decoder)
    note(f"test split ({len(test):,} units, {n_boot} bootstrap samples)")
    test_proba = proba_of(test[FRAME_COLUMNS])
    metrics: dict[str, Any] = {
        "test": score(
            test["label"], test_proba, labels, groups=test["doc_id"].tolist(), n_bootstrap=n_boot
        ),
        "extra_sets": {},
    }
    for column in ("domain", "genre"):
        if column in test.columns and test[column].notna().any():
            metrics["test"][f"by_{column}"] = score_groups(test, test_proba, labels, column)
    predictions = _prediction_rows("test", test, test_proba, labels)
    if dev is not None and len(dev):
        note(f"dev split ({len(dev):,} units)")
        metrics["dev"], _ = evaluate_set(proba_of, dev, labels, n_bootstrap=n_boot)
    for path, frame in extra.items():
        note(f"{path} ({len(frame):,} units)")
        metrics["extra_sets"][path], proba = evaluate_set(
            proba_of, frame, labels, n_bootstrap=n_boot
        )
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


SpanSets = dict[str, tuple[list[Span], dict[str, Path], bool]]


def read_span_sets(config: RunConfig) -> SpanSets:
    """The span-labelled document sets the config names, read (and checked) before any fit."""
    found: SpanSets = {}
    for s in config.evaluation.span_sets:
        spans, documents = read_spans(Path(s.labels))
        check_span_labels(spans, Path(s.labels), config.data.labels, s.content_vs_boilerplate)
        check_span_offsets(spans, Path(s.labels), text_lengths(documents))
        found[s.labels] = (spans, documents, s.content_vs_boilerplate)
    return found


def evaluate_span_sets(
    pipeline: Any, config: RunConfig, decoder: ArticleDecoder | None, span_sets: SpanSets
) -> dict[str, dict[str, Any]]:
    """Span scores of each whole-document set, every document labelled as the package will label
    it (``label_article``: segmentation, context and the article pass)."""
    if not span_sets:
        return {}
    manifest = {
        "config": config.to_dict(),
        **({"article_pass": decoder.to_dict()} if decoder else {}),
    }
    labeller = Classifier(pipeline, manifest)
    found = {}
    for path, (spans, documents, content_vs_boilerplate) in span_sets.items():
        units = {name: label_document(labeller, str(doc)) for name, doc in documents.items()}
        found[path] = score_spans(spans, units, content_vs_boilerplate)
    return found


def headline_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures a manifest carries: macro-F1 of the test, dev and extra sets, and the span
    sets' macro-F1 (balanced accuracy where they are scored as content vs boilerplate)."""
    spans = {}
    for path, m in metrics.get("span_sets", {}).items():
        key = "balanced_accuracy" if m["content_vs_boilerplate"] else "macro_f1"
        spans[f"{path}_{key}"] = m[key]
    return {
        "test_macro_f1": metrics["test"]["macro_f1"],
        "test_macro_f1_ci95": metrics["test"].get("macro_f1_ci95"),
        "dev_macro_f1": metrics.get("dev", {}).get("macro_f1"),
        **{f"{p}_macro_f1": m["macro_f1"] for p, m in metrics["extra_sets"].items()},
        **spans,
    }


def format_report(metrics: dict[str, Any]) -> str:
    """The text tables a run prints: test split, extra sets, abstention and cross-validation."""
    parts = [format_metrics(metrics["test"], "test split")]
    if "dev" in metrics:
        parts.append(format_metrics(metrics["dev"], "dev split"))
    parts += [format_metrics(m, p) for p, m in metrics["extra_sets"].items()]
    parts += [format_span_metrics(m, p) for p, m in metrics.get("span_sets", {}).items()]
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


def _start_folds(config: RunConfig, train: pd.DataFrame) -> CrossValidation | None:
    """The cross-validation, started now so that its folds use the cores the final fit leaves
    idle; None where there is none, or where a search will settle the config during the fit."""
    if not config.evaluation.cv_folds or config.search.params:
        return None
    return CrossValidation(config, train, config.evaluation.cv_folds)


def run(
    config: RunConfig, output: Path | None = None, progress: bool = True, force: bool = False
) -> RunResult:
    """Train, evaluate and package one config; returns where the package went and its metrics.

    The output must be missing, an empty folder or a package; ``force`` moves anything else aside.
    """
    resolve_params(config)
    pipeline = build_pipeline(config)
    out_dir = Path(output) if output else config.output_dir
    check_identity({"name": config.name, "version": config.version}, "config")
    backup = prepare_output(out_dir, force=force)
    if backup is not None:
        logger.warning("moved the previous contents of %s to %s", out_dir, backup)
    timer = StageTimer(progress)
    training = training_for(config)
    try:
        with timer.stage("load data"):
            data = training.load()
            extra = {
                path: read_labelled_jsonl(path, config.data.labels)
                for path in config.evaluation.extra_sets
            }
            span_sets = read_span_sets(config)
        with timer.stage("split"):
            frame = data.frame
            frame["split"] = assign_splits(frame, config.data)
            train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
            dev = frame[frame["split"] == "dev"]
            if test.empty:
                raise DataError(f"{config.data.source}: the test split is empty")
            missing = set(config.data.labels) - set(training.trained_labels(train))
            if missing:
                raise DataError(f"no training units of label(s) {sorted(missing)}")
        with joblib_backend(config.parallel), ExitStack() as on_exit:
            with timer.stage("fit"):
                folds = _start_folds(config, train)
                if folds is not None:
                    on_exit.callback(folds.cancel)
                pipeline = training.fit(pipeline, train, progress)
                decoder = fit_article_pass(train, config, [str(c) for c in pipeline.classes_])
            with timer.stage("evaluate"):
                metrics, test_proba, predictions = evaluate_fitted(
                    pipeline, config, test, extra, dev, timer.note, decoder
                )
                metrics.update(training.metrics(train))
                if span_sets:
                    timer.note(f"{len(span_sets)} span-labelled document set(s)")
                    metrics["span_sets"] = evaluate_span_sets(pipeline, config, decoder, span_sets)
                if config.evaluation.cv_folds:
                    folds = folds or CrossValidation(config, train, config.evaluation.cv_folds)
                    metrics["cv"] = folds.summary(timer.note)
                    timer.beside("cross-validation", folds.elapsed_s)
        with timer.stage("package"):
            manifest = Manifest(
                name=config.name,
                version=config.version,
                labels=[str(c) for c in pipeline.classes_],
                config=config.to_dict(),
                data={"files": fingerprint(data.files), "skipped": len(data.skipped)},
                metrics=headline_metrics(metrics),
                extra={
                    **training.manifest(),
                    **({"article_pass": decoder.to_dict()} if decoder else {}),
                },
            )
            documents = {
                "metrics.json": json.dumps(metrics, indent=2),
                "predictions.jsonl": "\n".join(predictions) + "\n",
                "config.yaml": yaml.safe_dump(config.to_dict(), sort_keys=False),
                "MODEL_CARD.md": model_card(manifest.to_dict(), metrics),
                "report.html": render_report(
                    manifest.to_dict(), metrics, test["label"].tolist(), test_proba
                ),
            }
            save_package(pipeline, out_dir, manifest.to_dict(), documents, config.output.format)
    finally:
        timer.close()
    metrics["timings_s"] = timer.times
    return RunResult(out_dir, metrics, format_report(metrics))
