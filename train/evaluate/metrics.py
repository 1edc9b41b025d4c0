"""Scores of a fitted model on labelled units: per-class metrics, calibration and a bootstrap interval."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)

from ..features.base import FRAME_COLUMNS, isolated


def calibration_bins(
    y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str], bins: int = 10
) -> list[dict[str, float]]:
    """Mean confidence, accuracy and share of units in each non-empty equal-width confidence bin."""
    proba = np.asarray(proba, dtype=float)
    confidence = proba.max(axis=1)
    predicted = np.asarray(labels)[proba.argmax(axis=1)]
    correct = predicted == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 joins the first bin.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                {
                    "confidence": float(confidence[mask].mean()),
                    "accuracy": float(correct[mask].mean()),
                    "count": int(mask.sum()),
                    "share": float(mask.mean()),
                }
            )
    return out


def expected_calibration_error(
    y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str], bins: int = 10
) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    return float(
        sum(
            b["share"] * abs(b["confidence"] - b["accuracy"])
            for b in calibration_bins(y_true, proba, labels, bins)
        )
    )


def bootstrap_macro_f1(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[Any] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of macro-F1, resampling whole articles where ``groups`` are given.

    Each resampling unit's confusion counts are computed once; a resample's confusion matrix is
    its draw counts times those, so resamples cost array products instead of one ``f1_score``
    call each (the same draws and the same figures).
    """
    labels = list(labels)
    k = len(labels)
    code = {label: i for i, label in enumerate(labels)}
    true_codes = np.asarray([code.get(y, -1) for y in y_true])
    pred_codes = np.asarray([code.get(y, -1) for y in y_pred])
    members = _groups_to_members(len(true_codes), groups)
    owner = np.empty(len(true_codes), dtype=np.int64)
    for g, rows in enumerate(members):
        owner[rows] = g
    known = (true_codes >= 0) & (pred_codes >= 0)
    cells = true_codes[known] * k + pred_codes[known]
    per_group = np.zeros((len(members), k * k))
    np.add.at(per_group, (owner[known], cells), 1.0)
    rng = np.random.default_rng(seed)
    scores = np.empty(n_resamples)
    chunk = max(1, 2_000_000 // max(len(members), 1))
    for first in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - first)
        picked = rng.integers(0, len(members), size=(size, len(members)))
        offsets = (np.arange(size) * len(members))[:, None]
        draws = np.bincount((picked + offsets).ravel(), minlength=size * len(members))
        confusion = (draws.reshape(size, len(members)) @ per_group).reshape(size, k, k)
        tp = np.diagonal(confusion, axis1=1, axis2=2)
        denominator = confusion.sum(axis=2) + confusion.sum(axis=1)
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        scores[first : first + size] = f1.mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(scores, [tail, 100 - tail])
    return float(low), float(high)


def score(
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: Sequence[str],
    groups: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
) -> dict[str, Any]:
    """Every metric of one labelled set, as JSON-ready data."""
    labels = list(labels)
    proba = np.asarray(proba, dtype=float)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(labels)[proba.argmax(axis=1)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    metrics: dict[str, Any] = {
        "n": len(y_true),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "weighted_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)
        ),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            label: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "log_loss": float(log_loss(y_true, np.clip(proba, 1e-15, 1), labels=labels)),
        "ece": expected_calibration_error(y_true, proba, labels),
    }
    present = [i for i, label in enumerate(labels) if (y_true == label).any()]
    if len(present) == len(labels):
        metrics["roc_auc_ovr"] = float(
            roc_auc_score(y_true, proba, multi_class="ovr", labels=labels)
        )
    if n_bootstrap:
        low, high = bootstrap_macro_f1(y_true, y_pred, labels, groups, n_bootstrap)
        metrics["macro_f1_ci95"] = [low, high]
    return metrics


Context = Literal["auto", "article", "lone"]
GROUP_COLUMNS = ("source", "domain", "genre")


def evaluate_set(
    proba_of: Callable[[pd.DataFrame], np.ndarray],
    frame: pd.DataFrame,
    labels: Sequence[str],
    context: Context = "auto",
    n_bootstrap: int = 1000,
) -> tuple[dict[str, Any], np.ndarray]:
    """Score one labelled set the one way every caller does: ``metrics.json``, ``winnow evaluate``
    and the benchmarks.

    ``context`` says how units are read: ``article`` keeps the article columns, so position and
    neighbour features see the article; ``lone`` drops them, as lone sentences arrive; ``auto``
    is ``article`` where the file has any ``doc_id``. The bootstrap resamples articles where units
    are read in their article, units otherwise. Both choices are recorded in the metrics, which
    come back with the probabilities.
    """
    has_articles = bool(frame["doc_id"].notna().any())
    if context == "auto":
        context = "article" if has_articles else "lone"
    if context == "article" and not has_articles:
        raise ValueError("context 'article' needs a doc_id column")
    units = frame[FRAME_COLUMNS]
    proba = proba_of(isolated(units) if context == "lone" else units)
    groups = frame["doc_id"].tolist() if context == "article" else None
    metrics = score(frame["label"], proba, labels, groups=groups, n_bootstrap=n_bootstrap)
    metrics["context"] = context
    metrics["bootstrap_by"] = "article" if groups is not None else "unit"
    for column in GROUP_COLUMNS:
        if column in frame.columns and frame[column].nunique() > 1:
            metrics[f"by_{column}"] = score_groups(frame, proba, labels, column)
    return metrics, proba


def format_metrics(metrics: dict[str, Any], title: str) -> str:
    """Per-class table, summary line and confusion matrix as plain text."""
    labels = metrics["labels"]
    corner = "true \\ pred"
    width = max(len(label) for label in [*labels, corner]) + 2
    how = ""
    if "context" in metrics:
        how = f", read {'in their articles' if metrics['context'] == 'article' else 'alone'}"
        how += f", bootstrap by {metrics['bootstrap_by']}"
    lines = [f"== {title} ({metrics['n']} units{how})"]
    lines.append(f"{'':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label in labels:
        c = metrics["per_class"][label]
        lines.append(
            f"{label:<{width}}{c['precision']:>10.3f}{c['recall']:>10.3f}"
            f"{c['f1']:>10.3f}{c['support']:>10d}"
        )
    summary = f"macro-F1 {metrics['macro_f1']:.3f}"
    if "macro_f1_ci95" in metrics:
        low, high = metrics["macro_f1_ci95"]
        summary += f" [95% CI {low:.3f}-{high:.3f}]"
    summary += f"  accuracy {metrics['accuracy']:.3f}  ECE {metrics['ece']:.3f}"
    lines.append(summary)
    lines.append(f"{corner:<{width}}" + "".join(f"{label:>13}" for label in labels))
    for label, row in zip(labels, metrics["confusion"], strict=False):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>13d}" for v in row))
    return "\n".join(lines)


def score_groups(
    frame: pd.DataFrame, proba: np.ndarray, labels: Sequence[str], column: str
) -> dict[str, dict[str, Any]]:
    """Accuracy and macro-F1 (over the labels present) of each value of ``column``, e.g. per source."""
    y_true = frame["label"].to_numpy()
    y_pred = np.asarray(labels)[np.asarray(proba).argmax(axis=1)]
    out = {}
    for value in sorted(frame[column].dropna().unique(), key=str):
        mask = (frame[column] == value).to_numpy()
        present = sorted(set(y_true[mask]))
        # Over one label, "macro-F1" is that label's F1 with precision 1: accuracy says it better.
        macro = (
            f1_score(y_true[mask], y_pred[mask], labels=present, average="macro", zero_division=0)
            if len(present) > 1
            else None
        )
        out[str(value)] = {
            "n": int(mask.sum()),
            "labels": present,
            "accuracy": float(accuracy_score(y_true[mask], y_pred[mask])),
            "macro_f1": None if macro is None else float(macro),
        }
    return out


def format_groups(groups: dict[str, dict[str, Any]], column: str) -> str:
    """One line per group: units, labels present, accuracy and macro-F1."""
    width = max(len(k) for k in [*groups, column]) + 2
    lines = [f"{column:<{width}}{'units':>7}{'accuracy':>10}{'macro-F1':>10}  labels"]
    for name, m in groups.items():
        macro = f"{m['macro_f1']:>10.3f}" if m["macro_f1"] is not None else f"{'-':>10}"
        lines.append(
            f"{name:<{width}}{m['n']:>7d}{m['accuracy']:>10.3f}{macro}  " + ",".join(m["labels"])
        )
    return "\n".join(lines)


def coverage_at(
    y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str], min_confidence: float
) -> dict[str, float]:
    """Share of units whose top score reaches ``min_confidence`` and the accuracy on those."""
    proba = np.asarray(proba, dtype=float)
    kept = proba.max(axis=1) >= min_confidence
    predicted = np.asarray(labels)[proba.argmax(axis=1)]
    correct = predicted == np.asarray(y_true)
    return {
        "min_confidence": float(min_confidence),
        "coverage": float(kept.mean()) if len(kept) else 0.0,
        "accuracy": float(correct[kept].mean()) if kept.any() else float("nan"),
    }


def coverage_curve(
    y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str], steps: int = 20
) -> list[dict[str, float]]:
    """Coverage and accuracy as the abstention threshold rises from chance to certainty."""
    low = 1.0 / len(labels)
    return [coverage_at(y_true, proba, labels, float(t)) for t in np.linspace(low, 0.99, steps)]


def paired_bootstrap(
    y_true: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[Any] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Macro-F1 of B minus A on the same units, with a 95% interval and a two-sided p-value.

    Both runs are scored on each resample (of articles where ``groups`` are given), so the test
    accounts for their correlation.
    """
    y_true, pred_a, pred_b = map(np.asarray, (y_true, pred_a, pred_b))
    labels = list(labels)

    def macro(y: np.ndarray, p: np.ndarray) -> float:
        return float(f1_score(y, p, labels=labels, average="macro", zero_division=0))

    observed = macro(y_true, pred_b) - macro(y_true, pred_a)
    members = _groups_to_members(len(y_true), groups)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_resamples)
    for r in range(n_resamples):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        diffs[r] = macro(y_true[rows], pred_b[rows]) - macro(y_true[rows], pred_a[rows])
    low, high = np.percentile(diffs, [2.5, 97.5])
    tail = min((diffs <= 0).mean(), (diffs >= 0).mean())
    return {
        "difference": observed,
        "ci95": [float(low), float(high)],
        "p_value": float(min(1.0, 2 * tail)),
    }


def mcnemar(
    y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str]
) -> dict[str, float]:
    """Exact McNemar test on the units that exactly one of two runs gets right."""
    from scipy.stats import binomtest

    y_true, pred_a, pred_b = map(np.asarray, (y_true, pred_a, pred_b))
    a_only = int(((pred_a == y_true) & (pred_b != y_true)).sum())
    b_only = int(((pred_b == y_true) & (pred_a != y_true)).sum())
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(a_only, n, 0.5).pvalue)
    return {"a_only_correct": a_only, "b_only_correct": b_only, "p_value": p}


def _groups_to_members(n: int, groups: Sequence[Any] | None) -> list[np.ndarray]:
    """Row indices of each resampling unit: an article where a group is known, else one row."""
    if groups is None:
        return [np.array([i]) for i in range(n)]
    index: dict[Any, list[int]] = {}
    for i, g in enumerate(groups):
        key = ("unit", i) if g is None or g != g else ("doc", g)
        index.setdefault(key, []).append(i)
    return [np.asarray(v) for v in index.values()]
