"""The ``winnow`` command: a thin dispatcher over train, predict, evaluate and data check."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import load_config
from .data import read_labelled_jsonl
from .errors import WinnowError

EXIT_USAGE = 2


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
    p.add_argument("--output", type=Path, help="package folder (default: the config's output.dir)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="label articles or JSONL records with a packaged model")
    p.add_argument("model", type=Path, help="package folder, e.g. models/default")
    p.add_argument("inputs", nargs="+", help="article text files, .jsonl files, or - for stdin")
    p.add_argument("--format", choices=["jsonl", "text"], default="jsonl")
    p.add_argument("--output", type=Path, help="write here instead of stdout")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow joblib (pickle) packages: only for packages you trust",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        metavar="P",
        help="label units whose top score is below P as 'uncertain'",
    )
    p.set_defaults(func=cmd_predict)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a packaged model on a labelled JSONL file")
    p.add_argument("model", type=Path)
    p.add_argument(
        "data", type=Path, help="JSONL with 'text' and 'label' (article columns optional)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--allow-pickle", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare packaged runs, with significance tests")
    p.add_argument("runs", nargs="+", type=Path, help="package folders; later ones vs the first")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_compare)


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="corpus tools")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="counts, duplicates, split leaks, bad records")
    check.add_argument("config", nargs="?", default="configs/default.yaml")
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    check.set_defaults(func=cmd_data_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="winnow", description="Separate event, opinion and boilerplate text in news articles."
    )
    parser.add_argument("--version", action="version", version=f"winnow {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_predict, _add_evaluate, _add_compare, _add_data):
        add(sub)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    from .runner import run

    config = load_config(args.config, args.overrides)
    result = run(config, output=args.output, progress=not args.quiet)
    print(result.report)
    total = sum(result.metrics["timings_s"].values())
    print(f"\npackaged {result.output_dir} in {total:.1f}s")
    return 0


def _records(source: str) -> Iterator[tuple[str, list[tuple[str, int | None]]]]:
    """Yield (doc, units); an article is one unit list of None, a JSONL file one unit per record."""
    if source == "-":
        yield "-", [(sys.stdin.read(), None)]
        return
    path = Path(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WinnowError(f"{path}: cannot read ({exc.strerror})") from None
    text = raw.decode("utf-8", errors="replace")
    if path.suffix != ".jsonl":
        yield source, [(text, None)]
        return
    units = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WinnowError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise WinnowError(f"{path}:{number}: expected an object with a string 'text'")
        units.append((record["text"], number))
    yield source, units


def _segments(
    model: Any, doc: str, units: list[tuple[str, int | None]], min_confidence: float
) -> list[dict[str, Any]]:
    if len(units) == 1 and units[0][1] is None:
        segments = model.label_article(units[0][0], doc=doc, min_confidence=min_confidence)
        return [{"doc": doc, **seg} for seg in segments]
    labelled = model.label_units([t for t, _ in units], min_confidence=min_confidence)
    return [
        {"doc": doc, "record": number, **seg}
        for (_, number), seg in zip(units, labelled, strict=True)
    ]


def _write_segment(out: TextIO, segment: dict[str, Any], fmt: str) -> None:
    if fmt == "text":
        out.write(f"{segment['label']}\t{segment['text']}\n")
    else:
        out.write(json.dumps(segment, ensure_ascii=False) + "\n")


def cmd_predict(args: argparse.Namespace) -> int:
    from .inference import load_model

    model = load_model(args.model, allow_pickle=args.allow_pickle)
    with ExitStack() as stack:
        out = (
            stack.enter_context(open(args.output, "w", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        for source in args.inputs:
            for doc, units in _records(source):
                for segment in _segments(model, doc, units, args.min_confidence):
                    _write_segment(out, segment, args.format)
                out.flush()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import format_groups, format_metrics, score, score_groups
    from .inference import load_model

    model = load_model(args.model, allow_pickle=args.allow_pickle)
    frame = read_labelled_jsonl(args.data, model.labels)
    proba = model.proba_frame(frame[["text", "doc_id", "position", "doc_len"]])
    groups = frame["doc_id"].tolist() if frame["doc_id"].notna().any() else None
    metrics = score(frame["label"], proba, model.labels, groups=groups)
    for column in ("source", "domain", "genre"):
        if column in frame.columns and frame[column].nunique() > 1:
            metrics[f"by_{column}"] = score_groups(frame, proba, model.labels, column)
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(format_metrics(metrics, str(args.data)))
    for key, groups_metrics in metrics.items():
        if key.startswith("by_"):
            print(f"\n{format_groups(groups_metrics, key[3:])}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare

    if len(args.runs) < 2:
        raise WinnowError("compare needs at least two runs")
    summary, text = compare(args.runs)
    print(json.dumps(summary) if args.json else text)
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    from .datacheck import check_corpus

    config = load_config(args.config, args.overrides)
    report = check_corpus(config)
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
