"""What the SMS channel remembers, always under a pseudonymised number (never the number itself)."""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import JSON, Column, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.core.db import Base, UtcDateTime, session_scope, shared_factory
from bot.core.pseudonyms import pseudonymise
from bot.core.retention_policy import keep, older_than
from bot.core.settings import get_settings


def number_key(e164: str) -> str:
    """Keyed hash of an E.164 number; also the Rasa sender id of that person on SMS."""
    return pseudonymise("sms:" + e164)


# How far a message has gone (Twilio's and the JSON gateway's words): a final status is never left.
_STATUS_RANKS = {"accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3,
                 "delivered": 4, "undelivered": 4, "failed": 4, "read": 4, "canceled": 4}


def status_rank(status: Optional[str]) -> int:
    """0 for an unknown status: it never replaces a known one."""
    return _STATUS_RANKS.get((status or "").strip().lower(), 0)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SmsChoices(Base):
    __tablename__ = "sms_choices"
    __retention__ = older_than("updated_at", "numbered choices offered to a number")
    number_key = Column(String(64), primary_key=True)
    choices = Column(JSON, nullable=False)
    updated_at = Column(UtcDateTime(), nullable=False)


class SmsOptOut(Base):
    __tablename__ = "sms_opt_outs"
    __retention__ = keep("a STOP is honoured for as long as we can send SMS")
    number_key = Column(String(64), primary_key=True)
    opted_out_at = Column(UtcDateTime(), nullable=False)


class SmsProcessedMessage(Base):
    __tablename__ = "sms_processed_messages"
    __retention__ = older_than("received_at", "SMS already handled, by gateway id")
    message_id = Column(String(160), primary_key=True)  # "<provider>:<gateway id>"
    received_at = Column(UtcDateTime(), nullable=False)


class SmsDelivery(Base):
    __tablename__ = "sms_deliveries"
    __retention__ = older_than("updated_at", "SMS delivery receipts")
    reference = Column(String(160), primary_key=True)  # our client_ref, or the gateway id
    gateway_id = Column(String(160), nullable=True, index=True)
    status = Column(String(40), nullable=True)
    updated_at = Column(UtcDateTime(), nullable=False)


class SmsStore:
    def __init__(self, factory: sessionmaker):
        self.factory = factory

    # Idempotence on the gateway's message id
    def claim_message(self, message_id: str) -> bool:
        """True the first time a message id is seen, False for a retried webhook."""
        try:
            with session_scope(self.factory) as session:
                session.add(SmsProcessedMessage(message_id=message_id[:160], received_at=_now()))
        except IntegrityError:
            return False
        return True

    # Last numbered choices
    def remember_choices(self, key: str, choices: list[dict]) -> None:
        with session_scope(self.factory) as session:
            row = session.get(SmsChoices, key)
            if not choices:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                session.add(SmsChoices(number_key=key, choices=list(choices), updated_at=_now()))
            else:
                row.choices, row.updated_at = list(choices), _now()

    def last_choices(self, key: str) -> list[dict]:
        with session_scope(self.factory) as session:
            row = session.get(SmsChoices, key)
            return list(row.choices) if row else []

    # Opt-outs (STOP)
    def opt_out(self, key: str) -> bool:
        """Record the opt-out; False if it was already recorded."""
        with session_scope(self.factory) as session:
            if session.get(SmsOptOut, key) is not None:
                return False
            session.add(SmsOptOut(number_key=key, opted_out_at=_now()))
            session.execute(delete(SmsChoices).where(SmsChoices.number_key == key))
        return True

    def is_opted_out(self, key: str) -> bool:
        with session_scope(self.factory) as session:
            return session.get(SmsOptOut, key) is not None

    def lift_opt_out(self, key: str) -> bool:
        with session_scope(self.factory) as session:
            return (session.execute(delete(SmsOptOut).where(SmsOptOut.number_key == key)).rowcount or 0) > 0

    # Delivery reports
    def record_sent(self, reference: str, gateway_id: Optional[str]) -> None:
        with session_scope(self.factory) as session:
            row = session.get(SmsDelivery, reference)
            if row is None:
                session.add(SmsDelivery(reference=reference, gateway_id=gateway_id, status="sent",
                                        updated_at=_now()))
            else:
                row.gateway_id, row.updated_at = gateway_id, _now()

    def record_status(self, reference: str, status: str) -> None:
        """Idempotent, and a status only moves forward: a report replayed or arriving late ("sent"
        after "delivered", "delivered" after "failed") never takes a message back."""
        with session_scope(self.factory) as session:
            row = session.get(SmsDelivery, reference) or session.execute(
                select(SmsDelivery).where(SmsDelivery.gateway_id == reference)).scalars().first()
            if row is None:
                session.add(SmsDelivery(reference=reference, gateway_id=reference, status=status,
                                        updated_at=_now()))
            elif status_rank(status) > status_rank(row.status):
                row.status, row.updated_at = status, _now()

    def delivery_status(self, reference: str) -> Optional[str]:
        with session_scope(self.factory) as session:
            row = session.get(SmsDelivery, reference) or session.execute(
                select(SmsDelivery).where(SmsDelivery.gateway_id == reference)).scalars().first()
            return row.status if row else None


@functools.lru_cache(maxsize=4)
def _store_for(database_url: str) -> SmsStore:
    return SmsStore(shared_factory(database_url))


def default_store() -> SmsStore:
    """The store on AIGUILLAGE_DATABASE_URL, created on first use (never at import time)."""
    return _store_for(get_settings().database_url)
