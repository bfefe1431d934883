"""Reception-desk channel: the web page, and a REST-compatible webhook behind it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.core.db import session_scope, shared_factory
from bot.core.moments import to_paris
from bot.core.pseudonyms import pseudonymise
from bot.core.settings import get_settings, https_headers
from bot.directory.stats import demo_places_loaded
from bot.handoff import desk_contact
from connectors.base import (
    ERASE_TYPE,
    AiguillageInput,
    address_refusal,
    limited_replies,
    prepare_incoming,
    sender_verdict,
    too_many_response,
)

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static" / "desk"
# The page runs only its own script and style, talks only to this server, and is never framed
# (an agent's screen shows people's situations: no clickjacking, no injected script).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MAX_MESSAGE_CHARS = 2000
DESK_PREFIX = "desk:"
# The page shows the person's message as the server kept it, secrets masked ("mon mdp c'est
# [MOT_DE_PASSE]"), never as typed: one set of rules (bot/core/privacy.py), none in the page.
TYPED_TYPE = "saisie"


def conversation_id(sender: str) -> str:
    """The page chooses its sender id freely: the conversation lives in the desk's own namespace, so
    that a page naming another channel's conversation (an SMS person's pseudonym, 32 hex digits) can
    neither read nor erase it ("stop" erases the desk conversation of that name only)."""
    return DESK_PREFIX + sender[:128]


class DeskInput(AiguillageInput):
    def __init__(self, session_factory=None, clock: Optional[Callable[[], datetime]] = None):
        self._factory = session_factory
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    @property
    def factory(self):
        if self._factory is None:
            self._factory = shared_factory()
        return self._factory

    @classmethod
    def name(cls) -> Text:
        return "desk"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "DeskInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        desk = Blueprint("desk_webhook", __name__)

        @desk.route("/", methods=["GET"])
        async def page(request: Request):
            return await response.file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8",
                                       headers={**PAGE_HEADERS, **https_headers()})

        @desk.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str):
            path = (STATIC_DIR / name).resolve()
            if path.parent != STATIC_DIR or not path.is_file():
                return response.json({"erreur": "introuvable"}, status=404)
            return await response.file(path, headers={"X-Content-Type-Options": "nosniff"})

        @desk.route("/config", methods=["GET"])
        async def config(request: Request):
            settings = get_settings()
            return response.json({"demo": _demo_loaded(),
                                  "helpline": {"nom": settings.helpline_name, "telephone": settings.helpline_phone}})

        @desk.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            payload = request.json if isinstance(request.json, dict) else None
            if payload is None:
                return response.json({"erreur": "JSON attendu : {\"sender\": ..., \"message\": ...}"}, status=400)
            sender = str(payload.get("sender") or "").strip()
            text = payload.get("message")
            if not sender or not isinstance(text, str):
                return response.json({"erreur": "Champs « sender » et « message » obligatoires."}, status=400)
            if len(text) > MAX_MESSAGE_CHARS:
                text = text[:MAX_MESSAGE_CHARS]
            verdict = sender_verdict(conversation_id(sender))
            if not verdict.allowed:
                replies = limited_replies(text, verdict)
                # A danger is answered as any reply (the page shows the number); otherwise the page
                # keeps the typed text and shows why it was not sent.
                return response.json(desk_answer(replies, prepare_incoming(text).text)) \
                    if replies and replies[0].get("custom") else too_many_response(verdict)
            turn = await self.turn(request, on_new_message, conversation_id(sender), text, {"channel": "desk"})
            return response.json(desk_answer(turn.replies, turn.kept_text, turn.erased))

        @desk.route("/contact", methods=["POST"])
        async def contact(request: Request):
            """The phone number (and first name) the desk leaves with a referral of this conversation, after
            the person's own consent. Answers codes (the page says them in French), never the number."""
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            payload = request.json if isinstance(request.json, dict) else {}
            sender = str(payload.get("sender") or "").strip()
            if not sender:
                return response.json({"erreur": desk_contact.NOT_FOUND}, status=404)
            try:
                left = await asyncio.to_thread(self._leave_contact, sender, payload)
            except desk_contact.ContactError as exc:
                status = 404 if exc.code == desk_contact.NOT_FOUND else 400
                return response.json({"erreur": exc.code, "champ": exc.field}, status=status)
            return response.json({
                "reference": left.reference,
                "sms": left.mobile,
                "rappel_le": to_paris(left.callback_due).isoformat() if left.callback_due else None,
                # The slip's contact line, from the mediators' recap (bot/handoff/recap.py).
                "ligne": {"cle": left.line.key, "libelle": left.line.label, "texte": left.line.text},
            })

        return desk

    def _leave_contact(self, sender: str, payload: dict) -> desk_contact.Left:
        def text(name: str) -> Optional[str]:
            value = payload.get(name)
            return value if isinstance(value, str) else None

        with session_scope(self.factory) as session:
            return desk_contact.leave_contact(
                session, pseudonymise(conversation_id(sender)), text("reference"), text("telephone"),
                text("prenom"), consent=payload.get("consentement") is True, callback=payload.get("rappel") is True,
                now=self._clock())


def desk_answer(replies: List[dict], kept_text: str, erased: bool = False) -> List[dict]:
    """The bot's replies, with two "custom" messages for the page (a page or a REST client that does
    not know them skips them, as it skips any unknown custom type): first the person's text as kept,
    secrets masked, for their bubble; last, after "stop" or "effacer", the erase signal, on which the
    page clears the screen and starts a new conversation."""
    answer = [{"custom": {"type": TYPED_TYPE, "texte": kept_text}}, *replies]
    if erased:
        answer.append({"custom": {"type": ERASE_TYPE}})
    return answer


def _demo_loaded() -> bool:
    return demo_places_loaded()
