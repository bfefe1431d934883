"""After-hours helpline: a missed call becomes an SMS that opens the triage and a callback request.

The helpline's telephony system posts a signed JSON webhook for each missed or after-hours call
(see docs/channels.md; its signature and payload: bot/channels/helpline_webhook.py). This module
holds the rest, none of it Rasa's: settings, the opening-hours decision, the idempotent handling of one
call (one callback row and at most one SMS per call, even under concurrent deliveries) and the
`callbacks` table the mediators work from.

Caller numbers are stored encrypted (Fernet, key derived from `bot.core.settings.secret_key()` with
HKDF-SHA256) because the helpline must be able to call back; `due_callbacks` is the only place
that decrypts them. The keyed pseudonym `pseudonymise("sms:" + E.164)` joins a callback with the
SMS conversation without decrypting anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional, Protocol

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.helpline_webhook import MissedCall, call_key
from bot.channels.sms.providers import build_sender
from bot.core.codes import CallbackReason
from bot.core.crypto import sealer
from bot.core.db import Base, UtcDateTime
from bot.core.messages import text
from bot.core.moments import to_paris, utc
from bot.core.pseudonyms import pseudonymise
from bot.core.retention_policy import older_than
from bot.core.settings import REGISTRY, get_settings, setting
from bot.directory.hours import format_time, is_valid, listed_names, next_opening, opening_status
from bot.directory.models import Place
from bot.handoff.referrals import Referral

logger = logging.getLogger(__name__)

DEFAULT_HOURS = REGISTRY["AIGUILLAGE_HELPLINE_HOURS"].default




OUTCOME_OPEN = "ouvert"
OUTCOME_CALLBACK = "rappel_programme"

STATUS_TO_CALL = "a_rappeler"
STATUS_CALLED_BACK = "rappele"

# SMS state of a callback row.
SMS_PENDING = "en_cours"
SMS_SENT = "envoye"
SMS_FAILED = "echec"
SMS_IMPOSSIBLE = "impossible"  # landline caller: no SMS can reach them, the callback still stands
MAX_SMS_ATTEMPTS = 2  # the first delivery, plus one try on a later repeat of the same webhook
# A send "in progress" for longer than this is taken as lost (process died mid-send).
SMS_STALE_AFTER = timedelta(minutes=2)
# How long a duplicate delivery waits for the first one's SMS outcome, to answer the same result.
DUPLICATE_WAIT_SECONDS = 10.0

_FERNET_INFO = b"aiguillage/helpline/caller-number/fernet/v1"


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HelplineSettings:
    secret: Optional[str]
    hours: str
    name: str
    phone: str
    # The place whose mediators call back (its console lists the callbacks); None: the coordinators.
    place_id: Optional[str] = None

    @property
    def configured(self) -> bool:
        return bool(self.secret)


def load_settings() -> HelplineSettings:
    """AIGUILLAGE_HELPLINE_SECRET (required to accept calls), AIGUILLAGE_HELPLINE_HOURS (OSM syntax);
    name and phone from bot.core.settings (AIGUILLAGE_HELPLINE_NAME / AIGUILLAGE_HELPLINE_PHONE)."""

    settings = get_settings()
    secret = setting("AIGUILLAGE_HELPLINE_SECRET")
    hours = setting("AIGUILLAGE_HELPLINE_HOURS")
    place_id = setting("AIGUILLAGE_HELPLINE_PLACE_ID")
    return HelplineSettings(secret=secret, hours=hours, name=settings.helpline_name, phone=settings.helpline_phone,
                            place_id=place_id)


# --------------------------------------------------------------------------------------------------
# Encryption of the caller's number
# --------------------------------------------------------------------------------------------------



def encrypt_number(e164: str) -> bytes:
    return sealer(_FERNET_INFO).encrypt(e164.encode("utf-8"))


def decrypt_number(token: bytes) -> str:
    return sealer(_FERNET_INFO).decrypt(bytes(token)).decode("utf-8")


def caller_pseudonym(e164: str) -> str:
    """Same pseudonym as the SMS channel's sender id, to join the callback with the conversation."""
    return pseudonymise("sms:" + e164)


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

class HelplineCall(Base):
    """Idempotency key of every call received, open hours or not; no personal data."""

    __tablename__ = "helpline_calls"
    __retention__ = older_than("received_at", "calls to the helpline: a caller's number")

    id = Column(Integer, primary_key=True)
    call_key = Column(String(64), unique=True, nullable=False)
    outcome = Column(String(32), nullable=False)
    received_at = Column(UtcDateTime(), nullable=False)


class Callback(Base):
    """A callback the helpline owes someone who called while it was closed."""

    __tablename__ = "callbacks"
    __retention__ = older_than("created_at", "callbacks owed to a caller")

    id = Column(Integer, primary_key=True)
    call_key = Column(String(64), unique=True, nullable=False)
    caller_encrypted = Column(LargeBinary, nullable=False)
    caller_pseudonym = Column(String(64), nullable=False, index=True)
    called_at = Column(UtcDateTime(), nullable=False)
    due_at = Column(UtcDateTime(), nullable=False, index=True)
    status = Column(String(32), nullable=False, default=STATUS_TO_CALL)
    created_at = Column(UtcDateTime(), nullable=False)
    reason = Column(String(16), nullable=False)
    sms_state = Column(String(16), nullable=False)
    sms_attempts = Column(Integer, nullable=False, default=0)
    sms_updated_at = Column(UtcDateTime(), nullable=False)
    sms_message_id = Column(String(128), nullable=True)
    place_id = Column(String(255), nullable=True, index=True)  # who calls back; None: the coordinators
    done_at = Column(UtcDateTime(), nullable=True)
    done_by = Column(Integer, nullable=True)
    # A callback a desk asked for with a referral (bot/handoff/desk_contact.py): it goes with the referral.
    referral_id = Column(Integer, ForeignKey(Referral.id, ondelete="CASCADE"), nullable=True, index=True)




@dataclass(frozen=True)
class DueCallback:
    id: int
    caller: str  # decrypted E.164
    caller_pseudonym: str
    called_at: datetime  # Europe/Paris
    due_at: datetime  # Europe/Paris
    reason: str
    status: str
    created_at: datetime
    sms_sent: bool
    place_id: Optional[str] = None


REASON_ASKED = CallbackReason.ASKED.value
REASON_DESK = CallbackReason.DESK.value


def book_callback(session, number: str, place_id: str, now: Optional[datetime] = None,
                  referral_id: Optional[int] = None, reason: Optional[str] = None) -> Optional[datetime]:
    """A callback by `place_id` at its next opening, for a person who asked in the conversation.

    One per person, place and day (asking twice books once). Returns when it is due, or None when
    the place is unknown. The number is kept encrypted, as for the helpline's own callbacks.
    With `referral_id` (a desk left the number with a referral): one per referral and place, whose number
    a repeated booking replaces; it is erased with the referral. `reason`: who asked, when it is not the SMS
    conversation (the voice menu's CallbackReason.VOICE)."""

    now = utc(now)
    place = session.get(Place, place_id)
    if place is None:
        return None
    due = next_opening(place.horaires, now) or now  # unknown hours: due at once, never lost
    pseudonym = caller_pseudonym(number)
    if referral_id is None:
        key = hashlib.sha256(f"demande:{pseudonym}:{place_id}:{to_paris(now).date()}".encode()).hexdigest()
    else:
        key = hashlib.sha256(f"accueil:{referral_id}:{place_id}".encode()).hexdigest()
    existing = session.execute(select(Callback).where(Callback.call_key == key)).scalar_one_or_none()
    if existing is not None:
        if referral_id is not None and existing.status == STATUS_TO_CALL:
            existing.caller_encrypted, existing.caller_pseudonym = encrypt_number(number), pseudonym
            session.flush()
        return existing.due_at
    session.add(Callback(call_key=key, caller_encrypted=encrypt_number(number), caller_pseudonym=pseudonym,
                         called_at=now, due_at=utc(due), status=STATUS_TO_CALL, created_at=now,
                         reason=reason or (REASON_ASKED if referral_id is None else REASON_DESK),
                         sms_state=SMS_IMPOSSIBLE,
                         sms_attempts=0, sms_updated_at=now, place_id=place_id, referral_id=referral_id))
    session.flush()
    return utc(due)


def cancel_desk_callback(session, referral_id: int) -> int:
    """The desk unticked "Rappelez-moi": the referral's callback still to make goes."""
    done = session.execute(delete(Callback).where(Callback.referral_id == referral_id,
                                                  Callback.status == STATUS_TO_CALL))
    return done.rowcount or 0


def erase_requested_callbacks(session, conversation_id: str) -> int:
    """STOP or "effacer" on SMS: the callbacks that conversation asked for (`book_callback`) go.
    `conversation_id` is the channel's sender id, the caller pseudonym for an SMS conversation (no
    other channel's id can equal it). The helpline's own callbacks for a missed call stay: they
    belong to the telephone line, not to the SMS conversation."""
    done = session.execute(delete(Callback).where(Callback.caller_pseudonym == conversation_id,
                                                  Callback.reason == REASON_ASKED))
    return done.rowcount or 0


ALL_PLACES = object()  # due_callbacks(place_id=ALL_PLACES): every callback (coordinators)


def due_callbacks(session, now: Optional[datetime] = None, place_id=ALL_PLACES) -> list[DueCallback]:
    """Callbacks still to make whose time has come, oldest due first, with the number decrypted.

    `place_id`: only that place's callbacks (None: those tied to no place); default: all."""
    now = datetime.now(timezone.utc) if now is None else to_paris(now)
    query = select(Callback).where(Callback.status == STATUS_TO_CALL, Callback.due_at <= utc(now))
    if place_id is not ALL_PLACES:
        query = query.where(Callback.place_id.is_(None) if place_id is None else Callback.place_id == place_id)
    rows = session.execute(query.order_by(Callback.due_at, Callback.id)).scalars().all()
    return [DueCallback(id=row.id, caller=decrypt_number(row.caller_encrypted), caller_pseudonym=row.caller_pseudonym,
                        called_at=to_paris(row.called_at), due_at=to_paris(row.due_at),
                        reason=row.reason, status=row.status, created_at=to_paris(row.created_at),
                        sms_sent=row.sms_state == SMS_SENT, place_id=row.place_id)
            for row in rows]


def mark_called_back(session, callback_id: int, account_id: Optional[int], place_id=ALL_PLACES,
                     now: Optional[datetime] = None) -> bool:
    """The callback was made: it leaves the list. False if it is not (or no longer) one of `place_id`'s."""
    query = update(Callback).where(Callback.id == callback_id, Callback.status == STATUS_TO_CALL)
    if place_id is not ALL_PLACES:
        query = query.where(Callback.place_id.is_(None) if place_id is None else Callback.place_id == place_id)
    done = session.execute(query.values(status=STATUS_CALLED_BACK, done_at=utc(now),
                                        done_by=account_id).execution_options(synchronize_session=False))
    return bool(done.rowcount)


# --------------------------------------------------------------------------------------------------
# Handling one call
# --------------------------------------------------------------------------------------------------

class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> str: ...


def default_sender_factory() -> SmsSender:
    return build_sender()


@dataclass(frozen=True)
class HelplineResult:
    outcome: str
    due_at: Optional[datetime] = None
    sms_sent: bool = False

    def as_json(self, settings: HelplineSettings) -> dict:
        if self.outcome == OUTCOME_OPEN:
            return {"status": OUTCOME_OPEN,
                    "message": text("utter_ligne_ouverte", ligne_nom=settings.name, ligne_telephone=settings.phone),
                    "telephone": settings.phone}
        return {"status": OUTCOME_CALLBACK, "rappel_le": to_paris(self.due_at).isoformat(), "sms_envoye": self.sms_sent}


def callback_time(settings: HelplineSettings, called_at: datetime, now: datetime) -> tuple[bool, datetime, bool]:
    """(open at the call time, when to call back, whether that time comes from the opening hours).

    Hours that are invalid or never open still record the callback, due at once: a call is never lost."""
    status = opening_status(settings.hours, called_at)
    if status is None or status.next_opening is None:
        if status is None:
            logger.error("AIGUILLAGE_HELPLINE_HOURS is not valid OSM opening hours: %r", settings.hours)
        return False, now, False
    if status.open_now:
        return True, status.next_opening, True
    return False, status.next_opening, True


def sms_text(settings: HelplineSettings, due_at: datetime, now: datetime, from_hours: bool = True) -> str:
    """The SMS that opens the triage, in French from the domain."""
    if not from_hours:
        return text("utter_ligne_sms_sans_date", ligne_nom=settings.name)
    return text("utter_ligne_sms", ligne_nom=settings.name, quand=_when(to_paris(due_at), to_paris(now)))


def _when(due: datetime, now: datetime) -> str:
    days = (due.date() - now.date()).days
    hour = format_time(due)
    if days <= 0:
        return text("utter_ligne_quand_aujourdhui", heure=hour)
    if days == 1:
        return text("utter_ligne_quand_demain", heure=hour)
    if days < 7:
        return text("utter_ligne_quand_jour", jour=listed_names("utter_jours_semaine")[due.weekday()], heure=hour)
    # Numeric date: month names such as "août" are outside the GSM alphabet and would triple the cost.
    return text("utter_ligne_quand_date", date=f"{due.day:02d}/{due.month:02d}", heure=hour)


class Helpline:
    """Handles missed calls. Database work runs in worker threads so concurrent deliveries really race
    on the unique call key (and the event loop is never blocked by the database)."""

    def __init__(self, session_factory, settings: HelplineSettings,
                 sender_factory: Callable[[], SmsSender] = default_sender_factory,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.session_factory = session_factory
        self.settings = settings
        self.sender_factory = sender_factory
        self.clock = clock
        self._sender: Optional[SmsSender] = None

    def _place_hours(self) -> Optional[str]:
        """The hours of the place that calls back, when one is configured and its hours are valid."""
        if not self.settings.place_id:
            return None

        session = self.session_factory()
        try:
            place = session.get(Place, self.settings.place_id)
            return place.horaires if place is not None and is_valid(place.horaires) else None
        finally:
            session.close()

    async def handle(self, call: MissedCall) -> HelplineResult:
        now = self.clock()
        settings = self.settings
        place_hours = await asyncio.to_thread(self._place_hours)
        if place_hours:  # the callback is due at the place's next opening
            settings = replace(settings, hours=place_hours)
        open_now, due_at, from_hours = callback_time(settings, call.called_at, now)
        key = call_key(call)
        created = await asyncio.to_thread(self._claim, key, call, open_now, due_at, now)
        if created is not None:
            if created.outcome == OUTCOME_CALLBACK and call.mobile:
                sent = await self._send(key, call.caller, due_at, now, from_hours)
                return HelplineResult(OUTCOME_CALLBACK, due_at, sent)
            return created
        return await self._repeat(key, call, now, from_hours)

    # -- first delivery ------------------------------------------------------------------------

    def _claim(self, key: str, call: MissedCall, open_now: bool, due_at: datetime,
               now: datetime) -> Optional[HelplineResult]:
        """Insert the call key (and the callback) in one transaction; None if the key already exists."""
        session = self.session_factory()
        try:
            outcome = OUTCOME_OPEN if open_now else OUTCOME_CALLBACK
            session.add(HelplineCall(call_key=key, outcome=outcome, received_at=utc(now)))
            if not open_now:
                session.add(Callback(
                    call_key=key, caller_encrypted=encrypt_number(call.caller),
                    caller_pseudonym=caller_pseudonym(call.caller), called_at=utc(call.called_at),
                    due_at=utc(due_at), status=STATUS_TO_CALL, created_at=utc(now), reason=call.reason,
                    sms_state=SMS_PENDING if call.mobile else SMS_IMPOSSIBLE,
                    sms_attempts=1 if call.mobile else 0, sms_updated_at=utc(now),
                    place_id=self.settings.place_id))
            session.commit()
            return HelplineResult(outcome, None if open_now else due_at, False)
        except IntegrityError:
            session.rollback()
            return None
        finally:
            session.close()

    async def _send(self, key: str, caller: str, due_at: datetime, now: datetime, from_hours: bool) -> bool:
        message_id = None
        try:
            if self._sender is None:
                self._sender = self.sender_factory()
            message_id = await self._sender.send(caller, sms_text(self.settings, due_at, now, from_hours))
            sent = True
        except Exception as exc:  # gateway down, opt-out, SMS channel unconfigured: the callback stays
            logger.warning("helpline SMS not sent (%s); the callback is kept", type(exc).__name__)
            sent = False
        await asyncio.to_thread(self._record_sms, key, sent, message_id)
        return sent

    def _record_sms(self, key: str, sent: bool, message_id: Optional[str]) -> None:
        session = self.session_factory()
        try:
            session.execute(update(Callback).where(Callback.call_key == key).values(
                sms_state=SMS_SENT if sent else SMS_FAILED, sms_updated_at=utc(self.clock()),
                sms_message_id=str(message_id)[:128] if sent and message_id is not None else None))
            session.commit()
        finally:
            session.close()

    # -- repeated delivery ---------------------------------------------------------------------

    async def _repeat(self, key: str, call: MissedCall, now: datetime, from_hours: bool) -> HelplineResult:
        deadline = asyncio.get_running_loop().time() + DUPLICATE_WAIT_SECONDS
        while True:
            outcome, row = await asyncio.to_thread(self._load, key)
            if outcome == OUTCOME_OPEN or row is None:
                return HelplineResult(OUTCOME_OPEN)
            due_at = to_paris(row["due_at"])
            state = row["sms_state"]
            stale = row["sms_updated_at"] < utc(now) - SMS_STALE_AFTER
            if state == SMS_PENDING and not stale:
                # Another delivery is sending the SMS right now: wait for its result.
                if asyncio.get_running_loop().time() >= deadline:
                    return HelplineResult(OUTCOME_CALLBACK, due_at, False)
                await asyncio.sleep(0.05)
                continue
            if state in (SMS_FAILED, SMS_PENDING) and row["sms_attempts"] < MAX_SMS_ATTEMPTS \
                    and row["caller_pseudonym"] == caller_pseudonym(call.caller):
                if await asyncio.to_thread(self._claim_retry, key, now):
                    sent = await self._send(key, call.caller, due_at, now, from_hours)
                    return HelplineResult(OUTCOME_CALLBACK, due_at, sent)
                if asyncio.get_running_loop().time() >= deadline:
                    return HelplineResult(OUTCOME_CALLBACK, due_at, False)
                await asyncio.sleep(0.05)
                continue  # someone else claimed the retry (or the state moved on): look again
            return HelplineResult(OUTCOME_CALLBACK, due_at, state == SMS_SENT)

    def _load(self, key: str) -> tuple[Optional[str], Optional[dict]]:
        session = self.session_factory()
        try:
            outcome = session.execute(select(HelplineCall.outcome).where(HelplineCall.call_key == key)).scalar()
            row = session.execute(select(Callback).where(Callback.call_key == key)).scalar()
            if row is None:
                return outcome, None
            return outcome, {"due_at": row.due_at, "sms_state": row.sms_state, "sms_attempts": row.sms_attempts,
                             "sms_updated_at": row.sms_updated_at, "caller_pseudonym": row.caller_pseudonym}
        finally:
            session.close()

    def _claim_retry(self, key: str, now: datetime) -> bool:
        """Atomically take the one SMS retry; False if another delivery took it first."""
        session = self.session_factory()
        try:
            stale_before = utc(now) - SMS_STALE_AFTER
            result = session.execute(
                update(Callback)
                .where(Callback.call_key == key, Callback.sms_attempts < MAX_SMS_ATTEMPTS,
                       (Callback.sms_state == SMS_FAILED)
                       | ((Callback.sms_state == SMS_PENDING) & (Callback.sms_updated_at < stale_before)))
                .values(sms_state=SMS_PENDING, sms_attempts=Callback.sms_attempts + 1, sms_updated_at=utc(now)))
            session.commit()
            return result.rowcount == 1
        finally:
            session.close()

