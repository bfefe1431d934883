"""Rate limits per sender and per address (connectors/admission.py), on the desk: a flood is answered
at once with a French 429, never by Rasa, and never delays anyone else. A danger written past the
limit still gets its emergency number. The other channels: their own test files (Telegram, SMS, helpline)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.core import messages
from bot.core.settings import get_settings
from connectors import admission
from connectors.admission import DEFAULT_SENDER_RATE, Rate, RateLimiter
from connectors.desk import DeskInput
from tests.fakes.channel_server import ChannelServer

BURST = DEFAULT_SENDER_RATE.burst
DANGER = "je vais me tuer ce soir"


def polite() -> str:
    settings = get_settings()
    return messages.text("utter_trop_de_messages", ligne_nom=settings.helpline_name,
                         ligne_telephone=settings.helpline_phone)


# --- the buckets ------------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_bucket_allows_its_burst_then_one_message_per_refill_and_says_so_once():
    clock = Clock()
    limiter = RateLimiter(Rate(burst=3, per_minute=6), clock=clock)
    verdicts = [limiter.check("a") for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert [v.notify for v in verdicts[3:]] == [True, False]  # the notice once, not at every message
    assert verdicts[3].retry_after == 10  # 6 a minute: one every 10 s
    assert limiter.check("b").allowed  # another sender has its own bucket
    clock.now += 10
    assert limiter.check("a").allowed
    refused = limiter.check("a")
    assert not refused.allowed and refused.notify  # allowed since: a new flood is told again


def test_the_buckets_are_bounded():
    limiter = RateLimiter(Rate(burst=1, per_minute=1), max_keys=100, clock=Clock())
    for i in range(1000):
        limiter.check(f"sender-{i}")
    assert len(limiter) == 100


def test_the_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(admission.SENDER_RATE_ENV, "30")
    monkeypatch.setenv(admission.ADDRESS_RATE_ENV, "pas un nombre")
    admission.process_limits.cache_clear()
    limits = admission.process_limits()
    assert limits.senders.rate == Rate(burst=30, per_minute=30)
    assert limits.addresses.rate == admission.DEFAULT_ADDRESS_RATE


# --- desk -------------------------------------------------------------------------------------------------

class CountingRasa:
    """Plays Rasa: counts turns per sender; each turn takes `delay` seconds."""

    def __init__(self, delay: float = 0.0):
        self.turns: dict[str, int] = {}
        self.order: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()

    async def __call__(self, message):
        with self.lock:
            self.turns[message.sender_id] = self.turns.get(message.sender_id, 0) + 1
            self.order.append(message.sender_id)
        if self.delay:
            await asyncio.sleep(self.delay)
        await message.output_channel.send_response(message.sender_id, {"text": "Pour quelle démarche ?"})


@pytest.fixture()
def desk(stopped_rate_clock):
    rasa = CountingRasa()
    server = ChannelServer(DeskInput(), rasa, "/webhooks/desk")
    yield server, rasa
    server.stop()


def say(server, sender, text="bonjour", client=None):
    return (client or httpx).post(f"{server.base}/webhook", json={"sender": sender, "message": text}, timeout=30)


def test_a_desk_flood_gets_a_french_429_without_rasa_and_others_are_served(desk):
    server, rasa = desk
    replies = [say(server, "agent-1") for _ in range(BURST + 5)]
    assert [r.status_code for r in replies] == [200] * BURST + [429] * 5
    assert rasa.turns == {"desk:agent-1": BURST}
    assert replies[-1].json()["erreur"] == polite() and int(replies[-1].headers["retry-after"]) >= 1
    other = say(server, "agent-2")
    assert other.status_code == 200 and rasa.turns["desk:agent-2"] == 1


def test_a_danger_written_past_the_limit_still_gets_its_number_at_once(desk):
    server, rasa = desk
    for _ in range(BURST + 1):
        say(server, "agent-1")
    reply = say(server, "agent-1", DANGER)
    assert reply.status_code == 200
    answer = [m for m in reply.json() if m.get("text")]  # the page's own message (the text typed) aside
    assert "3114" in answer[0]["text"] and answer[0]["custom"]["numero"] == "3114"
    assert rasa.turns == {"desk:agent-1": BURST}


def test_one_address_past_its_limit_gets_429(desk, monkeypatch):
    monkeypatch.setenv(admission.ADDRESS_RATE_ENV, "10")  # burst 4 (scaled from the default)
    admission.process_limits.cache_clear()
    server, rasa = desk
    statuses = [say(server, f"personne-{i}").status_code for i in range(6)]
    assert statuses == [200] * 4 + [429] * 2
    assert sum(rasa.turns.values()) == 4


def test_a_thousand_messages_from_one_sender_do_not_hold_back_another(stopped_rate_clock, monkeypatch):
    # Every request comes from 127.0.0.1: with the address limit's burst (120), the other person's message
    # was refused whenever 120 flood requests had been answered before it was sent (a loaded machine). The
    # address limit has its own test; this one is about the sender's.
    monkeypatch.setenv(admission.ADDRESS_RATE_ENV, "1000000")
    admission.process_limits.cache_clear()
    rasa = CountingRasa(delay=0.02)  # a turn takes 20 ms
    server = ChannelServer(DeskInput(), rasa, "/webhooks/desk")
    try:
        results: dict[str, list] = {"flood": []}
        with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=50)) as client, \
                ThreadPoolExecutor(max_workers=50) as pool:
            flood = [pool.submit(say, server, "flooder", "encore", client) for _ in range(1000)]
            other = say(server, "someone-else", "bonjour", client)
            results["flood"] = [f.result().status_code for f in flood]
        said = [m["text"] for m in other.json() if "text" in m]  # the page's own message aside
        assert other.status_code == 200 and said == ["Pour quelle démarche ?"]
        # Every flood message got an answer (nothing hangs), at most its burst ran Rasa...
        assert len(results["flood"]) == 1000 and set(results["flood"]) <= {200, 429}
        assert results["flood"].count(200) == rasa.turns["desk:flooder"] == BURST
        # ...so the other person's turn had at most the flooder's burst before it, never the queue.
        assert rasa.order.index("desk:someone-else") <= BURST
    finally:
        server.stop()
