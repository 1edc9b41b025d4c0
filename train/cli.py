"""The ``winnow`` command: a thin dispatcher over train, predict, evaluate and data check."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import WinnowError

EXIT_USAGE = 2
# How an article input is read (--input-format of predict and evaluate --spans): auto is by extension.
INPUT_FORMATS = ("auto", "text", "html")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train, evaluate and package a model from a YAML config")
    p.add_argument("config", help="YAML run config, e.g. configs/default.yaml")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set model.params.C=4 (repeatable)",
    )
    p.add_argument(
        "--output",
        type=Path,
        help="package folder (default: the config's output.dir); only an empty folder or a "
        "winnow package there is replaced",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="move anything else at --output aside to OUTPUT.backup-TIME (never deleted)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="label articles or record files with a packaged model")
    p.add_argument(
        "model", type=Path, help="package folder written by winnow train, e.g. models/default"
    )
    p.add_argument(
        "inputs",
        nargs="+",
        help="article text files, - for stdin, or .jsonl/.parquet record files (one unit a record)",
    )
    p.add_argument(
        "--format",
        choices=["jsonl", "text", "html"],
        default="jsonl",
        help="jsonl: one JSON object a unit with offsets and scores; text: LABEL<TAB>unit; "
        "html: one highlighted page (default: %(default)s)",
    )
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default="auto",
        help="read article inputs as text or HTML pages; auto: HTML for .html/.htm files",
    )
    p.add_argument(
        "--text-sidecar",
        type=Path,
        metavar="DIR",
        help="write each HTML page's extracted text to DIR/NAME.txt: the text its offsets index",
    )
    p.add_argument(
        "--unit",
        choices=["sentence", "passage"],
        default="sentence",
        help="passage merges adjacent units of one label within a paragraph (default: %(default)s)",
    )
    p.add_argument("--output", type=Path, help="write here instead of stdout")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the complete lines already in --output and continue after them; refused "
        "unless OUTPUT.run.json shows the same inputs and options wrote them",
    )
    p.add_argument(
        "--num-proc",
        type=int,
        default=1,
        metavar="N",
        help="processes for labelling record files (datasets.map) (default: %(default)s)",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        metavar="P",
        help="label units whose top score is below P as 'uncertain' (default: %(default)s)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow joblib (pickle) packages: only for packages you trust",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="score a packaged model on labelled units or span-labelled documents"
    )
    p.add_argument(
        "model", type=Path, help="package folder written by winnow train, e.g. models/default"
    )
    p.add_argument(
        "data",
        type=Path,
        nargs="?",
        help="JSONL with 'text' and 'label' (article columns optional)",
    )
    p.add_argument(
        "--spans",
        type=Path,
        metavar="LABELS",
        help="JSONL of file, label and start, end (or text, a string to find): spans of whole "
        "documents kept beside it; .html/.htm documents are read as HTML pages",
    )
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default="auto",
        help="with --spans: read the documents as text or HTML pages; auto: HTML for .html/.htm",
    )
    p.add_argument(
        "--content-vs-boilerplate",
        action="store_true",
        help="with --spans: read predicted event and opinion as 'content'",
    )
    p.add_argument(
        "--context",
        choices=["auto", "article", "lone"],
        default="auto",
        help="read units in their articles (needs doc_id) or alone; auto: in articles where the "
        "file has doc_id (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--allow-pickle", action="store_true", help="allow joblib (pickle) packages")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare packaged runs, with significance tests")
    p.add_argument("runs", nargs="+", type=Path, help="package folders; later ones vs the first")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_compare)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a packaged model over HTTP")
    p.add_argument("model", type=Path, help="package folder written by `winnow train`")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=8000, help="TCP port, 0 for any free one (default: %(default)s)"
    )
    p.add_argument(
        "--max-body",
        type=int,
        default=5 * 1024 * 1024,
        metavar="BYTES",
        help="largest accepted request body, 413 above it (default: %(default)s)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow joblib (pickle) packages: only for packages you trust",
    )
    p.set_defaults(func=cmd_serve)


def _add_package(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("package", help="turn a packaged model into an installable wheel")
    p.add_argument(
        "model", type=Path, help="package folder written by winnow train, e.g. models/default"
    )
    p.add_argument("--wheel", action="store_true", required=True, help="build a wheel")
    p.add_argument(
        "--output", type=Path, default=Path("dist"), help="folder for the wheel (default: dist)"
    )
    p.set_defaults(func=cmd_package)


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="corpus tools")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="counts, duplicates, split leaks, bad records")
    check.add_argument(
        "config",
        nargs="?",
        default="configs/default.yaml",
        help="YAML run config (default: %(default)s)",
    )
    check.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set data.seed=3 (repeatable)",
    )
    check.add_argument(
        "--against",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="reference text (JSONL with 'text', .txt, or folders of them): report corpus units "
        "sharing 8 consecutive words with it",
    )
    check.set_defaults(func=cmd_data_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="winnow", description="Separate event, opinion and boilerplate text in news articles."
    )
    parser.add_argument("--version", action="version", version=f"winnow {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_train,
        _add_predict,
        _add_evaluate,
        _add_compare,
        _add_serve,
        _add_package,
        _add_data,
    ):
        add(sub)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .fit.run import run

    config = load_config(args.config, args.overrides)
    result = run(config, output=args.output, progress=not args.quiet, force=args.force)
    print(result.report)
    total = sum(result.metrics["timings_s"].values())
    print(f"\npackaged {result.output_dir} in {total:.1f}s")
    return 0


def _check_predict_args(args: argparse.Namespace) -> None:
    if args.resume and (args.output is None or args.format == "html"):
        raise WinnowError("--resume needs --output and a line format (jsonl or text)")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise WinnowError(f"--min-confidence must be within [0, 1], got {args.min_confidence}")
    if args.num_proc < 1:
        raise WinnowError(f"--num-proc must be >= 1, got {args.num_proc}")


def _predict_options(args: argparse.Namespace) -> Any:
    from .inference.predict import PredictOptions

    return PredictOptions(
        unit=args.unit,
        min_confidence=args.min_confidence,
        num_proc=args.num_proc,
        input_format=args.input_format,
        text_sidecar=args.text_sidecar,
        progress=not args.quiet,
    )


def cmd_predict(args: argparse.Namespace) -> int:
    from .inference.classifier import load_model, settle_process
    from .inference.predict import (
        LineWriter,
        check_output,
        count_complete_lines,
        format_line,
        in_batches,
        labelled_inputs,
        run_identity,
        start_run,
    )
    from .package.store import write_atomic

    _check_predict_args(args)
    if args.output is not None:
        check_output(args.output, args.inputs)
    model = load_model(args.model, allow_pickle=args.allow_pickle)
    settle_process()
    if args.format == "html":
        from .inference.highlight import render_page
        from .inference.predict import highlighted_documents

        documents = highlighted_documents(model, args.inputs, _predict_options(args))
        page = render_page(documents, model.labels)
        if args.output:
            write_atomic(args.output, page.encode("utf-8"))
        else:
            sys.stdout.buffer.write(page.encode("utf-8"))
        return 0
    if args.output is not None:
        options = {
            "model": model.fingerprint,
            "format": args.format,
            "unit": args.unit,
            "min_confidence": args.min_confidence,
        }
        start_run(args.output, run_identity(args.inputs, options), resume=args.resume)
    skip = count_complete_lines(args.output) if args.resume else 0
    with LineWriter(args.output, append=args.resume) as out:
        labelled = labelled_inputs(model, args.inputs, _predict_options(args), skip)
        for segments in in_batches(labelled, 1024):
            out.write("".join(format_line(segment, args.format) for segment in segments))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .data.load import read_labelled_jsonl
    from .evaluate.metrics import evaluate_set, format_groups, format_metrics
    from .inference.classifier import load_model

    if (args.data is None) == (args.spans is None):
        raise WinnowError("evaluate: give either a labelled JSONL file or --spans LABELS")
    model = load_model(args.model, allow_pickle=args.allow_pickle)
    if args.spans is not None:
        return _evaluate_spans(model, args)
    frame = read_labelled_jsonl(args.data, model.labels)
    proba_of = functools.partial(model.proba_frame, progress=not args.quiet)
    metrics, _ = evaluate_set(proba_of, frame, model.labels, context=args.context)
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(format_metrics(metrics, str(args.data)))
    for key, groups_metrics in metrics.items():
        if key.startswith("by_"):
            print(f"\n{format_groups(groups_metrics, key[3:])}")
    return 0


def _evaluate_spans(model: Any, args: argparse.Namespace) -> int:
    """Label each document the spans name, as ``winnow predict`` does, and score the spans."""
    from .evaluate.spans import (
        check_span_labels,
        check_span_offsets,
        format_span_metrics,
        read_spans,
        score_spans,
    )
    from .inference.predict import label_document, text_lengths

    spans, documents = read_spans(args.spans)
    check_span_labels(spans, args.spans, model.labels, args.content_vs_boilerplate)
    check_span_offsets(spans, args.spans, text_lengths(documents, args.input_format))
    units = {
        name: label_document(model, str(path), args.input_format)
        for name, path in documents.items()
    }
    metrics = score_spans(spans, units, args.content_vs_boilerplate)
    print(json.dumps(metrics) if args.json else format_span_metrics(metrics, str(args.spans)))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .evaluate.compare import compare

    if len(args.runs) < 2:
        raise WinnowError("compare needs at least two runs")
    summary, text = compare(args.runs)
    print(json.dumps(summary) if args.json else text)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .inference.classifier import load_model, settle_process
    from .serve import make_server

    if args.max_body < 1:
        raise WinnowError(f"--max-body must be at least 1 byte, got {args.max_body}")
    model = load_model(args.model, allow_pickle=args.allow_pickle)
    settle_process()
    server = make_server(model, args.host, args.port, args.max_body)
    print(
        f"winnow: serving {args.model} on http://{args.host}:{server.server_port}", file=sys.stderr
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    from .package.wheel import build_wheel

    print(build_wheel(args.model, args.output))
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    from .config import load_config
    from .data.check import check_corpus

    config = load_config(args.config, args.overrides)
    report = check_corpus(config, args.against)
    print(report.render())
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; user errors print one line and return 2, tracebacks only with ``--debug``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="winnow: %(levelname)s: %(message)s")
    try:
        return args.func(args)
    except WinnowError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"winnow: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("winnow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) closed the pipe: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0
