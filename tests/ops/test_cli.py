"""The `aiguillage` command as an operator uses it."""

import json
import subprocess
import sys

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.ops import cli
from bot.ops.cli.database import DEMO_FILE
from bot.ops.cli.model import inputs_hash


def test_import_lieux_reports_and_is_idempotent(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["import-lieux", str(DEMO_FILE), "--demo"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["import-lieux", str(DEMO_FILE), "--demo"]) == 0
    second = capsys.readouterr().out
    assert first != second
    assert any(ch.isdigit() for ch in second)


def test_import_of_a_non_csv_file_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert cli.main(["import-lieux", str(bad)]) == 2
    assert capsys.readouterr().err.strip()


def test_import_of_a_missing_file_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["import-lieux", str(tmp_path / "absent.csv")]) == 2
    assert capsys.readouterr().err.strip()


def test_model_hash_changes_with_its_inputs(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "domain").mkdir()
    (tmp_path / "config.yml").write_text("a")
    (tmp_path / "data" / "x.yml").write_text("1")
    before = inputs_hash(tmp_path)
    assert inputs_hash(tmp_path) == before
    (tmp_path / "data" / "x.yml").write_text("2")
    assert inputs_hash(tmp_path) != before


@pytest.mark.stack
def test_classify_batch_prints_one_json_line_per_input_and_survives_bad_lines(tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "je suis a la rue ce soir"}\n'
                     'pas du json\n'
                     '{"text": "je voudrais apprendre a faire des visios avec mes petits enfants"}\n'
                     '{"text": "bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent '
                     'le rsa, jai pas dordi, jsuis a rennes"}\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot.ops.cli", "classify", "--batch", str(batch), "--json"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["emergency_number"] == "115"
    assert lines[1] == {"line": 2, "error": "ligne illisible : un objet JSON est attendu"}
    assert lines[2]["level"] == "montee_en_competence"
    assert lines[3]["level"] == "urgence" and lines[3]["missing"] == []


@pytest.mark.stack
def test_classify_one_message_with_answers(tmp_path):
    out = subprocess.run([sys.executable, "-m", "bot.ops.cli", "classify", "slt jvoudrais mactualiser pole emploi",
                          "--answer", "enjeu=delai", "--answer", "commune=35000", "--json"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["level"] == "urgence" and result["missing"] == []
    assert set(result) >= {"level", "emergency_number", "reasons", "facts", "missing"}


def test_evaluate_prints_only_json_even_when_a_model_component_prints(tmp_path, monkeypatch, capsys):
    # The benchmark's baseline model prints a warning on stdout as it loads and predicts.
    import rasa.core.agent

    class ChattyAgent:
        async def parse_message(self, text):
            print("UserWarning: chatty component")
            return {"intent": {"name": "demarche"}}

    def load(path):
        print("UnexpecTEDIntentPolicy warning")
        return ChattyAgent()

    monkeypatch.setattr(rasa.core.agent.Agent, "load", staticmethod(load))
    cases = tmp_path / "cas.yml"
    cases.write_text('- {text: "je dois declarer a la caf", intent: demarche, level: null, emergency: null}\n',
                     encoding="utf-8")
    assert cli.main(["evaluate", "--file", str(cases), "--model", str(tmp_path / "m.tar.gz")]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["messages"] == 1 and report["intent_accuracy"] == 1.0
    assert "chatty component" in out.err and "UnexpecTED" in out.err
