"""Which test modules are integration tests, read from what they import (see tests/conftest.py)."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

# Importing any of these (directly or through a tests/ helper) makes a test module an integration test:
# Rasa and TensorFlow take about ten seconds to load, and a Sanic app is a server.
ADAPTER_PACKAGES = ("rasa", "rasa_sdk", "sanic", "connectors", "bot.actions")
ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def imports_adapters(path: Path) -> bool:
    """Whether the module at `path`, or a tests/ helper it imports, imports Rasa, Sanic or our adapters."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if any(name == package or name.startswith(package + ".") for package in ADAPTER_PACKAGES):
                return True
            helper = _helper_file(name)
            if helper is not None and helper != path and imports_adapters(helper):
                return True
    return False


def _helper_file(name: str) -> Path | None:
    if not name.startswith("tests."):
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None
