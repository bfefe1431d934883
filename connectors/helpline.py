"""After-hours helpline webhook: the telephony system reports missed calls here (docs/channels.md).

No Rasa turn happens on this route: the conversation starts on the SMS channel when the caller
answers the SMS. All logic lives in bot.handoff.helpline; this is the HTTP adapter.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels import helpline_webhook
from bot.core.db import shared_factory
from bot.core.pseudonyms import pseudonymise
from bot.handoff import helpline
from connectors.base import address_refusal, sender_verdict, too_many_response

logger = logging.getLogger(__name__)

# Errors are read by whoever wires the telephony system, so they are French and specific.
ERRORS = {
    "non_configure": "Le webhook de la ligne d'aide n'est pas configuré (AIGUILLAGE_HELPLINE_SECRET manquant).",
    "signature": "Signature absente ou invalide (en-tête X-Aiguillage-Signature: sha256=<HMAC-SHA256 du corps>).",
    "json_invalide": "Le corps doit être un objet JSON, par exemple "
                     "{\"call_id\": \"...\", \"caller\": \"+33612345678\", "
                     "\"called_at\": \"2026-11-26T21:14:00+01:00\", "
                     "\"reason\": \"missed\"}.",
    "corps_trop_long": "Le corps de la requête est trop long.",
    "appelant_manquant": "Le champ « caller » (numéro de l'appelant) est obligatoire.",
    "numero_invalide": "Le champ « caller » n'est pas un numéro de téléphone valide (ex. +33612345678 ou 0612345678).",
    "date_manquante": "Le champ « called_at » (heure de l'appel) est obligatoire.",
    "date_invalide": "Le champ « called_at » doit être une date ISO 8601 (ex. 2026-11-26T21:14:00+01:00) "
                     "ou un horodatage Unix en secondes.",
    "date_future": "Le champ « called_at » est dans le futur.",
    "identifiant_invalide": "Le champ « call_id » doit être un texte ou un nombre de 128 caractères au plus.",
    "motif_invalide": "Le champ « reason » doit valoir « missed » ou « after_hours ».",
    "erreur_interne": "Erreur interne : l'appel n'a pas pu être enregistré, renvoyez le webhook.",
}


def error(code: str, status: int):
    return response.json({"erreur": ERRORS[code], "code": code}, status=status)


class HelplineInput(InputChannel):
    """Everything is injectable for tests: settings, database, SMS sender, clock."""

    def __init__(self, settings: Optional[helpline.HelplineSettings] = None, session_factory=None,
                 sender_factory: Optional[Callable[[], helpline.SmsSender]] = None,
                 clock: Optional[Callable[[], Any]] = None):
        self.settings = settings if settings is not None else helpline.load_settings()
        self._session_factory = session_factory
        self._sender_factory = sender_factory or helpline.default_sender_factory
        self._clock = clock
        self._service: Optional[helpline.Helpline] = None

    @classmethod
    def name(cls) -> Text:
        return "helpline"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "HelplineInput":
        return cls()

    def service(self) -> helpline.Helpline:
        if self._service is None:
            factory = self._session_factory
            if factory is None:
                factory = shared_factory()
            kwargs = {"clock": self._clock} if self._clock is not None else {}
            self._service = helpline.Helpline(factory, self.settings, self._sender_factory, **kwargs)
        return self._service

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("helpline_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok", "configure": self.settings.configured})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not self.settings.configured:
                return error("non_configure", 503)
            refusal = address_refusal(request)
            if refusal is not None:
                return refusal
            body = request.body or b""
            if not helpline_webhook.verify_signature(body, request.headers.get(helpline_webhook.SIGNATURE_HEADER),
                                             self.settings.secret):
                return error("signature", 403)
            service = self.service()
            try:
                call = helpline_webhook.parse_payload(body, now=service.clock())
            except helpline_webhook.PayloadError as exc:
                return error(exc.code, 413 if exc.code == "corps_trop_long" else 400)
            verdict = sender_verdict(pseudonymise("helpline:" + call.caller))
            if not verdict.allowed:  # the same caller again and again: each call would cost an SMS
                return too_many_response(verdict)
            try:
                result = await service.handle(call)
            except Exception:
                logger.exception("helpline call could not be recorded")
                return error("erreur_interne", 500)
            return response.json(result.as_json(self.settings))

        return bp
