"""``winnow package --wheel``: the wheel installs into a fresh virtual environment and labels text."""

from __future__ import annotations

import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from winnow.cli import main


def test_wheel_installs_in_a_fresh_venv_and_labels(tmp_path: Path) -> None:
    assert main(["package", "models/default", "--wheel", "--output", str(tmp_path / "dist")]) == 0
    wheel = next((tmp_path / "dist").glob("winnow_model_default-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "winnow_model_default/model/model.skops" in names
    assert any(n.endswith(".dist-info/RECORD") for n in names)

    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    # The model wheel itself installs alone; winnow and its dependencies come from this
    # interpreter's site-packages so that the test needs no network.
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    env_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = site.getsitepackages()[0]
    Path(env_site, "winnow_deps.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    code = (
        "import winnow_model_default as m; c = m.load(); "
        "print(c.predict(['Sign up for our newsletter and never miss a story.'])[0])"
    )
    result = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.strip() == "boilerplate"
    assert sys.executable != str(python)
