"""The safety check as each channel shows it: numbers and buttons on Telegram, short GSM-7 SMS."""

from __future__ import annotations

import pytest

from bot.channels.sms import choices as sms_choices
from bot.channels.sms.encoding import gsm7_encodable, segments_of
from bot.channels.telegram.rendering import render_replies
from bot.core import messages
from bot.triage.dialogue import safety_check_reply
from bot.triage.emergencies import NUMBERS
from bot.triage.safety.screen import possible_numbers

SAFETY_KEYS = ("utter_verification_securite_detresse", "utter_verification_securite",
               "utter_verification_securite_general", "utter_verification_securite_encore",
               "utter_securite_merci", "utter_securite_rappel")


def as_rasa_sends(reply) -> list[dict]:
    """What the action's dispatcher hands to a channel for this reply: text with buttons, then the custom."""
    return [{"text": reply.text(), "buttons": messages.catalogue().buttons(reply.key)}, {"custom": reply.custom}]


@pytest.mark.parametrize("kind", sorted(NUMBERS))
def test_every_check_fits_three_gsm7_segments_with_its_numbered_choices(kind):
    reply = safety_check_reply(kind, list(possible_numbers(kind)))
    sms = sms_choices.render(reply.text(), sms_choices.choices_from_buttons(messages.catalogue().buttons(reply.key)))
    assert possible_numbers(kind)[0] in sms
    assert gsm7_encodable(sms), sms
    assert segments_of(sms) <= 3, sms
    assert "1." in sms and "2." in sms


@pytest.mark.parametrize("key", SAFETY_KEYS)
def test_every_safety_text_is_plain_gsm7(key):
    text = messages.text(key, numero="3114", numero_secours="112")
    assert gsm7_encodable(text) and "{" not in text


def test_telegram_shows_the_check_with_its_buttons_and_the_number_in_bold():
    reply = safety_check_reply("suicide", ["3114", "112"])
    out = render_replies(as_rasa_sends(reply), issue_tokens=lambda payloads: payloads)
    assert "3114" in out[0].html and "112" in out[0].html
    assert [row[0][0] for row in out[0].inline_buttons] == ["Oui, il y a un danger", "Non, tout va bien"]
    assert out[-1].html == "<b>3114</b>"


def test_the_mediator_reads_the_flags_in_words_without_details():
    from bot.handoff.notifications.channels import summary
    from bot.handoff.recap import recap

    flags = recap({"verification_securite": "posee"}, "urgence", "desk").flags
    assert len(flags) == 1 and "danger" in flags[0] and "vérification" in flags[0]
    assert "numéro d'urgence" in recap({"verification_securite": "danger"}, "urgence", "desk").flags[0]
    assert recap({"redacteur": "professionnel"}, "urgence", "desk").flags == (
        "Quelqu'un a écrit pour la personne : un professionnel ou un bénévole.",)
    assert recap({"besoins": ["Surdité"]}, "urgence", "desk").line("besoins") == "Surdité"  # other needs: a line
    line = summary({"faits": {"organisme": "caf", "redacteur": "proche", "verification_securite": "posee"}})
    assert "écrit pour la personne : un proche" in line and "vérification de sécurité" in line
