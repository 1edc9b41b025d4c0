"""Inference: a loaded package labels units, articles and record files."""
