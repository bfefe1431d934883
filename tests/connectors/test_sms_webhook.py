"""The SMS channel for real: Sanic app on loopback, fake Rasa, fake gateway recording outbound SMS."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import types
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sanic import Sanic

from bot.channels.sms.providers import (
    TIMESTAMP_HEADER,
    SignatureError,
    SmsSettings,
    json_signature,
    signed_headers,
    twilio_signature,
)
from bot.channels.sms.store import SmsStore, number_key
from bot.core import messages
from bot.core.db import session_scope
from bot.core.settings import get_settings
from bot.handoff.referrals import ERASED_KEY, Referral, ReferralRequest, create_referral
from bot.ops.deploy.services import free_port
from connectors.sms import SmsInput
from tests.connectors.test_rate_limits import BURST, DANGER, polite
from tests.fakes.sms_gateway import FakeGateway

NUMBER = "+33612345678"
SECRET = "partage-secret"
TOKEN = "twilio-token"


class FakeRasa:
    """Plays Rasa: records each message, answers with scripted replies."""

    def __init__(self):
        self.received = []
        self.replies = [{"text": "Bonjour, je vous écoute."}]
        self.delay = 0.0  # seconds a turn takes, to test messages arriving during a turn

    async def __call__(self, message):
        self.received.append((message.text, message.sender_id))
        if self.delay:
            await asyncio.sleep(self.delay)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))


class FakeTrackerStore:
    def __init__(self):
        self.store = {}


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "sms-test-key")


@pytest.fixture()
def store(database):
    return SmsStore(database.factory)


class Harness:
    def __init__(self, channel, rasa, gateway, base, agent):
        self.channel, self.rasa, self.gateway, self.base, self.agent = channel, rasa, gateway, base, agent
        self.client = httpx.AsyncClient(timeout=10)

    @property
    def url(self):
        return f"{self.base}/webhooks/sms/webhook"

    async def post_json(self, payload, secret=SECRET, stamp=None, raw=None, path="webhook"):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers.update(signed_headers(secret, body, now=stamp))
        reply = await self.client.post(f"{self.base}/webhooks/sms/{path}", content=body, headers=headers)
        await self.channel.drain()
        return reply

    async def sms(self, text, number=NUMBER, message_id=None):
        return await self.post_json({"id": message_id or uuid.uuid4().hex, "from": number, "to": "+33700000000",
                                     "text": text, "received_at": "2025-01-01T10:00:00Z"})

    async def post_twilio(self, params, signature="auto", public_url=None):
        body = urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "auto":
            signature = twilio_signature(TOKEN, public_url or self.channel.settings.public_url, sorted(params.items()))
        if signature:
            headers["X-Twilio-Signature"] = signature
        reply = await self.client.post(self.url, content=body, headers=headers)
        await self.channel.drain()
        return reply


async def start(settings, store, twilio=False):
    gateway = FakeGateway(twilio=twilio).__enter__()
    channel = SmsInput(settings(gateway.url), store=store)
    rasa = FakeRasa()
    Sanic.test_mode = True  # lets several apps start in one process (what sanic-testing does)
    app = Sanic(f"sms_test_{uuid.uuid4().hex[:8]}")
    agent = types.SimpleNamespace(tracker_store=FakeTrackerStore())
    app.ctx.agent = agent
    app.blueprint(channel.blueprint(rasa), url_prefix="/webhooks/sms")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.start_serving()
    harness = Harness(channel, rasa, gateway, f"http://127.0.0.1:{port}", agent)
    return harness, server


def json_settings(url):
    return SmsSettings(provider="json", send_url=f"{url}/send", shared_secret=SECRET, from_number="+33700000000",
                       public_url="https://aiguillage.example/webhooks/sms/webhook", retries=2, backoff=0.01,
                       timeout=2)


def twilio_settings(url):
    return SmsSettings(provider="twilio", api_url=url, account_sid="AC123", auth_token=TOKEN,
                       from_number="+33700000000", public_url="https://aiguillage.example/webhooks/sms/webhook",
                       retries=2, backoff=0.01, timeout=2)


@pytest.fixture()
async def json_channel(store):
    harness, server = await start(json_settings, store)
    yield harness
    await harness.client.aclose()
    await harness.channel.sender.aclose()
    server.close()
    await server.wait_closed()
    harness.gateway.__exit__()


@pytest.fixture()
async def twilio_channel(store):
    harness, server = await start(twilio_settings, store, twilio=True)
    yield harness
    await harness.client.aclose()
    await harness.channel.sender.aclose()
    server.close()
    await server.wait_closed()
    harness.gateway.__exit__()


# --- Twilio-compatible form webhook ------------------------------------------------------------

TWILIO_FORM = {"From": "06 12 34 56 78", "To": "+33700000000", "Body": "Bonjour", "MessageSid": "SM1",
               "AccountSid": "AC123", "NumSegments": "1"}


async def test_twilio_signed_form_is_answered_by_sms(twilio_channel):
    h = twilio_channel
    reply = await h.post_twilio(TWILIO_FORM)
    assert reply.status_code == 200 and "<Response>" in reply.text
    assert h.rasa.received == [("Bonjour", number_key(NUMBER))]
    sent = h.gateway.requests
    assert len(sent) == 1 and sent[0].path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert sent[0].form() == {"To": NUMBER, "From": "+33700000000", "Body": "Bonjour, je vous écoute.",
                              "StatusCallback": "https://aiguillage.example/webhooks/sms/status"}
    assert sent[0].headers["Authorization"].startswith("Basic ")


def test_twilios_published_example_is_accepted_and_a_changed_one_refused():
    """The example request and signature of Twilio's webhook-security documentation."""
    from bot.channels.sms.providers import TwilioProvider

    provider = TwilioProvider(SmsSettings(provider="twilio", auth_token="12345"))
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    headers = {"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}
    provider.verify(headers, urlencode(params).encode(), url)
    with pytest.raises(SignatureError):
        provider.verify(headers, urlencode(dict(params, Digits="1235")).encode(), url)


async def test_requests_signed_by_twilios_validator_are_accepted(twilio_channel):
    """What Twilio's own RequestValidator accepts: the URL signed with its default port, and a
    parameter sent twice."""
    from twilio.request_validator import RequestValidator

    h = twilio_channel
    validator = RequestValidator(TOKEN)
    public = h.channel.settings.public_url  # https://aiguillage.example/webhooks/sms/webhook
    with_port = public.replace("https://aiguillage.example/", "https://aiguillage.example:443/")
    reply = await h.post_twilio(dict(TWILIO_FORM, MessageSid="SM443"),
                                signature=validator.compute_signature(with_port, dict(TWILIO_FORM, MessageSid="SM443")))
    assert reply.status_code == 200
    pairs = list(dict(TWILIO_FORM, MessageSid="SMDUP").items()) + [("MediaUrl0", "a"), ("MediaUrl0", "a")]
    body = urlencode(pairs).encode()

    class Multi(dict):
        def getall(self, name):
            return [v for k, v in pairs if k == name]

    signature = validator.compute_signature(public, Multi(pairs))
    reply = await h.client.post(h.url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                              "X-Twilio-Signature": signature})
    await h.channel.drain()
    assert reply.status_code == 200
    assert [text for text, _ in h.rasa.received] == ["Bonjour", "Bonjour"]


def test_twilio_python_own_json_example_is_accepted_and_a_changed_body_refused():
    """twilio-python's test vector for a JSON body: the URL carries bodySHA256 (SHA-256 of the body)
    and X-Twilio-Signature is the HMAC-SHA1 of that URL alone."""
    from bot.channels.sms.providers import TwilioProvider

    provider = TwilioProvider(SmsSettings(provider="twilio", auth_token="12345"))
    url = ("https://mycompany.com/myapp.php?foo=1&bar=2"
           "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620")
    headers = {"X-Twilio-Signature": "a9nBmqA0ju/hNViExpshrM61xv4="}
    provider.verify(headers, b'{"property": "value", "boolean": true}', url)
    with pytest.raises(SignatureError):
        provider.verify(headers, b'{"property": "valeur", "boolean": true}', url)


async def test_a_json_body_signed_with_its_sha256_in_the_url_is_answered(twilio_channel):
    """What Twilio sends for a JSON body: ?bodySHA256=<hex> added to the webhook URL, which alone is signed."""
    from twilio.request_validator import RequestValidator

    h = twilio_channel
    body = json.dumps(dict(TWILIO_FORM, MessageSid="SMJSON")).encode()
    query = "bodySHA256=" + hashlib.sha256(body).hexdigest()
    signature = RequestValidator(TOKEN).compute_signature(f"{h.channel.settings.public_url}?{query}", {})
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    tampered = body.replace(b"Bonjour", b"Bonsoir")
    assert (await h.client.post(f"{h.url}?{query}", content=tampered, headers=headers)).status_code == 403
    assert (await h.client.post(h.url, content=body, headers=headers)).status_code == 403  # hash not given
    reply = await h.client.post(f"{h.url}?{query}", content=body, headers=headers)
    await h.channel.drain()
    assert reply.status_code == 200
    assert h.rasa.received == [("Bonjour", number_key(NUMBER))]


async def test_twilio_wrong_or_missing_signature_is_refused(twilio_channel):
    h = twilio_channel
    wrong = await h.post_twilio(TWILIO_FORM, public_url="http://127.0.0.1/webhooks/sms/webhook")
    missing = await h.post_twilio(dict(TWILIO_FORM, MessageSid="SM2"), signature=None)
    tampered = twilio_signature(TOKEN, h.channel.settings.public_url, sorted(TWILIO_FORM.items()))
    forged = await h.post_twilio(dict(TWILIO_FORM, Body="autre"), signature=tampered)
    assert (wrong.status_code, missing.status_code, forged.status_code) == (403, 403, 403)
    assert h.rasa.received == [] and h.gateway.requests == []
    # Nothing stored either: the same message correctly signed is still handled.
    assert (await h.post_twilio(TWILIO_FORM)).status_code == 200
    assert len(h.rasa.received) == 1


# --- generic JSON webhook ------------------------------------------------------------------------

async def test_json_signed_message_is_answered(json_channel):
    h = json_channel
    reply = await h.sms("Bonjour")
    assert reply.status_code == 200
    assert h.rasa.received == [("Bonjour", number_key(NUMBER))]
    sent = h.gateway.requests[0]
    payload = sent.json()
    assert payload["to"] == NUMBER and payload["from"] == "+33700000000"
    assert payload["text"] == "Bonjour, je vous écoute." and payload["client_ref"]
    stamp = sent.headers[TIMESTAMP_HEADER]
    assert abs(int(stamp) - time.time()) < 60
    assert sent.headers["X-Aiguillage-Signature"] == json_signature(SECRET, stamp, sent.body)


async def test_json_bad_signature_replay_and_malformed(json_channel):
    h = json_channel
    payload = {"id": "m1", "from": NUMBER, "to": "+33700000000", "text": "Bonjour"}
    assert (await h.post_json(payload, secret="pas-le-bon")).status_code == 403
    assert (await h.post_json(payload, secret=None)).status_code == 403
    assert (await h.post_json(payload, stamp=time.time() - 3600)).status_code == 403
    assert h.rasa.received == [] and h.gateway.requests == []
    assert (await h.post_json(None, raw=b"{pas du json")).status_code == 400
    assert (await h.post_json(None, raw=b"{pas du json", secret=None)).status_code == 403
    assert (await h.post_json({"id": "m2", "text": "sans numero"})).status_code == 400
    assert h.rasa.received == []
    assert (await h.post_json(payload)).status_code == 200
    assert len(h.rasa.received) == 1


async def test_duplicate_message_id_is_processed_once(json_channel):
    h = json_channel
    for _ in range(3):
        assert (await h.sms("Bonjour", message_id="gw-42")).status_code == 200
    assert len(h.rasa.received) == 1 and len(h.gateway.requests) == 1


async def test_unconfigured_channel_answers_503(store):
    harness, server = await start(lambda url: SmsSettings(provider=""), store)
    try:
        reply = await harness.client.post(harness.url, content=b"{}")
        assert reply.status_code == 503 and "configuré" in reply.json()["erreur"]
    finally:
        await harness.client.aclose()
        server.close()
        await server.wait_closed()
        harness.gateway.__exit__()


# --- numbered choices ----------------------------------------------------------------------------

CONSENT = {"text": messages.text("utter_demande_consentement"),
           "buttons": messages.catalogue().buttons("utter_demande_consentement")}


async def test_buttons_become_numbers_and_replies_become_payloads(json_channel):
    h = json_channel
    h.rasa.replies = [CONSENT]
    await h.sms("je veux de l'aide")
    assert h.gateway.texts()[0].endswith("1. Oui, envoyer\n2. Non\nRépondez 1 ou 2.")
    await h.sms(" 2 ")
    await h.sms("oui envoier")
    h.rasa.replies = [{"text": "Merci."}]
    await h.sms("n°1")
    await h.sms("1")  # the last reply had no buttons: "1" is ordinary text now
    assert [text for text, _ in h.rasa.received] == [
        "je veux de l'aide", '/choix{"valeur": "non"}', '/choix{"valeur": "oui"}', '/choix{"valeur": "oui"}', "1"]


async def test_unrelated_reply_goes_to_rasa_as_text(json_channel):
    h = json_channel
    h.rasa.replies = [CONSENT]
    await h.sms("bonjour")
    await h.sms("je ne comprends pas la question")
    assert h.rasa.received[-1][0] == "je ne comprends pas la question"


async def test_result_card_and_emergency_custom_are_not_sent(json_channel):
    h = json_channel
    h.rasa.replies = [{"text": "Appelez le 115."}, {"custom": {"type": "urgence_vitale", "numero": "115"}},
                      {"text": "C'est envoyé.", "custom": {"type": "resultat", "reference": "ABC-DEFG"}},
                      {"custom": {"type": "autre"}}]
    await h.sms("je dors dehors")
    assert h.gateway.texts() == ["Appelez le 115.", "C'est envoyé."]


async def test_over_long_inbound_text_is_truncated(json_channel):
    h = json_channel
    await h.sms("a" * 10_000)
    assert len(h.rasa.received) == 1 and len(h.rasa.received[0][0]) == 1000
    assert len(h.gateway.requests) == 1


async def test_long_reply_stays_within_three_segments(json_channel):
    h = json_channel
    h.rasa.replies = [{"text": "Une phrase assez longue pour remplir. " * 30}]
    await h.sms("Bonjour")
    from bot.channels.sms.encoding import count
    assert count(h.gateway.texts()[0]).count <= 3


# --- STOP ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["STOP", " stop. ", "Arret", "ARRÊT !"])
async def test_stop_opts_out_erases_and_confirms_once(json_channel, store, word):
    h = json_channel
    key = number_key(NUMBER)
    await h.sms("Bonjour")
    with session_scope(store.factory) as session:
        create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id=None,
                                                 channel="sms", sender_id=key))
    h.agent.tracker_store.store[key] = ["événements"]
    h.gateway.requests.clear()

    await h.sms(word)
    await h.sms("STOP")
    assert h.gateway.texts() == [messages.text("utter_sms_stop_confirme")]
    assert [t for t, _ in h.rasa.received] == ["Bonjour"]  # STOP never reaches Rasa
    assert key not in h.agent.tracker_store.store
    with session_scope(store.factory) as session:
        assert [r.conversation_key for r in session.query(Referral)] == [ERASED_KEY]  # the statistics' residue

    from bot.channels.sms.providers import OptedOut
    with pytest.raises(OptedOut):
        await h.channel.sender.send("06 12 34 56 78", "Un rappel")
    assert len(h.gateway.requests) == 1

    await h.sms("Bonjour, j'ai une nouvelle demande")  # writing again lifts the opt-out
    assert len(h.gateway.requests) == 2
    assert await h.channel.sender.send(NUMBER, "Un rappel")


async def test_phone_numbers_are_never_stored(json_channel, store, database):
    h = json_channel
    h.rasa.replies = [CONSENT]
    await h.sms("Bonjour")
    await h.sms("STOP")
    path = database.path
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob(path.name + "-*"))
    assert b"612345678" not in raw


# --- delivery reports ----------------------------------------------------------------------------

async def test_delivery_report_is_recorded_idempotently(json_channel, store):
    h = json_channel
    await h.sms("Bonjour")
    sent = h.gateway.requests[0].json()
    report = {"client_ref": sent["client_ref"], "status": "delivered"}
    for _ in range(2):
        assert (await h.post_json(report, path="status")).status_code == 200
    assert store.delivery_status(sent["client_ref"]) == "delivered"
    assert store.delivery_status("gw-1") == "delivered"
    assert (await h.post_json(report, path="status", secret="faux")).status_code == 403
    assert (await h.post_json({"status": "x"}, path="status")).status_code == 400


async def test_a_captured_report_replayed_with_a_fresh_timestamp_is_refused(json_channel, store):
    """The review's replay: a delivery report captured (and held back) an hour ago, sent again with
    a fresh timestamp and its old signature. The signature covers the timestamp: 403, status kept."""
    h = json_channel
    await h.sms("Bonjour")
    reference = h.gateway.requests[0].json()["client_ref"]
    assert store.delivery_status(reference) == "sent"
    body = json.dumps({"client_ref": reference, "status": "delivered"}).encode()
    captured = signed_headers(SECRET, body, now=time.time() - 3600)
    replayed = dict(captured, **{TIMESTAMP_HEADER: str(int(time.time()))})
    status_url = f"{h.base}/webhooks/sms/status"
    for headers in (replayed, captured):  # fresh timestamp, old signature; or as captured: stale
        headers = dict(headers, **{"Content-Type": "application/json"})
        assert (await h.client.post(status_url, content=body, headers=headers)).status_code == 403
    assert store.delivery_status(reference) == "sent"
    # The gateway's own report, signed now, is accepted; the same request sent again within the
    # window changes nothing (a status only moves forward and a report is idempotent).
    failed = json.dumps({"client_ref": reference, "status": "failed"}).encode()
    genuine = dict(signed_headers(SECRET, failed), **{"Content-Type": "application/json"})
    for _ in range(2):
        assert (await h.client.post(status_url, content=failed, headers=genuine)).status_code == 200
    assert store.delivery_status(reference) == "failed"


async def test_an_inbound_message_replayed_with_a_fresh_timestamp_is_refused(json_channel):
    h = json_channel
    body = json.dumps({"id": "m-capture", "from": NUMBER, "to": "+33700000000", "text": "Bonjour"}).encode()
    captured = signed_headers(SECRET, body, now=time.time() - 3600)
    replayed = dict(captured, **{TIMESTAMP_HEADER: str(int(time.time())), "Content-Type": "application/json"})
    assert (await h.client.post(h.url, content=body, headers=replayed)).status_code == 403
    await h.channel.drain()
    assert h.rasa.received == [] and h.gateway.requests == []


# The worked example of docs/channels.md ("Generic JSON"): a gateway author checks their code against it.
EXAMPLE_SECRET = "exemple-secret-partage"
EXAMPLE_TIMESTAMP = "1767225600"
EXAMPLE_BODY = b'{"client_ref":"4f2c9a","status":"delivered"}'
EXAMPLE_SIGNATURE = "sha256=0710d85c2a1b49012319b9a80f4549005ada2755b9c86baec476c0d582fb2b6d"


def test_the_documented_signature_example_is_what_we_compute():
    assert json_signature(EXAMPLE_SECRET, EXAMPLE_TIMESTAMP, EXAMPLE_BODY) == EXAMPLE_SIGNATURE
    doc = (Path(__file__).resolve().parents[2] / "docs" / "channels.md").read_text(encoding="utf-8")
    for value in (EXAMPLE_SECRET, EXAMPLE_TIMESTAMP, EXAMPLE_BODY.decode(), EXAMPLE_SIGNATURE):
        assert value in doc
    # Another timestamp, same body: another signature (what makes the replay above fail).
    assert json_signature(EXAMPLE_SECRET, "1767225900", EXAMPLE_BODY) != EXAMPLE_SIGNATURE


async def test_twilio_status_callback(twilio_channel, store):
    h = twilio_channel
    params = {"MessageSid": "SM9", "MessageStatus": "undelivered"}
    body = urlencode(params).encode()
    signature = twilio_signature(TOKEN, "https://aiguillage.example/webhooks/sms/status", sorted(params.items()))
    reply = await h.client.post(f"{h.base}/webhooks/sms/status", content=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "X-Twilio-Signature": signature})
    assert reply.status_code == 200 and store.delivery_status("SM9") == "undelivered"


async def test_a_quick_second_reply_waits_for_the_first_turn_and_its_choices(json_channel):
    h = json_channel
    h.rasa.replies = [CONSENT]
    h.rasa.delay = 0.5
    first = json.dumps({"id": "m1", "from": NUMBER, "to": "+33700000000", "text": "je veux de l'aide",
                        "received_at": "2025-01-01T10:00:00Z"}).encode()
    second = json.dumps({"id": "m2", "from": NUMBER, "to": "+33700000000", "text": "1",
                         "received_at": "2025-01-01T10:00:01Z"}).encode()
    headers = {"Content-Type": "application/json"}
    await h.client.post(h.url, content=first, headers=dict(headers, **signed_headers(SECRET, first)))
    await h.client.post(h.url, content=second, headers=dict(headers, **signed_headers(SECRET, second)))
    await h.channel.drain()
    # The "1" was read against the choices the first turn sent, not before they existed.
    assert [text for text, _ in h.rasa.received] == ["je veux de l'aide", '/choix{"valeur": "oui"}']


async def test_a_failure_after_the_acknowledgement_still_answers_with_the_helpline(json_channel, monkeypatch):
    h = json_channel

    async def broken_routing(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(h.channel, "route_before_turn", broken_routing)
    reply = await h.sms("Bonjour")
    assert reply.status_code == 200  # the gateway was told "received" before the failure
    texts = [r.json()["text"] for r in h.gateway.requests]
    settings = get_settings()
    assert len(texts) == 1  # the apology (in GSM-7: "ê" is sent as "e")
    assert texts[0].startswith("Le service a un problème.")
    assert settings.helpline_phone in texts[0] and settings.helpline_name in texts[0]
    assert h.rasa.received == []


@pytest.mark.parametrize("reports, final", [
    (["sent", "delivered", "failed"], "delivered"),            # a report replayed late changes nothing
    (["sent", "failed", "delivered"], "failed"),               # the captured "delivered" of the review
    (["queued", "sent", "queued", "sending"], "sent"),
    (["sent", "delivered", "delivered"], "delivered"),
    (["sent", "statut-inconnu"], "sent"),
    (["sent", "undelivered"], "undelivered"),
])
def test_a_delivery_status_only_moves_forward(store, reports, final):
    store.record_sent("ref-1", "gw-1")
    for status in reports:
        store.record_status("gw-1", status)
    assert store.delivery_status("ref-1") == final


# --- rate limits (connectors/admission.py; the desk and the buckets: tests/connectors/test_rate_limits.py) ---------
# Past a sender's limit: no Rasa turn, one polite message (not one per message), a danger still answered
# with its number, and the provider is never asked to redeliver the flood.

def sms_texts(gateway) -> list[str]:
    return [json.loads(r.body)["text"] for r in gateway.requests]


async def test_an_sms_flood_runs_its_burst_and_gets_one_polite_sms(json_channel, stopped_rate_clock):
    h = json_channel
    for _ in range(BURST + 6):
        assert (await h.sms("allo")).status_code == 200  # the gateway is never told to retry a flood
    assert len(h.rasa.received) == BURST
    assert sms_texts(h.gateway).count(polite()) == 1


async def test_stop_past_the_limit_is_still_honoured(json_channel, store, stopped_rate_clock):
    h = json_channel
    for _ in range(BURST + 2):
        await h.sms("allo")
    await h.sms("STOP")
    assert store.is_opted_out(number_key(NUMBER))


async def test_a_danger_by_sms_past_the_limit_gets_its_number(json_channel, stopped_rate_clock):
    h = json_channel
    for _ in range(BURST + 1):
        await h.sms("allo")
    await h.sms(DANGER)
    assert len(h.rasa.received) == BURST
    assert "3114" in sms_texts(h.gateway)[-1]
