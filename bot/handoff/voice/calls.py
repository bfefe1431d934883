"""A call to the voice menu, as stored and as received: its tables, the menu's settings, one webhook's
content, and the helpline's callback a call may book.

The caller's number is never stored by the menu: the call row keeps its keyed pseudonym; the number
itself comes with every webhook and is sealed only by a callback booking (bot/handoff/helpline.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable, Optional
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import JSON, Column, Integer, String, Text, select

from bot.core.codes import CallbackReason
from bot.core.db import Base, UtcDateTime
from bot.core.moments import to_paris, utc
from bot.core.pseudonyms import pseudonymise
from bot.core.retention_policy import older_than
from bot.core.settings import setting
from bot.handoff import helpline


class VoiceCall(Base):
    """One call's state, by the gateway's CallSid; the caller only as a keyed pseudonym."""

    __tablename__ = "voice_calls"
    __retention__ = older_than("started_at", "calls to the voice menu: where the triage stood")

    call_sid = Column(String(64), primary_key=True)
    caller_key = Column(String(64), nullable=False, index=True)
    step = Column(String(32), nullable=False)
    turn = Column(Integer, nullable=False, default=0)  # the step number the next webhook carries
    misses = Column(Integer, nullable=False, default=0)
    triage = Column(JSON, nullable=True)  # bot/triage/dialogue.py's state (codes, never what was said)
    data = Column(JSON, nullable=True)  # the menu's own: the postcode to confirm, the place, the reference
    started_at = Column(UtcDateTime(), nullable=False)
    updated_at = Column(UtcDateTime(), nullable=False)
    ended_at = Column(UtcDateTime(), nullable=True)


class VoiceAnswer(Base):
    """The TwiML answered to each step of a call: a repeated webhook gets it again, and nothing runs twice."""

    __tablename__ = "voice_answers"
    __retention__ = older_than("created_at", "answers of the voice menu (prompts, no personal data)")

    call_sid = Column(String(64), primary_key=True)
    turn = Column(Integer, primary_key=True, autoincrement=False)
    twiml = Column(Text, nullable=True)  # None while the step runs
    created_at = Column(UtcDateTime(), nullable=False)


@dataclass(frozen=True)
class VoiceSettings:
    public_url: str = field(default_factory=lambda: setting("AIGUILLAGE_VOICE_PUBLIC_URL") or "")
    auth_token: str = field(default_factory=lambda: setting("AIGUILLAGE_SMS_AUTH_TOKEN") or "")
    transfer_number: str = field(default_factory=lambda: setting("AIGUILLAGE_VOICE_TRANSFER_NUMBER") or "")
    hours: str = field(default_factory=lambda: setting("AIGUILLAGE_HELPLINE_HOURS"))

    def problems(self) -> list[str]:
        return [name for name, value in (("AIGUILLAGE_VOICE_PUBLIC_URL", self.public_url),
                                         ("AIGUILLAGE_SMS_AUTH_TOKEN", self.auth_token)) if not value]

    @property
    def configured(self) -> bool:
        return not self.problems()

    def status_url(self) -> str:
        base = self.public_url.rstrip("/")
        return base[: -len("/webhook")] + "/status" if base.endswith("/webhook") else base + "/status"

    def step_url(self, turn: int) -> str:
        """Where the gateway posts the answer to step `turn` (signed by the gateway, so never forged)."""
        return urlunsplit(urlsplit(self.public_url)._replace(query=urlencode({"n": turn})))


@dataclass(frozen=True)
class CallRequest:
    call_sid: str
    caller: str  # as the gateway sent it (From); kept in memory only
    turn: int
    digits: str = ""
    speech: str = ""
    intent: Optional[str] = None  # Rasa's NLU intent of the speech, when the channel has the model
    dial_status: str = ""


SmsSend = Callable[[str, str], Awaitable[str]]


def book_line_callback(session, number: str, line: helpline.HelplineSettings, now: datetime) -> datetime:
    """A callback by the helpline's coordinators at its next opening (no place chosen yet): one per
    caller and day."""
    _open, due, _from_hours = helpline.callback_time(line, now, now)
    key = pseudonymise(f"voice-callback:{helpline.caller_pseudonym(number)}:{to_paris(now).date()}")
    existing = session.execute(select(helpline.Callback).where(helpline.Callback.call_key == key)).scalar()
    if existing is not None:
        return existing.due_at
    session.add(helpline.Callback(
        call_key=key, caller_encrypted=helpline.encrypt_number(number),
        caller_pseudonym=helpline.caller_pseudonym(number),
        called_at=utc(now), due_at=utc(due), status=helpline.STATUS_TO_CALL, created_at=utc(now),
        reason=CallbackReason.VOICE.value, sms_state=helpline.SMS_IMPOSSIBLE, sms_attempts=0,
        sms_updated_at=utc(now), place_id=line.place_id))
    session.flush()
    return utc(due)
