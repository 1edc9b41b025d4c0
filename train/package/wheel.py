"""``winnow package MODEL --wheel``: an installable wheel that carries a verified model package.

After ``pip install``, ``import winnow_model_<name>; winnow_model_<name>.load()`` returns the
``Classifier``. The wheel is written directly (it is a zip with a RECORD of sha256 digests), so
building it needs no build backend and no network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from pathlib import Path

from .. import __version__
from ..errors import PackageError
from .store import ZIP_EPOCH, read_package

# Every value put into the generated module is a JSON string literal (also a valid Python one)
# of a manifest field already held to its strict pattern by ``read_package``.
INIT_TEMPLATE = '''"""A winnow model packaged as a wheel: ``load()`` verifies and loads it."""

from pathlib import Path

from winnow import Classifier, load_model

MODEL_NAME = {name}
MODEL_DIR = Path(__file__).parent / "model"
__version__ = {version}


def load(allow_pickle: bool = False) -> Classifier:
    """Verify and load the packaged model."""
    return load_model(MODEL_DIR, allow_pickle=allow_pickle)
'''


def _normalise(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def _metadata(fields: list[tuple[str, str]]) -> bytes:
    """Core metadata headers; a value holding a line break would add a header, so it is refused."""
    lines = []
    for key, value in fields:
        if "\n" in value or "\r" in value:
            raise PackageError(f"wheel metadata {key}: line breaks are not allowed")
        lines.append(f"{key}: {value}\n")
    return "".join(lines).encode()


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def build_wheel(model_dir: str | Path, out_dir: str | Path) -> Path:
    """Verify the package, then write ``winnow_model_<name>-<version>-py3-none-any.whl``.

    The wheel carries exactly the verified bytes of the files the manifest lists.
    """
    package = read_package(model_dir)
    manifest = package.manifest
    module = f"winnow_model_{_normalise(manifest['name'])}"
    version = re.sub(r"[^0-9A-Za-z.]+", ".", manifest["version"]).strip(".") or "0"
    dist_info = f"{module}-{version}.dist-info"
    init = INIT_TEMPLATE.format(name=json.dumps(manifest["name"]), version=json.dumps(version))
    files: dict[str, bytes] = {f"{module}/__init__.py": init.encode()}
    for name in sorted(package.contents):
        files[f"{module}/model/{name}"] = package.contents[name]
    files[f"{dist_info}/METADATA"] = _metadata(
        [
            ("Metadata-Version", "2.1"),
            ("Name", module.replace("_", "-")),
            ("Version", version),
            (
                "Summary",
                f"winnow model {manifest['name']} (labels: {', '.join(manifest.get('labels', []))})",
            ),
            ("Requires-Dist", f"winnow-news>={__version__}"),
        ]
    )
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
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_EPOCH), data, zipfile.ZIP_DEFLATED)
    tmp.replace(wheel)
    return wheel
