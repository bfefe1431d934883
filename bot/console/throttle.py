"""Console login throttling: progressive delays, never a lock-out of the account.

Each login attempt is charged, before the password is checked, to several counters (scopes). A
counter allows its first failures at once, then asks for a wait that doubles with each failure
(capped). An attempt goes ahead only if every counter it is charged to allows it; a success clears
the counters of that account.

| scope   | what it slows down                                 | free failures | first wait | longest wait |
|---------|----------------------------------------------------|---------------|------------|--------------|
| device  | guesses from the account's usual browser            | 5             | 1 s        | 15 min       |
| pair    | guesses at one account from one address             | 5             | 1 s        | 15 min       |
| client  | one address trying many accounts (spraying)         | 20            | 1 s        | 15 min       |
| account | one account tried from many addresses               | 30            | 1 s        | 15 min       |

The browser where the account last logged in carries a signed device cookie; an attempt with it is
charged to its device counter only, so guesses made elsewhere (other addresses, or the same office
address behind one NAT) never keep the mediator out of that browser.

Charging is a compare-and-set on the counter (`failures` must still be the value read), so
parallel attempts each take their own turn: N wrong passwords sent at once get at most the free
failures checked. Counters are keyed by keyed hashes (no address or e-mail in clear), forgotten a
day after their last use, and the table never holds more than MAX_ROWS counters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Sequence

from sqlalchemy import Column, Integer, String, delete, func, select, update
from sqlalchemy.orm import Session

from bot.core.backoff import doubling
from bot.core.db import Base, UtcDateTime, insert_ignore
from bot.core.retention_policy import keep
from bot.core.settings import secret_key


@dataclass(frozen=True)
class Rule:
    scope: str
    free_failures: int
    first_wait: timedelta = timedelta(seconds=1)
    longest_wait: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta:
        """How long the next attempt waits once `failures` attempts were charged."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 30)  # bounds the power long before the cap
        return doubling(self.first_wait, self.longest_wait, doublings)


DEVICE = Rule("device", free_failures=5)
PAIR = Rule("pair", free_failures=5)
CLIENT = Rule("client", free_failures=20)
ACCOUNT = Rule("account", free_failures=30)

FORGET_AFTER = timedelta(days=1)
MAX_ROWS = 10_000
MAX_ROUNDS = 64  # compare-and-set retries under contention; each lost round means another attempt was charged

DEVICE_COOKIE = "aiguillage_appareil"
DEVICE_COOKIE_DAYS = 365


class LoginCounter(Base):
    """One throttling counter (a keyed hash of its scope and subject)."""

    __tablename__ = "login_throttle"
    __retention__ = keep("staff login throttle: bounded, pruned by the throttle itself")

    key = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    not_before = Column(UtcDateTime(), nullable=False)
    last_seen = Column(UtcDateTime(), nullable=False, index=True)


@dataclass(frozen=True)
class Charge:
    rule: Rule
    key: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_at: Optional[datetime] = None  # when refused: the earliest moment every counter allows one more


def _keyed(*parts: str) -> str:
    return hmac.new(secret_key(), "\x1f".join(("login-throttle",) + parts).encode("utf-8"),
                    hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------------
# Device cookie: proves "this browser logged in to this account before", without any table.
# --------------------------------------------------------------------------------------------------

def issue_device_token(email: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_keyed('device', email, nonce)}"


def device_nonce(token: Optional[str], email: str) -> Optional[str]:
    """The token's nonce if it was issued by us for this e-mail, else None."""
    if not token or len(token) > 200 or "." not in token:
        return None
    nonce, mac = token.rsplit(".", 1)
    return nonce if hmac.compare_digest(mac, _keyed("device", email, nonce)) else None


def charges_for(email: str, client: str, device_token: Optional[str] = None) -> list[Charge]:
    """The counters one attempt is charged to (the e-mail already normalised)."""
    nonce = device_nonce(device_token, email)
    if nonce is not None:
        return [Charge(DEVICE, _keyed("device", email, nonce))]
    return [Charge(PAIR, _keyed("pair", client, email)), Charge(CLIENT, _keyed("client", client)),
            Charge(ACCOUNT, _keyed("account", email))]


# --------------------------------------------------------------------------------------------------
# Charging
# --------------------------------------------------------------------------------------------------

def admit(session: Session, charges: Sequence[Charge], now: datetime) -> Decision:
    """Charge one attempt to every counter, atomically, or refuse it (nothing charged).

    Commits: parallel attempts must see this charge before the slow password check."""
    for _ in range(MAX_ROUNDS):
        rows = {row.key: row for row in session.execute(
            select(LoginCounter.key, LoginCounter.failures, LoginCounter.not_before)
            .where(LoginCounter.key.in_([c.key for c in charges]))).all()}
        waits = [rows[c.key].not_before for c in charges if c.key in rows
                 and rows[c.key].not_before > now]
        if waits:
            session.rollback()
            return Decision(False, retry_at=max(waits))
        if all(_charge(session, charge, rows.get(charge.key), now) for charge in charges):
            session.commit()
            return Decision(True)
        session.rollback()  # another attempt changed a counter meanwhile: read again
    return Decision(False, retry_at=now + timedelta(seconds=1))


def _charge(session: Session, charge: Charge, row, now: datetime) -> bool:
    if row is None:
        inserted = insert_ignore(session, LoginCounter.__table__,
                                 {"key": charge.key, "failures": 1, "last_seen": now,
                                  "not_before": now + charge.rule.wait_after(1)})
        if inserted:
            _bound(session, now)
        return inserted
    failures = row.failures + 1
    result = session.execute(update(LoginCounter)
                             .where(LoginCounter.key == charge.key, LoginCounter.failures == row.failures)
                             .values(failures=failures, last_seen=now,
                                     not_before=now + charge.rule.wait_after(failures)))
    return result.rowcount == 1


def _bound(session: Session, now: datetime) -> None:
    session.execute(delete(LoginCounter).where(LoginCounter.last_seen < now - FORGET_AFTER,
                                               LoginCounter.not_before < now))
    extra = session.execute(select(func.count()).select_from(LoginCounter)).scalar_one() - MAX_ROWS
    if extra > 0:
        oldest = select(LoginCounter.key).order_by(LoginCounter.last_seen).limit(extra).scalar_subquery()
        session.execute(delete(LoginCounter).where(LoginCounter.key.in_(oldest))
                        .execution_options(synchronize_session=False))


def succeeded(session: Session, charges: Sequence[Charge], email: str, now: datetime) -> None:
    """The right password: clear the account's counters; give the address back the attempt it was
    charged (other accounts may share it, so its count is not cleared)."""
    cleared = [c.key for c in charges if c.rule is not CLIENT] + [_keyed("account", email)]
    session.execute(delete(LoginCounter).where(LoginCounter.key.in_(cleared)))
    for charge in charges:
        if charge.rule is CLIENT:
            session.execute(update(LoginCounter)
                            .where(LoginCounter.key == charge.key, LoginCounter.failures > 0)
                            .values(failures=LoginCounter.failures - 1, last_seen=now))
