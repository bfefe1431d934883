"""After-hours helpline webhook, served by the real Sanic blueprint on a loopback port."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import httpx
import pytest
from sanic import Sanic
from sqlalchemy import func, select

from bot.channels import helpline_webhook
from bot.core.pseudonyms import pseudonymise
from bot.handoff import helpline
from bot.ops.deploy.services import free_port
from connectors.helpline import HelplineInput
from tests.connectors.test_rate_limits import BURST, polite

PARIS = ZoneInfo("Europe/Paris")
SECRET = "secret-partage-de-test"
HOURS = "Mo-Fr 09:00-17:00; PH off"
CALLER = "+33612345678"
FRIDAY_EVENING = "2026-11-27T21:14:00+01:00"


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def segments(text: str) -> int:
    """SMS segments: GSM 03.38 (extended characters take two septets), else UCS-2."""
    try:
        units, single, multi = len(text.encode("gsm03.38")), 160, 153
    except UnicodeEncodeError:
        units, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


class FakeSender:
    """Plays bot.channels.sms.providers' sender: records every SMS, can fail or be slow."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.attempts = 0
        self.fail_next = 0
        self.delay = 0.0

    async def send(self, to: str, text: str) -> str:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("gateway down")
        self.sent.append((to, text))
        return f"msg-{len(self.sent)}"


@pytest.fixture()
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-helpline")


@pytest.fixture()
def db(database, secret_key):
    return {"engine": database.engine, "factory": database.factory, "dir": database.path.parent}


class Server:
    def __init__(self, base: str, sender: FakeSender, clock: dict, factory, rasa_messages: list):
        self.base, self.sender, self.clock = base, sender, clock
        self.factory, self.rasa_messages = factory, rasa_messages
        self.url = f"{base}/webhooks/helpline/webhook"

    async def post(self, payload, secret: str | None = SECRET, raw: bytes | None = None, headers=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        sent_headers = {"Content-Type": "application/json"}
        if secret is not None:
            sent_headers[helpline_webhook.SIGNATURE_HEADER] = helpline_webhook.sign(body, secret)
        sent_headers.update(headers or {})
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(self.url, content=body, headers=sent_headers)

    def count(self, model) -> int:
        with self.factory() as session:
            return session.execute(select(func.count()).select_from(model)).scalar()

    def callbacks(self, now: datetime):
        with self.factory() as session:
            return helpline.due_callbacks(session, now)


async def start_server(db, settings: helpline.HelplineSettings, now: datetime):
    sender = FakeSender()
    clock = {"now": now}
    rasa_messages: list = []

    async def on_new_message(message):  # the helpline route must never run a Rasa turn
        rasa_messages.append(message)

    channel = HelplineInput(settings=settings, session_factory=db["factory"], sender_factory=lambda: sender,
                            clock=lambda: clock["now"])
    app = Sanic(f"helpline_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    return server, Server(f"http://127.0.0.1:{port}", sender, clock, db["factory"], rasa_messages)


@pytest.fixture(autouse=True)
def sanic_restartable():
    # Sanic 21.12 rewrites some of its methods ("touchup") at each server start; outside test mode a
    # second start in one process fails on the already rewritten code. sanic-testing sets this flag
    # for the same reason; it is left set on purpose (other test files may start servers later).
    Sanic.test_mode = True


@pytest.fixture()
async def line(db):
    settings = helpline.HelplineSettings(secret=SECRET, hours=HOURS, name="Solidarité Numérique",
                                         phone="01 70 772 372")
    server, client = await start_server(db, settings, paris(2026, 11, 27, 21, 15))
    yield client
    server.close()
    await server.wait_closed()
    assert client.rasa_messages == []


def call(**fields) -> dict:
    payload = {"call_id": "appel-1", "caller": CALLER, "called_at": FRIDAY_EVENING, "reason": "after_hours"}
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


# --------------------------------------------------------------------------------------------------
# Out of hours: one SMS, one callback at the next opening
# --------------------------------------------------------------------------------------------------

async def test_friday_evening_call_texts_the_caller_and_books_monday_9am(line, db):
    reply = await line.post(call())
    assert reply.status_code == 200
    assert reply.json() == {"status": "rappel_programme", "rappel_le": "2026-11-30T09:00:00+01:00",
                            "sms_envoye": True}

    assert len(line.sender.sent) == 1
    to, text = line.sender.sent[0]
    assert to == CALLER
    assert "Aiguillage" in text and "Solidarité Numérique" in text
    assert "lundi dès 9h" in text
    assert "répondant à ce SMS" in text and "jamais de mot de passe" in text
    assert segments(text) <= 3

    assert line.callbacks(paris(2026, 11, 30, 8, 59)) == []  # not due before the opening
    due = line.callbacks(paris(2026, 11, 30, 9, 0))
    assert len(due) == 1
    assert due[0].caller == CALLER  # decrypted for the mediators
    assert due[0].due_at == paris(2026, 11, 30, 9, 0)
    assert due[0].called_at == paris(2026, 11, 27, 21, 14)
    assert due[0].status == "a_rappeler" and due[0].sms_sent is True
    assert due[0].caller_pseudonym == pseudonymise("sms:" + CALLER)

    # The number is stored encrypted: no form of it appears anywhere in the database files.
    db["engine"].dispose()
    stored = b"".join(path.read_bytes() for path in db["dir"].glob("aiguillage.db*"))
    assert stored  # the files exist and were read
    for form in (CALLER, "612345678", "0612345678", "06 12 34 56 78"):
        assert form.encode() not in stored


async def test_public_holiday_is_skipped(line):
    # Tuesday 10 November 2026 evening; Wednesday 11 November is a public holiday.
    line.clock["now"] = paris(2026, 11, 10, 18, 1)
    reply = await line.post(call(call_id="veille-11-novembre", called_at="2026-11-10T18:00:00+01:00"))
    assert reply.json()["rappel_le"] == "2026-11-12T09:00:00+01:00"
    assert "jeudi dès 9h" in line.sender.sent[0][1]


async def test_christmas_eve_call_waits_for_monday(line):
    line.clock["now"] = paris(2026, 12, 24, 20, 1)
    reply = await line.post(call(call_id="noel", called_at="2026-12-24T20:00:00+01:00"))
    assert reply.json()["rappel_le"] == "2026-12-28T09:00:00+01:00"


async def test_landline_caller_still_gets_a_callback_but_no_sms(line):
    reply = await line.post(call(caller="01 40 20 50 50"))
    assert reply.status_code == 200
    assert reply.json() == {"status": "rappel_programme", "rappel_le": "2026-11-30T09:00:00+01:00",
                            "sms_envoye": False}
    assert line.sender.attempts == 0
    assert [c.caller for c in line.callbacks(paris(2026, 12, 1, 9, 0))] == ["+33140205050"]


# --------------------------------------------------------------------------------------------------
# During opening hours
# --------------------------------------------------------------------------------------------------

async def test_during_opening_hours_the_line_is_open(line):
    line.clock["now"] = paris(2026, 11, 26, 10, 1)
    reply = await line.post(call(call_id="jeudi-matin", called_at="2026-11-26T10:00:00+01:00", reason="missed"))
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ouvert" and body["telephone"] == "01 70 772 372"
    assert "01 70 772 372" in body["message"] and "ouverte" in body["message"]
    assert line.sender.attempts == 0
    assert line.count(helpline.Callback) == 0
    assert line.count(helpline.HelplineCall) == 1  # only the idempotency key

    again = await line.post(call(call_id="jeudi-matin", called_at="2026-11-26T10:00:00+01:00", reason="missed"))
    assert again.json() == body and line.count(helpline.HelplineCall) == 1


# --------------------------------------------------------------------------------------------------
# Idempotency
# --------------------------------------------------------------------------------------------------

async def test_repeated_call_creates_one_callback_and_one_sms(line):
    first = await line.post(call())
    second = await line.post(call())
    assert second.status_code == 200 and second.json() == first.json()
    assert len(line.sender.sent) == 1
    assert line.count(helpline.Callback) == 1


async def test_without_call_id_same_caller_and_time_is_one_call(line):
    # Same call, first in E.164/ISO, then in national format/epoch seconds.
    epoch = int(datetime(2026, 11, 27, 20, 14, tzinfo=timezone.utc).timestamp())
    first = await line.post(call(call_id=None))
    second = await line.post(call(call_id=None, caller="06 12 34 56 78", called_at=epoch))
    assert second.json() == first.json()
    assert len(line.sender.sent) == 1 and line.count(helpline.Callback) == 1
    # A different time from the same person is another call.
    third = await line.post(call(call_id=None, called_at="2026-11-27T20:40:00+01:00"))
    assert third.status_code == 200
    assert len(line.sender.sent) == 2 and line.count(helpline.Callback) == 2


async def test_simultaneous_duplicates_give_one_callback_and_one_sms(line):
    line.sender.delay = 0.3  # the second delivery arrives while the first is still sending
    replies = await asyncio.gather(*(line.post(call(call_id="double")) for _ in range(3)))
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert all(r.json() == replies[0].json() for r in replies)
    assert replies[0].json()["sms_envoye"] is True
    assert len(line.sender.sent) == 1 and line.sender.attempts == 1
    assert line.count(helpline.Callback) == 1 and line.count(helpline.HelplineCall) == 1


# --------------------------------------------------------------------------------------------------
# SMS failure never loses the call
# --------------------------------------------------------------------------------------------------

async def test_sms_failure_keeps_the_callback_and_a_repeat_retries_once(line):
    line.sender.fail_next = 2
    first = await line.post(call())
    assert first.status_code == 200
    assert first.json() == {"status": "rappel_programme", "rappel_le": "2026-11-30T09:00:00+01:00",
                            "sms_envoye": False}
    assert line.count(helpline.Callback) == 1
    assert [c.sms_sent for c in line.callbacks(paris(2026, 11, 30, 9))] == [False]

    second = await line.post(call())  # the one retry, fails again
    assert second.json()["sms_envoye"] is False and line.sender.attempts == 2
    third = await line.post(call())  # no more tries
    assert third.json()["sms_envoye"] is False and line.sender.attempts == 2
    assert line.count(helpline.Callback) == 1


async def test_sms_retry_on_repeat_can_succeed(line):
    line.sender.fail_next = 1
    assert (await line.post(call())).json()["sms_envoye"] is False
    assert (await line.post(call())).json()["sms_envoye"] is True
    assert (await line.post(call())).json()["sms_envoye"] is True
    assert len(line.sender.sent) == 1 and line.sender.attempts == 2


async def test_sms_channel_unavailable_keeps_the_callback(db):
    def broken_factory():
        raise RuntimeError("SMS not configured")

    settings = helpline.HelplineSettings(secret=SECRET, hours=HOURS, name="Ligne", phone="01 70 772 372")
    service = helpline.Helpline(db["factory"], settings, broken_factory, clock=lambda: paris(2026, 11, 27, 21, 15))
    parsed = helpline_webhook.parse_payload(json.dumps(call()).encode(), now=paris(2026, 11, 27, 21, 15))
    result = await service.handle(parsed)
    assert result.outcome == "rappel_programme" and result.sms_sent is False
    with db["factory"]() as session:
        assert len(helpline.due_callbacks(session, paris(2026, 11, 30, 9))) == 1


# --------------------------------------------------------------------------------------------------
# Authentication and configuration
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["absente", "mauvais_secret", "corps_modifie", "format"])
async def test_bad_signature_is_refused_and_nothing_happens(line, case):
    body = json.dumps(call()).encode()
    if case == "absente":
        reply = await line.post(None, secret=None, raw=body)
    elif case == "mauvais_secret":
        reply = await line.post(None, secret="autre-secret", raw=body)
    elif case == "corps_modifie":
        signature = helpline_webhook.sign(body, SECRET)
        tampered = body.replace(b"+33612345678", b"+33698765432")
        reply = await line.post(None, secret=None, raw=tampered, headers={helpline_webhook.SIGNATURE_HEADER: signature})
    else:
        digest = helpline_webhook.sign(body, SECRET).split("=", 1)[1]
        reply = await line.post(None, secret=None, raw=body, headers={helpline_webhook.SIGNATURE_HEADER: digest})
    assert reply.status_code == 403
    assert "Signature" in reply.json()["erreur"]
    assert line.sender.attempts == 0
    assert line.count(helpline.Callback) == 0 and line.count(helpline.HelplineCall) == 0


def test_signature_accepts_upper_case_hex():
    body = b'{"caller": "0612345678"}'
    header = helpline_webhook.sign(body, SECRET)
    assert helpline_webhook.verify_signature(body, "sha256=" + header[7:].upper(), SECRET)
    assert not helpline_webhook.verify_signature(body, header, "")
    assert not helpline_webhook.verify_signature(body, "sha256=é", SECRET)


async def test_unconfigured_webhook_answers_503(db):
    settings = helpline.HelplineSettings(secret=None, hours=HOURS, name="Ligne", phone="01 70 772 372")
    server, client = await start_server(db, settings, paris(2026, 11, 27, 21, 15))
    try:
        reply = await client.post(call())
        assert reply.status_code == 503
        assert "AIGUILLAGE_HELPLINE_SECRET" in reply.json()["erreur"]
        assert client.count(helpline.HelplineCall) == 0 and client.sender.attempts == 0
    finally:
        server.close()
        await server.wait_closed()


def test_settings_from_environment(monkeypatch):
    monkeypatch.delenv("AIGUILLAGE_HELPLINE_SECRET", raising=False)
    monkeypatch.delenv("AIGUILLAGE_HELPLINE_HOURS", raising=False)
    monkeypatch.setenv("AIGUILLAGE_HELPLINE_PHONE", "03 00 00 00 00")
    settings = helpline.load_settings()
    assert not settings.configured and settings.hours == helpline.DEFAULT_HOURS
    assert settings.phone == "03 00 00 00 00"
    monkeypatch.setenv("AIGUILLAGE_HELPLINE_SECRET", "s")
    monkeypatch.setenv("AIGUILLAGE_HELPLINE_HOURS", "Mo-Sa 08:00-20:00")
    assert helpline.load_settings().configured and helpline.load_settings().hours == "Mo-Sa 08:00-20:00"
    assert HelplineInput.from_credentials(None).settings.configured


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, fragment", [
    (b"{pas du json", "objet JSON"),
    (b'["+33612345678"]', "objet JSON"),
    (json.dumps(call(caller=None)).encode(), "« caller »"),
    (json.dumps(call(caller="")).encode(), "« caller »"),
    (json.dumps(call(caller="12345")).encode(), "numéro de téléphone valide"),
    (json.dumps(call(caller="bonjour")).encode(), "numéro de téléphone valide"),
    (json.dumps(call(called_at=None)).encode(), "« called_at »"),
    (json.dumps(call(called_at="hier soir")).encode(), "ISO 8601"),
    (json.dumps(call(called_at="2027-01-01T10:00:00+01:00")).encode(), "futur"),
    (json.dumps(call(reason="occupe")).encode(), "« reason »"),
    (json.dumps(call(call_id={"a": 1})).encode(), "« call_id »"),
])
async def test_bad_input_is_refused_in_french_and_nothing_stored(line, raw, fragment):
    reply = await line.post(None, raw=raw)
    assert reply.status_code == 400
    assert fragment in reply.json()["erreur"]
    assert line.sender.attempts == 0
    assert line.count(helpline.HelplineCall) == 0 and line.count(helpline.Callback) == 0


def test_payload_variants_are_normalised():
    now = paris(2026, 11, 27, 21, 15)
    epoch = int(paris(2026, 11, 27, 21, 14).timestamp())
    for caller in ("+33612345678", "0612345678", "06 12 34 56 78", "06.12.34.56.78", "0033612345678", "33612345678"):
        for called_at in (FRIDAY_EVENING, "2026-11-27T20:14:00Z", "2026-11-27T21:14:00", epoch, str(epoch),
                          epoch * 1000):
            body = json.dumps({"caller": caller, "called_at": called_at}).encode()
            parsed = helpline_webhook.parse_payload(body, now)
            assert parsed.caller == CALLER and parsed.mobile
            assert parsed.called_at == paris(2026, 11, 27, 21, 14)
            assert parsed.reason == "missed"


# --------------------------------------------------------------------------------------------------
# Texts and encryption
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Solidarité Numérique de l'Ille-et-Vilaine", "Ligne numérique de Besançon"])
@pytest.mark.parametrize("due, from_hours", [
    (paris(2026, 11, 27, 21, 30), True),   # today
    (paris(2026, 11, 28, 9, 0), True),     # tomorrow
    (paris(2026, 11, 30, 9, 0), True),     # weekday
    (paris(2027, 8, 16, 9, 30), True),     # far date (in August: no "août", whose û is not GSM)
    (paris(2026, 11, 27, 21, 15), False),  # hours unknown
])
def test_sms_fits_three_segments(due, from_hours, name):
    # Even a helpline name outside the GSM alphabet (ç: UCS-2, 67 characters a segment) stays within 3.
    settings = helpline.HelplineSettings(secret=SECRET, hours=HOURS, name=name, phone="01 70 772 372")
    text = helpline.sms_text(settings, due, paris(2026, 11, 27, 21, 15), from_hours)
    assert "Aiguillage" in text and "mot de passe" in text and "{" not in text
    assert segments(text) <= 3, (segments(text), text)


async def test_invalid_hours_still_record_a_callback_due_now(db):
    settings = helpline.HelplineSettings(secret=SECRET, hours="n'importe quoi", name="Ligne", phone="01 70 772 372")
    sender = FakeSender()
    now = paris(2026, 11, 27, 21, 15)
    service = helpline.Helpline(db["factory"], settings, lambda: sender, clock=lambda: now)
    result = await service.handle(helpline_webhook.parse_payload(json.dumps(call()).encode(), now))
    assert result.outcome == "rappel_programme" and result.due_at == now and result.sms_sent
    assert "au plus vite" in sender.sent[0][1]


def test_encryption_round_trip_needs_the_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-1")
    token = helpline.encrypt_number(CALLER)
    assert CALLER.encode() not in token and helpline.decrypt_number(token) == CALLER
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-2")
    with pytest.raises(Exception):
        helpline.decrypt_number(token)


# --- rate limits (connectors/admission.py; the other channels: tests/connectors/test_rate_limits.py and the
# channels' test files) -----------------------------------------------------------------------------------

async def test_the_same_caller_again_and_again_gets_429_without_an_sms_each_time(line, stopped_rate_clock):
    replies = [await line.post(call(call_id=f"appel-{i}")) for i in range(BURST + 3)]
    assert [r.status_code for r in replies] == [200] * BURST + [429] * 3
    assert replies[-1].headers["retry-after"] and replies[-1].json()["erreur"] == polite()
    assert len(line.sender.sent) <= BURST
