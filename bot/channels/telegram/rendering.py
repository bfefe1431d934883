"""Rasa replies as Telegram messages: HTML parse mode, the 4096-unit split, cards and keyboards."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional

from bot.core import messages
from bot.core.references import CODE_ALPHABET, normalise_reference

MAX_MESSAGE_UNITS = 4096  # Telegram's limit, counted in UTF-16 code units to be safe with emoji
REMOTE_PAYLOAD = '/choix{"valeur": "a_distance"}'
TOWN_QUESTIONS = ("utter_ask_commune", "utter_commune_inconnue")

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
    if place.get("position_approximative"):
        lines.append(esc(messages.text("utter_telegram_fiche_position_approx")))
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


def unsupported_response(group: str) -> str:
    return f"utter_telegram_{group}"


def notice(key: str, offer_location: bool = False) -> List[Outgoing]:
    """One of our own channel messages (unsupported content, expired button), location button optional."""
    button = messages.text("utter_telegram_bouton_position") if offer_location else None
    return [Outgoing(format_html(messages.text(key)), location_button=button)]
