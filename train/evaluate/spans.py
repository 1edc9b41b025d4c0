"""Score span-labelled whole documents: each labelled span takes the label of the units covering it.

A labels file holds one span a line: ``file`` (a document beside the labels file), ``label``, and
either ``start`` and ``end`` (character offsets into a text file) or ``text``, a string to find
in the document's labelled units (for HTML pages, whose text each extractor lays out its own
way). This is what annotation tools export, and how real pages and editorials are labelled in
their context.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from ..errors import DataError

CONTENT = "content"
CONTENT_LABELS = ("event", "opinion")


@dataclass(frozen=True)
class Span:
    """One labelled character range of a document, or a labelled string found in it."""

    file: str
    start: int | None
    end: int | None
    label: str
    text: str | None = None
    line: int | None = None  # of the labels file, for errors


def _span(record: Any, line: int) -> Span:
    """A span from one JSON record; ``KeyError``/``TypeError``/``ValueError`` where it is not one."""
    if not isinstance(record["label"], str) or not record["label"].strip():
        raise ValueError("'label' must be a non-empty string")
    if "start" not in record and "end" not in record and isinstance(record.get("text"), str):
        if not record["text"].split():
            raise ValueError("'text' is blank")
        return Span(str(record["file"]), None, None, record["label"], record["text"], line)
    start, end = record["start"], record["end"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise ValueError(f"'start' and 'end' must be whole numbers, got {start!r}, {end!r}")
    return Span(str(record["file"]), start, end, record["label"], line=line)


def check_span_offsets(spans: Sequence[Span], path: Path, lengths: Mapping[str, int]) -> None:
    """Refuse a span that ends past its document's text (``lengths``: characters of each text
    document): it would count as dropped, silently, as offsets counted in another encoding or
    with other line ends do."""
    for span in spans:
        size = lengths.get(span.file)
        if span.end is not None and size is not None and span.end > size:
            raise DataError(
                f"{path}:{span.line}: span ends at {span.end}, past the {size:,} characters of "
                f"{span.file}"
            )


def check_span_labels(
    spans: Sequence[Span], path: Path, labels: Sequence[str], content_vs_boilerplate: bool
) -> None:
    """Refuse a span whose label the model never predicts (``content`` and ``boilerplate`` with
    ``content_vs_boilerplate``): it would count as wrong, silently. Names the labels file's line."""
    allowed = [CONTENT, "boilerplate"] if content_vs_boilerplate else list(labels)
    for span in spans:
        if span.label not in allowed:
            raise DataError(
                f"{path}:{span.line}: label {span.label!r} is not one of {', '.join(allowed)}"
                + (
                    ""
                    if content_vs_boilerplate
                    else "; content and boilerplate spans need --content-vs-boilerplate"
                )
            )


def read_spans(path: Path) -> tuple[list[Span], dict[str, Path]]:
    """The spans of a labels file and the document each names, resolved beside the labels file.

    A file that escapes the labels file's folder, a missing file or a malformed line is a
    ``DataError`` naming the line.
    """
    folder = path.parent.resolve()
    spans: list[Span] = []
    documents: dict[str, Path] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            span = _span(json.loads(line), number)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg})") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(
                f"{where}: needs file, label and start and end (or text) ({exc})"
            ) from None
        if span.text is None and not 0 <= span.start < span.end:
            raise DataError(f"{where}: expected 0 <= start < end, got {span.start}, {span.end}")
        if span.file not in documents:
            document = (folder / span.file).resolve()
            if not document.is_relative_to(folder):
                raise DataError(f"{where}: file {span.file!r} is outside {folder}")
            if not document.is_file():
                raise DataError(f"{where}: no such file {span.file!r} beside the labels file")
            documents[span.file] = document
        spans.append(span)
    if not spans:
        raise DataError(f"{path}: no labelled spans")
    return spans, documents


def _offset_cover(units: Sequence[Mapping[str, Any]], start: int, end: int) -> Counter[int]:
    """How many characters of ``[start, end)`` each unit covers, by unit index."""
    cover: Counter[int] = Counter()
    for i, unit in enumerate(units):
        overlap = min(end, unit["end"]) - max(start, unit["start"])
        if overlap > 0:
            cover[i] += overlap
    return cover


def _string_cover(units: Sequence[Mapping[str, Any]], needle: str) -> Counter[int]:
    """How many characters of ``needle`` each unit covers, ``needle`` found with whitespace runs
    made single spaces in the units' texts joined by spaces; empty where it is in no unit."""
    pieces: list[str] = []
    owner: list[int] = []
    for i, unit in enumerate(units):
        words = " ".join(str(unit["text"]).split())
        if not words:
            continue
        if pieces:
            pieces.append(" ")
            owner.append(-1)
        pieces.append(words)
        owner.extend([i] * len(words))
    needle = " ".join(needle.split())
    at = "".join(pieces).find(needle)
    if at < 0:
        return Counter()
    return Counter(o for o in owner[at : at + len(needle)] if o >= 0)


def span_cover(span: Span, units: Sequence[Mapping[str, Any]]) -> Counter[int]:
    """The characters of one span each unit covers: by its offsets, or by finding its text."""
    if span.text is not None:
        return _string_cover(units, span.text)
    return _offset_cover(units, span.start, span.end)


def _covering_label(cover: Counter[int], units: Sequence[Mapping[str, Any]]) -> str | None:
    """The label of the units that cover the most characters in ``cover``, or None."""
    labels: Counter[str] = Counter()
    for i, chars in cover.items():
        labels[str(units[i]["label"])] += chars
    return labels.most_common(1)[0][0] if labels else None


def _covering_scores(cover: Counter[int], units: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The covering units' scores, averaged by the characters each covers; a span no unit covers
    was dropped, all ``boilerplate``."""
    total = sum(cover.values())
    if not total:
        return {"boilerplate": 1.0}
    scores: Counter[str] = Counter()
    for i, chars in cover.items():
        for label, score in units[i].get("scores", {}).items():
            scores[label] += score * chars / total
    return dict(scores)


def covered_spans(
    spans: Sequence[Span], units: Mapping[str, Sequence[Mapping[str, Any]]]
) -> Iterator[tuple[Span, str, dict[str, float]]]:
    """Each span with the label and the scores of the units of its file that cover it: the label
    covering most of its characters, the scores averaged by characters; a span no unit covers
    (or a string no unit holds) was dropped, ``boilerplate``."""
    for span in spans:
        document = units.get(span.file, [])
        cover = span_cover(span, document)
        yield (
            span,
            _covering_label(cover, document) or "boilerplate",
            _covering_scores(cover, document),
        )


def score_spans(
    spans: Sequence[Span],
    units: Mapping[str, Sequence[Mapping[str, Any]]],
    content_vs_boilerplate: bool = False,
) -> dict[str, Any]:
    """Macro-F1 and balanced accuracy over the spans' labels, from the labelled units of each file.

    With ``content_vs_boilerplate`` the predicted event and opinion both count as ``content``, as
    they do where the labels say only what is story and what is page. A span no unit covers (or a
    string no unit holds) counts as ``boilerplate``: dropped.
    """
    gold, predicted, right = [], [], []
    for span, label, scores in covered_spans(spans, units):
        if content_vs_boilerplate:
            scores = {**scores, CONTENT: sum(scores.get(c, 0.0) for c in CONTENT_LABELS)}
            if label in CONTENT_LABELS:
                label = CONTENT
        gold.append(span.label)
        predicted.append(label)
        right.append(scores.get(span.label, 0.0))
    labels = sorted(set(gold))
    per_label = f1_score(gold, predicted, labels=labels, average=None, zero_division=0.0)
    recall = {
        label: sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        / gold.count(label)
        for label in labels
    }
    # The mean score of the right label, per label: moves smoothly where recall moves by whole
    # spans, so it tells a gain from units that merely cross the decision threshold.
    soft = {
        label: sum(r for g, r in zip(gold, right, strict=True) if g == label) / gold.count(label)
        for label in labels
    }
    return {
        "n_spans": len(spans),
        "n_files": len({s.file for s in spans}),
        "labels": labels,
        "content_vs_boilerplate": content_vs_boilerplate,
        "macro_f1": float(per_label.mean()),
        "f1": {label: float(f) for label, f in zip(labels, per_label, strict=True)},
        "balanced_accuracy": float(sum(recall.values()) / len(recall)),
        "recall": recall,
        "soft_recall": soft,
        "soft_balanced_accuracy": float(sum(soft.values()) / len(soft)),
    }


def format_span_metrics(metrics: dict[str, Any], title: str) -> str:
    """The span scores as a few plain-text lines."""
    mapping = " (event and opinion read as content)" if metrics["content_vs_boilerplate"] else ""
    lines = [
        f"{title}: {metrics['n_spans']} spans in {metrics['n_files']} files{mapping}",
        f"macro-F1 {metrics['macro_f1']:.3f}  balanced accuracy {metrics['balanced_accuracy']:.3f}"
        f"  soft {metrics['soft_balanced_accuracy']:.3f}",
    ]
    lines += [
        f"  {label:<12} F1 {metrics['f1'][label]:.3f}  recall {metrics['recall'][label]:.3f}"
        f"  soft {metrics['soft_recall'][label]:.3f}"
        for label in metrics["labels"]
    ]
    return "\n".join(lines)
