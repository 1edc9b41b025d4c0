"""HTML input: pages parsed into blocks and units, bad pages, DOM features, and ``predict`` on pages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from winnow import load_model
from winnow.cli import main
from winnow.features.base import DOM_COLUMNS
from winnow.features.dom import DomFeatures
from winnow.inference.classifier import units_frame
from winnow.inference.html import HtmlError, parse_html
from winnow.registry import featurizers

MODEL = "models/default"
ROOT = Path(__file__).resolve().parents[1]

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Dam opens | The Ledger</title>
<meta property="og:title" content="Dam opens after ten years"><style>p{color:red}</style>
<script>var menu = "Home";</script></head><body>
<nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<main role="main"><article><h1 class="headline">Dam opens after ten years</h1>
<div class="story" itemprop="articleBody"><p>The dam opened on <a href="/m">Monday</a> after
a <b>decade</b> of work. Officials said it   would supply two towns.</p>
<p>Line one<br>Line two</p><div hidden>Hidden text</div><p aria-hidden="true">Also hidden</p>
<p style="color: red; display : none">Invisible</p><noscript>Enable JS</noscript>
<template><p>Template text</p></template>
<table><tr><td>Cell one.</td><td>Cell two.</td></tr></table></div></article></main>
<footer><p>&copy; 2026 The Ledger</p></footer></body></html>"""


def test_blocks_units_offsets_and_titles() -> None:
    page = parse_html(PAGE.encode("utf-8"), "page.html")
    texts = [u.text for u in page.units]
    assert texts == [
        "Home",
        "World",
        "Dam opens after ten years",
        "The dam opened on Monday after a decade of work.",
        "Officials said it would supply two towns.",
        "Line one",
        "Line two",
        "Cell one.",
        "Cell two.",
        "© 2026 The Ledger",
    ]
    for unit in page.units:
        assert page.text[unit.start : unit.end] == unit.text
    assert (page.title, page.h1, page.og_title) == (
        "Dam opens | The Ledger",
        "Dam opens after ten years",
        "Dam opens after ten years",
    )
    by_text = {u.text: u for u in page.units}
    assert by_text["Home"].dom_path == "html>body>nav.site-nav>ul>li"
    assert by_text["World"].dom_path == "html>body>nav.site-nav>ul>li[2]"
    assert by_text["Home"].link_density == 1.0 and "nav" in by_text["Home"].dom_tags.split()
    story = by_text["The dam opened on Monday after a decade of work."]
    assert story.dom_tags.split()[-1] == "p" and 0 < story.link_density < 0.2
    assert "itemprop=articlebody" in story.dom_attrs and "role=main" in story.dom_attrs
    assert "hint=title" in by_text["Dam opens after ten years"].dom_attrs
    assert by_text["Line one"].block == by_text["Line two"].block


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('<meta charset="windows-1252"><p>café “quoted”</p>'.encode("cp1252"), "café “quoted”"),
        ("<p>Zürich und München liegen im Süden.</p>".encode("latin-1"), "Zürich und München"),
        ('<meta charset="iso-8859-1"><p>naïve café</p>'.encode(), "naïve café"),
        (b"\xef\xbb\xbf<p>\xc3\xa9t\xc3\xa9</p>", "été"),
        ("<p>wide text</p>".encode("utf-16"), "wide text"),
    ],
    ids=["declared-cp1252", "sniffed-latin1", "wrongly-declared-utf8", "utf8-bom", "utf16-bom"],
)
def test_declared_sniffed_and_wrong_encodings(data: bytes, expected: str) -> None:
    assert expected in parse_html(data).text


def test_binary_and_oversized_pages_are_refused_naming_the_source() -> None:
    with pytest.raises(HtmlError, match=r"^photo\.html: not an HTML page"):
        parse_html(bytes(range(256)) * 64, "photo.html")
    with pytest.raises(HtmlError, match=r"^big\.html: page of 52\.4 MB is larger"):
        parse_html(b"<p>" + b"x" * 50 * 1024 * 1024, "big.html")
    with pytest.raises(HtmlError, match=r"^deep\.html: elements nested 1,000,000 deep"):
        parse_html(b"<div>" * 1_000_000 + b"<p>Bottom.</p>", "deep.html")


def test_a_page_of_too_many_text_blocks_is_refused_before_it_is_all_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """16 MB of bare <p>x</p> is two million blocks: parsing them all took 3.3 GB and a minute.
    The walk stops at the first block over the limit (200,000; 100 here, to keep the test fast)."""
    monkeypatch.setattr("winnow.inference.html.MAX_BLOCKS", 100)
    with pytest.raises(HtmlError, match=r"^many\.html: more than 100 text blocks"):
        parse_html(b"<html><body>" + b"<p>x</p>" * 101 + b"</body></html>", "many.html")
    assert len(parse_html(b"<p>x</p>" * 100).units) == 100


def test_malformed_truncated_and_deep_pages_parse_best_effort() -> None:
    truncated = PAGE.encode()[: len(PAGE) // 2]
    assert parse_html(truncated).text.endswith("The dam opened")
    deep = parse_html(b"<div>" * 10_000 + b"<p>Bottom line.</p>")
    assert deep.text == "Bottom line." and deep.units[0].dom_path.startswith("…>")
    broken = parse_html(b"<p>One <b>two <i>three</p> four</b><li>item<td>cell</table></p>")
    assert "One two three" in broken.text and "cell" in broken.text
    assert parse_html(b"").units == [] and parse_html(b"   ").text == ""


def test_dom_features_flag_plain_text_and_read_html_units() -> None:
    page = parse_html(PAGE.encode())
    frame = units_frame([u.text for u in page.units], doc_id="p")
    for column in ("dom_tags", "dom_attrs", "link_density", "dom_depth", "block_chars"):
        frame[column] = [getattr(u, column) for u in page.units]
    frame["dom_position"] = [u.dom_position for u in page.units]
    features = DomFeatures().fit(frame)
    names = list(features.get_feature_names_out())
    html_rows = features.transform(frame).toarray()
    plain = features.transform(units_frame(["A sentence of plain text."])).toarray()
    assert html_rows.shape[1] == len(names)
    assert plain[0, names.index("dom_no_dom")] == 1.0 and plain.sum() == 1.0
    assert not html_rows[:, names.index("dom_no_dom")].any()
    assert html_rows[0, names.index("dom_in_nav")] == 1.0
    again = DomFeatures().fit(frame).transform(frame).toarray()
    assert np.array_equal(html_rows, again)


STORY_PAGE = """<html><body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/docs">Docs</a></li></ul></nav></header>
<div class="layout"><aside class="about"><p>Tallow is a small ledger library written by two
friends in Dunmere since the spring of 2019.</p></aside>
<div class="content"><h2>Closing a ledger</h2>
<p>The close method writes every pending entry to disk and then releases the file lock.</p>
<p>It raises LockError when another process holds the lock for longer than ten seconds.</p>
<pre>ledger.close(force=True)</pre><ul><li>Python 3.10 or later</li><li>No other dependencies</li></ul>
<p>Version 2 added the force flag after users asked for a way out of stale locks.</p></div></div>
<footer><p>Copyright 2026 Tallow contributors. All rights reserved worldwide by them.</p></footer>
</body></html>"""


def test_main_element_holds_the_story_and_its_short_lines() -> None:
    page = parse_html(STORY_PAGE.encode())
    main = {u.text: u.main_element for u in page.units}
    story = [
        "Closing a ledger",
        "ledger.close(force=True)",
        "Python 3.10 or later",
        "No other dependencies",
        "The close method writes every pending entry to disk and then releases the file lock.",
    ]
    assert all(main[text] == 1.0 for text in story)
    furniture = ["Home", "Docs", "Copyright 2026 Tallow contributors."]
    assert all(main[text] == 0.0 for text in furniture)
    assert (
        main[
            "Tallow is a small ledger library written by two friends in Dunmere since the spring of 2019."
        ]
        == 0.0
    )
    menu_only = parse_html(
        b"<nav><a href='/'>Home</a><a href='/a'>About us</a></nav><p>Contact</p>"
    )
    assert menu_only.units and all(u.main_element == 0.0 for u in menu_only.units)
    # One long paragraph never is the main element: its container is, headline and all.
    long = "The strike closed the port for a third day as talks stalled. " * 12
    story = (
        f"<article><h1>Port strike enters third day</h1><p>{long}</p><p>Short one.</p></article>"
    )
    one = parse_html(f"<nav><p>Home</p></nav>{story}<footer><p>Contact</p></footer>".encode())
    assert [u.main_element for u in one.units if u.block in (0, 4)] == [0.0, 0.0]
    assert all(u.main_element == 1.0 for u in one.units if u.block in (1, 2, 3))
    # Two halves in sibling containers: their parent holds the story, both halves in it.
    half = "<p>The council voted to close the bridge for repairs this week, officials said.</p>"
    halves = parse_html(f"<main><div>{half}</div><div>{half}</div></main>".encode())
    assert [u.main_element for u in halves.units] == [1.0, 1.0]


def test_dom_v2_adds_the_main_element_flag_and_v1_keeps_its_features() -> None:
    page = parse_html(STORY_PAGE.encode())
    dom = {c: [getattr(u, c) for u in page.units] for c in DOM_COLUMNS}
    frame = units_frame([u.text for u in page.units], doc_id="p", dom=dom)
    v1, _ = featurizers.get("dom.v1", "features")()
    v2, _ = featurizers.get("dom.v2", "features")()
    old = v1.fit(frame).transform(frame).toarray()
    new = v2.fit(frame).transform(frame).toarray()
    names = list(v2.get_feature_names_out())
    flag = names.index("dom_in_main_element")
    assert list(new[:, flag]) == [u.main_element for u in page.units]
    assert np.array_equal(np.delete(new, flag, axis=1), old)
    assert list(v1.get_feature_names_out()) == names[:flag] + names[flag + 1 :]
    # A featurizer saved before the option existed has no such attribute: it reads as v1.
    del v1.__dict__["main_element"]
    assert np.array_equal(v1.transform(frame).toarray(), old)


def test_predict_html_page_writes_dom_paths_and_checkable_offsets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "story.html"
    page.write_text(PAGE, encoding="utf-8")
    side = tmp_path / "text"
    assert main(["predict", MODEL, str(page), "--text-sidecar", str(side), "--quiet"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    text = (side / "story.html.txt").read_text("utf-8")
    assert "<" not in text and "Hidden" not in text
    assert [r["text"] for r in rows] == [text[r["start"] : r["end"]] for r in rows]
    assert rows[0]["dom_path"] == "html>body>nav.site-nav>ul>li"
    copy = tmp_path / "story.txt"
    copy.write_text(PAGE, encoding="utf-8")
    assert main(["predict", MODEL, str(copy), "--input-format", "html", "--quiet"]) == 0
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in again] == [r["text"] for r in rows]


def test_label_html_in_the_api_and_bad_pages_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = load_model(MODEL)
    text, units = model.label_html(PAGE.encode())
    assert units and all(text[u["start"] : u["end"]] == u["text"] for u in units)
    assert model.label_html(b"<html></html>") == ("", [])
    binary = tmp_path / "photo.html"
    binary.write_bytes(bytes(range(256)) * 64)
    assert main(["predict", MODEL, str(binary), "--quiet"]) == 2
    assert "winnow: error: " in capsys.readouterr().err


def test_rendered_pages_are_deterministic_and_labelled_from_their_source(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "data"))
    import render_html

    doc = {
        "doc_id": "t-001",
        "site_style": "news",
        "publisher": "The Test Ledger",
        "blocks": [
            [["boilerplate", "Home"], ["boilerplate", "World"], ["boilerplate", "Sport"]],
            [["event", "Bridge reopens after repairs"]],
            [
                ["event", "The bridge reopened on Monday after six months of repairs."],
                ["opinion", "It should never have taken this long."],
            ],
            [["boilerplate", "© 2026 The Test Ledger. All rights reserved."]],
        ],
    }
    labels = {t: lab for block in doc["blocks"] for lab, t in block}
    for template in render_html.TEMPLATES:
        data = render_html.render(doc, template)
        assert data == render_html.render(doc, template)
        rows, counts = render_html.label_units(doc, data, f"t-001.{template}")
        assert counts["unmatched"] == 0
        assert " ".join(r["text"] for r in rows) == " ".join(labels), template
        for row in rows:
            source = next(t for t in labels if row["text"] in t)
            assert row["label"] == labels[source]


def test_a_site_menu_is_drawn_from_the_corpus_menus_and_labelled_furniture() -> None:
    sys.path.insert(0, str(ROOT / "data"))
    import render_html

    docs = render_html.documents([str(ROOT / "data/documents/r5_*.jsonl")])
    pool = render_html.menu_pool(docs)
    assert pool and all(len(line) < 30 and not any(c.isdigit() for c in line) for line in pool)
    given = [render_html.with_site_menu(doc, pool) for doc in docs]
    menus = [doc for doc, old in zip(given, docs, strict=True) if doc is not old]
    assert 0.4 < len(menus) / len(docs) < 0.8
    for doc in menus:
        menu = doc["blocks"][0]
        assert 10 <= len(menu) <= 40 and {lab for lab, _ in menu} == {"boilerplate"}
        assert render_html.with_site_menu(docs[given.index(doc)], pool) == doc
    doc = menus[0]
    template = render_html.templates_for(doc, 1)[0]
    rows, _ = render_html.label_units(doc, render_html.render(doc, template), "menu-test")
    first = [r for r in rows if r["text"] in {t for _, t in doc["blocks"][0]}]
    assert len(first) >= 10 and {r["label"] for r in first} == {"boilerplate"}


def test_serve_labels_html_bodies() -> None:
    from winnow.serve import _RequestError, label_request

    model = load_model(MODEL)
    answer = label_request(model, {"html": PAGE})
    assert answer["segments"][0]["dom_path"] == "html>body>nav.site-nav>ul>li"
    assert all(answer["text"][s["start"] : s["end"]] == s["text"] for s in answer["segments"])
    with pytest.raises(_RequestError, match="exactly one of 'text', 'texts' or 'html'"):
        label_request(model, {"html": PAGE, "text": "x"})


def test_html_report_of_an_html_page_shows_its_extracted_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "story.html"
    page.write_text(PAGE, encoding="utf-8")
    out = tmp_path / "report.html"
    assert main(["predict", MODEL, str(page), "--format", "html", "--output", str(out)]) == 0
    report = out.read_text("utf-8")
    assert "Officials said it would supply two towns." in report
    assert "var menu" not in report and "&lt;p&gt;" not in report


def test_many_pages_from_the_cli_come_out_as_one_page_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``winnow predict a.html b.html ...`` scores the pages together and writes what one run a
    page writes; a page it cannot read stops the run with a valid prefix written, and in the API
    every page before it is yielded first."""
    pages = []
    for i in range(3):
        page = tmp_path / f"story{i}.html"
        page.write_text(PAGE.replace("two towns", f"{i + 2} towns"), encoding="utf-8")
        pages.append(str(page))
    alone = []
    for page in pages:
        assert main(["predict", MODEL, page, "--quiet"]) == 0
        alone += capsys.readouterr().out.splitlines()
    assert main(["predict", MODEL, *pages, "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == alone
    binary = tmp_path / "photo.html"
    binary.write_bytes(bytes(range(256)) * 64)
    assert main(["predict", MODEL, pages[0], pages[1], str(binary), pages[2], "--quiet"]) == 2
    captured = capsys.readouterr()
    written = captured.out.splitlines()
    assert written == alone[: len(written)] and "photo.html" in captured.err
    model = load_model(MODEL)
    data = [(p, Path(p).read_bytes()) for p in pages[:2]] + [(str(binary), binary.read_bytes())]
    labelled = model.label_html_pages(data)
    assert [doc for doc, _, _ in (next(labelled), next(labelled))] == pages[:2]
    with pytest.raises(HtmlError, match=r"photo\.html"):
        next(labelled)


def test_pages_under_one_name_are_still_labelled_apart() -> None:
    """Callers may name every page alike; each is still its own article, as ``label_html`` reads it."""
    model = load_model(MODEL)
    bodies = [PAGE, STORY_PAGE, PAGE.replace("two towns", "three towns")]
    alone = [model.label_html(body, doc="page") for body in bodies]
    together = [
        (text, units) for _, text, units in model.label_html_pages([("page", b) for b in bodies])
    ]
    assert together == alone
    labelled = model.label_html_pages([("page", PAGE), None])
    assert next(labelled)[0] == "page"
    with pytest.raises(TypeError, match=r"takes \(doc, data\) pairs, got None"):
        next(labelled)
