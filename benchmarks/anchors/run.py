"""Train and score winnow's shipped configs, fastText and spaCy textcat on the same split, in one run.

Every system fits on the corpus train split and is scored on its test split, the challenge set and
the real third-party sentences (overall and per source), with fit time, prediction throughput,
size on disk and load time; medians over ``--repeats``. Run from the repository root:

    python -m benchmarks.anchors.run [--repeats 3] [--json out.json] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .harness import Outcome, benchmark, load_corpus, markdown
from .systems import FastTextSystem, SpacySystem, System, WinnowSystem

PACKAGES = ("numpy", "scikit-learn", "fasttext-wheel", "fasttext", "spacy", "thinc", "winnow")


def machine() -> str:
    """CPU model, cores, memory, Python and the versions that matter, as one markdown list."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            cpu,
        )
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return "\n".join(
        [
            f"- machine: {cpu}, {os.cpu_count()} cores{memory}, {platform.system()} "
            f"{platform.release()}",
            f"- Python {platform.python_version()}; {', '.join(versions)}",
        ]
    )


def systems(configs: Sequence[Path], overrides: Sequence[str]) -> list[System]:
    """winnow's configs first, then fastText (the reference of the ratios), then spaCy."""
    return [
        *(WinnowSystem(path, overrides) for path in configs),
        FastTextSystem(),
        SpacySystem("bow"),
        SpacySystem("ensemble"),
    ]


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    """Parse the command line, run every system, print (and optionally write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs", nargs="+", type=Path, default=sorted(Path("configs").glob("*.yaml"))
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--throughput-n", type=int, default=10_000, help="sentences to time")
    parser.add_argument("--challenge", type=Path, default=Path("data/challenge.jsonl"))
    parser.add_argument("--real", type=Path, default=Path("../shared/eval/real_sentences.jsonl"))
    parser.add_argument(
        "--corpus", nargs="+", help="data files to use instead of the configs' data.source"
    )
    parser.add_argument("--json", type=Path, help="also write every repetition here")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    overrides = [f"data.source={json.dumps(args.corpus)}"] if args.corpus else []
    extra = {"challenge": args.challenge, "real": args.real}
    missing = [name for name, path in extra.items() if not path.exists()]
    for name in missing:
        print(f"[anchors] {extra.pop(name)} not found: the {name} set is left out", file=sys.stderr)
    corpus = load_corpus(args.configs[0], overrides, extra)
    print(
        f"[anchors] train {len(corpus.train)}, test {len(corpus.test)}, "
        + ", ".join(f"{k} {len(v)}" for k, v in corpus.sets.items()),
        file=sys.stderr,
    )
    outcomes = benchmark(
        systems(args.configs, overrides),
        corpus,
        repeats=args.repeats,
        n_texts=args.throughput_n,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    command = "python -m benchmarks.anchors.run " + " ".join(argv or sys.argv[1:])
    text = "\n\n".join(
        [
            f"Medians of {args.repeats} repetitions; train {len(corpus.train)} units.",
            markdown(outcomes, corpus, args.throughput_n),
            machine(),
            f"Command: `{command.strip()}`",
        ]
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(
            json.dumps({o.name: o.runs for o in outcomes}, indent=2), encoding="utf-8"
        )
    return outcomes


if __name__ == "__main__":
    main()
