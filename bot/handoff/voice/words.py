"""What the voice menu says and hears: prompts by key (domain/responses_voix.yml), yes or no from a key or
a word, a place and a moment put into words for the ear."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from bot.channels.voice import speech
from bot.channels.voice.twiml import Say
from bot.core import messages
from bot.core.moments import to_paris
from bot.core.text import normalize
from bot.directory.hours import listed_names, opening_status

YES_WORDS = {"oui", "ouais", "d accord", "daccord", "ok", "c est juste", "c est ca", "exact", "oui c est ca"}
NO_WORDS = {"non", "non merci", "pas du tout", "c est faux", "non c est faux"}
REPEAT_WORDS = {"repeter", "reecouter", "encore", "repetez", "pardon", "quoi", "comment"}


def spoken_key(key: str) -> str:
    """The voice menu's words for one of the triage's replies: utter_envoye_lieu -> utter_voix_envoye_lieu."""
    return "utter_voix_" + key[len("utter_"):]


def prompt(key: str, **values) -> str:
    return messages.text(key, **values)


def says(texts) -> list:
    return [Say(t) for t in texts if t]


YES_NO_KEYS = {"1": True, "2": False}


def yes_no(digits: str, said: str, keys: dict = YES_NO_KEYS) -> Optional[bool]:
    """Yes or no from a key (1 and 2 unless a step says others) or from the words said; None when neither."""
    if digits:
        return keys.get(digits)
    words = normalize(said or "").replace("'", " ").strip(" .!")
    if words in YES_WORDS:
        return True
    if words in NO_WORDS:
        return False
    return None


def spoken_place(place: dict) -> dict:
    """What the menu keeps of a place to read it again: the words to say, and the written forms for the SMS."""
    return {"id": place.get("id"), "nom": place.get("nom", ""),
            "adresse": speech.street(place.get("adresse", "")), "adresse_ecrite": place.get("adresse", ""),
            "commune": place.get("commune", ""), "horaires": place.get("horaires", ""),
            "ouvert": bool(place.get("ouvert_maintenant")),
            "prochaine_ouverture": place.get("prochaine_ouverture", ""),
            "telephone": speech.phone(place.get("telephone", "")), "telephone_ecrit": place.get("telephone", ""),
            "a_distance": bool(place.get("a_distance"))}


def moment(when: datetime, now: datetime) -> str:
    """"lundi à neuf heures", "demain lundi à quatorze heures", "aujourd'hui à…": said, not read (the day's
    name even for tomorrow: "demain" alone is easily misheard on a phone line)."""
    when, now = to_paris(when), to_paris(now)
    days = (when.date() - now.date()).days
    key = "utter_moment_dit_aujourdhui" if days <= 0 else "utter_moment_dit_demain" if days == 1 \
        else "utter_moment_dit_jour"
    return messages.text(key, jour=listed_names("utter_jours_semaine")[when.weekday()], heure=speech.hour(when))


def next_opening_said(hours: str, now: datetime) -> Optional[str]:
    status = opening_status(hours, now)
    if status is None or status.next_opening is None:
        return None
    return moment(status.next_opening, now)
