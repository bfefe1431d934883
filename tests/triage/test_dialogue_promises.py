"""Promises that are true: "vite" only when the place opens before the deadline, "C'est envoyé" only when a
channel of the place accepted the referral, and a next step that says where, when, what and before when."""

from datetime import date, timedelta

import pytest

from bot.triage.deadlines import deadline_date
from bot.triage.dialogue import Turn
from tests.triage.test_dialogue import FakeServices, choice, converse

CAF_FRIDAY = "je dois faire ma declaration trimestrielle caf avant vendredi sinon ils coupent le rsa, je suis a rennes"


def _services_opening(days_after_deadline: int, **kwargs) -> FakeServices:
    deadline = deadline_date(CAF_FRIDAY)  # resolved from today, as the dialogue does
    return FakeServices(opens=(deadline + timedelta(days=days_after_deadline)).isoformat(), **kwargs)


def _first_turn(services):
    return converse(services, Turn(text=CAF_FRIDAY, intent="demarche", sender_id="p"))


def test_vite_only_when_the_place_opens_before_the_deadline():
    state, transcript, replies = _first_turn(_services_opening(-1))
    assert "utter_urgence_vite" in transcript[0]
    promise = next(r for r in replies if r.key == "utter_urgence_vite").text()
    assert "vite" in promise and "Espace Blosne" in promise


def test_a_place_opening_after_the_deadline_says_when_and_whom_to_call_before():
    state, transcript, replies = _first_turn(_services_opening(2))
    assert "utter_urgence_vite" not in transcript[0]
    warning = next(r for r in replies if r.key == "utter_urgence_trop_tard").text()
    deadline = date.fromisoformat(state["facts"]["echeance"])
    assert "vendredi" in warning and str(deadline.day) in warning
    assert "la CAF au 32 30" in warning  # the body's own line, since the place comes too late
    assert not any("vite" in r.text() for r in replies if r.key.startswith("utter_urgence"))


def test_a_place_opening_on_the_deadline_day_is_not_called_vite():
    _, transcript, replies = _first_turn(_services_opening(0))
    assert "utter_urgence_jour_limite" in transcript[0]
    assert not any("vite" in r.text() for r in replies if r.key.startswith("utter_urgence"))


def test_hours_unknown_with_a_deadline_says_to_call_the_place_before_it():
    _, transcript, replies = _first_turn(FakeServices(opens=None))
    text = next(r for r in replies if r.key == "utter_urgence_horaires_inconnus").text()
    assert "02 99 00 00 00" in text and "avant le vendredi" in text


def test_an_urgence_without_a_known_date_promises_help_but_not_speed():
    _, transcript, replies = converse(
        FakeServices(), Turn(text="ma caf a coupe mon rsa, je suis a rennes", intent="demarche", sender_id="p"))
    assert "utter_urgence_sans_date" in transcript[0]
    assert not any("vite" in r.text() for r in replies if r.key.startswith("utter_urgence"))


def test_the_resultat_text_itself_promises_nothing():
    _, _, replies = _first_turn(_services_opening(2))
    resultat = next(r for r in replies if r.key == "utter_resultat_urgence").text()
    assert "quelqu'un va" not in resultat.lower() and "vite" not in resultat.replace("agir vite", "")


@pytest.mark.parametrize("delivered,key,words", [
    ("envoye", "utter_envoye_lieu", "C'est envoyé"),
    ("espace", "utter_envoye_espace", "verra votre demande dans son espace"),
    ("presenter", "utter_envoye_presenter", "Présentez ce numéro"),
])
def test_what_the_person_is_told_after_consent_follows_what_became_of_the_notification(delivered, key, words):
    services = _services_opening(-1, delivered=delivered)
    _, transcript, replies = converse(services, Turn(text=CAF_FRIDAY, intent="demarche", sender_id="p"),
                                      choice("oui"))
    assert transcript[1][0] == key
    assert words in replies[0].text() and "ABC-DEFG" in replies[0].text()
    if delivered != "envoye":
        assert not any("envoyé" in r.text() for r in replies)
    assert replies[0].custom["envoi"] == delivered


def test_the_next_step_names_the_place_the_day_the_papers_and_the_deadline():
    services = _services_opening(-3)
    state, _, replies = converse(services, Turn(text=CAF_FRIDAY, intent="demarche", sender_id="p"), choice("oui"))
    step = next(r for r in replies if r.key == "utter_prochaine_etape").text()
    opens = date.fromisoformat(services.opens)
    assert step.startswith("Prochaine étape : Allez à Espace Blosne, Rennes, le ")
    assert f"{opens.day} " in step and "à 9h" in step
    assert "avant le vendredi" in step and "numéro d'allocataire CAF" in step
    card = replies[0].custom
    assert card["prochaine_etape"] in step and card["ensuite"]  # the inclusion path comes after, as "Ensuite"


def test_a_workshop_is_not_told_to_type_its_codes():
    services = FakeServices()
    _, transcript, replies = converse(
        services, Turn(text="je voudrais apprendre a faire des appels video sur ma tablette, je suis a rennes",
                       intent="apprendre", sender_id="p"), choice("oui"))
    assert "utter_mot_de_passe_jamais" not in transcript[-1]
    card = replies[0].custom
    assert card["a_apporter"][0] == "votre tablette, chargée"


# --- after the 115 ---------------------------------------------------------------------------------------

def test_after_the_115_the_social_services_and_the_procedure_question_follow():
    services = FakeServices()
    state, transcript, replies = converse(services, Turn(text="je suis a la rue ce soir avec mes 2 enfants",
                                                         sender_id="p"))
    assert transcript[0][0] == "utter_urgence_vitale"  # the number first, always
    assert transcript[0][1:] == ["utter_apres_115", "utter_ask_demarche_apres_urgence"]
    assert "CCAS" in replies[1].text() and "Département" in replies[1].text()
    assert state["pending"] == "demarche" and state["urgence_vitale"] is True
    # The procedure question's buttons lead into the triage, which keeps the emergency flag for the mediator.
    state, transcript, _ = converse(services, Turn(text="je suis a la rue ce soir avec mes 2 enfants",
                                                   sender_id="p"), choice("caf"))
    assert state["facts"]["organisme"] == "caf" and state["urgence_vitale"] is True


def test_other_emergencies_get_their_number_and_nothing_else():
    _, transcript, _ = converse(FakeServices(), Turn(text="mon mari me frappe", sender_id="p"))
    assert transcript[0] == ["utter_urgence_vitale"]


def test_a_115_during_a_triage_keeps_the_triage_going():
    services = FakeServices()
    _, transcript, _ = converse(services, Turn(text="je dois faire ma declaration caf", intent="demarche",
                                               sender_id="p"),
                                Turn(text="au fait je suis a la rue ce soir", sender_id="p"))
    assert transcript[1] == ["utter_urgence_vitale", "utter_apres_115"]
