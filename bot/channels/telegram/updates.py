"""Reading a Telegram update: what it asks of us (text, button press, location, content we cannot read)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Optional

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
