"""Split an article into units (paragraph lines, then sentences) with exact character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tokens that end in a period without ending a sentence.
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "rev",
        "hon",
        "pres",
        "supt",
        "insp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "no",
        "nos",
        "vol",
        "vols",
        "pp",
        "p",
        "fig",
        "figs",
        "ch",
        "art",
        "sec",
        "para",
        "approx",
        "est",
        "dept",
        "univ",
        "corp",
        "inc",
        "ltd",
        "co",
        "bros",
        "assn",
        "vs",
        "v",
        "etc",
        "al",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "u.s.a",
        "d.c",
        "n.y",
        "l.a",
        "ph.d",
        "b.a",
        "m.a",
    ]
)

_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""\s+(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_LINE = re.compile(r"[^\n]*\n?")
_SEPARATOR = re.compile(r"^[\W_]{1,10}$")


@dataclass(frozen=True)
class Segment:
    """One unit of an article: ``text == article[start:end]``; ``block`` is the index of its
    non-blank line, the block that block features read."""

    start: int
    end: int
    text: str
    block: int = 0


def _is_abbreviation(line: str, end: int) -> bool:
    """Whether the period ending at ``end`` closes an abbreviation or an initial, not a sentence."""
    match = re.search(r"([\w.]+)\.$", line[: end + 1])
    if match is None:
        return False
    word = match.group(1)
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.isupper())


def _split_line(line: str) -> list[tuple[int, int]]:
    """Sentence spans inside one line, relative to the line."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        single_period = line[match.start()] == "." and end - match.start() == 1
        if single_period and _is_abbreviation(line, match.start()):
            continue
        gap = _NEXT_STARTS_SENTENCE.match(line, end)
        if gap is None:
            continue
        spans.append((start, end))
        start = gap.end()
    spans.append((start, len(line)))
    return spans


def _chunks(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``max_chars``, at whitespace where there is any."""
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        cut = cut if cut > start else start + max_chars
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def split_units(article: str, max_chars: int | None = None) -> list[Segment]:
    """Split ``article`` into units: every non-blank line is a block, and blocks split into sentences.

    Lines are kept apart because scraped pages put headlines, bylines, menu items, separators and
    captions on lines of their own; a sentence never spans two lines. A unit longer than
    ``max_chars`` is cut into pieces of at most that length, so no input can blow up a featurizer.
    """
    segments: list[Segment] = []
    offset = 0
    block = -1
    for match in _LINE.finditer(article):
        raw = match.group(0)
        if not raw:
            break
        line = raw.rstrip("\r\n")
        line_start = offset
        offset += len(raw)
        stripped = line.strip()
        if not stripped:
            continue
        block += 1
        spans = [(0, len(line))] if _SEPARATOR.match(stripped) or "@" in line else _split_line(line)
        for start, end in spans:
            piece = line[start:end]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece.rstrip())
            if trail <= lead:
                continue
            abs_start = line_start + start + lead
            abs_end = line_start + start + trail
            pieces = (
                _chunks(article, abs_start, abs_end, max_chars)
                if max_chars and abs_end - abs_start > max_chars
                else [(abs_start, abs_end)]
            )
            for a, b in pieces:
                piece_text = article[a:b].rstrip()
                segments.append(Segment(a, a + len(piece_text), piece_text, block))
    return segments
