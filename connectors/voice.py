"""Voice menu on the helpline number: a Twilio-compatible Voice webhook answering TwiML (issue 16).

POST /webhooks/voice/webhook is every step of a call (`?n=<step>` on the steps after the first), and
POST /webhooks/voice/status the gateway's status callback, which closes the call. Both check
X-Twilio-Signature with AIGUILLAGE_SMS_AUTH_TOKEN over AIGUILLAGE_VOICE_PUBLIC_URL (403, nothing run,
when it is wrong); without those settings the channel answers 503. The call itself lives in
bot/handoff/voice/menu.py; no Rasa turn happens here, except the NLU reading a spoken answer (its intent goes
to the safety screen and the triage as for a typed message).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.sms.providers import (
    PayloadError,
    SignatureError,
    SmsSettings,
    TwilioProvider,
    build_sender,
    form_params,
    signed_url,
)
from bot.console.accounts import place_has_console
from bot.core.db import shared_factory
from bot.core.privacy import redact
from bot.core.settings import get_settings
from bot.handoff.services import Orientation
from bot.handoff.voice.calls import CallRequest, VoiceSettings
from bot.handoff.voice.menu import VoiceMenu
from connectors.base import address_refusal

logger = logging.getLogger(__name__)

TWIML = "text/xml"
MAX_SPEECH_CHARS = 500


def _step_number(request: Request) -> Optional[int]:
    raw = request.args.get("n", "0")
    return int(raw) if raw.isdigit() and len(raw) <= 4 else None


class VoiceInput(InputChannel):
    """Everything is injectable for tests: settings, database, triage services, SMS sending, clock."""

    def __init__(self, settings: Optional[VoiceSettings] = None, factory=None, services=None,
                 send_sms=None, clock=None):
        self.settings = settings or VoiceSettings()
        self._factory = factory
        self._services = services
        self._send_sms = send_sms
        self._clock = clock
        self._menu: Optional[VoiceMenu] = None

    @classmethod
    def name(cls) -> Text:
        return "voice"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "VoiceInput":
        return cls()  # configuration comes from AIGUILLAGE_VOICE_* and AIGUILLAGE_SMS_* variables

    def menu(self) -> VoiceMenu:
        if self._menu is None:
            settings = get_settings()
            factory = self._factory or shared_factory(settings.database_url)
            services = self._services or Orientation(factory, settings, place_has_console=place_has_console)
            send_sms = self._send_sms
            if send_sms is None:
                sms = SmsSettings()
                send_sms = build_sender(sms).send if sms.configured else None
            kwargs = {"clock": self._clock} if self._clock is not None else {}
            self._menu = VoiceMenu(factory, services, self.settings, send_sms=send_sms, **kwargs)
        return self._menu

    def _unconfigured(self):
        return response.json({"erreur": "Le menu vocal n'est pas configuré.", "manquant": self.settings.problems()},
                             status=503)

    def _verified(self, request: Request, url: str) -> Optional[dict]:
        """The form fields of a correctly signed request; None otherwise."""
        provider = TwilioProvider(SmsSettings(auth_token=self.settings.auth_token))
        body = request.body or b""
        try:
            provider.verify(request.headers, body, signed_url(url, request.query_string))
            return dict(form_params(body))
        except (SignatureError, PayloadError) as exc:
            logger.warning("voice webhook rejected: %s", exc)
            return None

    async def _intent(self, request: Request, said: str) -> Optional[str]:
        """Rasa's NLU intent of a spoken answer (masked first), as for a typed message; None without a model."""
        agent = getattr(request.app.ctx, "agent", None)
        if not said or agent is None or not hasattr(agent, "parse_message"):
            return None
        try:
            parsed = await agent.parse_message(redact(said).text)
        except Exception:
            logger.exception("NLU of a spoken answer failed: the keypad and the rules still work")
            return None
        return ((parsed or {}).get("intent") or {}).get("name")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        voice = Blueprint("voice_webhook", __name__)

        @voice.route("/", methods=["GET"])
        async def health(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            return response.json({"status": "ok"})

        @voice.route("/webhook", methods=["POST"])
        async def step(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            fields = self._verified(request, self.settings.public_url)
            if fields is None:
                return response.json({"erreur": "Signature absente ou invalide."}, status=403)
            turn = _step_number(request)
            call_sid = (fields.get("CallSid") or "")[:64]
            if turn is None or not call_sid:
                return response.json({"erreur": "CallSid et n (numéro d'étape) sont obligatoires."}, status=400)
            said = (fields.get("SpeechResult") or "")[:MAX_SPEECH_CHARS]
            call = CallRequest(call_sid=call_sid, caller=fields.get("From", ""), turn=turn,
                               digits=fields.get("Digits", "")[:10], speech=said,
                               intent=await self._intent(request, said),
                               dial_status=fields.get("DialCallStatus", ""))
            return response.text(await self.menu().answer(call), content_type=TWIML)

        @voice.route("/status", methods=["POST"])
        async def status(request: Request):
            if not self.settings.configured:
                return self._unconfigured()
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            fields = self._verified(request, self.settings.status_url())
            if fields is None:
                return response.json({"erreur": "Signature absente ou invalide."}, status=403)
            closed = await asyncio.to_thread(self.menu().hang_up, fields.get("CallSid", "")[:64],
                                             fields.get("CallStatus", ""))
            return response.json({"ok": True, "ferme": closed})

        return voice
