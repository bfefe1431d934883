"""Senders for one notification: e-mail over SMTP, a Telegram chat, a signed webhook.

Every sender raises DeliveryError on failure; `permanent=True` means retrying cannot help (address
refused, chat unknown, webhook rejecting the request), anything else is retried with backoff.
Texts come from the domain (`utter_notif_*`) and the recap in words (bot/handoff/recap.py); the payload holds
codes only, never the person's identifier or their own words.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Optional
from zoneinfo import ZoneInfo

import httpx

from bot.core import crypto, messages
from bot.handoff.notifications.config import NotifySettings
from bot.handoff.recap import Recap, recap
from bot.handoff.recap_labels import FLAGS_LABEL, PLACE_LABEL, REFERRER_LABEL

SIGNATURE_HEADER = "X-Aiguillage-Signature"
SIGNATURE_PREFIX = "sha256="
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT = "orientation.creee"
PARIS = ZoneInfo("Europe/Paris")


class DeliveryError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Notification:
    outbox_id: int
    kind: str
    target: str
    reference: str
    payload: dict
    secret: Optional[str] = None

    @property
    def idempotency_key(self) -> str:
        return f"outbox-{self.outbox_id}"


# --- content -------------------------------------------------------------------------------------------

def consent_text(payload: dict) -> str:
    raw = payload.get("consentement_le")
    if not raw:
        return ""
    return datetime.fromisoformat(raw).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def payload_recap(payload: dict) -> Recap:
    """The recap (bot/handoff/recap.py) of the referral a notification tells about, from its payload."""
    created = payload.get("cree_le") or payload.get("consentement_le")
    return recap(payload.get("faits") or {}, payload.get("niveau") or "", payload.get("canal") or "",
                 datetime.fromisoformat(created) if created else None, payload.get("lieu_nom"))


def recap_lines(summary: Recap) -> list[str]:
    """Everything the place reads about the situation, one "Label : texte" per line."""
    lines = summary.text_lines() + [f"{REFERRER_LABEL} : {summary.referrer}"]
    if summary.place:
        lines.append(f"{PLACE_LABEL} : {summary.place}")
    return lines + [f"{FLAGS_LABEL} : {flag}" for flag in summary.flags]


def summary(payload: dict) -> str:
    """The {situation} of the domain's templates: one line per fact, flag, who referred and the place."""
    told = payload_recap(payload)
    lines = ([] if told.lines else [messages.text("utter_notif_situation_inconnue")]) + recap_lines(told)
    return "".join(f"\n- {line}" for line in lines)


def template_values(payload: dict, settings: NotifySettings) -> dict:
    reasons = payload.get("raisons") or []
    return {
        "reference": payload["reference"],
        "niveau": messages.level_label(payload["niveau"]),
        "raisons": messages.join_reasons(reasons) if reasons else "",
        "situation": summary(payload),
        "consentement": consent_text(payload),
        "lien": settings.referral_link(payload["reference"]),
    }


def render_email(payload: dict, settings: NotifySettings) -> tuple[str, str]:
    values = template_values(payload, settings)
    body = messages.text("utter_notif_courriel", **values) + "\n\n" + messages.text("utter_notif_courriel_fin")
    return messages.text("utter_notif_sujet", **values), body


def render_telegram(payload: dict, settings: NotifySettings) -> str:
    return messages.text("utter_notif_telegram", **template_values(payload, settings))


def webhook_body(notification: Notification, settings: NotifySettings) -> bytes:
    """Codes for machines (`niveau`, `raisons[].code`, `faits`), and the same recap in words as the e-mail for
    people (`recapitulatif`, `texte`): a receiving system shows those, never the codes."""
    payload = notification.payload
    values = template_values(payload, settings)
    summary_ = payload_recap(payload)
    document = {
        "evenement": EVENT,
        "cle_idempotence": notification.idempotency_key,
        "reference": payload["reference"],
        "lieu_id": payload.get("lieu_id"),
        "niveau": payload["niveau"],
        "niveau_libelle": values["niveau"],
        "raisons": [{"code": c, "texte": messages.reason_text(c)} for c in payload.get("raisons") or []],
        "faits": payload.get("faits") or {},
        "recapitulatif": {
            "lignes": [{"cle": line.key, "libelle": line.label, "texte": line.text} for line in summary_.lines],
            "a_savoir": list(summary_.flags),
            "orientee_par": summary_.referrer,
            "lieu": summary_.place,
            "echeance": summary_.deadline.isoformat() if summary_.deadline else None,
        },
        "texte": render_telegram(payload, settings),
        "consentement_le": payload.get("consentement_le"),
        "lien": values["lien"],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    return SIGNATURE_PREFIX + crypto.sign(secret, body)


def verify_signature(secret: str, body: bytes, header: Optional[str]) -> bool:
    """What a receiving system does (documented; used by the tests' fake server)."""
    return (bool(header) and header.startswith(SIGNATURE_PREFIX)
            and crypto.signature_matches(secret, header[len(SIGNATURE_PREFIX):], body))


# --- senders -------------------------------------------------------------------------------------------

class EmailSender:
    def __init__(self, settings: NotifySettings):
        self.settings = settings

    def build(self, notification: Notification) -> EmailMessage:
        subject, body = render_email(notification.payload, self.settings)
        domain = self.settings.smtp_from.rpartition("@")[2] or "aiguillage.invalid"
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = notification.target
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # Same row, same Message-ID: a re-sent copy is recognisable as a duplicate by mail clients.
        message["Message-ID"] = f"<aiguillage.{notification.idempotency_key}.{notification.reference}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        return message

    def _send_sync(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls()
                    smtp.ehlo()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"SMTP destinataire refusé {codes}", permanent=all(c >= 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            # 5xx is final, except authentication trouble: that is ours to fix, then retry.
            permanent = 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 534, 535)
            raise DeliveryError(f"SMTP {exc.smtp_code} {exc.smtp_error!r}"[:500], permanent=permanent)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}"[:500])

    async def send(self, notification: Notification) -> Optional[str]:
        if not self.settings.smtp_configured:
            raise DeliveryError("SMTP non configuré (AIGUILLAGE_SMTP_HOST, AIGUILLAGE_SMTP_FROM)")
        message = self.build(notification)
        await asyncio.to_thread(self._send_sync, message)
        return message["Message-ID"]


def _transient_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


class TelegramSender:
    def __init__(self, settings: NotifySettings, client: Optional[httpx.AsyncClient] = None):
        self.settings = settings
        self.client = client

    async def send(self, notification: Notification) -> Optional[str]:
        s = self.settings
        if not s.telegram_configured:
            raise DeliveryError("Telegram non configuré (AIGUILLAGE_TELEGRAM_TOKEN)")
        url = f"{s.telegram_api_url.rstrip('/')}/bot{s.telegram_token}/sendMessage"
        body = {"chat_id": notification.target, "text": render_telegram(notification.payload, s),
                "disable_web_page_preview": True}
        try:
            if self.client is not None:
                reply = await self.client.post(url, json=body, timeout=s.http_timeout)
            else:
                async with httpx.AsyncClient(timeout=s.http_timeout) as client:
                    reply = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Telegram {type(exc).__name__}")  # never the URL: it holds the token
        try:
            data = reply.json()
        except ValueError:
            data = {}
        if reply.status_code == 200 and data.get("ok"):
            return str((data.get("result") or {}).get("message_id", ""))
        description = str(data.get("description") or "")[:200]
        raise DeliveryError(f"Telegram HTTP {reply.status_code} {description}".strip(),
                            permanent=reply.status_code in (400, 403, 404))


class WebhookSender:
    def __init__(self, settings: NotifySettings, client: Optional[httpx.AsyncClient] = None):
        self.settings = settings
        self.client = client

    async def send(self, notification: Notification) -> Optional[str]:
        if not notification.secret:
            raise DeliveryError("webhook sans secret de signature", permanent=True)
        body = webhook_body(notification, self.settings)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign(notification.secret, body),
                   IDEMPOTENCY_HEADER: notification.idempotency_key,
                   "User-Agent": "Aiguillage-notifications/1"}
        try:
            if self.client is not None:
                reply = await self.client.post(notification.target, content=body, headers=headers,
                                               timeout=self.settings.http_timeout)
            else:
                async with httpx.AsyncClient(timeout=self.settings.http_timeout) as client:
                    reply = await client.post(notification.target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {type(exc).__name__}: {exc}"[:500])
        if 200 <= reply.status_code < 300:
            return None
        raise DeliveryError(f"webhook HTTP {reply.status_code}", permanent=not _transient_status(reply.status_code))


def default_senders(settings: NotifySettings) -> dict:
    return {"email": EmailSender(settings), "telegram": TelegramSender(settings), "webhook": WebhookSender(settings)}
