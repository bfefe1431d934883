"""What every Aiguillage channel does around Rasa: redact before storing, erase on request."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import response

from bot.core import messages
from bot.core.db import checkpoint, session_scope
from bot.core.privacy import SECRET_KINDS, redact
from bot.core.settings import get_settings
from bot.handoff import inbox
from bot.triage.dialogue import emergency_reply
from bot.triage.safety.screen import screen
from connectors.admission import Verdict, client_address, process_gate, process_limits

logger = logging.getLogger(__name__)

ERASE_TYPE = "effacer"


@dataclass(frozen=True)
class Incoming:
    text: str
    redacted_kinds: tuple

    @property
    def warn(self) -> bool:
        """A secret was masked: the person is told never to send one (a phone number or an e-mail
        address is masked without a word)."""
        return bool(set(self.redacted_kinds) & SECRET_KINDS)


@dataclass(frozen=True)
class Turn:
    """What one turn gave: the replies, the text as stored (secrets masked), and whether the person
    had the conversation erased ("stop", "effacer")."""
    replies: List[dict]
    kept_text: str
    erased: bool


def prepare_incoming(text: str) -> Incoming:
    """Redact sensitive data before the text reaches the NLU, the tracker store or any log."""
    result = redact(text or "")
    return Incoming(text=result.text, redacted_kinds=result.kinds)


def sensitive_warning() -> dict:
    return {"text": messages.text("utter_donnee_sensible")}


def unavailable_message() -> dict:
    settings = get_settings()
    return {"text": messages.text("utter_service_indisponible", ligne_nom=settings.helpline_name,
                                  ligne_telephone=settings.helpline_phone)}


def too_many_message() -> dict:
    settings = get_settings()
    return {"text": messages.text("utter_trop_de_messages", ligne_nom=settings.helpline_name,
                                  ligne_telephone=settings.helpline_phone)}


def address_refusal(request) -> Optional[response.HTTPResponse]:
    """429 when the request's address is past its rate limit (checked before anything else is read)."""
    verdict = process_limits().addresses.check(client_address(request))
    if verdict.allowed:
        return None
    logger.warning("rate limit: an address is past its limit (%d s to wait)", verdict.retry_after)
    return too_many_response(verdict)


def too_many_response(verdict: Verdict) -> response.HTTPResponse:
    return response.json({"erreur": too_many_message()["text"], "code": "trop_de_messages"}, status=429,
                         headers={"Retry-After": str(verdict.retry_after)})


def sender_verdict(sender_id: str) -> Verdict:
    return process_limits().senders.check(sender_id)


def limited_replies(text: str, verdict: Verdict) -> List[dict]:
    """What a message past its sender's limit gets, without a Rasa turn: the emergency number if it
    may tell a danger (every time: the safety screen still reads it), else the polite notice once."""
    screening = screen(prepare_incoming(text).text)
    if screening.tier:
        reply = emergency_reply(screening)
        return [{"text": reply.text(), "custom": reply.custom}]
    return [too_many_message()] if verdict.notify else []


def split_erase_signal(bot_messages: List[dict]) -> tuple[List[dict], bool]:
    """Drop the internal erase signal from the replies and tell whether it was there."""
    kept, erase = [], False
    for message in bot_messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == ERASE_TYPE:
            erase = True
            continue
        kept.append(message)
    return kept, erase


def _unwrap(store: Any) -> Any:
    # FailSafeTrackerStore (and similar wrappers) keep the real store in _tracker_store.
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


def erase_conversation(tracker_store: Any, sender_id: str) -> None:
    """Delete every stored event of one conversation (the person said stop / effacer)."""
    store = _unwrap(tracker_store)
    if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False)
            session.commit()
        checkpoint(store.engine)
    elif hasattr(store, "store") and isinstance(store.store, dict):
        store.store.pop(sender_id, None)
    else:
        logger.warning("tracker store %s cannot erase conversations", type(store).__name__)


class AiguillageInput(InputChannel):
    """Base for our channels: one place for redaction, the turn itself and erasure."""

    def erase_channel_data(self, sender_id: str) -> None:
        """What the channel itself keeps of a conversation, erased with it (nothing by default)."""

    async def route_before_turn(self, factory, sender_id: str, text: str) -> inbox.Routing:
        """A live mediator or a follow-up answer may take the message instead of Rasa."""
        incoming = prepare_incoming(text)

        def run() -> inbox.Routing:
            with session_scope(factory) as session:
                return inbox.route(session, sender_id, incoming.text)

        routing = await asyncio.to_thread(run)
        if not routing.to_rasa and incoming.warn:
            routing.replies.insert(0, sensitive_warning()["text"])
        return routing

    async def keep_contact(self, factory, replies: List[dict], sender_id: str, address: str) -> None:
        """After a turn that created a referral: keep the address (sealed) for the follow-up."""
        if not inbox.references_in(replies):
            return

        def run() -> int:
            with session_scope(factory) as session:
                return inbox.keep_contact(session, replies, sender_id, self.name(), address)

        try:
            await asyncio.to_thread(run)
        except Exception:  # the referral exists; only the follow-up is lost, never the turn
            logger.exception("follow-up contact not kept")

    async def run_turn(self, request, on_new_message, sender_id: str, text: str,
                       metadata: Optional[dict] = None, raise_errors: bool = False) -> List[dict]:
        """One Rasa turn. A turn that fails, or ends without a word (action server down), still
        answers the person: the helpline's number. `raise_errors` lets a channel whose provider
        redelivers (Telegram) have the message sent again instead."""
        outcome = await self.turn(request, on_new_message, sender_id, text, metadata, raise_errors)
        return outcome.replies

    async def turn(self, request, on_new_message, sender_id: str, text: str,
                   metadata: Optional[dict] = None, raise_errors: bool = False) -> "Turn":
        """`run_turn`, telling also what was kept of the text and whether the conversation was erased
        (the desk page clears its screen then)."""
        incoming = prepare_incoming(text)
        meta = dict(metadata or {})
        if incoming.redacted_kinds:
            meta["redacted"] = list(incoming.redacted_kinds)
        collector = CollectingOutputChannel()
        try:
            async with process_gate().turn(sender_id):
                await on_new_message(UserMessage(incoming.text, collector, sender_id, input_channel=self.name(),
                                                 metadata=meta))
        except Exception:
            if raise_errors:
                raise
            logger.exception("Rasa turn failed")
        replies, erase = split_erase_signal(collector.messages)
        if not replies and not erase:
            logger.error("a turn ended without any reply (action server down?): helpline message sent")
            replies = [dict(unavailable_message(), recipient_id=sender_id)]
        if erase:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is not None:
                erase_conversation(agent.tracker_store, sender_id)
            self.erase_channel_data(sender_id)
        if incoming.warn:
            replies.insert(0, dict(sensitive_warning(), recipient_id=sender_id))
        return Turn(replies=replies, kept_text=incoming.text, erased=erase)
