"""Sealed values stay readable across versions: one key derivation per use (bot/core/crypto.py); our
webhooks' HMAC signatures match the standard algorithm and refuse any change."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.fernet import InvalidToken

from bot.core.crypto import sealer, sign, signature_matches
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


# --- webhook signatures --------------------------------------------------------------------------

SECRET = "partagé-secret"
STAMP = "1767225600"
BODY = '{"id": "m1", "from": "+33612345678", "text": "bonjour é"}'.encode("utf-8")


def test_sign_is_the_standard_hmac_sha256_in_hex():
    # RFC 4231, test case 2.
    assert sign("Jefe", b"what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(SECRET, BODY) == hmac.new(SECRET.encode("utf-8"), BODY, hashlib.sha256).hexdigest()


def test_parts_are_joined_by_a_dot_and_text_is_utf8():
    expected = hmac.new(SECRET.encode("utf-8"), STAMP.encode("ascii") + b"." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, STAMP, BODY) == expected
    assert sign(SECRET, STAMP.encode("ascii"), BODY) == expected
    assert signature_matches(SECRET, expected, STAMP, BODY)


def test_a_tampered_body_or_timestamp_is_refused():
    signature = sign(SECRET, STAMP, BODY)
    assert not signature_matches(SECRET, signature, STAMP, BODY.replace(b"bonjour", b"bonsoir"))
    assert not signature_matches(SECRET, signature, "1767225601", BODY)
    assert not signature_matches(SECRET, signature, STAMP + BODY.decode("utf-8"))


def test_a_wrong_secret_is_refused():
    assert not signature_matches("autre", sign(SECRET, BODY), BODY)
    assert not signature_matches(SECRET, sign("autre", BODY), BODY)


@pytest.mark.parametrize("signature", ["", "sha256=", "0" * 64, "é" * 64, "\udcff" * 64])
def test_anything_but_the_digest_is_refused_without_raising(signature):
    assert not signature_matches(SECRET, signature, BODY)


def test_the_digest_is_compared_exactly():
    # Callers that accept another spelling (the helpline takes upper-case hex) normalise it first.
    signature = sign(SECRET, BODY)
    assert not signature_matches(SECRET, signature.upper(), BODY)
    assert not signature_matches(SECRET, signature + " ", BODY)
    assert not signature_matches(SECRET, signature[:-1], BODY)
