"""A place at its commune's position (imported without usable coordinates) is shown with an approximate
distance, "environ 3 km", and the card says "position approximative (commune)"."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.channels.telegram.rendering import render_card
from bot.core.settings import Settings
from bot.directory.importing.importer import import_places
from bot.handoff.services import Orientation, distance_text
from bot.triage.dialogue import Turn, handle

THURSDAY_10H = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
HEADER = "id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,horaires,date_maj,services," \
         "modalites_accompagnement,dispositif_programmes_nationaux\n"
ROW = "{id},00000000000000,{nom},{commune},{cp},{insee},1 place de la Mairie,{lat},{lon},Mo-Fr 09:00-18:00," \
      "2026-10-01,Aide aux démarches administratives,Accompagnement individuel,Aidants Connect\n"


def directory(*places) -> io.StringIO:
    return io.StringIO(HEADER + "".join(ROW.format(**p) for p in places))


@pytest.fixture()
def orientation(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "k")
    return Orientation(database.factory, Settings(), clock=lambda: THURSDAY_10H)


def ask_in(orientation, town):
    text = f"je dois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, jsuis a {town}"
    replies, state = handle(None, Turn(text=text, intent="demarche", sender_id="p1"), orientation)
    return state, replies


@pytest.mark.parametrize("distance, approximate, shown", [
    (3.24, False, "3,2"), (3.24, True, "environ 3"), (0.2, True, "environ 1"), (12.6, True, "environ 13"),
    (None, True, ""),
])
def test_distance_text(distance, approximate, shown):
    assert distance_text(distance, approximate) == shown


def test_a_place_at_its_commune_position_is_shown_at_about_so_many_km(orientation, database):
    report = import_places(database.factory, directory(
        dict(id="vezin", nom="Point numérique de Vezin", commune="Vezin-le-Coquet", cp="35132", insee="", lat="",
             lon="")))
    assert report.created == 1 and report.warning_counts["position_commune"] == 1
    state, replies = ask_in(orientation, "rennes")
    place = state["place"]
    assert place["position_approximative"] is True
    keys = [r.key for r in replies]
    lieu = replies[keys.index("utter_lieu")]
    assert "(environ 6 km)" in lieu.text()
    assert keys[keys.index("utter_lieu") + 1] == "utter_position_approximative"
    assert replies[keys.index("utter_position_approximative")].text().startswith("Position approximative (commune)")
    assert lieu.custom["lieu"]["position_approximative"] is True


def test_a_place_with_its_own_coordinates_keeps_an_exact_distance(orientation, database):
    import_places(database.factory, directory(
        dict(id="blosne", nom="Espace du Blosne", commune="Rennes", cp="35200", insee="35238", lat="48.0881",
             lon="-1.6655")))
    state, replies = ask_in(orientation, "rennes")
    assert state["place"]["position_approximative"] is False
    keys = [r.key for r in replies]
    assert "utter_position_approximative" not in keys
    assert "environ" not in replies[keys.index("utter_lieu")].text()


def test_a_place_imported_without_address_or_postcode_shows_them_empty(orientation, database):
    import_places(database.factory, io.StringIO(
        "nom,commune,latitude,longitude,services,modalites_accompagnement,dispositif_programmes_nationaux\n"
        "Point numérique,Rennes,48.1106,-1.6796,Aide aux démarches administratives,Accompagnement individuel,"
        "Aidants Connect\n"))
    state, replies = ask_in(orientation, "rennes")
    assert (state["place"]["adresse"], state["place"]["code_postal"]) == ("", "")
    lieu = next(r for r in replies if r.key == "utter_lieu")
    assert "None" not in lieu.text()


def test_the_telegram_card_says_the_position_is_approximate():
    card = render_card({"type": "resultat", "lieu": {"nom": "Point numérique", "position_approximative": True,
                                                     "latitude": 48.13, "longitude": -1.76}})
    assert "Position approximative (commune)" in card
    exact = render_card({"type": "resultat", "lieu": {"nom": "Point numérique", "position_approximative": False}})
    assert "approximative" not in exact
