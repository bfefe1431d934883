"""Outbound SMS: bounded retries on 5xx/429/network errors, none on other 4xx, opt-outs honoured."""

import pytest

from bot.channels.sms.providers import OptedOut, SendError, SmsSender, SmsSettings
from bot.channels.sms.store import SmsStore, number_key
from tests.fakes.sms_gateway import FakeGateway


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "sms-test-key")


@pytest.fixture()
def store(database):
    return SmsStore(database.factory)


def sender_for(url, store, retries=3):
    settings = SmsSettings(provider="json", send_url=f"{url}/send", shared_secret="s", from_number="+33700000000",
                           retries=retries, backoff=0.01, backoff_max=0.05, timeout=2)
    return SmsSender(settings, store)


async def test_retries_503_then_succeeds(store):
    with FakeGateway() as gateway:
        gateway.script = [(503, None), (429, None)]
        sender = sender_for(gateway.url, store)
        assert await sender.send("06 12 34 56 78", "Bonjour") == "gw-3"
        await sender.aclose()
    assert len(gateway.requests) == 3
    refs = {r.json()["client_ref"] for r in gateway.requests}
    assert len(refs) == 1  # the same client_ref lets the gateway drop duplicates


async def test_no_retry_on_400(store):
    with FakeGateway() as gateway:
        gateway.script = [(400, {"error": "bad number"})]
        sender = sender_for(gateway.url, store)
        with pytest.raises(SendError) as error:
            await sender.send("+33612345678", "Bonjour")
        await sender.aclose()
    assert error.value.status == 400 and len(gateway.requests) == 1


async def test_retries_are_bounded(store):
    with FakeGateway() as gateway:
        gateway.script = [(500, None)] * 10
        sender = sender_for(gateway.url, store, retries=2)
        with pytest.raises(SendError):
            await sender.send("+33612345678", "Bonjour")
        await sender.aclose()
    assert len(gateway.requests) == 3


async def test_network_error_is_retried_then_reported(store):
    sender = sender_for("http://127.0.0.1:9", store, retries=1)  # nothing listens on port 9
    with pytest.raises(SendError):
        await sender.send("+33612345678", "Bonjour")
    await sender.aclose()


async def test_opted_out_number_is_refused_and_long_text_fits(store):
    with FakeGateway() as gateway:
        sender = sender_for(gateway.url, store)
        store.opt_out(number_key("+33612345678"))
        with pytest.raises(OptedOut):
            await sender.send("06 12 34 56 78", "Bonjour")
        await sender.send("+33698765432", "Vous êtes attendu. " * 100)
        await sender.aclose()
    from bot.channels.sms.encoding import count
    assert len(gateway.requests) == 1
    text = gateway.requests[0].json()["text"]
    assert text.startswith("Vous etes attendu.") and count(text).count <= 3
