"""Reproducible benchmarks: accuracy against published results and speed against plain loops."""
