"""Import: coordinates checked against France and the place's commune; swapped ones put back; a place
without usable coordinates gets its commune's position, flagged approximate."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.directory.importing.importer import import_places
from bot.directory.importing.positions import Area, in_france, position
from tests.directory.stored import places

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "import" / "lieux-positions.csv"
RENNES = (48.112, -1.6743)  # the reference's position of Rennes (35238)
LINES = {name: n for n, name in enumerate(["exacte", "inversee", "nulle", "absente", "hors-limites", "hors-france",
                                           "loin", "noumea-inversee", "marseille-11", "commune-inconnue",
                                           "nulle-part"], start=2)}




@pytest.fixture()
def imported(factory):
    report = import_places(factory, FIXTURE)
    return report, places(factory)


def where(place):
    return (round(place.latitude, 4), round(place.longitude, 4), place.position_approx)


def test_coordinates_in_france_near_their_commune_are_kept(imported):
    _, stored = imported
    assert where(stored["exacte"]) == (48.1106, -1.6796, False)
    assert where(stored["commune-inconnue"]) == (48.2, -1.5, False)  # no commune to compare with: France is enough


def test_swapped_latitude_and_longitude_are_put_back_with_a_warning(imported):
    report, stored = imported
    assert where(stored["inversee"]) == (48.1106, -1.6796, False)
    assert where(stored["noumea-inversee"]) == (-22.2758, 166.4572, False)  # a latitude out of range, swapped
    messages = {w.row_id: w.message for w in report.warnings["coordonnees_inversees"].examples}
    assert messages["inversee"] == "latitude -1.6796 et longitude 48.1106 inversées : remises dans l'ordre"
    assert report.warning_counts["coordonnees_inversees"] == 2


@pytest.mark.parametrize("place_id, reason", [
    ("nulle", "coordonnées nulles (0, 0)"),
    ("absente", "coordonnées absentes"),
    ("hors-limites", "coordonnées hors limites (481106, -16796)"),
    ("hors-france", "coordonnées hors de France (40.7128, -74.006)"),
])
def test_unusable_coordinates_give_the_commune_position_flagged_approximate(imported, place_id, reason):
    report, stored = imported
    assert where(stored[place_id]) == (*RENNES, True)
    message = next(w.message for w in report.warnings["position_commune"].examples if w.row_id == place_id)
    assert message == f"{reason} : position de la commune utilisée (Rennes, 35238), approximative"


def test_coordinates_far_from_their_commune_are_replaced_by_it(imported):
    report, stored = imported
    assert stored["loin"].position_approx is True and stored["loin"].latitude == pytest.approx(49.26, abs=0.05)
    assert (f"    ligne {LINES['loin']} (id loin) : coordonnées à 647 km de la commune (43.52609, 5.41423) : "
            "position de la commune utilisée (Reims, 51454), approximative") in report.summary_lines()


def test_an_arrondissement_without_coordinates_gets_the_arrondissement_position(imported):
    _, stored = imported
    assert where(stored["marseille-11"]) == (43.2907, 5.4384, True)


def test_a_place_with_neither_usable_coordinates_nor_a_known_commune_is_rejected(imported):
    report, stored = imported
    assert "nulle-part" not in stored
    assert [(e.line, e.row_id, e.field) for e in report.errors] == [(LINES["nulle-part"], "nulle-part", "position")]
    assert report.created == 10
    assert report.warning_counts["position_commune"] == 6  # nulle, absente, hors-limites, hors-france, loin, marseille


def test_every_kept_place_has_a_position(imported):
    _, stored = imported
    assert all(p.latitude is not None and p.longitude is not None for p in stored.values())


def test_with_strict_out_of_range_coordinates_reject_and_the_other_fixes_are_warnings(factory):
    report = import_places(factory, FIXTURE, strict=True)
    stored = places(factory)
    rejected = {(e.row_id, e.field): e.message for e in report.errors}
    assert rejected[("hors-limites", "latitude")] == "latitude « 481106 » : doit être comprise entre -90 et 90"
    assert rejected[("hors-limites", "longitude")] == "longitude « -16796 » : doit être comprise entre -180 et 180"
    assert rejected[("noumea-inversee", "latitude")].startswith("latitude « 166.4572 »")
    assert where(stored["inversee"]) == (48.1106, -1.6796, False)
    assert stored["hors-france"].position_approx is True


def test_a_reimport_changes_nothing(factory):
    import_places(factory, FIXTURE)
    again = import_places(factory, FIXTURE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)


GUYANE = Area("97357", "Maripasoula", "97370", 3.6406, -54.0283, "973")
RENNES_AREA = Area("35238", "Rennes", None, 48.112, -1.6743, "35")


@pytest.mark.parametrize("latitude, longitude, area, expected", [
    (48.11, -1.68, RENNES_AREA, (48.11, -1.68, False, False)),
    (-1.68, 48.11, RENNES_AREA, (48.11, -1.68, False, True)),
    (48.6, -2.0, RENNES_AREA, (48.6, -2.0, False, False)),  # Saint-Malo's side: 60 km is generous
    (48.85, 2.35, RENNES_AREA, (48.112, -1.6743, True, False)),  # Paris is not Rennes
    (2.35, 48.85, None, (48.85, 2.35, False, True)),
    (4.5, -53.5, GUYANE, (4.5, -53.5, False, False)),  # a large commune of Guyane, 160 km from its centre
    (None, None, None, None),
    (0.0, 0.0, None, None),
])
def test_position(latitude, longitude, area, expected):
    found = position(latitude, longitude, area)
    assert (None if found is None else (found.latitude, found.longitude, found.approx, found.swapped)) == expected


def test_france_includes_its_overseas_territories():
    assert in_france(16.24, -61.53) and in_france(-21.11, 55.53) and in_france(-17.53, -149.57)
    assert not in_france(40.71, -74.0) and not in_france(0.0, 0.0)
