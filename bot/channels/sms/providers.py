"""SMS gateway adapters: signature checks, inbound parsing and outbound sending (no Rasa here).

AIGUILLAGE_SMS_PROVIDER chooses the adapter: "twilio" (form webhook, X-Twilio-Signature, REST API)
or "json" (generic JSON webhook signed with HMAC-SHA256 and a timestamp).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

from bot.channels.sms import encoding
from bot.channels.sms.store import SmsStore, default_store, number_key
from bot.core import crypto
from bot.core.backoff import doubling
from bot.core.phone import to_e164
from bot.core.settings import setting

logger = logging.getLogger(__name__)

TWILIO = "twilio"
JSON = "json"
SIGNATURE_HEADER = "X-Aiguillage-Signature"
SIGNATURE_PREFIX = "sha256="
TIMESTAMP_HEADER = "X-Aiguillage-Timestamp"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
TWILIO_BODY_HASH = "bodySHA256"


class SmsError(Exception):
    pass


class NotConfigured(SmsError):
    pass


class SignatureError(SmsError):
    pass


class PayloadError(SmsError):
    pass


class OptedOut(SmsError):
    """The number sent STOP: nothing may be sent to it."""


class SendError(SmsError):
    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


def _env(name: str) -> str:
    """A text setting, "" when unset (the registry in bot/core/settings.py has its default and doc)."""
    return setting(name) or ""


@dataclass(frozen=True)
class SmsSettings:
    provider: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_PROVIDER"))
    public_url: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_PUBLIC_URL"))
    status_public_url: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_STATUS_PUBLIC_URL"))
    # Twilio
    api_url: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_API_URL"))
    account_sid: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_ACCOUNT_SID"))
    auth_token: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_AUTH_TOKEN"))
    messaging_service_sid: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_MESSAGING_SERVICE_SID"))
    # JSON gateway
    send_url: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_SEND_URL"))
    shared_secret: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_SHARED_SECRET"))
    timestamp_tolerance: int = field(default_factory=lambda: setting("AIGUILLAGE_SMS_TIMESTAMP_TOLERANCE"))
    # Both
    from_number: str = field(default_factory=lambda: _env("AIGUILLAGE_SMS_FROM"))
    timeout: float = field(default_factory=lambda: setting("AIGUILLAGE_SMS_TIMEOUT"))
    retries: int = field(default_factory=lambda: setting("AIGUILLAGE_SMS_RETRIES"))
    backoff: float = field(default_factory=lambda: setting("AIGUILLAGE_SMS_BACKOFF"))
    backoff_max: float = field(default_factory=lambda: setting("AIGUILLAGE_SMS_BACKOFF_MAX"))
    pool_size: int = field(default_factory=lambda: setting("AIGUILLAGE_SMS_POOL_SIZE"))
    max_inbound_chars: int = field(default_factory=lambda: setting("AIGUILLAGE_SMS_MAX_INBOUND"))

    def problems(self) -> list[str]:
        """Missing settings (empty when the channel can run)."""
        if self.provider == TWILIO:
            missing = [n for n, v in (("AIGUILLAGE_SMS_ACCOUNT_SID", self.account_sid),
                                      ("AIGUILLAGE_SMS_AUTH_TOKEN", self.auth_token),
                                      ("AIGUILLAGE_SMS_PUBLIC_URL", self.public_url)) if not v]
            if not (self.from_number or self.messaging_service_sid):
                missing.append("AIGUILLAGE_SMS_FROM ou AIGUILLAGE_SMS_MESSAGING_SERVICE_SID")
            return missing
        if self.provider == JSON:
            return [n for n, v in (("AIGUILLAGE_SMS_SEND_URL", self.send_url),
                                   ("AIGUILLAGE_SMS_SHARED_SECRET", self.shared_secret),
                                   ("AIGUILLAGE_SMS_FROM", self.from_number)) if not v]
        return ["AIGUILLAGE_SMS_PROVIDER (twilio ou json)"]

    @property
    def configured(self) -> bool:
        return not self.problems()

    def status_url(self) -> str:
        if self.status_public_url:
            return self.status_public_url
        base = self.public_url.rstrip("/")
        return base[: -len("/webhook")] + "/status" if base.endswith("/webhook") else base + "/status"


@dataclass(frozen=True)
class Inbound:
    message_id: str
    from_number: str   # E.164, kept in memory only
    to: str
    text: str


@dataclass(frozen=True)
class DeliveryReport:
    reference: str
    status: str




def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return (value or "").strip()


# --- signatures ---------------------------------------------------------------------------------

class _FormParams(dict):
    """Form parameters with every value of a repeated name, read by RequestValidator via getall()."""

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getall(self, name: str) -> list[str]:
        return self[name]


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """What Twilio sends in X-Twilio-Signature for this request (the signing side, for a test or a
    fake gateway), computed by the same RequestValidator that checks it."""
    return RequestValidator(auth_token).compute_signature(url, _FormParams(params))


def json_signature(secret: str, timestamp: str, body: bytes) -> str:
    """X-Aiguillage-Signature: HMAC-SHA256 of "<timestamp>.<raw body>". The timestamp is signed with
    the body, so a captured request cannot be replayed later under a fresh timestamp."""
    return SIGNATURE_PREFIX + crypto.sign(secret, timestamp, body)


def signed_headers(secret: str, body: bytes, now: Optional[float] = None) -> dict:
    """The headers of a JSON-gateway request (our outbound SMS, or a test playing the gateway)."""
    stamp = str(int(time.time() if now is None else now))
    return {SIGNATURE_HEADER: json_signature(secret, stamp, body), TIMESTAMP_HEADER: stamp}


def signed_url(public_url: str, query_string: str) -> str:
    """The URL the gateway signed: the public URL, with the query string the request came with (Twilio
    adds bodySHA256=… to it for a JSON body); without one, the public URL as configured."""
    if not query_string:
        return public_url
    return urlunsplit(urlsplit(public_url)._replace(query=query_string))


def form_params(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise PayloadError("form body is not UTF-8") from exc


# --- adapters -----------------------------------------------------------------------------------

class Provider:
    name = ""

    def __init__(self, settings: SmsSettings):
        self.settings = settings

    def verify(self, headers: Mapping[str, str], body: bytes, url: str) -> None:
        raise NotImplementedError

    def parse_inbound(self, body: bytes) -> Inbound:
        raise NotImplementedError

    def parse_status(self, body: bytes) -> DeliveryReport:
        raise NotImplementedError

    def build_request(self, to: str, text: str, client_ref: str) -> dict:
        """httpx.request() keyword arguments for one outbound SMS."""
        raise NotImplementedError

    def gateway_id(self, response: httpx.Response, client_ref: str) -> str:
        raise NotImplementedError

    def acknowledgement(self) -> tuple[str, str]:
        """(body, content type) of the quick webhook acknowledgement."""
        return json.dumps({"ok": True}), "application/json"


class TwilioProvider(Provider):
    name = TWILIO

    def verify(self, headers, body, url):
        # Twilio's own validator (the twilio package Rasa installs): it also accepts the URL with or
        # without its default port and a parameter sent twice, as Twilio signs them.
        given = _header(headers, TWILIO_SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing signature")
        validator = RequestValidator(self.settings.auth_token)
        if TWILIO_BODY_HASH in parse_qs(urlsplit(url).query):
            # A JSON body: Twilio signs the URL alone, whose bodySHA256 is the SHA-256 of the body;
            # the validator checks both when it is given the body as text.
            try:
                params = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PayloadError("JSON body is not UTF-8") from exc
        else:
            params = _FormParams(form_params(body))
        if not validator.validate(url, params, given):
            raise SignatureError("bad signature")

    @staticmethod
    def _params(body: bytes) -> dict:
        """Twilio's fields, from a form body or from a JSON object (a request signed with bodySHA256)."""
        if body.lstrip().startswith(b"{"):
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise PayloadError("malformed JSON") from exc
            if isinstance(data, dict):
                return {k: v for k, v in data.items() if isinstance(v, str)}
        return dict(form_params(body))

    def parse_inbound(self, body):
        params = self._params(body)
        sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
        if not sid or not sender or "Body" not in params:
            raise PayloadError("MessageSid, From and Body are required")
        return Inbound(message_id=sid, from_number=sender, to=params.get("To", ""), text=params["Body"])

    def parse_status(self, body):
        params = self._params(body)
        sid, status = params.get("MessageSid") or params.get("SmsSid"), params.get("MessageStatus")
        if not sid or not status:
            raise PayloadError("MessageSid and MessageStatus are required")
        return DeliveryReport(reference=sid, status=status)

    def build_request(self, to, text, client_ref):
        s = self.settings
        data = {"To": to, "Body": text}
        if s.messaging_service_sid:
            data["MessagingServiceSid"] = s.messaging_service_sid
        else:
            data["From"] = s.from_number
        if s.public_url:
            data["StatusCallback"] = s.status_url()
        return {"method": "POST", "url": f"{s.api_url.rstrip('/')}/2010-04-01/Accounts/{s.account_sid}/Messages.json",
                "data": data, "auth": (s.account_sid, s.auth_token)}

    def gateway_id(self, response, client_ref):
        try:
            return str(response.json().get("sid") or client_ref)
        except ValueError:
            return client_ref

    def acknowledgement(self):
        return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml"


class JsonProvider(Provider):
    name = JSON

    def verify(self, headers, body, url):
        given, stamp = _header(headers, SIGNATURE_HEADER), _header(headers, TIMESTAMP_HEADER)
        if not given or not stamp:
            raise SignatureError("missing signature or timestamp")
        # Unix seconds in ASCII digits: the exact text is signed, so only one spelling is accepted.
        if not TIMESTAMP_PATTERN.fullmatch(stamp):
            raise SignatureError("bad timestamp")
        if abs(time.time() - int(stamp)) > self.settings.timestamp_tolerance:
            raise SignatureError("timestamp outside the tolerance window (replay?)")
        # Exact spelling only: prefix and lower-case hex, as json_signature writes them.
        if not (given.startswith(SIGNATURE_PREFIX)
                and crypto.signature_matches(self.settings.shared_secret, given[len(SIGNATURE_PREFIX):], stamp, body)):
            raise SignatureError("bad signature")

    @staticmethod
    def _object(body: bytes) -> dict:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise PayloadError("malformed JSON") from exc
        if not isinstance(data, dict):
            raise PayloadError("a JSON object is expected")
        return data

    def parse_inbound(self, body):
        data = self._object(body)
        message_id, sender, text = data.get("id"), data.get("from"), data.get("text")
        if not isinstance(message_id, (str, int)) or not isinstance(sender, str) or not isinstance(text, str):
            raise PayloadError('"id", "from" and "text" are required')
        return Inbound(message_id=str(message_id), from_number=sender, to=str(data.get("to") or ""), text=text)

    def parse_status(self, body):
        data = self._object(body)
        reference, status = data.get("client_ref") or data.get("id"), data.get("status")
        if not isinstance(reference, (str, int)) or not isinstance(status, str) or not status:
            raise PayloadError('"id" or "client_ref", and "status" are required')
        return DeliveryReport(reference=str(reference), status=status[:40])

    def build_request(self, to, text, client_ref):
        s = self.settings
        body = json.dumps({"to": to, "from": s.from_number, "text": text, "client_ref": client_ref},
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **signed_headers(s.shared_secret, body)}
        return {"method": "POST", "url": s.send_url, "content": body, "headers": headers}

    def gateway_id(self, response, client_ref):
        try:
            data = response.json()
        except ValueError:
            return client_ref
        return str(data.get("id") or client_ref) if isinstance(data, dict) else client_ref


PROVIDERS = {TWILIO: TwilioProvider, JSON: JsonProvider}


def make_provider(settings: SmsSettings) -> Provider:
    if settings.provider not in PROVIDERS:
        raise NotConfigured(f"unknown SMS provider {settings.provider!r}")
    return PROVIDERS[settings.provider](settings)


# --- outbound -----------------------------------------------------------------------------------

def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class SmsSender:
    """Sends SMS through the configured gateway: opt-outs honoured, ≤ 3 segments, bounded retries."""

    def __init__(self, settings: SmsSettings, store: Optional[SmsStore] = None):
        self.settings = settings
        self.provider = make_provider(settings) if settings.configured else None
        self._store = store
        self._clients: dict = {}  # one shared AsyncClient per event loop

    @property
    def store(self) -> SmsStore:
        if self._store is None:
            self._store = default_store()
        return self._store

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            # Forget clients of closed loops (tests, restarts).
            self._clients = {lp: c for lp, c in self._clients.items() if not lp.is_closed()}
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.timeout),
                limits=httpx.Limits(max_connections=self.settings.pool_size,
                                    max_keepalive_connections=self.settings.pool_size))
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    async def send(self, to: str, text: str) -> str:
        """Send one SMS; returns the gateway's message id. Raises OptedOut, SendError, NotConfigured."""
        return await self.deliver(to, text, check_opt_out=True)

    async def deliver(self, to: str, text: str, check_opt_out: bool = True) -> str:
        if self.provider is None:
            raise NotConfigured(", ".join(self.settings.problems()))
        number = to_e164(to)
        if number is None:
            raise SendError("invalid phone number")
        if check_opt_out and self.store.is_opted_out(number_key(number)):
            raise OptedOut("this number opted out (STOP)")
        body = encoding.fit(text)
        client_ref = uuid.uuid4().hex
        response = await self._post_with_retries(self.provider.build_request(number, body, client_ref))
        gateway_id = self.provider.gateway_id(response, client_ref)
        try:
            self.store.record_sent(client_ref, gateway_id)
        except Exception:  # the SMS is gone already; a bookkeeping failure must not resend it
            logger.exception("could not record an SMS delivery")
        return gateway_id

    async def _post_with_retries(self, request: dict) -> httpx.Response:
        attempts = max(0, self.settings.retries) + 1
        last_error = "no attempt"
        for attempt in range(attempts):
            retry_after = None
            try:
                response = await self.client().request(**request)
            except httpx.TransportError as exc:  # connection errors and timeouts
                last_error = f"{type(exc).__name__}"
                status = None
            else:
                status = response.status_code
                if status < 400:
                    return response
                if not _retryable(status):
                    raise SendError(f"gateway refused the SMS (HTTP {status})", status)
                last_error = f"HTTP {status}"
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 < attempts:
                delay = doubling(self.settings.backoff, self.settings.backoff_max, attempt)
                if retry_after and retry_after.isdigit():
                    delay = min(self.settings.backoff_max, max(delay, float(retry_after)))
                logger.warning("SMS send failed (%s), retry %d/%d", last_error, attempt + 1, attempts - 1)
                await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
        raise SendError(f"gateway unreachable after {attempts} attempts ({last_error})", status)


_senders: dict = {}


def build_sender(settings: Optional[SmsSettings] = None) -> SmsSender:
    """The sender for these settings (environment by default), shared so its HTTP pool is reused."""
    settings = settings or SmsSettings()
    sender = _senders.get(settings)
    if sender is None:
        sender = _senders[settings] = SmsSender(settings)
    return sender
