"""How many turns a Rasa server runs at once, and in which order the others wait.

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
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Dict, Optional

from bot.settings import int_from_env

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 4
LIMIT_ENV = "AIGUILLAGE_CONCURRENT_TURNS"
# A wait past this is logged: the server is saturated (more instances, or the production profile).
SLOW_WAIT_S = 2.0


def limit_from_environment() -> int:
    return int_from_env(LIMIT_ENV, DEFAULT_LIMIT, minimum=1)


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


def client_address(request) -> str:
    """The address a request comes from. Behind nginx, Sanic takes it from X-Forwarded-For when the
    launcher sets SANIC_PROXIES_COUNT (never otherwise: a client could write that header itself)."""
    return request.remote_addr or request.ip or ""


@functools.lru_cache(maxsize=1)
def process_gate() -> TurnGate:
    """The one gate of this process, shared by all its channels (made on first use)."""
    return TurnGate()
