"""Live takeover: during its opening hours, a mediator of the place answers the person directly.

While a takeover is active, the person's messages skip Rasa (the conversation and its slots stay
as they were) and are kept here for the console; the mediator's messages go to the person through
their own channel (SMS or Telegram), read from the sealed follow-up contact at sending time. The
person is told when it starts and when it ends; it ends when the mediator releases it, when the
place closes, when the referral is closed, or when the person writes STOP (erasure).

Tables hang off `referrals` with ON DELETE CASCADE: erasing or purging a referral erases its
live messages. French texts: `utter_direct_*` in domain/responses_suivi.yml.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Optional

from sqlalchemy import Column, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.codes import LabelledCode
from bot.core.db import Base, UtcDateTime, session_scope
from bot.core.messages import text as render
from bot.core.moments import utc
from bot.core.privacy import redact
from bot.core.retention_policy import with_parent
from bot.directory import hours
from bot.directory.models import Place
from bot.handoff import followup
from bot.handoff.referrals import STATUS_CLOSED, Referral

logger = logging.getLogger(__name__)


class Sender(LabelledCode):
    """Who wrote a live message."""

    PERSON = ("personne", "La personne")
    MEDIATOR = ("mediateur", "Médiateur")
    SYSTEM = ("systeme", "Message automatique d'Aiguillage")  # what Aiguillage itself told the person (start, end)


class MessageState(LabelledCode):
    """Where a live message is: sent to the person (or not yet, or failed), or received from them."""

    SENT = ("envoye", "envoyé")
    FAILED = ("echec", "non envoyé")
    TO_SEND = ("a_envoyer", "envoi en cours")
    RECEIVED = ("recu", "reçu")


FROM_PERSON = Sender.PERSON.value
FROM_MEDIATOR = Sender.MEDIATOR.value
FROM_SYSTEM = Sender.SYSTEM.value

SENT = MessageState.SENT.value
FAILED = MessageState.FAILED.value
TO_SEND = MessageState.TO_SEND.value
RECEIVED = MessageState.RECEIVED.value

END_RELEASED = "rendue"
END_PLACE_CLOSED = "fermeture"
END_REFERRAL_CLOSED = "cloturee"

# Refusal codes (the console turns them into sentences).
NO_CHANNEL = "direct_sans_canal"
REFERRAL_CLOSED = "direct_cloturee"
ALREADY_LIVE = "direct_deja_en_cours"
PLACE_CLOSED = "direct_lieu_ferme"
HOURS_UNKNOWN = "direct_horaires_inconnus"
NOT_LIVE = "direct_termine"
EMPTY = "direct_message_vide"
TOO_LONG = "direct_message_trop_long"
NOT_OF_PLACE = "direct_autre_lieu"

MAX_MESSAGE_CHARS = 1000  # about 6 SMS segments: a mediator's answer, not a letter
# When the place's hours give no closing time (open 24/7), a takeover still ends by itself.
MAX_DURATION = timedelta(hours=4)


class TakeoverError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Takeover(Base):
    __tablename__ = "takeovers"
    __retention__ = with_parent("referrals", "referral_id", "started_at", "a mediator's live conversation")

    id = Column(Integer, primary_key=True)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_key = Column(String(64), nullable=False, index=True)
    # Equals conversation_key while active, NULL after: a unique column makes two concurrent
    # takeovers of one conversation impossible (NULLs never collide).
    active_key = Column(String(64), nullable=True, unique=True)
    account_id = Column(Integer, nullable=True)
    started_at = Column(UtcDateTime(), nullable=False)
    ends_at = Column(UtcDateTime(), nullable=False)
    ended_at = Column(UtcDateTime(), nullable=True)
    end_reason = Column(String(16), nullable=True)
    ended_by = Column(Integer, nullable=True)


class LiveMessage(Base):
    __tablename__ = "live_messages"
    __retention__ = with_parent("referrals", "referral_id", "at", "the live conversation's text")

    id = Column(Integer, primary_key=True)
    takeover_id = Column(Integer, ForeignKey("takeovers.id", ondelete="CASCADE"), nullable=False, index=True)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False, index=True)
    direction = Column(String(16), nullable=False)
    account_id = Column(Integer, nullable=True)
    text = Column(Text, nullable=False)  # already redacted (no password, NIR, IBAN, card number)
    at = Column(UtcDateTime(), nullable=False)
    status = Column(String(16), nullable=False)
    error = Column(Text, nullable=True)




# --------------------------------------------------------------------------------------------------
# Can a mediator take over now?
# --------------------------------------------------------------------------------------------------

@dataclass
class Availability:
    possible: bool
    reason: Optional[str] = None  # refusal code when not possible
    ends_at: Optional[datetime] = None  # when a takeover started now would end
    opens_at: Optional[datetime] = None  # next opening, when the place is closed


def _place(session: Session, referral: Referral):
    if not referral.place_id:
        return None

    return session.get(Place, referral.place_id)


def availability(session: Session, referral: Referral, now: Optional[datetime] = None) -> Availability:
    now = utc(now)
    contact = followup.contact_for(session, referral.id)
    # A number left at a desk gets notices, not a live talk: the person's replies would come from
    # another conversation (their SMS one) than the referral's.
    if contact is None or contact.channel not in followup.CHANNELS or referral.channel not in followup.CHANNELS:
        return Availability(False, NO_CHANNEL)
    if referral.status == STATUS_CLOSED:
        return Availability(False, REFERRAL_CLOSED)
    if active_for_referral(session, referral.id, now) is not None:
        return Availability(False, ALREADY_LIVE)
    place = _place(session, referral)
    status = hours.opening_status(place.horaires if place is not None else None, now)
    if status is None:
        return Availability(False, HOURS_UNKNOWN)
    if not status.open_now:
        return Availability(False, PLACE_CLOSED, opens_at=status.next_opening)
    closes = status.closes_at
    ends = closes if closes is not None else now + MAX_DURATION
    return Availability(True, ends_at=utc(ends))


def _expired(takeover: Takeover, now: datetime) -> bool:
    return takeover.ends_at <= now


def active_for_referral(session: Session, referral_id: int, now: Optional[datetime] = None) -> Optional[Takeover]:
    """The takeover in progress (an expired one is not: it ends at the next message or page view)."""
    takeover = session.execute(select(Takeover).where(Takeover.referral_id == referral_id,
                                                      Takeover.ended_at.is_(None))).scalar_one_or_none()
    return takeover if takeover is not None and not _expired(takeover, utc(now)) else None


def latest_for_referral(session: Session, referral_id: int) -> Optional[Takeover]:
    return session.execute(select(Takeover).where(Takeover.referral_id == referral_id)
                           .order_by(Takeover.started_at.desc(), Takeover.id.desc()).limit(1)).scalar_one_or_none()


# --------------------------------------------------------------------------------------------------
# Start, messages, end
# --------------------------------------------------------------------------------------------------

def _notice(key: str, session: Session, referral: Referral) -> str:
    place = _place(session, referral)
    return render(key, lieu=place.nom if place is not None else "", reference=referral.reference)


def _system_message(session: Session, takeover: Takeover, key: str, referral: Referral, now: datetime
                    ) -> LiveMessage:
    message = LiveMessage(takeover_id=takeover.id, referral_id=referral.id, direction=FROM_SYSTEM,
                          text=_notice(key, session, referral), at=now, status=TO_SEND)
    session.add(message)
    session.flush()
    return message


def start(session: Session, referral: Referral, account_id: Optional[int], now: Optional[datetime] = None
          ) -> tuple[Takeover, LiveMessage]:
    """Pause the bot for this person; returns the takeover and the notice to send them."""
    now = utc(now)
    _end_expired(session, referral, now)
    found = availability(session, referral, now)
    if not found.possible:
        raise TakeoverError(found.reason)
    takeover = Takeover(referral_id=referral.id, conversation_key=referral.conversation_key,
                        active_key=referral.conversation_key, account_id=account_id, started_at=now,
                        ends_at=found.ends_at)
    try:
        with session.begin_nested():
            session.add(takeover)
            session.flush()
    except IntegrityError:
        raise TakeoverError(ALREADY_LIVE) from None
    return takeover, _system_message(session, takeover, "utter_direct_debut", referral, now)


def _end(session: Session, takeover: Takeover, reason: str, account_id: Optional[int], now: datetime
         ) -> Optional[LiveMessage]:
    done = session.execute(update(Takeover).where(Takeover.id == takeover.id, Takeover.ended_at.is_(None))
                           .values(ended_at=now, end_reason=reason, ended_by=account_id, active_key=None)
                           .execution_options(synchronize_session=False))
    session.refresh(takeover)
    if not done.rowcount:
        return None  # someone else ended it first: the person was told once
    referral = session.get(Referral, takeover.referral_id)
    key = "utter_direct_fin_fermeture" if reason == END_PLACE_CLOSED else "utter_direct_fin"
    return _system_message(session, takeover, key, referral, now)


def release(session: Session, referral: Referral, account_id: Optional[int], now: Optional[datetime] = None,
            reason: str = END_RELEASED) -> Optional[LiveMessage]:
    """Give the conversation back to the bot; returns the notice to send (None if it was not live)."""
    now = utc(now)
    takeover = session.execute(select(Takeover).where(Takeover.referral_id == referral.id,
                                                      Takeover.ended_at.is_(None))).scalar_one_or_none()
    if takeover is None:
        return None
    if _expired(takeover, now):
        reason = END_PLACE_CLOSED
    return _end(session, takeover, reason, account_id, now)


def _end_expired(session: Session, referral: Referral, now: datetime) -> Optional[LiveMessage]:
    takeover = session.execute(select(Takeover).where(Takeover.referral_id == referral.id,
                                                      Takeover.ended_at.is_(None))).scalar_one_or_none()
    if takeover is not None and _expired(takeover, now):
        return _end(session, takeover, END_PLACE_CLOSED, None, now)
    return None


def end_expired(session: Session, referral: Referral, now: Optional[datetime] = None) -> Optional[LiveMessage]:
    """End a takeover whose place has closed; returns the notice to send, if one ended."""
    return _end_expired(session, referral, utc(now))


def post(session: Session, referral: Referral, account_id: Optional[int], text: str,
         now: Optional[datetime] = None) -> tuple[LiveMessage, str]:
    """A mediator's message, recorded before sending (status `a_envoyer`); returns it and the text
    to send (as typed; only the stored copy is redacted)."""

    now = utc(now)
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise TakeoverError(EMPTY)
    if len(body) > MAX_MESSAGE_CHARS:
        raise TakeoverError(TOO_LONG)
    takeover = active_for_referral(session, referral.id, now)
    if takeover is None:
        raise TakeoverError(NOT_LIVE)

    place = _place(session, referral)
    # The person must see who writes: the place's name comes first.
    outgoing = render("utter_direct_message", lieu=place.nom if place is not None else "", texte=body)
    message = LiveMessage(takeover_id=takeover.id, referral_id=referral.id, direction=FROM_MEDIATOR,
                          account_id=account_id, text=redact(outgoing).text, at=now, status=TO_SEND)
    session.add(message)
    session.flush()
    return message, outgoing


def record_from_person(session: Session, takeover: Takeover, text: str, now: Optional[datetime] = None
                       ) -> LiveMessage:
    message = LiveMessage(takeover_id=takeover.id, referral_id=takeover.referral_id, direction=FROM_PERSON,
                          text=text or "", at=utc(now), status=RECEIVED)
    session.add(message)
    session.flush()
    return message


def unsent(session: Session, referral_id: int) -> list[int]:
    """Ids of recorded messages still to send for this referral, oldest first."""
    return list(session.execute(select(LiveMessage.id).where(LiveMessage.referral_id == referral_id,
                                                             LiveMessage.status == TO_SEND)
                                .order_by(LiveMessage.id)).scalars())


def messages_of(session: Session, takeover_id: int, after_id: int = 0) -> list[LiveMessage]:
    return list(session.execute(select(LiveMessage).where(LiveMessage.takeover_id == takeover_id,
                                                          LiveMessage.id > after_id)
                                .order_by(LiveMessage.id)).scalars())


def active_for_conversation(session: Session, conversation_key: str) -> Optional[Takeover]:
    return session.execute(select(Takeover).where(Takeover.active_key == conversation_key)).scalar_one_or_none()


# --------------------------------------------------------------------------------------------------
# Sending to the person
# --------------------------------------------------------------------------------------------------

async def deliver(factory: sessionmaker, message_id: int, senders: Mapping, text: Optional[str] = None) -> str:
    """Send one recorded message through the person's channel; returns its new status.

    `text` overrides the stored (redacted) copy, for a mediator's message sent as typed."""

    with session_scope(factory) as session:
        message = session.get(LiveMessage, message_id)
        if message is None:
            return FAILED
        contact = followup.contact_for(session, message.referral_id)
        body = text if text is not None else message.text
        channel = contact.channel if contact is not None else None
        address = followup.unseal(contact.sealed_address) if contact is not None else None
    error: Optional[str] = None
    if channel is None or channel not in senders:
        error = "canal non configuré" if channel is not None else "aucun contact"
    else:
        try:
            await senders[channel](address, body)
        except Exception as exc:  # provider error: shown to the mediator, who may write again
            error = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("live message %s not sent: %s", message_id, type(exc).__name__)
    with session_scope(factory) as session:
        message = session.get(LiveMessage, message_id)
        if message is None:
            return FAILED
        message.status, message.error = (FAILED, error) if error else (SENT, None)
        return message.status
