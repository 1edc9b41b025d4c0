"""Packaged models on real third-party text, per set and per source, with the article pass on and off.

For each model: macro-F1 on the lone real sentences (overall and accuracy per source), balanced
accuracy (content vs boilerplate) on the whole real pages and on the same pages as raw HTML,
macro-F1 (event vs opinion) on the whole real editorials, scored as ``winnow evaluate --spans``
and ``score_docs.py`` score them, and the corpus test split from the package's metrics. Beside
them, soft figures: the mean score of the right label (content for pages), per label, then
averaged; they move smoothly where the hard figures move by whole spans, and tell a real gain from
units that merely cross the threshold. The real sets in ``../shared/eval`` are read for
measurement only; without them the script says so and exits 2.

For the editorials it also prints how well P(event | story) ranks the labelled sentences (ROC AUC)
and the best macro-F1 any single threshold on it gives: what a better-placed threshold could win,
and how far the ranking itself is from a target.

    .venv/bin/python benchmarks/documents.py models/default [MORE_MODELS] [--eval ../shared/eval]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from winnow import load_model
from winnow.data.load import read_labelled_jsonl
from winnow.evaluate.metrics import evaluate_set
from winnow.evaluate.spans import Span, covered_spans, read_spans, score_spans
from winnow.inference.classifier import Classifier
from winnow.inference.predict import read_article

DOCUMENT_SETS = {"pages": True, "articles": False}  # set -> read event and opinion as content


def score_documents(model: Classifier, eval_dir: Path) -> dict[str, Any]:
    """Every real-text figure of one loaded model, as it is configured now, hard and soft."""
    real = read_labelled_jsonl(eval_dir / "real_sentences.jsonl", model.labels)
    sentences, proba = evaluate_set(model.proba_frame, real, model.labels, n_bootstrap=0)
    right = proba[np.arange(len(real)), [model.labels.index(y) for y in real["label"]]]
    found: dict[str, Any] = {
        "real_macro_f1": sentences["macro_f1"],
        "real_by_source": {k: v["accuracy"] for k, v in sentences["by_source"].items()},
        "soft_real": float(pd.Series(right).groupby(real["source"].to_numpy()).mean().mean()),
    }
    for name, content in DOCUMENT_SETS.items():
        spans, files = read_spans(eval_dir / name / "labels.jsonl")
        units = {f: model.label_article(read_article(str(p)), doc=f) for f, p in files.items()}
        metrics = score_spans(spans, units, content_vs_boilerplate=content)
        key = "balanced_accuracy" if content else "macro_f1"
        found[name] = metrics[key]
        found[f"soft_{name}"] = metrics["soft_balanced_accuracy"]
        if not content:
            found["articles_event_f1"] = metrics["f1"].get("event")
            found.update(event_ranking(spans, units))
    return found


def event_ranking(spans: list[Span], units: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """ROC AUC of P(event | story) over event and opinion spans, and the best macro-F1 (event,
    opinion) that one threshold on it gives, with that threshold."""
    gold, share = [], []
    for span, _, scores in covered_spans(spans, units):
        if span.label not in ("event", "opinion"):
            continue
        story = scores.get("event", 0.0) + scores.get("opinion", 0.0)
        gold.append(span.label == "event")
        share.append(scores.get("event", 0.0) / story if story > 0 else 0.0)
    y, s = np.asarray(gold), np.asarray(share)
    order = np.argsort(-s, kind="stable")
    y_sorted, s_sorted = y[order], s[order]
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]  # cut only between distinct scores
    tp = np.cumsum(y_sorted)[last]
    fp = np.cumsum(~y_sorted)[last]
    fn, tn = y.sum() - tp, (~y).sum() - fp
    event_f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    opinion_f1 = 2 * tn / np.maximum(2 * tn + fn + fp, 1)
    best = int(np.argmax(event_f1 + opinion_f1))
    return {
        "articles_event_auc": float(roc_auc_score(y, s)),
        "articles_best_threshold_f1": float((event_f1[best] + opinion_f1[best]) / 2),
        "articles_best_threshold": float(s_sorted[last][best]),
    }


def html_page_figures(model: Classifier, eval_dir: Path) -> dict[str, float]:
    """Balanced accuracy (content vs boilerplate) on the raw HTML pages, scored by the evaluation
    folder's own ``score_docs.py``: each labelled string is found in the labelled units' text, and
    one found in no unit was dropped (boilerplate); and its soft figure, from the same units."""
    spec = importlib.util.spec_from_file_location("score_docs", eval_dir / "score_docs.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    spans, files = read_spans(eval_dir / "pages_html" / "labels.jsonl")
    units = {name: model.label_html(path.read_bytes(), doc=name)[1] for name, path in files.items()}
    recall: dict[str, list[bool]] = {"content": [], "boilerplate": []}
    for span in spans:
        label = scorer.string_label(units[span.file], span.text) or "boilerplate"
        content = label in ("event", "opinion")
        recall[span.label].append(content if span.label == "content" else not content)
    return {
        "pages_html": sum(sum(v) / len(v) for v in recall.values()) / len(recall),
        "soft_pages_html": score_spans(spans, units, True)["soft_balanced_accuracy"],
    }


def score_html_pages(model: Classifier, eval_dir: Path) -> float:
    """``html_page_figures``' balanced accuracy alone."""
    return html_page_figures(model, eval_dir)["pages_html"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--eval", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not (args.eval / "real_sentences.jsonl").is_file():
        print(f"{args.eval}: no real evaluation sets here; nothing to measure", file=sys.stderr)
        return 2
    rows = []
    print(
        "| model | article pass | test split | pages (balanced acc.) | editorials (macro-F1) "
        "| editorial event F1 | HTML pages (balanced acc.) | real sentences (macro-F1) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for path in args.models:
        model = load_model(path)
        test = model.manifest.get("metrics", {}).get("test_macro_f1")
        decoder, router = model.decoder, model.router
        for label, active in (("on", decoder), ("off", None)):
            if label == "on" and decoder is None:
                continue
            # "off": each unit on its own, without the article pass or the opinion expert.
            model.decoder, model.router = active, router if label == "on" else None
            figures = {
                "model": str(path),
                "article_pass": label,
                **score_documents(model, args.eval),
                **html_page_figures(model, args.eval),
            }
            rows.append(figures)
            print(
                f"| {path} | {label} | {test:.3f} | {figures['pages']:.3f} | "
                f"{figures['articles']:.3f} | {figures['articles_event_f1']:.3f} | "
                f"{figures['pages_html']:.3f} | {figures['real_macro_f1']:.3f} |"
            )
    print("\nSoft figures (mean score of the right label, per label, averaged):")
    for row in rows:
        print(
            f"- {row['model']} (article pass {row['article_pass']}): pages {row['soft_pages']:.4f}, "
            f"HTML pages {row['soft_pages_html']:.4f}, editorials {row['soft_articles']:.4f}, "
            f"real sentences {row['soft_real']:.4f}"
        )
    print("\nEditorials, ranking (P(event | story) over the labelled sentences):")
    for row in rows:
        print(
            f"- {row['model']} (article pass {row['article_pass']}): ROC AUC "
            f"{row['articles_event_auc']:.3f}; the best single threshold "
            f"({row['articles_best_threshold']:.2f}) gives macro-F1 "
            f"{row['articles_best_threshold_f1']:.3f}, against {row['articles']:.3f} as labelled"
        )
    print("\nReal sentences, accuracy per source:")
    for row in rows:
        sources = ", ".join(f"{k} {v:.3f}" for k, v in row["real_by_source"].items())
        print(f"- {row['model']} (article pass {row['article_pass']}): {sources}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
