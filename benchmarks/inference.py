"""Inference figures for each shipped config: sentences per second with 1 and 2 processes,
model load time, artifact size and peak memory.

Each measurement runs in a fresh process (so peak RSS is its own). Sentences come from the
corpus test split and the challenge set, repeated to ``--n``; they are labelled as lone units
through the same path as ``winnow predict units.parquet --num-proc N`` (datasets.map).

    python benchmarks/inference.py [configs/*.yaml] [--n 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

FAST = ["evaluation.cv_folds=0", "evaluation.bootstrap=0", "evaluation.extra_sets=[]"]


def measure(package: Path, records: Path, procs: int) -> dict[str, float]:
    """One process: load the package, label every record, report times and peak memory."""
    from winnow import load_model
    from winnow.inference.predict import load_records, record_segments

    began = time.perf_counter()
    model = load_model(package)
    load_s = time.perf_counter() - began
    ds = load_records(records)
    began = time.perf_counter()
    n = sum(1 for _ in record_segments(model, records, ds, num_proc=procs, progress=False))
    label_s = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "load_s": load_s,
        "sent_per_s": n / label_s,
        "peak_rss_mb": max(peak_mb, children_mb),
    }


def sentences(n: int) -> list[str]:
    """Lone units from the corpus test split and the challenge set, cycled to ``n``."""
    from winnow.config import load_config
    from winnow.data.load import load_units
    from winnow.data.split import assign_splits

    data = load_config("configs/default.yaml").data
    frame = load_units(data).frame
    frame["split"] = assign_splits(frame, data)
    pool = frame.loc[frame["split"] == "test", "text"].tolist()
    challenge = Path("data/challenge.jsonl").read_text(encoding="utf-8").splitlines()
    pool += [json.loads(line)["text"] for line in challenge]
    return [pool[i % len(pool)] for i in range(n)]


def run_child(package: Path, records: Path, procs: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            str(package),
            "--records",
            str(records),
            "--procs",
            str(procs),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--procs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.records, args.procs)))
        return
    from winnow.config import load_config
    from winnow.fit.run import run

    configs = args.configs or sorted(Path("configs").glob("*.yaml"))
    print(f"{args.n:,} lone sentences; medians of {args.repeats} runs, each in a fresh process")
    print("| config | sent/s (1 proc) | sent/s (2 procs) | load s | artifact MB | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "units.parquet"
        pd.DataFrame({"text": sentences(args.n)}).to_parquet(records)
        for path in configs:
            config = load_config(path, FAST)
            package = run(config, output=Path(tmp) / config.name, progress=False).output_dir
            artifact = next(package.glob("model.*")).stat().st_size / 1e6
            one = [run_child(package, records, 1) for _ in range(args.repeats)]
            two = [run_child(package, records, 2) for _ in range(args.repeats)]
            med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
            print(
                f"| {path.name} | {med(one, 'sent_per_s'):,.0f} | {med(two, 'sent_per_s'):,.0f} "
                f"| {med(one, 'load_s'):.2f} | {artifact:.1f} | {med(one, 'peak_rss_mb'):,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
