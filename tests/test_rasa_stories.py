"""Rasa's own checks on the trained model: data validation and end-to-end test stories."""

import subprocess
import sys

import pytest

from bot import cli

pytestmark = pytest.mark.stack


def rasa(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=cli.PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_training_data_is_valid():
    result = rasa("data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml",
                  "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversation_stories_pass_with_no_prediction_error(tmp_path):
    model = cli.ensure_model(quiet=True)
    result = rasa("test", "core", "--model", str(model), "--stories", "tests/conversations",
                  "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
