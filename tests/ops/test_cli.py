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


LEGACY = PROJECT_ROOT / "tests" / "data" / "legacy"


def test_etat_lieux_says_what_the_directory_covers(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["etat-lieux"]) == 0
    assert "L'annuaire est vide" in capsys.readouterr().out
    # A v0.1 regional export: one place has no usable coordinates and gets its commune's.
    assert cli.main(["import-lieux", str(LEGACY / "2023-05-hub-du-sud-v0.1.json"), "--source", "hub"]) == 0
    capsys.readouterr()
    assert cli.main(["etat-lieux", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures == {"lieux": 25, "sans_position": 0, "position_commune": 1,
                       "perimes": 25,  # its newest date_maj is of 2023
                       "par_departement": {"04": 2, "05": 3, "06": 5, "13": 10, "83": 2, "84": 3}}
    assert cli.main(["etat-lieux"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Annuaire : 25 lieux proposés."
    assert "  13 Bouches-du-Rhône : 10" in lines
    assert "- position de la commune, distance approximative : 1" in lines
    assert "- données périmées (mises à jour il y a plus de 12 mois, ou sans date) : 25" in lines


def test_etat_lieux_leaves_out_withdrawn_places_and_follows_the_staleness_setting(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["import-lieux", str(DEMO_FILE), "--source", "demo"]) == 0
    rows = DEMO_FILE.read_text(encoding="utf-8").splitlines()
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("\n".join(rows[:-2]) + "\n", encoding="utf-8")  # two places gone from the source
    assert cli.main(["import-lieux", str(fewer), "--source", "demo", "--remplacer"]) == 0
    capsys.readouterr()
    assert cli.main(["etat-lieux", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lieux"] == len(rows) - 3  # a header, two withdrawn
    assert cli.main(["etat-lieux"]) == 0
    assert "2 autres lieux sont retirés" in capsys.readouterr().out
    monkeypatch.setenv("AIGUILLAGE_STALE_AFTER_MONTHS", "1200")
    assert cli.main(["etat-lieux", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["perimes"] == 0  # a century: only an undated place would count
    monkeypatch.setenv("AIGUILLAGE_STALE_AFTER_MONTHS", "douze")
    assert cli.main(["etat-lieux", "--json"]) == 2
    assert "AIGUILLAGE_STALE_AFTER_MONTHS : « douze » n'est pas un nombre entier" in capsys.readouterr().err
