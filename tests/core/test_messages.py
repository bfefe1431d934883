"""Every French text the conversation needs exists in the domain, short enough for an SMS."""

import re
from pathlib import Path

import yaml

from bot.core import messages
from bot.triage.dialogue import Reply
from bot.triage.rules import QUESTIONS, RULES

DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def all_keys_used_in_code():
    code = "".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "bot").rglob("*.py"))
    return set(re.findall(r'"(utter_[a-z_]+)"', code))


def test_every_response_used_by_the_code_is_in_the_domain():
    known = set(messages.catalogue().keys())
    missing = {k for k in all_keys_used_in_code() if k not in known and not k.endswith("_")}
    assert not missing


def test_every_question_and_level_has_its_text():
    for question in QUESTIONS:
        assert messages.catalogue().buttons(f"utter_ask_{question}"), question
    for rule in RULES:
        assert messages.reason_text(rule.code)
    for level in ("urgence", "inclusion", "montee_en_competence", "hors_champ"):
        assert messages.level_label(level)


def test_button_payloads_render_as_rasa_would():
    buttons = messages.catalogue().buttons("utter_ask_enjeu")
    assert buttons[0]["payload"] == '/choix{"valeur": "delai"}'


def test_values_fill_placeholders():
    text = Reply("utter_etape_aller_avant", {"lieu": "Espace, Rennes", "quand": "le lundi 7 décembre à 9h",
                                              "echeance": "vendredi 11 décembre", "a_apporter": "papiers"}).text()
    assert "vendredi 11 décembre" in text and "{" not in text


def test_no_response_asks_for_a_password():
    asks_for_a_password = r"(?<!ne )(donnez|envoyez|tapez|indiquez)[- ](moi )?(votre )?(mot de passe|code)"
    for key, variations in yaml.safe_load((DOMAIN / "responses.yml").read_text())["responses"].items():
        for variation in variations:
            text = variation.get("text", "").lower()
            assert not re.search(asks_for_a_password, text), key


def test_responses_are_short():
    for key in messages.catalogue().keys():
        for variation in messages.catalogue().responses[key]:
            assert len(variation.get("text", "")) <= 400, key


def test_reasons_are_joined_as_french_is_written():
    joined = messages.join_reasons(["delai_proche", "seul_impossible"])
    assert " ; " in joined and joined.endswith(".") and ";" not in joined.replace(" ; ", "")
