"""The rules table: what a social worker would expect for typical situations."""

import pytest

from bot.core import messages
from bot.triage.rules import HORS_CHAMP, INCLUSION, MONTEE, RULES, URGENCE, decide
from bot.triage.understanding import extract_facts


def classify_text(text, **extra):
    facts = extract_facts(text)
    facts.update(extra)
    return decide(facts)


@pytest.mark.parametrize("text, reason", [
    ("je dois faire ma declaration trimestrielle caf avant le 5", "delai_proche"),
    ("mon rsa est coupe depuis ce mois", "droit_menace"),
    ("pole emploi m'a radie hier", "droit_menace"),
    ("jsuis convoque a la prefecture lundi pour mon titre de sejour", "delai_proche"),
    ("je dois faire une premiere demande de rsa", "droit_a_ouvrir"),
    ("j'ai recu une lettre des impots, je sais pas lire", "seul_impossible"),
])
def test_urgences_are_recognised_with_their_reason(text, reason):
    result = classify_text(text)
    assert result.level == URGENCE
    assert reason in result.reasons
    assert result.next_step == INCLUSION  # an urgence also gets the next step proposed


def test_acceptance_message_is_an_urgence_with_all_reasons_and_no_question_but_the_place():
    text = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
            "jai pas dordi, jsuis a rennes")
    result = classify_text(text)
    assert result.level == URGENCE
    assert {"delai_proche", "seul_impossible"} <= set(result.reasons)
    assert result.equipment_first
    assert result.missing == ["commune"]  # the commune comes from the commune index, not the lexicon


def test_unknown_stake_for_a_procedure_is_treated_as_urgence():
    result = decide({"organisme": "caf", "enjeu": "inconnu"})
    assert result.level == URGENCE
    assert result.reasons == ["dans_le_doute"]


def test_blocked_person_is_inclusion_but_the_deadline_question_comes_first():
    # A blocked person might still have a deadline: the level stays open until question 2.
    text = "j'arrive pas a me connecter sur ameli, j'ai oublie mon mot de passe"
    result = classify_text(text)
    assert result.level == INCLUSION and result.provisional
    assert result.missing[0] == "enjeu"
    assert decide(dict(extract_facts(text), enjeu="delai"), asked=("enjeu",)).level == URGENCE
    after = decide(dict(extract_facts(text), enjeu="aucun"), asked=("enjeu",))
    assert after.level == INCLUSION and not after.provisional
    assert "bloque" in after.reasons


def test_recurring_dependence_is_inclusion_once_no_deadline():
    facts = extract_facts("c'est toujours ma voisine qui fait ma declaration caf chaque trimestre")
    facts["enjeu"] = "aucun"
    result = decide(facts, asked=("enjeu",))
    assert result.level == INCLUSION
    assert "difficulte_recurrente" in result.reasons
    assert result.next_step == MONTEE


@pytest.mark.parametrize("text", [
    "je voudrais apprendre a faire des visios avec mes petits enfants",
    "j'aimerais un atelier pour apprendre a utiliser mon smartphone",
    "jai jamais touche un ordi",
])
def test_learning_wishes_are_montee_en_competence(text):
    result = classify_text(text)
    assert result.level == MONTEE
    assert result.missing == ["commune"]


def test_learning_the_procedure_itself_without_deadline():
    result = decide({"organisme": "impots", "enjeu": "aucun", "souhait": "apprendre", "commune": "Rennes"},
                    asked=("enjeu", "souhait"))
    assert result.level == MONTEE
    assert result.reasons == ["apprendre_la_demarche"]
    assert result.missing == []


def test_deadline_wins_over_a_learning_wish():
    result = classify_text("je veux apprendre a faire ma declaration caf mais c'est avant demain")
    assert result.level == URGENCE


def test_social_need_without_procedure_is_out_of_scope_but_a_procedure_is_not():
    assert decide({"hors_champ": "social"}).level == HORS_CHAMP
    assert decide({"hors_champ": "social", "organisme": "caf", "enjeu": "delai"}).level == URGENCE


def test_a_bare_procedure_is_an_urgence_in_doubt_with_its_questions():
    result = classify_text("slt jvoudrais mactualiser pole emploi")
    assert result.level == URGENCE and result.provisional
    assert result.missing == ["enjeu", "equipement", "souhait", "commune"]
    settled = decide(dict(extract_facts("slt jvoudrais mactualiser pole emploi"), enjeu="delai"), asked=("enjeu",))
    assert settled.level == URGENCE and not settled.provisional and settled.missing == ["commune"]


def test_nothing_known_asks_at_most_the_five_questions_in_order():
    result = decide({})
    assert result.level is None
    assert result.missing == ["demarche", "enjeu", "equipement", "souhait"]


def test_all_questions_asked_without_clear_answer_falls_back_to_urgence_for_a_procedure():
    asked = ("demarche", "enjeu", "equipement", "souhait", "commune")
    result = decide({"organisme": "autre"}, asked=asked)
    assert result.level == URGENCE
    assert result.reasons == ["dans_le_doute"]


def test_every_rule_has_a_french_reason_and_a_summary():
    for rule in RULES:
        assert rule.summary
        assert messages.reason_text(rule.code)
    assert messages.reason_text("par_defaut")
