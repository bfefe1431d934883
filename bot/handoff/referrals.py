"""Referrals: what is handed to a mediator, under a reference code read over the phone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Session

from bot.core.codes import LabelledCode
from bot.core.db import Base, UtcDateTime
from bot.core.pseudonyms import pseudonymise
from bot.core.references import new_reference, normalise_reference
from bot.core.retention_policy import anonymise

# Facts that may travel to a mediator: codes from bot.triage.understanding, never free text.
SHAREABLE_FACTS = ("organisme", "domaine", "demarche", "enjeu", "enjeux", "equipement", "appareil", "souhait",
                   "barriere", "blocage", "besoins", "recurrent", "apprentissage", "debutant", "sujet", "commune",
                   "commune_insee",
                   # who wrote (a relative, a professional) and whether a safety check was asked: no detail
                   "redacteur", "verification_securite",
                   # the deadline's date (ISO, resolved when said), a vital-emergency number given in the same
                   # conversation (True, no detail), the named desk that referred (settings, not the person's words)
                   "echeance", "urgence_vitale", "accueil",
                   # whether a desk left a phone number, mobile ("sms") or landline ("appel"): never the number
                   "contact")


class Status(LabelledCode):
    """Life of a referral (mediator side): ouverte -> prise_en_charge -> cloturee (with an outcome)."""

    OPEN = ("ouverte", "Ouverte")
    CLAIMED = ("prise_en_charge", "Prise en charge")
    CLOSED = ("cloturee", "Clôturée")


class Outcome(LabelledCode):
    """How a closed referral ended."""

    DONE = ("fait", "Fait (démarche réalisée)")
    REDIRECTED = ("reoriente", "Réorientée ailleurs")
    UNREACHABLE = ("injoignable", "Personne injoignable")
    # An erased referral that was still open or claimed: the person withdrew it, no one works on it any more.
    WITHDRAWN = ("retiree", "Retirée (la personne a effacé sa demande)")


# The stored strings, as plain str (what the rest of the code compares and writes).
STATUS_OPEN = Status.OPEN.value
STATUS_CLAIMED = Status.CLAIMED.value
STATUS_CLOSED = Status.CLOSED.value
STATUSES = Status.codes()
OUTCOMES = (Outcome.DONE.value, Outcome.REDIRECTED.value, Outcome.UNREACHABLE.value)  # a mediator's choice
OUTCOME_WITHDRAWN = Outcome.WITHDRAWN.value

# Conversation key of what an erasure leaves for the statistics: never a pseudonym (32 hex digits),
# so no conversation reaches it; the console does not list it.
ERASED_KEY = "efface"
# The facts an erased referral keeps: those bot/handoff/stats.py counts (codes and the commune's public name).
RESIDUE_FACTS = ("organisme", "demarche", "commune", "commune_insee")


class Referral(Base):
    __tablename__ = "referrals"
    __retention__ = anonymise("created_at", "conversation_key", "reference", "the anonymous rest feeds the statistics")

    id = Column(Integer, primary_key=True)
    reference = Column(String(8), unique=True, nullable=False, index=True)
    created_at = Column(UtcDateTime(), nullable=False)
    level = Column(String(32), nullable=False)
    reasons = Column(JSON, nullable=False)
    facts = Column(JSON, nullable=False)
    place_id = Column(String(255), ForeignKey("places.id", ondelete="SET NULL"), nullable=True)
    channel = Column(String(32), nullable=False)
    conversation_key = Column(String(64), nullable=False, index=True)
    consent_at = Column(UtcDateTime(), nullable=False)
    status = Column(String(32), nullable=False, default=STATUS_OPEN)
    # Filled by the mediators' side (issue 4): who claimed it and when, how it ended.
    claimed_at = Column(UtcDateTime(), nullable=True)
    claimed_by = Column(Integer, nullable=True)          # mediator account id
    closed_at = Column(UtcDateTime(), nullable=True)
    outcome = Column(String(32), nullable=True)          # one of OUTCOMES once closed
    updated_at = Column(UtcDateTime(), nullable=True)


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
    """Erase every referral made from this conversation (the person asked to erase); returns how many.

    Each one is deleted, and with it (ON DELETE CASCADE) its sealed contact, follow-up messages, notes,
    live conversation and notifications to the place. A new row takes its place for the anonymous
    statistics only (`anonymous_residue`): under a new id, so the console's audit log, which keeps
    the old id, points at nothing."""
    erased = session.execute(select(Referral).where(Referral.conversation_key == pseudonymise(sender_id))
                             ).scalars().all()
    if not erased:
        return 0
    # Inserted before the deletion: on SQLite a new row would otherwise take back the newest deleted id.
    residues = [anonymous_residue(referral) for referral in erased]
    session.add_all(residues)
    session.flush()
    session.execute(delete(Referral).where(Referral.id.in_([referral.id for referral in erased]))
                    .execution_options(synchronize_session=False))
    for referral in erased:
        session.expunge(referral)
    for residue in residues:
        residue.reference = f"~{residue.id:x}"[:8]  # as a purge does: outside the code alphabet
    session.flush()
    return len(erased)


def anonymous_residue(referral: Referral) -> Referral:
    """What an erased referral leaves: what bot/handoff/stats.py counts, nothing that leads to the person (no
    conversation key, reference, place, reasons, free text, contact or mediator)."""
    facts = referral.facts if isinstance(referral.facts, dict) else {}
    # Until the row has its id: "t" is no hex digit, so no purged or erased reference can equal it.
    return Referral(reference="~t" + secrets.token_hex(3),
                    created_at=referral.created_at, level=referral.level, reasons=[],
                    facts={k: v for k, v in facts.items() if k in RESIDUE_FACTS}, place_id=None,
                    channel=referral.channel, conversation_key=ERASED_KEY, consent_at=referral.created_at,
                    **_final_state(referral))


def _final_state(referral: Referral) -> dict:
    """A residue is never left open or claimed (it would count as work in progress forever): it is
    closed as withdrawn, with no closing time (the erasure is not a mediator's answer)."""
    if referral.status == STATUS_CLOSED:
        return {"status": STATUS_CLOSED, "claimed_at": referral.claimed_at, "closed_at": referral.closed_at,
                "outcome": referral.outcome}
    return {"status": STATUS_CLOSED, "claimed_at": referral.claimed_at, "closed_at": None,
            "outcome": OUTCOME_WITHDRAWN}
