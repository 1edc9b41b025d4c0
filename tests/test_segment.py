"""Sentence splitting: units of their own for page lines, no splits inside abbreviations, exact offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from winnow.inference.segment import split_units


def texts(article: str) -> list[str]:
    return [s.text for s in split_units(article)]


def test_sentences_split_but_abbreviations_and_decimals_do_not() -> None:
    article = (
        "The U.S. Senate voted on Jan. 5 to pass the bill. Dr. Smith said it cost $4.5 billion. "
        "No. 3 seed J. R. Moss lost! Will it pass? Nobody knows."
    )
    assert texts(article) == [
        "The U.S. Senate voted on Jan. 5 to pass the bill.",
        "Dr. Smith said it cost $4.5 billion.",
        "No. 3 seed J. R. Moss lost!",
        "Will it pass?",
        "Nobody knows.",
    ]


def test_page_lines_are_units_of_their_own() -> None:
    article = (
        "Floods cut rail line\n***\nBy Jane Doe\nArticles by: Sam Reed\n\n"
        "- First item\nContact: news@example.com. Call us.\n*\nBody text here. More text."
    )
    assert texts(article) == [
        "Floods cut rail line",
        "***",
        "By Jane Doe",
        "Articles by: Sam Reed",
        "- First item",
        "Contact: news@example.com. Call us.",
        "*",
        "Body text here.",
        "More text.",
    ]


def test_quotes_close_the_sentence_they_end() -> None:
    assert texts('"It is over," she said. “We lost.” Then silence.') == [
        '"It is over," she said.',
        "“We lost.”",
        "Then silence.",
    ]


def test_empty_and_blank_input_give_no_units() -> None:
    assert split_units("") == []
    assert split_units(" \n\t\n\r\n") == []


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_offsets_index_the_input_exactly(article: str) -> None:
    previous_end = 0
    for segment in split_units(article):
        assert article[segment.start : segment.end] == segment.text
        assert segment.text.strip() == segment.text and segment.text
        assert segment.start >= previous_end
        previous_end = segment.end
