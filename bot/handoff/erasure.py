"""What STOP or "effacer" erases: the personal data of one conversation, on its own channel only.

A conversation is known everywhere by its channel's sender id: the keyed hash of "sms:" + the number,
of "telegram:" + the chat id, or "desk:" + the page's id. No two channels can share one, so erasing
one conversation never reaches the same person's conversation on another channel. The Rasa tracker's
events are deleted by the channel (connectors.base.erase_conversation), the rest here:

- referrals, with their sealed contact, follow-up messages, notes, live conversation and notifications
  to the place, and the callback a desk asked for with one (`callbacks.referral_id`), leaving an anonymous
  residue for the statistics (bot.handoff.referrals.erase_for_sender);
- callbacks the conversation booked at a place (SMS), never a helpline callback for a missed call;
- the SMS numbered choices of the last reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.channels.sms.store import SmsChoices
from bot.handoff.helpline import erase_requested_callbacks
from bot.handoff.referrals import erase_for_sender


@dataclass(frozen=True)
class Erased:
    referrals: int
    callbacks: int


def erase_conversation_data(session: Session, sender_id: str) -> Erased:
    """Erase what our tables hold of the conversation `sender_id` (the channel's Rasa sender id)."""
    referrals = erase_for_sender(session, sender_id)
    callbacks = erase_requested_callbacks(session, sender_id)
    session.execute(delete(SmsChoices).where(SmsChoices.number_key == sender_id))
    return Erased(referrals=referrals, callbacks=callbacks)
