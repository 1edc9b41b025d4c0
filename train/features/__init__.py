"""Featurizers: scikit-learn transformers over a frame of units, each registered under a versioned name.

Importing this package registers every featurizer.
"""

from . import batch_cues, blocks, context, cues, dom, hashing, text, vectors
from .base import FRAME_COLUMNS

__all__ = [
    "FRAME_COLUMNS",
    "batch_cues",
    "blocks",
    "context",
    "cues",
    "dom",
    "hashing",
    "text",
    "vectors",
]
