"""Transactional outbox for referral notifications, and the dispatcher that empties it.

`enqueue_for_referral` adds one row per channel in the referral's own session: both commit or
neither does. The dispatcher claims a due row with a conditional UPDATE (a lease in
`locked_until`/`locked_by`), sends outside any transaction, then records the result. Delivery is
at least once: if a worker dies between sending and recording, the row is sent again after the
lease, with the same idempotency key / Message-ID so the receiver can drop the copy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.backoff import doubling
from bot.core.codes import DeliveryState
from bot.core.db import Base, UtcDateTime, session_scope
from bot.core.moments import utc
from bot.core.references import normalise_reference
from bot.core.retention_policy import with_parent
from bot.directory.models import Place
from bot.handoff.notifications.channels import DeliveryError, Notification, default_senders
from bot.handoff.notifications.config import KIND_EMAIL, NotifySettings, PlaceChannel, place_channels
from bot.handoff.referrals import Referral

logger = logging.getLogger(__name__)

STATUS_PENDING = DeliveryState.PENDING.value
STATUS_SENT = DeliveryState.SENT.value
STATUS_FAILED = DeliveryState.FAILED.value
STATUSES = (STATUS_PENDING, STATUS_SENT, STATUS_FAILED)

# Facts a place needs to prepare: codes, the commune and the deadline's date, nothing the person typed.
NOTIFIED_FACTS = ("demarche", "organisme", "enjeu", "enjeux", "echeance", "equipement", "appareil", "souhait",
                  "blocage", "barriere", "besoins", "sujet", "commune", "commune_insee", "redacteur",
                  "verification_securite", "urgence_vitale", "accueil", "contact")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __retention__ = with_parent("referrals", "referral_id", "created_at", "a place's notifications about a referral")

    id = Column(Integer, primary_key=True)
    # Erasing the referral (the person's right) erases its notifications too.
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False, index=True)
    reference = Column(String(8), nullable=False, index=True)
    place_id = Column(String(255), nullable=True)
    channel_id = Column(Integer, ForeignKey("place_channels.id", ondelete="SET NULL"), nullable=True)
    kind = Column(String(16), nullable=False)
    target = Column(Text, nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default=STATUS_PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UtcDateTime(), nullable=False)
    locked_until = Column(UtcDateTime(), nullable=True)
    locked_by = Column(String(32), nullable=True)
    last_error = Column(Text, nullable=True)
    provider_id = Column(String(255), nullable=True)
    created_at = Column(UtcDateTime(), nullable=False)
    updated_at = Column(UtcDateTime(), nullable=False)
    sent_at = Column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)




# --- enqueue -------------------------------------------------------------------------------------------

def referral_payload(referral: Referral, place_name: Optional[str] = None) -> dict:
    facts = referral.facts or {}
    return {
        "reference": referral.reference,
        "lieu_id": referral.place_id,
        "lieu_nom": place_name,
        "canal": referral.channel,
        "cree_le": utc(referral.created_at).isoformat() if referral.created_at else None,
        "niveau": referral.level,
        "raisons": list(referral.reasons or []),
        "faits": {k: facts[k] for k in NOTIFIED_FACTS if facts.get(k) not in (None, "", [])},
        "consentement_le": utc(referral.consent_at).isoformat() if referral.consent_at else None,
    }


def enqueue_for_referral(session: Session, referral: Referral, settings: Optional[NotifySettings] = None,
                         now: Optional[datetime] = None) -> list[OutboxMessage]:
    """Queue one notification per channel of the referral's place, in the caller's transaction.

    A place without channels gets an e-mail at the first address of the directory, if SMTP is set.
    """
    if not referral.place_id:
        return []
    settings = settings or NotifySettings.from_env()
    now = utc(now)
    targets = [(c.kind, c.target, c.id) for c in place_channels(session, referral.place_id)]
    place = session.get(Place, referral.place_id)
    if not targets and settings.smtp_configured and place is not None and place.courriels_list:
        targets = [(KIND_EMAIL, place.courriels_list[0], None)]
    payload = referral_payload(referral, place.nom if place is not None else None)
    rows = [OutboxMessage(referral_id=referral.id, reference=referral.reference, place_id=referral.place_id,
                          channel_id=channel_id, kind=kind, target=target, payload=payload,
                          status=STATUS_PENDING, attempts=0, next_attempt_at=now, created_at=now, updated_at=now)
            for kind, target, channel_id in targets]
    session.add_all(rows)
    session.flush()
    return rows


def refresh_pending_facts(session: Session, referral: Referral) -> int:
    """A fact set after the referral was made (a desk left a phone number): the notifications not sent yet
    tell it too. Returns how many were updated."""
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.referral_id == referral.id,
                                                       OutboxMessage.status == STATUS_PENDING)).scalars().all()
    for row in rows:
        payload = dict(row.payload or {})
        payload["faits"] = referral_payload(referral)["faits"]
        row.payload = payload
    session.flush()
    return len(rows)


# --- status and manual retry ---------------------------------------------------------------------------

def _as_dict(row: OutboxMessage) -> dict:
    return {
        "id": row.id, "reference": row.reference, "kind": row.kind, "target": row.target, "status": row.status,
        "attempts": row.attempts, "last_error": row.last_error, "sent_at": row.sent_at,
        "next_attempt_at": row.next_attempt_at if row.status == STATUS_PENDING else None,
        "created_at": row.created_at,
    }


def delivery_status(session: Session, reference: str) -> list[dict]:
    """Per channel: status (en_attente/envoye/echec), attempts, last error, sent_at, next attempt."""
    code = normalise_reference(reference) or reference
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.reference == code)
                           .order_by(OutboxMessage.id)).scalars()
    return [_as_dict(row) for row in rows]


def status_counts(session: Session) -> dict:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {status: 0 for status in STATUSES}
    counts.update({status: n for status, n in rows})
    return counts


def undelivered(session: Session, limit: int = 50) -> list[dict]:
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.status != STATUS_SENT)
                           .order_by(OutboxMessage.id).limit(limit)).scalars()
    return [_as_dict(row) for row in rows]


def retry_failed(session: Session, reference: Optional[str] = None, now: Optional[datetime] = None) -> int:
    """Put failed notifications back in the queue with a fresh set of attempts; returns how many."""
    now = utc(now)
    query = update(OutboxMessage).where(OutboxMessage.status == STATUS_FAILED)
    if reference:
        query = query.where(OutboxMessage.reference == (normalise_reference(reference) or reference))
    result = session.execute(query.values(status=STATUS_PENDING, attempts=0, next_attempt_at=now,
                                          locked_until=None, locked_by=None, updated_at=now)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- dispatcher ----------------------------------------------------------------------------------------

@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0       # failed, another attempt is scheduled
    failed: int = 0        # gave up: status echec
    skipped: int = 0       # another worker had it

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


async def run_periodically(one_pass, interval: float = 30.0, stop: Optional[asyncio.Event] = None,
                           max_passes: Optional[int] = None, label: str = "pass") -> None:
    """Run `one_pass` every `interval` seconds (0.1 to 300) until `stop` is set; a failed pass is
    logged and the next one comes as usual (the database may be busy or restarting)."""
    interval = min(max(interval, 0.1), 300.0)
    stop = stop or asyncio.Event()
    passes = 0
    while not stop.is_set():
        try:
            await one_pass()
        except Exception:
            logger.exception("%s failed", label)
        passes += 1
        if max_passes is not None and passes >= max_passes:
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass


class Dispatcher:
    def __init__(self, factory: sessionmaker, settings: Optional[NotifySettings] = None,
                 senders: Optional[dict] = None, clock: Optional[Callable[[], datetime]] = None,
                 rng: Optional[random.Random] = None, worker_id: Optional[str] = None):
        self.factory = factory
        self.settings = settings or NotifySettings.from_env()
        self.senders = senders if senders is not None else default_senders(self.settings)
        self.clock = clock or utc
        self.rng = rng or random.Random()
        self.worker_id = worker_id or uuid.uuid4().hex
        self._tokens: dict = {}  # outbox id -> lease token of our current claim

    def now(self) -> datetime:
        return utc(self.clock())

    def backoff(self, attempts: int) -> timedelta:
        """Exponential from backoff_base, capped, with "equal jitter" so workers spread out."""
        ceiling = doubling(self.settings.backoff_base, self.settings.backoff_max, max(0, attempts - 1))
        return timedelta(seconds=ceiling / 2 + self.rng.random() * ceiling / 2)

    def _due_filter(self, now: datetime):
        return ((OutboxMessage.status == STATUS_PENDING) & (OutboxMessage.next_attempt_at <= now)
                & (OutboxMessage.locked_until.is_(None) | (OutboxMessage.locked_until <= now)))

    def due_ids(self, limit: int = 100) -> list[int]:
        now = self.now()
        with session_scope(self.factory) as session:
            return list(session.execute(select(OutboxMessage.id).where(self._due_filter(now))
                                        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                                        .limit(limit)).scalars())

    def _give_up_interrupted(self) -> None:
        # A worker died mid-send on its last attempt: its lease ran out, nobody may try again.
        now = self.now()
        with session_scope(self.factory) as session:
            session.execute(update(OutboxMessage).where(
                (OutboxMessage.status == STATUS_PENDING) & (OutboxMessage.attempts >= self.settings.max_attempts)
                & (OutboxMessage.locked_until <= now)).values(
                status=STATUS_FAILED, locked_until=None, locked_by=None, updated_at=now)
                .execution_options(synchronize_session=False))

    def claim(self, outbox_id: int) -> Optional[Notification]:
        """Take the row if it is still due and free; the UPDATE is the lock (first statement of its
        transaction, so SQLite's busy timeout applies and PostgreSQL's row lock decides)."""
        now = self.now()
        token = f"{self.worker_id[:15]}:{uuid.uuid4().hex[:16]}"
        with session_scope(self.factory) as session:
            result = session.execute(
                update(OutboxMessage)
                .where((OutboxMessage.id == outbox_id) & self._due_filter(now)
                       & (OutboxMessage.attempts < self.settings.max_attempts))
                .values(locked_by=token, locked_until=now + timedelta(seconds=self.settings.lease_seconds),
                        attempts=OutboxMessage.attempts + 1, updated_at=now)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            row = session.get(OutboxMessage, outbox_id)
            secret = None
            if row.channel_id is not None:
                channel = session.get(PlaceChannel, row.channel_id)
                secret = channel.secret if channel is not None else None
            notification = Notification(outbox_id=row.id, kind=row.kind, target=row.target,
                                        reference=row.reference, payload=dict(row.payload), secret=secret)
        self._tokens[outbox_id] = token
        return notification

    def _finish(self, outbox_id: int, values: dict) -> bool:
        token = self._tokens.pop(outbox_id, None)
        values = dict(values, locked_until=None, locked_by=None, updated_at=self.now())
        with session_scope(self.factory) as session:
            result = session.execute(update(OutboxMessage)
                                     .where((OutboxMessage.id == outbox_id) & (OutboxMessage.locked_by == token))
                                     .values(**values).execution_options(synchronize_session=False))
            return result.rowcount == 1

    async def deliver(self, notification: Notification) -> str:
        """Send one claimed notification and record the outcome: 'sent', 'retry' or 'failed'."""
        sender = self.senders.get(notification.kind)
        try:
            if sender is None:
                raise DeliveryError(f"canal inconnu : {notification.kind}", permanent=True)
            provider_id = await sender.send(notification)
        except Exception as exc:  # any failure is recorded on the row; the loop goes on
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            with session_scope(self.factory) as session:
                attempts = session.execute(select(OutboxMessage.attempts)
                                           .where(OutboxMessage.id == notification.outbox_id)).scalar_one()
            if permanent or attempts >= self.settings.max_attempts:
                self._finish(notification.outbox_id, {"status": STATUS_FAILED, "last_error": error[:1000]})
                logger.warning("notification %s abandoned: %s", notification.outbox_id, error)
                return "failed"
            self._finish(notification.outbox_id, {"last_error": error[:1000],
                                                   "next_attempt_at": self.now() + self.backoff(attempts)})
            return "retry"
        if not self._finish(notification.outbox_id, {"status": STATUS_SENT, "sent_at": self.now(),
                                                     "provider_id": (provider_id or None)}):
            logger.warning("notification %s sent after its lease ran out", notification.outbox_id)
        return "sent"

    async def deliver_referral(self, referral_id: int, timeout: float) -> int:
        """Send a new referral's notifications now, all channels at once, for at most `timeout` seconds; the
        number a channel accepted. What is not done by then goes back to the outbox, due at once, for the
        worker (the send may have gone through: delivery stays at least once, with the same idempotency key)."""
        with session_scope(self.factory) as session:
            ids = list(session.execute(select(OutboxMessage.id).where(OutboxMessage.referral_id == referral_id)
                                       .order_by(OutboxMessage.id)).scalars())
        claimed = [n for n in (self.claim(i) for i in ids) if n is not None]
        if not claimed:
            return 0
        tasks = {asyncio.ensure_future(self.deliver(n)): n for n in claimed}
        done, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.001))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for task in pending:
            self._finish(tasks[task].outbox_id, {"last_error": "envoi immédiat trop long, repris par l'envoyeur",
                                                 "next_attempt_at": self.now()})
        return sum(1 for task in done if not task.cancelled() and task.exception() is None
                   and task.result() == "sent")

    async def run_once(self, limit: int = 100) -> DispatchReport:
        """Deliver what is due now (one pass), one row at a time."""
        report = DispatchReport()
        self._give_up_interrupted()
        for outbox_id in self.due_ids(limit):
            notification = self.claim(outbox_id)
            if notification is None:
                report.skipped += 1
                continue
            outcome = await self.deliver(notification)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "retry":
                report.retried += 1
            else:
                report.failed += 1
        return report

    async def run_forever(self, interval: float = 30.0, stop: Optional[asyncio.Event] = None,
                          max_passes: Optional[int] = None) -> None:
        """Poll the outbox; the sleep is bounded so new referrals wait at most `interval` seconds."""
        async def one_pass() -> None:
            report = await self.run_once()
            if report.handled:
                logger.info("notifications: %s", report)

        await run_periodically(one_pass, interval, stop, max_passes, "notification pass")
