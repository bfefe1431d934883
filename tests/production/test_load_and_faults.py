"""Load and faults on the production profile: many people at once, the action server down."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import text

from bot.ops.deploy.services import wait_for_port
from tests.conftest import Conversation

pytestmark = pytest.mark.production

REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b")
STORIES = [
    "bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, jai pas dordi, "
    "jsuis a rennes",
    "je dois refaire ma carte grise sur ants avant vendredi jai pas internet jhabite rennes",
    "mon dossier france travail est bloqué je dois m'actualiser avant demain, je suis à Rennes sans ordi",
]
CONVERSATIONS = 200


async def one_person(client: httpx.AsyncClient, url: str, index: int) -> str:
    sender = f"charge-{index}"
    replies = (await client.post(url, json={"sender": sender, "message": STORIES[index % len(STORIES)]})).json()
    buttons = replies[-1].get("buttons") or []
    assert buttons and buttons[0]["title"].startswith("Oui"), Conversation.texts(replies)
    done = (await client.post(url, json={"sender": sender, "message": buttons[0]["payload"]})).json()
    found = REFERENCE.search(Conversation.texts(done))
    assert found, Conversation.texts(done)
    return found.group(0)


def test_two_hundred_people_at_once_each_get_exactly_one_referral(production):
    url = f"{production['profile'].public_url}/webhooks/desk/webhook"

    async def everyone():
        limits = httpx.Limits(max_connections=CONVERSATIONS, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            return await asyncio.gather(*(one_person(client, url, i) for i in range(CONVERSATIONS)))

    references = asyncio.run(everyone())
    assert len(set(references)) == CONVERSATIONS  # no one got someone else's code
    with production["engine"].connect() as connection:
        stored = connection.execute(text("SELECT reference FROM referrals WHERE reference IN :refs")
                                    .bindparams(__import__("sqlalchemy").bindparam("refs", expanding=True)),
                                    {"refs": references}).scalars().all()
    assert sorted(stored) == sorted(references)  # none lost, none twice


def test_with_the_action_server_down_the_bot_gives_the_helpline_then_recovers(production):
    profile = production["profile"]
    person = Conversation(profile.public_url)
    profile.stop_process("actions")
    try:
        replies = person.say(STORIES[0])
        said = Conversation.texts(replies)
        assert "problème" in said and "Solidarité Numérique" in said  # the helpline, by name and number
    finally:
        profile.start_actions(profile.env["PYTHONPATH"])
        assert wait_for_port(profile.settings.action_port, 60)
    later = Conversation(profile.public_url)
    replies = later.say(STORIES[0])
    consent = replies[-1]["buttons"][0]["payload"]
    assert REFERENCE.search(Conversation.texts(later.say(consent)))
