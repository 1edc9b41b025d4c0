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
from typing import Any

import pytest
from winnow import load_model
from winnow.package import store
from winnow.package.store import verify_package

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "evaluation.cv_folds=0", "--set", "evaluation.bootstrap=0", "--quiet"]


def winnow(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "winnow", *args],
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
                "winnow",
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


class Injected(Exception):
    """The failure injected into one write step."""


def _fail_at(step: int, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    """Make the ``step``-th file write, fsync or rename of a package save raise."""
    calls = {"n": 0}

    def counted(real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == step:
                raise Injected(f"step {step}")
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(store, "_write", counted(store._write))
    monkeypatch.setattr(store.os, "rename", counted(os.rename))
    monkeypatch.setattr(store.os, "fsync", counted(os.fsync))
    if not exchange:
        monkeypatch.setattr(store, "_exchange", lambda a, b: False)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-fallback"])
def test_a_failure_at_any_write_step_keeps_the_previous_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    """Every write, fsync and rename of a save fails in turn, with and without renameat2: the
    previous package stays whole and byte-identical, and nothing is left beside it."""
    target = tmp_path / "pkg"
    shutil.copytree(ROOT / "models/default", target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    pipeline = load_model(target).pipeline
    manifest = {"name": "again", "version": "1", "labels": ["boilerplate", "event", "opinion"]}
    step = 1
    while True:
        with monkeypatch.context() as patch:
            _fail_at(step, patch, exchange)
            try:
                store.save_package(pipeline, target, manifest, {"notes.md": "x"})
            except Injected:
                assert {p.name: p.read_bytes() for p in target.iterdir()} == before
                assert [p.name for p in tmp_path.iterdir()] == ["pkg"]
                step += 1
                continue
        break
    assert step > 5, "the save has several write steps, each tried"
    assert verify_package(target)["name"] == "again"


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
