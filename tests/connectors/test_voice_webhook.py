"""The voice menu as a Twilio caller drives it: a Sanic app on loopback, every request signed with the twilio
package's RequestValidator (through twilio_signature), every answer parsed as TwiML XML, the demo directory in
a fresh database, and a fake SMS gateway for the recap."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sanic import Sanic
from sqlalchemy import func, select

from bot.channels.sms.providers import SmsSender, SmsSettings, twilio_signature
from bot.channels.sms.store import SmsStore
from bot.core.db import session_scope
from bot.handoff.helpline import Callback, decrypt_number
from bot.handoff.recap import recap_of_referral
from bot.handoff.referrals import Referral
from bot.handoff.services import Orientation
from bot.handoff.voice.calls import VoiceAnswer, VoiceCall, VoiceSettings
from bot.ops.cli.database import DEMO_FILE
from bot.ops.deploy.services import free_port
from connectors.voice import VoiceInput
from tests.fakes.sms_gateway import FakeGateway

TOKEN = "voice-token"
MOBILE = "+33612345678"
LANDLINE = "+33299000000"
PARIS = ZoneInfo("Europe/Paris")
SUNDAY_EVENING = datetime(2026, 12, 6, 21, 0, tzinfo=PARIS)  # the helpline is closed: the menu answers
MONDAY_MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "voice-test-key")


@pytest.fixture()
def demo(database):
    from bot.directory.importing.importer import import_places

    report = import_places(database.factory, DEMO_FILE, demo=True)
    assert not report.errors
    return database


class Answer:
    """One TwiML answer: what is said, and where the next answer goes."""

    def __init__(self, status: int, body: str, twiml: bool = True):
        self.status, self.body = status, body
        self.root = ET.fromstring(body) if status == 200 and twiml else None  # every step's answer must be XML

    @property
    def said(self) -> str:
        return " ".join(e.text or "" for e in self.root.iter("Say"))

    @property
    def gather(self):
        return self.root.find("Gather")

    @property
    def next_step(self) -> int:
        return int(parse_qs(urlsplit(self.gather.get("action")).query)["n"][0])

    @property
    def hung_up(self) -> bool:
        return self.root.find("Hangup") is not None


class Caller:
    """A phone calling the menu, as the gateway would post its steps."""

    def __init__(self, harness, number=MOBILE):
        self.h, self.number, self.sid = harness, number, "CA" + uuid.uuid4().hex
        self.step = 0
        self.last: Answer | None = None

    async def post(self, fields: dict, step=None, signed=True, path="webhook") -> Answer:
        step = self.step if step is None else step
        base = self.h.settings.public_url if path == "webhook" else self.h.settings.status_url()
        url = base if step == 0 or path != "webhook" else f"{base}?n={step}"
        params = {"CallSid": self.sid, "From": self.number, "To": "+33100000000", "AccountSid": "AC1", **fields}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = twilio_signature(TOKEN, url, sorted(params.items()))
        query = urlsplit(url).query
        reply = await self.h.client.post(f"{self.h.base}/webhooks/voice/{path}" + (f"?{query}" if query else ""),
                                         content=urlencode(params).encode(), headers=headers)
        return Answer(reply.status_code, reply.text, twiml=path == "webhook")

    async def call(self) -> Answer:
        return await self._answer({"CallStatus": "ringing"})

    async def press(self, digits: str) -> Answer:
        return await self._answer({"Digits": digits, "CallStatus": "in-progress"})

    async def say(self, words: str) -> Answer:
        return await self._answer({"SpeechResult": words, "Confidence": "0.9", "CallStatus": "in-progress"})

    async def silence(self) -> Answer:
        return await self._answer({"CallStatus": "in-progress"})

    async def _answer(self, fields) -> Answer:
        answer = await self.post(fields)
        assert answer.status == 200, answer.body
        self.last = answer
        if answer.gather is not None:
            self.step = answer.next_step
        return answer

    async def hang_up(self) -> Answer:
        return await self.post({"CallStatus": "completed", "CallDuration": "42"}, path="status")


class Harness:
    def __init__(self, channel, settings, base, gateway, factory):
        self.channel, self.settings, self.base, self.gateway, self.factory = channel, settings, base, gateway, factory
        self.client = httpx.AsyncClient(timeout=30)

    def count(self, model) -> int:
        with session_scope(self.factory) as session:
            return session.execute(select(func.count()).select_from(model)).scalar()


async def _start(demo, now, **settings_overrides):
    gateway = FakeGateway().__enter__()
    public = f"http://127.0.0.1:{free_port()}"
    sms = SmsSettings(provider="json", send_url=f"{gateway.url}/send", shared_secret="s", from_number="+33900000000",
                      retries=0)
    sender = SmsSender(sms, SmsStore(demo.factory))
    clock = lambda: now  # noqa: E731
    settings = VoiceSettings(public_url=f"{public}/webhooks/voice/webhook", auth_token=TOKEN,
                             transfer_number=settings_overrides.get("transfer_number", ""),
                             hours="Mo-Fr 09:00-17:00; PH off")
    services = Orientation(demo.factory, clock=clock)
    channel = VoiceInput(settings, factory=demo.factory, services=services, send_sms=sender.send, clock=clock)
    Sanic.test_mode = True
    app = Sanic(f"voice_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(None), url_prefix="/webhooks/voice")
    port = int(public.rsplit(":", 1)[1])
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.start_serving()
    harness = Harness(channel, settings, public, gateway, demo.factory)
    yield harness
    await harness.client.aclose()
    await server.close()
    gateway.__exit__(None, None, None)


@pytest.fixture()
async def office_hours(demo):
    async for harness in _start(demo, MONDAY_MORNING, transfer_number="+33299111111"):
        yield harness


@pytest.fixture()
async def menu(demo):
    async for harness in _start(demo, SUNDAY_EVENING):
        yield harness


def referrals(harness) -> list:
    with session_scope(harness.factory) as session:
        rows = session.execute(select(Referral)).scalars().all()
        return [(r.channel, r.level, r.place_id, recap_of_referral(r)) for r in rows]


# --- whole calls ------------------------------------------------------------------------------------------

async def test_an_urgence_call_ends_with_a_referral_an_sms_recap_and_a_callback(menu):
    caller = Caller(menu)
    first = await caller.call()
    assert "Si vous êtes en danger, raccrochez et appelez le cent douze" in first.said
    assert "tapez neuf" in first.said
    gather = first.gather
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "fr-FR"
    assert all(say.get("language") == "fr-FR" for say in first.root.iter("Say"))
    assert "Pour la CAF, tapez un" in first.said

    asked = await caller.press("1")  # CAF
    assert "date limite" in asked.said and "cette semaine, tapez un" in asked.said
    where = await caller.press("1")  # a date this week
    assert "code postal" in where.said and where.gather.get("numDigits") == "5"
    check = await caller.press("35000")
    assert "trente-cinq, zéro zéro zéro" in check.said and "Si c'est juste, tapez un" in check.said

    place = await caller.press("1")
    said = place.said
    assert "C'est urgent" in said
    assert "France Services Rennes Colombier" in said
    assert "douze rue de l'Alma" in said  # the street in words
    assert "Ça ouvre demain lundi à neuf heures" in said
    assert "zéro deux, soixante et un, quatre-vingt-onze, zéro zéro, zéro un" in said  # 02 61 91 00 01, by pairs
    assert "Pour réécouter, tapez un" in said
    assert referrals(menu) == []  # nothing is sent before the caller agrees

    again = await caller.press("1")  # listen again
    assert "France Services Rennes Colombier" in again.said and referrals(menu) == []

    sent = await caller.press("2")  # send the request to the place
    made = referrals(menu)
    assert len(made) == 1
    channel, level, place_id, recap = made[0]
    assert (channel, level, place_id) == ("voice", "urgence", "demo-rennes-centre-france-services")
    assert "appel téléphonique" in recap.referrer
    # The demo place has no notification channel and no console: the caller is not told it was sent.
    assert "pas encore prévenu" in sent.said and "envoyé" not in sent.said and "Votre numéro de demande" in sent.said
    assert "SMS" in sent.said

    texted = await caller.press("1")  # yes to the SMS
    assert "Le SMS est parti" in texted.said
    assert menu.gateway.recipients() == [MOBILE]
    sms = menu.gateway.texts()[0]
    assert "France Services Rennes Colombier" in sms and "12 rue de l'Alma" in sms and "02 61 91 00 01" in sms
    assert _reference(menu) in sms
    assert "rappelle quand il ouvre" in texted.said

    booked = await caller.press("1")  # yes to the callback
    assert "On vous rappellera demain lundi à neuf heures" in booked.said
    assert booked.hung_up
    with session_scope(menu.factory) as session:
        callback = session.execute(select(Callback)).scalar_one()
        assert callback.place_id == "demo-rennes-centre-france-services" and callback.reason == "vocal"
        assert decrypt_number(callback.caller_encrypted) == MOBILE  # sealed, only for the callback
        call = session.get(VoiceCall, caller.sid)
        assert MOBILE not in str(call.data) and MOBILE not in call.caller_key


def _reference(harness) -> str:
    with session_scope(harness.factory) as session:
        return session.execute(select(Referral.reference)).scalar_one()


async def test_a_learning_call_goes_to_a_workshop(menu):
    caller = Caller(menu, number=LANDLINE)
    await caller.call()
    where = await caller.press("7")  # learning to use a device
    assert "code postal" in where.said
    await caller.press("35000")
    place = await caller.press("1")
    assert "Un atelier" in place.said and "Pour réécouter, tapez un" in place.said
    done = await caller.press("3")  # nothing sent
    assert "je n'envoie rien" in done.said
    assert "SMS" not in done.said  # a landline gets no SMS offer
    assert referrals(menu) == []
    assert menu.gateway.requests == []


async def test_a_caller_who_says_they_are_in_danger_hears_the_number(menu):
    caller = Caller(menu)
    await caller.call()
    heard = await caller.say("mon mari me frappe")
    assert "Appelez tout de suite le trente-neuf, dix-neuf" in heard.said
    assert heard.gather is not None  # the question stays open: the triage may go on
    assert referrals(menu) == []


async def test_a_possible_danger_said_asks_the_safety_question_and_1_gives_the_number(menu):
    caller = Caller(menu)
    await caller.call()
    asked = await caller.say("aidez moi on me menace")
    assert "Y a-t-il un danger maintenant" in asked.said and "dix-sept" in asked.said
    answer = await caller.press("1")
    assert "Appelez tout de suite le dix-sept" in answer.said


async def test_9_reads_the_emergency_numbers_at_any_step(menu):
    caller = Caller(menu)
    await caller.call()
    await caller.press("1")
    numbers = await caller.press("9")
    said = numbers.said
    for words in ("Cent douze", "Quinze", "Dix-sept", "Cent quinze", "Trente-neuf, dix-neuf",
                  "Trente et un, quatorze", "Cent dix-neuf"):
        assert words in said
    assert numbers.root.findall("Pause")  # slowly: a pause between the numbers
    assert "date limite" in said  # then the same question again
    where = await caller.press("1")
    assert "code postal" in where.said


async def test_no_input_twice_repeats_in_other_words_then_offers_a_callback(menu):
    caller = Caller(menu, number=MOBILE)
    first = await caller.call()
    once = await caller.silence()
    assert "Je n'ai pas compris" in once.said and "qui vous a écrit" in once.said
    assert once.said != first.said
    twice = await caller.press("8")  # a wrong key counts the same
    assert "une seule touche" in twice.said and "qui vous a écrit" in twice.said
    offered = await caller.silence()
    assert "On peut vous rappeler" in offered.said
    booked = await caller.press("1")
    assert "On vous rappellera demain lundi à neuf heures" in booked.said and booked.hung_up
    with session_scope(menu.factory) as session:
        callback = session.execute(select(Callback)).scalar_one()
        assert callback.reason == "vocal" and decrypt_number(callback.caller_encrypted) == MOBILE


async def test_a_wrong_postcode_then_a_corrected_one(menu):
    caller = Caller(menu)
    await caller.call()
    await caller.press("3")  # impôts
    await caller.press("2")  # a letter or a blocked payment
    check = await caller.press("35200")
    assert "trente-cinq, zéro zéro zéro" not in check.said and "trente-cinq, deux zéro zéro" in check.said
    again = await caller.press("2")  # not right
    assert "Tapez à nouveau votre code postal" in again.said and again.gather.get("numDigits") == "5"
    unknown = await caller.press("00000")
    assert "Je ne connais pas ce code postal" in unknown.said
    check = await caller.press("35000")
    assert "trente-cinq, zéro zéro zéro" in check.said
    place = await caller.press("1")
    assert "Rennes" in place.said and "Pour réécouter, tapez un" in place.said


async def test_a_hang_up_mid_flow_closes_the_call_and_sends_nothing(menu):
    caller = Caller(menu)
    await caller.call()
    await caller.press("1")
    await caller.press("1")
    await caller.press("35000")
    await caller.press("1")  # the place is read, consent not given yet
    closed = await caller.hang_up()
    assert closed.status == 200
    with session_scope(menu.factory) as session:
        call = session.get(VoiceCall, caller.sid)
        assert call.ended_at is not None and call.triage is None
    late = await caller.press("2")  # a late webhook of that call
    assert late.hung_up and not late.said
    assert referrals(menu) == [] and menu.gateway.requests == []
    assert menu.count(Callback) == 0


async def test_a_repeated_webhook_gets_the_same_answer_and_creates_nothing_twice(menu):
    caller = Caller(menu)
    await caller.call()
    for key in ("1", "1", "35000", "1"):
        await caller.press(key)
    step = caller.step
    first = await caller.press("2")  # consent: the referral is made
    repeat = await caller.post({"Digits": "2", "CallStatus": "in-progress"}, step=step)
    assert repeat.body == first.body
    assert len(referrals(menu)) == 1
    sms_step = caller.step
    await caller.press("1")
    await caller.post({"Digits": "1", "CallStatus": "in-progress"}, step=sms_step)
    assert len(menu.gateway.requests) == 1  # one SMS, however often the gateway retries
    assert menu.count(VoiceAnswer) == caller.step


async def test_an_unsigned_or_wrongly_signed_request_gets_403_and_runs_nothing(menu):
    caller = Caller(menu)
    unsigned = await caller.post({"CallStatus": "ringing"}, signed=False)
    assert unsigned.status == 403
    forged = Caller(menu)
    forged.h = menu
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": twilio_signature("not-the-token", menu.settings.public_url, [("CallSid", "x")])}
    reply = await menu.client.post(f"{menu.base}/webhooks/voice/webhook", content=b"CallSid=x", headers=headers)
    assert reply.status_code == 403
    status = await caller.post({"CallStatus": "completed"}, path="status", signed=False)
    assert status.status == 403
    assert menu.count(VoiceCall) == 0 and menu.count(VoiceAnswer) == 0


async def test_an_unconfigured_voice_channel_answers_503(demo):
    channel = VoiceInput(VoiceSettings(public_url="", auth_token=""), factory=demo.factory)
    Sanic.test_mode = True
    app = Sanic(f"voice_off_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(None), url_prefix="/webhooks/voice")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.start_serving()
    try:
        async with httpx.AsyncClient() as client:
            reply = await client.post(f"http://127.0.0.1:{port}/webhooks/voice/webhook", content=b"CallSid=x")
        assert reply.status_code == 503 and "AIGUILLAGE_VOICE_PUBLIC_URL" in reply.text
    finally:
        await server.close()


async def test_in_office_hours_the_call_goes_to_a_person_and_back_to_the_menu_when_nobody_answers(office_hours):
    caller = Caller(office_hours)
    first = await caller.call()
    dial = first.root.find("Dial")
    assert dial is not None and dial.text == "+33299111111"
    assert "Restez en ligne" in first.said
    caller.step = int(parse_qs(urlsplit(dial.get("action")).query)["n"][0])
    menu_now = await caller._answer({"DialCallStatus": "no-answer", "CallStatus": "in-progress"})
    assert "Si vous êtes en danger" in menu_now.said and menu_now.gather is not None


async def test_two_deliveries_of_one_step_at_once_make_one_referral_and_the_same_answer(menu):
    caller = Caller(menu)
    await caller.call()
    for key in ("1", "1", "35000", "1"):
        await caller.press(key)
    step = caller.step
    fields = {"Digits": "2", "CallStatus": "in-progress"}
    first, second = await asyncio.gather(caller.post(fields, step=step), caller.post(fields, step=step))
    assert first.status == second.status == 200 and first.body == second.body
    assert "pas encore prévenu" in first.said
    assert len(referrals(menu)) == 1


async def test_a_danger_said_once_the_place_is_read_gives_the_number_and_keeps_the_question(menu):
    caller = Caller(menu)
    await caller.call()
    for key in ("1", "1", "35000", "1"):
        await caller.press(key)
    heard = await caller.say("je veux mourir")
    assert "Appelez tout de suite le trente et un, quatorze" in heard.said
    assert "Pour envoyer votre demande à ce lieu, tapez deux" in heard.said and referrals(menu) == []
    await caller.press("2")
    (_channel, _level, _place, recap), = referrals(menu)
    assert any("urgence vitale" in flag.lower() or "numéro d'urgence" in flag.lower() for flag in recap.flags), \
        recap.flags


async def test_a_call_answered_by_speech_goes_through_the_same_understanding(menu):
    caller = Caller(menu, number=LANDLINE)
    await caller.call()
    where = await caller.say("la caf m'a coupé mes allocations")  # the body and the stake at once
    assert "code postal" in where.said
    place = await caller.say("Rennes")  # a town said instead of typed
    assert "C'est urgent" in place.said and "Rennes" in place.said
    unclear = await caller.say("euh")
    assert "Je n'ai pas compris" in unclear.said and referrals(menu) == []
    sent = await caller.say("oui")
    assert "pas encore prévenu" in sent.said
    (channel, level, _place, recap), = referrals(menu)
    assert (channel, level) == ("voice", "urgence")
    with session_scope(menu.factory) as session:
        referral = session.execute(select(Referral)).scalar_one()
        assert referral.facts["organisme"] == "caf"
        call = session.get(VoiceCall, caller.sid)
        assert "allocations" not in str(call.triage)  # codes, never what was said
