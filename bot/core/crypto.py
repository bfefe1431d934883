"""Sealing what must be read again (a person's channel address, a caller's number): Fernet, with a key
derived from the secret key by HKDF-SHA256 under each use's own label, so that one use's tokens never
open with another's key. Changing the secret key makes every sealed value unreadable."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.core.settings import secret_key


def sealer(label: bytes) -> Fernet:
    """The Fernet key of one use (`label`, e.g. b"aiguillage/followup/contact/fernet/v1")."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret_key())
    return Fernet(base64.urlsafe_b64encode(key))
