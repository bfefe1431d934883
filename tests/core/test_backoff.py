"""The doubling wait shared by the notification outbox, the SMS gateway's retries and the login throttle
(bot/core/backoff.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.backoff import doubling


def test_doubles_from_the_first_wait_up_to_the_longest():
    # The outbox's defaults: 30 s before the 2nd attempt, never more than an hour.
    assert [doubling(30.0, 3600.0, n) for n in range(9)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_works_on_durations():
    # The login throttle's rule: 1 s, doubled, at most 15 minutes.
    waits = [doubling(timedelta(seconds=1), timedelta(minutes=15), n) for n in (0, 1, 9, 10, 30)]
    assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=512),
                     timedelta(minutes=15), timedelta(minutes=15)]


def test_never_exceeds_the_longest_even_at_the_start():
    assert doubling(10.0, 4.0, 0) == 4.0
    assert doubling(0.5, 8.0, 4) == 8.0
    assert doubling(0.5, 8.0, 3) == 4.0
