"""The telephony system's webhook for the after-hours helpline: its signature, its payload and the
key that makes a repeated delivery of one call count once. Transport only: what a call leads to
(a callback, an SMS) is bot/handoff/helpline.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from bot.core import crypto
from bot.core.codes import CallbackReason
from bot.core.moments import to_paris
from bot.core.phone import can_receive_sms, to_e164
from bot.core.settings import secret_key

SIGNATURE_HEADER = "X-Aiguillage-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 16_384
MAX_CALL_ID_CHARS = 128
# Clock skew tolerated between the telephony system and us before a call time counts as "future".
MAX_FUTURE_SKEW = timedelta(minutes=10)
_CALL_KEY_INFO = b"aiguillage/helpline/call-key/v1|"
REASONS = (CallbackReason.MISSED.value, CallbackReason.AFTER_HOURS.value)  # what the telephony webhook sends


# --------------------------------------------------------------------------------------------------
# Signature
# --------------------------------------------------------------------------------------------------

def sign(body: bytes, secret: str) -> str:
    """Header value for a body: "sha256=<hex HMAC-SHA256 of the raw body>"."""
    return SIGNATURE_PREFIX + crypto.sign(secret, body)


def verify_signature(body: bytes, header: Optional[str], secret: str) -> bool:
    if not header or not secret:
        return False
    header = header.strip()
    if not header.lower().startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX):].strip().lower()
    return crypto.signature_matches(secret, given, body)


# --------------------------------------------------------------------------------------------------
# Payload
# --------------------------------------------------------------------------------------------------

class PayloadError(ValueError):
    """Bad webhook input; `code` names the problem (the connector renders it in French)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class MissedCall:
    call_id: Optional[str]
    caller: str  # E.164
    called_at: datetime  # aware
    reason: str
    mobile: bool  # an SMS can reach this number


def normalise_phone(value: Any) -> tuple[str, bool]:
    """E.164 form of a French or international number, and whether it can receive SMS."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise PayloadError("numero_invalide")
    raw = str(value).strip()
    if not raw:
        raise PayloadError("appelant_manquant")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    elif raw.isdigit() and raw.startswith("33") and len(raw) == 11:
        raw = "+" + raw  # "33612345678": international form without the plus
    e164 = to_e164(raw)
    if e164 is None:
        raise PayloadError("numero_invalide")
    return e164, can_receive_sms(e164)


def parse_time(value: Any) -> datetime:
    """ISO 8601 (with offset, "Z", or naive = Paris time) or epoch seconds (number or digits)."""
    if isinstance(value, bool) or value is None:
        raise PayloadError("date_invalide")
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        try:
            value = float(value.strip())
        except ValueError:  # "²" is a digit for str.isdigit(), not for float()
            raise PayloadError("date_invalide") from None
    if isinstance(value, (int, float)):
        try:
            value = float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            raise PayloadError("date_invalide") from None
        if not math.isfinite(value):
            raise PayloadError("date_invalide")
        if value > 1e11:  # milliseconds, as many telephony APIs send
            value = value / 1000
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise PayloadError("date_invalide") from None
    if not isinstance(value, str):
        raise PayloadError("date_invalide")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = to_paris(datetime.fromisoformat(text))
        moment.astimezone(timezone.utc)  # year 1 or 9999 near midnight cannot be stored as UTC
    except (ValueError, OverflowError):
        raise PayloadError("date_invalide") from None
    return moment


def parse_payload(body: bytes, now: Optional[datetime] = None) -> MissedCall:
    """Validate a webhook body; raise PayloadError(code) on anything unusable."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError("corps_trop_long")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise PayloadError("json_invalide") from None
    if not isinstance(data, dict):
        raise PayloadError("json_invalide")

    caller_value = _first(data, "caller", "from", "numero", "number")
    if caller_value is None or (isinstance(caller_value, str) and not caller_value.strip()):
        raise PayloadError("appelant_manquant")
    caller, mobile = normalise_phone(caller_value)

    time_value = _first(data, "called_at", "timestamp", "time", "date")
    if time_value is None:
        raise PayloadError("date_manquante")
    called_at = parse_time(time_value)
    now = datetime.now(timezone.utc) if now is None else now
    if called_at > now + MAX_FUTURE_SKEW:
        raise PayloadError("date_future")

    call_id = data.get("call_id")
    if call_id is not None:
        if isinstance(call_id, bool) or not isinstance(call_id, (str, int)):
            raise PayloadError("identifiant_invalide")
        call_id = str(call_id).strip() or None
        if call_id is not None and len(call_id) > MAX_CALL_ID_CHARS:
            raise PayloadError("identifiant_invalide")

    reason = data.get("reason", "missed")
    reason = reason.strip().lower() if isinstance(reason, str) else reason
    if reason not in REASONS:
        raise PayloadError("motif_invalide")
    return MissedCall(call_id=call_id, caller=caller, called_at=called_at, reason=reason, mobile=mobile)


def _first(data: dict, *names: str) -> Any:
    for name in names:
        if data.get(name) is not None:
            return data[name]
    return None


def call_key(call: MissedCall) -> str:
    """Idempotency key: the telephony system's call id, else caller + call time (to the second).

    Keyed hash, so the key column never reveals a phone number."""
    if call.call_id:
        material = "id:" + call.call_id
    else:
        moment = call.called_at.astimezone(timezone.utc).replace(microsecond=0)
        material = f"appel:{call.caller}|{moment.isoformat()}"

    return hmac.new(secret_key(), _CALL_KEY_INFO + material.encode("utf-8"), hashlib.sha256).hexdigest()
