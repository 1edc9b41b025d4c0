"""Named, versioned builders: a config block names one and the rest of the block are its arguments."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from .config import coerce, suggest
from .errors import ConfigError


class Registry:
    """Maps names like ``"logreg.v1"`` to typed builder functions and checks their arguments."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._builders: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator that registers a builder under ``name``."""

        def add(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._builders[name] = builder
            return builder

        return add

    @property
    def names(self) -> list[str]:
        return sorted(self._builders)

    def get(self, name: str, key: str) -> Callable[..., Any]:
        """The builder called ``name``; an unknown name lists the valid ones."""
        if name not in self._builders:
            raise ConfigError(
                f"{key}: unknown {self.kind} '{name}'{suggest(name, self.names)}; "
                f"valid names: {', '.join(self.names)}"
            )
        return self._builders[name]

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
            return self._builders[name](**resolved)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None


featurizers = Registry("featurizer")
models = Registry("model")
