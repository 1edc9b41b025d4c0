"""winnow beside fastText on speed, in one run on one machine: in process, through the CLI, at start.

1. In process: ``load_model`` + ``predict`` on ``--n`` real sentences (../shared/eval/
   real_sentences.jsonl; corpus sentences where it is absent), against fastText ``load_model`` +
   ``predict`` on the same raw texts (fastText trained here on the corpus train split).
2. CLI: ``winnow predict MODEL records.jsonl`` on ``--records`` JSONL records, process start
   included, against a fresh Python process that loads fastText, reads the JSON lines, predicts
   and writes one JSON line per record.
3. ``winnow --version``.

Each figure is the median of ``--repeats`` runs; ratios are winnow / fastText throughput.

    python benchmarks/speed.py [--models models/default ...] [--n 10000] [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.anchors.harness import load_corpus  # noqa: E402
from benchmarks.anchors.systems import FastTextSystem, fasttext_tokens  # noqa: E402

# The real set sits beside the repository; a git worktree sits one folder deeper.
REAL = next(
    (p / "shared/eval/real_sentences.jsonl" for p in ROOT.parents if (p / "shared/eval").is_dir()),
    ROOT.parent / "shared/eval/real_sentences.jsonl",
)

# The fastText side of the CLI measure: what a user's script does with a JSONL file.
FASTTEXT_CLI = """
import json, re, sys
import fasttext
_PUNCT, _SPACE = re.compile(r"([^\\w\\s])"), re.compile(r"\\s+")
model = fasttext.load_model(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as src, open(sys.argv[3], "w", encoding="utf-8") as out:
    while True:
        lines = [line for _, line in zip(range(4096), src)]
        if not lines:
            break
        texts = [json.loads(line)["text"] for line in lines]
        tokens = [_SPACE.sub(" ", _PUNCT.sub(r" \\1 ", t.lower())).strip() for t in texts]
        labels, _ = model.predict(tokens, k=1)
        out.write("".join(json.dumps({"text": t, "label": l[0][9:]}) + "\\n"
                          for t, l in zip(texts, labels)))
"""


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def sentences(n: int, real: Path) -> tuple[list[str], str]:
    """``n`` raw sentences cycled from the real set, or from the corpus where it is absent."""
    if real.exists():
        lines = real.read_text(encoding="utf-8").splitlines()
        pool, source = [json.loads(line)["text"] for line in lines], str(real)
    else:
        corpus = load_corpus(ROOT / "configs/default.yaml")
        pool, source = corpus.test["text"].tolist(), "corpus test split (real set absent)"
    return list(islice(cycle(pool), n)), source


def in_process(models: list[Path], fasttext_dir: Path, texts: list[str], repeats: int) -> dict:
    """Sentences per second for load + predict of each winnow model and of fastText."""
    import fasttext
    from winnow import load_model

    def winnow_run(path: Path) -> Callable[[], object]:
        return lambda: load_model(path).predict(texts)

    def fasttext_run() -> object:
        model = fasttext.load_model(str(fasttext_dir / "model.bin"))
        return model.predict([fasttext_tokens(t) for t in texts], k=1)

    def fasttext_untokenized() -> object:
        model = fasttext.load_model(str(fasttext_dir / "model.bin"))
        return model.predict([t.replace("\n", " ") for t in texts], k=1)

    # The reference tokenizes as fastText was trained (lowercase, punctuation split off); the
    # untokenized figure is fastText's own speed on text it was not trained on, for scale.
    out = {
        "fastText": len(texts) / median_time(fasttext_run, repeats),
        "fastText, untokenized": len(texts) / median_time(fasttext_untokenized, repeats),
    }
    for path in models:
        winnow_run(path)()  # warm: imports and Unicode tables are a process's one-off cost
        out[str(path)] = len(texts) / median_time(winnow_run(path), repeats)
    return out


def cli(models: list[Path], fasttext_dir: Path, records: Path, repeats: int) -> dict:
    """Records per second of whole processes: start, load, read, predict, write."""
    n = sum(1 for _ in records.open(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        winnow = shutil.which("winnow", path=str(Path(sys.executable).parent)) or "winnow"

        def process(args: list[str]) -> Callable[[], object]:
            return lambda: subprocess.run(args, check=True, capture_output=True)

        model_bin = str(fasttext_dir / "model.bin")
        fasttext_args = [sys.executable, "-c", FASTTEXT_CLI, model_bin, str(records), str(out)]
        figures = {"fastText": n / median_time(process(fasttext_args), repeats)}
        for path in models:
            args = [winnow, "predict", str(path), str(records), "--quiet", "--output", str(out)]
            figures[str(path)] = n / median_time(process(args), repeats)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=Path, default=[ROOT / "models/default"])
    parser.add_argument("--n", type=int, default=10_000, help="sentences in process")
    parser.add_argument("--records", type=int, default=100_000, help="JSONL records via the CLI")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", type=Path, default=REAL, help="real sentences (JSONL)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    texts, source = sentences(max(args.n, args.records), args.real)
    print(f"sentences: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        fasttext_dir = Path(tmp) / "fasttext"
        corpus = load_corpus(ROOT / "configs/default.yaml")
        FastTextSystem().train(corpus.train, fasttext_dir, seed=13)
        records = Path(tmp) / "records.jsonl"
        records.write_text(
            "".join(json.dumps({"text": t}) + "\n" for t in texts[: args.records]),
            encoding="utf-8",
        )
        figures = {
            "in_process_sent_per_s": in_process(
                args.models, fasttext_dir, texts[: args.n], args.repeats
            ),
            "cli_records_per_s": cli(args.models, fasttext_dir, records, args.repeats),
        }
    winnow = shutil.which("winnow", path=str(Path(sys.executable).parent)) or "winnow"
    version = lambda: subprocess.run([winnow, "--version"], check=True, capture_output=True)  # noqa: E731
    figures["version_s"] = median_time(version, max(args.repeats, 5))

    for measure in ("in_process_sent_per_s", "cli_records_per_s"):
        reference = figures[measure]["fastText"]
        print(f"\n{measure}")
        for system, rate in figures[measure].items():
            print(f"  {system:<40} {rate:>10,.0f}/s  {rate / reference:5.2f}x fastText")
    print(f"\nwinnow --version: {figures['version_s']:.3f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
