"""Where a person's message goes before Rasa, and what the channel keeps after the turn.

Before the turn: a message belongs to a mediator's live conversation (bot.handoff.takeover) or answers the
"did it work?" follow-up (bot.handoff.followup); otherwise Rasa handles it. After the turn: when the turn
created a referral, the channel's address for the person is kept sealed for the follow-up. The
address never enters Rasa: only the channel knows it, and hands it over here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.messages import text as render
from bot.core.pseudonyms import pseudonymise
from bot.core.references import normalise_reference
from bot.handoff import followup, takeover
from bot.handoff.referrals import Referral


@dataclass
class Routing:
    """to_rasa: whether Rasa must still handle the message; replies: texts to send the person first."""

    to_rasa: bool
    replies: list[str] = field(default_factory=list)
    live_message_id: Optional[int] = None  # the person's message, recorded for the mediator


def route(session: Session, sender_id: str, text: str, now: Optional[datetime] = None) -> Routing:
    """`text` must already be redacted. `sender_id` is the channel's Rasa sender id."""
    now = now or datetime.now(timezone.utc)
    key = pseudonymise(sender_id)
    live = takeover.active_for_conversation(session, key)
    if live is not None:
        referral = session.get(Referral, live.referral_id)
        ended = takeover.end_expired(session, referral, now)
        if ended is None:
            message = takeover.record_from_person(session, live, describe_payload(text), now)
            return Routing(False, live_message_id=message.id)
        # The place has closed meanwhile: tell the person the bot is back, then answer normally.
        ended.status = takeover.SENT
        return Routing(True, [ended.text])
    answer = followup.handle_reply(session, key, text, now)
    if answer is not None:
        return Routing(False, [answer])
    return Routing(True)


def describe_payload(text: str) -> str:
    """A button press or a shared position, as the mediator should read it (the person typed nothing)."""
    import json
    import re


    match = re.match(r"^/(\w+)(\{.*\})?\s*$", text or "", re.S)
    if match is None:
        return text
    if match.group(1) == "position":
        return render("utter_direct_position")
    value = match.group(1)
    try:
        value = str(json.loads(match.group(2) or "{}").get("valeur") or value)
    except (ValueError, AttributeError):
        pass
    return render("utter_direct_bouton", valeur=value)


def references_in(replies: Iterable[dict]) -> list[str]:
    """Reference codes of referrals the turn reported (the result card carries it once created)."""
    found = []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "resultat" and custom.get("reference"):
            code = normalise_reference(str(custom["reference"]))
            if code and code not in found:
                found.append(code)
    return found


def keep_contact(session: Session, replies: Iterable[dict], sender_id: str, channel: str, address: str,
                 now: Optional[datetime] = None) -> int:
    """Seal the person's address for each referral this turn created; returns how many were kept.

    Only a referral of this very conversation is accepted, whatever the replies say."""
    kept = 0
    key = pseudonymise(sender_id)
    for code in references_in(replies):
        referral = session.execute(select(Referral).where(Referral.reference == code,
                                                          Referral.conversation_key == key)).scalar_one_or_none()
        if referral is not None and followup.remember_contact(session, referral, channel, address, now):
            kept += 1
    return kept
