"""What happens to a referral, kept beside it: mediators' notes and the audit log of actions.

The console writes both (bot/console/service.py); the follow-up writes them too when the person's
"non" reopens a referral (bot/handoff/followup.py). The log keeps codes and place ids only: note texts live
in `notes`, which disappears with the referral when the person asks to be erased, while the
audit rows stay.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Text

from bot.core.codes import LabelledCode
from bot.core.db import Base, UtcDateTime
from bot.core.retention_policy import older_than, with_parent


class Action(LabelledCode):
    """What the audit log (journal_entries) records; a referral's history shows the state changes."""

    VIEW = ("consultation", "Consultation")
    CLAIM = ("prise_en_charge", "Prise en charge")
    NOTE = ("note", "Note")
    REASSIGN = ("reassignation", "Réassignation")
    CLOSE = ("cloture", "Clôture")
    LOGIN = ("connexion", "Connexion")
    LOGOUT = ("deconnexion", "Déconnexion")
    LIVE_START = ("direct_debut", "Discussion en direct commencée")
    LIVE_END = ("direct_fin", "Discussion en direct terminée")
    CALLED_BACK = ("rappel_fait", "Rappel fait")
    # Written by bot.handoff.followup when the person's "non" reopens a referral.
    REOPENED = ("reouverture_suivi", "Rouverte : la personne a répondu NON au suivi")
    # Never logged: the first line of a referral's history, its arrival.
    CREATED = ("creation", "Orientation reçue")


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __retention__ = older_than("at", "the console's audit log: who did what, on which referral")

    id = Column(Integer, primary_key=True)
    at = Column(UtcDateTime(), nullable=False, index=True)
    account_id = Column(Integer, nullable=True, index=True)  # kept even if the account goes
    action = Column(String(32), nullable=False)
    referral_id = Column(Integer, nullable=True, index=True)  # no FK: the audit outlives an erased referral
    place_id = Column(String(255), nullable=True, index=True)  # the referral's place when it happened
    detail = Column(Text, nullable=True)  # codes and place ids only, never free text


class Note(Base):
    __tablename__ = "notes"
    __retention__ = with_parent("referrals", "referral_id", "at", "a mediator's free text about the person")

    id = Column(Integer, primary_key=True)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, nullable=True)
    at = Column(UtcDateTime(), nullable=False)
    text = Column(Text, nullable=False)
