"""Who gets a turn: rate limits per person and per address, then how many turns a Rasa server runs
at once and in which order the others wait.

Rate limits come first and cost nothing: a message past its sender's or its address's limit is
answered at once (a short polite message, or 429 for machines) and never reaches Rasa, so one
sender's flood cannot delay anyone else. Buckets live in this process: with several instances behind
nginx, each allows the rate (the load balancer spreads a flood over them).

The turn gate:

Rasa starts every incoming message at once and interleaves them all on its one event loop. Under load
that shares the CPU among every message in flight: each takes as long as the whole queue, and a
turn that costs more (a referral written, a long message) takes proportionally longer, so the slowest
messages wait seconds (bench/stack_bench.py, 50 conversations at once). Here a message first waits
for the previous messages of the same person in this process, then for one of `limit` places, first
come first served; its turn then runs with few others and is over quickly. Enough places stay
to keep the CPU busy while turns wait for the action server or the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Callable, Dict, Optional

from bot.core.settings import default, setting

logger = logging.getLogger(__name__)

LIMIT_ENV = "AIGUILLAGE_CONCURRENT_TURNS"
DEFAULT_LIMIT = default(LIMIT_ENV)
# A wait past this is logged: the server is saturated (more instances, or the production profile).
SLOW_WAIT_S = 2.0


def limit_from_environment() -> int:
    return setting(LIMIT_ENV)


class TurnGate:
    """At most `limit` turns at once; one at a time per person; the others wait in arrival order."""

    def __init__(self, limit: Optional[int] = None) -> None:
        self.limit = limit or limit_from_environment()
        self._places: Optional[asyncio.Semaphore] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._people: Dict[str, asyncio.Lock] = {}
        self._waiting: Dict[str, int] = {}
        self.running = 0
        self.peak = 0

    def _places_here(self) -> asyncio.Semaphore:
        # asyncio objects belong to one event loop: made on first use, again if the loop changed.
        loop = asyncio.get_running_loop()
        if self._places is None or self._loop is not loop:
            self._places, self._loop = asyncio.Semaphore(self.limit), loop
            self._people.clear()
            self._waiting.clear()
        return self._places

    @asynccontextmanager
    async def turn(self, sender_id: str) -> AsyncIterator[None]:
        places = self._places_here()
        started = time.monotonic()
        person = self._people.setdefault(sender_id, asyncio.Lock())
        self._waiting[sender_id] = self._waiting.get(sender_id, 0) + 1
        try:
            async with person:
                async with places:
                    waited = time.monotonic() - started
                    if waited > SLOW_WAIT_S:
                        logger.warning("a turn waited %.1f s for its place (%d at once): the server is saturated",
                                       waited, self.limit)
                    self.running += 1
                    self.peak = max(self.peak, self.running)
                    try:
                        yield
                    finally:
                        self.running -= 1
        finally:
            self._waiting[sender_id] -= 1
            if not self._waiting[sender_id]:
                del self._waiting[sender_id]
                self._people.pop(sender_id, None)


@dataclass(frozen=True)
class Rate:
    """`burst` messages at once, then `per_minute` on average."""

    burst: int
    per_minute: int


SENDER_RATE_ENV, ADDRESS_RATE_ENV = "AIGUILLAGE_RATE_PER_SENDER", "AIGUILLAGE_RATE_PER_ADDRESS"
# A person writes a few messages a minute; a reception desk or a provider's server sends for many.
DEFAULT_SENDER_RATE = Rate(burst=10, per_minute=default(SENDER_RATE_ENV))
DEFAULT_ADDRESS_RATE = Rate(burst=120, per_minute=default(ADDRESS_RATE_ENV))
MAX_KEYS = 50_000


def limits_clock() -> float:
    """The rate limits' clock (tests stop it: a refill in the middle of a test would let one more in)."""
    return time.monotonic()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0   # seconds until one more message is allowed
    notify: bool = False   # the first refusal since the last allowed message: say it once


class RateLimiter:
    """Token buckets per key. The least recently used keys are forgotten past `max_keys` (a forgotten
    key starts full again, which only ever errs towards letting a person through)."""

    def __init__(self, rate: Rate, max_keys: int = MAX_KEYS, clock: Optional[Callable[[], float]] = None):
        self.rate, self.max_keys, self.clock = rate, max_keys, clock or limits_clock
        self._buckets: "OrderedDict[str, list]" = OrderedDict()  # key -> [tokens, updated, told]

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, key: str) -> Verdict:
        now = self.clock()
        bucket = self._buckets.pop(key, None) or [float(self.rate.burst), now, False]
        tokens = min(self.rate.burst, bucket[0] + (now - bucket[1]) * self.rate.per_minute / 60.0)
        if tokens >= 1.0:
            bucket[:] = [tokens - 1.0, now, False]
            verdict = Verdict(True)
        else:
            wait = math.ceil((1.0 - tokens) * 60.0 / self.rate.per_minute)
            verdict = Verdict(False, retry_after=max(1, wait), notify=not bucket[2])
            bucket[:] = [tokens, now, True]
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return verdict


def rate_from_environment(name: str, default: Rate) -> Rate:
    per_minute = setting(name)
    return Rate(burst=max(1, round(default.burst * per_minute / default.per_minute)), per_minute=per_minute)


@dataclass
class Limits:
    senders: RateLimiter
    addresses: RateLimiter


@functools.lru_cache(maxsize=1)
def process_limits() -> Limits:
    """This process's rate limits, shared by all its channels (made on first use)."""
    return Limits(senders=RateLimiter(rate_from_environment(SENDER_RATE_ENV, DEFAULT_SENDER_RATE)),
                  addresses=RateLimiter(rate_from_environment(ADDRESS_RATE_ENV, DEFAULT_ADDRESS_RATE)))


def client_address(request) -> str:
    """The address a request comes from. Behind nginx, Sanic takes it from X-Forwarded-For when the
    launcher sets SANIC_PROXIES_COUNT (never otherwise: a client could write that header itself)."""
    return request.remote_addr or request.ip or ""


@functools.lru_cache(maxsize=1)
def process_gate() -> TurnGate:
    """The one gate of this process, shared by all its channels (made on first use)."""
    return TurnGate()
