"""Whole documents: corpus rows built from blocks, block features, the article pass, span scoring."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from winnow.cli import main
from winnow.config import load_config
from winnow.errors import ConfigError, DataError, PackageError
from winnow.evaluate.spans import Span, read_spans, score_spans
from winnow.features.blocks import NAMES, BlockFeatures
from winnow.inference.classifier import load_model, units_frame
from winnow.inference.decode import ArticleDecoder
from winnow.inference.segment import split_units

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["event", "opinion", "boilerplate"]

PAGE = (
    "Home | World | Sport | Opinion\n"
    "\n"
    "Flood barrier opens on the Tessel after three years of work\n"
    "\n"
    "The barrier closed for the first time on Tuesday night. Engineers said it held back a tide "
    "of four metres. About 2,000 homes lie behind it.\n"
    "Share\n"
    "Tweet\n"
    "© 2026 The Courier\n"
)


def build_documents_module() -> object:
    spec = importlib.util.spec_from_file_location(
        "build_documents", ROOT / "data/build_documents.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def block_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return BlockFeatures().fit(frame).transform(frame)[:, NAMES.index(name)]


# --- corpus rows from documents ------------------------------------------------------------


def test_documents_become_unit_rows_with_block_and_position(tmp_path: Path) -> None:
    documents, corpus = tmp_path / "documents", tmp_path / "corpus"
    documents.mkdir()
    corpus.mkdir()
    document = {
        "doc_id": "d1",
        "kind": "column",
        "site_style": "news",
        "domain": "health",
        "genre": "op_ed",
        "publisher": "The Courier",
        "blocks": [
            [["opinion", "Our clinics need doctors"]],
            [["event", "The clinic closed in May."], ["opinion", "It was a mistake."]],
        ],
    }
    (documents / "r5_columns.jsonl").write_text(json.dumps(document) + "\n", encoding="utf-8")
    assert build_documents_module().main([str(documents), str(corpus)]) == 0
    rows = [json.loads(line) for line in (corpus / "r5_columns.jsonl").read_text().splitlines()]
    assert [(r["position"], r["block"], r["label"]) for r in rows] == [
        (0, 0, "opinion"),
        (1, 1, "event"),
        (2, 1, "opinion"),
    ]
    assert {r["doc_len"] for r in rows} == {3} and "split" not in rows[0]
    assert rows[0]["site_style"] == "news" and rows[0]["publisher"] == "The Courier"
    config = load_config(
        ROOT / "configs/default.yaml", [f"data.source=[{corpus / 'r5_columns.jsonl'}]"]
    )
    from winnow.data.load import load_units

    assert load_units(config.data).frame["block"].tolist() == [0, 1, 1]


def test_a_bad_unit_names_file_and_line(tmp_path: Path) -> None:
    module = build_documents_module()
    source = tmp_path / "pages.jsonl"
    source.write_text('{"doc_id": "x"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"pages\.jsonl:1: missing key 'kind'"):
        module.build_file(source, tmp_path)


def test_a_bad_documents_file_leaves_every_corpus_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file is checked before any is written; doc_ids must be unique across files."""
    module = build_documents_module()
    documents, corpus = tmp_path / "documents", tmp_path / "corpus"
    documents.mkdir()
    corpus.mkdir()
    page = {
        "doc_id": "r9-x-001",
        "kind": "column",
        "site_style": "news",
        "domain": "politics",
        "genre": "column",
        "publisher": "The Courier",
        "blocks": [[["opinion", "The plan will fail."]]],
    }
    (documents / "a.jsonl").write_text(json.dumps(page) + "\n", encoding="utf-8")
    (corpus / "a.jsonl").write_text("earlier rows\n", encoding="utf-8")
    for bad, message in (
        ({**page, "doc_id": "r9-x-002", "blocks": 5}, r"b\.jsonl:1: 'blocks' must be a non-empty"),
        ({**page, "doc_id": ["x"]}, r"b\.jsonl:1: 'doc_id' must be a non-empty string"),
        (page, r"b\.jsonl:1: duplicate doc_id 'r9-x-001'"),
    ):
        (documents / "b.jsonl").write_text(json.dumps(bad) + "\n", encoding="utf-8")
        assert module.main([str(documents), str(corpus)]) == 2
        assert re.search(message, capsys.readouterr().err)
        assert (corpus / "a.jsonl").read_text(encoding="utf-8") == "earlier rows\n"
        assert sorted(p.name for p in corpus.iterdir()) == ["a.jsonl"]


def test_isolate_says_which_units_of_a_document_also_train_alone(tmp_path: Path) -> None:
    module = build_documents_module()
    document = {
        "doc_id": "r6-x-001",
        "kind": "column",
        "site_style": "news",
        "domain": "politics",
        "genre": "editorial",
        "publisher": "The Courier",
        "blocks": [[["opinion", "The treaty froze the quarrel in place."]]],
    }
    rows = list(module.unit_rows(document, "x"))
    assert "isolate" not in rows[0]
    rows = list(module.unit_rows({**document, "isolate": False}, "x"))
    assert rows[0]["isolate"] is False
    with pytest.raises(DataError, match="x: 'isolate' must be true, false or \"content\""):
        list(module.unit_rows({**document, "isolate": "no"}, "x"))
    page = {
        **document,
        "kind": "page",
        "blocks": [[["boilerplate", "Sign up for the morning brief"]], *document["blocks"]],
    }
    assert [r.get("isolate") for r in module.unit_rows(page, "x")] == [False, False]
    content = list(module.unit_rows({**page, "isolate": "content"}, "x"))
    assert [r.get("isolate") for r in content] == [False, None]
    shipped = ROOT / "data/corpus/r6_editorials_a.jsonl"
    assert all(json.loads(line)["isolate"] is False for line in shipped.open(encoding="utf-8"))


# --- block features ------------------------------------------------------------------------


def test_segments_carry_their_line_as_block() -> None:
    segments = split_units(PAGE)
    assert [(s.text, s.block) for s in segments][:4] == [
        ("Home | World | Sport | Opinion", 0),
        ("Flood barrier opens on the Tessel after three years of work", 1),
        ("The barrier closed for the first time on Tuesday night.", 2),
        ("Engineers said it held back a tide of four metres.", 2),
    ]


def test_block_features_read_the_page_as_jusText_does() -> None:
    segments = split_units(PAGE)
    frame = units_frame([s.text for s in segments], "page", blocks=[s.block for s in segments])
    texts = frame["text"].tolist()
    story = texts.index("Engineers said it held back a tide of four metres.")
    assert block_column(frame, "whole_block")[story] == 0
    assert block_column(frame, "block_terminal")[story] == 1
    assert block_column(frame, "first_block")[0] == 1
    short_run = block_column(frame, "short_run")
    assert short_run[texts.index("Tweet")] > short_run[story] == 0
    assert block_column(frame, "link_like_share")[0] > 0
    assert (block_column(frame, "block_missing") == 0).all()


def test_block_features_ignore_row_order_and_flag_missing_blocks() -> None:
    segments = split_units(PAGE)
    frame = units_frame([s.text for s in segments], "page", blocks=[s.block for s in segments])
    shuffled = frame.sample(frac=1.0, random_state=0)
    features = BlockFeatures().fit(frame)
    np.testing.assert_allclose(
        features.transform(shuffled), features.transform(frame)[shuffled.index.to_numpy()]
    )
    lone = units_frame([s.text for s in segments])
    assert (block_column(lone, "block_missing") == 1).all()
    assert (block_column(lone, "block_words") == 0).all()


# --- the article pass ----------------------------------------------------------------------


def fitted_decoder(strength: float = 1.0) -> ArticleDecoder:
    articles = [["boilerplate"] * 5 + ["event"] * 10 + ["boilerplate"] * 5] * 20
    return ArticleDecoder(strength).fit(articles + [["opinion"] * 10] * 5, LABELS)


def test_forward_backward_pulls_a_unit_towards_its_neighbours() -> None:
    proba = np.array([[0.8, 0.1, 0.1]] * 3 + [[0.3, 0.1, 0.6]] + [[0.8, 0.1, 0.1]] * 3)
    posteriors = fitted_decoder().posteriors(proba)
    np.testing.assert_allclose(posteriors.sum(axis=1), 1.0)
    assert posteriors[3].argmax() == 0
    np.testing.assert_allclose(fitted_decoder(0.0).posteriors(proba), proba)


def test_decoding_reads_articles_in_position_order_and_leaves_lone_units() -> None:
    frame = pd.DataFrame(
        {
            "doc_id": ["a", None, "a", "a"],
            "position": pd.array([2, pd.NA, 0, 1], dtype="Int64"),
        }
    )
    proba = np.array([[0.8, 0.1, 0.1], [0.3, 0.1, 0.6], [0.8, 0.1, 0.1], [0.3, 0.1, 0.6]])
    decoded = fitted_decoder().decode_frame(frame, proba)
    np.testing.assert_allclose(decoded[1], proba[1])
    expected = fitted_decoder().posteriors(proba[[2, 3, 0]])
    np.testing.assert_allclose(decoded[[2, 3, 0]], expected)


def test_decoder_round_trips_through_the_manifest_and_refuses_bad_entries() -> None:
    decoder = fitted_decoder(0.7)
    again = ArticleDecoder.from_dict(json.loads(json.dumps(decoder.to_dict())), LABELS)
    proba = np.array([[0.5, 0.2, 0.3], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(again.posteriors(proba), decoder.posteriors(proba), atol=1e-6)
    with pytest.raises(PackageError, match="does not match the model's labels"):
        ArticleDecoder.from_dict(decoder.to_dict(), ["event", "opinion"])
    with pytest.raises(PackageError, match="malformed"):
        ArticleDecoder.from_dict({"strength": 1.0}, LABELS)


MINIMAL = "name: t\ndata:\n  source: [u.jsonl]\nfeatures:\n  - name: tfidf_words.v1\n"


def test_article_section_is_validated_with_key_names(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(MINIMAL + "article:\n  decodr: forward_backward\n")
    with pytest.raises(ConfigError, match=r"article\.decodr.*did you mean 'decoder'"):
        load_config(path)
    path.write_text(MINIMAL + "article:\n  decoder: crf\n")
    with pytest.raises(ConfigError, match=r"article\.decoder: 'crf' is not one of"):
        load_config(path)
    path.write_text(MINIMAL + "article:\n  strength: -1\n")
    with pytest.raises(ConfigError, match=r"article\.strength must be >= 0"):
        load_config(path)


@pytest.fixture(scope="module")
def decoded_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model with block features and the article pass, trained on the shipped corpus."""
    from winnow.fit.run import run

    out = tmp_path_factory.mktemp("models") / "decoded"
    config = load_config(
        ROOT / "configs/default.yaml",
        [
            "features=[{name: tfidf_words.v1}, {name: blocks.v1, weight: 0.3}]",
            "model={name: logreg.v1}",
            "data.splitter_only=[]",
            "evaluation.bootstrap=0",
            "evaluation.cv_folds=0",
            "article.decoder=forward_backward",
            "article.strength=1.0",
        ],
    )
    run(config, output=out, progress=False)
    return out


@pytest.mark.slow
def test_package_ships_the_article_pass_and_labels_agree_with_scores(decoded_model: Path) -> None:
    manifest = json.loads((decoded_model / "manifest.json").read_text())
    assert manifest["article_pass"]["labels"] == manifest["labels"]
    assert manifest["config"]["article"] == {"decoder": "forward_backward", "strength": 1.0}
    model = load_model(decoded_model)
    assert model.decoder is not None
    segments = model.label_article(PAGE, min_confidence=0.0)
    for segment in segments:
        assert segment["label"] == max(segment["scores"], key=segment["scores"].get)
    lone = model.label_units([s["text"] for s in segments])
    pipeline_scores = model.pipeline.predict_proba(units_frame([s["text"] for s in segments]))
    np.testing.assert_allclose(
        [list(u["scores"].values()) for u in lone], pipeline_scores, atol=1e-4
    )


# --- span-labelled documents ---------------------------------------------------------------


def write_spans(folder: Path, spans: list[dict[str, object]]) -> Path:
    (folder / "page1.txt").write_text(PAGE, encoding="utf-8")
    labels = folder / "labels.jsonl"
    labels.write_text("".join(json.dumps(s) + "\n" for s in spans), encoding="utf-8")
    return labels


def span(text: str, label: str, file: str = "page1.txt") -> dict[str, object]:
    start = PAGE.index(text)
    return {"file": file, "start": start, "end": start + len(text), "label": label}


# A menu, a story sentence and a footer of PAGE: the span set the run and the CLI score alike.
MENU_STORY_FOOTER = [
    span("Home | World | Sport | Opinion", "boilerplate"),
    span("The barrier closed for the first time on Tuesday night.", "content"),
    span("© 2026 The Courier", "boilerplate"),
]


def test_spans_take_the_label_covering_most_of_them(tmp_path: Path) -> None:
    labels = write_spans(
        tmp_path,
        [
            span("Home | World | Sport | Opinion", "boilerplate"),
            span("The barrier closed for the first time on Tuesday night.", "content"),
            span("About 2,000 homes lie behind it.", "content"),
            span("Share", "boilerplate"),
        ],
    )
    spans, documents = read_spans(labels)
    assert documents == {"page1.txt": (tmp_path / "page1.txt").resolve()}
    units = {
        "page1.txt": [
            {"start": s.start, "end": s.end, "label": label}
            for s, label in zip(
                split_units(PAGE),
                ["boilerplate", "event", "event", "boilerplate", "opinion", "event", "boilerplate"],
                strict=False,
            )
        ]
    }
    mapped = score_spans(spans, units, content_vs_boilerplate=True)
    assert mapped["recall"] == {"boilerplate": 0.5, "content": 1.0}
    assert mapped["balanced_accuracy"] == pytest.approx(0.75)
    strict = score_spans(spans, units)
    assert strict["recall"]["content"] == 0.0


def test_soft_recall_is_the_mean_score_of_the_right_side(tmp_path: Path) -> None:
    """A span takes its covering units' scores, averaged by the characters each covers; event and
    opinion add up to content; a span no unit covers was dropped."""
    text = "Home | World | Sport | Opinion"
    labels = write_spans(
        tmp_path,
        [span(text, "boilerplate"), {**span(text, "content"), "start": 0, "end": 4}],
    )
    spans, _ = read_spans(labels)
    first, rest = {"start": 0, "end": 4}, {"start": 4, "end": len(text)}
    scores = [
        {"boilerplate": 0.2, "event": 0.5, "opinion": 0.3},
        {"boilerplate": 0.9, "event": 0.05, "opinion": 0.05},
    ]
    units = {"page1.txt": [{**first, "label": "event", "scores": scores[0]}]}
    units["page1.txt"].append({**rest, "label": "boilerplate", "scores": scores[1]})
    metrics = score_spans(spans, units, content_vs_boilerplate=True)
    share = 4 / len(text)
    assert metrics["soft_recall"]["boilerplate"] == pytest.approx(0.2 * share + 0.9 * (1 - share))
    assert metrics["soft_recall"]["content"] == pytest.approx(0.8)
    dropped = score_spans(spans, {"page1.txt": []}, content_vs_boilerplate=True)
    assert dropped["soft_recall"] == {"boilerplate": 1.0, "content": 0.0}


def test_the_editorial_ranking_finds_the_best_single_threshold() -> None:
    """The benchmark's ranking figures: ROC AUC of P(event | story) over the spans, and the best
    macro-F1 one threshold gives, as a search over every threshold with scikit-learn finds it."""
    from sklearn.metrics import f1_score, roc_auc_score

    from benchmarks.documents import event_ranking

    rng = np.random.default_rng(0)
    gold = rng.random(60) < 0.25
    event = np.clip(0.15 + 0.3 * gold + 0.3 * rng.random(60), 0, 0.95)
    units = {
        "ed.txt": [
            {
                "start": 10 * i,
                "end": 10 * i + 9,
                "label": "opinion",
                "scores": {"boilerplate": 0.05, "event": 0.95 * e, "opinion": 0.95 * (1 - e)},
            }
            for i, e in enumerate(event)
        ]
    }
    spans = [
        Span("ed.txt", 10 * i, 10 * i + 9, "event" if g else "opinion") for i, g in enumerate(gold)
    ]
    found = event_ranking(spans, units)
    assert found["articles_event_auc"] == pytest.approx(roc_auc_score(gold, event))
    brute = max(f1_score(gold, event >= t, average="macro") for t in np.unique(event))
    assert found["articles_best_threshold_f1"] == pytest.approx(brute)
    at = event >= found["articles_best_threshold"]
    assert f1_score(gold, at, average="macro") == pytest.approx(brute)


def test_span_files_may_not_escape_the_labels_folder(tmp_path: Path) -> None:
    inner = tmp_path / "set"
    inner.mkdir()
    (tmp_path / "secret.txt").write_text("x" * 20)
    labels = write_spans(inner, [{"file": "../secret.txt", "start": 0, "end": 5, "label": "x"}])
    with pytest.raises(DataError, match=r"labels\.jsonl:1: file '\.\./secret\.txt' is outside"):
        read_spans(labels)
    labels.write_text('{"file": "page1.txt", "start": 5}\n')
    with pytest.raises(
        DataError, match=r"labels\.jsonl:1: needs file, label and start and end \(or text\)"
    ):
        read_spans(labels)


@pytest.mark.slow
def test_cli_evaluates_spans_as_predict_labels_them(
    decoded_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = write_spans(tmp_path, MENU_STORY_FOOTER)
    code = main(
        [
            "evaluate",
            str(decoded_model),
            "--spans",
            str(labels),
            "--content-vs-boilerplate",
            "--json",
        ]
    )
    metrics = json.loads(capsys.readouterr().out)
    assert code == 0 and metrics["n_spans"] == 3 and metrics["labels"] == ["boilerplate", "content"]
    model = load_model(decoded_model)
    units = {"page1.txt": model.label_article(PAGE, doc="page1.txt")}
    spans, _ = read_spans(labels)
    assert metrics == score_spans(spans, units, content_vs_boilerplate=True)
    assert main(["evaluate", str(decoded_model)]) == 2


def test_a_config_names_span_sets_and_the_run_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """metrics.json, the manifest, report.html and the card carry the whole-document sets the
    config names, scored exactly as ``winnow evaluate --spans`` scores the package."""
    from winnow.fit.run import run

    labels = write_spans(tmp_path, MENU_STORY_FOOTER)
    config = load_config(
        ROOT / "configs/default.yaml",
        [
            "features=[{name: hashed_tfidf_words.v1}, {name: blocks.v2, weight: 0.3}]",
            "model={name: logreg.v1}",
            "data.splitter_only=[]",
            "evaluation.bootstrap=0",
            "evaluation.cv_folds=0",
            f"evaluation.span_sets=[{{labels: {labels}, content_vs_boilerplate: true}}]",
        ],
    )
    out = tmp_path / "model"
    result = run(config, output=out, progress=False)
    reported = result.metrics["span_sets"][str(labels)]
    assert (
        main(["evaluate", str(out), "--spans", str(labels), "--content-vs-boilerplate", "--json"])
        == 0
    )
    assert reported == json.loads(capsys.readouterr().out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"][f"{labels}_balanced_accuracy"] == reported["balanced_accuracy"]
    assert "Whole documents (span-labelled)" in (out / "report.html").read_text()
    assert str(labels) in (out / "MODEL_CARD.md").read_text()
    assert str(labels) in result.report


def test_a_bad_span_set_is_named_before_any_fit(tmp_path: Path) -> None:
    from winnow.fit.run import run

    labels = write_spans(tmp_path, [{"file": "page1.txt", "start": 9, "end": 3, "label": "x"}])
    config = load_config(
        ROOT / "configs/default.yaml", [f"evaluation.span_sets=[{{labels: {labels}}}]"]
    )
    with pytest.raises(DataError, match=r"labels\.jsonl:1: expected 0 <= start < end"):
        run(config, output=tmp_path / "model", progress=False)
    assert not (tmp_path / "model" / "manifest.json").exists()
    labels = write_spans(tmp_path, [span("Share", "boilerplate"), span("Share", "Event")])
    config = load_config(
        ROOT / "configs/default.yaml", [f"evaluation.span_sets=[{{labels: {labels}}}]"]
    )
    with pytest.raises(DataError, match=r"labels\.jsonl:2: label 'Event' is not one of event"):
        run(config, output=tmp_path / "model", progress=False)
    past = {"file": "page1.txt", "start": len(PAGE) - 2, "end": len(PAGE) + 40, "label": "event"}
    labels = write_spans(tmp_path, [span("Share", "boilerplate"), past])
    config = load_config(
        ROOT / "configs/default.yaml", [f"evaluation.span_sets=[{{labels: {labels}}}]"]
    )
    with pytest.raises(DataError, match=rf"labels\.jsonl:2: span ends at {len(PAGE) + 40}, past"):
        run(config, output=tmp_path / "model", progress=False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": 0.9, "end": 4}, "whole numbers, got 0.9, 4"),
        ({"start": True, "end": 4}, "whole numbers, got True, 4"),
        ({"start": 0, "end": 4, "label": None}, "'label' must be a non-empty string"),
    ],
)
def test_span_offsets_are_whole_numbers_and_labels_strings(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    labels = write_spans(tmp_path, [{"file": "page1.txt", "label": "boilerplate", **fields}])
    with pytest.raises(DataError, match=rf"labels\.jsonl:1: .*{re.escape(message)}"):
        read_spans(labels)


HTML_PAGE = """<!DOCTYPE html><html><head><title>Flood barrier opens</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<article><h1>Flood barrier opens on the Tessel after three years of work</h1>
<p>The barrier closed for the first time on Tuesday night. Engineers said it held back a tide
of four metres.</p></article>
<footer><p>&copy; 2026 The Courier</p></footer><script>var tracking = 1;</script>
</body></html>"""


def test_html_pages_are_evaluated_by_the_strings_they_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``evaluate --spans`` reads an .html document as ``predict`` does and finds each labelled
    string in its units; a string in no unit (a script) counts as dropped, boilerplate."""
    (tmp_path / "page1.html").write_text(HTML_PAGE, encoding="utf-8")
    spans = [
        {"file": "page1.html", "text": "The barrier closed for the first time", "label": "content"},
        {"file": "page1.html", "text": "held back a tide of four   metres.", "label": "content"},
        {"file": "page1.html", "text": "var tracking = 1;", "label": "boilerplate"},
        {"file": "page1.html", "text": "© 2026 The Courier", "label": "boilerplate"},
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(s) + "\n" for s in spans), encoding="utf-8")
    model_path = ROOT / "models/default"
    argv = ["evaluate", str(model_path), "--spans", str(labels), "--content-vs-boilerplate"]
    assert main([*argv, "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    _, units = load_model(model_path).label_html(HTML_PAGE.encode(), doc="page1.html")
    expected = score_spans(read_spans(labels)[0], {"page1.html": units}, True)
    assert metrics == expected and metrics["n_spans"] == 4
    assert expected["recall"]["boilerplate"] >= 0.5  # the script line, in no unit, is dropped
    labels.write_text('{"file": "page1.html", "text": "  ", "label": "content"}\n')
    with pytest.raises(DataError, match=r"labels\.jsonl:1: needs file, label.*'text' is blank"):
        read_spans(labels)
