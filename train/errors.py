"""Errors a user can fix: each names the file, line or key at fault and ends the CLI with exit code 2."""

from __future__ import annotations


class WinnowError(Exception):
    """Base class of every error caused by user input rather than by a bug."""


class ConfigError(WinnowError):
    """A config file or ``--set`` override is missing, malformed or invalid."""


class DataError(WinnowError):
    """A data file is missing, malformed or holds invalid records."""


class PackageError(WinnowError):
    """A packaged model is missing, tampered with or from an incompatible version."""


class ServeError(WinnowError):
    """The server cannot start: its address is in use, unknown or not allowed."""
