"""winnow: train and use classifiers that separate event, opinion and boilerplate text in news."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .inference.classifier import Classifier, load_model

__version__ = "0.2.0"
__all__ = ["Classifier", "__version__", "load_model"]


def __getattr__(name: str) -> Any:
    """Import the model loader on first use, so ``winnow --version`` needs no scikit-learn."""
    if name in ("Classifier", "load_model"):
        from .inference import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'winnow' has no attribute {name!r}")
