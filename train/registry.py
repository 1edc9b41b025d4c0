"""Named, versioned builders: a config block names one and the rest of the block are its arguments."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import coerce, suggest
from .errors import ConfigError


@dataclass(frozen=True)
class Entry:
    """What the rest of the code needs to know about one registered builder.

    ``trusted_types`` are the classes outside skops' defaults that a fitted object of this builder
    may contain: the loader trusts exactly their union. ``streamable`` says it learns nothing from
    the corpus as a whole and reads one unit at a time (featurizers), or has ``partial_fit``
    (models), so streaming training can use it.
    """

    name: str
    builder: Callable[..., Any]
    trusted_types: tuple[str, ...] = ()
    streamable: bool = False

    @property
    def step(self) -> str:
        """The name's stem, used in pipeline step names: ``"cues.v1"`` -> ``"cues"``."""
        return self.name.split(".")[0]


class Registry:
    """Maps names like ``"logreg.v1"`` to typed builder functions and checks their arguments."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(
        self, name: str, trusted_types: tuple[str, ...] = (), streamable: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator that registers a builder under ``name`` with its metadata."""

        def add(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = Entry(name, builder, tuple(trusted_types), streamable)
            return builder

        return add

    @property
    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        """Every registration, sorted by name."""
        return [self._entries[n] for n in self.names]

    def entry(self, name: str, key: str) -> Entry:
        """The registration called ``name``; an unknown name lists the valid ones."""
        self.get(name, key)
        return self._entries[name]

    def get(self, name: str, key: str) -> Callable[..., Any]:
        """The builder called ``name``; an unknown name lists the valid ones."""
        if name not in self._entries:
            raise ConfigError(
                f"{key}: unknown {self.kind} '{name}'{suggest(name, self.names)}; "
                f"valid names: {', '.join(self.names)}"
            )
        return self._entries[name].builder

    def resolve(self, name: str, params: dict[str, Any], key: str) -> dict[str, Any]:
        """Check ``params`` against the builder's signature and return them with every default filled in."""
        builder = self.get(name, key)
        signature = inspect.signature(builder)
        hints = typing.get_type_hints(builder)
        for arg in params:
            if arg not in signature.parameters:
                raise ConfigError(
                    f"{key}.params: unknown argument '{arg}' for {self.kind} '{name}'"
                    f"{suggest(arg, list(signature.parameters))}; "
                    f"valid: {', '.join(signature.parameters)}"
                )
        resolved = {}
        for arg, parameter in signature.parameters.items():
            if arg in params:
                resolved[arg] = coerce(params[arg], hints.get(arg, Any), f"{key}.params.{arg}")
            elif parameter.default is inspect.Parameter.empty:
                raise ConfigError(f"{key}.params: missing argument '{arg}' for '{name}'")
            else:
                resolved[arg] = parameter.default
        return resolved

    def build(self, name: str, params: dict[str, Any], key: str) -> Any:
        """Validate the arguments and call the builder; bad values become a ``ConfigError`` naming the key."""
        resolved = self.resolve(name, params, key)
        try:
            built = self._entries[name].builder(**resolved)
            for part in _parts(built):
                check = getattr(part, "_check_params", None)
                if callable(check):
                    check()
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        return built


def _parts(built: Any) -> list[Any]:
    """The estimators a builder made: the transformer of a ``(transformer, columns)`` pair, and
    each step of a pipeline, whose parameter checks would otherwise wait for ``fit``."""
    first = built[0] if isinstance(built, tuple) else built
    steps = getattr(first, "steps", None)
    return [step for _, step in steps] if isinstance(steps, list) else [first]


featurizers = Registry("featurizer")
models = Registry("model")


def trusted_types() -> list[str]:
    """The union of every registered builder's trusted types: what a package may contain."""
    from . import estimators, features  # noqa: F401  (importing them fills the registries)

    found = {
        t for registry in (featurizers, models) for e in registry.entries() for t in e.trusted_types
    }
    return sorted(found)
