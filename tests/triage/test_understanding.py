"""Facts found in messages written the way people write: no accents, typos, abbreviations."""

import pytest

from bot.triage.understanding import extract_facts, facts_from_message, match_choice


@pytest.mark.parametrize("text, organisation", [
    ("jdois faire ma declaration caf", "caf"),
    ("mon apl a baisse", "caf"),
    ("pole emploi veut que je m'actualise", "france_travail"),
    ("je dois m'actualiser sur france travail", "france_travail"),
    ("declaration d'impot", "impots"),
    ("les impots m'ont envoye un truc", "impots"),
    ("ma carte grise ants", "ants"),
    ("renouveler mon passeport", "ants_identite"),
    ("rdv prefecture titre de sejour", "prefecture"),
    ("je trouve pas ma carte vitale sur ameli", "ameli"),
    ("prefecure pour mon titre", "prefecture"),  # one typo
])
def test_organisations(text, organisation):
    assert extract_facts(text).get("organisme") == organisation


@pytest.mark.parametrize("text, equipment", [
    ("jai pas dordi", "aucun"),
    ("j'ai plus de forfait", "aucun"),
    ("pas internet chez moi", "aucun"),
    ("mon telephone est casse", "aucun"),
    ("j'ai juste un telephone", "telephone"),
    ("j'ai un ordi mais je sais pas faire", "ordinateur"),
])
def test_equipment(text, equipment):
    assert extract_facts(text).get("equipement") == equipment


@pytest.mark.parametrize("text, stake", [
    ("c'est avant le 15", "delai"),
    ("c'est urgent pour la caf", "delai"),
    ("il faut envoyer le papier aujourd'hui", "delai"),
    ("mon rsa est suspendu", "probleme"),
    ("j'ai ete radie", "probleme"),
    ("premiere demande d'apl", "premiere_demande"),
])
def test_stakes(text, stake):
    assert stake in extract_facts(text).get("enjeux", [])


@pytest.mark.parametrize("text", [
    "c'est pas urgent du tout mais je voudrais qu'on m'aide pour mon compte ameli",
    "c pas urgent", "rien de pressé", "jai le temps", "c'est pas pour tout de suite", "aucune date",
    "non y a pas de date", "pas urgent, ma carte vitale expire avant le 15 juin",
])
def test_negations_and_hedges_never_give_a_deadline(text):
    facts = extract_facts(text)
    assert facts.get("enjeu") == "aucun" and "delai" not in facts.get("enjeux", [])


@pytest.mark.parametrize("text", ["il fait beau aujourd'hui", "on se voit ce soir", "vite fait", "c'est urgent"])
def test_a_time_word_alone_is_not_a_deadline(text):
    assert "enjeu" not in extract_facts(text)


@pytest.mark.parametrize("answer, stake", [("demain", "delai"), ("oui c'est pour ce soir", "delai"),
                                           ("il fait beau aujourd'hui", None), ("bus 12", None)])
def test_a_bare_time_word_answers_the_deadline_question(answer, stake):
    assert extract_facts(answer, answering="enjeu").get("enjeu") == stake


@pytest.mark.parametrize("text, code", [
    ("test", "essai"), ("ceci est un test", "essai"), ("123", "essai"),
    ("Gagnez 500 euros en cliquant ici www.bonplan.fr", "publicite"), ("credit rapide sans justificatif", "publicite"),
    ("t'es nul", "insulte"), ("bande de connards", "insulte"), ("va te faire voir", "insulte"),
])
def test_spam_insults_and_tests_are_named(text, code):
    assert extract_facts(text).get("hors_champ") == code


def test_an_insult_with_a_procedure_is_still_the_procedure():
    facts = extract_facts("la caf c'est des connards ils ont suspendu mon rsa")
    assert facts["organisme"] == "caf" and facts["enjeu"] == "probleme"


@pytest.mark.parametrize("text, writer, barrier", [
    ("ma mère ne sait pas lire et doit renouveler sa carte vitale", "proche", "lecture"),
    ("Je suis assistante sociale, une dame que j'accompagne ne parle pas français, RSA suspendu", "professionnel",
     "langue"),
    ("Usager sans ordinateur, doit faire son actualisation", "professionnel", None),
    ("c'est pour mon père, il comprend pas le francais", "proche", "langue"),
])
def test_writing_for_someone_else(text, writer, barrier):
    facts = extract_facts(text)
    assert facts.get("redacteur") == writer
    assert facts.get("barriere") == barrier
    assert facts.get("souhait") != "regulier"  # "j'accompagne" is the writer's job, not a wish


def test_no_false_facts_in_small_talk():
    assert extract_facts("bonjour, comment ca va") == {}


def test_specific_needs_are_the_standard_values():
    facts = extract_facts("je suis sourde et je parle pas bien francais")
    assert "Surdité" in facts["besoins"]
    assert "Langues étrangères (autres)" in facts["besoins"]
    assert facts["barriere"] == "langue"


@pytest.mark.parametrize("question, answer, code", [
    ("enjeu", "Non, pas de date", "aucun"),
    ("enjeu", "jsp", "inconnu"),
    ("enjeu", "oui une date proche", "delai"),
    ("equipement", "un telefone avec internet", "telephone"),
    ("equipement", "rien", "aucun"),
    ("souhait", "apprendre a le faire seul", "apprendre"),
])
def test_free_text_answers_map_to_choices(question, answer, code):
    assert match_choice(question, answer) == code


def test_unrelated_answer_matches_no_choice():
    assert match_choice("souhait", "la tour eiffel") is None
    # "oui" hides in "aujourd'hui": only whole answers or whole phrases count
    assert match_choice("enjeu", "il fait beau aujourd'hui") is None
    assert match_choice("equipement", "bus 12") is None
    assert match_choice("enjeu", "non y a pas de date") == "aucun"


def test_intent_adds_its_fact_and_payloads_carry_none():
    assert facts_from_message("je voudrais", "apprendre")["apprentissage"] is True
    assert facts_from_message('/choix{"valeur": "caf"}', "choix") == {}


@pytest.mark.parametrize("text, body", [
    ("l'assurance habitation veut la déclaration sous 5 jours", "assurance"),
    ("le CROUS demande un papier pour ma chambre", "crous"),
    ("rendez-vous au consulat seulement sur internet", "consulat"),
    ("valider mon devis sur mon compte formation CPF", "formation"),
    ("ma banque a bloqué ma carte", "banque"),
    ("sa mutuelle a résilié son contrat", "mutuelle"),
])
def test_more_bodies_are_known(text, body):
    assert extract_facts(text)["organisme"] == body


def test_a_stake_with_an_unknown_body_is_still_a_procedure():
    facts = extract_facts("ils veulent une attestation avant lundi sinon le contrat est annulé")
    assert facts["organisme"] == "autre" and facts["enjeu"] == "delai"
    assert "organisme" not in extract_facts("le cours commence demain")  # a date alone names no procedure


@pytest.mark.parametrize("text", ["Mon AAH s'arrête fin juin",
                                  "ma formation commence lundi, il faut valider l'inscription",
                                  "la plateforme ferme vendredi", "la MDPH veut le dossier avant l'été"])
def test_deadlines_said_in_other_words(text):
    assert "delai" in extract_facts(text)["enjeux"]


def test_not_in_a_hurry_means_no_first_claim_needed_now():
    facts = extract_facts("je voudrais faire ma demande de logement social avec qqun, jsuis pas pressée")
    assert facts["enjeu"] == "aucun" and "premiere_demande" not in facts["enjeux"]
