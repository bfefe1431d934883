"""Referrals: what is handed to a mediator, under a reference code read over the phone."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Session

from bot.db import Base
from bot.settings import secret_key

# No 0/O, 1/I/L, U/V: nothing that sounds or looks alike when read aloud or handwritten.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ2345679"
CODE_LENGTH = 6  # plus one check character

# Facts that may travel to a mediator: codes from bot.understanding, never free text.
SHAREABLE_FACTS = ("organisme", "domaine", "demarche", "enjeu", "enjeux", "equipement", "souhait", "barriere", "blocage",
                   "besoins", "recurrent", "apprentissage", "debutant", "sujet", "commune", "commune_insee",
                   # who wrote (a relative, a professional) and whether a safety check was asked: no detail
                   "redacteur", "verification_securite")

# Life of a referral (mediator side): ouverte -> prise_en_charge -> cloturee (with an outcome).
STATUS_OPEN = "ouverte"
STATUS_CLAIMED = "prise_en_charge"
STATUS_CLOSED = "cloturee"
STATUSES = (STATUS_OPEN, STATUS_CLAIMED, STATUS_CLOSED)
OUTCOMES = ("fait", "reoriente", "injoignable")


class Referral(Base):
    __tablename__ = "orientations"

    id = Column(Integer, primary_key=True)
    reference = Column(String(8), unique=True, nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    level = Column(String(32), nullable=False)
    reasons = Column(JSON, nullable=False)
    facts = Column(JSON, nullable=False)
    place_id = Column(String(255), ForeignKey("lieux.id", ondelete="SET NULL"), nullable=True)
    channel = Column(String(32), nullable=False)
    conversation_key = Column(String(64), nullable=False, index=True)
    consent_at = Column(DateTime(timezone=True), nullable=False)
    status = Column(String(32), nullable=False, default=STATUS_OPEN)
    # Filled by the mediators' side (issue 4): who claimed it and when, how it ended.
    claimed_at = Column(DateTime(timezone=True), nullable=True)
    claimed_by = Column(Integer, nullable=True)          # mediator account id
    closed_at = Column(DateTime(timezone=True), nullable=True)
    outcome = Column(String(32), nullable=True)          # one of OUTCOMES once closed
    updated_at = Column(DateTime(timezone=True), nullable=True)


def _check_char(body: str) -> str:
    total = sum((i + 1) * CODE_ALPHABET.index(c) for i, c in enumerate(body))
    return CODE_ALPHABET[total % len(CODE_ALPHABET)]


def new_reference() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = body + _check_char(body)
    return f"{code[:3]}-{code[3:]}"


def normalise_reference(text: str) -> Optional[str]:
    """Canonical form of a code typed or dictated ("k7m 4xpq", "K7M4XPQ"), or None if invalid."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(raw) != CODE_LENGTH + 1 or any(c not in CODE_ALPHABET for c in raw):
        return None
    if _check_char(raw[:-1]) != raw[-1]:
        return None
    return f"{raw[:3]}-{raw[3:]}"


def pseudonymise(identifier: str) -> str:
    """Keyed hash of a sender id or phone number: stable, not reversible without the key."""
    return hmac.new(secret_key(), identifier.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ReferralRequest:
    level: str
    reasons: list
    facts: dict
    place_id: Optional[str]
    channel: str
    sender_id: str


def shareable(facts: dict) -> dict:
    return {k: v for k, v in facts.items() if k in SHAREABLE_FACTS and v not in (None, "", [])}


def create_referral(session: Session, request: ReferralRequest, now: Optional[datetime] = None) -> Referral:
    """Add the referral to the caller's transaction (no savepoint: SQLite's driver mishandles them)."""
    now = now or datetime.now(timezone.utc)
    for _ in range(10):
        reference = new_reference()
        # 28^6 codes: a clash is rare; the unique index remains the final guard.
        if session.execute(select(Referral.id).where(Referral.reference == reference)).first() is None:
            break
    else:
        raise RuntimeError("could not draw a unique reference")
    referral = Referral(reference=reference, created_at=now, level=request.level,
                        reasons=list(request.reasons), facts=shareable(request.facts),
                        place_id=request.place_id, channel=request.channel,
                        conversation_key=pseudonymise(request.sender_id), consent_at=now, status=STATUS_OPEN)
    session.add(referral)
    session.flush()
    return referral


def find_by_reference(session: Session, text: str) -> Optional[Referral]:
    code = normalise_reference(text)
    if code is None:
        return None
    return session.execute(select(Referral).where(Referral.reference == code)).scalar_one_or_none()


def erase_for_sender(session: Session, sender_id: str) -> int:
    """Delete every referral made from this conversation (the person asked to erase)."""
    result = session.execute(delete(Referral).where(Referral.conversation_key == pseudonymise(sender_id)))
    return result.rowcount or 0
