"""A button's title typed as text is that button: "Chercher plus loin" typed (an SMS reader copies the words of
a choice, a desk agent types instead of clicking) goes where the button goes.

The model alone sent it elsewhere: "Chercher plus loin" read as a social need, "plus loin" as a request to
stop. Titles are compared whole, accents, case and punctuation aside. A one-word title ("Non") is an ordinary
word with other uses, and a title that two buttons share with different payloads is ambiguous: both are left
to the model.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Optional

from bot.core import messages
from bot.core.text import normalize

_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?$", re.S)


@dataclass(frozen=True)
class Pressed:
    intent: str
    entities: dict  # the payload's values, e.g. {"valeur": "plus_loin"}


def _key(text: str) -> str:
    return " ".join(normalize(text or "").replace("'", " ").split())  # normalize() leaves only apostrophes


_built: list = []  # [(catalogue, titles)]: the catalogue is a dict, not hashable; one is loaded per domain folder
_lock = threading.Lock()


def _titles(catalogue: messages.Catalogue) -> dict:
    with _lock:
        for known, titles in _built:
            if known is catalogue:
                return titles
        payloads: dict = {}
        for response in catalogue.keys():
            for button in catalogue.buttons(response):
                payloads.setdefault(_key(button["title"]), set()).add(button["payload"])
        titles = {title: next(iter(found)) for title, found in payloads.items()
                  if len(title.split()) > 1 and len(found) == 1}
        _built[:] = [(catalogue, titles)] + _built[:3]
        return titles


def button_typed(text: str, catalogue: Optional[messages.Catalogue] = None) -> Optional[Pressed]:
    """The button whose title is `text`, as its payload's intent and values; None when no single button has it."""
    payload = _titles(catalogue or messages.catalogue()).get(_key(text))
    match = _PAYLOAD.match(payload or "")
    if match is None:
        return None
    try:
        entities = json.loads(match["entities"]) if match["entities"] else {}
    except ValueError:
        return None
    return Pressed(match["intent"], entities if isinstance(entities, dict) else {})
