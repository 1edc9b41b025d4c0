"""``winnow data check``: counts and integrity checks of a labelled corpus before anyone trains on it."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from ..config import RunConfig
from ..errors import DataError
from ..features.base import copy_mask
from .load import load_units
from .split import SPLITS, assign_splits

NEAR_DUPLICATE_COSINE = 0.9
NEAR_DUPLICATE_MIN_WORDS = 6
# Consecutive words a corpus unit may share with reference text before it counts as copied.
SHARED_WORDS = 8
# Formulaic page furniture that any site may print word for word: not a copy when shared.
ALLOWED_FURNITURE = (
    re.compile(r"^(?:©|\(c\)|copyright)\b.*$", re.IGNORECASE),
    re.compile(r"\ball rights reserved\b.*$", re.IGNORECASE),
    re.compile(
        r"\bmay not be (?:published|reproduced|copied)(?:[\s,]+(?:or\s+)?"
        r"(?:published|broadcast|rewritten|redistributed|reproduced|copied))*\b",
        re.IGNORECASE,
    ),
    re.compile(r"\byour email address will not be published\b", re.IGNORECASE),
    re.compile(r"\brequired fields are marked\b", re.IGNORECASE),
    re.compile(r"\bby signing up,? you agree to (?:our|the) terms\b", re.IGNORECASE),
    re.compile(r"\bcookies help us deliver our services\b", re.IGNORECASE),
    re.compile(r"\bby using (?:our services|this site|them),? you agree\b", re.IGNORECASE),
)


def normalize(text: str) -> str:
    """Lower case, digits as 0, punctuation and spacing dropped: the key for exact duplicates."""
    text = re.sub(r"\d", "0", text.lower())
    return re.sub(r"[\W_]+", " ", text).strip()


@dataclass
class CheckReport:
    """What the check found: count tables, problems (the corpus is broken) and notes."""

    counts: dict[str, Counter] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = []
        for name, counter in self.counts.items():
            lines.append(f"== {name}")
            lines += [f"  {key:<24}{count:>7}" for key, count in sorted(counter.items())]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"ERROR: {p}" for p in self.problems]
        lines.append("corpus OK" if self.ok else f"corpus BROKEN: {len(self.problems)} problem(s)")
        return "\n".join(lines)


def _where(row: pd.Series) -> str:
    return f"{row['_file']}:{row['_line']}"


def check_articles(frame: pd.DataFrame, report: CheckReport) -> None:
    """Positions run 0..doc_len-1 in order and every article sits in one split."""
    for doc, rows in frame[frame["doc_id"].notna()].groupby("doc_id", sort=False):
        positions = rows["position"].tolist()
        if positions != list(range(len(rows))):
            report.problems.append(
                f"{_where(rows.iloc[0])}: article '{doc}' has positions {positions[:5]}..., "
                f"expected 0..{len(rows) - 1}"
            )
        if (rows["doc_len"] != len(rows)).any():
            report.problems.append(
                f"{_where(rows.iloc[0])}: article '{doc}' declares doc_len "
                f"{rows['doc_len'].iloc[0]} but has {len(rows)} units"
            )
        if "split" in rows and rows["split"].nunique() > 1:
            report.problems.append(
                f"{_where(rows.iloc[0])}: article '{doc}' is cut across splits "
                f"{sorted(rows['split'].unique())}"
            )


def check_duplicates(frame: pd.DataFrame, report: CheckReport) -> None:
    """Exact (normalized) duplicates: conflicting labels and story text repeated across splits break the corpus.

    Repeated page furniture ("Advertisement", "Share") is what real sites do, so it is only counted.
    Only rows that also train alone count: a row marked ``isolate: false`` is labelled by its
    place on its page (its own headline there, a teaser of itself elsewhere), not by its text.
    """
    frame = frame[copy_mask(frame)]
    keys = frame["text"].map(normalize)
    # Select after assigning: assigning to an empty selection (no duplicates) would realign rows.
    repeated = frame.assign(key=keys)[keys.duplicated(keep=False).to_numpy()]
    furniture = 0
    for _, rows in repeated.groupby("key", sort=False):
        labels = set(rows["label"])
        first = rows.iloc[0]
        if len(labels) > 1:
            report.problems.append(
                f"{_where(first)}: {first['text'][:60]!r} appears with labels {sorted(labels)} "
                f"(also at {_where(rows.iloc[1])})"
            )
        elif labels == {"boilerplate"}:
            furniture += 1
        elif "split" in rows and rows["split"].nunique() > 1:
            report.problems.append(
                f"{_where(first)}: {first['text'][:60]!r} is repeated across splits "
                f"{sorted(rows['split'].unique())} (also at {_where(rows.iloc[1])})"
            )
        else:
            report.notes.append(
                f"{_where(first)}: {first['text'][:60]!r} repeated {len(rows)} times in one split"
            )
    if furniture:
        report.notes.append(
            f"{furniture} boilerplate texts repeat across articles (page furniture)"
        )


def check_near_duplicates(frame: pd.DataFrame, report: CheckReport) -> None:
    """Story sentences whose character-trigram cosine is high: a template stamped again, or a leak."""
    story = frame[
        (frame["label"] != "boilerplate")
        & (frame["text"].str.split().str.len() >= NEAR_DUPLICATE_MIN_WORDS)
    ]
    if len(story) < 2:
        return
    keys = story["text"].map(normalize)
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3)).fit_transform(keys)
    similarity = (vectors @ vectors.T).tocoo()
    mask = (similarity.row < similarity.col) & (similarity.data >= NEAR_DUPLICATE_COSINE)
    pairs = [
        (i, j)
        for i, j in zip(similarity.row[mask], similarity.col[mask], strict=False)
        if keys.iloc[i] != keys.iloc[j]
    ]
    cross = 0
    for i, j in pairs:
        a, b = story.iloc[i], story.iloc[j]
        if "split" in story and a["split"] != b["split"]:
            cross += 1
            report.problems.append(
                f"{_where(a)}: near duplicate across splits of {_where(b)}: {a['text'][:60]!r}"
            )
    if len(pairs) - cross:
        report.notes.append(
            f"{len(pairs) - cross} near-duplicate story sentence pairs within one split "
            f"(cosine >= {NEAR_DUPLICATE_COSINE})"
        )


def _words(text: str) -> list[str]:
    """Lower-cased words with punctuation stripped: what shared runs of words are counted in."""
    return re.sub(r"[\W_]+", " ", text.lower()).split()


def _shingles(words: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """Every run of ``size`` consecutive words, in reading order."""
    return [tuple(words[i : i + size]) for i in range(len(words) - size + 1)]


def reference_texts(paths: Sequence[Path]) -> Iterator[tuple[str, str]]:
    """``(where, text)`` of every reference: JSON lines with a ``text`` field, or .txt files.

    A folder stands for the .txt and .jsonl files under it.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"{path}: no such reference file")
    for file in files:
        try:
            content = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DataError(f"{file}: cannot read ({exc.strerror})") from None
        if file.suffix != ".jsonl":
            yield str(file), content
            continue
        for number, line in enumerate(content.splitlines(), 1):
            try:
                record = json.loads(line) if line.strip() else {}
            except json.JSONDecodeError as exc:
                raise DataError(f"{file}:{number}: invalid JSON ({exc.msg})") from None
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                yield f"{file}:{number}", record["text"]


def without_furniture(text: str) -> str:
    """The text with formulaic page furniture (copyright and reuse lines) cut out."""
    for pattern in ALLOWED_FURNITURE:
        text = pattern.sub(" ", text)
    return text


def check_against(
    frame: pd.DataFrame, references: Sequence[Path], report: CheckReport, size: int = SHARED_WORDS
) -> int:
    """Report every corpus unit that shares ``size`` consecutive words with reference text.

    Corpus text must be our own: a unit that echoes a development or test set would flatter every
    score measured on it. Returns how many units were found.
    """
    seen: dict[tuple[str, ...], str] = {}
    for where, text in reference_texts(references):
        for shingle in _shingles(_words(without_furniture(text)), size):
            seen.setdefault(shingle, where)
    found = 0
    for _, row in frame.iterrows():
        for shingle in _shingles(_words(without_furniture(str(row["text"]))), size):
            if shingle in seen:
                found += 1
                report.problems.append(
                    f"{_where(row)}: shares {size} words with {seen[shingle]}: "
                    f"'{' '.join(shingle)}'"
                )
                break
    report.counts["reference overlap"] = Counter({"units sharing words": found})
    return found


def check_corpus(config: RunConfig, against: Sequence[Path] = ()) -> CheckReport:
    """Load the config's corpus, keeping bad rows so that each is reported, and check it.

    With ``against``, also report units that share runs of words with that reference text.
    """
    data_config = config.data
    labels = set(data_config.labels)
    skip = type(data_config)(**{**data_config.__dict__, "on_error": "skip"})
    loaded = load_units(skip)
    report = CheckReport()
    report.problems += loaded.skipped
    frame = loaded.frame
    split_column = data_config.split_column
    if split_column and split_column in frame.columns:
        declared = frame[split_column]
        for _, row in frame[declared.notna() & ~declared.isin(SPLITS)].iterrows():
            report.problems.append(f"{_where(row)}: unknown split {row[split_column]!r}")
    try:
        # The split each unit trains or is scored in: declared where valid, else split_of(doc_id).
        frame = frame.assign(split=assign_splits(frame, data_config))
    except DataError as exc:
        report.problems.append(str(exc))
        frame = frame.assign(split=frame.get(split_column, "train"))
    report.counts["label"] = Counter(frame["label"])
    for column in ("split", "domain", "genre"):
        if column in frame.columns:
            report.counts[column] = Counter(frame[column].fillna("(none)").astype(str))
    report.counts["corpus"] = Counter(
        {"units": len(frame), "articles": int(frame["doc_id"].nunique())}
    )
    if "publisher" in frame.columns:
        report.counts["corpus"]["publishers"] = int(frame["publisher"].nunique())
    if "split" in frame.columns:
        report.counts["label x split"] = Counter(
            f"{label}/{split}" for label, split in zip(frame["label"], frame["split"], strict=False)
        )
    missing = labels - set(frame["label"])
    if missing:
        report.problems.append(f"no units of label(s) {sorted(missing)}")
    lengths = frame["text"].str.len().to_numpy()
    report.notes.append(
        f"text length: median {int(np.median(lengths))}, max {int(lengths.max())} characters"
    )
    check_articles(frame, report)
    check_duplicates(frame, report)
    check_near_duplicates(frame, report)
    if against:
        check_against(frame, against, report)
    return report
