"""Anchors: winnow's shipped configs side by side with fastText and spaCy textcat on the same data.

Run ``python -m benchmarks.anchors.run`` from the repository root; see ``run.py``.
"""
