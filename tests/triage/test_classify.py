"""classify(): the conversation's understanding and rules on one message, without Rasa."""

import pytest

from bot.handoff.services import Orientation
from bot.triage.classify import classify


@pytest.fixture(scope="module")
def services():
    return Orientation(factory=None)


def test_acceptance_urgence_message_needs_no_more_question(services):
    result = classify("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
                      "jai pas dordi, jsuis a rennes", "demarche", {}, services)
    assert result["level"] == "urgence"
    assert result["emergency_number"] is None
    assert {r["code"] for r in result["reasons"]} >= {"delai_proche", "seul_impossible"}
    assert all(r["texte"] for r in result["reasons"])
    assert result["facts"]["commune_insee"] == "35238"
    assert result["missing"] == []


def test_learning_message_only_misses_the_town(services):
    result = classify("je voudrais apprendre a faire des visios avec mes petits enfants", "apprendre", {}, services)
    assert result["level"] == "montee_en_competence"
    assert result["missing"] == ["commune"]


def test_street_tonight_is_answered_with_115_not_triaged(services):
    result = classify("je suis a la rue ce soir", "urgence_vitale", {}, services)
    assert result["emergency_number"] == "115"
    assert result["level"] == "hors_champ" and result["missing"] == []


def test_answers_complete_the_triage_like_the_conversation(services):
    result = classify("slt jvoudrais mactualiser pole emploi", "demarche",
                      {"enjeu": "non pas de date", "equipement": "telephone", "souhait": "apprendre",
                       "commune": "st brieuc"}, services)
    assert result["level"] == "montee_en_competence"
    assert result["facts"]["commune"] == "Saint-Brieuc"
    assert result["missing"] == []


def test_unknown_answer_about_the_deadline_is_an_urgence_in_doubt(services):
    result = classify("slt jvoudrais mactualiser pole emploi", "demarche", {"enjeu": "jsp"}, services)
    assert result["level"] == "urgence"
    assert [r["code"] for r in result["reasons"]] == ["dans_le_doute"]


def test_ambiguous_town_stays_missing(services):
    result = classify("je veux apprendre internet", "apprendre", {"commune": "saint denis"}, services)
    assert "commune" in result["missing"]


def test_greeting_alone_is_unknown_with_the_first_question_missing(services):
    result = classify("bonjour", "saluer", {}, services)
    assert result["level"] is None
    assert result["missing"][0] == "demarche"


def test_unknown_answer_key_is_refused_clearly(services):
    with pytest.raises(ValueError, match="question inconnue"):
        classify("bonjour", "saluer", {"age": "40"}, services)
