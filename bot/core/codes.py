"""Codes stored as plain strings, each with the French label people read.

A `LabelledCode` member equals its stored string ("ouverte" == Status.OPEN), so rows and comparisons
are unchanged; its `label` is the one text the console and the statistics page show for it. Each set of
codes is defined once, next to the code that owns it, in bot/handoff/: referral statuses and outcomes in
referrals.py, journal actions in journal.py, live messages in takeover.py, follow-up kinds in followup.py, place
notification kinds in notifications/config.py, delay bands in stats.py; here, what several layers name:
channels (connectors, referrals, follow-ups, statistics), the delivery states of the two outboxes (place
notifications, follow-ups) and callback reasons (the helpline's webhook, the callbacks, the console).
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class LabelledCode(str, Enum):
    """`NAME = ("stored_code", "Libellé")`."""

    label: str

    def __new__(cls, code: str, label: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def label_of(cls, code: Any) -> str:
        """The label of a stored code; a code without one (an older row) is shown as it is."""
        try:
            return cls(code).label
        except ValueError:
            return "" if code is None else str(code)

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """The stored strings, in definition order (plain str, for tuples of constants)."""
        return tuple(member.value for member in cls)


class Channel(LabelledCode):
    """Where a person wrote from: the Rasa input channel's name, stored on the referral."""

    DESK = ("desk", "Accueil (borne/page)")
    SMS = ("sms", "SMS")
    TELEGRAM = ("telegram", "Telegram")
    HELPLINE = ("helpline", "Ligne d'aide téléphonique")
    VOICE = ("voice", "Appel téléphonique (menu vocal)")


class DeliveryState(LabelledCode):
    """A message in an outbox: a place's notification (bot/handoff/notifications/outbox.py) or a follow-up to the
    person (bot/handoff/followup.py)."""

    PENDING = ("en_attente", "en attente")
    SENT = ("envoye", "envoyé")
    FAILED = ("echec", "échec")
    CANCELLED = ("annule", "annulé")  # follow-ups only

class CallbackReason(LabelledCode):
    """Why someone is to be called back: the telephony webhook sends the first two, the SMS conversation the third."""

    MISSED = ("missed", "Appel manqué")
    AFTER_HOURS = ("after_hours", "Hors horaires")
    ASKED = ("demande", "Demande de rappel (SMS)")  # the person asked a place to call back (SMS conversation)
    DESK = ("accueil", "Demande de rappel (accueil)")  # a desk left the person's number and asked for a call
    VOICE = ("vocal", "Demande de rappel (appel téléphonique)")  # asked on the voice menu (bot/handoff/voice/)
