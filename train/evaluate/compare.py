"""``winnow compare``: runs side by side, and whether their difference on a shared set is real."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import PackageError
from ..package.store import verify_package
from .metrics import mcnemar, paired_bootstrap

ROWS = ("macro_f1", "weighted_f1", "accuracy", "log_loss", "ece")


def load_run(path: str | Path) -> dict[str, Any]:
    """A verified package's manifest, metrics and per-unit predictions (nothing is deserialized)."""
    path = Path(path)
    manifest = verify_package(path)
    try:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(f"{path / 'metrics.json'}: missing; is this a training run?") from None
    predictions: dict[str, list[dict[str, Any]]] = {}
    file = path / "predictions.jsonl"
    if file.is_file():
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                predictions.setdefault(record["set"], []).append(record)
    return {"path": str(path), "manifest": manifest, "metrics": metrics, "predictions": predictions}


def _sets(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"test": run["metrics"]["test"], **run["metrics"].get("extra_sets", {})}


def significance(
    a: dict[str, Any], b: dict[str, Any], n_resamples: int = 1000
) -> dict[str, dict[str, Any]]:
    """Paired bootstrap and McNemar tests on every set both runs scored on the same units."""
    out = {}
    for name, records_a in a["predictions"].items():
        records_b = b["predictions"].get(name)
        if not records_b or [r["text"] for r in records_a] != [r["text"] for r in records_b]:
            continue
        truth = [r["label"] for r in records_a]
        if truth != [r["label"] for r in records_b]:
            continue
        pred_a = [r["pred"] for r in records_a]
        pred_b = [r["pred"] for r in records_b]
        labels = a["manifest"]["labels"]
        groups = [r.get("doc_id") for r in records_a]
        out[name] = {
            "paired_bootstrap": paired_bootstrap(
                truth, pred_a, pred_b, labels, groups, n_resamples=n_resamples
            ),
            "mcnemar": mcnemar(truth, pred_a, pred_b),
        }
    return out


def compare(paths: Sequence[str | Path], alpha: float = 0.05) -> tuple[dict[str, Any], str]:
    """Metrics of every run side by side and tests of each later run against the first."""
    runs = [load_run(p) for p in paths]
    names = [Path(r["path"]).name or r["path"] for r in runs]
    set_names = list(dict.fromkeys(s for r in runs for s in _sets(r)))
    width = max(len(n) for n in [*names, "metric"]) + 2
    lines = []
    for set_name in set_names:
        lines.append(f"== {set_name}")
        lines.append(f"{'metric':<24}" + "".join(f"{n:>{width}}" for n in names))
        for key in ROWS:
            cells = []
            for r in runs:
                value = _sets(r).get(set_name, {}).get(key)
                cells.append(f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}")
            lines.append(f"{key:<24}" + "".join(cells))
    tests = {}
    for name, run in zip(names[1:], runs[1:], strict=True):
        result = significance(runs[0], run)
        tests[name] = result
        for set_name, t in result.items():
            boot, mc = t["paired_bootstrap"], t["mcnemar"]
            verdict = "significant" if boot["p_value"] < alpha else "not significant"
            lines.append(
                f"{name} - {names[0]} on {set_name}: macro-F1 {boot['difference']:+.3f} "
                f"[95% CI {boot['ci95'][0]:+.3f} to {boot['ci95'][1]:+.3f}], paired bootstrap "
                f"p={boot['p_value']:.3f}, McNemar p={mc['p_value']:.3f}: {verdict} at {alpha}"
            )
        if not result:
            lines.append(f"{name} - {names[0]}: no set scored on the same units by both runs")
    summary = {
        "runs": {
            n: {s: _sets(r).get(s) for s in set_names} for n, r in zip(names, runs, strict=True)
        },
        "tests": tests,
    }
    return summary, "\n".join(lines)
