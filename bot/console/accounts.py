"""Console accounts, password hashing, login throttling and server-side sessions.

Passwords: scrypt (standard library) with a per-account random salt, compared in constant time.
Sessions: a random token in a cookie; only its SHA-256 is stored, with an expiry.
Login attempts are throttled by progressive delays (`bot.console.throttle`), for known and unknown
addresses alike, so the throttle reveals nothing.

Other blueprints call `authenticate_request(request)` to know who is logged in (see docs/mediateurs.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.console import throttle
from bot.core.db import Base, UtcDateTime, session_scope, shared_factory
from bot.core.retention_policy import keep
from bot.core.settings import setting
from bot.directory.models import Place

ROLE_MEDIATOR = "mediateur"
ROLE_COORDINATOR = "coordinateur"
ROLES = (ROLE_MEDIATOR, ROLE_COORDINATOR)

COOKIE_NAME = "aiguillage_console"
SECURE_COOKIE_ENV = "AIGUILLAGE_CONSOLE_SECURE_COOKIE"
SESSION_HOURS_ENV = "AIGUILLAGE_CONSOLE_SESSION_HOURS"

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # bounds the KDF input

# scrypt cost: about 16 MiB and a few tens of milliseconds per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

class Account(Base):
    """A mediator (tied to one place) or a territory coordinator (place_id is NULL, sees every place)."""

    __tablename__ = "accounts"
    __retention__ = keep("staff accounts, not people helped; removed by an administrator")

    id = Column(Integer, primary_key=True)
    email = Column(String(320), unique=True, nullable=False)
    password_hash = Column(String(255), nullable=False)
    place_id = Column(String(255), ForeignKey("places.id", ondelete="SET NULL"), nullable=True)
    role = Column(String(16), nullable=False, default=ROLE_MEDIATOR)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime(), nullable=False)

    @property
    def is_coordinator(self) -> bool:
        return self.role == ROLE_COORDINATOR


class ConsoleSession(Base):
    __tablename__ = "console_sessions"
    __retention__ = keep("staff sessions, not people helped; they expire on their own")

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), unique=True, nullable=False)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UtcDateTime(), nullable=False)
    expires_at = Column(UtcDateTime(), nullable=False)


# --------------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """"scrypt$N$r$p$salt$hash", all parameters stored so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        expected_bytes = base64.b64decode(expected)
        digest = hashlib.scrypt(password.encode("utf-8")[:4 * MAX_PASSWORD_CHARS], salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), maxmem=_SCRYPT_MAXMEM, dklen=len(expected_bytes))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected_bytes)


# Checked against when the e-mail is unknown, so both cases cost the same time.
_DUMMY_HASH: Optional[str] = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


# --------------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------------

class AccountError(ValueError):
    """Bad account input; `code` names the problem (the CLI renders it in French)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create_account(session: Session, email: str, password: str, place_id: Optional[str] = None,
                   role: str = ROLE_MEDIATOR, now: Optional[datetime] = None) -> Account:
    """Codes: email_invalide, mot_de_passe_court, mot_de_passe_long, role_invalide, lieu_obligatoire,
    lieu_inconnu, email_existant."""

    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or any(ch.isspace() for ch in email):
        raise AccountError("email_invalide")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError("mot_de_passe_court")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError("mot_de_passe_long")
    if role not in ROLES:
        raise AccountError("role_invalide")
    if role == ROLE_MEDIATOR and not place_id:
        raise AccountError("lieu_obligatoire")
    if role == ROLE_COORDINATOR:
        place_id = None  # a coordinator covers the whole territory
    if place_id is not None and session.get(Place, place_id) is None:
        raise AccountError("lieu_inconnu")
    account = Account(email=email, password_hash=hash_password(password), place_id=place_id, role=role,
                      active=True, created_at=now or _utcnow())
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise AccountError("email_existant") from None
    return account


def place_has_console(session: Session, place_id: str) -> bool:
    """Whether an active mediator of the place can see its referrals in the console."""
    return session.execute(select(Account.id).where((Account.place_id == place_id) & Account.active
                                                    & (Account.role == ROLE_MEDIATOR)).limit(1)).first() is not None


def find_account(session: Session, email: str) -> Optional[Account]:
    return session.execute(select(Account).where(Account.email == normalise_email(email))).scalar_one_or_none()


def deactivate_account(session: Session, email: str) -> bool:
    """Deactivate and end every open session of that account; False if the e-mail is unknown."""
    account = find_account(session, email)
    if account is None:
        return False
    account.active = False
    session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account.id))
    return True


# --------------------------------------------------------------------------------------------------
# Login, sessions
# --------------------------------------------------------------------------------------------------

LOGIN_OK = "ok"
LOGIN_BAD = "identifiants_invalides"   # one generic answer: wrong e-mail, wrong password or inactive
LOGIN_LOCKED = "trop_de_tentatives"


@dataclass(frozen=True)
class LoginResult:
    status: str
    account: Optional[Account] = None
    token: Optional[str] = None        # goes in the cookie, never stored
    csrf_token: Optional[str] = None
    expires_at: Optional[datetime] = None
    device_token: Optional[str] = None  # marks this browser as the account's usual one (cookie)
    retry_at: Optional[datetime] = None  # throttled: when the next attempt is allowed


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_lifetime() -> timedelta:
    return timedelta(hours=setting(SESSION_HOURS_ENV))


def login(session: Session, email: str, password: str, now: Optional[datetime] = None, client: str = "",
          device_token: Optional[str] = None) -> LoginResult:
    """Check a password once the throttle allows it. `client`: the address the attempt comes from;
    `device_token`: the device cookie the browser sent, if any. Commits the throttle's charge first."""
    now = now or _utcnow()
    password = password or ""
    email = normalise_email(email)
    charges = throttle.charges_for(email, client, device_token)
    decision = throttle.admit(session, charges, now)
    if not decision.allowed:
        return LoginResult(LOGIN_LOCKED, retry_at=decision.retry_at)
    account = find_account(session, email) if email else None
    if account is None:
        verify_password(password, _dummy_hash())
        ok = False
    else:
        ok = verify_password(password, account.password_hash) and account.active
    if not ok:
        return LoginResult(LOGIN_BAD)
    throttle.succeeded(session, charges, email, now)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + session_lifetime()
    session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account.id,
                                                 ConsoleSession.expires_at <= now))
    session.add(ConsoleSession(token_hash=_hash_token(token), account_id=account.id, csrf_token=csrf,
                               created_at=now, expires_at=expires))
    session.flush()
    return LoginResult(LOGIN_OK, account=account, token=token, csrf_token=csrf, expires_at=expires,
                       device_token=throttle.issue_device_token(email))


@dataclass(frozen=True)
class Authenticated:
    account: Account
    csrf_token: str
    session_id: int


def resolve_token(session: Session, token: Optional[str], now: Optional[datetime] = None) -> Optional[Authenticated]:
    """The logged-in account behind a cookie value, or None (unknown, expired, account deactivated)."""
    if not token or len(token) > 256:
        return None
    now = now or _utcnow()
    row = session.execute(select(ConsoleSession).where(ConsoleSession.token_hash == _hash_token(token))
                          ).scalar_one_or_none()
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return Authenticated(account=account, csrf_token=row.csrf_token, session_id=row.id)


def logout(session: Session, token: Optional[str]) -> bool:
    if not token:
        return False
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash_token(token)))
    return bool(result.rowcount)


def csrf_matches(expected: Optional[str], given: Optional[str]) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------------
# For other blueprints
# --------------------------------------------------------------------------------------------------

_factory: Optional[Callable[[], Any]] = None
_clock: Callable[[], datetime] = _utcnow


def configure(factory: Optional[Callable[[], Any]] = None, clock: Optional[Callable[[], datetime]] = None) -> None:
    """Set the session factory and clock used by `authenticate_request` (the console channel does this)."""
    global _factory, _clock
    if factory is not None:
        _factory = factory
    if clock is not None:
        _clock = clock


def default_factory():
    """The configured session factory, else one on AIGUILLAGE_DATABASE_URL (tables created if missing)."""
    global _factory
    if _factory is None:
        _factory = shared_factory()
    return _factory


def now() -> datetime:
    return _clock()


def authenticate_request(request: Any) -> Optional[Account]:
    """The active account logged in on this Sanic request (console cookie), or None.

    The returned Account is detached: read `id`, `email`, `role`, `place_id`, `is_coordinator`.
    Example (a coordinator-only page):
        account = authenticate_request(request)
        if account is None or not account.is_coordinator:
            return response.text("Introuvable", status=404)
    """
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None

    with session_scope(default_factory()) as session:
        auth = resolve_token(session, token, now())
        return auth.account if auth else None
