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
import stat
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from ..config import LABEL_PATTERN, NAME_PATTERN, VERSION_PATTERN
from ..errors import PackageError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
ARTIFACTS = {"skops": "model.skops", "joblib": "model.joblib"}

# What a manifest may name. Names and labels (patterns in config) reach generated code and wheel
# metadata, file names reach the file system: none can carry quotes, line breaks or paths.
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
# A skops artifact may unzip to at most this many times its own size (the shipped model: about
# 3x; vocabularies in JSON deflate about 25x), and never to more than MAX_UNZIPPED_BYTES.
MAX_UNZIP_RATIO = 100
MAX_UNZIPPED_BYTES = 2 * 1024**3
# Fixed timestamp for every member of a written zip, so that the same model gives the same bytes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class Manifest:
    """What a run records about its package; ``save_package`` adds the format, the libraries
    and the sha256 of every file. Nothing that varies run to run (times, dates) is kept, so the
    same config and data give the same bytes."""

    name: str
    version: str
    labels: list[str]
    config: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's JSON fields; ``extra`` entries (a search's results) sit at the top level."""
        fields = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**fields, **self.extra}


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
    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "datasets", "skops", "joblib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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


def check_identity(manifest: dict[str, Any], where: str | Path) -> None:
    """Refuse a name, version or label that does not match its strict pattern.

    They are written into a wheel's code and metadata, so nothing else may get that far.
    """
    for key, pattern in (("name", NAME_PATTERN), ("version", VERSION_PATTERN)):
        value = manifest.get(key)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise PackageError(
                f"{where}: {key} {value!r} is not allowed (expected {pattern.pattern})"
            )
    labels = manifest.get("labels", [])
    if not isinstance(labels, list) or len(set(map(str, labels))) != len(labels):
        raise PackageError(f"{where}: labels must be a list of distinct names, got {labels!r}")
    for label in labels:
        if not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label):
            raise PackageError(
                f"{where}: label {label!r} is not allowed (expected {LABEL_PATTERN.pattern})"
            )


def save_package(
    pipeline: Any,
    out_dir: Path,
    manifest: dict[str, Any],
    documents: dict[str, str],
    artifact_format: str = "skops",
    force: bool = False,
) -> Path:
    """Write the package to a temporary folder beside ``out_dir``, then swap it in.

    A crash at any moment leaves either the previous package or the new one at ``out_dir``,
    never a half-written one. Only an empty folder or a winnow package is replaced: anything
    else is refused, or moved aside with ``force`` (see ``prepare_output``).
    """
    out_dir = Path(out_dir)
    check_identity(manifest, out_dir / MANIFEST)
    for name in documents:
        if not FILE_NAME_PATTERN.fullmatch(name) or name in (MANIFEST, MANIFEST_HASH):
            raise PackageError(f"{out_dir}: {name!r} is not a valid package file name")
    prepare_output(out_dir, force=force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a package is meant to be shared
    try:
        artifact = ARTIFACTS[artifact_format]
        if artifact_format == "skops":
            # The skops schema is verbose JSON (vocabularies); deflate shrinks it about 25x.
            data = _skops_io().dumps(pipeline, compression=zipfile.ZIP_DEFLATED)
            _write(tmp / artifact, reproducible_skops(data))
        else:
            joblib.dump(pipeline, tmp / artifact)
        for name, text in documents.items():
            _write(tmp / name, text.encode("utf-8"))
        files = sorted(p.name for p in tmp.iterdir())
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "artifact": artifact,
            "libraries": library_versions(),
            "files": {name: sha256_bytes((tmp / name).read_bytes()) for name in files},
        }
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        _write(tmp / MANIFEST, body)
        _write(tmp / MANIFEST_HASH, f"{sha256_bytes(body)}  {MANIFEST}\n".encode())
        prepare_output(out_dir)  # again: something may have appeared there while we trained
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _holds_package(folder: Path) -> bool:
    """Whether ``folder`` holds a winnow package: a manifest matching its hash, naming every file."""
    try:
        body = (folder / MANIFEST).read_bytes()
        if (folder / MANIFEST_HASH).read_bytes() != f"{sha256_bytes(body)}  {MANIFEST}\n".encode():
            return False
        files = json.loads(body)["files"]
        listed = {*files, MANIFEST, MANIFEST_HASH}
        return all(p.name in listed and not p.is_symlink() for p in folder.iterdir())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def prepare_output(target: Path, force: bool = False) -> Path | None:
    """Check that a package may be written at ``target``; return where anything there was moved.

    A missing path, an empty folder or a folder holding a winnow package may be replaced.
    Anything else (a file, a link, a folder of other things) is refused, or with ``force``
    renamed aside to ``<target>.backup-<time>``: nothing is ever deleted.
    """
    target = Path(target)
    if not os.path.lexists(target):
        return None
    is_folder = target.is_dir() and not target.is_symlink()
    if is_folder and (not any(target.iterdir()) or _holds_package(target)):
        return None
    what = "is not empty and holds no winnow package" if is_folder else "is not a folder"
    if not force:
        raise PackageError(
            f"{target}: {what}; refusing to replace it (choose another --output, "
            "or pass --force to move it aside)"
        )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    backup = target.with_name(f"{target.name}.backup-{stamp}")
    suffix = 1
    while os.path.lexists(backup):
        backup = target.with_name(f"{target.name}.backup-{stamp}-{suffix}")
        suffix += 1
    os.rename(target, backup)
    return backup


# Fitted attributes that hold an address of this process: scikit-learn's text vectorizers keep
# ``id(stop_words)`` to skip re-checking them, and check again when it is missing.
PROCESS_ATTRIBUTES = frozenset({"_stop_words_id"})


def _remap_ids(node: Any, ids: dict[int, int], files: dict[str, str]) -> Any:
    """``node`` with skops' object ids and member names replaced by their order of first use,
    and attributes that hold a process's addresses left out."""
    if isinstance(node, list):
        return [_remap_ids(item, ids, files) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in PROCESS_ATTRIBUTES:
            continue
        if key == "__id__" and isinstance(value, int):
            value = ids.setdefault(value, len(ids))
        elif key == "file" and isinstance(value, str):
            value = files.setdefault(value, f"{len(files)}{Path(value).suffix}")
        else:
            value = _remap_ids(value, ids, files)
        out[key] = value
    return out


def _reproducible_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``members`` in the given order with fixed timestamps and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if name.endswith(".npz"):  # numpy stamps the inner zip with the current time
                with zipfile.ZipFile(io.BytesIO(body)) as inner:
                    body = _reproducible_zip(
                        [(i.filename, inner.read(i)) for i in inner.infolist()]
                    )
            archive.writestr(info, body)
    return buffer.getvalue()


def reproducible_skops(data: bytes) -> bytes:
    """The skops archive ``data`` rewritten so that the same pipeline always gives the same bytes.

    skops names arrays and memo entries by ``id()`` and stamps members with the current time;
    here ids become their order of first use in the schema, members are renamed to match and
    written in that order with a fixed timestamp. Loading gives the same objects.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
        files: dict[str, str] = {}
        schema = _remap_ids(schema, {}, files)
        members = [(new, archive.read(old)) for old, new in files.items()]
        known = {*files, "schema.json"}
        members += [
            (i.filename, archive.read(i)) for i in archive.infolist() if i.filename not in known
        ]
    body = json.dumps(schema, indent=2, ensure_ascii=False).encode()
    return _reproducible_zip([("schema.json", body), *members])


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


@dataclass(frozen=True)
class VerifiedPackage:
    """A package read once: its manifest and the bytes of every file, checked against it.

    Loading deserializes these very bytes, so a file changed after the check is never used.
    """

    path: Path
    manifest: dict[str, Any]
    contents: dict[str, bytes]  # every file, the manifest and its hash included


def _read_file(folder_fd: int, name: str, where: Path) -> bytes:
    """The bytes of a regular file directly inside the open folder; links are refused."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder_fd)
    except FileNotFoundError:
        raise PackageError(f"{where / name}: missing from the package") from None
    except OSError as exc:
        raise PackageError(
            f"{where / name}: cannot read ({exc.strerror}); links are refused"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise PackageError(f"{where / name}: not a regular file")
        return handle.read()


def validate_manifest(manifest: Any, where: Path) -> None:
    """Refuse a manifest whose fields have the wrong shape, before any of them is used."""
    if not isinstance(manifest, dict):
        raise PackageError(f"{where}: not a valid manifest (expected a JSON object)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackageError(
            f"{where}: package format {manifest.get('format_version')!r}, "
            f"this winnow reads format {FORMAT_VERSION}"
        )
    files, artifact = manifest.get("files"), manifest.get("artifact")
    if not isinstance(files, dict):
        raise PackageError(f"{where}: 'files' must map file names to sha256 digests")
    for name, digest in files.items():
        if not FILE_NAME_PATTERN.fullmatch(name) or name in (MANIFEST, MANIFEST_HASH):
            raise PackageError(f"{where}: file name {name!r} is not allowed in a package")
        if not isinstance(digest, str) or not SHA256_PATTERN.fullmatch(digest):
            raise PackageError(f"{where}: files.{name}: not a sha256 digest")
    if artifact not in ARTIFACTS.values():
        raise PackageError(
            f"{where}: artifact {artifact!r} is not one of {', '.join(ARTIFACTS.values())}"
        )
    if artifact not in files:
        raise PackageError(f"{where}: artifact {artifact!r} is not listed in files")
    check_identity(manifest, where)
    config = manifest.get("config", {})
    data = config.get("data", {}) if isinstance(config, dict) else None
    if not isinstance(data, dict):
        raise PackageError(f"{where}: 'config' must be an object with a 'data' object")
    max_chars = data.get("max_chars", 5000)
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise PackageError(f"{where}: config.data.max_chars must be a positive integer")
    if not isinstance(manifest.get("libraries", {}), dict):
        raise PackageError(f"{where}: 'libraries' must be an object")


def read_package(path: str | Path) -> VerifiedPackage:
    """Read every file of a package once and check it against the manifest and its hash.

    Every file must sit directly in the folder, be listed and match its sha256; links, folders
    and unlisted files are refused. Nothing is deserialized before every check has passed.
    """
    path = Path(path)
    if not path.is_dir():
        raise PackageError(f"{path}: no such model package (expected a folder)")
    manifest_path = path / MANIFEST
    folder_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        body = _read_file(folder_fd, MANIFEST, path)
        expected = f"{sha256_bytes(body)}  {MANIFEST}\n".encode()
        if _read_file(folder_fd, MANIFEST_HASH, path) != expected:
            raise PackageError(
                f"{manifest_path}: sha256 does not match {MANIFEST_HASH}; refusing to load"
            )
        try:
            manifest = json.loads(body)
        except ValueError as exc:
            raise PackageError(f"{manifest_path}: not a valid manifest ({exc})") from None
        validate_manifest(manifest, manifest_path)
        files = manifest["files"]
        unlisted = sorted(set(os.listdir(folder_fd)) - {*files, MANIFEST, MANIFEST_HASH})
        if unlisted:
            raise PackageError(
                f"{path / unlisted[0]}: not listed in the manifest; refusing to load "
                f"({len(unlisted)} unlisted)"
            )
        contents = {MANIFEST: body, MANIFEST_HASH: expected}
        for name, digest in files.items():
            contents[name] = _read_file(folder_fd, name, path)
            if sha256_bytes(contents[name]) != digest:
                raise PackageError(
                    f"{path / name}: sha256 does not match the manifest; refusing to load"
                )
    finally:
        os.close(folder_fd)
    _check_sklearn_version(manifest, manifest_path)
    return VerifiedPackage(path, manifest, contents)


def verify_package(path: str | Path) -> dict[str, Any]:
    """Check the manifest's own hash and every file's sha256; return the manifest."""
    return read_package(path).manifest


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


def check_unzipped_size(data: bytes, where: Path) -> None:
    """Refuse a skops artifact that is not a zip or would unzip beyond the documented bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(f"{where}: not a skops (zip) archive ({exc})") from None
    limit = min(MAX_UNZIPPED_BYTES, max(64 * 1024**2, MAX_UNZIP_RATIO * len(data)))
    if unzipped > limit:
        raise PackageError(
            f"{where}: unzips to {unzipped:,} bytes, over the limit of {limit:,} "
            f"({MAX_UNZIP_RATIO}x its size, at most {MAX_UNZIPPED_BYTES:,}); refusing to load"
        )


def attributes_in(root: Any) -> Iterator[tuple[str, Any]]:
    """Every ``(attribute, value)`` in the object graph of ``root``, each value once, reached
    through attributes, mappings and sequences (numbers and ``None`` left out)."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        name, node = stack.pop()
        if id(node) in seen or isinstance(node, (int, float, bool, bytes, type(None))):
            continue
        seen.add(id(node))
        yield name, node
        if isinstance(node, dict):
            stack += [(str(k), v) for k, v in node.items()]
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack += [(name, v) for v in node]
        elif hasattr(node, "__dict__") and not isinstance(node, (str, np.ndarray)):
            stack += list(vars(node).items())


def string_patterns(root: Any) -> Iterator[tuple[str, str]]:
    """Every ``(attribute, value)`` in the object graph of ``root`` that holds a regular expression:
    an attribute or parameter whose name contains ``pattern``, or a compiled pattern."""
    for name, node in attributes_in(root):
        if isinstance(node, re.Pattern):
            yield name, node.pattern if isinstance(node.pattern, str) else repr(node.pattern)
        elif isinstance(node, str) and "pattern" in name:
            yield name, node


def check_patterns(pipeline: Any, allowed: set[str], where: Path) -> None:
    """Refuse a pipeline carrying a regular expression no registered builder makes.

    A crafted ``token_pattern`` can backtrack for hours on a short input.
    """
    for name, pattern in string_patterns(pipeline):
        if pattern not in allowed:
            raise PackageError(
                f"{where}: {name} {pattern!r} is not a pattern winnow builds; refusing to load"
            )


def objects_in(root: Any) -> Iterator[Any]:
    """Every object in the graph of ``root`` (``attributes_in``), strings left out."""
    return (node for _, node in attributes_in(root) if not isinstance(node, str))


def check_featurizers(pipeline: Any, where: Path) -> None:
    """Refuse featurizers and models whose saved parameters winnow would refuse in a config (a
    span of 0, a cue that does not exist, an opinion share of 2) or that read more than
    ``MAX_NEIGHBOUR_WINDOW`` units either side: a crafted window of a billion units would stall
    every article in a loop over offsets."""
    from sklearn.base import BaseEstimator

    from ..features.base import MAX_NEIGHBOUR_WINDOW

    for node in objects_in(pipeline):
        if not isinstance(node, BaseEstimator) or not callable(
            getattr(node, "_check_params", None)
        ):
            continue
        name = type(node).__name__
        try:
            node._check_params()
            window = int(getattr(node, "neighbour_window", 0) or 0)
        except (ValueError, TypeError, AttributeError) as exc:
            raise PackageError(f"{where}: {name}: {exc}; refusing to load") from None
        if window > MAX_NEIGHBOUR_WINDOW:
            raise PackageError(
                f"{where}: {name} reads {window:,} units either side, over the limit of "
                f"{MAX_NEIGHBOUR_WINDOW:,}; refusing to load"
            )


def load_artifact(
    package: VerifiedPackage,
    trusted: list[str],
    allowed_patterns: set[str],
    allow_pickle: bool = False,
) -> Any:
    """Deserialize the verified artifact's bytes: skops with an explicit trusted list and bounded
    size, joblib only when allowed; then refuse regular expressions the registry does not build."""
    name = package.manifest["artifact"]
    file, data = package.path / name, package.contents[name]
    if file.suffix == ".joblib":
        if not allow_pickle:
            raise PackageError(
                f"{file}: joblib (pickle) packages can run arbitrary code; "
                "pass --allow-pickle (allow_pickle=True) if you trust its origin"
            )
        pipeline = joblib.load(io.BytesIO(data))
    else:
        check_unzipped_size(data, file)
        sio = _skops_io()
        try:
            data = upgrade_legacy_paths(data)
            untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in trusted]
        except (KeyError, ValueError, TypeError, RecursionError, zipfile.BadZipFile) as exc:
            raise PackageError(f"{file}: not a valid skops archive ({exc})") from None
        if untrusted:
            raise PackageError(f"{file}: refusing untrusted types: {', '.join(untrusted)}")
        try:
            pipeline = sio.loads(data, trusted=trusted)
        except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise PackageError(f"{file}: cannot load the skops archive ({exc})") from None
    check_patterns(pipeline, allowed_patterns, file)
    check_featurizers(pipeline, file)
    return pipeline
