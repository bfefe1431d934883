"""Rasa's own checks on the trained model: data validation and end-to-end test stories."""

import subprocess
import sys

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.ops.cli.model import ensure_model

pytestmark = pytest.mark.stack


def rasa(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout)


# Responses sent by custom actions are never named in rules, and button-only intents (and the safety
# screen's danger_possible, set by our NLU component, never learnt) have no examples: Rasa warns about
# both by design. Every other warning (duplicate or conflicting
# examples, unknown actions, story conflicts...) fails the test.
EXPECTED_WARNINGS = ("is not used in any story or rule",
                     "intent 'choix' is listed in the domain file, but is not found in the NLU training data",
                     "intent 'position' is listed in the domain file, but is not found in the NLU training data",
                     "intent 'danger_possible' is listed in the domain file, but is not found in the NLU training data")


def test_training_data_is_valid():
    result = rasa("data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    unexpected = [line for line in output.splitlines() if "UserWarning" in line
                  and not any(expected in line for expected in EXPECTED_WARNINGS)]
    assert not unexpected, "\n".join(unexpected)


def test_conversation_stories_pass_with_no_prediction_error(tmp_path):
    model = ensure_model(quiet=True)
    result = rasa("test", "core", "--model", str(model), "--stories", "tests/conversations",
                  "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
