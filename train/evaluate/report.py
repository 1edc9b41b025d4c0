"""report.html: one self-contained page (figures embedded as PNG data URIs) that explains a run."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import yaml
from sklearn.metrics import precision_recall_curve

from .metrics import calibration_bins

COLOURS = {"event": "#2f6db5", "opinion": "#d9822b", "boilerplate": "#8a8a8a"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #eee;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid #e5e5e5;
text-align:right;vertical-align:top}th{background:#f6f6f6}td.text,th.text{text-align:left;max-width:640px}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.figs img{max-width:520px;width:100%;border:1px solid #eee}
.muted{color:#666;font-size:.92rem}pre{background:#f6f6f6;padding:1rem;overflow:auto;font-size:.85rem}
.label{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff;font-size:.85rem}
"""


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def confusion_figure(confusion: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> str:
    """Heatmap of the confusion matrix, rows normalised, counts written in the cells."""
    matrix = np.asarray(confusion, dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(
                j,
                i,
                f"{int(matrix[i, j])}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                color=colour,
                fontsize=9,
            )
    return _png(fig)


def reliability_figure(y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str]) -> str:
    """Accuracy against confidence in ten bins: a calibrated model follows the diagonal."""
    bins = calibration_bins(y_true, proba, labels)
    centres = [b["confidence"] for b in bins]
    accuracy = [b["accuracy"] for b in bins]
    counts = [b["count"] for b in bins]
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999", label="perfect calibration")
    ax.plot(centres, accuracy, marker="o", color="#2f6db5", label="model")
    for x, y, n in zip(centres, accuracy, counts, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("confidence (top score)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("Reliability (test split)")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def pr_figure(y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str]) -> str:
    """One precision-recall curve per class, one class against the rest."""
    y_true = np.asarray(y_true)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    for k, label in enumerate(labels):
        precision, recall, _ = precision_recall_curve(y_true == label, np.asarray(proba)[:, k])
        ax.plot(recall, precision, label=label, color=COLOURS.get(label))
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("Precision-recall per class (test split)")
    ax.legend(loc="lower left", fontsize=8)
    return _png(fig)


def coverage_figure(curve: Sequence[dict[str, float]]) -> str:
    """Accuracy of the units kept against the share kept, as the abstention threshold rises."""
    fig, ax = plt.subplots(figsize=(4.6, 4))
    coverage = [c["coverage"] for c in curve]
    accuracy = [c["accuracy"] for c in curve]
    ax.plot(coverage, accuracy, marker=".", color="#2f6db5")
    for c in curve[:: max(len(curve) // 5, 1)]:
        ax.annotate(
            f"≥{c['min_confidence']:.2f}",
            (c["coverage"], c["accuracy"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xlabel("coverage (share of units labelled)")
    ax.set_ylabel("accuracy on labelled units")
    ax.set_xlim(0, 1.02)
    ax.set_title("Coverage-accuracy (test split)")
    return _png(fig)


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _metrics_table(sets: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, m in sets.items():
        ci = m.get("macro_f1_ci95")
        interval = f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else "–"
        per_class = " ".join(f"{label} {c['f1']:.3f}" for label, c in m["per_class"].items())
        rows.append(
            f"<tr><td class=text>{_esc(name)}</td><td>{m['n']}</td><td>{m['macro_f1']:.3f}</td>"
            f"<td>{interval}</td><td>{m['weighted_f1']:.3f}</td><td>{m['accuracy']:.3f}</td>"
            f"<td>{m['log_loss']:.3f}</td><td>{m['ece']:.3f}</td>"
            f"<td>{m.get('roc_auc_ovr', float('nan')):.3f}</td><td class=text>{per_class}</td></tr>"
        )
    return (
        "<table><tr><th class=text>set</th><th>units</th><th>macro-F1</th><th>95% CI</th>"
        "<th>weighted F1</th><th>accuracy</th><th>log loss</th><th>ECE</th><th>ROC-AUC</th>"
        "<th class=text>F1 per class</th></tr>" + "".join(rows) + "</table>"
    )


def _span_sets_table(span_sets: dict[str, dict[str, Any]]) -> str:
    """Whole documents scored by their labelled spans, one row a set."""
    rows = []
    for name, m in span_sets.items():
        per_label = " ".join(
            f"{label} F1 {m['f1'][label]:.3f} recall {m['recall'][label]:.3f}"
            for label in m["labels"]
        )
        mapping = "content vs boilerplate" if m["content_vs_boilerplate"] else "as labelled"
        rows.append(
            f"<tr><td class=text>{_esc(name)}</td><td>{m['n_files']}</td><td>{m['n_spans']}</td>"
            f"<td class=text>{mapping}</td><td>{m['macro_f1']:.3f}</td>"
            f"<td>{m['balanced_accuracy']:.3f}</td><td class=text>{_esc(per_label)}</td></tr>"
        )
    return (
        "<table><tr><th class=text>set</th><th>documents</th><th>spans</th><th class=text>read as"
        "</th><th>macro-F1</th><th>balanced accuracy</th><th class=text>per label</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _per_class_table(m: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td class=text>{_esc(label)}</td><td>{c['precision']:.3f}</td><td>{c['recall']:.3f}</td>"
        f"<td>{c['f1']:.3f}</td><td>{c['support']}</td></tr>"
        for label, c in m["per_class"].items()
    )
    return (
        "<table><tr><th class=text>label</th><th>precision</th><th>recall</th><th>F1</th>"
        f"<th>support</th></tr>{rows}</table>"
    )


def _groups_table(groups: dict[str, dict[str, Any]], column: str) -> str:
    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    ordered = sorted(groups.items(), key=lambda kv: (kv[1]["macro_f1"] or 0.0, kv[0]))
    rows = "".join(
        f"<tr><td class=text>{_esc(name)}</td><td>{g['n']}</td><td>{cell(g['macro_f1'])}</td>"
        f"<td>{cell(g['accuracy'])}</td></tr>"
        for name, g in ordered
    )
    return (
        f"<table><tr><th class=text>{column}</th><th>units</th><th>macro-F1</th>"
        f"<th>accuracy</th></tr>{rows}</table>"
    )


def _errors_table(errors: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{e['confidence']:.3f}</td><td class=text>{_label(e['label'])}</td>"
        f"<td class=text>{_label(e['pred'])}</td><td class=text>{_esc(e['text'])}</td>"
        f"<td class=text>{_esc(e.get('doc_id') or '')}</td></tr>"
        for e in errors
    )
    return (
        "<table><tr><th>confidence</th><th class=text>true</th><th class=text>predicted</th>"
        f"<th class=text>text</th><th class=text>article</th></tr>{rows}</table>"
    )


def _label(label: str) -> str:
    return f"<span class=label style='background:{COLOURS.get(label, '#444')}'>{_esc(label)}</span>"


def _cv_table(cv: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td class=text>{_esc(k)}</td><td>{v['mean']:.3f}</td><td>{v['std']:.3f}</td></tr>"
        for k, v in cv["metrics"].items()
    )
    return (
        f"<p class=muted>{cv['folds']} folds by article over the train split.</p>"
        f"<table><tr><th class=text>metric</th><th>mean</th><th>std</th></tr>{rows}</table>"
    )


def most_confident_errors(
    texts: Sequence[str],
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: Sequence[str],
    doc_ids: Sequence[Any] | None = None,
    n: int = 30,
) -> list[dict[str, Any]]:
    """The ``n`` wrong predictions the model was surest of: where to look first."""
    proba = np.asarray(proba)
    predicted = np.asarray(labels)[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    return [
        {
            "text": texts[i],
            "label": str(y_true[i]),
            "pred": str(predicted[i]),
            "confidence": float(confidence[i]),
            "scores": {
                label: round(float(v), 4) for label, v in zip(labels, proba[i], strict=True)
            },
            "doc_id": None if doc_ids is None else doc_ids[i],
        }
        for i in order
    ]


def render_report(
    manifest: dict[str, Any],
    metrics: dict[str, Any],
    test_truth: Sequence[str],
    test_proba: np.ndarray,
) -> str:
    """The whole page as one HTML string."""
    labels = manifest["labels"]
    test = metrics["test"]
    sets = {"test split": test, **metrics.get("extra_sets", {})}
    threshold = metrics["abstention"]
    sections = [
        f"<h1>{_esc(manifest['name'])} {_esc(manifest['version'])}</h1>",
        f"<p class=muted>{_esc(manifest.get('config', {}).get('description', ''))} "
        f"Trained on {metrics['n_train']} units from {metrics['n_train_articles']} articles.</p>",
        "<h2 id=metrics>Metrics</h2>",
        _metrics_table(sets),
        "<h3>Test split per class</h3>",
        _per_class_table(test),
    ]
    if metrics.get("span_sets"):
        sections += [
            "<h2 id=documents>Whole documents (span-labelled)</h2>",
            "<p class=muted>Each document labelled in its context as <code>label_article</code> "
            "labels it; a span takes the label of the units covering most of it.</p>",
            _span_sets_table(metrics["span_sets"]),
        ]
    if "cv" in metrics:
        sections += ["<h2 id=cv>Cross-validation</h2>", _cv_table(metrics["cv"])]
    sections += [
        "<h2 id=figures>Confusion, calibration, precision-recall</h2><div class=figs>",
        f"<img alt='confusion matrix' src='{confusion_figure(test['confusion'], labels, 'Confusion (test split)')}'>",
        f"<img alt='reliability diagram' src='{reliability_figure(test_truth, test_proba, labels)}'>",
        f"<img alt='precision-recall curves' src='{pr_figure(test_truth, test_proba, labels)}'>",
        "</div>",
        "<h2 id=abstention>Abstention</h2>",
        f"<p>At <code>min_confidence</code> {threshold['min_confidence']:.2f} the model labels "
        f"{threshold['coverage']:.1%} of the test units, with accuracy {threshold['accuracy']:.3f}; "
        "the rest come out as <code>uncertain</code>.</p><div class=figs>",
        f"<img alt='coverage-accuracy curve' src='{coverage_figure(metrics['coverage_curve'])}'>",
        "</div>",
        "<h2 id=errors>The 30 most confident errors (test split)</h2>",
        _errors_table(metrics["confident_errors"]),
    ]
    for column in ("domain", "genre"):
        if f"by_{column}" in test:
            sections += [
                f"<h2 id=by-{column}>F1 per {column} (test split)</h2>",
                _groups_table(test[f"by_{column}"], column),
            ]
    sections += [
        "<h2 id=config>Config</h2>",
        f"<pre>{_esc(yaml.safe_dump(manifest['config'], sort_keys=False))}</pre>",
    ]
    body = "\n".join(sections)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>winnow report: {_esc(manifest['name'])}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
