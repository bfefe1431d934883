"""Importer of the national standard CSV: validation, idempotence, file variants, demo data."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.directory import models
from bot.directory.importing.importer import ImportFileError, import_places
from bot.directory.models import STANDARD_FIELDS, Place
from tests.directory.stored import count

STANDARD_DIR = Path(__file__).resolve().parents[2] / "data" / "standard"  # the published files (README there)
DEMO_FILE = Path(__file__).resolve().parents[3] / "bot" / "directory" / "data" / "demo-rennes.csv"



def row(**overrides):
    base = {
        "id": "lieu-1",
        "pivot": "12345678900012",
        "nom": "Espace numérique test",
        "commune": "Rennes",
        "code_postal": "35000",
        "code_insee": "35238",
        "adresse": "1 rue de la Paix",
        "latitude": "48.11",
        "longitude": "-1.68",
        "telephone": "+33261910001",
        "horaires": "Mo-Fr 09:00-12:00",
        "date_maj": "2026-05-01",
        "services": "Aide aux démarches administratives",
        "modalites_accompagnement": "Accompagnement individuel",
    }
    base.update(overrides)
    return base


def to_csv(rows, delimiter=",", fields=STANDARD_FIELDS, bom=False):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, delimiter=delimiter, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    text = out.getvalue()
    return ("\ufeff" + text) if bom else text



def get(factory, place_id):
    with factory() as session:
        return session.get(Place, place_id)


def test_with_strict_bad_rows_are_reported_with_clear_french_messages_and_good_rows_still_import(factory):
    """--strict (for data producers): every bad value rejects its row. Without it, the values are dropped
    with a warning and the rows kept (tests/directory/importing/test_import_lenient.py)."""
    rows = [
        row(id="ok-1"),
        row(id="missing-nom", nom=""),
        row(id="bad-cp", code_postal="3500"),
        row(id="bad-enum", services="Aide aux démarches administratives|Réparation de vélos"),
        row(id="bad-lat", latitude="148.2"),
        row(id="bad-phone", telephone="12 34"),
        row(id="bad-date", date_maj="2024-13-45"),
        row(id="ok-2"),
    ]
    report = import_places(factory, io.StringIO(to_csv(rows)), strict=True)

    assert report.created == 2
    assert count(factory) == 2
    assert get(factory, "ok-1") is not None and get(factory, "bad-cp") is None
    by_id = {e.row_id: e for e in report.errors}
    assert set(by_id) == {"missing-nom", "bad-cp", "bad-enum", "bad-lat", "bad-phone", "bad-date"}
    assert by_id["missing-nom"].field == "nom" and "obligatoire" in by_id["missing-nom"].message
    assert by_id["bad-cp"].message == "code_postal « 3500 » : 5 chiffres attendus"
    assert by_id["bad-enum"].field == "services" and "Réparation de vélos" in by_id["bad-enum"].message
    assert by_id["bad-lat"].field == "latitude" and "-90 et 90" in by_id["bad-lat"].message
    assert by_id["bad-phone"].field == "telephone" and "12 34" in by_id["bad-phone"].message
    assert by_id["bad-date"].field == "date_maj" and "AAAA-MM-JJ" in by_id["bad-date"].message
    # header is line 1, first data row line 2: "bad-cp" is the third data row
    assert by_id["bad-cp"].line == 4
    assert report.rejected == 6

    lines = report.summary_lines()
    assert lines[0].startswith("2 lieu(x) créé(s)")
    assert any("ligne 4 (id bad-cp)" in line and "5 chiffres" in line for line in lines)


def test_with_strict_every_problem_of_a_row_is_reported_at_once(factory):
    report = import_places(factory, io.StringIO(to_csv([row(code_postal="ABCDE", latitude="x", pivot="12")])),
                           strict=True)
    assert {e.field for e in report.errors} == {"code_postal", "latitude", "pivot"}
    assert report.created == 0


def test_reimport_is_idempotent(factory):
    text = to_csv([row(id=f"lieu-{i}") for i in range(5)])
    first = import_places(factory, io.StringIO(text))
    second = import_places(factory, io.StringIO(text))
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert count(factory) == 5


def test_changed_row_is_detected_as_updated(factory):
    rows = [row(id=f"lieu-{i}") for i in range(3)]
    import_places(factory, io.StringIO(to_csv(rows)))
    rows[1] = row(id="lieu-1", horaires="Sa 10:00-12:00", date_maj="2026-06-01")
    report = import_places(factory, io.StringIO(to_csv(rows)))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert get(factory, "lieu-1").horaires == "Sa 10:00-12:00"


def test_bom_semicolon_and_common_variants_are_accepted_and_normalised(factory, tmp_path):
    variant = row(
        id="variante",
        latitude="48,1106",
        longitude="-1,6796",
        telephone="02 61 91 00 07",
        date_maj="02/04/2026",
        nom="  Point  d’accès   numérique ",
        services="aide aux demarches administratives | MAÎTRISE des outils numériques du quotidien",
        dispositif_programmes_nationaux="Point d’accès numérique CAF|aidants connect",
        modalites_accompagnement="À distance (par téléphone ou en visioconférence)|accompagnement individuel",
        prise_en_charge_specifique="langues etrangeres (autres)",
    )
    path = tmp_path / "lieux.csv"
    path.write_text(to_csv([variant], delimiter=";", bom=True), encoding="utf-8")

    report = import_places(factory, path)

    assert report.errors == [] and report.created == 1
    place = get(factory, "variante")
    assert place.latitude == pytest.approx(48.1106) and place.longitude == pytest.approx(-1.6796)
    assert place.telephone == "+33261910007"
    assert place.date_maj.isoformat() == "2026-04-02"
    assert place.nom == "Point d'accès numérique"
    assert place.services_list == ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"]
    assert place.dispositifs_list == ["Point d'accès numérique CAF", "Aidants Connect"]
    assert place.modalites_accompagnement_list == ["À distance", "Accompagnement individuel"]
    assert place.prise_en_charge_list == ["Langues étrangères (autres)"]


def test_cp1252_file_from_a_spreadsheet_is_read(factory, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(to_csv([row(nom="Médiathèque")], delimiter=";").encode("cp1252"))
    report = import_places(factory, path)
    assert report.created == 1 and get(factory, "lieu-1").nom == "Médiathèque"


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "Bonjour, voici la liste des lieux :\n- la médiathèque\n- la mairie\n".encode("utf-8"),
        b'{"lieux": "aucun", "total": 0}',
        b"",
    ],
)
def test_non_csv_file_gives_a_clear_error_and_loses_nothing(factory, tmp_path, content):
    import_places(factory, io.StringIO(to_csv([row(id="deja-la")])))
    path = tmp_path / "pas-un-csv.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as excinfo:
        import_places(factory, path)
    message = str(excinfo.value)
    assert message and re.search(r"fichier|colonne", message, re.I)
    assert get(factory, "deja-la") is not None and count(factory) == 1


def test_missing_file_gives_a_clear_error(factory, tmp_path):
    with pytest.raises(ImportFileError, match="Impossible de lire"):
        import_places(factory, tmp_path / "absent.csv")


def test_with_strict_a_header_missing_required_columns_names_them(factory):
    text = "id,nom,commune\nx,Lieu,Rennes\n"
    with pytest.raises(ImportFileError, match="code_postal"):
        import_places(factory, io.StringIO(text), strict=True)
    assert count(factory) == 0


def test_every_problem_of_a_row_is_reported_at_once_as_warnings(factory):
    report = import_places(factory, io.StringIO(to_csv([row(code_postal="ABCDE", latitude="x", pivot="12")])))
    assert report.created == 1 and report.errors == []
    # The unreadable latitude is said once, with what was done: the commune's position.
    assert set(report.warning_counts) == {"code_postal", "position_commune", "pivot"}
    assert report.warnings["position_commune"].examples[0].message == (
        "latitude « x » : nombre attendu : position de la commune utilisée (Rennes, 35238), approximative")


def test_duplicate_id_in_one_file_is_reported(factory):
    report = import_places(factory, io.StringIO(to_csv([row(id="a"), row(id="a", nom="Autre")])))
    assert report.created == 1
    assert len(report.errors) == 1 and report.errors[0].line == 3 and "ligne 2" in report.errors[0].message


class _LineOnlyStream(io.StringIO):
    """Refuses whole-file reads: proves the importer streams line by line."""

    def read(self, size=-1):
        if size is None or size < 0:
            raise AssertionError("whole-file read")
        return super().read(size)

    def readlines(self, hint=-1):
        raise AssertionError("whole-file read")


def test_large_file_is_streamed_and_committed_in_batches(factory):
    text = to_csv([row(id=f"lieu-{i:04d}") for i in range(1, 251)])
    report = import_places(factory, _LineOnlyStream(text), batch_size=40)
    assert report.created == 250 and count(factory) == 250


def test_demo_file_imports_without_errors(factory):
    report = import_places(factory, DEMO_FILE, demo=True)
    assert report.errors == []
    assert report.created >= 28
    with factory() as session:
        places = session.execute(select(Place)).scalars().all()
    assert all(p.is_demo and p.id.startswith("demo-") for p in places)
    assert all(p.source == "Démo Aiguillage (données fictives)" for p in places)
    assert all(p.has_coordinates for p in places)
    assert any(p.is_remote_only for p in places)
    assert sum("Aidants Connect" in p.dispositifs_list for p in places) >= 3
    assert sum("France Services" in p.dispositifs_list for p in places) >= 2
    communes = {p.commune for p in places}
    assert {"Rennes", "Vitré", "Fougères", "Redon", "Saint-Malo"} <= communes
    # Rennes metropolitan area stays within ~15 km of the centre; Saint-Malo is ~65 km away
    rennes = [p for p in places if p.commune == "Rennes"]
    assert all(48.05 < p.latitude < 48.16 and -1.75 < p.longitude < -1.60 for p in rennes)


def test_import_without_demo_flag_clears_it_and_counts_as_update(factory):
    import_places(factory, DEMO_FILE, demo=True)
    report = import_places(factory, DEMO_FILE, demo=False)
    assert report.updated == report.imported and report.created == 0
    assert get(factory, "demo-allo-numerique-35").is_demo is False


def test_standard_example_imports(factory):
    report = import_places(factory, STANDARD_DIR / "exemple-valide.csv")
    assert report.errors == [] and report.created == 1
    place = get(factory, "structure-1")
    assert place.modalites_accompagnement_list == [
        "Dans un atelier collectif", "À distance", "En autonomie", "Accompagnement individuel"
    ]


def _schema_values(pattern: str):
    # Patterns look like (?:(?:^|\|)(A|B|C \(x\)))+$
    prefix, suffix = "(?:(?:^|\\|)(", "))+$"
    assert pattern.startswith(prefix) and pattern.endswith(suffix), pattern
    inner = pattern[len(prefix):-len(suffix)]
    return {v.replace("\\(", "(").replace("\\)", ")") for v in inner.split("|")}


def test_vocabularies_match_the_schema():
    schema = json.loads((STANDARD_DIR / "schema.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in schema["fields"]}
    assert [f["name"] for f in schema["fields"]] == list(models.STANDARD_FIELDS)
    required = {name for name, f in fields.items() if f.get("constraints", {}).get("required")}
    assert required == set(models.REQUIRED_FIELDS)
    for name, values in models.ENUMERATIONS.items():
        assert _schema_values(fields[name]["constraints"]["pattern"]) == set(values), name
