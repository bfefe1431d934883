"""Import: the formats a département's data comes in (CSV , or ;, UTF-8 with or without BOM,
Windows-1252; JSON arrays, the national API's pages with nested objects, GeoJSON), told apart by content."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from bot.directory.importing.importer import import_places
from bot.directory.importing.sources import ImportFileError
from tests.directory.stored import count, places

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "import"





def test_utf8_with_bom_and_semicolons(factory):
    report = import_places(factory, FIXTURES / "lieux-bom-point-virgule.csv")
    assert report.errors == [] and report.created == 2
    stored = places(factory)
    assert stored["bom-1"].nom == "Médiathèque des Champs Libres"
    assert stored["bom-1"].latitude == pytest.approx(48.1056)
    assert stored["bom-2"].modalites_accompagnement_list == ["Dans un atelier collectif", "À distance"]
    summary = "\n".join(report.summary_lines())
    assert "Fichier lu : CSV (séparateur « ; »), encodage UTF-8 avec BOM." in summary
    assert "Attention" not in summary


def test_latin1_file_is_read_and_the_summary_says_which_encoding(factory):
    report = import_places(factory, FIXTURES / "lieux-latin1.csv")
    assert report.errors == [] and report.created == 2
    stored = places(factory)
    assert stored["l1-1"].nom == "Médiathèque de Châteaubernard"
    assert stored["l1-2"].nom == "Espace numérique « Élan »"
    assert stored["l1-2"].adresse == "2 rue de l'Église"
    lines = report.summary_lines()
    assert "Fichier lu : CSV (séparateur « , »), encodage Windows-1252 (Latin-1)." in lines
    notice = next(line for line in lines if line.startswith("Attention"))
    assert "pas en UTF-8" in notice and "Windows-1252" in notice and "CSV UTF-8" in notice


def test_bytes_windows_1252_leaves_undefined_are_read_as_iso_8859_1(factory, tmp_path):
    path = tmp_path / "latin1.csv"
    text = (FIXTURES / "lieux-latin1.csv").read_bytes().decode("cp1252").replace("Élan", "Élan\x81")
    path.write_bytes(text.encode("latin-1"))
    report = import_places(factory, path)
    assert report.created == 2
    assert any("ISO-8859-1" in line for line in report.summary_lines())


def test_utf8_file_damaged_by_a_few_bytes_is_refused_with_its_line(factory, tmp_path):
    path = tmp_path / "abime.csv"
    data = (FIXTURES / "lieux-bom-point-virgule.csv").read_bytes()
    lines = data.split(b"\r\n")
    lines[2] = lines[2].replace(b"Cleunay", b"Cleunay\xff")
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(ImportFileError, match="UTF-8 \\(ligne 3\\)"):
        import_places(factory, path)
    assert count(factory) == 0


def test_json_array_with_lists_as_arrays_or_strings(factory):
    report = import_places(factory, FIXTURES / "lieux-tableau.json")
    assert report.errors == [] and report.created == 2
    assert "Fichier lu : JSON, encodage UTF-8." in report.summary_lines()
    stored = places(factory)
    first, second = stored["json-1"], stored["json-2"]
    assert first.services_list == ["Aide aux démarches administratives", "Utilisation sécurisée du numérique"]
    assert first.modalites_accompagnement_list == ["Accompagnement individuel", "En autonomie"]
    assert first.courriels_list == ["accueil@maurepas.example", "numerique@maurepas.example"]
    assert (first.latitude, first.longitude) == (pytest.approx(48.1254), pytest.approx(-1.6562))
    assert second.code_postal == "35200"  # a number in the file
    assert second.modalites_accompagnement_list == ["Dans un atelier collectif"]
    assert second.dispositif_programmes_nationaux is None  # an empty list
    assert second.date_maj.isoformat() == "2025-02-01"


def test_national_api_page_with_nested_objects(factory):
    report = import_places(factory, FIXTURES / "lieux-api.json")
    assert report.errors == [] and report.created == 2
    stored = places(factory)
    vitre = stored["api-1"]
    assert (vitre.adresse, vitre.code_postal, vitre.code_insee, vitre.commune) == (
        "47 rue Notre-Dame", "35500", "35360", "Vitré")
    assert vitre.complement_adresse == "Rez-de-chaussée"
    assert (vitre.latitude, vitre.longitude) == (pytest.approx(48.1236), pytest.approx(-1.2089))
    assert vitre.telephone == "+33299000002"
    assert vitre.courriels_list == ["vitre@france-services.example"]
    assert vitre.site_web == "https://vitre.example"
    assert vitre.presentation_resume == "Accueil pour toutes les démarches en ligne."
    assert vitre.presentation_detail == "Sans rendez-vous le matin."
    assert vitre.typologie == "FS"
    assert vitre.dispositifs_list == ["France Services", "Aidants Connect"]
    assert vitre.modalites_accompagnement_list == ["Accompagnement individuel", "À distance"]
    fougeres = stored["api-2"]
    assert (fougeres.latitude, fougeres.longitude) == (pytest.approx(48.3516), pytest.approx(-1.2025))  # GeoJSON point
    assert fougeres.services_list == ["Maîtrise des outils numériques du quotidien", "Loisirs et créations numériques"]


def test_geojson_feature_collection(factory):
    report = import_places(factory, FIXTURES / "lieux-geojson.json")
    assert report.errors == [] and report.created == 1
    place = places(factory)["geo-1"]
    assert (place.latitude, place.longitude) == (pytest.approx(48.6493), pytest.approx(-2.0264))
    assert place.commune == "Saint-Malo"


@pytest.mark.parametrize("fixture, renamed", [("lieux-api.json", "export.csv"),
                                              ("lieux-bom-point-virgule.csv", "export.json"),
                                              ("lieux-tableau.json", "export")])
def test_the_format_comes_from_the_content_not_the_name(factory, tmp_path, fixture, renamed):
    path = tmp_path / renamed
    shutil.copy(FIXTURES / fixture, path)
    report = import_places(factory, path)
    assert report.errors == [] and report.created == 2


def test_an_empty_list_of_places_imports_nothing(factory):
    report = import_places(factory, io.StringIO('{"data": [], "meta": {"totalElements": 0}}'))
    assert (report.imported, report.errors) == (0, [])


def test_json_from_an_open_text_stream(factory):
    text = (FIXTURES / "lieux-tableau.json").read_text(encoding="utf-8")
    report = import_places(factory, io.StringIO(text))
    assert report.created == 2 and "Fichier lu : JSON." in report.summary_lines()


class _ChunkOnlyStream(io.StringIO):
    """Refuses whole-file reads and hands out small chunks: proves the JSON reader streams."""

    def read(self, size=-1):
        if size is None or size < 0:
            raise AssertionError("whole-file read")
        return super().read(min(size, 7))

    def readlines(self, hint=-1):
        raise AssertionError("whole-file read")


def test_large_json_is_streamed_in_small_chunks_and_committed_in_batches(factory):
    base = json.loads((FIXTURES / "lieux-tableau.json").read_text(encoding="utf-8"))[0]
    data = {"meta": {"totalElements": 120, "note": [1, 2.5, "x"]},
            "data": [dict(base, id=f"lieu-{i:03d}", latitude=48.1 + i / 1000) for i in range(120)],
            "links": {"next": None}}
    report = import_places(factory, _ChunkOnlyStream(json.dumps(data, indent=1)), batch_size=25)
    assert report.errors == [] and report.created == 120 and count(factory) == 120
    assert places(factory)["lieu-119"].latitude == pytest.approx(48.219)


def test_json_lines_of_rejected_places_are_those_of_the_file(factory):
    array = json.loads((FIXTURES / "lieux-tableau.json").read_text(encoding="utf-8"))
    array.insert(1, dict(array[0], id="sans-nom", nom=""))
    array.append("pas un lieu")
    text = json.dumps(array, ensure_ascii=False, indent=2)
    report = import_places(factory, io.StringIO(text))
    assert report.created == 2
    by_id = {e.row_id: e for e in report.errors}
    assert text.splitlines()[by_id["sans-nom"].line - 1].strip() == "{"
    assert "nom" in by_id["sans-nom"].message
    not_object = next(e for e in report.errors if e.row_id is None)
    assert text.splitlines()[not_object.line - 1].strip() == '"pas un lieu"'
    assert "objet JSON" in not_object.message


@pytest.mark.parametrize("content, message", [
    ('{"type": "config", "version": 2}', "liste de lieux"),
    ('"lieux"', "standard"),  # not JSON (its first character): a CSV without the standard's columns
    ('[{"title": "Page", "url": "https://example.org"}]', "standard"),
    ('[{"id": "a", "nom": "Lieu", "commune": "Rennes"},\n {"id": "b", "nom": ', "JSON mal formé ligne 2"),
    ('{"data": [{"id": "a"}]} en trop', "JSON mal formé ligne 1"),
])
def test_json_that_is_not_a_list_of_places_is_refused_in_french(factory, tmp_path, content, message):
    path = tmp_path / "lieux.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        import_places(factory, path)
    assert count(factory) == 0
