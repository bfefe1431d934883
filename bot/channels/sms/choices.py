"""Buttons as numbered choices on SMS, and the person's reply mapped back to a button payload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from rapidfuzz import fuzz, process

from bot.core import messages
from bot.core.text import normalize

FUZZY_CUTOFF = 82  # rapidfuzz ratio (0-100) on normalised text; below that the reply is ordinary text

# "1", "1.", " 2 ", "2)", "n°2", "no 2", "numero 2", "choix 2"
_NUMBER = re.compile(r"^(?:(?:n|no|num|numero|choix|reponse)\s*)?(\d{1,2})$")


@dataclass(frozen=True)
class Choice:
    number: int
    title: str
    payload: str

    def as_dict(self) -> dict:
        return {"number": self.number, "title": self.title, "payload": self.payload}

    @classmethod
    def from_dict(cls, data: dict) -> "Choice":
        return cls(int(data["number"]), str(data["title"]), str(data["payload"]))


def choices_from_buttons(buttons: Sequence[dict]) -> list[Choice]:
    return [Choice(i, str(b.get("title", "")), str(b.get("payload", "")))
            for i, b in enumerate(buttons or [], start=1) if b.get("payload")]


def numbers_phrase(count: int) -> str:
    """'1', '1 ou 2', '1, 2 ou 3' — the conjunction comes from the domain."""
    numbers = [str(i) for i in range(1, count + 1)]
    if len(numbers) <= 1:
        return "".join(numbers)
    return f"{', '.join(numbers[:-1])} {messages.text('utter_sms_ou')} {numbers[-1]}"


def render(text: str, choices: Sequence[Choice]) -> str:
    """The reply text followed by one line per choice and the 'Répondez 1, 2 ou 3' prompt."""
    if not choices:
        return text
    lines = [messages.text("utter_sms_choix_ligne", numero=c.number, titre=c.title) for c in choices]
    prompt = messages.text("utter_sms_repondez", numeros=numbers_phrase(len(choices)))
    return "\n".join([text.strip(), *lines, prompt]) if text.strip() else "\n".join([*lines, prompt])


def match(reply: str, choices: Sequence[Choice], cutoff: float = FUZZY_CUTOFF) -> Optional[Choice]:
    """The choice the reply designates (its number or, tolerating typos, its label), else None."""
    if not choices or not reply:
        return None
    norm = normalize(reply[:200])
    if not norm:
        return None
    number = _NUMBER.match(norm.replace(" ", "")) or _NUMBER.match(norm)
    if number:
        wanted = int(number.group(1))
        return next((c for c in choices if c.number == wanted), None)
    labels = {c.number: normalize(c.title) for c in choices}
    exact = [c for c in choices if labels[c.number] == norm]
    if exact:
        return exact[0]
    best = process.extract(norm, labels, scorer=fuzz.ratio, score_cutoff=cutoff, limit=2)
    if not best:
        return None
    if len(best) == 2 and best[0][1] - best[1][1] < 5:
        return None  # two labels equally close: let Rasa decide
    number = best[0][2]
    return next(c for c in choices if c.number == number)
