"""SMS channel through a gateway (Twilio-compatible or generic signed JSON), chosen in configuration.

The webhook checks the gateway's signature, acknowledges at once and handles the message in a
task: STOP opt-outs, numbered choices mapped back to button payloads, one Rasa turn, then each
reply sent as its own SMS of at most 3 segments. Phone numbers are never stored: the Rasa sender
id and every table use a keyed hash of the number.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.sms import choices as sms_choices
from bot.channels.sms.providers import (
    NotConfigured,
    OptedOut,
    PayloadError,
    SendError,
    SignatureError,
    SmsSender,
    SmsSettings,
    build_sender,
    make_provider,
    signed_url,
)
from bot.channels.sms.store import SmsStore, default_store, number_key
from bot.core import messages
from bot.core.db import checkpoint, session_scope
from bot.core.phone import to_e164
from bot.core.settings import get_settings
from bot.core.text import normalize
from bot.handoff import helpline
from bot.handoff.erasure import erase_conversation_data
from connectors.base import (
    AiguillageInput,
    address_refusal,
    erase_conversation,
    limited_replies,
    sender_verdict,
    unavailable_message,
)

logger = logging.getLogger(__name__)

STOP_WORDS = {"stop", "arret"}  # after normalize(): "ARRÊT !" -> "arret"
# Custom payloads whose content the SMS text already carries (result card, emergency number).
REDUNDANT_CUSTOMS = {"resultat", "urgence_vitale", "rappel"}


def is_stop(text: str) -> bool:
    return normalize(text or "") in STOP_WORDS


class SmsOutput(OutputChannel):
    """Sends to a phone number (E.164 or French national form) through the configured gateway."""

    def __init__(self, sender: SmsSender):
        self.sender = sender

    @classmethod
    def name(cls) -> Text:
        return "sms"

    async def send_text(self, to_number: str, text: str) -> str:
        return await self.sender.send(to_number, text)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        try:
            await self.send_text(recipient_id, text)
        except (OptedOut, SendError, NotConfigured) as exc:
            logger.warning("SMS not sent: %s", exc)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        rendered = sms_choices.render(text, sms_choices.choices_from_buttons(buttons))
        await self.send_text_message(recipient_id, rendered)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        return None  # result cards and emergency numbers are already in the text


class SmsInput(AiguillageInput):
    def __init__(self, settings: Optional[SmsSettings] = None, store: Optional[SmsStore] = None,
                 sender: Optional[SmsSender] = None):
        self.settings = settings or SmsSettings()
        self._store = store
        self._sender = sender
        self._tasks: set = set()
        self._locks: dict = {}  # one lock per pseudonymised number (a few hundred bytes each)

    @classmethod
    def name(cls) -> Text:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SmsInput":
        return cls()  # configuration comes from AIGUILLAGE_SMS_* environment variables

    @property
    def store(self) -> SmsStore:
        if self._store is None:
            self._store = default_store()
        return self._store

    @property
    def sender(self) -> SmsSender:
        if self._sender is None:
            # An injected store needs its own sender; otherwise share the pooled one.
            self._sender = (SmsSender(self.settings, self._store) if self._store is not None
                            else build_sender(self.settings))
        return self._sender

    def get_output_channel(self) -> SmsOutput:
        return SmsOutput(self.sender)

    async def drain(self) -> None:
        """Wait for the messages being handled (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _unconfigured(self):
        return response.json({"erreur": "Le canal SMS n'est pas configuré.",
                              "manquant": self.settings.problems()}, status=503)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint("sms_webhook", __name__)

        @sms.route("/", methods=["GET"])
        async def health(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            return response.json({"status": "ok", "fournisseur": self.settings.provider})

        @sms.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            provider = make_provider(self.settings)
            body = request.body or b""
            try:
                provider.verify(request.headers, body, signed_url(self.settings.public_url, request.query_string))
            except (SignatureError, PayloadError) as exc:
                logger.warning("SMS webhook rejected: %s", exc)
                return response.json({"erreur": "Signature absente ou invalide."}, status=403)
            try:
                inbound = provider.parse_inbound(body)
            except PayloadError as exc:
                logger.info("SMS webhook body refused: %s", exc)
                return response.json({"erreur": "Message illisible : ce n'est pas un message du fournisseur "
                                                "SMS configuré."}, status=400)
            ack_body, ack_type = provider.acknowledgement()
            if not self.store.claim_message(f"{provider.name}:{inbound.message_id}"):
                logger.info("SMS webhook retried for an already handled message")
                return response.text(ack_body, content_type=ack_type)
            limited = self._past_limit(inbound.from_number, inbound.text)
            if limited is not None:
                task = asyncio.create_task(self.send_texts(*limited)) if limited[1] else None
            else:
                task = asyncio.create_task(self._handle(request, on_new_message, inbound.from_number, inbound.text))
            if task is None:
                return response.text(ack_body, content_type=ack_type)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return response.text(ack_body, content_type=ack_type)

        @sms.route("/status", methods=["POST"])
        async def status(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            provider = make_provider(self.settings)
            body = request.body or b""
            try:
                provider.verify(request.headers, body, signed_url(self.settings.status_url(), request.query_string))
            except (SignatureError, PayloadError):
                return response.json({"erreur": "Signature absente ou invalide."}, status=403)
            try:
                report = provider.parse_status(body)
            except PayloadError as exc:
                logger.info("SMS status body refused: %s", exc)
                return response.json({"erreur": "Rapport illisible : ce n'est pas un rapport de remise du "
                                                "fournisseur SMS configuré."}, status=400)
            self.store.record_status(report.reference, report.status)
            return response.json({"ok": True})

        return sms

    def _past_limit(self, raw_number: str, text: str) -> Optional[tuple[str, List[str]]]:
        """(number, texts to send) when this sender is past its rate limit: no Rasa turn then. STOP
        always goes through (opting out is a right)."""
        number = to_e164(raw_number)
        if number is None or is_stop(text or ""):
            return None
        verdict = sender_verdict(number_key(number))
        if verdict.allowed:
            return None
        logger.warning("rate limit: an SMS sender is past its limit")
        return number, [reply["text"] for reply in limited_replies(text or "", verdict)]

    async def _handle(self, request: Request, on_new_message, raw_number: str, text: str) -> None:
        try:
            await self.handle_message(request, on_new_message, raw_number, text)
        except Exception:
            logger.exception("SMS handling failed")
            # The gateway was already told "received": the person must not wait for nothing.
            number = to_e164(raw_number)
            if number is not None:
                try:
                    await self.send_texts(number, [unavailable_message()["text"]])
                except Exception:
                    logger.exception("SMS apology not sent")

    async def handle_message(self, request: Request, on_new_message, raw_number: str, text: str) -> None:
        number = to_e164(raw_number)
        if number is None:
            logger.warning("SMS from an invalid number ignored")
            return
        key = number_key(number)
        # One person's messages are handled one after the other: a quick second reply must see the
        # choices remembered by the first.
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._handle_in_order(request, on_new_message, number, key, text)

    async def _handle_in_order(self, request: Request, on_new_message, number: str, key: str, text: str) -> None:
        text = (text or "")[: self.settings.max_inbound_chars]
        if is_stop(text):
            await self.opt_out(request, number, key)
            return
        if self.store.lift_opt_out(key):
            logger.info("an opted-out person wrote again: opt-out lifted")
        # Before the numbered choices: a mediator answering live must see "1" as typed.
        routing = await self.route_before_turn(self.store.factory, key, text)
        if not routing.to_rasa:
            await self.send_texts(number, routing.replies)  # the numbered choices stay as they were
            return
        chosen = sms_choices.match(text, [sms_choices.Choice.from_dict(c) for c in self.store.last_choices(key)])
        if chosen is not None:
            text = chosen.payload
        replies = await self.run_turn(request, on_new_message, key, text, {"channel": "sms"})
        await self.keep_contact(self.store.factory, replies, key, number)
        replies = await self.book_callbacks(replies, number)
        await self.send_replies(number, key, [{"text": reply} for reply in routing.replies] + replies)

    async def book_callbacks(self, replies: List[dict], number: str) -> List[dict]:
        """The person asked the place to call back: book it (the number is only known here)."""
        places = [r["custom"].get("lieu") for r in replies
                  if isinstance(r.get("custom"), dict) and r["custom"].get("type") == "rappel"]
        if not places:
            return replies

        def book() -> None:
            with session_scope(self.store.factory) as session:
                for place_id in places:
                    if helpline.book_callback(session, number, str(place_id)) is None:
                        raise LookupError(place_id)

        try:
            await asyncio.to_thread(book)
        except Exception:
            logger.exception("callback not booked")

            settings = get_settings()
            # Never let the person believe a call will come: replace the confirmation.
            return [{"text": messages.text("utter_rappel_impossible", ligne_nom=settings.helpline_name,
                                           ligne_telephone=settings.helpline_phone)}]
        return replies

    def render_replies(self, replies: List[dict]) -> tuple[list[str], list[dict]]:
        """SMS texts for the bot replies, and the numbered choices to remember (the last buttons)."""
        texts, remembered = [], []
        for reply in replies:
            custom = reply.get("custom")
            if isinstance(custom, dict) and custom.get("type") not in REDUNDANT_CUSTOMS:
                logger.debug("custom payload %s dropped on SMS", custom.get("type"))
            choices = sms_choices.choices_from_buttons(reply.get("buttons") or [])
            text = reply.get("text") or ""
            if choices:
                remembered = [c.as_dict() for c in choices]
                text = sms_choices.render(text, choices)
            if text.strip():
                texts.append(text)
        return texts, remembered

    async def send_replies(self, number: str, key: str, replies: List[dict]) -> None:
        texts, remembered = self.render_replies(replies)
        self.store.remember_choices(key, remembered)
        await self.send_texts(number, texts)

    async def send_texts(self, number: str, texts: List[str]) -> None:
        for text in texts:
            try:
                await self.sender.send(number, text)
            except OptedOut:
                return
            except (SendError, NotConfigured) as exc:
                logger.error("SMS reply not sent: %s", exc)

    async def opt_out(self, request: Request, number: str, key: str) -> None:
        """STOP: record it, erase this person's data, confirm once, then stay silent."""
        first = self.store.opt_out(key)
        with session_scope(self.store.factory) as session:
            erase_conversation_data(session, key)
        checkpoint(self.store.factory)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is not None:
            erase_conversation(agent.tracker_store, key)
        if first:
            try:
                await self.sender.deliver(number, messages.text("utter_sms_stop_confirme"), check_opt_out=False)
            except (SendError, NotConfigured) as exc:
                logger.error("STOP confirmation not sent: %s", exc)
