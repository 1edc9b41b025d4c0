"""Corpora of any size for timing: the shipped train articles resampled with fresh doc_ids.

Whole articles are drawn with replacement and renamed (``crt-001~17``), so a larger corpus has
more articles, not longer ones; the shipped test rows are appended once, so every size is scored
on the same small test split. The text repeats: these corpora measure time and memory, not
accuracy. Write them under /tmp (the default) and never commit them.
"""

from __future__ import annotations

import glob
import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

SHARD_ROWS = 100_000


def read_corpus(pattern: str = "data/corpus/*.jsonl") -> list[dict]:
    """Every record of the shipped corpus, in file order."""
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def resampled(rows: list[dict], n_train: int, seed: int) -> Iterator[dict]:
    """``n_train`` train units: whole train articles drawn with replacement, each copy renamed."""
    articles: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("split") == "train":
            articles.setdefault(row["doc_id"], []).append(row)
    names = sorted(articles)
    rng = np.random.default_rng(seed)
    written, copy = 0, 0
    while written < n_train:
        for row in articles[names[rng.integers(len(names))]][: n_train - written]:
            yield {**row, "doc_id": f"{row['doc_id']}~{copy}"}
            written += 1
        copy += 1


def build(n_train: int, out_dir: Path, seed: int = 0) -> Path:
    """Write ``n_train`` resampled train units plus the shipped test rows as JSONL shards."""
    rows = read_corpus()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.jsonl"):
        old.unlink()
    units = resampled(rows, n_train, seed)
    for shard in range(math.ceil(n_train / SHARD_ROWS)):
        with open(out_dir / f"train-{shard:03d}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in itertools.islice(units, SHARD_ROWS))
    with open(out_dir / "test.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows if r.get("split") == "test")
    return out_dir
