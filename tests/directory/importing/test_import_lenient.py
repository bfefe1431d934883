"""Import, lenient by value and strict by place: a bad value is dropped with a warning and its place kept;
a place is rejected only without a name, a position or a distinct id; --strict rejects on any bad value."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from bot.core.text import normalize
from bot.directory.importing.importer import derived_id, import_places
from bot.directory.importing.sources import ImportFileError
from bot.ops import cli
from tests.directory.stored import places

DATA = Path(__file__).resolve().parents[2] / "data"
TO_FIX = DATA / "import" / "lieux-a-corriger.csv"




def test_bad_values_are_dropped_with_a_warning_and_their_places_kept(factory):
    report = import_places(factory, TO_FIX)
    stored = places(factory)
    assert report.created == 17 and len(stored) == 17
    velo = stored["velo-3"]
    assert velo.services_list == ["Aide aux démarches administratives"]  # "Réparation de vélos" dropped
    assert stored["cuisine-2"].services is None
    assert stored["tel"].telephone is None
    assert stored["date"].date_maj is None
    assert stored["resume"].presentation_resume is None
    assert stored["pivot"].pivot is None
    assert stored["ok"].telephone == "+33299000001"
    assert report.warning_counts == {"valeur_inconnue": 10, "telephone": 1, "date_maj": 1, "resume_trop_long": 1,
                                     "pivot": 1, "id_calcule": 1, "position_commune": 1}


def test_only_a_place_without_name_or_position_is_rejected(factory):
    report = import_places(factory, TO_FIX)
    assert [(e.line, e.row_id, e.field) for e in report.errors] == [(18, "sans-nom", "nom"),
                                                                      (19, "sans-position", "position")]
    assert "obligatoire" in report.errors[0].message
    assert report.errors[1].message.startswith("position introuvable")
    assert "« Ville inconnue »" in report.errors[1].message
    # No coordinates, but its commune is known: kept, at the commune's position.
    assert places(factory)["commune-seule"].position_approx is True


def test_with_strict_every_bad_value_rejects_its_place(factory):
    report = import_places(factory, TO_FIX, strict=True)
    assert set(places(factory)) == {"ok", "commune-seule"}
    assert report.created == 2 and report.rejected == 17
    by_line = {e.line: e for e in report.errors}
    assert by_line[3].row_id == "velo-1" and by_line[3].message == (
        "services : valeur « Réparation de vélos » inconnue du standard")
    assert by_line[17].field == "id" and "obligatoire" in by_line[17].message
    assert report.warning_counts == {"position_commune": 1}  # a correction, not an error: no rejection


def test_the_summary_groups_warnings_by_kind_with_counts_and_five_examples(factory):
    lines = import_places(factory, TO_FIX).summary_lines()
    assert lines[0] == "17 lieu(x) créé(s), 0 mis à jour, 0 inchangé(s)."
    assert "2 ligne(s) rejetée(s) (2 erreur(s)) :" in lines
    assert "16 avertissement(s), lieux gardés :" in lines
    start = lines.index("- valeurs inconnues du standard, retirées de leur liste : 10")
    group = lines[start + 1:start + 10]
    assert group[:2] == ["    services « Réparation de vélos » : 8 lieu(x)",
                         "    services « Cours de cuisine » : 2 lieu(x)"]
    examples = group[2:7]
    assert examples[0] == ("    ligne 3 (id velo-1) : services : valeur « Réparation de vélos » inconnue du standard")
    assert all(line.startswith("    ligne ") for line in examples)
    assert group[7] == "    … et 5 autre(s)"
    # One group per kind, the most frequent first; single ones show their one example.
    kinds = [line for line in lines if line.startswith("- ")]
    assert kinds[0].endswith(": 10") and len(kinds) == 7
    phone = lines.index("- numéros de téléphone non reconnus, retirés : 1")
    assert lines[phone + 1] == ("    ligne 13 (id tel) : telephone « 12 34 » : numéro non reconnu "
                                "(format attendu : +33 suivi de 9 chiffres)")


def test_a_place_without_id_gets_a_stable_one_derived_from_its_data(factory):
    report = import_places(factory, TO_FIX)
    key = "\n".join((normalize("Sans identifiant"), "35000", normalize("3 rue Saint-Hélier")))
    expected = "lieu-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    assert places(factory)[expected].nom == "Sans identifiant"
    assert report.warnings["id_calcule"].examples[0].message == (
        f"id absent : identifiant « {expected} » calculé à partir du nom, du code postal et de l'adresse")
    # Spelling aside, the same place gets the same id; a re-import updates nothing.
    assert derived_id({"nom": "SANS IDENTIFIANT", "code_postal": "35000", "adresse": "3, rue saint Hélier"}) == expected
    again = import_places(factory, TO_FIX)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 17)


def test_a_derived_id_uses_the_commune_when_the_postcode_is_unusable():
    with_commune = derived_id({"nom": "Lieu", "code_postal": None, "commune": "Saint-Malo", "adresse": "1 rue"})
    assert with_commune != derived_id({"nom": "Lieu", "code_postal": None, "commune": "Rennes", "adresse": "1 rue"})


def test_two_places_with_the_same_derived_id_are_one_place_read_twice(factory):
    row = "nom,commune,code_postal,adresse,latitude,longitude\nLieu,Rennes,35000,1 rue A,48.11,-1.68\n"
    report = import_places(factory, io.StringIO(row + row.split("\n", 1)[1]))
    assert report.created == 1 and report.errors[0].line == 3 and "déjà présent ligne 2" in report.errors[0].message


@pytest.mark.parametrize("header, missing", [("id,commune,code_postal,adresse", "nom"),
                                             ("id,nom,adresse,telephone", "latitude et longitude, ou commune")])
def test_a_header_without_a_name_or_a_way_to_place_is_refused(factory, header, missing):
    with pytest.raises(ImportFileError, match=missing):
        import_places(factory, io.StringIO(header + "\nx,y,z,w\n"))


def test_a_header_with_a_name_and_a_commune_is_enough(factory):
    report = import_places(factory, io.StringIO("nom,commune\nMédiathèque,Fougères\n"))
    assert report.created == 1 and report.errors == []
    assert report.warning_counts["champ_vide"] == 3  # pivot, adresse, date_maj (the postcode is Fougères')
    assert "    pivot : 1 lieu(x)" in report.summary_lines()


@pytest.mark.parametrize("name, total", [("2022-06-cartographie-draft.json", 3),
                                         ("2022-07-conseillers-numeriques-draft.json", 20),
                                         ("2023-05-hub-du-sud-v0.1.json", 25), ("2023-07-charente-v0.1.json", 20),
                                         ("2024-03-nouvelle-caledonie-v0.1.json", 15),
                                         ("2024-09-hub-du-sud-mixed.json", 10)])
def test_real_exports_of_every_earlier_version_keep_their_places(factory, name, total):
    report = import_places(factory, DATA / "legacy" / name)
    assert report.created >= 0.95 * total, report.summary_lines()
    assert report.rejected <= 0.05 * total


def test_the_command_keeps_places_by_default_and_rejects_them_with_strict(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert cli.main(["import-lieux", str(TO_FIX), "--strict"]) == 0
    strict = capsys.readouterr().out
    assert strict.startswith("2 lieu(x) créé(s)") and "17 ligne(s) rejetée(s)" in strict
    assert cli.main(["import-lieux", str(TO_FIX)]) == 0
    lenient = capsys.readouterr().out
    assert lenient.startswith("15 lieu(x) créé(s), 0 mis à jour, 2 inchangé(s).")
    assert "services « Réparation de vélos » : 8 lieu(x)" in lenient
