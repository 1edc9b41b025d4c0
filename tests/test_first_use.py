"""Issue 13.18: what a new user runs from the README works as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_configs_on_real_without_the_real_set_says_so_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/configs_on_real.py"), "configs/default.yaml"],
        cwd=tmp_path,  # no ../shared here
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "not distributed with winnow" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_readme_commands_use_the_virtual_environment() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    bare = [line for line in lines if re.match(r"python3? (?!-m venv)", line)]
    assert bare == []
    assert "../shared/eval" in readme and "not distributed with winnow" in readme
