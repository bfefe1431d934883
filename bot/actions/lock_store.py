"""One turn at a time per conversation, across every Rasa instance, with Redis doing the locking itself.

Rasa 3.6's RedisLockStore reads a ticket lock from Redis, adds a ticket and writes it back: two
instances can both get ticket 0 and run one person's two messages at once (issue 11). Here the lock
is a single Redis key taken with SET NX PX (atomic), owned by a random token:
- it has a lifetime, renewed while the turn runs (a long turn keeps its lock); an instance that dies
  stops renewing, so the lock frees itself within that lifetime;
- it is released only by its owner (a Lua script compares the token before deleting);
- a turn that waits longer than a bound gets a LockError: the channel then answers with the helpline
  instead of hanging. Wait times are logged.
Used from endpoints.production.yml as `type: bot.actions.lock_store.AtomicRedisLockStore`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncGenerator, Optional, Text

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.core.settings import setting

logger = logging.getLogger(__name__)

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
          "else return 0 end")


class AtomicRedisLockStore(LockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, client: Optional[Any] = None,
                 lifetime: Optional[float] = None, max_wait: Optional[float] = None) -> None:
        config = endpoint_config.kwargs if endpoint_config is not None else {}
        if client is None:
            client = redis.StrictRedis(
                host=(endpoint_config.url if endpoint_config is not None and endpoint_config.url else "localhost"),
                port=int(config.get("port") or 6379), db=int(config.get("db") or 1),
                password=config.get("password") or None, socket_timeout=10)
        self.red = client
        prefix = str(config.get("key_prefix") or "")
        self.key_prefix = f"{prefix}:verrou:" if prefix.isalnum() else "verrou:"
        # A turn renews its lock every third of the lifetime; a dead instance's lock frees within it.
        self.lifetime = lifetime or setting("AIGUILLAGE_LOCK_LIFETIME_S")
        # Past this wait the turn gives up: the person gets the helpline rather than silence.
        self.max_wait = max_wait or setting("AIGUILLAGE_LOCK_MAX_WAIT_S")
        self._release = self.red.register_script(_RELEASE)
        self._renew = self.red.register_script(_RENEW)
        super().__init__()

    # Rasa's ticket-lock API is not used: the whole lock is `lock()` below.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return None

    def delete_lock(self, conversation_id: Text) -> None:
        self.red.delete(self.key_prefix + conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        return None

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: Optional[float] = None,
                   wait_time_in_seconds: Optional[float] = None) -> AsyncGenerator[None, None]:
        key, token = self.key_prefix + conversation_id, uuid.uuid4().hex
        lifetime_ms = int(self.lifetime * 1000)
        start, pause = time.monotonic(), 0.005
        while not self.red.set(key, token, nx=True, px=lifetime_ms):
            if time.monotonic() - start > self.max_wait:
                logger.warning("lock for %s not acquired after %.1f s: the turn gives up", conversation_id,
                               self.max_wait)
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        waited = time.monotonic() - start
        (logger.warning if waited > 1.0 else logger.debug)("lock for %s acquired after %.3f s", conversation_id,
                                                            waited)
        renewal = asyncio.ensure_future(self._keep(key, token, lifetime_ms))
        try:
            yield None
        finally:
            renewal.cancel()
            with suppress(asyncio.CancelledError):
                await renewal
            self._release(keys=[key], args=[token])

    async def _keep(self, key: str, token: str, lifetime_ms: int) -> None:
        while True:
            await asyncio.sleep(lifetime_ms / 3000)
            if not self._renew(keys=[key], args=[token, lifetime_ms]):
                logger.error("lock %s was lost during its turn (expired before renewal)", key)
                return
