"""Sealing what must be read again (a person's channel address, a caller's number): Fernet, with a key
derived from the secret key by HKDF-SHA256 under each use's own label, so that one use's tokens never
open with another's key. Changing the secret key makes every sealed value unreadable.

Signing our own webhooks (the helpline's telephony webhook, the JSON SMS gateway, the notification
webhooks): hex HMAC-SHA256 under a shared secret. Each caller keeps its wire format (header, prefix)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Union

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.core.settings import secret_key


def sealer(label: bytes) -> Fernet:
    """The Fernet key of one use (`label`, e.g. b"aiguillage/followup/contact/fernet/v1")."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret_key())
    return Fernet(base64.urlsafe_b64encode(key))


def sign(secret: str, *parts: Union[str, bytes]) -> str:
    """Lower-case hex HMAC-SHA256 of the parts joined by "." (a timestamp signed with the body, as
    Stripe and Standard Webhooks do); text is UTF-8."""
    message = b".".join(p.encode("utf-8") if isinstance(p, str) else p for p in parts)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, signature: str, *parts: Union[str, bytes]) -> bool:
    """Whether `signature` (hex, as `sign` writes it, without any prefix) is the parts' HMAC, compared
    in constant time."""
    # A header the server could not decode holds lone surrogates or other non-ASCII text: never a hex
    # digest, and compare_digest would raise TypeError on such a str.
    try:
        given = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given, sign(secret, *parts).encode("ascii"))
