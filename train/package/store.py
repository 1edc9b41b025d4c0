"""Write a packaged model atomically and verify one before anything in it is deserialized.

A package is a folder: the fitted pipeline (``model.skops``, or ``model.joblib`` where the config
asks), ``manifest.json`` with the sha256 of every other file, ``manifest.sha256`` with the hash of
the manifest itself, ``metrics.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import warnings
import zipfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import sklearn

from ..errors import PackageError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
ARTIFACTS = {"skops": "model.skops", "joblib": "model.joblib"}


def _skops_io() -> Any:
    """``skops.io``, imported without letting its scan of every scikit-learn module import Dask.

    skops lists scikit-learn's estimators by importing all of its modules; where Dask is installed
    that pulls in ``dask.array`` (0.2 s and more) through an array-API shim no model here uses.
    """
    if "dask" in sys.modules or "skops.io" in sys.modules:
        import skops.io

        return skops.io
    sys.modules["dask"] = None  # type: ignore[assignment]  (an import of dask fails fast)
    try:
        import skops.io
    finally:
        del sys.modules["dask"]
    return skops.io


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved pipeline loads and behaves the same."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "datasets": metadata.version("datasets"),  # read, not imported: predict never needs it
        "skops": metadata.version("skops"),
        "joblib": joblib.__version__,
    }


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and a rename: readers see the old or the new file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the output is meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_package(
    pipeline: Any,
    out_dir: Path,
    manifest: dict[str, Any],
    documents: dict[str, str],
    artifact_format: str = "skops",
) -> Path:
    """Write the package to a temporary folder beside ``out_dir``, then swap it in.

    A crash at any moment leaves either the previous package or the new one at ``out_dir``,
    never a half-written one.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a package is meant to be shared
    try:
        artifact = ARTIFACTS[artifact_format]
        if artifact_format == "skops":
            # The skops schema is verbose JSON (vocabularies); deflate shrinks it about 25x.
            _write(tmp / artifact, _skops_io().dumps(pipeline, compression=zipfile.ZIP_DEFLATED))
        else:
            joblib.dump(pipeline, tmp / artifact)
        for name, text in documents.items():
            _write(tmp / name, text.encode("utf-8"))
        files = sorted(p.name for p in tmp.iterdir())
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "artifact": artifact,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            "files": {name: sha256_bytes((tmp / name).read_bytes()) for name in files},
        }
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        _write(tmp / MANIFEST, body)
        _write(tmp / MANIFEST_HASH, f"{sha256_bytes(body)}  {MANIFEST}\n".encode())
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _swap_in(new: Path, target: Path) -> None:
    """Put ``new`` at ``target`` so that ``target`` is never missing or half-written.

    Where the kernel can, the two folders are exchanged in one atomic step; elsewhere the old
    folder is renamed aside first and restored if the second rename fails.
    """
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous package
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(target: Path) -> None:
    """Delete the temporary folders that killed runs left beside ``target`` (their process is gone)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)-")
    for path in target.parent.glob(f".{target.name}.*"):
        match = pattern.match(path.name)
        if match and path.is_dir() and not _pid_alive(int(match.group(2))):
            shutil.rmtree(path, ignore_errors=True)


def verify_package(path: str | Path) -> dict[str, Any]:
    """Check the manifest's own hash and every file's sha256; return the manifest.

    Nothing is deserialized before every hash matches.
    """
    path = Path(path)
    if not path.is_dir():
        raise PackageError(f"{path}: no such model package (expected a folder)")
    manifest_path, hash_path = path / MANIFEST, path / MANIFEST_HASH
    for required in (manifest_path, hash_path):
        if not required.is_file():
            raise PackageError(f"{required}: missing from the package")
    body = manifest_path.read_bytes()
    expected = f"{sha256_bytes(body)}  {MANIFEST}\n".encode()
    if hash_path.read_bytes() != expected:
        raise PackageError(
            f"{manifest_path}: sha256 does not match {hash_path.name}; refusing to load"
        )
    try:
        manifest = json.loads(body)
        files = manifest["files"]
        artifact = manifest["artifact"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageError(f"{manifest_path}: not a valid manifest ({exc})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackageError(
            f"{manifest_path}: package format {manifest.get('format_version')!r}, "
            f"this winnow reads format {FORMAT_VERSION}"
        )
    if artifact not in files:
        raise PackageError(f"{manifest_path}: artifact {artifact!r} is not listed in files")
    for name, digest in files.items():
        file = path / name
        if not file.is_file():
            raise PackageError(f"{file}: listed in the manifest but missing")
        if sha256_bytes(file.read_bytes()) != digest:
            raise PackageError(f"{file}: sha256 does not match the manifest; refusing to load")
    _check_sklearn_version(manifest, manifest_path)
    return manifest


def _check_sklearn_version(manifest: dict[str, Any], where: Path) -> None:
    saved = manifest.get("libraries", {}).get("scikit-learn", "")
    saved_parts, here_parts = saved.split(".")[:2], sklearn.__version__.split(".")[:2]
    if not saved or saved_parts[0] != here_parts[0]:
        raise PackageError(
            f"{where}: saved with scikit-learn {saved or 'unknown'}, "
            f"this is {sklearn.__version__}; retrain the model"
        )
    if saved_parts != here_parts:
        warnings.warn(
            f"{where}: saved with scikit-learn {saved}, loading with {sklearn.__version__}; "
            "predictions may differ slightly",
            stacklevel=3,
        )


# Where the featurizers of winnow 0.1 (import name ``train``) live now. Packages saved under the
# old paths load through this map for one release; retrain them to drop it.
LEGACY_CLASSES = {
    "CompactTfidfVectorizer": "winnow.features.text",
    "MaskedText": "winnow.features.text",
    "CueLexiconFeatures": "winnow.features.cues",
    "StyleFeatures": "winnow.features.cues",
    "PositionFeatures": "winnow.features.context",
    "ContextFeatures": "winnow.features.context",
}
_LEGACY_NODE = re.compile(rb'"__class__": "(\w+)",(\s*)"__module__": "train\.features"')


def upgrade_legacy_paths(data: bytes) -> bytes:
    """A skops file whose schema names ``train.features.X`` rewritten to the ``winnow`` paths.

    Only the known featurizer classes are mapped; anything else stays as it is and is then
    judged by the trusted-type check like any other type.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = archive.read("schema.json")
        if b'"train.features"' not in schema:
            return data

        def new_path(match: re.Match[bytes]) -> bytes:
            module = LEGACY_CLASSES.get(match.group(1).decode())
            if module is None:
                return match.group(0)
            return match.group(0).replace(b"train.features", module.encode())

        upgraded = io.BytesIO()
        with zipfile.ZipFile(upgraded, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                body = archive.read(info)
                out.writestr(
                    info,
                    _LEGACY_NODE.sub(new_path, body) if info.filename == "schema.json" else body,
                )
    return upgraded.getvalue()


def load_artifact(
    path: Path, manifest: dict[str, Any], trusted: list[str], allow_pickle: bool = False
) -> Any:
    """Deserialize the verified artifact: skops with an explicit trusted list, joblib only when allowed."""
    file = Path(path) / manifest["artifact"]
    if file.suffix == ".joblib":
        if not allow_pickle:
            raise PackageError(
                f"{file}: joblib (pickle) packages can run arbitrary code; "
                "pass --allow-pickle (allow_pickle=True) if you trust its origin"
            )
        return joblib.load(file)
    data = upgrade_legacy_paths(file.read_bytes())
    sio = _skops_io()
    untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in trusted]
    if untrusted:
        raise PackageError(f"{file}: refusing untrusted types: {', '.join(untrusted)}")
    return sio.loads(data, trusted=trusted)
