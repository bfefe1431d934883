"""The `aiguillage` command: one module per command group; `parser.py` puts them together."""

from bot.ops.cli.parser import main

__all__ = ["main"]
