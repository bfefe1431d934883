"""Moments as people in France read them: Europe/Paris, for every layer."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

def to_paris(moment: Optional[datetime] = None) -> datetime:
    """Aware datetime in Europe/Paris; naive datetimes are taken as Paris local time."""
    if moment is None:
        return datetime.now(PARIS)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def utc(moment: Optional[datetime] = None) -> datetime:
    """The moment (now by default) in UTC, as every table stores it; naive means local time."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
