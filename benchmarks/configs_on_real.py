"""Train each config on the corpus train split and score it where it matters: real third-party text.

Prints macro-F1 on the corpus test split, the challenge set and ../shared/eval/real_sentences.jsonl
(overall and per source), plus fit time and artifact size. The real set is read for measurement
only; nothing here trains on it.

    .venv/bin/python benchmarks/configs_on_real.py configs/*.yaml [--real ../shared/eval/real_sentences.jsonl]

The real set is not distributed with winnow; without it the script says so and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from winnow import load_model
from winnow.config import load_config
from winnow.data.load import read_labelled_jsonl
from winnow.evaluate.metrics import evaluate_set
from winnow.fit.run import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--real", type=Path, default=Path("../shared/eval/real_sentences.jsonl"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not args.real.is_file():
        print(
            f"configs_on_real: {args.real} not found; this benchmark needs the real-sentence "
            "set, which is not distributed with winnow (pass --real PATH)",
            file=sys.stderr,
        )
        sys.exit(2)
    real = read_labelled_jsonl(args.real, ["event", "opinion", "boilerplate"])
    rows = []
    for path in args.configs:
        config = load_config(path, ["evaluation.bootstrap=0"])
        with tempfile.TemporaryDirectory() as tmp:
            result = run(config, output=Path(tmp) / config.name, progress=False)
            model = load_model(result.output_dir)
            metrics, _ = evaluate_set(model.proba_frame, real, model.labels, n_bootstrap=1000)
            size = (result.output_dir / model.manifest["artifact"]).stat().st_size
        rows.append(
            {
                "config": path.name,
                "test_macro_f1": result.metrics["test"]["macro_f1"],
                "challenge_macro_f1": next(iter(result.metrics["extra_sets"].values()))["macro_f1"],
                "real_macro_f1": metrics["macro_f1"],
                "real_ci95": metrics["macro_f1_ci95"],
                "real_by_source": metrics["by_source"],
                "fit_s": result.metrics["timings_s"]["fit"],
                "artifact_mb": size / 1e6,
            }
        )
        print_row(rows[-1])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def print_row(row: dict) -> None:
    low, high = row["real_ci95"]
    print(
        f"{row['config']:<24} test {row['test_macro_f1']:.3f}  challenge "
        f"{row['challenge_macro_f1']:.3f}  real {row['real_macro_f1']:.3f} "
        f"[{low:.3f}-{high:.3f}]  fit {row['fit_s']:.1f}s  {row['artifact_mb']:.1f} MB"
    )
    for source, m in row["real_by_source"].items():
        print(f"    {source:<22} n={m['n']:<4} accuracy {m['accuracy']:.3f}")


if __name__ == "__main__":
    main()
