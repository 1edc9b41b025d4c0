"""Fitting: the pipeline a config describes, one training run, searches and streaming training."""
