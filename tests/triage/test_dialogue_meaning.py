"""The conversation reads what people mean: the safety check first, answers that do not fit, corrections."""

from __future__ import annotations

from bot.core import messages
from bot.triage.dialogue import Turn, handle
from tests.triage.test_dialogue import FakeServices, choice, converse

PILLS = "j'ai mis les cachets de côté pour ce soir, je veux juste que ça s'arrête"


def say(text, intent=None):
    return Turn(text=text, intent=intent, sender_id="tester")


# --- the safety check (tier 2) ---------------------------------------------------------------------------

def test_a_possible_danger_gets_the_numbers_and_one_question_before_anything_else():
    services = FakeServices()
    replies, state = handle(None, say(PILLS, "hors_sujet"), services)
    assert [r.key for r in replies] == ["utter_verification_securite_detresse"]
    text = replies[0].text()
    assert "3114" in text and "112" in text and "danger" in text
    assert replies[0].custom == {"type": "urgence_vitale", "numero": "3114", "numeros": ["3114", "112"],
                                 "verification": True}
    assert state["pending"] == "securite"
    assert "ville" not in text.lower()  # the person with the pills is not asked where they live


def test_in_danger_gets_the_number_for_that_kind_at_once():
    services = FakeServices()
    state, transcript, replies = converse(services, say(PILLS), choice("en_danger"))
    assert transcript[1] == ["utter_urgence_vitale"]
    assert "3114" in replies[0].text() and replies[0].custom["numero"] == "3114"
    assert state["pending"] is None and state["facts"]["verification_securite"] == "danger"


def test_a_typed_yes_means_in_danger_and_a_typed_no_lets_the_triage_go_on():
    services = FakeServices()
    _, transcript, _ = converse(services, say(PILLS), say("oui", "oui"))
    assert transcript[1] == ["utter_urgence_vitale"]
    state, transcript, _ = converse(services, say("je serai plus là le mois prochain, je dois faire ma caf"),
                                    say("non ca va", "non"))
    assert transcript[0] == ["utter_verification_securite_detresse"]
    assert transcript[1][0] == "utter_securite_merci"
    assert transcript[1][1] == "utter_ask_enjeu"  # the CAF said in the first message is remembered
    assert state["facts"]["organisme"] == "caf" and state["facts"]["verification_securite"] == "posee"


def test_the_check_also_runs_on_answers_and_the_question_comes_back_after_it():
    services = FakeServices()
    state, transcript, _ = converse(services, say("j'ai besoin d'aide pour la caf", "demarche"),
                                    say("j'ai plus envie de me réveiller le matin"), say("non", "non"))
    assert transcript[0] == ["utter_ask_enjeu"]
    assert transcript[1] == ["utter_verification_securite_detresse"]
    assert transcript[2] == ["utter_securite_merci", "utter_ask_enjeu"]
    assert state["pending"] == "enjeu"


def test_an_unclear_answer_to_the_check_is_asked_once_more_then_the_triage_goes_on_with_the_number():
    services = FakeServices()
    state, transcript, replies = converse(services, say(PILLS), say("euh"), say("bof"))
    assert transcript[1] == ["utter_verification_securite_encore"]
    assert "3114" in replies[0].text()
    assert transcript[2][0] == "utter_securite_rappel"
    assert state["pending"] != "securite"


def test_a_referral_after_a_safety_check_carries_the_flag():
    services = FakeServices()
    converse(services, say("je serai plus là le mois prochain, ma declaration caf est a faire avant vendredi"),
             choice("en_securite"), choice("telephone"), choice("faire_pour"), say("rennes"), choice("oui"))
    assert services.referrals and services.referrals[0][3]["verification_securite"] == "posee"


def test_a_certain_emergency_is_answered_with_its_number_whatever_question_waits():
    services = FakeServices()
    _, transcript, replies = converse(services, say("aide pour la caf", "demarche"),
                                      say("mon mari me frappe et j'ai peur de rentrer"))
    assert transcript[1] == ["utter_urgence_vitale"]
    assert "3919" in replies[0].text()


# --- answers that do not fit ---------------------------------------------------------------------------

def test_an_answer_that_does_not_fit_is_not_stored_and_the_question_comes_back_in_other_words():
    services = FakeServices()
    state, transcript, replies = converse(services, say("j'ai besoin d'aide pour la caf", "demarche"),
                                          say("il fait beau aujourd'hui", "hors_sujet"))
    assert transcript[1] == ["utter_redemander_enjeu"]
    assert "enjeu" not in state["facts"] and state["pending"] == "enjeu"
    # asked in other words, with the same buttons
    assert replies[0].text() != messages.text("utter_ask_enjeu")
    assert messages.catalogue().buttons("utter_redemander_enjeu") == messages.catalogue().buttons("utter_ask_enjeu")


def test_bus_12_is_not_a_town_nor_an_equipment():
    services = FakeServices()
    state, transcript, _ = converse(services, say("aide pour les impots, pas de date", "demarche"),
                                    say("bus 12", "informer"))
    assert transcript[1] == ["utter_redemander_equipement"]
    assert "equipement" not in state["facts"]


def test_a_second_answer_that_does_not_fit_moves_on_as_before():
    services = FakeServices()
    state, transcript, _ = converse(services, say("aide pour la caf", "demarche"), say("bof"), say("bof"))
    assert transcript[2][0] != "utter_redemander_enjeu"
    assert state["facts"]["enjeu"] == "inconnu"  # an unclear deadline stays a possible urgence


# --- corrections -----------------------------------------------------------------------------------------

def test_no_date_typed_while_the_town_question_waits_updates_the_deadline_not_the_town():
    services = FakeServices()
    first = say("je dois faire ma declaration caf avant vendredi", "demarche")
    state, transcript, _ = converse(services, first, say("non y a pas de date", "informer"))
    assert transcript[0] == ["utter_ask_commune"]  # a deadline and a body: only the town was missing
    assert transcript[1] == ["utter_correction_notee", "utter_ask_commune"]
    assert state["facts"]["enjeu"] == "aucun" and "delai" not in state["facts"]["enjeux"]
    assert "commune" not in state["facts"] and state["pending"] == "commune"
    state, transcript, _ = converse(services, first, say("non y a pas de date", "informer"), say("rennes", "informer"))
    assert state["facts"]["commune"] == "Rennes"
    assert "delai_proche" not in state["reasons"] and state["level"] != "urgence"


def test_changing_the_body_keeps_the_waiting_question_and_drops_the_old_procedure():
    services = FakeServices()
    state, transcript, _ = converse(services, say("ma declaration trimestrielle caf", "demarche"),
                                    say("je me suis trompé, c'est pour les impôts", "informer"))
    assert transcript[1] == ["utter_correction_notee", "utter_ask_enjeu"]
    assert state["facts"]["organisme"] == "impots" and "demarche" not in state["facts"]


def test_a_device_correction_after_a_place_was_proposed_runs_the_triage_again():
    services = FakeServices()
    state, transcript, _ = converse(services, say("je dois faire ma caf avant vendredi, j'ai pas d'ordi, rennes",
                                                  "demarche"),
                                    say("en fait j'ai un ordi", "informer"))
    assert transcript[0][-1] == "utter_demande_consentement"
    assert transcript[1][0] == "utter_correction_notee"
    assert state["facts"]["equipement"] == "ordinateur"


def test_a_town_given_while_another_question_waits_is_kept_and_never_asked():
    # A relative answering out of order: the town came at the deadline question, and used to be lost.
    services = FakeServices()
    state, transcript, _ = converse(services, say("c'est pour ma mère, elle doit faire sa déclaration caf", "demarche"),
                                    say("Rennes", "informer"), say("oui avant vendredi", "oui"))
    assert transcript[0] == ["utter_ask_enjeu"]
    assert transcript[1] == ["utter_info_notee", "utter_ask_enjeu"]
    assert state["facts"]["commune"] == "Rennes"
    assert "utter_ask_commune" not in transcript[2]


def test_new_information_is_noted_not_called_a_correction():
    services = FakeServices()
    state, transcript, _ = converse(services, say("c'est pour ma mère, elle doit faire sa déclaration caf", "demarche"),
                                    say("elle a pas d'ordi", "informer"))
    assert transcript[1] == ["utter_info_notee", "utter_ask_enjeu"]
    assert state["facts"]["equipement"] == "aucun"
    assert messages.text("utter_info_notee") == "C'est noté, merci."


def test_information_given_while_the_town_question_waits_is_noted_not_corrected():
    services = FakeServices()
    _, transcript, _ = converse(services, say("je voudrais apprendre a me servir d'internet", "apprendre"),
                                say("j'ai une tablette", "informer"))
    assert transcript[1] == ["utter_info_notee", "utter_ask_commune"]


def test_homonyms_named_while_another_question_waits_are_left_for_the_town_question():
    services = FakeServices()
    state, transcript, _ = converse(services, say("aide pour la caf", "demarche"), say("saint denis", "informer"))
    assert transcript[1] == ["utter_redemander_enjeu"]  # "which Saint-Denis?" would cut across the question
    assert "commune" not in state["facts"]


# --- "pas urgent" and noise -------------------------------------------------------------------------------

def test_not_urgent_is_never_an_urgence_for_a_deadline():
    services = FakeServices()
    state, transcript, _ = converse(services, say("c'est pas urgent du tout mais je voudrais qu'on m'aide pour "
                                                  "mon compte ameli", "demarche"))
    assert "utter_resultat_urgence" not in transcript[0]
    assert state["facts"]["enjeu"] == "aucun"


def test_spam_is_out_of_scope():
    services = FakeServices()
    state, transcript, _ = converse(services, say("Gagnez 1000 euros, cliquez ici www.gain.fr", "demarche"))
    assert state["level"] == "hors_champ" and state["reasons"] == ["publicite"]
    assert transcript[0] == ["utter_hors_sujet"]


def test_a_real_request_after_a_test_message_is_triaged():
    services = FakeServices()
    state, transcript, _ = converse(services, say("test"), say("je veux apprendre a me servir d'un ordinateur",
                                                               "apprendre"))
    assert state["level"] != "hors_champ"
