"""Telegram channel logic that does not need Rasa: settings, reading updates, rendering replies
(HTML parse mode, 4096-character split, keyboards), the duplicate-update and button-token
stores, the retry policy, and the two admin commands (register the webhook, long polling).

connectors/telegram.py is the thin Rasa adapter on top of this module.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import math
import re
import secrets
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable, List, Optional

from sqlalchemy import BigInteger, Column, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.core import messages
from bot.core.db import Base, UtcDateTime, session_scope
from bot.core.references import CODE_ALPHABET, normalise_reference
from bot.core.retention_policy import older_than
from bot.core.settings import setting

logger = logging.getLogger(__name__)

MAX_MESSAGE_UNITS = 4096  # Telegram's limit, counted in UTF-16 code units to be safe with emoji
MAX_CALLBACK_BYTES = 64
ALLOWED_UPDATES = ("message", "callback_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
TOKEN_BYTES = 16  # random bytes of a button token: 22 characters of callback_data
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # what secrets.token_urlsafe(TOKEN_BYTES) gives
MAX_OFFERS = 10  # keyboards of one chat whose buttons still work (a person may scroll up and press)
TOKEN_LIFETIME = timedelta(days=1)
REMOTE_PAYLOAD = '/choix{"valeur": "a_distance"}'
TOWN_QUESTIONS = ("utter_ask_commune", "utter_commune_inconnue")
COORDINATE_DECIMALS = 3  # about 100 m: enough to find the nearest place, no exact home address
COMMANDS = {"/start": "/saluer", "/aide": "/aide", "/help": "/aide", "/stop": "/stop",
            "/recommencer": "/recommencer"}

# Message kinds we cannot read, grouped by the reply that explains what to send instead.
UNSUPPORTED_KINDS = {
    "voice": "vocal", "video_note": "vocal", "audio": "vocal",
    "photo": "image", "video": "image", "document": "image", "animation": "image",
    "sticker": "autre", "contact": "contact", "poll": "autre", "dice": "autre", "venue": "autre",
}
IGNORED_UPDATES = ("edited_message", "edited_channel_post", "channel_post")


# --- settings ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    secret: str = ""
    api_url: str = "https://api.telegram.org"
    forward_url: str = "http://127.0.0.1:5005/webhooks/telegram/webhook"
    pool_size: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    poll_timeout: int = 25

    @classmethod
    def from_env(cls, env: Optional[dict] = None) -> "TelegramSettings":
        return cls(
            token=setting("AIGUILLAGE_TELEGRAM_TOKEN", env) or "",
            secret=setting("AIGUILLAGE_TELEGRAM_SECRET", env) or "",
            api_url=setting("AIGUILLAGE_TELEGRAM_API_URL", env),
            forward_url=setting("AIGUILLAGE_TELEGRAM_FORWARD_URL", env),
            pool_size=setting("AIGUILLAGE_TELEGRAM_POOL_SIZE", env),
            connect_timeout=setting("AIGUILLAGE_TELEGRAM_CONNECT_TIMEOUT", env),
            read_timeout=setting("AIGUILLAGE_TELEGRAM_READ_TIMEOUT", env),
            write_timeout=setting("AIGUILLAGE_TELEGRAM_WRITE_TIMEOUT", env),
            pool_timeout=setting("AIGUILLAGE_TELEGRAM_POOL_TIMEOUT", env),
            max_attempts=setting("AIGUILLAGE_TELEGRAM_MAX_ATTEMPTS", env),
            backoff_base=setting("AIGUILLAGE_TELEGRAM_BACKOFF", env),
            poll_timeout=setting("AIGUILLAGE_TELEGRAM_POLL_TIMEOUT", env),
        )

    @property
    def configured(self) -> bool:
        return bool(self.token) and bool(SECRET_PATTERN.match(self.secret))

    @property
    def base_url(self) -> str:
        return self.api_url.rstrip("/") + "/bot"

    def secret_matches(self, header: Optional[str]) -> bool:
        if not header or not self.secret:
            return False
        # The server keeps bytes that are not UTF-8 as lone surrogates: never our secret, a 403.
        try:
            received = header.encode("utf-8")
        except UnicodeError:
            return False
        return hmac.compare_digest(received, self.secret.encode("utf-8"))

    def retry_policy(self) -> "RetryPolicy":
        return RetryPolicy(max_attempts=self.max_attempts, base_delay=self.backoff_base, max_delay=self.backoff_max)


def make_bot(settings: TelegramSettings):
    """python-telegram-bot Bot with a bounded connection pool and explicit timeouts."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    def request(pool: int) -> HTTPXRequest:
        return HTTPXRequest(connection_pool_size=pool, connect_timeout=settings.connect_timeout,
                            read_timeout=settings.read_timeout, write_timeout=settings.write_timeout,
                            pool_timeout=settings.pool_timeout)

    # getUpdates gets its own small pool so a long poll never starves the sends.
    return Bot(settings.token, base_url=settings.base_url, request=request(settings.pool_size),
               get_updates_request=request(1))


# --- reading updates -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inbound:
    """What one update asks of us. kind: text, callback, location, unsupported, ignored."""

    kind: str
    update_id: Optional[int] = None
    chat_id: Optional[int] = None
    text: Optional[str] = None
    callback_query_id: Optional[str] = None
    unsupported: Optional[str] = None


def position_payload(latitude: float, longitude: float) -> str:
    lat, lon = round(float(latitude), COORDINATE_DECIMALS), round(float(longitude), COORDINATE_DECIMALS)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError("coordinates must be finite numbers")
    return "/position" + json.dumps({"latitude": lat, "longitude": lon})


def command_text(text: str) -> str:
    """Telegram commands (/start, /aide@MonBot) become our intents; other slashes are plain text."""
    stripped = text.strip()
    if stripped.startswith("/"):
        head = stripped.split()[0].split("@")[0].lower()
        if head in COMMANDS:
            return COMMANDS[head]
        # A typed "/something" must not reach Rasa as an intent payload.
        return stripped.lstrip("/").strip() or stripped
    return text


def _mapping(value: Any) -> dict:
    """A JSON object, or {} for anything else (a string or a list where Telegram sends an object)."""
    return value if isinstance(value, dict) else {}


def parse_update(update: Any) -> Optional[Inbound]:
    """Read a Telegram Update JSON object; None when it is not a valid update."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return None
    update_id = update["update_id"]
    if any(key in update for key in IGNORED_UPDATES):
        return Inbound("ignored", update_id)
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat = _mapping(_mapping(query.get("message")).get("chat")).get("id")
        return Inbound("callback", update_id, chat if isinstance(chat, int) else None,
                       text=query.get("data") if isinstance(query.get("data"), str) else None,
                       callback_query_id=str(query.get("id") or ""))
    message = update.get("message")
    if not isinstance(message, dict):
        return Inbound("ignored", update_id)
    chat_id = _mapping(message.get("chat")).get("id")
    if not isinstance(chat_id, int):
        return Inbound("ignored", update_id)
    location = message.get("location")
    if isinstance(location, dict) and "venue" not in message:
        try:
            return Inbound("location", update_id, chat_id,
                           text=position_payload(location["latitude"], location["longitude"]))
        except (KeyError, TypeError, ValueError, OverflowError):
            return Inbound("ignored", update_id)
    if isinstance(message.get("text"), str) and message["text"].strip():
        return Inbound("text", update_id, chat_id, text=command_text(message["text"]))
    for key, group in UNSUPPORTED_KINDS.items():
        if key in message:
            return Inbound("unsupported", update_id, chat_id, unsupported=group)
    # Service messages (someone joined, pinned...): nothing to answer.
    return Inbound("ignored", update_id)


def unsupported_response(group: str) -> str:
    return f"utter_telegram_{group}"


def notice(key: str, offer_location: bool = False) -> List["Outgoing"]:
    """One of our own channel messages (unsupported content, expired button), location button optional."""
    button = messages.text("utter_telegram_bouton_position") if offer_location else None
    return [Outgoing(format_html(messages.text(key)), location_button=button)]


# --- rendering -----------------------------------------------------------------------------------------

_CODE_CHARS = re.escape(CODE_ALPHABET)
_REFERENCE = re.compile(rf"(?<![A-Za-z0-9])[{_CODE_CHARS}]{{3}}-[{_CODE_CHARS}]{{4}}(?![A-Za-z0-9])")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def format_html(plain: str) -> str:
    """Escape for parse_mode=HTML and put reference codes in bold."""
    escaped = html.escape(plain, quote=False)

    def bold(match: re.Match) -> str:
        return f"<b>{match.group(0)}</b>" if normalise_reference(match.group(0)) else match.group(0)

    return _REFERENCE.sub(bold, escaped)


def _cut_index(text: str, limit: int) -> int:
    """Largest index i such that text[:i] fits in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> List[str]:
    """Split on paragraph, then line, then word boundaries; hard cut only inside a huge word."""
    chunks: List[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            chunks.append(rest)
            break
        window = _cut_index(rest, limit)
        cut = -1
        for separator in ("\n\n", "\n", " "):
            position = rest.rfind(separator, 0, window + 1)
            if position > 0:
                cut = position
                break
        if cut <= 0:
            cut = window
        chunk, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if chunk:
            chunks.append(chunk)
    return chunks


@dataclass
class Outgoing:
    """One Telegram message: HTML text plus at most one keyboard."""

    html: str
    inline_buttons: List[List[tuple]] = field(default_factory=list)  # rows of (title, callback_data)
    location_button: Optional[str] = None
    remove_keyboard: bool = False

    def reply_markup(self) -> Optional[dict]:
        """The reply_markup as Bot API JSON."""
        if self.inline_buttons:
            return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row]
                                        for row in self.inline_buttons]}
        if self.location_button:
            return {"keyboard": [[{"text": self.location_button, "request_location": True}]],
                    "resize_keyboard": True, "one_time_keyboard": True}
        if self.remove_keyboard:
            return {"remove_keyboard": True}
        return None


def _labelled(key: str, value_html: str, **values) -> str:
    """A domain template with one value already in HTML: escape the template, not the value."""
    marker = "\x00"
    parts = messages.text(key, valeur=marker, **values).split(marker)
    return value_html.join(html.escape(p, quote=False) for p in parts)


def osm_link(latitude: Any, longitude: Any) -> Optional[str]:
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"


def render_card(custom: dict) -> Optional[str]:
    """Result card or life-threatening emergency as an HTML block; None for anything else."""
    kind = custom.get("type")
    if kind == "urgence_vitale":
        number = str(custom.get("numero") or "").strip()
        return f"<b>{html.escape(number, quote=False)}</b>" if number else None
    if kind != "resultat":
        return None
    place = custom.get("lieu") if isinstance(custom.get("lieu"), dict) else {}
    esc = lambda value: html.escape(str(value), quote=False)  # noqa: E731
    lines = []
    if place.get("nom"):
        lines.append(f"<b>{esc(place['nom'])}</b>")
    if place.get("adresse"):
        lines.append(esc(place["adresse"]))
    town = " ".join(str(place[k]) for k in ("code_postal", "commune") if place.get(k))
    if town:
        lines.append(esc(town))
    if place.get("prochaine_ouverture"):
        lines.append(esc(place["prochaine_ouverture"]))
    if place.get("telephone"):
        lines.append(_labelled("utter_telegram_fiche_telephone", esc(place["telephone"])))
    if custom.get("reference"):
        lines.append(_labelled("utter_telegram_fiche_reference", f"<b>{esc(custom['reference'])}</b>"))
    link = osm_link(place.get("latitude"), place.get("longitude"))
    if link:
        title = html.escape(messages.text("utter_telegram_fiche_carte"), quote=False)
        lines.append(f'<a href="{html.escape(link, quote=True)}">{title}</a>')
    return "\n".join(lines) or None


def asks_for_town(reply: dict, town_texts: Iterable[str]) -> bool:
    payloads = [b.get("payload") for b in reply.get("buttons") or [] if isinstance(b, dict)]
    return REMOTE_PAYLOAD in payloads or (reply.get("text") or "").strip() in set(town_texts)


def render_replies(replies: List[dict], issue_tokens: Callable[[List[str]], List[str]]) -> List[Outgoing]:
    """Rasa replies (text, buttons, custom) → Telegram messages, in order. `issue_tokens` gives the
    callback_data of one keyboard's payloads (ChoiceStore.issue for the chat)."""
    town_texts = [messages.text(key).strip() for key in TOWN_QUESTIONS]
    out: List[Outgoing] = []
    offer_location = False
    for reply in replies:
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            chunks = [format_html(c) for c in split_text(text)]
            buttons = [b for b in reply.get("buttons") or [] if isinstance(b, dict) and b.get("payload")]
            out.extend(Outgoing(c) for c in chunks)
            if buttons and out:
                tokens = issue_tokens([str(b["payload"]) for b in buttons])
                out[-1].inline_buttons = [[(str(b.get("title") or b["payload"]), token)]
                                          for b, token in zip(buttons, tokens)]
            offer_location = offer_location or asks_for_town(reply, town_texts)
        custom = reply.get("custom")
        if isinstance(custom, dict):
            block = render_card(custom)
            if block:
                out.append(Outgoing(block))
    if offer_location:
        out.append(Outgoing(html.escape(messages.text("utter_telegram_position"), quote=False),
                            location_button=messages.text("utter_telegram_bouton_position")))
    else:
        # Hide a location keyboard left over from an earlier question.
        for message in out:
            if not message.inline_buttons:
                message.remove_keyboard = True
                break
    return out


# --- stores --------------------------------------------------------------------------------------------

class SeenUpdate(Base):
    """Update ids already handled: Telegram redelivers, and several Rasa instances share this table."""

    __tablename__ = "telegram_updates"
    __retention__ = older_than("seen_at", "Telegram update ids already handled")

    update_id = Column(BigInteger, primary_key=True, autoincrement=False)
    seen_at = Column(UtcDateTime(), nullable=False, index=True)


class ButtonToken(Base):
    """One inline button offered to one chat: its callback_data is a random token, mapped here to the
    button's payload. The chat is named by its conversation's pseudonym, never by its id. Payloads come
    from our own responses (intents, choice codes, INSEE codes, place ids), never from what the person
    typed; rows go after MAX_OFFERS newer keyboards, after TOKEN_LIFETIME, and on STOP or "effacer"."""

    __tablename__ = "telegram_button_tokens"
    __retention__ = older_than("created_at", "buttons offered to a chat")

    token = Column(String(32), primary_key=True)
    conversation_key = Column(String(64), nullable=False, index=True)
    offer = Column(String(16), nullable=False)  # the buttons of one message share it
    payload = Column(Text, nullable=False)
    created_at = Column(UtcDateTime(), nullable=False, index=True)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class UpdateStore:
    """claim(update_id) is True once per id across all instances sharing the database."""

    def __init__(self, factory, retention: timedelta = timedelta(hours=48), prune_every: int = 200):
        self.factory = factory
        self.retention = retention
        self.prune_every = prune_every
        self._claims = 0

    def claim(self, update_id: int, now: Optional[datetime] = None) -> bool:
        now = now or _now()
        if self._claims % self.prune_every == 0:
            self.prune(now)
        self._claims += 1
        try:
            with session_scope(self.factory) as session:
                session.add(SeenUpdate(update_id=int(update_id), seen_at=now))
        except IntegrityError:
            return False
        return True

    def release(self, update_id: int) -> None:
        """Forget an id whose processing failed, so Telegram's redelivery is handled."""
        with session_scope(self.factory) as session:
            session.execute(delete(SeenUpdate).where(SeenUpdate.update_id == int(update_id)))

    def prune(self, now: Optional[datetime] = None) -> int:
        # Telegram keeps undelivered updates for 24 hours; ids older than the retention cannot come back.
        limit = (now or _now()) - self.retention
        with session_scope(self.factory) as session:
            result = session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < limit))
            return result.rowcount or 0


class ChoiceStore:
    """Inline buttons <-> callback_data. Each button carries a random token issued to its chat; a press
    maps back to a payload only if that chat was offered the token, in one of its last `max_offers`
    keyboards and within `lifetime`. A forged callback_data (a payload, another chat's token) maps to
    nothing. Kept in the database: tokens survive a restart and serve every Rasa instance."""

    def __init__(self, factory, max_offers: int = MAX_OFFERS, lifetime: timedelta = TOKEN_LIFETIME):
        self.factory = factory
        self.max_offers = max_offers
        self.lifetime = lifetime

    def issue(self, conversation_key: str, payloads: List[str], now: Optional[datetime] = None) -> List[str]:
        """One new token per payload, for one keyboard offered to this conversation."""
        now = now or _now()
        tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in payloads]
        offer = secrets.token_hex(8)
        with session_scope(self.factory) as session:
            session.add_all(ButtonToken(token=token, conversation_key=conversation_key, offer=offer,
                                        payload=payload, created_at=now) for token, payload in zip(tokens, payloads))
            self._prune(session, conversation_key, offer, now)
        return tokens

    def _prune(self, session, conversation_key: str, current: str, now: datetime) -> None:
        session.execute(delete(ButtonToken).where(ButtonToken.created_at < now - self.lifetime))
        newest = func.max(ButtonToken.created_at)
        older = session.execute(
            select(ButtonToken.offer).where(ButtonToken.conversation_key == conversation_key,
                                            ButtonToken.offer != current)
            .group_by(ButtonToken.offer).order_by(newest.desc())).scalars().all()
        dropped = older[max(self.max_offers - 1, 0):]
        if dropped:
            session.execute(delete(ButtonToken).where(ButtonToken.conversation_key == conversation_key,
                                                      ButtonToken.offer.in_(dropped)))

    def redeem(self, conversation_key: str, data: str, now: Optional[datetime] = None) -> Optional[str]:
        """The payload of a pressed button, or None when this conversation was not offered `data`."""
        if not TOKEN_PATTERN.fullmatch(data or ""):
            return None  # not one of our tokens: no query (a forged value may be anything)
        limit = (now or _now()) - self.lifetime
        with session_scope(self.factory) as session:
            return session.execute(
                select(ButtonToken.payload).where(ButtonToken.token == data,
                                                  ButtonToken.conversation_key == conversation_key,
                                                  ButtonToken.created_at >= limit)).scalar_one_or_none()

    def erase(self, conversation_key: str) -> int:
        """STOP or "effacer": forget every button offered to this conversation."""
        with session_scope(self.factory) as session:
            result = session.execute(delete(ButtonToken).where(ButtonToken.conversation_key == conversation_key))
            return result.rowcount or 0



# --- retries -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0  # a longer flood wait is not worth holding the webhook request

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))

    def delay_for(self, exc: BaseException, attempt: int) -> Optional[float]:
        """Seconds to wait before the next attempt, or None when the error is not transient."""
        from telegram import error

        if isinstance(exc, error.RetryAfter):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PTB 22 warns that the type will become timedelta
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return seconds if seconds <= self.max_retry_after else None
        if isinstance(exc, (error.BadRequest, error.Forbidden, error.InvalidToken, error.Conflict,
                            error.ChatMigrated)):
            return None  # 400/401/403/404/409: the same request would fail again
        if isinstance(exc, (error.TimedOut, error.NetworkError)):
            return self.backoff(attempt)  # timeouts, connection errors, 5xx
        return None

    async def call(self, func: Callable[[], Awaitable[Any]],
                   sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> Any:
        attempt = 1
        while True:
            try:
                return await func()
            except Exception as exc:
                delay = self.delay_for(exc, attempt)
                if delay is None or attempt >= self.max_attempts:
                    raise
                logger.warning("Telegram call failed (%s), retry %d in %.1fs", type(exc).__name__, attempt, delay)
                await sleep(delay)
                attempt += 1


async def send_outgoing(bot, chat_id: int, outgoing: List[Outgoing], policy: RetryPolicy) -> int:
    """Send messages in order; stops at the first one that still fails. Returns how many were sent."""
    from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
    from telegram.constants import ParseMode

    sent = 0
    for message in outgoing:
        markup_json = message.reply_markup()
        markup = None
        if markup_json and "inline_keyboard" in markup_json:
            markup = InlineKeyboardMarkup.de_json(markup_json, bot)
        elif markup_json and "keyboard" in markup_json:
            markup = ReplyKeyboardMarkup.de_json(markup_json, bot)
        elif markup_json:
            markup = ReplyKeyboardRemove()

        async def one(message=message, markup=markup):
            return await bot.send_message(chat_id=chat_id, text=message.html, parse_mode=ParseMode.HTML,
                                          reply_markup=markup, disable_web_page_preview=True)

        await policy.call(one)
        sent += 1
    return sent


# --- admin commands ------------------------------------------------------------------------------------

class TelegramSetupError(Exception):
    """A configuration problem the command reports in plain words."""


def require_configured(settings: TelegramSettings) -> None:
    if not settings.token:
        raise TelegramSetupError("AIGUILLAGE_TELEGRAM_TOKEN manquant (jeton donné par @BotFather).")
    if not SECRET_PATTERN.match(settings.secret):
        raise TelegramSetupError("AIGUILLAGE_TELEGRAM_SECRET manquant ou invalide "
                                 "(1 à 256 caractères : lettres, chiffres, _ et -).")


async def register_webhook(settings: TelegramSettings, url: str, drop_pending_updates: bool = False) -> dict:
    """setWebhook with our secret; returns what getMe says about the bot."""
    require_configured(settings)
    async with make_bot(settings) as bot:
        await settings.retry_policy().call(lambda: bot.set_webhook(
            url=url, secret_token=settings.secret, allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending_updates))
        return {"username": bot.username, "url": url}


@dataclass
class PollReport:
    iterations: int = 0
    forwarded: int = 0
    failed_forwards: int = 0


async def poll_updates(settings: TelegramSettings, max_iterations: Optional[int] = None,
                       stop: Optional[asyncio.Event] = None, drop_pending_updates: bool = False,
                       sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> PollReport:
    """Long-poll getUpdates and POST each update to our own webhook, secret header included.

    One getUpdates call is one iteration. An update is acknowledged (offset moves past it) only
    once the webhook answered 2xx, so a stopped Rasa server loses nothing.
    """
    import httpx
    from telegram import error

    require_configured(settings)
    stop = stop or asyncio.Event()
    report = PollReport()
    policy = settings.retry_policy()
    offset: Optional[int] = None
    failures = 0
    async with make_bot(settings) as bot, httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=settings.connect_timeout), trust_env=False) as client:
        await policy.call(lambda: bot.delete_webhook(drop_pending_updates=drop_pending_updates))
        while not stop.is_set() and (max_iterations is None or report.iterations < max_iterations):
            report.iterations += 1
            try:
                updates = await bot.get_updates(offset=offset, timeout=settings.poll_timeout,
                                                allowed_updates=list(ALLOWED_UPDATES))
            except error.Conflict as exc:
                raise TelegramSetupError(f"Telegram refuse le long polling : {exc.message}") from exc
            except error.InvalidToken as exc:
                raise TelegramSetupError("Jeton Telegram refusé.") from exc
            except error.TelegramError:
                failures += 1
                await sleep(policy.backoff(min(failures, 6)))
                continue
            for update in updates:
                try:
                    answer = await client.post(settings.forward_url, json=update.to_dict(),
                                               headers={SECRET_HEADER: settings.secret})
                    status = answer.status_code
                except httpx.HTTPError as exc:
                    logger.warning("forward to %s failed: %s", settings.forward_url, exc)
                    status = None
                if status == 403:
                    raise TelegramSetupError("Le serveur Aiguillage refuse le secret : vérifiez que "
                                             "AIGUILLAGE_TELEGRAM_SECRET est le même des deux côtés.")
                if status is None or not 200 <= status < 300:
                    # Keep the offset: Telegram hands the same update back on the next call.
                    report.failed_forwards += 1
                    failures += 1
                    await sleep(policy.backoff(min(failures, 6)))
                    break
                failures = 0
                report.forwarded += 1
                offset = update.update_id + 1
        if offset is not None:
            # Acknowledge the last forwarded update so a restart does not replay it.
            try:
                await bot.get_updates(offset=offset, timeout=0, allowed_updates=list(ALLOWED_UPDATES))
            except error.TelegramError:
                pass
    return report
