"""What the Telegram channel keeps in the database: update ids already handled, and button tokens."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import List, Optional

from sqlalchemy import BigInteger, Column, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.core.db import Base, UtcDateTime, session_scope
from bot.core.retention_policy import older_than

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data, which a token must fit
TOKEN_BYTES = 16  # random bytes of a button token: 22 characters of callback_data
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # what secrets.token_urlsafe(TOKEN_BYTES) gives
MAX_OFFERS = 10  # keyboards of one chat whose buttons still work (a person may scroll up and press)
TOKEN_LIFETIME = timedelta(days=1)


class SeenUpdate(Base):
    """Update ids already handled: Telegram redelivers, and several Rasa instances share this table."""

    __tablename__ = "telegram_updates"
    __retention__ = older_than("seen_at", "Telegram update ids already handled")

    update_id = Column(BigInteger, primary_key=True, autoincrement=False)
    seen_at = Column(UtcDateTime(), nullable=False, index=True)


class ButtonToken(Base):
    """One inline button offered to one chat: its callback_data is a random token, mapped here to the
    button's payload. The chat is named by its conversation's pseudonym, never by its id. Payloads come
    from our own responses (intents, choice codes, INSEE codes, place ids), never from what the person
    typed; rows go after MAX_OFFERS newer keyboards, after TOKEN_LIFETIME, and on STOP or "effacer"."""

    __tablename__ = "telegram_button_tokens"
    __retention__ = older_than("created_at", "buttons offered to a chat")

    token = Column(String(32), primary_key=True)
    conversation_key = Column(String(64), nullable=False, index=True)
    offer = Column(String(16), nullable=False)  # the buttons of one message share it
    payload = Column(Text, nullable=False)
    created_at = Column(UtcDateTime(), nullable=False, index=True)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class UpdateStore:
    """claim(update_id) is True once per id across all instances sharing the database."""

    def __init__(self, factory, retention: timedelta = timedelta(hours=48), prune_every: int = 200):
        self.factory = factory
        self.retention = retention
        self.prune_every = prune_every
        self._claims = 0

    def claim(self, update_id: int, now: Optional[datetime] = None) -> bool:
        now = now or _now()
        if self._claims % self.prune_every == 0:
            self.prune(now)
        self._claims += 1
        try:
            with session_scope(self.factory) as session:
                session.add(SeenUpdate(update_id=int(update_id), seen_at=now))
        except IntegrityError:
            return False
        return True

    def release(self, update_id: int) -> None:
        """Forget an id whose processing failed, so Telegram's redelivery is handled."""
        with session_scope(self.factory) as session:
            session.execute(delete(SeenUpdate).where(SeenUpdate.update_id == int(update_id)))

    def prune(self, now: Optional[datetime] = None) -> int:
        # Telegram keeps undelivered updates for 24 hours; ids older than the retention cannot come back.
        limit = (now or _now()) - self.retention
        with session_scope(self.factory) as session:
            result = session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < limit))
            return result.rowcount or 0


class ChoiceStore:
    """Inline buttons <-> callback_data. Each button carries a random token issued to its chat; a press
    maps back to a payload only if that chat was offered the token, in one of its last `max_offers`
    keyboards and within `lifetime`. A forged callback_data (a payload, another chat's token) maps to
    nothing. Kept in the database: tokens survive a restart and serve every Rasa instance."""

    def __init__(self, factory, max_offers: int = MAX_OFFERS, lifetime: timedelta = TOKEN_LIFETIME):
        self.factory = factory
        self.max_offers = max_offers
        self.lifetime = lifetime

    def issue(self, conversation_key: str, payloads: List[str], now: Optional[datetime] = None) -> List[str]:
        """One new token per payload, for one keyboard offered to this conversation."""
        now = now or _now()
        tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in payloads]
        offer = secrets.token_hex(8)
        with session_scope(self.factory) as session:
            session.add_all(ButtonToken(token=token, conversation_key=conversation_key, offer=offer,
                                        payload=payload, created_at=now) for token, payload in zip(tokens, payloads))
            self._prune(session, conversation_key, offer, now)
        return tokens

    def _prune(self, session, conversation_key: str, current: str, now: datetime) -> None:
        session.execute(delete(ButtonToken).where(ButtonToken.created_at < now - self.lifetime))
        newest = func.max(ButtonToken.created_at)
        older = session.execute(
            select(ButtonToken.offer).where(ButtonToken.conversation_key == conversation_key,
                                            ButtonToken.offer != current)
            .group_by(ButtonToken.offer).order_by(newest.desc())).scalars().all()
        dropped = older[max(self.max_offers - 1, 0):]
        if dropped:
            session.execute(delete(ButtonToken).where(ButtonToken.conversation_key == conversation_key,
                                                      ButtonToken.offer.in_(dropped)))

    def redeem(self, conversation_key: str, data: str, now: Optional[datetime] = None) -> Optional[str]:
        """The payload of a pressed button, or None when this conversation was not offered `data`."""
        if not TOKEN_PATTERN.fullmatch(data or ""):
            return None  # not one of our tokens: no query (a forged value may be anything)
        limit = (now or _now()) - self.lifetime
        with session_scope(self.factory) as session:
            return session.execute(
                select(ButtonToken.payload).where(ButtonToken.token == data,
                                                  ButtonToken.conversation_key == conversation_key,
                                                  ButtonToken.created_at >= limit)).scalar_one_or_none()

    def erase(self, conversation_key: str) -> int:
        """STOP or "effacer": forget every button offered to this conversation."""
        with session_scope(self.factory) as session:
            result = session.execute(delete(ButtonToken).where(ButtonToken.conversation_key == conversation_key))
            return result.rowcount or 0
