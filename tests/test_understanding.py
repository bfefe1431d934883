"""Facts found in messages written the way people write: no accents, typos, abbreviations."""

import pytest

from bot.understanding import extract_facts, facts_from_message, match_choice


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
    ("c'est urgent", "delai"),
    ("mon rsa est suspendu", "probleme"),
    ("j'ai ete radie", "probleme"),
    ("premiere demande d'apl", "premiere_demande"),
])
def test_stakes(text, stake):
    assert stake in extract_facts(text).get("enjeux", [])


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


def test_intent_adds_its_fact_and_payloads_carry_none():
    assert facts_from_message("je voudrais", "apprendre")["apprentissage"] is True
    assert facts_from_message('/choix{"valeur": "caf"}', "choix") == {}
