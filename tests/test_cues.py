"""Cue lexicons: golden vectors pin each version; cues.v2 is cues.v1 for a batch, clitics added."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from winnow.features.batch_cues import batch_cue_matrix
from winnow.features.context import (
    LAYOUT_CUES,
    BatchContextFeatures,
    ContextFeatures,
    NeighbourhoodFeatures,
)
from winnow.features.cues import (
    _RATE_LEXICONS,
    CUE_NAMES,
    IMPERATIVE_START,
    PRESENT_COPULA,
    STYLE_NAMES,
    _cue_matrix,
    text_style,
)
from winnow.registry import featurizers

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "He'll resign tomorrow, officials said.",
    "Subscribe to our newsletter!",
    "© 2019 Example News. All rights reserved.",
    "We're sure it's a disaster, and you'll agree?",
    "Prices rose 5% to $3 million at 10:30 am.",
]
_ = 0.0
GOLDEN_V1 = [
    [_, _, _, _, _, _, 0.3333, _, 0.3333, _, _, _, _, _, _, _, _, _, _, 1, 0.4077, _, 0.2, _, _],
    [_, _, _, 0.3333, _, 1, _, 0.6667, _, _, _, _, _, _, _, _, _, _, 1, 1, 0.3662, _, 0.25, _, _],
    [_, _, _, _, _, _, _, 0.6667, _, _, _, 1, 1, 1, _, _, _, _, _, 1, 0.4428, _, 0.6, _, _],
    [
        _,
        _,
        0.3333,
        0.3333,
        0.3333,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        1,
        _,
        1,
        0.5,
        _,
        0.125,
        _,
        _,
    ],
    [_, _, _, _, _, _, _, _, _, _, _, _, _, 1, 1, 1, _, _, _, 1, 0.5457, _, 0.1667, _, _],
]
# v2 differs only where a clitic is a lexicon word: "'ll" is a modal of the future.
GOLDEN_V2 = [list(row) for row in GOLDEN_V1]
GOLDEN_V2[0][0] = GOLDEN_V2[3][0] = 0.3333

# The v1 lexicons, as shipped with models trained on cues.v1. Editing a lexicon changes every such
# model: register a new cues.vN for the new lexicon instead, and leave this pin alone.
V1_LEXICONS_SHA256 = "8b4e640487d480437fc24bd87233ceffaa8e7acd31fe06d6296bacf1421a4a4d"


def test_cues_v1_golden_vectors() -> None:
    np.testing.assert_allclose(_cue_matrix(SENTENCES), GOLDEN_V1, atol=5e-5)


def test_cues_v2_golden_vectors_count_the_clitic_ll() -> None:
    np.testing.assert_allclose(batch_cue_matrix(SENTENCES), GOLDEN_V2, atol=5e-5)


def test_v1_lexicons_are_frozen() -> None:
    lexicons = repr([sorted(words) for words in (*_RATE_LEXICONS, IMPERATIVE_START)])
    assert hashlib.sha256(lexicons.encode()).hexdigest() == V1_LEXICONS_SHA256


def test_cues_v2_equals_v1_on_the_shipped_corpus_except_clitics() -> None:
    texts = []
    for path in [ROOT / "data/challenge.jsonl", *sorted((ROOT / "data/corpus").glob("*.jsonl"))]:
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()]
    texts += ["", "  ", "'", "_x", "A B C. )", 'He said "no."  ', "mail a@b.co now"]
    v1, v2 = _cue_matrix(texts), batch_cue_matrix(texts)
    differs = np.abs(v1 - v2).max(axis=0) > 1e-12
    assert [CUE_NAMES[k] for k in np.flatnonzero(differs)] == ["modal_future"]
    changed = np.flatnonzero(np.abs(v1 - v2).max(axis=1) > 1e-12)
    assert all("'ll" in texts[i].replace("’", "'").lower() for i in changed)


def test_style_v2_counts_the_copula_clitics_style_v1_cannot() -> None:
    assert {"'s", "'re"} <= PRESENT_COPULA
    copula = STYLE_NAMES.index("present_copula")
    text = "It's late and they're gone."
    assert text_style(text)[copula] == 0.0
    assert text_style(text, split_clitics=True)[copula] == 1.0


@pytest.mark.parametrize("name", ["cues.v1", "cues.v2"])
def test_cue_featurizers_are_registered_under_versioned_names(name: str) -> None:
    transformer, _columns = featurizers.build(name, {}, "features.0")
    frame_rows = transformer.fit_transform(SENTENCES)
    assert frame_rows.shape == (len(SENTENCES), len(CUE_NAMES))


def test_context_v2_equals_v1_on_shuffled_articles_except_clitics() -> None:
    rows = []
    for path in sorted((ROOT / "data/corpus").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    frame = pd.DataFrame(rows)[["text", "doc_id", "position", "doc_len"]]
    frame = frame.sample(frac=1, random_state=0)
    v1 = ContextFeatures(window=2).fit(frame).transform(frame)
    v2 = BatchContextFeatures(window=2).fit(frame).transform(frame).toarray()
    names = ContextFeatures(window=2).get_feature_names_out()
    differs = np.abs(v1 - v2).max(axis=0) > 1e-12
    assert {n.split("_", 1)[1] for n in names[differs]} == {"modal_future"}


def test_neighbourhood_is_the_mean_layout_of_the_units_around_each_unit() -> None:
    """On the shipped corpus, shuffled: each unit's features are the mean layout cues of the
    units of its own article within 8 positions, itself left out, counted one by one."""
    rows = []
    for path in sorted((ROOT / "data/corpus").glob("r5_*.jsonl"))[:2]:
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    frame = pd.DataFrame(rows)[["text", "doc_id", "position", "doc_len"]]
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    got = NeighbourhoodFeatures(span=8).fit(frame).transform(frame).toarray()
    cues = batch_cue_matrix(frame["text"].tolist())[:, [CUE_NAMES.index(c) for c in LAYOUT_CUES]]
    for i in range(0, len(frame), 97):
        same = (frame["doc_id"] == frame.at[i, "doc_id"]).to_numpy()
        near = same & (np.abs(frame["position"] - frame.at[i, "position"]) <= 8).to_numpy()
        near[i] = False
        np.testing.assert_allclose(got[i, :-1], cues[near].mean(axis=0), atol=1e-12)
        assert got[i, -1] == 0.0


def test_a_lone_unit_or_a_one_unit_article_has_no_neighbourhood() -> None:
    frame = pd.DataFrame(
        {
            "text": ["Home | News | Sport", "Troops entered the town.", "A lone sentence."],
            "doc_id": ["a", "b", None],
            "position": [0, 0, None],
            "doc_len": [1, 1, None],
        }
    )
    features = NeighbourhoodFeatures(span=3, cues=("short_1_3_tokens",)).fit(frame)
    assert features.transform(frame).toarray().tolist() == [[0.0, 1.0]] * 3
    assert features.get_feature_names_out().tolist() == [
        "neighbourhood_short_1_3_tokens",
        "neighbourhood_alone",
    ]
