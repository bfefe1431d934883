"""The mediator's recap of a referral, in words: one function for the console, the notifications (e-mail,
Telegram, webhook) and the desk's printed slip, so that they cannot drift.

From a referral's codes (bot/handoff/referrals.py) it builds short French lines: the body's full name, the
procedure in words, what is at stake in a sentence, the deadline as an absolute date ("avant le vendredi 11
décembre", resolved when the person wrote it: the `echeance` fact, bot/triage/deadlines.py), the equipment, the
wish, the needs; the sensitive context as flags without details; who referred; the place's name. The labels
all come from the one table in bot/handoff/recap_labels.py; a code without a label is left out, never shown raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

from bot.core import messages
from bot.core.moments import to_paris
from bot.directory.hours import format_day
from bot.handoff.recap_labels import (
    DEADLINE_BEFORE,
    LANGUAGE_NEEDS,
    LINE_LABELS,
    NO_CONTACT_LABEL,
    NO_CONTACT_TEXT,
    READING_NEEDS,
    STAKE_SENTENCES,
    Body,
    DeskContact,
    Device,
    Difficulty,
    Equipment,
    Flag,
    Procedure,
    Referrer,
    Stake,
    Topic,
    Wish,
    label_or_none,
)

# A deadline this close (in days, from today in France) makes the referral stand out in the console.
SOON_DAYS = 2
# Facts set outside the person's words: the named desk that referred (settings), a vital emergency answered.
DESK_FACT = "accueil"
EMERGENCY_FACT = "urgence_vitale"
DEADLINE_FACT = "echeance"
# Set by the desk when it leaves the person's number (bot/handoff/desk_contact.py): a DeskContact code.
CONTACT_FACT = "contact"


@dataclass(frozen=True)
class RecapLine:
    key: str      # which fact it tells (organisme, demarche, enjeu, echeance…): for pages and tests
    label: str    # "Démarche"
    text: str     # "la déclaration trimestrielle de ressources"


@dataclass(frozen=True)
class Recap:
    level: str                        # the level's label
    lines: tuple[RecapLine, ...]      # the situation, in order
    flags: tuple[str, ...]            # sensitive context, one sentence each, no details
    referrer: str                     # "Accueil mairie de Fougères", "La personne elle-même, par SMS"…
    place: Optional[str]              # the place's name (never its id), None without a place
    deadline: Optional[date]          # the absolute deadline, when one was said
    deadline_text: Optional[str]      # "avant le vendredi 11 décembre"
    days_left: Optional[int]          # from today in France to the deadline (negative once past)

    @property
    def deadline_soon(self) -> bool:
        """Within SOON_DAYS days, or already past: the console makes it stand out."""
        return self.days_left is not None and self.days_left <= SOON_DAYS

    def line(self, key: str) -> Optional[str]:
        return next((line.text for line in self.lines if line.key == key), None)

    def text_lines(self) -> list[str]:
        """The situation as "Label : texte" lines (notifications, plain text)."""
        return [f"{line.label} : {line.text}" for line in self.lines]


def recap(facts: Optional[dict], level: str, channel: str, created_at: Optional[datetime] = None,
          place_name: Optional[str] = None, now: Optional[datetime] = None) -> Recap:
    """The recap of a referral from its stored values (a Referral's columns, or a notification's payload)."""
    facts = facts if isinstance(facts, dict) else {}
    created_day = to_paris(created_at).date() if created_at is not None else None
    deadline = _deadline(facts)
    deadline_text = format_deadline(deadline, created_day) if deadline else None
    today = to_paris(now).date()
    lines = _lines(facts, deadline_text) + _contact_line(facts, channel)
    return Recap(level=_level_label(level), lines=tuple(lines), flags=tuple(_flags(facts)),
                 referrer=referrer(channel, facts), place=place_name or None, deadline=deadline,
                 deadline_text=deadline_text, days_left=(deadline - today).days if deadline else None)


def recap_of_referral(referral: Any, place_name: Optional[str] = None, now: Optional[datetime] = None) -> Recap:
    return recap(referral.facts, referral.level, referral.channel, referral.created_at, place_name, now)


def deadline_of(facts: Any) -> Optional[date]:
    """The absolute deadline kept on a referral, if one was said and still stands."""
    return _deadline(facts if isinstance(facts, dict) else {})


def format_deadline(day: date, said_on: Optional[date] = None) -> str:
    """"avant le vendredi 11 décembre"."""
    return DEADLINE_BEFORE.format(date=format_day(day, said_on or day))


def referrer(channel: str, facts: Optional[dict] = None) -> str:
    """Who referred: the named desk when it has a name (AIGUILLAGE_DESK_NAME), else the channel in words."""
    desk = (facts or {}).get(DESK_FACT)
    if channel == Referrer.DESK and isinstance(desk, str) and desk.strip():
        return desk.strip()
    return label_or_none(Referrer, channel) or Referrer.DESK.label


# --- the parts ---------------------------------------------------------------------------------------

def _level_label(level: str) -> str:
    try:
        return messages.level_label(level)
    except KeyError:
        return ""


def _deadline(facts: dict) -> Optional[date]:
    raw = facts.get(DEADLINE_FACT)
    if not isinstance(raw, str) or facts.get("enjeu") == "aucun":  # "non, pas de date" corrected it
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _stake(facts: dict) -> Optional[str]:
    stakes = [facts.get("enjeu")] + list(facts.get("enjeux") or [])
    for stake in stakes:
        sentence = STAKE_SENTENCES.get((facts.get("demarche"), stake))
        if sentence:
            return sentence
    return label_or_none(Stake, facts.get("enjeu"))


def _lines(facts: dict, deadline_text: Optional[str]) -> list[RecapLine]:
    texts = {
        "organisme": label_or_none(Body, facts.get("organisme")),
        "demarche": label_or_none(Procedure, facts.get("demarche")),
        "enjeu": _stake(facts),
        "echeance": deadline_text,
        "equipement": label_or_none(Equipment, facts.get("equipement")),
        "appareil": label_or_none(Device, facts.get("appareil")),
        "souhait": label_or_none(Wish, facts.get("souhait")),
        "difficultes": _joined(label_or_none(Difficulty, code) for code in (facts.get("blocage"),
                                                                             facts.get("barriere"))),
        "besoins": _joined(need for need in _list(facts.get("besoins"))
                           if need not in LANGUAGE_NEEDS + READING_NEEDS),
        "sujet": label_or_none(Topic, facts.get("sujet")),
        "commune": facts.get("commune") if isinstance(facts.get("commune"), str) else None,
    }
    return [RecapLine(key, LINE_LABELS[key], text) for key, text in texts.items() if text]


def _contact_line(facts: dict, channel: str) -> list[RecapLine]:
    """How the place reaches a person referred at a desk; nothing for SMS or Telegram (the channel itself)."""
    if channel != Referrer.DESK:
        return []
    left = label_or_none(DeskContact, facts.get(CONTACT_FACT))
    if left is None:
        return [RecapLine(CONTACT_FACT, NO_CONTACT_LABEL, NO_CONTACT_TEXT)]
    return [RecapLine(CONTACT_FACT, LINE_LABELS[CONTACT_FACT], left)]


def _flags(facts: dict) -> list[str]:
    needs = set(_list(facts.get("besoins")))
    codes = [
        Flag.VITAL_EMERGENCY if facts.get(EMERGENCY_FACT) else None,
        f"verification_securite_{facts.get('verification_securite')}",
        Flag.LANGUAGE if facts.get("barriere") == "langue" or needs & set(LANGUAGE_NEEDS) else None,
        Flag.READING if facts.get("barriere") == "lecture" or needs & set(READING_NEEDS) else None,
        f"redacteur_{facts.get('redacteur')}",
    ]
    return [label for label in (label_or_none(Flag, code) for code in codes) if label]


def _list(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _joined(items) -> Optional[str]:
    texts = [t for t in items if t]
    return " ; ".join(dict.fromkeys(texts)) if texts else None
