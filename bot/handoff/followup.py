"""Messages to the person after a referral: "taken in charge", "closed", and a later "did it work?".

The person's address (phone number or Telegram chat id) is kept only with their consent, only for a
referral made on SMS or Telegram, and only encrypted (`followup_contacts`). A desk referral has one only
when the desk left the person's phone number with their separate consent (bot/handoff/desk_contact.py):
a mobile gets the same SMS, a landline (CHANNEL_CALL) none; otherwise the person holds the printed slip.

Messages go through an outbox (`followup_messages`) written in the same transaction as the status
change. `deliver_due` claims a due row by pushing its `due_at` forward (a lease: a crashed worker's
row comes back later), sends outside any transaction, then records the result with backoff.
Delivery is at least once. Everything hangs off `referrals.id` with ON DELETE CASCADE, so
erasing a person's referrals erases their contact and messages.

French texts live in `domain/responses_suivi.yml` (keys `utter_suivi_*`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping, Optional

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.sms.providers import OptedOut
from bot.core.codes import Channel, DeliveryState, LabelledCode
from bot.core.crypto import sealer
from bot.core.db import Base, UtcDateTime, session_scope
from bot.core.messages import text as render_text
from bot.core.moments import utc
from bot.core.retention_policy import with_parent
from bot.core.settings import setting
from bot.core.text import normalize
from bot.directory.models import Place
from bot.handoff.journal import Action, JournalEntry, Note
from bot.handoff.referrals import STATUS_CLAIMED, STATUS_CLOSED, STATUS_OPEN, Referral

logger = logging.getLogger(__name__)

CHANNEL_SMS = Channel.SMS.value
CHANNEL_TELEGRAM = Channel.TELEGRAM.value
CHANNELS = (CHANNEL_SMS, CHANNEL_TELEGRAM)
# A landline left at a desk: the place may call it, no message can be sent to it.
CHANNEL_CALL = "appel"


class Kind(LabelledCode):
    """What a follow-up message tells the person."""

    CLAIMED = ("prise_en_charge", "Prise en charge")
    CLOSED = ("cloture", "Clôture")
    FOLLOWUP = ("relance", "« Est-ce réglé ? »")


KIND_CLAIMED = Kind.CLAIMED.value
KIND_CLOSED = Kind.CLOSED.value
KIND_FOLLOWUP = Kind.FOLLOWUP.value
KINDS = Kind.codes()

STATUS_PENDING = DeliveryState.PENDING.value
STATUS_SENT = DeliveryState.SENT.value
STATUS_FAILED = DeliveryState.FAILED.value
STATUS_CANCELLED = DeliveryState.CANCELLED.value
STATUSES = (STATUS_PENDING, STATUS_SENT, STATUS_FAILED, STATUS_CANCELLED)

ANSWER_YES = "oui"
ANSWER_NO = "non"

# Only these outcomes are worth asking "did it work?" ("injoignable": we could not reach them).
FOLLOWUP_OUTCOMES = ("fait", "reoriente")
DEFAULT_FOLLOWUP_DAYS = 7
# A yes/no is read as an answer to the follow-up only this long after it was sent.
REPLY_WINDOW = timedelta(days=14)

MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
LEASE = timedelta(minutes=5)  # a claimed row comes back after this if its worker died

_FERNET_INFO = b"aiguillage/followup/contact/fernet/v1"

Sender = Callable[[str, str], Awaitable[object]]


def followup_days(env: Optional[Mapping[str, str]] = None) -> int:
    """AIGUILLAGE_FOLLOWUP_DAYS (default 7, see bot/core/settings.py)."""
    return setting("AIGUILLAGE_FOLLOWUP_DAYS", env)


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

class Contact(Base):
    __tablename__ = "followup_contacts"
    __retention__ = with_parent("referrals", "referral_id", "created_at", "the sealed contact for the follow-up")

    id = Column(Integer, primary_key=True)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False,
                         unique=True, index=True)
    channel = Column(String(16), nullable=False)
    sealed_address = Column(Text, nullable=False)  # Fernet token, never the address itself
    created_at = Column(UtcDateTime(), nullable=False)
    # Left at a desk only: the first name the person chose to give (sealed too), and the keyed pseudonym of
    # the SMS conversation of that number, so that a reply to "est-ce réglé ?" finds the desk referral.
    sealed_first_name = Column(Text, nullable=True)
    address_key = Column(String(64), nullable=True, index=True)


class FollowupMessage(Base):
    __tablename__ = "followup_messages"
    __retention__ = with_parent("referrals", "referral_id", "created_at", "follow-up messages to the person")

    id = Column(Integer, primary_key=True)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    due_at = Column(UtcDateTime(), nullable=False)
    status = Column(String(16), nullable=False, default=STATUS_PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    sent_at = Column(UtcDateTime(), nullable=True)
    created_at = Column(UtcDateTime(), nullable=False)
    # For a "relance": the person's answer (oui/non) and when.
    answer = Column(String(8), nullable=True)
    answered_at = Column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_followup_messages_due", "status", "due_at"),)




# --------------------------------------------------------------------------------------------------
# Sealed contact
# --------------------------------------------------------------------------------------------------



def seal(address: str) -> str:
    return sealer(_FERNET_INFO).encrypt(address.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    return sealer(_FERNET_INFO).decrypt(sealed.encode("ascii")).decode("utf-8")


def remember_contact(session: Session, referral: Referral, channel: str, address,
                     now: Optional[datetime] = None) -> Optional[Contact]:
    """Keep the person's address for this referral (call it when they consent, in the referral's session).

    `address`: E.164 number for SMS, chat id for Telegram. Returns None (stores nothing) for a desk or
    helpline referral, or an empty address. A second call replaces the address."""
    if channel not in CHANNELS or referral.channel not in CHANNELS:
        return None
    address = str(address).strip() if address is not None else ""
    if not address:
        return None
    if referral.id is None:
        session.flush()
    now = utc(now)
    contact = session.execute(select(Contact).where(Contact.referral_id == referral.id)).scalar_one_or_none()
    if contact is None:
        contact = Contact(referral_id=referral.id, channel=channel, sealed_address=seal(address), created_at=now)
        session.add(contact)
    else:
        contact.channel, contact.sealed_address, contact.created_at = channel, seal(address), now
    session.flush()
    return contact


def contact_for(session: Session, referral_id: int) -> Optional[Contact]:
    return session.execute(select(Contact).where(Contact.referral_id == referral_id)).scalar_one_or_none()


# --------------------------------------------------------------------------------------------------
# Enqueueing, in the status change's transaction
# --------------------------------------------------------------------------------------------------

def _cancel_pending(session: Session, referral_id: int, kinds: tuple) -> None:
    session.execute(update(FollowupMessage)
                    .where(FollowupMessage.referral_id == referral_id, FollowupMessage.kind.in_(kinds),
                           FollowupMessage.status == STATUS_PENDING)
                    .values(status=STATUS_CANCELLED).execution_options(synchronize_session=False))


def cancel_pending(session: Session, referral_id: int) -> None:
    """Nothing can reach the person any more (a desk replaced a mobile by a landline): what waits is cancelled."""
    _cancel_pending(session, referral_id, KINDS)


def on_status_change(session: Session, referral: Referral, now: Optional[datetime] = None,
                     days: Optional[int] = None) -> list[FollowupMessage]:
    """Queue what the person must hear about the referral's new status (nothing without a contact).

    claimed -> "prise en charge" now; closed -> "clôture" now, and for `fait`/`reoriente` a "relance"
    `days` later (AIGUILLAGE_FOLLOWUP_DAYS); back to open -> a pending relance is cancelled."""
    now = utc(now)
    # Any change supersedes an earlier "did it work?" still waiting (reopened, closed again...).
    _cancel_pending(session, referral.id, (KIND_FOLLOWUP,))
    contact = contact_for(session, referral.id)
    if contact is None or contact.channel not in CHANNELS:  # none, or a landline: calls only
        return []
    planned: list[tuple[str, datetime]] = []
    if referral.status == STATUS_CLAIMED:
        planned.append((KIND_CLAIMED, now))
    elif referral.status == STATUS_CLOSED:
        planned.append((KIND_CLOSED, now))
        if referral.outcome in FOLLOWUP_OUTCOMES:
            planned.append((KIND_FOLLOWUP, now + timedelta(days=followup_days() if days is None else days)))
    added = [FollowupMessage(referral_id=referral.id, kind=kind, due_at=due, status=STATUS_PENDING, attempts=0,
                             created_at=now) for kind, due in planned]
    session.add_all(added)
    session.flush()
    return added


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

def render(kind: str, referral: Referral, place_name: Optional[str] = None) -> str:
    """The French text for a message (codes and the place's public name only, nothing personal)."""
    if kind == KIND_CLOSED:
        key = f"utter_suivi_cloture_{referral.outcome or 'fait'}"
    elif kind == KIND_FOLLOWUP:
        key = "utter_suivi_relance"
    else:
        key = "utter_suivi_prise_en_charge" if place_name else "utter_suivi_prise_en_charge_sans_lieu"
    return render_text(key, reference=referral.reference, lieu=place_name or "")


def _place_name(session: Session, referral: Referral) -> Optional[str]:
    if not referral.place_id:
        return None

    place = session.get(Place, referral.place_id)
    return place.nom if place is not None else None


# --------------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0


def _backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _permanent(exc: BaseException) -> bool:
    if getattr(exc, "permanent", False):
        return True
    return isinstance(exc, OptedOut)


def _claim(factory: sessionmaker, message_id: int, now: datetime):
    """Lease one due row; returns (channel, address, text) to send, or a status code if it must not go."""
    with session_scope(factory) as session:
        result = session.execute(
            update(FollowupMessage)
            .where(FollowupMessage.id == message_id, FollowupMessage.status == STATUS_PENDING,
                   FollowupMessage.due_at <= now)
            .values(due_at=now + LEASE).execution_options(synchronize_session=False))
        if not result.rowcount:
            return None  # another worker has it
        message = session.get(FollowupMessage, message_id)
        referral = session.get(Referral, message.referral_id)
        contact = contact_for(session, message.referral_id)
        stale = (message.kind == KIND_FOLLOWUP
                 and (referral.status != STATUS_CLOSED or referral.outcome not in FOLLOWUP_OUTCOMES))
        if contact is None or stale:
            message.status = STATUS_CANCELLED
            return STATUS_CANCELLED
        return contact.channel, unseal(contact.sealed_address), render(message.kind, referral,
                                                                       _place_name(session, referral))


def _record(factory: sessionmaker, message_id: int, now: datetime, error: Optional[BaseException]) -> str:
    with session_scope(factory) as session:
        message = session.get(FollowupMessage, message_id)
        if message is None:  # erased meanwhile
            return STATUS_CANCELLED
        message.attempts = (message.attempts or 0) + 1
        if error is None:
            message.status, message.sent_at, message.last_error = STATUS_SENT, now, None
        else:
            # Error class and message only: providers do not echo the number back.
            message.last_error = f"{type(error).__name__}: {error}"[:500]
            if _permanent(error) or message.attempts >= MAX_ATTEMPTS:
                message.status = STATUS_FAILED
            else:
                message.due_at = now + _backoff(message.attempts)
        return message.status


async def deliver_due(factory: sessionmaker, senders: Mapping[str, Sender], now: Optional[datetime] = None,
                      limit: int = 100) -> DeliveryReport:
    """Send every due message once (call it periodically). `senders`: channel -> async (address, text).

    A failure is retried later with backoff (1 min, 5 min, 30 min, 2 h...) up to MAX_ATTEMPTS, then
    the row is marked `echec`. A channel without a sender is left pending (configuration is missing)."""
    now = utc(now)
    report = DeliveryReport()
    with session_scope(factory) as session:
        ids = list(session.execute(
            select(FollowupMessage.id)
            .where(FollowupMessage.status == STATUS_PENDING, FollowupMessage.due_at <= now)
            .order_by(FollowupMessage.due_at, FollowupMessage.id).limit(limit)).scalars())
        channels = dict(session.execute(
            select(FollowupMessage.id, Contact.channel)
            .join(Contact, Contact.referral_id == FollowupMessage.referral_id)
            .where(FollowupMessage.id.in_(ids))).all()) if ids else {}
    for message_id in ids:
        if channels.get(message_id) is not None and channels[message_id] not in senders:
            continue  # no sender configured for this channel yet: keep it for later
        claimed = _claim(factory, message_id, now)
        if claimed is None:
            continue
        if claimed == STATUS_CANCELLED:
            report.cancelled += 1
            continue
        channel, address, body = claimed
        error: Optional[BaseException] = None
        try:
            await senders[channel](address, body)
        except Exception as exc:  # any provider error: recorded, retried
            error = exc
            logger.warning("follow-up message %s not sent: %s", message_id, type(exc).__name__)
        status = _record(factory, message_id, now, error)
        if status == STATUS_SENT:
            report.sent += 1
        elif status == STATUS_FAILED:
            report.failed += 1
        elif status == STATUS_PENDING:
            report.retried += 1
    return report


# --------------------------------------------------------------------------------------------------
# Replies to the follow-up
# --------------------------------------------------------------------------------------------------

_YES_WORDS = ("oui", "ouais", "ouai", "yes", "ok", "okay", "daccord", "bien", "super", "parfait", "merci")
_NO_WORDS = ("non", "nan", "no", "nope", "pas")
_NO_PHRASES = ("toujours pas", "pas encore", "pas marche", "ca n a pas", "n a pas marche", "pas regle",
               "pas du tout", "ca ne marche pas", "rien n a", "toujours bloque")


def parse_answer(text: str) -> Optional[str]:
    """ANSWER_YES, ANSWER_NO or None, tolerant of typos ("nn", "nom", "ouii", "Oui merci")."""
    from rapidfuzz.distance import OSA


    words = normalize(text or "").split()
    if not words:
        return None
    joined = " ".join(words)
    if any(phrase in joined for phrase in _NO_PHRASES):
        return ANSWER_NO
    first = words[0]
    if first in ("oui", "non"):
        return first
    if first in _YES_WORDS:
        return ANSWER_YES
    if first in _NO_WORDS or first in ("nn", "nnon", "nonn"):
        return ANSWER_NO
    if len(first) <= 5:
        yes, no = OSA.distance(first, "oui"), OSA.distance(first, "non")
        if yes <= 1 < no:
            return ANSWER_YES
        if no <= 1 < yes:
            return ANSWER_NO
    return None


def pending_followup(session: Session, conversation_key: str, now: Optional[datetime] = None
                     ) -> Optional[FollowupMessage]:
    """The latest follow-up sent to this conversation, still unanswered and recent enough."""
    now = utc(now)
    return session.execute(
        select(FollowupMessage)
        .join(Referral, Referral.id == FollowupMessage.referral_id)
        .outerjoin(Contact, Contact.referral_id == FollowupMessage.referral_id)
        # The SMS conversation of a number left at a desk answers for the desk referral.
        .where(or_(Referral.conversation_key == conversation_key, Contact.address_key == conversation_key),
               FollowupMessage.kind == KIND_FOLLOWUP,
               FollowupMessage.status == STATUS_SENT, FollowupMessage.answer.is_(None),
               FollowupMessage.sent_at >= now - REPLY_WINDOW)
        .order_by(FollowupMessage.sent_at.desc(), FollowupMessage.id.desc()).limit(1)).scalar_one_or_none()


def handle_reply(session: Session, conversation_key: str, text: str, now: Optional[datetime] = None
                 ) -> Optional[str]:
    """If `text` answers a pending follow-up, act on it and return the French acknowledgement to send.

    `conversation_key` is `Referral.conversation_key` (i.e. `pseudonymise(<Rasa sender id>)`).
    "non" reopens the referral for its place (status `ouverte`, closing cleared, a note and an audit
    entry); "oui" closes the loop. Returns None when there is nothing to answer: the text then goes to
    the ordinary conversation."""
    now = utc(now)
    message = pending_followup(session, conversation_key, now)
    if message is None:
        return None
    answer = parse_answer(text)
    if answer is None:
        return None

    referral = session.get(Referral, message.referral_id)
    message.answer, message.answered_at = answer, now
    if answer == ANSWER_YES:
        session.flush()
        return render_text("utter_suivi_reponse_oui", reference=referral.reference)
    _reopen(session, referral, now)
    return render_text("utter_suivi_reponse_non", reference=referral.reference)


def _reopen(session: Session, referral: Referral, now: datetime) -> None:
    if referral.status == STATUS_CLOSED:
        session.execute(update(Referral).where(Referral.id == referral.id, Referral.status == STATUS_CLOSED)
                        .values(status=STATUS_OPEN, closed_at=None, outcome=None, claimed_at=None,
                                claimed_by=None, updated_at=now)
                        .execution_options(synchronize_session=False))
        session.refresh(referral)
    # Visible to the place's mediators on the referral page, and in the audit log (codes only there).
    session.add(Note(referral_id=referral.id, account_id=None, at=now,
                     text=render_text("utter_suivi_note_reouverture")))
    session.add(JournalEntry(at=now, account_id=None, action=Action.REOPENED.value, referral_id=referral.id,
                             place_id=referral.place_id, detail=ANSWER_NO))
    session.flush()
