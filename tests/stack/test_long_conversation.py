"""One person who writes a thousand messages: every one is stored, and the assistant still answers
right at the end. A turn loads a bounded part of the conversation (bot/actions/tracker_store.py);
what each turn costs in time is measured by bench/long_conversation_bench.py, not asserted here."""

from __future__ import annotations

import json
import re

from sqlalchemy import text

from tests.conftest import Conversation

TURNS = 1000
CONSENT = '/choix{"valeur": "oui"}'
# Openings as people type them at the desk; the questions that follow are answered with a button.
OPENINGS = (
    "jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, jai pas dordi, jsuis a rennes",
    "je voudrais apprendre a faire des visios avec mes petits enfants, j'habite rennes",
    "jarrive pas a me connecter sur ameli, jai oublie mon identifiant, je suis a rennes",
)
REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b")


def _reference(replies: list[dict]) -> str | None:
    card = Conversation.card(replies)
    if card and card.get("reference"):
        return card["reference"]
    match = REFERENCE.search(Conversation.texts(replies))
    return match.group(0) if match else None


def _next(replies: list[dict]) -> str | None:
    """What the person presses next: the consent when offered, else the first button."""
    payloads = [b["payload"] for r in replies for b in r.get("buttons") or []]
    if CONSENT in payloads:
        return CONSENT
    return payloads[0] if payloads else None


def test_a_thousand_messages_from_one_person_are_all_stored_and_still_answered(stack):
    person = Conversation(stack["base"])
    sent: list[str] = []
    references: list[str] = []
    conversations = 0

    def say(message: str) -> list[dict]:
        replies = person.say(message)
        sent.append(message)
        assert replies, f"no answer to message {len(sent)}"
        return replies

    while len(sent) < TURNS - 10:
        if references:
            say("recommencer")  # a new request after a referral, as the bot tells the person
        message = OPENINGS[conversations % len(OPENINGS)]
        conversations += 1
        for _ in range(8):
            replies = say(message)
            reference = _reference(replies)
            if reference:
                references.append(reference)
                break
            message = _next(replies)
            if message is None:
                break
    while len(sent) < TURNS - 1:
        say("recommencer")
    # The last request, a thousand messages in, is understood as the first one was.
    last = say(OPENINGS[0])
    assert "urgence" in Conversation.texts(last).lower() and "date limite" in Conversation.texts(last)
    # Every request reached its own referral, the last ones as the first ones.
    assert len(references) == conversations and len(set(references)) == conversations > 200
    with stack["engine"].connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                       "ORDER BY id"), {"s": person.conversation_id}).all()
    stored = [json.loads(data)["text"] for (data,) in rows]
    assert len(stored) == TURNS and stored == sent
