"""Split an article into units (paragraph lines, then sentences) with exact character offsets."""

from __future__ import annotations

import re
from collections.abc import Iterator
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

# A run of terminators is matched only from its first character, and possessively, so that a long
# run without whitespace after it costs linear time, not quadratic.
_SENTENCE_END = re.compile(r"""(?<![.!?…])[.!?…]++["'”’)\]]*+(?=\s)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""\s+(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
# A line ends at LF, CRLF or a lone CR (old Mac files).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_BREAK_OR_END = re.compile(r"[\r\n.!?…]")
_SEPARATOR = re.compile(r"^[\W_]{1,10}$")
_ABBREVIATION = re.compile(r"([\w.]+)\.$")
# Longer than any abbreviation: how far back from a period ``_is_abbreviation`` looks.
_ABBREVIATION_WINDOW = 16
# Hard-wrapped plain text: see ``split_units``.
WRAP_MIN, WRAP_MAX = 60, 100


@dataclass(frozen=True)
class Segment:
    """One unit of an article: ``text == article[start:end]``; ``block`` is the index of its
    block (a non-blank line, or a hard-wrapped paragraph), which block features read."""

    start: int
    end: int
    text: str
    block: int = 0


def _is_abbreviation(line: str, end: int) -> bool:
    """Whether the period ending at ``end`` closes an abbreviation or an initial, not a sentence.

    Only a bounded window before the period is read, so a line costs linear time: a word longer
    than the window is no abbreviation.
    """
    low = max(0, end - _ABBREVIATION_WINDOW)
    match = _ABBREVIATION.search(line, low, end + 1)
    if match is None:
        return False
    if match.start() == low and low > 0 and (line[low - 1].isalnum() or line[low - 1] in "._"):
        return False
    word = match.group(1)
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.isupper())


def _split_line(line: str) -> list[tuple[int, int]]:
    """Sentence spans inside one block, relative to the block."""
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


def _paragraphs(article: str) -> Iterator[list[tuple[int, int]]]:
    """Runs of consecutive non-blank lines, each line as ``(start, end)`` without its line break."""
    run: list[tuple[int, int]] = []
    offset = 0
    for match in _LINE.finditer(article):
        raw = match.group(0)
        if not raw:
            break
        line = raw.rstrip("\r\n")
        if line.strip():
            run.append((offset, offset + len(line)))
        elif run:
            yield run
            run = []
        offset += len(raw)
    if run:
        yield run


def _is_hard_wrapped(article: str, lines: list[tuple[int, int]]) -> bool:
    """Whether a paragraph's lines are one text wrapped at a fixed width (e.g. 72 columns)."""
    if len(lines) < 2:
        return False
    widths = [len(article[a:b].strip()) for a, b in lines]
    return all(WRAP_MIN <= w <= WRAP_MAX for w in widths[:-1]) and widths[-1] <= WRAP_MAX


def _blocks(article: str) -> Iterator[tuple[int, int, bool]]:
    """The blocks sentences are split within: each line, or a whole hard-wrapped paragraph
    (flagged ``True``)."""
    for lines in _paragraphs(article):
        if _is_hard_wrapped(article, lines):
            yield lines[0][0], lines[-1][1], True
        else:
            yield from ((start, end, False) for start, end in lines)


def _is_one_unit(text: str, max_chars: int | None) -> bool:
    """A line with no line break, no sentence end and no surrounding whitespace, short enough to
    keep whole: ``iter_units`` would return it as its only unit."""
    return (
        bool(text)
        and (not max_chars or len(text) <= max_chars)
        and text == text.strip()
        and _BREAK_OR_END.search(text) is None
    )


def iter_units(article: str, max_chars: int | None = None) -> Iterator[Segment]:
    """The units of ``article`` one by one, as ``split_units`` returns them (see there)."""
    if _is_one_unit(article, max_chars):  # most blocks of an HTML page: a menu item, a heading
        yield Segment(0, len(article), article, 0)
        return
    for block, (block_start, block_end, wrapped) in enumerate(_blocks(article)):
        line = article[block_start:block_end]
        whole = not wrapped and (_SEPARATOR.match(line.strip()) or "@" in line)
        spans = [(0, len(line))] if whole else _split_line(line)
        for start, end in spans:
            piece = line[start:end]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece.rstrip())
            if trail <= lead:
                continue
            abs_start = block_start + start + lead
            abs_end = block_start + start + trail
            pieces = (
                _chunks(article, abs_start, abs_end, max_chars)
                if max_chars and abs_end - abs_start > max_chars
                else [(abs_start, abs_end)]
            )
            for a, b in pieces:
                piece_text = article[a:b].rstrip()
                yield Segment(a, a + len(piece_text), piece_text, block)


def split_units(article: str, max_chars: int | None = None) -> list[Segment]:
    """Split ``article`` into units: every non-blank line is a block, and blocks split into sentences.

    Lines are kept apart because scraped pages put headlines, bylines, menu items, separators and
    captions on lines of their own; a sentence never spans two such lines. LF, CRLF and a lone CR
    all end a line. One exception: a paragraph (lines with no blank line between them) whose
    lines are all 60 to 100 characters long, but for a shorter last one, is hard-wrapped plain
    text, and is one block: its sentences may span a line break (offsets stay exact). A unit
    longer than ``max_chars`` is cut into pieces of at most that length, so no input can blow up
    a featurizer.
    """
    return list(iter_units(article, max_chars))
