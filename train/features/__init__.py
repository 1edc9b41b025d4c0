"""Featurizers: scikit-learn transformers over a frame of units, each registered under a versioned name.

Importing this package registers every featurizer.
"""

from . import blocks, context, cues, dom, text
from .base import FRAME_COLUMNS

__all__ = ["FRAME_COLUMNS", "blocks", "context", "cues", "dom", "text"]
