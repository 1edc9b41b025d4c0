"""Cross-validation folds featurized from work shared across folds, and started before the final
fit, score exactly as plain refits of the whole pipeline do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold
from winnow.config import RunConfig, load_config
from winnow.data.load import load_units
from winnow.data.split import article_groups, assign_splits
from winnow.errors import DataError
from winnow.fit.cv import CrossValidation, _fit_and_score_fold, summarise_folds
from winnow.fit.fold_features import SharedFeatures
from winnow.fit.pipeline import build_pipeline, resolve_params
from winnow.fit.run import run
from winnow.fit.training import training_frame, training_rows

# A slice of the shipped corpus, plain text and rendered HTML, so every default featurizer
# (DOM features included) sees real units and both of the default's source weights apply.
SOURCES = [
    "data/corpus/courts_disasters.jsonl",
    "data/corpus/r5_columns_a.jsonl",
    "data/corpus_html/html_blog.jsonl",
]


def default_config(
    overrides: list[str] | None = None, path: str = "configs/default.yaml"
) -> RunConfig:
    config = load_config(path, overrides or [])
    config.data.source = SOURCES
    resolve_params(config)
    return config


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    config = default_config()
    frame = load_units(config.data).frame
    frame["split"] = assign_splits(frame, config.data)
    return frame[frame["split"] == "train"]


def folds(train: pd.DataFrame, k: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    groups = article_groups(train)
    return list(GroupKFold(n_splits=k).split(np.zeros(len(train)), groups=groups))


def same_matrix(a: object, b: object) -> bool:
    return (
        a.shape == b.shape  # type: ignore[attr-defined]
        and a.dtype == b.dtype  # type: ignore[attr-defined]
        and all(
            np.array_equal(getattr(a, part), getattr(b, part))
            for part in ("indptr", "indices", "data")
        )
    )


def test_shared_fold_features_are_bit_for_bit_a_plain_refit(train: pd.DataFrame) -> None:
    config = default_config()
    shared = SharedFeatures.of(build_pipeline(config).steps[0][1], training_frame(train, config))
    assert shared is not None
    for fit_rows, held_rows in folds(train):
        union = build_pipeline(config).steps[0][1]
        expected = union.fit_transform(training_frame(train.iloc[fit_rows], config))
        found = shared.fit_transform(training_rows(train, fit_rows, config))
        assert found is not None
        fitted, matrix = found
        assert same_matrix(matrix, expected)
        held_out = train.iloc[held_rows]
        assert same_matrix(fitted.transform(held_out), union.transform(held_out))


def test_fold_scores_equal_plain_refits_of_the_whole_pipeline(train: pd.DataFrame) -> None:
    config = default_config(["evaluation.cv_folds=3"])
    plain = [_fit_and_score_fold(config, train.iloc[a], train.iloc[b]) for a, b in folds(train)]
    started = CrossValidation(config, train, 3)
    assert started.summary() == summarise_folds(plain)


def test_a_featurizer_that_learns_from_the_corpus_is_refitted_per_fold(
    train: pd.DataFrame,
) -> None:
    """A vocabulary TF-IDF has nothing to share: its folds take the plain refit and still agree."""
    config = default_config(["evaluation.cv_folds=2"], path="configs/tfidf_vocabulary.yaml")
    union = build_pipeline(config).steps[0][1]
    assert SharedFeatures.of(union, training_frame(train, config)) is None
    plain = [_fit_and_score_fold(config, train.iloc[a], train.iloc[b]) for a, b in folds(train, 2)]
    assert CrossValidation(config, train, 2).summary() == summarise_folds(plain)


def test_a_failed_final_fit_cancels_the_folds_quietly(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """The folds start before the final fit; when that fit fails the run says why, once, and the
    folds still running stop without joblib's warning about cancelled tasks."""
    rows = [
        {"text": f"Sentence {p} of article {d}.", "label": label, "doc_id": f"d{d}", "position": p}
        for d in range(16)
        for p, label in enumerate(["event", "opinion", "boilerplate"] * 3)
    ]
    data = tmp_path / "small.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(
        "configs/tfidf_vocabulary.yaml",
        [f"data.source=[{data}]", "data.split_column=null", "evaluation.extra_sets=[]"],
    )
    config.data.source_weights = {}
    config.evaluation.cv_folds = 2
    config.model.params["cv"] = 40
    with pytest.raises(DataError, match="folds need at least"):
        run(config, output=tmp_path / "out", progress=False)
    assert not [w for w in recwarn if "cancelled" in str(w.message)]
