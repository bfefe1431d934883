"""Import: the INSEE code derived from the commune and postcode when it is missing, "MISSING", invalid or
unknown (arrondissements of Paris, Lyon and Marseille count); commune and postcode completed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.directory.importing.importer import import_places
from bot.directory.importing.positions import Locator
from tests.directory.stored import places

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "import" / "lieux-sans-insee.csv"




@pytest.fixture()
def imported(factory):
    report = import_places(factory, FIXTURE)
    assert report.errors == [] and report.created == 9
    return report, places(factory)


@pytest.mark.parametrize("place_id, insee", [
    ("insee-marseille-11", "13211"),  # "MARSEILLE 11", 13011, "MISSING"
    ("insee-chateaubernard", "16089"),  # capitals and a circumflex
    ("insee-rennes", "35238"),  # "3523": invalid
    ("insee-paris-16", "75116"),  # "PARIS" 75016: the 16th arrondissement
    ("insee-lyon-3", "69383"),  # "LYON 3EME"
    ("insee-st-brieuc", "22278"),  # "ST BRIEUC"
    ("insee-inconnu", "35360"),  # "35999": well-formed, but no commune has it
    ("insee-ville-entiere", "13055"),  # a valid code is kept, even the city's for an arrondissement
    ("insee-sans-commune", "35115"),
])
def test_the_insee_code_is_derived_when_missing_or_unusable(imported, place_id, insee):
    _, stored = imported
    assert stored[place_id].code_insee == insee


def test_each_derivation_is_a_warning_that_says_from_what(imported):
    report, _ = imported
    group = report.warnings["code_insee_deduit"]
    assert group.count == 7
    by_id = {w.row_id: w.message for w in group.examples}
    assert by_id["insee-marseille-11"] == (
        "code_insee absent : 13211 (Marseille, 13011), d'après le référentiel des communes")
    assert by_id["insee-rennes"] == ("code_insee « 3523 » invalide : remplacé par 35238 (Rennes, 35000), "
                                     "d'après le référentiel des communes")
    lines = report.summary_lines()
    assert ("- codes INSEE absents, invalides, inconnus ou d'un autre département que le code postal, déduits de "
            "la commune et du code postal : 7") in lines
    assert "code_insee" not in report.warnings  # the invalid code is replaced, not reported twice


def test_a_code_no_commune_has_is_replaced_and_said_so(factory):
    vitre = FIXTURE.read_text(encoding="utf-8").splitlines()
    text = "\n".join([vitre[0]] + [line for line in vitre if line.startswith("insee-inconnu;")]) + "\n"
    report = import_places(factory, io.StringIO(text))
    assert report.warnings["code_insee_deduit"].examples[0].message == (
        "code_insee « 35999 » inconnu (aucune commune n'a ce code) : remplacé par 35360 (Vitré, 35500), "
        "d'après le référentiel des communes")


def test_commune_and_postcode_are_completed_from_the_insee_code(imported):
    report, stored = imported
    place = stored["insee-sans-commune"]
    assert (place.commune, place.code_postal) == ("Fougères", "35300")
    assert report.warning_counts["commune_deduite"] == 1 and report.warning_counts["code_postal_deduit"] == 1
    assert "champ_vide" not in report.warning_counts


def test_with_strict_a_missing_code_is_derived_but_an_invalid_one_rejects(factory):
    report = import_places(factory, FIXTURE, strict=True)
    stored = places(factory)
    assert stored["insee-marseille-11"].code_insee == "13211"  # "MISSING" is an empty cell: no error
    assert "insee-rennes" not in stored and "insee-sans-commune" not in stored  # "3523"; empty commune
    assert {(e.row_id, e.field) for e in report.errors} == {
        ("insee-rennes", "code_insee"), ("insee-sans-commune", "commune"), ("insee-sans-commune", "code_postal")}


@pytest.mark.parametrize("insee, postcode, name, expected", [
    (None, "13011", "MARSEILLE 11", "13211"),
    (None, None, "MARSEILLE 11", "13211"),
    (None, "13001", "Marseille", "13201"),
    ("75116", None, None, "75116"),
    (None, "16100", "CHATEAUBERNARD", "16089"),
    (None, "35000", "Un nom qui n'est pas une commune", "35238"),  # the postcode's only commune
    (None, None, "Villeneuve", None),  # many namesakes, no postcode: not guessed
    (None, "99999", "Nulle part", None),
])
def test_the_locator(insee, postcode, name, expected):
    area = Locator().area(insee, postcode, name)
    assert (area.insee if area else None) == expected


def test_a_place_placed_only_by_its_commune_name(factory):
    text = "nom,commune,code_postal\nPoint numérique,CHÂTEAUBERNARD,\n"
    report = import_places(factory, io.StringIO(text))
    assert report.created == 1
    place = next(iter(places(factory).values()))
    assert (place.code_insee, place.commune, place.code_postal) == ("16089", "CHÂTEAUBERNARD", "16100")


def _one_place(**fields) -> io.StringIO:
    row = {"id": "p1", "nom": "Médiathèque", "adresse": "1 rue des Écoles", "date_maj": "2024-01-10", **fields}
    return io.StringIO(";".join(row) + "\n" + ";".join(str(v) for v in row.values()) + "\n")


def test_a_code_of_another_departement_than_the_postcode_gives_way_to_name_and_postcode(factory):
    # As in a real regional export: Le Mont-Dore (Nouvelle-Calédonie) under the code of Mont-Dore (Puy-de-Dôme).
    # The file's coordinates, in Le Mont-Dore, were replaced by the Puy-de-Dôme's, 16,700 km away.
    report = import_places(factory, _one_place(commune="Mont-Dore", code_postal="98800", code_insee="63236",
                                               latitude="-22.22691", longitude="166.52153"))
    place = places(factory)["p1"]
    assert (place.code_insee, place.latitude, place.longitude, place.position_approx) == (
        "98817", -22.22691, 166.52153, False)
    assert report.warnings["code_insee_deduit"].examples[0].message == (
        "code_insee « 63236 » désigne Mont-Dore (63), hors du département du code postal 98800 : remplacé par "
        "98817 (Le Mont-Dore, 98800), d'après le référentiel des communes")


def test_a_commune_whose_postcode_belongs_to_a_neighbouring_departement_keeps_its_code(factory):
    # Éloise (Haute-Savoie, 74109) has the postcode 01200 of the Ain: both are right.
    report = import_places(factory, _one_place(commune="Éloise", code_postal="01200", code_insee="74109",
                                               latitude="46.08", longitude="5.86"))
    assert places(factory)["p1"].code_insee == "74109"
    assert "code_insee_deduit" not in report.warnings
