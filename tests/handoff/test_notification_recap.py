"""The places' notifications (e-mail, Telegram, webhook) tell the situation in words: the same recap as the
console, never a raw code or a place id."""

from __future__ import annotations

import json

import pytest

from bot.handoff.notifications import channels as ch
from bot.handoff.notifications.config import NotifySettings
from bot.handoff.notifications.outbox import referral_payload
from bot.handoff.referrals import Referral
from tests.recap_support import MADE_AT, SITUATIONS, raw_codes

PLACE_ID = "demo-rennes-centre-france-services"
PLACE_NAME = "France Services Rennes Colombier"
SETTINGS = NotifySettings(console_url="https://console.example/console", smtp_from="aiguillage@aiguillage.example")


def payload(name: str) -> dict:
    level, channel, facts = SITUATIONS[name]
    referral = Referral(reference="7KD-BQ5R", created_at=MADE_AT, consent_at=MADE_AT, level=level,
                        reasons=["delai_proche"] if level == "urgence" else [], facts=facts, place_id=PLACE_ID,
                        channel=channel, conversation_key="0" * 32)
    return referral_payload(referral, PLACE_NAME)


def human_texts(name: str) -> dict:
    data = payload(name)
    subject, body = ch.render_email(data, SETTINGS)
    document = json.loads(ch.webhook_body(ch.Notification(1, "webhook", "https://x.example", "7KD-BQ5R", data),
                                          SETTINGS))
    recap = document["recapitulatif"]
    webhook_human = "\n".join([document["texte"], document["niveau_libelle"], recap["orientee_par"], recap["lieu"]]
                              + [f"{line['libelle']} : {line['texte']}" for line in recap["lignes"]]
                              + recap["a_savoir"] + [r["texte"] for r in document["raisons"]])
    # The link names the reference, and the console's path: neither is a code of the triage.
    return {"e-mail": (subject + "\n" + body).replace(SETTINGS.console_url, ""),
            "telegram": ch.render_telegram(data, SETTINGS).replace(SETTINGS.console_url, ""),
            "webhook": webhook_human.replace(SETTINGS.console_url, "")}


@pytest.mark.parametrize("name", sorted(SITUATIONS))
def test_no_raw_code_nor_place_id_in_what_people_read(name):
    for output, text in human_texts(name).items():
        assert raw_codes(text, [PLACE_ID]) == [], output
        assert PLACE_NAME in text, output


def test_the_caf_scenario_in_every_output():
    for output, text in human_texts("caf_desk").items():
        assert "Caisse d'allocations familiales (CAF)" in text, output
        assert "la déclaration trimestrielle de ressources" in text, output
        assert "Le RSA sera suspendu si la déclaration n'est pas faite." in text, output
        assert "avant le vendredi 11 décembre" in text, output
        assert "Accueil mairie de Fougères" in text, output


def test_sensitive_context_reaches_the_place_without_details():
    for output, text in human_texts("after_115_desk").items():
        assert "Un numéro d'urgence vitale a été donné dans la même conversation." in text, output
        assert "115" not in text, output
    for output, text in human_texts("prefecture_sms").items():
        assert "ne parle pas bien le français" in text and "par SMS" in text, output
    for output, text in human_texts("neighbour_telegram").items():
        assert "Quelqu'un a écrit pour la personne : un proche." in text, output


def test_the_webhook_keeps_its_codes_for_machines_and_adds_the_date():
    data = payload("caf_desk")
    document = json.loads(ch.webhook_body(ch.Notification(1, "webhook", "https://x.example", "7KD-BQ5R", data),
                                          SETTINGS))
    assert document["faits"]["demarche"] == "declaration_trimestrielle" and document["lieu_id"] == PLACE_ID
    assert document["recapitulatif"]["echeance"] == "2026-12-11"
