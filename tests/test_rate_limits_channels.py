"""Rate limits on the SMS, Telegram and helpline webhooks: past a sender's limit, no Rasa turn, one
polite message (not one per message: each SMS costs), STOP still honoured, a danger still answered
with its number; the provider is never asked to redeliver a flood."""

from __future__ import annotations

import json

from bot import messages
from bot.settings import get_settings
from bot.sms.store import number_key
from connectors.admission import DEFAULT_SENDER_RATE
from tests.test_helpline import call, db, line, sanic_restartable  # noqa: F401  (fixtures)
from tests.test_sms_webhook import NUMBER, json_channel, store  # noqa: F401  (fixtures)
from tests.test_sms_webhook import secret_key  # noqa: F401  (autouse fixture: the SMS tests' key)
from tests.test_telegram import api, factory, message_update, rasa, sent, server  # noqa: F401  (fixtures)
from tests.test_telegram import post as telegram_post

BURST = DEFAULT_SENDER_RATE.burst
DANGER = "je vais me tuer ce soir"


def polite() -> str:
    settings = get_settings()
    return messages.text("utter_trop_de_messages", ligne_nom=settings.helpline_name,
                         ligne_telephone=settings.helpline_phone)


def sms_texts(gateway) -> list[str]:
    return [json.loads(r.body)["text"] for r in gateway.requests]


async def test_an_sms_flood_runs_its_burst_and_gets_one_polite_sms(json_channel):
    h = json_channel
    for _ in range(BURST + 6):
        assert (await h.sms("allo")).status_code == 200  # the gateway is never told to retry a flood
    assert len(h.rasa.received) == BURST
    assert sms_texts(h.gateway).count(polite()) == 1


async def test_stop_past_the_limit_is_still_honoured(json_channel, store):
    h = json_channel
    for _ in range(BURST + 2):
        await h.sms("allo")
    await h.sms("STOP")
    assert store.is_opted_out(number_key(NUMBER))


async def test_a_danger_by_sms_past_the_limit_gets_its_number(json_channel):
    h = json_channel
    for _ in range(BURST + 1):
        await h.sms("allo")
    await h.sms(DANGER)
    assert len(h.rasa.received) == BURST
    assert "3114" in sms_texts(h.gateway)[-1]


def test_a_telegram_flood_runs_its_burst_and_is_told_once(server, api, rasa):
    for i in range(BURST + 5):
        assert telegram_post(server, message_update(100 + i, text="allo")).status_code == 200
    assert len(rasa.received) == BURST
    assert [c["text"] for c in sent(api)].count(polite()) == 1


def test_a_danger_on_telegram_past_the_limit_gets_its_number(server, api, rasa):
    for i in range(BURST + 1):
        telegram_post(server, message_update(200 + i, text="allo"))
    telegram_post(server, message_update(300, text=DANGER))
    assert len(rasa.received) == BURST
    assert "3114" in sent(api)[-1]["text"]


async def test_the_same_caller_again_and_again_gets_429_without_an_sms_each_time(line):
    replies = [await line.post(call(call_id=f"appel-{i}")) for i in range(BURST + 3)]
    assert [r.status_code for r in replies] == [200] * BURST + [429] * 3
    assert replies[-1].headers["retry-after"] and replies[-1].json()["erreur"] == polite()
    assert len(line.sender.sent) <= BURST
