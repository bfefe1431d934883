"""Sealed values stay readable across versions: one key derivation per use (bot/core/crypto.py)."""

from __future__ import annotations

import pytest
from cryptography.fernet import InvalidToken

from bot.core.crypto import sealer
from bot.handoff import followup, helpline

# Sealed by the code before bot/core/crypto.py (each module derived its own key), with this key:
# what a database written then holds must still open.
KEY = "compat-key-2026"
CONTACT = "gAAAAABrFYS5DhkhUDNe9z0ZEaCOHJ60ymz7zlxAKj3yXj8IBS5Nf8Z1dVcc7-E7EdjGbqPKpFXJMoOkbBDJpM2gkaYX1g_IZQ=="
CALLER = b"gAAAAABrFYS5gk6D1Qr6gEO7uGXhFPdocqq70MHvxFnyHivp1Ayy1cC_SGbfhMJkJQr9hLE0ob00_jMQNQloQWuYCDIhlKcA5A=="


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", KEY)


def test_values_sealed_by_the_previous_version_still_open():
    assert followup.unseal(CONTACT) == "+33612345678"
    assert helpline.decrypt_number(CALLER) == "+33612345678"


def test_each_use_has_its_own_key():
    token = sealer(b"aiguillage/followup/contact/fernet/v1").encrypt(b"+33612345678")
    with pytest.raises(InvalidToken):
        sealer(b"aiguillage/helpline/caller-number/fernet/v1").decrypt(token)
    assert followup.unseal(followup.seal("chat:42")) == "chat:42"
