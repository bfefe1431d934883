"""Notification settings (environment) and each place's channels (table `place_channels`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Session

from bot.core.codes import LabelledCode
from bot.core.db import Base, UtcDateTime
from bot.core.moments import utc
from bot.core.retention_policy import keep
from bot.core.settings import setting


class Kind(LabelledCode):
    """How a place is notified of a new referral."""

    EMAIL = ("email", "E-mail")
    TELEGRAM = ("telegram", "Telegram")
    WEBHOOK = ("webhook", "Webhook")


KIND_EMAIL = Kind.EMAIL.value
KIND_TELEGRAM = Kind.TELEGRAM.value
KIND_WEBHOOK = Kind.WEBHOOK.value
KINDS = Kind.codes()

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")  # numeric id or @channel name


@dataclass(frozen=True)
class NotifySettings:
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = ""
    smtp_timeout: float = 15.0
    telegram_api_url: str = "https://api.telegram.org"
    telegram_token: str = ""
    http_timeout: float = 10.0
    console_url: str = "http://127.0.0.1:5005/console"
    max_attempts: int = 8
    backoff_base: float = 30.0      # seconds before the 2nd attempt, doubled each time
    backoff_max: float = 3600.0     # never wait more than this between attempts
    lease_seconds: float = 300.0    # a claimed row is someone else's for this long
    now_timeout: float = 5.0        # the conversation's wait for a new referral's channels to accept it

    @classmethod
    def from_env(cls, env: Optional[dict] = None) -> "NotifySettings":
        return cls(
            smtp_host=setting("AIGUILLAGE_SMTP_HOST", env) or "",
            smtp_port=setting("AIGUILLAGE_SMTP_PORT", env),
            smtp_user=setting("AIGUILLAGE_SMTP_USER", env) or "",
            smtp_password=setting("AIGUILLAGE_SMTP_PASSWORD", env) or "",
            smtp_starttls=setting("AIGUILLAGE_SMTP_STARTTLS", env),
            smtp_from=setting("AIGUILLAGE_SMTP_FROM", env) or "",
            smtp_timeout=setting("AIGUILLAGE_SMTP_TIMEOUT", env),
            telegram_api_url=setting("AIGUILLAGE_TELEGRAM_API_URL", env),
            telegram_token=setting("AIGUILLAGE_TELEGRAM_TOKEN", env) or "",
            http_timeout=setting("AIGUILLAGE_NOTIFY_HTTP_TIMEOUT", env),
            console_url=setting("AIGUILLAGE_CONSOLE_URL", env),
            max_attempts=setting("AIGUILLAGE_NOTIFY_MAX_ATTEMPTS", env),
            backoff_base=setting("AIGUILLAGE_NOTIFY_BACKOFF", env),
            backoff_max=setting("AIGUILLAGE_NOTIFY_BACKOFF_MAX", env),
            lease_seconds=setting("AIGUILLAGE_NOTIFY_LEASE", env),
            now_timeout=setting("AIGUILLAGE_NOTIFY_NOW_TIMEOUT", env),
        )

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host) and bool(self.smtp_from)

    @property
    def telegram_configured(self) -> bool:
        return bool(self.telegram_token)

    def referral_link(self, reference: str) -> str:
        return f"{self.console_url.rstrip('/')}/referrals/{reference}"


class PlaceChannel(Base):
    """One way to reach a place: an address, a Telegram chat, or a webhook with its signing secret."""

    __tablename__ = "place_channels"
    __retention__ = keep("how a place wants to be notified: the place's data")

    id = Column(Integer, primary_key=True)
    place_id = Column(String(255), ForeignKey("places.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    target = Column(Text, nullable=False)
    secret = Column(Text, nullable=True)   # webhooks only: HMAC key
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("place_id", "kind", "target", name="uq_lieux_notifications_target"),)


class ChannelConfigError(ValueError):
    """A channel setting that cannot work (bad address, webhook without secret...)."""

    def __init__(self, code: str, value: str = ""):
        super().__init__(f"{code}: {value}")
        self.code = code
        self.value = value


def validate(kind: str, target: str, secret: Optional[str] = None) -> None:
    if kind not in KINDS:
        raise ChannelConfigError("kind", kind)
    if kind == KIND_EMAIL and not _EMAIL.match(target):
        raise ChannelConfigError("email", target)
    if kind == KIND_TELEGRAM and not _CHAT.match(target):
        raise ChannelConfigError("telegram_chat", target)
    if kind == KIND_WEBHOOK:
        if not re.match(r"^https?://[^\s/]+", target):
            raise ChannelConfigError("webhook_url", target)
        if not secret:
            raise ChannelConfigError("webhook_secret", target)


def set_place_channels(session: Session, place_id: str, emails: Iterable[str] = (),
                       telegram_chats: Iterable[str] = (), webhooks: Iterable[tuple[str, str]] = (),
                       now: Optional[datetime] = None) -> list[PlaceChannel]:
    """Make these the place's channels (all validated first: nothing changes on error).

    Channels kept from before keep their row, so notifications already queued for them still find
    their webhook secret; the others are removed.
    """
    wanted: dict = {}
    for kind, target, secret in ([(KIND_EMAIL, e.strip(), None) for e in emails]
                                 + [(KIND_TELEGRAM, str(c).strip(), None) for c in telegram_chats]
                                 + [(KIND_WEBHOOK, u.strip(), s) for u, s in webhooks]):
        validate(kind, target, secret)
        wanted[(kind, target)] = secret
    now = utc(now)
    existing = {(c.kind, c.target): c for c in place_channels(session, place_id, active_only=False)}
    for key, channel in existing.items():
        if key not in wanted:
            session.delete(channel)
    rows = []
    for (kind, target), secret in wanted.items():
        channel = existing.get((kind, target))
        if channel is None:
            channel = PlaceChannel(place_id=place_id, kind=kind, target=target, created_at=now)
            session.add(channel)
        channel.secret, channel.active = secret, True
        rows.append(channel)
    session.flush()
    return rows


def place_channels(session: Session, place_id: str, active_only: bool = True) -> list[PlaceChannel]:
    query = select(PlaceChannel).where(PlaceChannel.place_id == place_id)
    if active_only:
        query = query.where(PlaceChannel.active.is_(True))
    return list(session.execute(query.order_by(PlaceChannel.id)).scalars())
