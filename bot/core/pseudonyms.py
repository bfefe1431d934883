"""Pseudonyms: the keyed hash that stands for a sender id or a phone number wherever one is stored."""

from __future__ import annotations

import hashlib
import hmac

from bot.core.settings import secret_key


def pseudonymise(identifier: str) -> str:
    """Keyed hash of a sender id or phone number: stable, not reversible without the key."""
    return hmac.new(secret_key(), identifier.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
