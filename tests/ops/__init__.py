"""Tests of bot/ops/: the aiguillage command, the worker, the purge."""
