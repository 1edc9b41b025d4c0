"""Turn whole documents written as blocks into corpus unit rows.

    python data/build_documents.py [DOCUMENTS_DIR] [CORPUS_DIR]

Each line of ``data/documents/<stem>.jsonl`` (the stem names the round, e.g. ``r5_pages_x``) is
one document: ``doc_id``, ``kind``, ``site_style``, ``domain``, ``genre``, ``publisher`` and
``blocks``, a list of blocks, each a list of ``[label, unit text]``, and optionally ``isolate``.
A block is what a page shows as one line or paragraph. Every unit becomes a row of
``data/corpus/<stem>.jsonl`` with its ``position`` in the document and the index of its ``block``;
no split column, so the seeded hash of the ``doc_id`` assigns the split.
Units of a whole ``page`` get ``isolate: false`` unless it says otherwise: they train in their page only, since much of a
page (readers' comments, bios, notices) is furniture only because of where it stands, and its
lone copies taught the model that short claims are boilerplate (real sentences 0.836 -> 0.843
macro-F1 with it, pages and editorials unchanged). A document that says ``"isolate": false``
gets the same: round 6's editorials, whose flat claims are opinion because an editorial makes
them; their lone copies taught that any flat declarative is opinion (lone news event sentences
0.792 -> 0.774). ``"isolate": "content"`` gives lone copies to the story's units only, the
furniture training in place: round 8's news pages, whose reports stand alone as well as in
their page.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from winnow.config import LABELS
from winnow.errors import DataError

# A whole page (its units train in place only, by default) or a column or article.
KINDS = ("page", "column")
DOCUMENT_KEYS = ("doc_id", "kind", "site_style", "domain", "genre", "publisher", "blocks")
CARRIED_KEYS = ("domain", "genre", "publisher", "site_style")


def unit_rows(document: dict[str, Any], where: str) -> Iterator[dict[str, Any]]:
    """The corpus rows of one document, in reading order; a malformed unit is a ``DataError``."""
    for key in DOCUMENT_KEYS:
        if key not in document:
            raise DataError(f"{where}: missing key '{key}'")
    if not isinstance(document["doc_id"], str) or not document["doc_id"].strip():
        raise DataError(f"{where}: 'doc_id' must be a non-empty string")
    if document["kind"] not in KINDS:
        raise DataError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    if not isinstance(document["blocks"], list) or not document["blocks"]:
        raise DataError(f"{where}: 'blocks' must be a non-empty list of blocks")
    if not isinstance(document.get("isolate", True), bool) and document["isolate"] != "content":
        raise DataError(f"{where}: 'isolate' must be true, false or \"content\"")
    units = []
    for b, block in enumerate(document["blocks"]):
        if not isinstance(block, list) or not block:
            raise DataError(f"{where}: block {b} must be a non-empty list of [label, text]")
        for unit in block:
            ok = isinstance(unit, list) and len(unit) == 2 and unit[0] in LABELS
            if not ok or not isinstance(unit[1], str) or not unit[1].strip() or "\n" in unit[1]:
                raise DataError(f"{where}: block {b}: bad unit {unit!r}")
            units.append((b, unit[0], unit[1].strip()))
    for position, (block, label, text) in enumerate(units):
        yield {
            "text": text,
            "label": label,
            "doc_id": document["doc_id"],
            "position": position,
            "doc_len": len(units),
            "block": block,
            **{key: document[key] for key in CARRIED_KEYS},
            **({} if isolated_copies(document, label) else {"isolate": False}),
        }


def isolated_copies(document: dict[str, Any], label: str) -> bool:
    """Whether a unit of the document also trains alone: where the document says ``true``, or
    ``"content"`` and the unit is the story's; by default every unit but those of pages."""
    isolate = document.get("isolate", document["kind"] != "page")
    return isolate is True or (isolate == "content" and label != "boilerplate")


def document_rows(source: Path, seen: set[str]) -> list[str]:
    """The corpus rows of one documents file as JSON lines; a bad line, or a ``doc_id`` already in
    ``seen`` (from this or an earlier file), is a ``DataError`` naming file and line."""
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{source}: cannot read ({exc})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(document, dict):
            raise DataError(f"{where}: expected a JSON object")
        built = [json.dumps(r, ensure_ascii=False) for r in unit_rows(document, where)]
        if document["doc_id"] in seen:
            raise DataError(f"{where}: duplicate doc_id {document['doc_id']!r}")
        seen.add(document["doc_id"])
        rows += built
    if not rows:
        raise DataError(f"{source}: no documents")
    return rows


def write_rows(rows: list[str], target: Path) -> Path:
    """Write ``rows`` to ``target`` through a partial file, so it is never half-written."""
    partial = target.with_suffix(".jsonl.tmp")
    partial.write_text("\n".join(rows) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def build_file(source: Path, corpus: Path) -> Path:
    """Write ``corpus/<stem>.jsonl`` from one documents file; a bad line names file and line."""
    return write_rows(document_rows(source, set()), corpus / f"{source.stem}.jsonl")


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    documents = Path(argv[0]) if argv else here / "documents"
    corpus = Path(argv[1]) if len(argv) > 1 else here / "corpus"
    sources = sorted(documents.glob("*.jsonl"))
    if not sources:
        print(f"build_documents: no *.jsonl files in {documents}", file=sys.stderr)
        return 2
    if corpus.exists() and not corpus.is_dir():
        print(f"build_documents: error: {corpus} is not a folder", file=sys.stderr)
        return 2
    # Every file is read and checked before any is written: a bad file leaves the corpus as it was.
    seen: set[str] = set()
    try:
        built = [(source, document_rows(source, seen)) for source in sources]
    except DataError as exc:
        print(f"build_documents: error: {exc}", file=sys.stderr)
        return 2
    corpus.mkdir(parents=True, exist_ok=True)
    for source, rows in built:
        print(f"{source} -> {write_rows(rows, corpus / f'{source.stem}.jsonl')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
