"""Training time and peak memory against corpus size, streaming and in memory.

Builds corpora of each size (``corpus.py``; under /tmp by default, never committed), then trains
``configs/streaming_sgd.yaml`` as shipped (streaming) and with ``training.streaming=false`` (the
same features and model, fitted in memory), each in a fresh subprocess, and prints a markdown
table. The 1M in-memory run is skipped unless ``--in-memory-1m`` asks for it. From the repository
root:

    python -m benchmarks.scale.run [--sizes 10000 100000 1000000] [--epochs 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from .corpus import build

CONFIG = "configs/streaming_sgd.yaml"
MODES = {"streaming": [], "in memory": ["training.streaming=false"]}


def measure(corpus: Path, mode: str, epochs: int) -> dict:
    """One training run in a fresh interpreter; its figures as printed by ``measure.py``."""
    overrides = [*MODES[mode], f"training.epochs={epochs}"]
    command = [sys.executable, "-m", "benchmarks.scale.measure", CONFIG, str(corpus), *overrides]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} on {corpus} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(results: list[dict]) -> str:
    """The results as a markdown table, one row per size and mode."""
    lines = [
        "| train units | mode | fit s | units/s (fit) | total s | peak RSS MiB | test macro-F1 |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        fit = r["timings_s"]["fit"]
        lines.append(
            f"| {r['n_train']:,} | {r['mode']} | {fit:.1f} | {r['n_train'] * r['epochs'] / fit:,.0f} "
            f"| {r['wall_s']:.1f} | {r['peak_rss_mb']:,.0f} | {r['test_macro_f1']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=1, help="training.epochs for every run")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/winnow-scale"))
    parser.add_argument("--in-memory-1m", action="store_true", help="also fit 1M units in memory")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        corpus = build(size, args.dir / str(size))
        for mode in args.modes:
            if mode == "in memory" and size >= 1_000_000 and not args.in_memory_1m:
                continue
            figures = {"size": size, "mode": mode, "epochs": args.epochs}
            figures.update(measure(corpus, mode, args.epochs))
            results.append(figures)
            print(json.dumps(figures), file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
