"""Opening hours in OpenStreetMap syntax (the standard's `horaires` field), evaluated in Europe/Paris.

Functions return data (datetimes, booleans); `format_next_opening` is the only place that turns
them into a short French phrase, from the domain's `utter_horaire_*` responses. Invalid or empty hours give None,
never an exception: directory data is often hand-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Optional

from bot.core.messages import text
from bot.core.moments import PARIS, to_paris

# The French phrases are domain responses (utter_horaire_*), like every text a person reads.

# How far ahead we look for the next opening; beyond that the place is treated as not opening.
HORIZON_DAYS = 31


@dataclass(frozen=True)
class Opening:
    """State of a place at `now`.

    open_now: the place is open at `now`.
    next_opening: `now` when open, else the start of the next open period (None if none within
        HORIZON_DAYS).
    closes_at: end of the current open period when open now (None if open with no end in sight).
    comment: OSM comment attached to the current/next period, e.g. "sur rendez-vous".
    """

    open_now: bool
    next_opening: Optional[datetime]
    closes_at: Optional[datetime]
    comment: str = ""




def _clean(horaires: Optional[str]) -> Optional[str]:
    if not horaires:
        return None
    text = horaires.replace("\u00a0", " ").strip()
    # A trailing rule separator is a frequent slip in hand-written data.
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text or None


@lru_cache(maxsize=4096)
def _parse(text: str):
    from opening_hours import OpeningHours  # lazy: native module, only needed when evaluating

    try:
        return OpeningHours(text, timezone=PARIS, country="FR", max_interval_days=HORIZON_DAYS + 1)
    except Exception:  # ParserError, or anything odd from the native parser
        return None


def is_valid(horaires: Optional[str]) -> bool:
    text = _clean(horaires)
    return text is not None and _parse(text) is not None


def opening_status(horaires: Optional[str], now: Optional[datetime] = None) -> Optional[Opening]:
    """Open/closed state and next opening/closing; None if hours are empty, invalid or unknown."""
    text = _clean(horaires)
    if text is None:
        return None
    oh = _parse(text)
    if oh is None:
        return None
    from opening_hours import State

    now = to_paris(now)
    try:
        end = now + timedelta(days=HORIZON_DAYS)
        intervals = oh.intervals(now, end)
        for start, stop, state, comment in intervals:
            if state == State.OPEN:
                if start > now:
                    return Opening(False, to_paris(start), None, comment or "")
                # Open now: contiguous open intervals (e.g. a change of comment) are one period.
                closes = stop
                for next_start, next_stop, next_state, _ in intervals:
                    if next_state != State.OPEN or next_start != closes:
                        break
                    closes = next_stop
                closes = closes if closes is not None and closes < end else None
                return Opening(True, now, to_paris(closes) if closes else None, comment or "")
            if state == State.UNKNOWN and start <= now:
                return None  # the data itself says the state is unknown right now
        return Opening(False, None, None, "")
    except Exception:
        return None


def is_open(horaires: Optional[str], now: Optional[datetime] = None) -> Optional[bool]:
    status = opening_status(horaires, now)
    return None if status is None else status.open_now


def next_opening(horaires: Optional[str], now: Optional[datetime] = None) -> Optional[datetime]:
    """`now` if open now, else the next opening within HORIZON_DAYS; None if unknown/never."""
    status = opening_status(horaires, now)
    return None if status is None else status.next_opening


def next_closing(horaires: Optional[str], now: Optional[datetime] = None) -> Optional[datetime]:
    """When the current open period ends, or when the next one ends if closed now."""
    status = opening_status(horaires, now)
    if status is None or status.next_opening is None:
        return None
    if status.open_now:
        return status.closes_at
    after = opening_status(horaires, status.next_opening)
    return after.closes_at if after is not None else None


def format_time(moment: datetime) -> str:
    """"9h", "14h30": the time as the texts say it."""
    return f"{moment.hour}h" if moment.minute == 0 else f"{moment.hour}h{moment.minute:02d}"


def format_next_opening(
    dt: Optional[datetime],
    now: Optional[datetime] = None,
    open_now: bool = False,
    closes_at: Optional[datetime] = None,
) -> Optional[str]:
    """Short French phrase: "ouvert maintenant jusqu'à 12h", "ouvre demain à 9h", "ouvre lundi à 14h"."""

    now = to_paris(now)
    if open_now:
        if closes_at is not None:
            return text("utter_horaire_ouvert_jusqua", time=format_time(to_paris(closes_at)))
        return text("utter_horaire_ouvert")
    if dt is None:
        return None
    dt = to_paris(dt)
    days = (dt.date() - now.date()).days
    if days <= 0:
        return text("utter_horaire_aujourdhui", time=format_time(dt))
    if days == 1:
        return text("utter_horaire_demain", time=format_time(dt))
    if days < 7:
        weekday = listed_names("utter_jours_semaine")[dt.weekday()]
        return text("utter_horaire_jour", weekday=weekday, time=format_time(dt))
    month = listed_names("utter_mois")[dt.month - 1]
    return text("utter_horaire_date", day=day_of_month(dt.date()), month=month, time=format_time(dt))


def listed_names(key: str) -> list[str]:
    """The comma-separated names a response holds (days of the week, months), in order."""
    return [name.strip() for name in text(key).split(",")]


def format_opening(status: Optional[Opening], now: Optional[datetime] = None) -> Optional[str]:
    if status is None:
        return None
    return format_next_opening(status.next_opening, now, status.open_now, status.closes_at)


def day_of_month(d: date) -> str:
    """The day as French writes it in a date: "1er", "2", … "31"."""
    return "1er" if d.day == 1 else str(d.day)


def format_day(day: date, year_of: Optional[date] = None) -> str:
    """"vendredi 11 décembre" ("vendredi 1er janvier 2027" when the year is not that of `year_of`)."""
    words = f"{listed_names('utter_jours_semaine')[day.weekday()]} {day_of_month(day)} " \
            f"{listed_names('utter_mois')[day.month - 1]}"
    return words if year_of is not None and day.year == year_of.year else f"{words} {day.year}"


def format_opening_date(status: Optional[Opening], now: Optional[datetime] = None) -> Optional[str]:
    """The next opening as a date, for what is read later (a slip, a next step): "le lundi 7 décembre à 9h",
    "aujourd'hui, dimanche 6 décembre, jusqu'à 12h". None when the hours are unknown or it never opens."""
    if status is None or status.next_opening is None:
        return None
    now = to_paris(now)
    moment = to_paris(status.next_opening)
    day = format_day(moment.date(), now.date())
    if status.open_now:
        if status.closes_at is not None:
            return text("utter_horaire_le_ouvert_jusqua", date=day, time=format_time(to_paris(status.closes_at)))
        return text("utter_horaire_le_ouvert", date=day)
    return text("utter_horaire_le", date=day, time=format_time(moment))
