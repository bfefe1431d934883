"""The conversation's services on a real SQLite database with the demo directory (no Rasa)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core import messages
from bot.core.settings import Settings
from bot.directory.importing.importer import import_places
from bot.directory.models import Place
from bot.handoff.referrals import Referral
from bot.handoff.services import Orientation
from bot.ops.cli.database import DEMO_FILE
from bot.triage.dialogue import Turn, handle

THURSDAY_10H = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture()
def orientation(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "k")
    report = import_places(database.factory, DEMO_FILE, demo=True)
    assert not report.errors
    return Orientation(database.factory, Settings(), clock=lambda: THURSDAY_10H)


def run(orientation, *turns):
    state, all_replies = None, []
    for turn in turns:
        replies, state = handle(state, turn, orientation)
        all_replies.append(replies)
    return state, all_replies


def test_urgence_in_rennes_gets_an_aidants_connect_or_france_services_place_with_hours(orientation):
    text = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
            "jai pas dordi, jsuis a rennes")
    state, replies = run(orientation, Turn(text=text, intent="demarche", sender_id="p1"),
                         Turn(choice="oui", intent="choix", text="/choix", sender_id="p1"))
    place = state["place"]
    assert place["demo"] is True
    assert place["commune"] and place["telephone"].startswith("0")
    assert place["ouverture"][0].isupper()
    recap = replies[1][0]
    # The demo place has no notification channel and no console account: the person shows the code.
    assert recap.key == "utter_envoye_presenter" and recap.custom["envoi"] == "presenter"
    text = recap.text()
    assert state["reference"] in text and place["nom"] in text
    with orientation.factory() as session:
        stored = session.query(Referral).one()
        assert stored.place_id == place["id"] and stored.level == "urgence"
        from bot.directory.models import Place

        chosen = session.get(Place, place["id"])
        assert "Aide aux démarches administratives" in chosen.services
        assert "Accompagnement individuel" in chosen.modalites_accompagnement


def test_workshop_for_learning_and_remote_alternative(orientation):
    state, replies = run(orientation, Turn(text="je voudrais apprendre a faire des visios avec mes petits enfants",
                                           intent="apprendre"), Turn(text="Rennes"))
    card = next(r.custom for r in replies[1] if r.custom)
    assert card["niveau"] == "montee_en_competence"
    with orientation.factory() as session:
        from bot.directory.models import Place

        assert "Dans un atelier collectif" in session.get(Place, card["lieu"]["id"]).modalites_accompagnement


def test_remote_help_without_any_location_is_only_what_serves_the_whole_country(orientation):
    # The demo's remote places serve Ille-et-Vilaine: someone who gave no town may live anywhere.
    state, replies = run(orientation, Turn(text="je voudrais apprendre a utiliser mon smartphone", intent="apprendre"),
                         Turn(choice="a_distance", intent="choix", text="/choix"))
    keys = [r.key for r in replies[1]]
    assert keys[1:] == ["utter_ligne_aide"] and state["place"] is None


def test_a_town_without_places_within_the_wide_radius_is_told_so_with_the_helpline(orientation):
    state, replies = run(orientation, Turn(text="je voudrais apprendre a utiliser mon smartphone", intent="apprendre"),
                         Turn(text="Marseille"))
    keys = [r.key for r in replies[1]]
    assert "utter_aucun_lieu" not in keys  # "chercher plus loin" would find nothing: not offered
    assert keys[1:] == ["utter_rien_pres_de_vous", "utter_pas_d_aide_a_distance"]
    assert orientation.settings.helpline_phone in replies[1][1].text()


def choose(value):
    return Turn(choice=value, intent="choix", text="/choix")


def texts(replies):
    return " ".join(r.text() for turn in replies for r in turn)


def add_place(orientation, place_id, commune, code_postal, code_insee, latitude, longitude, **extra):
    values = dict(id=place_id, pivot="00000000000000", nom=f"Allô numérique {commune}", commune=commune,
                  code_postal=code_postal, code_insee=code_insee, adresse="1 place de la Mairie", latitude=latitude,
                  longitude=longitude, telephone="+33491000000", date_maj=date(2026, 10, 1),
                  horaires="Mo-Fr 09:00-17:00", services="Aide aux démarches administratives",
                  modalites_accompagnement="À distance", modalites_acces="Téléphoner")
    values.update(extra)
    with orientation.factory() as session, session.begin():
        session.add(Place(**values))


REVENUS = "je dois faire ma déclaration de revenus avant jeudi"


def test_marseille_is_never_sent_to_vitre(orientation):
    """The bug as a new user saw it: Marseille, then "Une aide à distance", offered France Services de Vitré
    (741 km away) and then looped on "chercher plus loin" at 50 km."""
    state, replies = run(orientation, Turn(text=REVENUS, intent="demarche"), Turn(text="Marseille"))
    assert state["level"] == "urgence"
    keys = [r.key for r in replies[-1]]
    assert keys[1:] == ["utter_rien_pres_de_vous", "utter_pas_d_aide_a_distance"]
    told = replies[-1][1].text()
    assert "aucun lieu près de chez vous" in told and orientation.settings.helpline_phone in told
    assert state["remote"] == [] and state["pending"] == "alternatives"
    assert [b["title"] for b in replies[-1][-1].buttons] == ["Une ligne d'aide"]  # no remote help for the 13
    more = [handle(state, turn, orientation)[0] for turn in
            (choose("a_distance"), Turn(text="une aide à distance"), choose("plus_loin"), Turn(text="plus loin"))]
    assert "Vitré" not in texts(replies + more) and "Rennes" not in texts(replies + more)
    assert [r.key for r in more[0]] == [r.key for r in more[1]] == ["utter_pas_d_aide_a_distance", "utter_ligne_aide"]
    assert [r.key for r in more[2]] == [r.key for r in more[3]] == ["utter_pas_plus_loin",
                                                                    "utter_pas_d_aide_a_distance"]
    assert all(" km" not in r.text() for r in more[2] + more[3])
    with orientation.factory() as session:
        assert session.query(Referral).count() == 0


def test_a_remote_place_of_the_same_departement_is_offered(orientation):
    # Arles, remote only, 75 km from Marseille: beyond the wide radius, in the same département
    add_place(orientation, "allo-arles", "Arles", "13200", "13004", 43.6766, 4.6278)
    state, replies = run(orientation, Turn(text=REVENUS, intent="demarche"), Turn(text="Marseille"),
                         choose("a_distance"), choose("oui"))
    assert [r.key for r in replies[1]][1:] == ["utter_rien_pres_de_vous", "utter_autres_aides"]
    assert [r.key for r in replies[2]] == ["utter_aide_a_distance", "utter_urgence_vite",
                                           "utter_demande_consentement"]
    assert "Allô numérique Arles" in replies[2][0].text()
    assert replies[3][0].key == "utter_envoye_presenter"
    with orientation.factory() as session:
        assert session.query(Referral).one().place_id == "allo-arles"


def test_a_remote_place_flagged_national_is_offered_anywhere(orientation):
    add_place(orientation, "allo-france", "Paris", "75001", "75101", 48.8566, 2.3522)
    national = Orientation(orientation.factory, Settings(remote_areas="allo-france=france"),
                           clock=lambda: THURSDAY_10H)
    state, replies = run(national, Turn(text=REVENUS, intent="demarche"), Turn(text="Marseille"),
                         choose("a_distance"))
    assert state["place"]["id"] == "allo-france"
    for insee in ("2A004", "97411"):  # Ajaccio, Saint-Denis de La Réunion
        assert "allo-france" in [m.place.id for m in national.remote("urgence", [], insee=insee)], insee
    # without a town: only the places that serve the whole country
    state, replies = run(national, Turn(text="je voudrais apprendre a utiliser mon smartphone", intent="apprendre"),
                         choose("a_distance"))
    assert state["place"]["id"] == "allo-france"
    # without the setting, it serves Paris only
    state, replies = run(orientation, Turn(text=REVENUS, intent="demarche"), Turn(text="Marseille"))
    assert state["remote"] == []


def test_chercher_plus_loin_pressed_again_and_again_ends_on_remote_and_helpline(orientation):
    add_place(orientation, "allo-arles", "Arles", "13200", "13004", 43.6766, 4.6278)
    turns = [Turn(text=REVENUS, intent="demarche"), Turn(text="Marseille")] + [choose("plus_loin")] * 3
    state, replies = run(orientation, *turns)
    for turn in replies[2:]:
        assert [r.key for r in turn] == ["utter_pas_plus_loin", "utter_autres_aides"]
        assert all(" km" not in r.text() for r in turn)
    choices = messages.catalogue().buttons("utter_autres_aides")
    assert [b["payload"] for b in choices] == ['/choix{"valeur": "a_distance"}', '/choix{"valeur": "ligne_aide"}']
    assert state["pending"] == "alternatives"


def test_a_shared_position_finds_the_remote_help_of_its_departement(orientation):
    add_place(orientation, "allo-arles", "Arles", "13200", "13004", 43.6766, 4.6278)
    state, replies = run(orientation, Turn(text=REVENUS, intent="demarche"),
                         Turn(text="/position", intent="position", latitude=43.2965, longitude=5.3698))
    assert [r["id"] for r in state["remote"]] == ["allo-arles"]
    assert orientation.departement(48.1173, -1.6778) == "35"


def test_homonyms_are_offered_with_their_departement_name(orientation):
    state, replies = run(orientation, Turn(text="je voudrais apprendre a utiliser mon smartphone", intent="apprendre"),
                         Turn(text="Saint-Denis"))
    titles = [b["title"] for b in replies[1][0].buttons]
    assert "Saint-Denis (La Réunion)" in titles and "Saint-Denis (Seine-Saint-Denis)" in titles


def test_a_desk_referral_carries_its_desk_a_vital_emergency_and_the_deadline_date_and_a_slip_in_words(
        database, monkeypatch):
    from tests.recap_support import raw_codes

    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "k")
    assert not import_places(database.factory, DEMO_FILE, demo=True).errors
    orientation = Orientation(database.factory, Settings(desk_name="Accueil mairie de Fougères"),
                              clock=lambda: THURSDAY_10H)
    state, replies = run(orientation,
                         Turn(text="je suis a la rue ce soir avec mes 2 enfants", sender_id="p9"),
                         Turn(text="elle doit faire sa declaration trimestrielle caf avant vendredi sinon ils coupent "
                                   "le rsa, elle a pas d'ordi, elle est a rennes", intent="demarche", sender_id="p9"),
                         Turn(choice="oui", intent="choix", text="/choix", sender_id="p9"))
    assert replies[0][0].custom["numero"] == "115"
    with orientation.factory() as session:
        stored = session.query(Referral).one()
        assert stored.facts["urgence_vitale"] is True and stored.facts["accueil"] == "Accueil mairie de Fougères"
        assert date.fromisoformat(stored.facts["echeance"]).weekday() == 4  # a Friday
    card = next(r.custom for r in replies[-1] if r.custom)
    lines = {line["libelle"]: line["texte"] for line in card["recapitulatif"]}
    assert lines["Organisme"] == "Caisse d'allocations familiales (CAF)"
    assert lines["Démarche"] == "la déclaration trimestrielle de ressources"
    assert lines["Date limite"].startswith("avant le vendredi ")
    # the person's slip: their request in words, never the mediator's flags nor a code
    slip = " ".join(f"{k} : {v}" for k, v in lines.items())
    assert raw_codes(slip, [stored.place_id]) == [] and "urgence vitale" not in slip

