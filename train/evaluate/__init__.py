"""Evaluation: metrics with confidence intervals, the HTML report and run comparison."""
