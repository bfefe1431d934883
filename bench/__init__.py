"""Benchmark scripts (run as `python -m bench.<script>`); see bench/README.md."""
