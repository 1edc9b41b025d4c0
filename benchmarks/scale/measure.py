"""Train one config on one corpus in this process and print its time and peak memory as JSON.

Run by ``benchmarks/scale/run.py`` in a fresh subprocess per measurement, so that the peak
resident set size (``getrusage``) belongs to that one run alone.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from winnow.config import load_config
from winnow.fit.run import run


def rss_mb() -> float:
    """The current resident set size in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def main(config: str, corpus: str, *overrides: str) -> None:
    settings = [
        f"data.source=[{corpus}/*.jsonl]",
        "evaluation.extra_sets=[]",
        "evaluation.bootstrap=0",
        "evaluation.cv_folds=0",
        *overrides,
    ]
    loaded = load_config(config, settings)
    baseline = rss_mb()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = run(loaded, output=Path(out) / "model", progress=False)
    figures = {
        "wall_s": round(time.perf_counter() - began, 2),
        "timings_s": result.metrics["timings_s"],
        "n_train": result.metrics["n_train"],
        "test_macro_f1": round(result.metrics["test"]["macro_f1"], 4),
        "rss_after_imports_mb": round(baseline, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(*sys.argv[1:])
