"""Telegram channel (webhook). The logic lives in bot.channels.telegram; this is the Rasa adapter.

Choices (see docs/channels.md): the Rasa turn and the sends run inside the webhook request, so
Telegram's own redelivery covers a crash; the update id is claimed first in a shared table so a
redelivery is never processed twice. The sender id given to Rasa is a keyed hash of the chat
id; the chat id itself only lives in memory for the turn.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from telegram.error import TelegramError

from bot.channels.telegram.rendering import notice, render_replies, unsupported_response
from bot.channels.telegram.sending import RetryPolicy, send_outgoing
from bot.channels.telegram.settings import SECRET_HEADER, TelegramSettings, make_bot
from bot.channels.telegram.stores import ChoiceStore, UpdateStore
from bot.channels.telegram.updates import Inbound, parse_update
from bot.core.db import checkpoint, shared_factory
from bot.core.pseudonyms import pseudonymise
from connectors.base import AiguillageInput, address_refusal, limited_replies, sender_verdict

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
NOT_CONFIGURED = ("Canal Telegram non configuré : définissez AIGUILLAGE_TELEGRAM_TOKEN et "
                  "AIGUILLAGE_TELEGRAM_SECRET (lettres, chiffres, _ ou -).")


def sender_for(chat_id: int) -> str:
    return pseudonymise(f"{CHANNEL}:{chat_id}")


class TelegramOutput(OutputChannel):
    """Sends to a Telegram chat id given explicitly (the webhook turn, or later proactive messages)."""

    def __init__(self, bot, policy: RetryPolicy, choices: ChoiceStore):
        self.bot = bot
        self.policy = policy
        self.choices = choices

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    async def send_replies(self, chat_id: int, replies: List[dict]) -> int:
        key = sender_for(int(chat_id))
        outgoing = render_replies(replies, lambda payloads: self.choices.issue(key, payloads))
        return await send_outgoing(self.bot, int(chat_id), outgoing, self.policy)

    async def send_notice(self, chat_id: int, key: str, offer_location: bool = False) -> int:
        return await send_outgoing(self.bot, int(chat_id), notice(key, offer_location), self.policy)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        # Keep text, buttons and card of one response together (Rasa's default splits them).
        await self.send_replies(int(recipient_id), [message])

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_replies(int(recipient_id), [{"text": text}])

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self.send_replies(int(recipient_id), [{"text": text, "buttons": buttons}])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self.send_replies(int(recipient_id), [{"custom": json_message}])


class TurnFailed(Exception):
    pass


class TelegramInput(AiguillageInput):
    def __init__(self, settings: Optional[TelegramSettings] = None, factory=None):
        self.settings = settings or TelegramSettings.from_env()
        self._factory = factory
        self._bot = None
        self._updates: Optional[UpdateStore] = None
        self._choices: Optional[ChoiceStore] = None

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        # Configuration comes from the environment only: no token in credentials.yml.
        return cls()

    # Lazy: nothing touches the database or the network before the first request.
    def _stores(self) -> tuple:
        if self._updates is None:
            factory = self._factory
            if factory is None:
                factory = shared_factory()
            self._factory = factory
            self._updates, self._choices = UpdateStore(factory), ChoiceStore(factory)
        return self._updates, self._choices

    def _stores_factory(self):
        self._stores()
        return self._factory

    def output(self) -> TelegramOutput:
        if self._bot is None:
            self._bot = make_bot(self.settings)
        return TelegramOutput(self._bot, self.settings.retry_policy(), self._stores()[1])

    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.output() if self.settings.configured else None

    async def close(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("telegram_webhook", __name__)

        @telegram.listener("after_server_stop")
        async def shutdown(app, loop):
            await self.close()

        @telegram.route("/", methods=["GET"])
        async def health(request: Request):
            if not self.settings.configured:
                return response.json({"erreur": NOT_CONFIGURED}, status=503)
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not self.settings.configured:
                return response.json({"erreur": NOT_CONFIGURED}, status=503)
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            if not self.settings.secret_matches(request.headers.get(SECRET_HEADER)):
                return response.json({"erreur": "Accès refusé."}, status=403)
            try:
                payload = request.json
            except Exception:
                payload = None
            inbound = parse_update(payload)
            if inbound is None:
                return response.json({"erreur": "Mise à jour Telegram attendue."}, status=400)
            if inbound.kind == "ignored" or inbound.chat_id is None:
                return response.json({"ok": True})
            updates, _ = self._stores()
            if not updates.claim(inbound.update_id):
                return response.json({"ok": True, "doublon": True})
            if await self._past_limit(inbound):
                return response.json({"ok": True, "limite": True})
            try:
                await self._handle(request, on_new_message, inbound)
            except TurnFailed:
                # Let Telegram redeliver: forget the id so the retry is processed.
                updates.release(inbound.update_id)
                return response.json({"erreur": "Réessayez plus tard."}, status=500)
            return response.json({"ok": True})

        return telegram

    async def _past_limit(self, inbound: Inbound) -> bool:
        """True when this chat is past its rate limit: no Rasa turn, a danger still gets its number."""
        verdict = sender_verdict(sender_for(inbound.chat_id))
        if verdict.allowed:
            return False
        logger.warning("rate limit: a Telegram chat is past its limit")
        # A button's data is a token, not words: only typed text is screened.
        replies = limited_replies(inbound.text if inbound.kind == "text" else "", verdict)
        if replies:
            try:
                await self.output().send_replies(inbound.chat_id, replies)
            except Exception:  # the update is acknowledged either way: Telegram must not redeliver a flood
                logger.exception("Telegram rate-limit notice not sent")
        return True

    async def _handle(self, request: Request, on_new_message, inbound: Inbound) -> None:
        output = self.output()
        chat_id = inbound.chat_id
        sender_id = sender_for(chat_id)
        text = inbound.text
        try:
            if inbound.kind == "callback":
                await self._answer_callback(inbound.callback_query_id)  # the spinner stops either way
                text = output.choices.redeem(sender_id, inbound.text or "")
                if text is None:
                    # Not a button this chat was offered (expired, forged, another chat's): no turn.
                    logger.info("button press dropped: not offered to this chat")
                    await output.send_notice(chat_id, "utter_telegram_bouton_expire")
                    return
            if inbound.kind == "unsupported":
                await output.send_notice(chat_id, unsupported_response(inbound.unsupported), offer_location=True)
                return
        except TelegramError as exc:
            logger.error("Telegram send failed: %s", exc)
            return
        try:
            routing = await self.route_before_turn(self._stores_factory(), sender_id, text)
            if not routing.to_rasa:
                await output.send_replies(chat_id, [{"text": reply} for reply in routing.replies])
                return
            replies = await self.run_turn(request, on_new_message, sender_id, text, {"channel": CHANNEL},
                                          raise_errors=True)
        except TelegramError as exc:
            logger.error("Telegram send failed: %s", exc)
            return
        except Exception as exc:
            logger.exception("Rasa turn failed")
            raise TurnFailed() from exc
        await self.keep_contact(self._stores_factory(), replies, sender_id, str(chat_id))
        try:
            await output.send_replies(chat_id, [{"text": reply} for reply in routing.replies] + replies)
        except TelegramError as exc:
            # The turn already happened: a redelivery would run it twice, so we only log.
            logger.error("Telegram send failed after retries: %s", exc)

    def erase_channel_data(self, sender_id: str) -> None:
        """STOP or "effacer": the buttons offered to this chat go with its conversation."""
        _, choices = self._stores()
        choices.erase(sender_id)
        checkpoint(self._factory)

    async def _answer_callback(self, callback_query_id: Optional[str]) -> None:
        if not callback_query_id:
            return
        try:
            # A short policy: the spinner only matters for a few seconds.
            policy = RetryPolicy(max_attempts=2, base_delay=self.settings.backoff_base,
                                 max_delay=self.settings.backoff_max)
            await policy.call(lambda: self.output().bot.answer_callback_query(callback_query_id))
        except TelegramError as exc:
            logger.warning("answerCallbackQuery failed: %s", exc)
