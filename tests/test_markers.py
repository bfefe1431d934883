"""`pytest -m unit` is the quick run a developer makes after each change: it must not load Rasa."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.markers import ROOT, imports_adapters

PROBE = """
import sys, pytest
code = pytest.main(["-q", "-p", "no:cacheprovider", "-m", "unit", "--collect-only"])
print("EXIT", int(code))
print("LOADED", sorted(m for m in ("rasa", "rasa_sdk", "tensorflow", "bot.actions") if m in sys.modules))
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_module_importing_rasa_or_an_adapter_is_an_integration_test(tmp_path):
    assert imports_adapters(write(tmp_path, "test_a.py", "from rasa.core.agent import Agent\n"))
    assert imports_adapters(write(tmp_path, "test_b.py", "import connectors.sms as sms\n"))
    assert imports_adapters(write(tmp_path, "test_c.py", "from bot import actions\n"))
    # An import inside a test function counts as much as one at the top.
    assert imports_adapters(write(tmp_path, "test_d.py", "def test_x():\n    import sanic\n"))
    # Through a helper of tests/ that imports the console's Sanic routes.
    assert imports_adapters(write(tmp_path, "test_e.py", "from tests.console_support import Console\n"))


def test_a_module_of_domain_code_only_is_not(tmp_path):
    assert not imports_adapters(write(tmp_path, "test_f.py", "from bot.triage.rules import classify\nimport yaml\n"))
    assert not imports_adapters(write(tmp_path, "test_g.py", "from tests.strategies import examples\n"))
    # A name that only starts like an adapter package is not one.
    assert not imports_adapters(write(tmp_path, "test_h.py", "import rasa_like_name\nimport sanitize\n"))


@pytest.mark.integration  # runs pytest in another process
def test_the_unit_run_loads_neither_rasa_nor_tensorflow():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert "EXIT 0" in lines, done.stdout[-2000:] + done.stderr[-2000:]
    assert "LOADED []" in lines, done.stdout[-2000:]
    collected = [line for line in lines if "::" in line or line.startswith("tests/")]
    assert any(line.startswith("tests/triage/test_emergencies.py::") for line in collected)
    # Tests mirror the packages: a module of tests/connectors that imports no adapter belongs in a domain folder.
    adapters = ("tests/actions/test_rasa_runtime.py", "tests/connectors/")
    misplaced = [line for line in collected if line.startswith(adapters)]
    assert not misplaced, misplaced[:5]
