"""Run configs: YAML in, validated and fully resolved dataclasses out.

Every key is checked against the schema; an unknown key or a wrong type is a ``ConfigError`` that
names the key and suggests the nearest valid one. ``--set a.b=c`` overrides any key before
validation, so overrides are checked the same way.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError

LABELS = ("event", "opinion", "boilerplate")


@dataclass
class DataConfig:
    """Where the labelled units come from and how they split."""

    source: list[str] = field(default_factory=list)
    format: Literal["json", "csv", "parquet", "hub"] = "json"
    text_column: str = "text"
    label_column: str = "label"
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    split_column: str | None = "split"
    split_ratios: dict[str, float] = field(
        default_factory=lambda: {"train": 0.8, "dev": 0.1, "test": 0.1}
    )
    seed: int = 13
    on_error: Literal["raise", "skip"] = "raise"
    max_chars: int = 5000
    # glob of source files -> weight of their units in the fit (1.0 where none matches); lets a
    # large kind of document (whole pages) teach its layout without outvoting lone sentences
    source_weights: dict[str, float] = field(default_factory=dict)
    # globs of data.source files whose units train the event-vs-opinion splitter alone
    # (model.params.splitter_C): reports and judgements that tell the two apart, from documents
    # whose layout the three-label model should not learn
    splitter_only: list[str] = field(default_factory=list)


@dataclass
class FeatureConfig:
    """One named featurizer from the registry, its weight in the union and its keyword arguments."""

    name: str
    weight: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelConfig:
    """One named estimator from the registry and its keyword arguments."""

    name: str = "logreg.v1"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingConfig:
    """How the training set is presented to the pipeline: in memory, or streamed in batches."""

    isolated_copies: bool = True
    streaming: bool = False
    epochs: int = 5
    batch_size: int = 2048
    shuffle_buffer: int = 10000


@dataclass
class SearchConfig:
    """A hyperparameter search over the built pipeline, folds by article; off while ``params`` is empty."""

    method: Literal["grid", "halving_random"] = "grid"
    params: dict[str, list[Any]] = field(default_factory=dict)
    cv: int = 5
    scoring: str = "f1_macro"
    n_jobs: int | None = None
    n_iter: int = 20
    seed: int = 0


@dataclass
class ParallelConfig:
    """Which joblib backend runs the search and cross-validation, and on how many workers."""

    backend: Literal["loky", "threading", "dask", "ray"] = "loky"
    n_jobs: int | None = None
    address: str | None = None


@dataclass
class SpanSetConfig:
    """Whole documents labelled by character spans (``file``, ``start``, ``end``, ``label`` a line,
    the documents beside the labels file), scored with each document labelled in its context."""

    labels: str
    content_vs_boilerplate: bool = False


@dataclass
class EvaluationConfig:
    """What is scored after training, besides the test split."""

    extra_sets: list[str] = field(default_factory=list)
    span_sets: list[SpanSetConfig] = field(default_factory=list)
    bootstrap: int = 1000
    cv_folds: int = 0
    min_confidence: float = 0.5


@dataclass
class ArticleConfig:
    """The article pass: decode each article's units as a sequence (``none``: each unit on its own).

    ``strength`` is the exponent on the learned label transitions: 0 ignores them.
    """

    decoder: Literal["none", "forward_backward"] = "none"
    strength: float = 1.0


@dataclass
class OutputConfig:
    """Where and in which format the packaged model is written."""

    dir: str = "models/{name}"
    format: Literal["skops", "joblib"] = "skops"


@dataclass
class RunConfig:
    """One run: data, features, model, evaluation and output."""

    name: str
    version: str = "0.1.0"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    features: list[FeatureConfig] = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    article: ArticleConfig = field(default_factory=ArticleConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config, every default filled in, as plain YAML-able data."""
        return dataclasses.asdict(self)

    @property
    def output_dir(self) -> Path:
        return Path(self.output.dir.format(name=self.name))


def suggest(key: str, valid: Sequence[str]) -> str:
    """A ' (did you mean ...?)' hint naming the nearest valid key, or ''."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(hint: Any) -> str:
    """A type as the config's reader says it: ``'balanced', a mapping or null``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(arg) for arg in args]
        return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    if origin is Literal:
        return " or ".join(map(repr, args))
    if hint is type(None):
        return "null"
    if origin is dict or hint is dict:
        return (
            f"a mapping of {_type_name(args[0])} to {_type_name(args[1])}" if args else "a mapping"
        )
    if origin in (list, tuple) or hint in (list, tuple):
        return "a list"
    return {
        "str": "a string",
        "float": "a number",
        "int": "an integer",
        "bool": "true or false",
    }.get(
        getattr(hint, "__name__", ""),
        getattr(hint, "__name__", None) or str(hint).replace("typing.", ""),
    )


# What a package may be called and its labels: they reach file names, generated code and wheel
# metadata, so they can carry no quotes, line breaks or paths (checked again by package.store).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
VERSION_PATTERN = re.compile(r"[0-9][0-9A-Za-z.+-]{0,31}")
LABEL_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


class ConfigLoader(yaml.SafeLoader):
    """Safe YAML loading with YAML 1.2 floats: ``2e-5`` is a number, as the README writes
    defaults, not the string YAML 1.1 makes of an exponent without a dot."""


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` and return it converted (lists to tuples, ints to floats)."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, key)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return coerce(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_type_name(hint)}, got {value!r}")
    if hint is type(None):
        if value is not None:
            raise ConfigError(f"{key}: expected null, got {value!r}")
        return None
    if origin in (list, tuple, Sequence) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{key}: expected {len(args)} items, got {len(value)}")
            return tuple(
                coerce(v, a, f"{key}.{i}")
                for i, (v, a) in enumerate(zip(value, args, strict=False))
            )
        item = args[0] if args else Any
        items = [coerce(v, item, f"{key}.{i}") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple or hint is tuple else items
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        kt, vt = args if args else (Any, Any)
        return {coerce(k, kt, key): coerce(v, vt, f"{key}.{k}") for k, v in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{key}: expected {_type_name(hint)}, got {value!r}")
    return value


def from_mapping(cls: type, data: Any, key: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, refusing unknown keys and wrong types."""
    where = key or "config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in data.items():
        path = f"{key}.{name}" if key else str(name)
        if name not in fields:
            raise ConfigError(f"unknown key '{path}'{suggest(str(name), list(fields))}")
        kwargs[name] = coerce(value, hints[name], path)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required key '{missing[0]}'")
    return cls(**kwargs)


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b.c=value`` override to the raw config; the value is parsed as YAML."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE, e.g. model.params.C=4")
    dotted, text = assignment.split("=", 1)
    try:
        value = yaml.load(text, Loader=ConfigLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {dotted}: value {text!r} is not valid YAML ({exc})") from None
    parts = dotted.strip().split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        node = _list_item(node, part, here) if isinstance(node, list) else node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"--set {dotted}: '{here}' is not a section")
    last = parts[-1]
    if isinstance(node, list):
        _list_item(node, last, dotted)
        node[int(last)] = value
    else:
        node[last] = value


def _list_item(node: list[Any], part: str, where: str) -> Any:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set: '{where}' needs an index below {len(node)}")
    return node[int(part)]


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, naming the file, line and column of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    try:
        return yaml.load(text, Loader=ConfigLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read, override and validate a run config; errors name the file and the key."""
    path = Path(path)
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: a config must be a mapping of sections, got {type(raw).__name__}"
        )
    for assignment in overrides:
        apply_override(raw, assignment)
    if isinstance(raw.get("data", {}).get("source"), str):
        raw["data"]["source"] = [raw["data"]["source"]]
    try:
        config = from_mapping(RunConfig, raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    _check_values(config, path)
    return config


def _check_values(config: RunConfig, path: Path) -> None:
    """Values that type-check but cannot work."""
    ratios = config.data.split_ratios
    unknown = set(ratios) - {"train", "dev", "test"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"{path}: unknown split 'data.split_ratios.{key}'"
            f"{suggest(key, ['train', 'dev', 'test'])}"
        )
    if ratios.get("train", 0) <= 0 or ratios.get("test", 0) <= 0:
        raise ConfigError(f"{path}: data.split_ratios needs train > 0 and test > 0, got {ratios}")
    if any(v < 0 for v in ratios.values()) or abs(sum(ratios.values()) - 1.0) > 1e-6:
        raise ConfigError(f"{path}: data.split_ratios must be >= 0 and sum to 1, got {ratios}")
    for key, value, pattern in (
        ("name", config.name, NAME_PATTERN),
        ("version", config.version, VERSION_PATTERN),
        *(("data.labels", label, LABEL_PATTERN) for label in config.data.labels),
    ):
        if not pattern.fullmatch(str(value)):
            raise ConfigError(
                f"{path}: {key}: {value!r} is not allowed (expected {pattern.pattern}); "
                "it names the package and reaches its wheel"
            )
    if len(set(config.data.labels)) < 2:
        raise ConfigError(f"{path}: data.labels needs at least two distinct labels")
    if config.data.max_chars < 1:
        raise ConfigError(f"{path}: data.max_chars must be >= 1")
    if not config.data.source:
        raise ConfigError(f"{path}: data.source: list at least one data file or glob")
    for pattern, weight in config.data.source_weights.items():
        if not math.isfinite(weight) or weight <= 0:
            raise ConfigError(
                f"{path}: data.source_weights.{pattern}: weight must be a number > 0, got {weight}"
            )
    weights = config.model.params.get("class_weight")
    if isinstance(weights, dict):
        for label, weight in weights.items():
            key = f"model.params.class_weight.{label}"
            if label not in config.data.labels:
                raise ConfigError(
                    f"{path}: {key}: not one of data.labels ({', '.join(config.data.labels)})"
                    f"{suggest(str(label), list(config.data.labels))}"
                )
            number = isinstance(weight, int | float) and not isinstance(weight, bool)
            if not number or not math.isfinite(weight) or weight <= 0:
                raise ConfigError(f"{path}: {key}: weight must be a number > 0, got {weight!r}")
    for key in ("opinion_expert_C", "splitter_C"):
        if config.model.params.get(key) is None:
            continue
        missing = {"event", "opinion"} - set(config.data.labels)
        if missing:
            raise ConfigError(
                f"{path}: model.params.{key}: it splits 'event' from "
                f"'opinion', and data.labels lacks {', '.join(sorted(missing))}"
            )
    check_splitter_columns(config, path)
    if config.data.splitter_only and config.model.params.get("splitter_C") is None:
        raise ConfigError(
            f"{path}: data.splitter_only: its units train the event-vs-opinion splitter alone, "
            "and the model has none (set model.params.splitter_C, or data.splitter_only=[] to "
            "train the whole model on them)"
        )
    if not config.features:
        raise ConfigError(f"{path}: features: list at least one featurizer")
    if config.evaluation.bootstrap < 0:
        raise ConfigError(f"{path}: evaluation.bootstrap must be >= 0")
    if config.evaluation.cv_folds == 1 or config.evaluation.cv_folds < 0:
        raise ConfigError(f"{path}: evaluation.cv_folds must be 0 (off) or >= 2")
    if not 0.0 <= config.evaluation.min_confidence <= 1.0:
        raise ConfigError(f"{path}: evaluation.min_confidence must be within [0, 1]")
    if config.article.strength < 0:
        raise ConfigError(f"{path}: article.strength must be >= 0")
    try:
        check_training(config)
        check_search(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# Featurizers whose output has a fixed number of columns, which ``splitter_columns`` can name.
FIXED_WIDTHS = {"word_vectors.v1": 50}


def check_splitter_columns(config: RunConfig, path: str) -> None:
    """``model.params.splitter_columns`` must be the width of the last featurizers, so that the
    splitter alone reads exactly their columns."""
    wanted = config.model.params.get("splitter_columns") or 0
    if not wanted:
        return
    width = 0
    for feature in reversed(config.features):
        if feature.name not in FIXED_WIDTHS or width >= wanted:
            break
        width += FIXED_WIDTHS[feature.name]
    if width != wanted:
        raise ConfigError(
            f"{path}: model.params.splitter_columns: {wanted} must equal the columns of the last "
            f"featurizers of fixed width ({', '.join(sorted(FIXED_WIDTHS))}), {width} here"
        )


def check_training(config: RunConfig) -> None:
    """Values of the training section that type-check but cannot work (featurizers and models are
    checked against the registry when the pipeline is built)."""
    training = config.training
    for key in ("epochs", "batch_size"):
        if getattr(training, key) < 1:
            raise ConfigError(f"training.{key} must be >= 1")
    if training.shuffle_buffer < 0:
        raise ConfigError("training.shuffle_buffer must be >= 0 (0: no shuffling)")
    if not training.streaming:
        return
    if config.data.source_weights:
        raise ConfigError(
            "data.source_weights: weighted sources need the training set in memory; "
            "remove them with training.streaming: true"
        )
    if config.data.splitter_only:
        raise ConfigError(
            "data.splitter_only: units kept from all but the splitter need the training set in "
            "memory; remove it with training.streaming: true"
        )
    if config.article.decoder != "none":
        raise ConfigError(
            "article.decoder: the article pass counts label transitions over the training set "
            "in memory; set it to none with training.streaming: true"
        )
    if config.evaluation.cv_folds:
        raise ConfigError(
            "evaluation.cv_folds: cross-validation needs the training set in memory; "
            "set it to 0 with training.streaming: true"
        )


def check_search(config: RunConfig) -> None:
    """Values of the search section that type-check but cannot work."""
    search = config.search
    if not search.params:
        return
    if search.cv < 2:
        raise ConfigError("search.cv must be >= 2")
    if search.n_iter < 1:
        raise ConfigError("search.n_iter must be >= 1")
    for key, values in search.params.items():
        if not values:
            raise ConfigError(f"search.params.{key}: list at least one value")
    if config.training.streaming:
        raise ConfigError(
            "search.params: a search refits the pipeline on folds held in memory; "
            "set training.streaming: false"
        )
