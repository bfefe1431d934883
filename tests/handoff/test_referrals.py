"""Referrals: reference codes people can read over the phone, storage without sensitive data."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.core.db import session_scope
from bot.core.pseudonyms import pseudonymise
from bot.core.references import CODE_ALPHABET, new_reference, normalise_reference
from bot.handoff.referrals import (
    ERASED_KEY,
    Referral,
    ReferralRequest,
    create_referral,
    erase_for_sender,
    find_by_reference,
)


@pytest.fixture()
def factory(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "test-key")
    return database.factory


def test_reference_codes_avoid_confusable_characters_and_are_short():
    for _ in range(500):
        code = new_reference()
        assert len(code) == 8 and code[3] == "-"
        assert not set(code.replace("-", "")) & set("01OILUV8B") - set(CODE_ALPHABET)
        assert not set(code) & set("0O1IL")


def test_a_code_dictated_loosely_is_understood_and_a_typo_is_caught():
    code = new_reference()
    assert normalise_reference(code.lower().replace("-", " ")) == code
    body = code.replace("-", "")
    wrong = body[:-1] + next(c for c in CODE_ALPHABET if c != body[-1])
    assert normalise_reference(wrong) is None
    assert normalise_reference("hello") is None


def test_referral_keeps_only_shareable_facts_and_a_pseudonymised_sender(factory):
    request = ReferralRequest(level="urgence", reasons=["delai_proche"],
                              facts={"organisme": "caf", "enjeu": "delai", "texte": "mon mdp est secret",
                                     "latitude": 48.1}, place_id=None, channel="desk", sender_id="+33612345678")
    with session_scope(factory) as session:
        created = create_referral(session, request, now=datetime(2026, 11, 26, tzinfo=timezone.utc))
        reference = created.reference
    with session_scope(factory) as session:
        stored = find_by_reference(session, reference)
        assert stored.facts == {"organisme": "caf", "enjeu": "delai"}
        assert stored.conversation_key == pseudonymise("+33612345678")
        assert "+33612345678" not in stored.conversation_key
        assert stored.status == "ouverte" and stored.consent_at is not None


def test_erase_removes_only_that_persons_referrals(factory):
    with session_scope(factory) as session:
        for sender in ("alice", "alice", "bob"):
            create_referral(session, ReferralRequest("inclusion", ["bloque"], {}, None, "sms", sender))
    with session_scope(factory) as session:
        assert erase_for_sender(session, "alice") == 2
    with session_scope(factory) as session:
        remaining = session.execute(select(Referral)).scalars().all()
        # Alice's two referrals leave only their anonymous residue, for the statistics.
        assert sorted(r.conversation_key for r in remaining) == sorted([pseudonymise("bob"), ERASED_KEY, ERASED_KEY])
