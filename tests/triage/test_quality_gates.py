"""CI fails when the understanding gets worse than the README allows (held-out set, never trained on)."""

from __future__ import annotations

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.ops import cli
from bot.triage.evaluation import GATE_METRICS, GatesError, Scores, failed_gates, read_gates

pytestmark = pytest.mark.stack  # needs the trained model (loaded in process, no server)

README = PROJECT_ROOT / "README.md"


def test_the_readme_states_every_gate_and_urgence_recall_is_total():
    gates = read_gates(README)
    assert set(gates) == set(GATE_METRICS)
    assert gates["urgence_recall"] == 1.0


def test_the_trained_model_passes_every_gate(capsys):
    code = cli.main(["evaluate", "--gates"])
    err = capsys.readouterr().err
    assert code == 0, err


def test_a_score_below_its_gate_fails_with_a_readable_line(tmp_path):
    scores = Scores(total=10, urgence_total=4, urgence_found=3)
    failures = failed_gates(scores, {"urgence_recall": 1.0})
    assert failures == ["urgence_recall = 0.750 < 1.000"]
    broken = tmp_path / "README.md"
    broken.write_text("no table here")
    with pytest.raises(GatesError):
        read_gates(broken)
