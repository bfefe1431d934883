"""The desk webhook's answer carries what the page needs beyond the bot's replies: the person's text
as the server kept it (secrets masked by bot/core/privacy.py, so the page never shows them in clear),
and after "stop" or "effacer" the erase signal on which the page clears its screen."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.core import messages
from bot.core.privacy import redact
from connectors.desk import TYPED_TYPE, DeskInput
from tests.fakes.channel_server import ChannelServer

PASSWORD = "mon mot de passe c'est Soleil2024"
NIR = "mon numéro de sécu 1 84 12 75 123 456 78"
DANGER = "je vais me tuer ce soir"


class EchoRasa:
    """Plays Rasa: records what it was given and answers one question; "stop" erases, as action_effacer
    does (its text, then the erase signal that the channel acts on)."""

    def __init__(self):
        self.received: list[str] = []

    async def __call__(self, message):
        self.received.append(message.text)
        if message.text.strip().lower() in ("stop", "effacer"):
            await message.output_channel.send_response(message.sender_id, {"text": messages.text("utter_efface")})
            await message.output_channel.send_response(message.sender_id, {"custom": {"type": "effacer"}})
            return
        await message.output_channel.send_response(message.sender_id, {"text": "Pour quelle démarche ?"})


@pytest.fixture()
def desk(stopped_rate_clock):
    rasa = EchoRasa()
    server = ChannelServer(DeskInput(), rasa, "/webhooks/desk")
    yield server, rasa
    server.stop()


def say(server, text: str, sender: str = "agent-1") -> list[dict]:
    reply = httpx.post(f"{server.base}/webhook", json={"sender": sender, "message": text}, timeout=30)
    assert reply.status_code == 200
    return reply.json()


def typed(answer: list[dict]) -> list[str]:
    return [m["custom"]["texte"] for m in answer if isinstance(m.get("custom"), dict)
            and m["custom"].get("type") == TYPED_TYPE]


@pytest.mark.parametrize("text, secret, token", [
    (PASSWORD, "Soleil2024", "[MOT_DE_PASSE]"),
    (NIR, "123 456", "[NIR]"),
    ("mon mdp: Chat!9 et ma carte 4970 1012 3456 7890", "Chat!9", "[MOT_DE_PASSE]"),
])
def test_the_answer_gives_the_persons_text_masked_as_stored_and_never_the_secret(desk, text, secret, token):
    server, rasa = desk
    answer = say(server, text)
    assert typed(answer) == [redact(text).text] == rasa.received  # the page shows what Rasa got
    assert token in typed(answer)[0]
    assert secret not in json.dumps(answer, ensure_ascii=False)
    assert answer[0]["custom"]["type"] == TYPED_TYPE  # before the replies, as the bubble is
    assert messages.text("utter_donnee_sensible") in [m.get("text") for m in answer]


def test_a_plain_message_comes_back_as_typed_and_the_replies_are_unchanged(desk):
    server, _ = desk
    answer = say(server, "je dois faire ma déclaration caf à rennes")
    assert typed(answer) == ["je dois faire ma déclaration caf à rennes"]
    assert [m.get("text") for m in answer[1:]] == ["Pour quelle démarche ?"]
    assert all(m["custom"].get("type") != "effacer" for m in answer if isinstance(m.get("custom"), dict))


@pytest.mark.parametrize("word", ["stop", "effacer"])
def test_stop_answers_the_confirmation_then_the_erase_signal_for_the_page(desk, word):
    server, _ = desk
    answer = say(server, word)
    assert [m.get("text") for m in answer if m.get("text")] == [messages.text("utter_efface")]
    assert answer[-1] == {"custom": {"type": "effacer"}}


def test_a_danger_past_the_rate_limit_is_answered_with_the_typed_text_masked_too(desk):
    server, rasa = desk
    while True:  # until the sender's bucket is empty
        reply = httpx.post(f"{server.base}/webhook", json={"sender": "agent-1", "message": "bonjour"}, timeout=30)
        if reply.status_code == 429:
            break
    text = DANGER + " mon mdp c'est Soleil2024"
    answer = say(server, text)
    assert typed(answer) == [redact(text).text] and "Soleil2024" not in json.dumps(answer)
    assert any("3114" in (m.get("text") or "") for m in answer)
    assert text not in rasa.received
