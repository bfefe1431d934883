"""The date a deadline falls on, from what people write: "avant vendredi", "demain", "le 15", "dans 2 semaines".

Relative words are resolved against the day the message was written, in Europe/Paris (bot/core/moments.py): a
message sent at 23:30 UTC on Sunday is written on Monday in France, so its "demain" is Tuesday. The rules, readable:

- "aujourd'hui", "ce soir": that day; "demain": the next day; "après-demain": the day after.
- A weekday ("avant vendredi", "lundi", "d'ici mardi"): its next occurrence after that day (said on a Friday,
  "vendredi" is the Friday after).
- "dans 3 jours", "sous 8 jours", "d'ici 2 semaines": that many days or weeks later.
- "fin du mois": the month's last day; "fin juin", "mi-juin": the 30th, the 15th of the next June.
- "le 15": the 15th of this month, or of the next month once it is past; "le 15 janvier", "15/01", "15/01/2027":
  that date (the next one when no year is given, unless it was only just past: that is a date told about the
  past, "reçu le 2 décembre", never a deadline).
When several dates are said, the earliest one still to come is the deadline.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Optional, Union

from bot.core.moments import to_paris
from bot.core.text import normalize

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = {"janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4, "mai": 5,
          "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10, "oct": 10,
          "novembre": 11, "nov": 11, "decembre": 12, "dec": 12}
NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
                "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30}
# A date with a month that was past by at most this many days is a past event ("reçu le 2 décembre").
PAST_EVENT_DAYS = 183

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER = r"\d{1,3}|" + "|".join(NUMBER_WORDS)
_TODAY = re.compile(r"\b(aujourd'?hui|ajd|auj|ajourdhui|ce soir|ce midi|ce matin|tout de suite)\b")
_AFTER_TOMORROW = re.compile(r"\bapres demain\b")
_TOMORROW = re.compile(r"(?<!apres )\b(demain|dmain|2main)\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")
_IN_DAYS = re.compile(r"\b(dans|sous|d'?ici|d ici|avant) (" + _NUMBER + r") (jours?|semaines?|mois)\b")
_END_OF_MONTH = re.compile(r"\bfin (du|de|de ce|ce) mois\b")
_PART_OF_MONTH = re.compile(r"\b(fin|mi|debut) (" + _MONTH + r")\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:er)? (" + _MONTH + r")\b(?: (\d{4}))?")
_DAY_ALONE = re.compile(r"\b(le|avant le|au|jusqu'au|jusqu'a le|pour le|d'ici le) (\d{1,2})(?:er)?\b(?! (?:"
                        + _MONTH + r"|jours?|semaines?|mois|ans?|h|heures?|euros?|€|\d))")
# On the raw text: normalisation turns "/" into spaces.
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?(?![\d/.-])")


def paris_day(said_at: Union[datetime, date, None]) -> date:
    """The day in France at that moment (now by default); a date is taken as it is."""
    if isinstance(said_at, datetime) or said_at is None:
        return to_paris(said_at).date()
    return said_at


def deadline_date(text: str, said_at: Union[datetime, date, None] = None) -> Optional[date]:
    """The date a deadline written in `text` falls on, resolved from the day it was written; None if no date."""
    if not text:
        return None
    today = paris_day(said_at)
    norm = normalize(text)
    found = [d for d in _candidates(norm, text.lower(), today) if d is not None and d >= today]
    return min(found) if found else None


def _candidates(norm: str, raw: str, today: date):
    if _TODAY.search(norm):
        yield today
    if _AFTER_TOMORROW.search(norm):
        yield today + timedelta(days=2)
    if _TOMORROW.search(norm.replace("apres demain", "")):
        yield today + timedelta(days=1)
    for match in _WEEKDAY.finditer(norm):
        ahead = (WEEKDAYS.index(match.group(1)) - today.weekday()) % 7 or 7
        yield today + timedelta(days=ahead)
    for match in _IN_DAYS.finditer(norm):
        count = _number(match.group(2))
        unit = match.group(3)
        if count is None or count > 400:
            continue
        if unit.startswith("semaine"):
            yield today + timedelta(weeks=count)
        elif unit == "mois":
            yield _add_months(today, count)
        else:
            yield today + timedelta(days=count)
    if _END_OF_MONTH.search(norm):
        yield today.replace(day=calendar.monthrange(today.year, today.month)[1])
    for match in _PART_OF_MONTH.finditer(norm):
        month = MONTHS[match.group(2)]
        year = today.year if month >= today.month else today.year + 1
        day = {"fin": calendar.monthrange(year, month)[1], "mi": 15, "debut": 1}[match.group(1)]
        yield date(year, month, day)
    for match in _DAY_MONTH.finditer(norm):
        yield _with_month(today, int(match.group(1)), MONTHS[match.group(2)],
                          int(match.group(3)) if match.group(3) else None)
    for match in _NUMERIC.finditer(raw):
        year = match.group(3)
        if year is not None and len(year) == 2:
            year = "20" + year
        yield _with_month(today, int(match.group(1)), int(match.group(2)), int(year) if year else None)
    for match in _DAY_ALONE.finditer(norm):
        yield _day_of_month(today, int(match.group(2)))


def _number(word: str) -> Optional[int]:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


def _valid(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _with_month(today: date, day: int, month: int, year: Optional[int]) -> Optional[date]:
    if year is not None:
        return _valid(year, month, day)
    this_year = _valid(today.year, month, day)
    if this_year is None or this_year >= today:
        return this_year
    if (today - this_year).days <= PAST_EVENT_DAYS:
        return None  # told about the past
    return _valid(today.year + 1, month, day)


def _day_of_month(today: date, day: int) -> Optional[date]:
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    if day < today.day:
        month += 1
    for _ in range(3):  # "le 31" in a month of 30 days: the next month that has one
        if month > 12:
            year, month = year + 1, month - 12
        candidate = _valid(year, month, day)
        if candidate is not None:
            return candidate
        month += 1
    return None


def _add_months(today: date, count: int) -> date:
    month_index = today.month - 1 + count
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
