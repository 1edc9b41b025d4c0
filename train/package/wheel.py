"""``winnow package MODEL --wheel``: an installable wheel that carries a verified model package.

After ``pip install``, ``import winnow_model_<name>; winnow_model_<name>.load()`` returns the
``Classifier``. The wheel is written directly (it is a zip with a RECORD of sha256 digests), so
building it needs no build backend and no network.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

from .. import __version__
from .store import verify_package

INIT_TEMPLATE = '''"""The winnow model {name!r}, version {version}, packaged as a wheel."""

from pathlib import Path

from winnow import Classifier, load_model

MODEL_DIR = Path(__file__).parent / "model"
__version__ = {version!r}


def load(allow_pickle: bool = False) -> Classifier:
    """Verify and load the packaged model."""
    return load_model(MODEL_DIR, allow_pickle=allow_pickle)
'''


def _normalise(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def build_wheel(model_dir: str | Path, out_dir: str | Path) -> Path:
    """Verify the package, then write ``winnow_model_<name>-<version>-py3-none-any.whl``."""
    model_dir = Path(model_dir)
    manifest = verify_package(model_dir)
    module = f"winnow_model_{_normalise(manifest['name'])}"
    version = re.sub(r"[^0-9A-Za-z.]+", ".", str(manifest["version"])).strip(".") or "0"
    dist_info = f"{module}-{version}.dist-info"
    files: dict[str, bytes] = {
        f"{module}/__init__.py": INIT_TEMPLATE.format(
            name=manifest["name"], version=version
        ).encode(),
    }
    for path in sorted(model_dir.iterdir()):
        if path.is_file():
            files[f"{module}/model/{path.name}"] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {module.replace('_', '-')}\n"
        f"Version: {version}\n"
        f"Summary: winnow model {manifest['name']} (labels: {', '.join(manifest['labels'])})\n"
        f"Requires-Dist: winnow-news>={__version__}\n"
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: winnow\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [_record_line(name, data) for name, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{module}-{version}-py3-none-any.whl"
    tmp = wheel.with_suffix(".whl.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    tmp.replace(wheel)
    return wheel
