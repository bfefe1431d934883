"""Smoke tests of bench/: the scripts' logic at a tiny size, nothing timed."""
