"""Sentence splitting time as the input doubles: linear splitting keeps seconds per MB flat.

Two inputs per size: one single line (the worst case of the old quadratic abbreviation check)
and ordinary paragraphs. Sizes double from 1 MB to ``--max-mb``.

    .venv/bin/python benchmarks/segment_scaling.py [--max-mb 64]
"""

from __future__ import annotations

import argparse
import time

from winnow.inference.segment import iter_units

SENTENCE = "Mr. Smith met Gov. Jones at 5 p.m. on Jan. 3, and said the U.S. plan would work. "


def article(size: int, one_line: bool) -> str:
    """About ``size`` characters of news-like sentences, on one line or in paragraphs."""
    paragraph = SENTENCE * 6 + ("" if one_line else "\n\n")
    return (paragraph * (size // len(paragraph) + 1))[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=int, default=64)
    args = parser.parse_args()
    print(f"{'MB':>4} {'layout':>10} {'units':>9} {'seconds':>8} {'s per MB':>9}")
    mb = 1
    while mb <= args.max_mb:
        for one_line in (True, False):
            text = article(mb * 1024 * 1024, one_line)
            began = time.perf_counter()
            units = sum(1 for _ in iter_units(text, max_chars=5000))
            took = time.perf_counter() - began
            layout = "one line" if one_line else "paragraphs"
            print(f"{mb:>4} {layout:>10} {units:>9,} {took:>8.2f} {took / mb:>9.3f}", flush=True)
        mb *= 2


if __name__ == "__main__":
    main()
