"""Shared fixtures: the real default config trained once on the shipped corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from winnow.config import load_config
from winnow.fit.run import RunResult, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configs name data paths relative to the repository root, as the README runs them."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def trained_default(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """configs/default.yaml trained on the shipped corpus into a temporary package folder."""
    out = tmp_path_factory.mktemp("models") / "default"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        config = load_config(
            ROOT / "configs/default.yaml", ["evaluation.bootstrap=200", "evaluation.cv_folds=2"]
        )
        return run(config, output=out, progress=False)
    finally:
        os.chdir(cwd)
