"""winnow: train and use classifiers that separate event, opinion and boilerplate text in news."""

from .inference import Classifier, load_model

__version__ = "0.1.0"
__all__ = ["Classifier", "__version__", "load_model"]
