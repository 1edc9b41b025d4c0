"""The article pass at several strengths, and a linear-chain CRF beside it, on real whole documents.

For a packaged model, refits the forward-backward decoder on the corpus train split at each
strength and prints the corpus test split's macro-F1, the real pages' balanced accuracy (content
vs boilerplate) and the real editorials' macro-F1, scored as ``winnow evaluate --spans`` scores
them. With ``--crf`` (needs ``pip install sklearn-crfsuite``) it also trains a linear-chain CRF on
out-of-fold scores of the training articles (5 folds by article; each unit's scores and its
neighbours') and scores it the same way. The real documents are read for measurement only.

    python benchmarks/article_pass.py models/default [--strengths 0 0.5 1] [--crf]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from winnow import load_model
from winnow.config import load_config
from winnow.data.load import load_units
from winnow.data.split import assign_splits
from winnow.evaluate.spans import read_spans, score_spans
from winnow.features.base import FRAME_COLUMNS
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.run import fit_article_pass
from winnow.fit.training import fit_pipeline
from winnow.inference.predict import read_article

SETS = {"pages": True, "articles": False}  # set -> read event and opinion as content


def crf_features(proba: np.ndarray, labels: list[str]) -> list[dict[str, float]]:
    """Each unit's scores and its neighbours' (crfsuite drops non-positive attribute values)."""
    rows = []
    for i in range(len(proba)):
        row = {"bias": 1.0}
        for offset in (-1, 0, 1):
            j = i + offset
            if 0 <= j < len(proba):
                row.update(
                    {f"{offset}:{y}": float(proba[j, k]) + 1e-6 for k, y in enumerate(labels)}
                )
            else:
                row[f"{offset}:none"] = 1.0
        rows.append(row)
    return rows


def fit_crf(config_path: Path, train: pd.DataFrame, labels: list[str]) -> object:
    """A CRF over out-of-fold scores of the training articles, folds by article."""
    import sklearn_crfsuite

    config = load_config(config_path, ["article.decoder=none"])
    resolve_params(config)
    articles = train[train["doc_id"].notna()].reset_index(drop=True)
    scores = np.zeros((len(articles), len(labels)))
    for fit_rows, held_out in GroupKFold(5).split(articles, groups=articles["doc_id"]):
        pipeline = fit_pipeline(build_pipeline(config), articles.iloc[fit_rows], config)
        scores[held_out] = pipeline.predict_proba(articles.iloc[held_out][FRAME_COLUMNS])
    X, y = [], []
    for _, rows in articles.groupby("doc_id", sort=False):
        rows = rows.sort_values("position")
        X.append(crf_features(scores[rows.index.to_numpy()], labels))
        y.append(rows["label"].tolist())
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.05, c2=0.05, max_iterations=200)
    return crf.fit(X, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--strengths", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    parser.add_argument("--crf", action="store_true", help="also a linear-chain CRF")
    parser.add_argument("--eval", type=Path, default=Path("../shared/eval"))
    args = parser.parse_args()

    model = load_model(args.model)
    model.decoder = None
    labels = model.labels
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(model.manifest["config"]), encoding="utf-8")
        config = load_config(config_path)
        data = load_units(config.data).frame
        split = assign_splits(data, config.data)
        train, test = data[split == "train"], data[split == "test"]
        test_scores = model.proba_frame(test[FRAME_COLUMNS])
        documents = {}
        for name in SETS:
            spans, files = read_spans(args.eval / name / "labels.jsonl")
            units = {n: model.label_article(read_article(str(p)), doc=n) for n, p in files.items()}
            documents[name] = (spans, units)
        crf = fit_crf(config_path, train, labels) if args.crf else None

    def scores_of(segments: list[dict]) -> np.ndarray:
        return np.array([[s["scores"][y] for y in labels] for s in segments]).reshape(
            -1, len(labels)
        )

    def report(name: str, test_pred: list[str] | None, decode: object) -> None:
        figures = []
        if test_pred is not None:
            figures.append(f"test split {f1_score(test['label'], test_pred, average='macro'):.3f}")
        for set_name, (spans, units) in documents.items():
            relabelled = {
                doc: [
                    {"start": s["start"], "end": s["end"], "label": y}
                    for s, y in zip(segments, decode(scores_of(segments)), strict=True)
                ]
                for doc, segments in units.items()
            }
            m = score_spans(spans, relabelled, content_vs_boilerplate=SETS[set_name])
            key = "balanced_accuracy" if SETS[set_name] else "macro_f1"
            figures.append(f"{set_name} {key.replace('_', ' ')} {m[key]:.3f}")
        print(f"{name:<28}" + "  ".join(figures), flush=True)

    for strength in args.strengths:
        config.article.decoder = "forward_backward" if strength > 0 else "none"
        config.article.strength = strength
        decoder = fit_article_pass(train, config, labels)
        test_scores_decoded = decoder.decode_frame(test, test_scores) if decoder else test_scores
        report(
            f"forward-backward {strength:g}" if decoder else "no article pass",
            [labels[i] for i in test_scores_decoded.argmax(axis=1)],
            lambda p, d=decoder: [labels[i] for i in (d.posteriors(p) if d else p).argmax(axis=1)],
        )
    if crf is not None:
        report(
            "linear-chain CRF",
            None,
            lambda p: (
                [max(m, key=m.get) for m in crf.predict_marginals_single(crf_features(p, labels))]
                if len(p)
                else []
            ),
        )


if __name__ == "__main__":
    main()
