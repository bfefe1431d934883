"""Waits that double after each failure up to a ceiling: the notification outbox's next attempt, the SMS
gateway's retries within a request and the login throttle. Each caller keeps its own numbers, counting
and jitter; the follow-up messages keep their fixed table (1 min, 5 min, 30 min, 2 h), which does not double."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

Wait = TypeVar("Wait", float, timedelta)


def doubling(first: Wait, longest: Wait, doublings: int) -> Wait:
    """`first` doubled `doublings` times, never more than `longest`."""
    # The caller bounds `doublings`: 2**n times a float or a timedelta overflows once n is large.
    return min(longest, first * 2 ** doublings)
