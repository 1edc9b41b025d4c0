"""Packages: write, verify and load a model folder, and build a wheel that carries one."""
