"""``--format html``: a self-contained page showing each article with its units coloured by label."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

COLOURS = {
    "event": "#cfe0f5",
    "opinion": "#fbe0c3",
    "boilerplate": "#e4e4e4",
    "uncertain": "#f3e9a6",
}

STYLE = """
body{font-family:Georgia,serif;max-width:900px;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#222}
h1{font-family:system-ui,sans-serif;font-size:1.4rem}h2{font-family:system-ui,sans-serif;font-size:1.05rem;
margin-top:2rem;border-bottom:1px solid #ddd}.article{white-space:pre-wrap}
.u{border-radius:3px;padding:1px 0}.u:hover{outline:2px solid #555}
.legend span,.counts span{display:inline-block;margin-right:1rem;padding:0 .5rem;border-radius:3px;
font-family:system-ui,sans-serif;font-size:.9rem}
"""


def _unit(segment: dict[str, Any], index: int) -> str:
    scores = ", ".join(f"{k} {v:.2f}" for k, v in segment["scores"].items())
    colour = COLOURS.get(segment["label"], "#ddd")
    return (
        f"<span class='u {html.escape(segment['label'])}' id='u{index}' "
        f"data-label='{html.escape(segment['label'])}' style='background:{colour}' "
        f"title='{html.escape(segment['label'])}: {html.escape(scores)}'>"
        f"{html.escape(segment['text'])}</span>"
    )


def render_article(text: str, segments: Sequence[dict[str, Any]]) -> str:
    """The article as HTML: the text between units kept as it is, each unit wrapped in a span."""
    parts, cursor = [], 0
    for i, segment in enumerate(segments):
        parts.append(html.escape(text[cursor : segment["start"]]))
        parts.append(_unit(segment, i))
        cursor = segment["end"]
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def _chips(counts: Counter, labels: Sequence[str]) -> str:
    return "".join(
        f"<span style='background:{COLOURS.get(label, '#ddd')}'>{html.escape(label)}: "
        f"{counts.get(label, 0)}</span>"
        for label in labels
    )


def render_page(
    documents: Sequence[tuple[str, str, Sequence[dict[str, Any]]]], labels: Sequence[str]
) -> str:
    """One page for every (doc, text, segments): a legend, counts per label, the coloured articles."""
    shown = [
        *labels,
        *(
            ["uncertain"]
            if any(s["label"] == "uncertain" for _, _, segs in documents for s in segs)
            else []
        ),
    ]
    total: Counter = Counter(s["label"] for _, _, segs in documents for s in segs)
    sections = []
    for doc, text, segments in documents:
        counts = Counter(s["label"] for s in segments)
        sections.append(
            f"<h2>{html.escape(doc)}</h2><p class=counts>{_chips(counts, shown)}</p>"
            f"<div class=article>{render_article(text, segments)}</div>"
        )
    legend = "".join(
        f"<span style='background:{COLOURS.get(label, '#ddd')}'>{html.escape(label)}</span>"
        for label in shown
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>winnow</title>"
        f"<style>{STYLE}</style></head><body><h1>winnow: labelled text</h1>"
        f"<p class=legend>{legend}</p><p class=counts>All: {_chips(total, shown)}</p>"
        + "".join(sections)
        + "</body></html>"
    )
