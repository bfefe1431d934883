"""Answers typed instead of pressed, through the real stack (model, rules, actions): a button's title typed is
that button, and words that are not of stopping never erase the conversation. At the desk, "plus loin" used
to be read as "stop" and erased the conversation of a person who asked for a farther place."""

from __future__ import annotations

import pytest

from bot.core import messages
from tests.conftest import Conversation

DEADLINE = "je dois faire ma déclaration de revenus avant jeudi"
ERASED = messages.text("utter_efface_accueil")


def erased(replies) -> bool:
    return (any((r.get("custom") or {}).get("type") == "effacer" for r in replies)
            or ERASED in Conversation.texts(replies))


@pytest.mark.parametrize("typed", ["Chercher plus loin", "plus loin"])
def test_nothing_near_then_further_typed_says_there_is_nothing_further(stack, conversation, typed):
    conversation.say(DEADLINE)
    said = Conversation.texts(conversation.say("Marseille"))
    assert "moins de 50 km" in said  # the demo directory has nothing near Marseille
    replies = conversation.say(typed)
    assert not erased(replies)
    said = Conversation.texts(replies)
    assert "Je ne cherche pas plus loin" in said and "01 70 772 372" in said
    assert "Vitré" not in said


def test_further_typed_at_the_consent_question_asks_again_and_erases_nothing(stack, conversation):
    conversation.say(DEADLINE)
    conversation.say("Rennes")
    replies = conversation.say("plus loin")
    assert not erased(replies)
    assert "Voulez-vous que j'envoie votre demande" in Conversation.texts(replies)
    assert erased(conversation.say("stop"))  # the word itself still erases
