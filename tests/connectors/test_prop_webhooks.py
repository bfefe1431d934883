"""Property-based tests of the webhooks: SMS (Twilio and signed JSON), Telegram and the helpline.

Arbitrary bytes and JSON never escape as anything but the module's documented errors; a request without the
right signature is always refused; the real Sanic blueprints answer 200/400/403/413/503, never 500, and every
refusal carries a French "erreur"."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channels import helpline_webhook
from bot.channels.sms import providers
from bot.channels.sms.providers import (
    JSON,
    TWILIO,
    NotConfigured,
    PayloadError,
    SignatureError,
    SmsSettings,
    make_provider,
)
from bot.channels.telegram.settings import SECRET_HEADER, TelegramSettings
from bot.channels.telegram.updates import parse_update
from bot.handoff import helpline
from connectors.helpline import ERRORS as HELPLINE_ERRORS
from tests.conftest import UNLIMITED_RATES
from tests.fakes.channel_server import ChannelServer
from tests.strategies import (
    examples,
    hostile_bytes,
    hostile_text,
    json_bytes,
    json_values,
    keyed_database,
    text_with_secrets,
)

SECRET = "secret-partage-prop"
TWILIO_TOKEN = "twilio-token-prop"
TG_TOKEN = "123:PROP"
TG_SECRET = "prop_Secret-42"
PUBLIC_URL = "https://aiguillage.example/webhooks/sms/webhook"
FRIDAY_EVENING = datetime(2026, 11, 27, 21, 15, tzinfo=ZoneInfo("Europe/Paris"))

# --- strategies -------------------------------------------------------------------------------------

phone_like = st.one_of(st.sampled_from(["+33612345678", "06 12 34 56 78", "0612345678", "0033612345678",
                                        "33612345678", "+33 1 40 20 50 50", "+1 202 555 0143", "112", "", " ",
                                        "+33٦١٢٣٤٥٦٧٨", "06.12.34.56.78", "+999999999999999"]),
                       hostile_text(40, allow_long=False), st.integers(), st.none(), st.booleans())
odd_values = st.one_of(hostile_text(60, allow_long=False), st.integers(), st.integers(10 ** 300, 10 ** 400),
                       st.floats(allow_nan=False, allow_infinity=False), st.none(), st.booleans(),
                       st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(),
                                                                            max_size=2))
times = st.one_of(
    st.sampled_from(["2026-11-27T21:14:00+01:00", "2026-11-27T21:14:00Z", "2026-11-27 21:14", "2026-11-27",
                     "1764274440", "1764274440000", "-1", "0", "1e10", "²", "١٧٦٤٢٧٤٤٤٠", "9999-12-31T23:59:59-14:00",
                     "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00", "2026-02-30T10:00", "demain", "NaN",
                     "inf", ""]),
    st.integers(-10 ** 20, 10 ** 20), st.integers(10 ** 300, 10 ** 400), st.floats(), odd_values)


def _compact_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


helpline_payloads = st.fixed_dictionaries(
    {}, optional={"caller": phone_like, "from": phone_like, "called_at": times, "timestamp": times,
                  "call_id": odd_values, "reason": st.one_of(st.sampled_from(["missed", "after_hours", " MISSED "]),
                                                             odd_values)}).map(_compact_json)

sms_inbound = st.fixed_dictionaries(
    {}, optional={"id": odd_values, "from": phone_like, "to": phone_like,
                  "text": st.one_of(hostile_text(), odd_values), "client_ref": odd_values,
                  "status": odd_values}).map(_compact_json)

twilio_forms = st.dictionaries(
    st.sampled_from(["MessageSid", "SmsSid", "From", "To", "Body", "MessageStatus", "AccountSid", "x"]),
    st.one_of(hostile_text(300, allow_long=False), st.sampled_from(["+33612345678", "SM1", "delivered"])),
    max_size=6).map(lambda d: urlencode(d).encode("utf-8"))

tg_chat = st.one_of(st.fixed_dictionaries({"id": st.one_of(st.integers(-10 ** 12, 10 ** 12), odd_values)}), odd_values)
tg_message = st.one_of(st.fixed_dictionaries({}, optional={
    "chat": tg_chat, "text": st.one_of(hostile_text(), odd_values),
    "location": st.one_of(st.fixed_dictionaries({"latitude": odd_values, "longitude": odd_values}), odd_values),
    "venue": odd_values, "photo": odd_values, "voice": odd_values, "sticker": odd_values}), odd_values)
tg_updates = st.fixed_dictionaries(
    {"update_id": st.one_of(st.integers(1, 2 ** 40), odd_values)},
    optional={"message": tg_message, "edited_message": odd_values,
              "callback_query": st.one_of(st.fixed_dictionaries({}, optional={
                  "id": odd_values, "data": st.one_of(hostile_text(80, allow_long=False), odd_values),
                  "message": tg_message}), odd_values)})

any_body = st.one_of(hostile_bytes(3_000), json_bytes(), helpline_payloads, sms_inbound, twilio_forms,
                     tg_updates.map(_compact_json))

# Headers an attacker may send: any name, the real names with wrong values (printable, HTTP-safe).
# (HTTP forbids leading or trailing spaces in a header value: the client would refuse to send it.)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=80).map(str.strip)
hostile_headers = st.dictionaries(
    st.sampled_from([providers.SIGNATURE_HEADER, providers.TIMESTAMP_HEADER, providers.TWILIO_SIGNATURE_HEADER,
                     helpline_webhook.SIGNATURE_HEADER, SECRET_HEADER, "X-Forwarded-For", "Content-Type"]),
    st.one_of(header_values, st.just("sha256="), st.just("sha256=" + "0" * 64), st.just(str(int(time.time())))),
    max_size=4)


# --- pure functions ---------------------------------------------------------------------------------

def json_settings() -> SmsSettings:
    return SmsSettings(provider=JSON, send_url="http://127.0.0.1:9/send", shared_secret=SECRET,
                       from_number="+33700000000", public_url=PUBLIC_URL)


def twilio_settings() -> SmsSettings:
    return SmsSettings(provider=TWILIO, account_sid="AC1", auth_token=TWILIO_TOKEN, from_number="+33700000000",
                       public_url=PUBLIC_URL)


@settings(max_examples=examples(30))
@given(st.one_of(hostile_text(40, allow_long=False), st.sampled_from(["json", "twilio", "JSON", " twilio"])))
def test_make_provider_gives_a_provider_or_not_configured(name):
    try:
        provider = make_provider(SmsSettings(provider=name))
    except NotConfigured:
        assert name not in (JSON, TWILIO)
    else:
        assert provider.name == name


@settings(max_examples=examples(100))
@given(st.sampled_from([json_settings, twilio_settings]), hostile_headers, any_body)
def test_sms_verify_refuses_whatever_is_not_signed(make_settings, headers, body):
    provider = make_provider(make_settings())
    with pytest.raises((SignatureError, PayloadError)):
        provider.verify(headers, body, PUBLIC_URL)


@settings(max_examples=examples(60))
@given(st.one_of(st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e400", "0", "-1",
                                  "1e-400", "", " ", "١٧٦٤٢٧٤٤٤٠"]),
                 st.floats().map(repr), st.integers(-10 ** 12, 10 ** 12).map(str), header_values,
                 st.integers(-600, 600).map(lambda delta: str(int(time.time()) + delta))),
       any_body)
def test_sms_json_timestamp_outside_the_window_is_refused_even_with_a_valid_signature(stamp, body):
    """Correctly signed, the request still needs a timestamp in Unix seconds (ASCII digits) within the window."""
    provider = make_provider(json_settings())
    headers = {providers.SIGNATURE_HEADER: providers.json_signature(SECRET, stamp.strip(), body),
               providers.TIMESTAMP_HEADER: stamp}
    digits = stamp.strip()
    sent_at = float(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else math.nan
    now = time.time()
    fresh = math.isfinite(sent_at) and abs(now - sent_at) <= provider.settings.timestamp_tolerance - 5
    stale = not math.isfinite(sent_at) or abs(now - sent_at) > provider.settings.timestamp_tolerance + 5
    if fresh:
        provider.verify(headers, body, PUBLIC_URL)
    elif stale:
        with pytest.raises(SignatureError):
            provider.verify(headers, body, PUBLIC_URL)


@settings(max_examples=examples(60))
@given(st.integers(0, 10 ** 6), st.integers(-250, 250), any_body)
def test_sms_json_signature_made_for_one_timestamp_never_passes_with_another(age, skew, body):
    """A captured request replayed under a fresh timestamp keeps its old signature: refused."""
    provider = make_provider(json_settings())
    now = int(time.time())
    old_stamp, fresh_stamp = str(now - age), str(now + skew)
    headers = {providers.SIGNATURE_HEADER: providers.json_signature(SECRET, old_stamp, body),
               providers.TIMESTAMP_HEADER: fresh_stamp}
    if old_stamp == fresh_stamp:
        provider.verify(headers, body, PUBLIC_URL)
    else:
        with pytest.raises(SignatureError):
            provider.verify(headers, body, PUBLIC_URL)


@settings(max_examples=examples(80))
@given(st.sampled_from([json_settings, twilio_settings]), any_body)
def test_sms_parsing_gives_a_message_or_a_payload_error(make_settings, body):
    provider = make_provider(make_settings())
    for parse in (provider.parse_inbound, provider.parse_status):
        try:
            parsed = parse(body)
        except PayloadError:
            continue
        assert all(isinstance(getattr(parsed, f), str) for f in parsed.__dataclass_fields__)


@settings(max_examples=examples(120))
@given(st.one_of(json_values, tg_updates))
@example({"update_id": 1, "callback_query": {"message": "x"}})
@example({"update_id": 1, "message": {"chat": {"id": 1}, "location": {"latitude": 10 ** 400, "longitude": 1}}})
def test_telegram_parse_update_reads_or_ignores_any_json(update):
    inbound = parse_update(update)
    if inbound is None:
        return
    assert inbound.kind in ("text", "callback", "location", "unsupported", "ignored")
    assert isinstance(inbound.update_id, int)
    assert inbound.chat_id is None or isinstance(inbound.chat_id, int)
    assert inbound.text is None or isinstance(inbound.text, str)
    if inbound.kind == "location":
        position = json.loads(inbound.text[len("/position"):])
        assert all(math.isfinite(v) for v in position.values()), inbound.text


@settings(max_examples=examples(60))
@given(st.one_of(st.none(), header_values, st.text(max_size=40)))
def test_telegram_secret_only_matches_itself(header):
    settings_ = TelegramSettings(token=TG_TOKEN, secret=TG_SECRET)
    assert settings_.secret_matches(header) is (header == TG_SECRET)


@settings(max_examples=examples(120))
@given(any_body)
@example(b"[" * 16_000)
@example(_compact_json({"caller": "+33612345678", "called_at": "\u00b2"}))
@example(_compact_json({"caller": "+33612345678", "called_at": 10 ** 400}))
@example(_compact_json({"caller": "+33612345678", "called_at": "0001-01-01T00:00:00+14:00"}))
def test_helpline_payload_gives_a_call_or_a_documented_error(body):
    try:
        call = helpline_webhook.parse_payload(body, now=FRIDAY_EVENING)
    except helpline_webhook.PayloadError as exc:
        assert exc.code in HELPLINE_ERRORS  # the connector has a French sentence for it
        return
    assert call.caller.startswith("+") and call.called_at.tzinfo is not None
    assert call.reason in helpline_webhook.REASONS
    helpline_webhook.call_key(call)  # the idempotency key can always be computed


@settings(max_examples=examples(60))
@given(hostile_headers.map(lambda h: h.get(helpline_webhook.SIGNATURE_HEADER)), any_body)
def test_helpline_signature_is_refused_unless_it_is_the_body_hmac(header, body):
    expected = helpline_webhook.sign(body, SECRET)
    accepted = helpline_webhook.verify_signature(body, header, SECRET)
    assert accepted is (header is not None and header.strip().lower() == expected)
    assert helpline_webhook.verify_signature(body, expected, SECRET)
    assert not helpline_webhook.verify_signature(body, expected, "")


# --- the real blueprints over HTTP -----------------------------------------------------------------

class FakeRasa:
    def __init__(self):
        self.received = []

    async def __call__(self, message):
        self.received.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "Bonjour."})


class FakeSmsSender:
    def __init__(self):
        self.sent = []

    async def send(self, to, text):
        self.sent.append((to, text))
        return f"msg-{len(self.sent)}"


@pytest.fixture(autouse=True, scope="module")
def unlimited_rates_here():
    """Hundreds of generated messages from one number, one chat and one address: the rate limits
    (tested in tests/connectors/test_rate_limits.py and the channels' test files) would answer them instead of
    the code under test."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in UNLIMITED_RATES.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    from bot.channels.sms.store import SmsStore
    from connectors.helpline import HelplineInput
    from connectors.sms import SmsInput
    from connectors.telegram import TelegramInput
    from tests.fakes.sms_gateway import FakeGateway
    from tests.fakes.telegram_api import FakeTelegramAPI

    with keyed_database(tmp_path_factory.mktemp("prop-webhooks"), "prop-webhooks-key") as factory:
        gateway, twilio_gateway = FakeGateway().__enter__(), FakeGateway(twilio=True).__enter__()
        telegram_api = FakeTelegramAPI(TG_TOKEN).start()
        rasa = FakeRasa()
        sms_json = SmsInput(SmsSettings(provider=JSON, send_url=f"{gateway.url}/send", shared_secret=SECRET,
                                        from_number="+33700000000", public_url=PUBLIC_URL, retries=0, timeout=2),
                            store=SmsStore(factory))
        sms_twilio = SmsInput(SmsSettings(provider=TWILIO, api_url=twilio_gateway.url, account_sid="AC1",
                                          auth_token=TWILIO_TOKEN, from_number="+33700000000", public_url=PUBLIC_URL,
                                          retries=0, timeout=2), store=SmsStore(factory))
        telegram = TelegramInput(TelegramSettings(token=TG_TOKEN, secret=TG_SECRET, api_url=telegram_api.url,
                                                  backoff_base=0.01, max_attempts=1, read_timeout=1, poll_timeout=0),
                                 factory=factory)
        sender = FakeSmsSender()
        line = HelplineInput(settings=helpline.HelplineSettings(secret=SECRET, hours="Mo-Fr 09:00-17:00; PH off",
                                                                name="Ligne test", phone="01 02 03 04 05"),
                             session_factory=factory, sender_factory=lambda: sender, clock=lambda: FRIDAY_EVENING)
        threads = {"sms": ChannelServer(sms_json, rasa, "/webhooks/sms"),
                   "twilio": ChannelServer(sms_twilio, rasa, "/webhooks/sms"),
                   "telegram": ChannelServer(telegram, rasa, "/webhooks/telegram"),
                   "helpline": ChannelServer(line, rasa, "/webhooks/helpline")}
        client = httpx.Client(timeout=30)
        yield {"client": client, "threads": threads, "rasa": rasa, "gateways": (gateway, twilio_gateway),
               "telegram_api": telegram_api, "sms_sender": sender, "channels": (sms_json, sms_twilio)}
        client.close()
        for thread in threads.values():
            thread.stop()
        gateway.__exit__()
        twilio_gateway.__exit__()
        telegram_api.stop()


ENDPOINTS = [("sms", "/webhook"), ("sms", "/status"), ("twilio", "/webhook"), ("twilio", "/status"),
             ("telegram", "/webhook"), ("helpline", "/webhook")]


def signed(endpoint: tuple, body: bytes) -> dict:
    """The headers the real sender would add: the signature computed with the shared secret."""
    name, path = endpoint
    if name == "sms":
        return providers.signed_headers(SECRET, body)
    if name == "twilio":
        url = PUBLIC_URL if path == "/webhook" else PUBLIC_URL[: -len("/webhook")] + "/status"
        try:
            params = providers.form_params(body)
        except PayloadError:
            return {providers.TWILIO_SIGNATURE_HEADER: "signature-impossible"}
        return {providers.TWILIO_SIGNATURE_HEADER: providers.twilio_signature(TWILIO_TOKEN, url, params)}
    if name == "telegram":
        return {SECRET_HEADER: TG_SECRET}
    return {helpline_webhook.SIGNATURE_HEADER: helpline_webhook.sign(body, SECRET)}


def check_answer(reply: httpx.Response, allowed: set) -> None:
    assert reply.status_code in allowed, (reply.status_code, reply.text[:300])
    if reply.status_code >= 400:
        erreur = reply.json()["erreur"]
        assert isinstance(erreur, str) and erreur.strip()
        # Operators wiring a gateway read this: French (accented words or French punctuation spacing).
        assert any(word in erreur for word in ("Signature", "Accès refusé", "illisible", "Le ", "Mise à jour",
                                               "champ", "corps", "Réessayez")), erreur


def drain(servers) -> None:
    for channel, name in zip(servers["channels"], ("sms", "twilio")):
        loop = servers["threads"][name].loop
        asyncio.run_coroutine_threadsafe(channel.drain(), loop).result(30)


@settings(max_examples=examples(40))
@given(st.sampled_from(ENDPOINTS), hostile_headers, any_body)
def test_unsigned_requests_are_refused_by_every_webhook(servers, endpoint, headers, body):
    received, sent = len(servers["rasa"].received), len(servers["sms_sender"].sent)
    name, path = endpoint
    reply = servers["client"].post(servers["threads"][name].base + path, content=body, headers=headers)
    check_answer(reply, {403})
    drain(servers)
    assert len(servers["rasa"].received) == received and len(servers["sms_sender"].sent) == sent


@settings(max_examples=examples(50))
@given(st.sampled_from(ENDPOINTS), any_body)
@example(("sms", "/webhook"), b"[" * 5_000)
@example(("telegram", "/webhook"), b'{"update_id": 1, "callback_query": {"message": "x"}}')
@example(("helpline", "/webhook"), b'{"caller": "+33612345678", "called_at": "\\u00b2"}')
@example(("helpline", "/webhook"), b'{"caller": "+33612345678", "called_at": "0001-01-01T00:00:00"}')
def test_signed_hostile_bodies_never_cause_a_server_error(servers, endpoint, body):
    name, path = endpoint
    headers = dict(signed(endpoint, body), **{"Content-Type": "application/json"})
    reply = servers["client"].post(servers["threads"][name].base + path, content=body, headers=headers)
    # A Twilio signature covers the decoded form: a body that is not UTF-8 cannot be signed, hence 403.
    check_answer(reply, {200, 400, 403} if name == "twilio" else {200, 400, 413})
    drain(servers)


@settings(max_examples=examples(20))
@given(st.sampled_from(["sms", "twilio", "telegram"]), text_with_secrets(max_secrets=2, max_size=400),
       st.integers(1, 10 ** 9))
def test_secrets_in_a_signed_message_never_reach_rasa(servers, channel, case, n):
    """The channels redact before the NLU, the tracker store or any log sees the text."""
    text, secrets = case
    if channel == "sms":
        body = _compact_json({"id": f"prop-{uuid.uuid4().hex}", "from": "+33612345678", "to": "+33700000000",
                              "text": text})
        headers = providers.signed_headers(SECRET, body)
    elif channel == "twilio":
        body = urlencode({"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC1", "From": "+33612345678",
                          "To": "+33700000000", "Body": text}).encode()
        headers = dict(signed(("twilio", "/webhook"), body), **{"Content-Type": "application/x-www-form-urlencoded"})
    else:
        body = _compact_json({"update_id": 10 ** 10 + n * 1000 + len(servers["rasa"].received),
                              "message": {"message_id": 1, "chat": {"id": 4242, "type": "private"},
                                          "date": 1700000000, "text": text}})
        headers = {SECRET_HEADER: TG_SECRET}
    before = len(servers["rasa"].received)
    reply = servers["client"].post(servers["threads"][channel].base + "/webhook", content=body,
                                   headers=dict({"Content-Type": "application/json"}, **headers))
    check_answer(reply, {200})
    drain(servers)
    received = servers["rasa"].received[before:]
    assert received, channel  # the message did reach Rasa, redacted
    for seen in received:
        for secret in secrets:
            if secret.kind == "mot_de_passe":
                assert secret.value not in seen, (secret, seen)
            else:
                assert not secret.found_in(seen), (secret, seen)


@pytest.mark.parametrize("secret", [b"\xff\xfe\xfd", TG_SECRET.encode() + b"\xc3", b"\xe9t\xe9"])
def test_a_telegram_secret_header_that_is_not_utf8_is_refused_not_a_server_error(servers, secret):
    body = _compact_json({"update_id": 77, "message": {"message_id": 1, "chat": {"id": 4242, "type": "private"},
                                                       "date": 1700000000, "text": "bonjour"}})
    before = len(servers["rasa"].received)
    reply = servers["client"].post(servers["threads"]["telegram"].base + "/webhook", content=body,
                                   headers={SECRET_HEADER: secret, "Content-Type": "application/json"})
    check_answer(reply, {403})
    assert len(servers["rasa"].received) == before
    assert settings_matches_unicode_surrogate()


def settings_matches_unicode_surrogate() -> bool:
    """What the server makes of such bytes (lone surrogates) never matches, and never raises."""
    return TelegramSettings(token=TG_TOKEN, secret=TG_SECRET).secret_matches("\udcff" + TG_SECRET) is False
