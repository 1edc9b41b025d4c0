"""Hashed TF-IDF featurizers: the same n-gram counts as scikit-learn, deterministic, safe to load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from winnow.features.hashing import HashedTfidf, compiled_kernel, python_hash
from winnow.registry import trusted_types

ROOT = Path(__file__).resolve().parents[1]
TOKENS = r"(?u)\b\w+\b|[^\w\s]"


def real_texts() -> list[str]:
    """Shipped sentences with quotes, dashes, accents, numbers, URLs and page furniture."""
    lines = (ROOT / "data/challenge.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    return [*texts, "  Ünïcode\ttabs\n\nand  ÉCOLE — “quotes”  ", "", "a", "I", "x y"]


@pytest.mark.parametrize(
    ("analyzer", "ngram_range", "lowercase"),
    [("char_wb", (2, 5), False), ("char_wb", (1, 3), True), ("word", (1, 2), True)],
)
def test_counts_equal_scikit_learns_analyzer_counts(
    analyzer: str, ngram_range: tuple[int, int], lowercase: bool
) -> None:
    texts = real_texts()
    reference = CountVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        lowercase=lowercase,
        token_pattern=TOKENS if analyzer == "word" else None,
    )
    expected = reference.fit_transform(texts)
    n_features = 2**22
    featurizer = HashedTfidf(analyzer, ngram_range, n_features, 1, lowercase)
    kind = "word" if analyzer == "word" else "char_wb"
    buckets = [python_hash(t, kind) % n_features for t in reference.get_feature_names_out()]
    # Each scikit-learn term lands in its bucket, so collisions add up the same on both sides.
    to_buckets = sp.csr_matrix(
        (np.ones(len(buckets)), (np.arange(len(buckets)), buckets)),
        shape=(len(buckets), n_features),
    )
    got = featurizer._counts(texts)
    assert got.sum() == expected.sum() > 0
    assert abs(expected @ to_buckets - got).sum() == 0


def test_weights_match_tfidf_vectorizer_where_no_buckets_collide() -> None:
    texts = real_texts()[:200]
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    expected = reference.fit_transform(texts).toarray()
    featurizer = HashedTfidf("char_wb", (2, 4), 2**24, 1, lowercase=True)
    got = featurizer.fit_transform(texts)
    terms = reference.get_feature_names_out()
    buckets = np.array([python_hash(t, "char_wb") % 2**24 for t in terms])
    assert len(set(buckets.tolist())) == len(buckets), "pick a size without collisions"
    column = np.searchsorted(featurizer.buckets_, buckets)
    np.testing.assert_allclose(got.toarray()[:, column], expected, atol=1e-6)


def test_min_df_drops_rare_buckets_and_transform_needs_fit() -> None:
    texts = real_texts()
    with pytest.raises(NotFittedError):
        HashedTfidf().transform(texts)
    every = HashedTfidf(min_df=1).fit(texts)
    common = HashedTfidf(min_df=2).fit(texts)
    assert 0 < common.buckets_.size < every.buckets_.size
    assert common.transform(texts).shape == (len(texts), common.buckets_.size)


def test_hashes_are_the_same_in_another_process() -> None:
    code = (
        "from winnow.features.hashing import HashedTfidf;"
        "X = HashedTfidf('word', (1, 2)).fit(['Said the minister, twice.', 'Ça va?']);"
        "print(X.buckets_.tolist())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    expected = HashedTfidf("word", (1, 2)).fit(["Said the minister, twice.", "Ça va?"])
    assert runs == {f"{expected.buckets_.tolist()}\n"}


def test_a_fitted_featurizer_loads_with_only_the_registered_trusted_types(tmp_path: Path) -> None:
    texts = real_texts()
    featurizer = HashedTfidf(min_df=2).fit(texts)
    path = tmp_path / "hashed.skops"
    sio.dump(featurizer, path)
    untrusted = set(sio.get_untrusted_types(file=path)) - set(trusted_types())
    assert untrusted == set()
    loaded = sio.load(path, trusted=trusted_types())
    assert abs(loaded.transform(texts) - featurizer.transform(texts)).sum() == 0


@pytest.mark.parametrize(("analyzer", "ngram_range"), [("char_wb", (2, 5)), ("word", (1, 2))])
def test_compiled_kernel_gives_the_array_versions_features(
    analyzer: str, ngram_range: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("numba")
    texts = real_texts()
    featurizer = HashedTfidf(analyzer, ngram_range, min_df=2, lowercase=True).fit(texts)
    assert compiled_kernel() is not None
    with_kernel = featurizer.transform(texts[::-1])
    monkeypatch.setenv("WINNOW_NO_NUMBA", "1")
    compiled_kernel.cache_clear()
    try:
        assert compiled_kernel() is None
        with_arrays = featurizer.transform(texts[::-1])
    finally:
        monkeypatch.delenv("WINNOW_NO_NUMBA")
        compiled_kernel.cache_clear()
    assert with_kernel.shape == with_arrays.shape
    assert abs(with_kernel - with_arrays).max() == 0


@pytest.mark.parametrize(("analyzer", "ngram_range"), [("char_wb", (2, 5)), ("word", (1, 2))])
def test_fitting_counts_with_the_compiled_kernel_gives_the_same_arrays(
    analyzer: str, ngram_range: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fitting counts every bucket in the compiled pass too; the matrix is bit for bit the array
    version's (sorted indices, summed repeats), so a retrain reproduces the shipped model."""
    pytest.importorskip("numba")
    texts = real_texts()
    featurizer = HashedTfidf(analyzer, ngram_range, min_df=2, lowercase=False)
    assert compiled_kernel() is not None
    with_kernel = featurizer.count(texts)
    fitted_with_kernel = featurizer.fit_transform(texts)
    monkeypatch.setenv("WINNOW_NO_NUMBA", "1")
    compiled_kernel.cache_clear()
    try:
        with_arrays = featurizer.count(texts)
        fitted_with_arrays = featurizer.fit_transform(texts)
    finally:
        monkeypatch.delenv("WINNOW_NO_NUMBA")
        compiled_kernel.cache_clear()
    for found, expected in ((with_kernel, with_arrays), (fitted_with_kernel, fitted_with_arrays)):
        assert found.shape == expected.shape and found.dtype == expected.dtype
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(found, part), getattr(expected, part))
