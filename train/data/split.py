"""One stateless split for every training mode: a seeded hash of each unit's article."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..config import DataConfig
from ..errors import DataError

SPLITS = ("train", "dev", "test")


def article_keys(frame: pd.DataFrame) -> pd.Series:
    """The article of each unit; a unit without ``doc_id`` is an article of its own, named by its text."""
    return frame["doc_id"].where(frame["doc_id"].notna(), "unit:" + frame["text"].astype(str))


def article_groups(frame: pd.DataFrame) -> np.ndarray:
    """A group label per unit for group-aware folds: its ``doc_id``, or its own row where it has none."""
    own = "__unit_" + pd.Series(range(len(frame)), index=frame.index).astype(str)
    return frame["doc_id"].where(frame["doc_id"].notna(), own).astype(str).to_numpy()


def split_of(keys: pd.Series, seed: int, ratios: Mapping[str, float]) -> pd.Series:
    """The split of each article key: a seeded hash mapped onto the ``train``/``dev``/``test`` ratios.

    It depends on nothing but the key and the seed, so a streamed batch and a whole corpus in
    memory put every article in the same split, and no article is ever cut.
    """
    hashed = pd.util.hash_pandas_object(
        keys.astype(str), index=False, hash_key=f"winnow{seed:010d}"[-16:]
    )
    share = hashed.to_numpy(dtype=np.uint64) / float(2**64)
    train_end = ratios.get("train", 0.0)
    dev_end = train_end + ratios.get("dev", 0.0)
    return pd.Series(
        np.where(share < train_end, "train", np.where(share < dev_end, "dev", "test")),
        index=keys.index,
    )


def assign_splits(frame: pd.DataFrame, config: DataConfig) -> pd.Series:
    """The declared split of each unit where ``split_column`` gives a valid one, else ``split_of``.

    An article declared in two splits is an error: it would leak from training into the test.
    """
    split = split_of(article_keys(frame), config.seed, config.split_ratios)
    column = config.split_column
    if not column or column not in frame.columns:
        return split
    declared = frame[column].astype(object)
    valid = declared.isin(SPLITS)
    if valid.any():
        per_article = declared[valid].groupby(frame["doc_id"][valid].fillna("")).nunique()
        cut = per_article[(per_article > 1) & (per_article.index != "")]
        if len(cut):
            raise DataError(f"article '{cut.index[0]}' is declared in more than one split")
    return split.where(~valid, declared)
