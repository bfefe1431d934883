"""Opening hours (OSM syntax) evaluated in Europe/Paris."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.directory.hours import format_next_opening, format_opening, is_open, next_closing, next_opening, opening_status

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = "Mo-Fr 09:00-12:00,14:00-17:30; PH off"


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_open_now_until_noon():
    now = paris(2024, 5, 3, 10, 30)  # Friday
    status = opening_status(WEEKDAYS, now)
    assert status.open_now is True and is_open(WEEKDAYS, now) is True
    assert next_opening(WEEKDAYS, now) == now
    assert status.closes_at == paris(2024, 5, 3, 12, 0) == next_closing(WEEKDAYS, now)
    assert format_opening(status, now) == "Ouvert maintenant jusqu'à 12h"


def test_lunch_break_reopens_same_day():
    now = paris(2024, 5, 3, 12, 15)
    assert is_open(WEEKDAYS, now) is False
    assert next_opening(WEEKDAYS, now) == paris(2024, 5, 3, 14, 0)
    assert next_closing(WEEKDAYS, now) == paris(2024, 5, 3, 17, 30)
    assert format_next_opening(next_opening(WEEKDAYS, now), now) == "Ouvre aujourd'hui à 14h"


def test_next_opening_over_a_weekend():
    now = paris(2024, 5, 3, 18, 0)  # Friday evening
    assert is_open(WEEKDAYS, now) is False
    nxt = next_opening(WEEKDAYS, now)
    assert nxt == paris(2024, 5, 6, 9, 0)
    assert format_next_opening(nxt, now) == "Ouvre lundi à 9h"


def test_public_holiday_off():
    # 1 May 2024 is a Wednesday and a public holiday
    now = paris(2024, 5, 1, 10, 0)
    assert is_open(WEEKDAYS, now) is False
    assert is_open("Mo-Fr 09:00-12:00", now) is True  # same hours without "PH off"
    nxt = next_opening(WEEKDAYS, now)
    assert nxt == paris(2024, 5, 2, 9, 0)
    assert format_next_opening(nxt, now) == "Ouvre demain à 9h"


def test_easter_monday_and_daylight_saving_change():
    # Saturday 30 March 2024; clocks change on Sunday; Monday 1 April is Easter Monday (PH)
    now = paris(2024, 3, 30, 11, 0)
    nxt = next_opening(WEEKDAYS, now)
    assert nxt == paris(2024, 4, 2, 9, 0)
    assert nxt.utcoffset().total_seconds() == 2 * 3600
    assert format_next_opening(nxt, now) == "Ouvre mardi à 9h"


def test_saturday_only_place_next_week():
    now = paris(2024, 5, 5, 15, 0)  # Sunday
    nxt = next_opening("Sa 09:30-12:30", now)
    assert nxt == paris(2024, 5, 11, 9, 30)
    assert format_next_opening(nxt, now) == "Ouvre samedi à 9h30"


@pytest.mark.parametrize("value", ["sur rendez-vous", "Mo-Fr 9h-12h", "lundi au vendredi", "", "   ", None,
                                   "Mo-Xx 25:00"])
def test_invalid_or_empty_hours_give_none_never_raise(value):
    now = paris(2024, 5, 3, 10, 0)
    assert opening_status(value, now) is None
    assert is_open(value, now) is None
    assert next_opening(value, now) is None
    assert next_closing(value, now) is None


def test_naive_datetimes_are_paris_time_and_aware_ones_are_converted():
    assert is_open("Mo-Fr 09:00-12:00", datetime(2024, 5, 3, 9, 30)) is True
    # 07:30 UTC is 09:30 in Paris (summer time): open
    assert is_open("Mo-Fr 09:00-12:00", datetime(2024, 5, 3, 7, 30, tzinfo=timezone.utc)) is True
    # 10:30 UTC is 12:30 in Paris: closed
    assert is_open("Mo-Fr 09:00-12:00", datetime(2024, 5, 3, 10, 30, tzinfo=timezone.utc)) is False
    assert next_opening("Mo-Fr 09:00-12:00", datetime(2024, 5, 3, 8, 0)).tzinfo is not None


def test_by_appointment_comment_is_kept():
    status = opening_status('Tu,Th 14:00-17:00 "sur rendez-vous"', paris(2024, 5, 6, 10, 0))  # Monday
    assert status.open_now is False and status.next_opening == paris(2024, 5, 7, 14, 0)
    assert status.comment == "sur rendez-vous"


def test_trailing_separator_is_tolerated():
    assert is_open("Mo-Fr 09:00-12:00;", paris(2024, 5, 3, 10, 0)) is True


def test_closed_for_good_has_no_next_opening():
    status = opening_status("off", paris(2024, 5, 3, 10, 0))
    assert status is not None and status.open_now is False and status.next_opening is None
    assert format_opening(status, paris(2024, 5, 3, 10, 0)) is None


def test_always_open_has_no_closing_time():
    status = opening_status("24/7", paris(2024, 5, 3, 10, 0))
    assert status.open_now is True and status.closes_at is None
    assert format_opening(status, paris(2024, 5, 3, 10, 0)) == "Ouvert maintenant"


def test_far_opening_is_given_as_a_date():
    now = paris(2024, 5, 3, 10, 0)
    assert format_next_opening(paris(2024, 6, 1, 14, 30), now) == "Ouvre le 1er juin à 14h30"
