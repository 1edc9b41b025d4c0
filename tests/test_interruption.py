"""Killing ``winnow train`` or ``winnow predict`` at any moment loses nothing already saved."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from winnow.package.store import verify_package

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "evaluation.cv_folds=0", "--set", "evaluation.bootstrap=0", "--quiet"]


def winnow(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "train", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_killing_train_at_any_moment_keeps_the_previous_package(tmp_path: Path) -> None:
    target = tmp_path / "pkg"
    shutil.copytree(ROOT / "models/default", target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    for delay in (0.5, 2.0, 5.0, 9.0, 14.0):
        proc = winnow("train", "configs/fast_hashing_sgd.yaml", "--output", str(target), *FAST)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        manifest = verify_package(target)  # always a whole, valid package
        if manifest["name"] == "default":
            assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    # A later run cleans what the killed runs left behind and installs its package whole.
    assert (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "train",
                "train",
                "configs/fast_hashing_sgd.yaml",
                "--output",
                str(target),
                *FAST,
            ],
            cwd=ROOT,
            capture_output=True,
        ).returncode
        == 0
    )
    assert verify_package(target)["name"] == "fast_hashing_sgd"
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]


def test_killing_predict_leaves_a_valid_prefix(tmp_path: Path) -> None:
    records = tmp_path / "units.jsonl"
    sentence = "Police said two people were arrested near the station on Sunday."
    records.write_text(
        "".join(json.dumps({"text": f"{sentence} {i}"}) + "\n" for i in range(60_000))
    )
    out = tmp_path / "out.jsonl"
    proc = winnow("predict", "models/default", str(records), "--output", str(out), "--quiet")
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 200_000):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = out.read_bytes()
    assert data and data.endswith(b"\n"), "a killed run must leave only whole lines"
    lines = [json.loads(line) for line in data.splitlines()]
    assert [r["record"] for r in lines] == list(range(1, len(lines) + 1))
    assert os.path.getsize(out) == len(data)
