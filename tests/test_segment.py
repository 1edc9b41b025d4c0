"""Sentence splitting: units of their own for page lines, no splits inside abbreviations, exact offsets."""

from __future__ import annotations

import pytest
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


def test_a_lone_carriage_return_ends_a_line() -> None:
    article = "Floods cut rail line\rBy Jane Doe\r\rThe line closed. Trains stopped.\r"
    units = split_units(article)
    assert [s.text for s in units] == [
        "Floods cut rail line",
        "By Jane Doe",
        "The line closed.",
        "Trains stopped.",
    ]
    assert all("\r" not in s.text and article[s.start : s.end] == s.text for s in units)


def test_hard_wrapped_paragraphs_are_joined_into_sentences() -> None:
    import textwrap

    first = (
        "The minister said on Monday that the new rail line between Tarn and Ostrava would "
        "open next spring, two years late. In the morning, crowds gathered at the station to "
        "watch the first test train arrive from the north. Officials said the cost had doubled."
    )
    second = "Critics argue the money was better spent on buses. It is a scandal, they say."
    article = textwrap.fill(first, 72) + "\n\n" + textwrap.fill(second, 72) + "\n"
    units = split_units(article)
    assert [" ".join(s.text.split()) for s in units] == [
        "The minister said on Monday that the new rail line between Tarn and Ostrava would "
        "open next spring, two years late.",
        "In the morning, crowds gathered at the station to watch the first test train arrive "
        "from the north.",
        "Officials said the cost had doubled.",
        "Critics argue the money was better spent on buses.",
        "It is a scandal, they say.",
    ]
    assert all(article[s.start : s.end] == s.text for s in units)


def test_short_page_lines_are_never_joined() -> None:
    article = "NEWS | WORLD | BUSINESS\nFloods cut rail line\nBy Jane Doe\n"
    assert texts(article) == ["NEWS | WORLD | BUSINESS", "Floods cut rail line", "By Jane Doe"]


def test_a_long_word_before_a_period_is_not_read_as_an_abbreviation() -> None:
    # Only a bounded window before each period is read; "...mr" inside a long word is no title.
    assert texts("See verylongidentifierendingmr. Then go.") == [
        "See verylongidentifierendingmr.",
        "Then go.",
    ]


@pytest.mark.slow
def test_a_two_megabyte_line_splits() -> None:
    # The old abbreviation check searched the whole prefix per period: hours for this line.
    line = "Mr. Smith met Gov. Jones on Jan. 3. The plan will work. " * 36_000
    units = split_units(line, max_chars=5000)
    assert len(units) == 72_000
    assert units[-1].text == "The plan will work."
