"""The conversation lock of the production profile, alone, against a real private Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
import redis
from rasa.core.lock_store import LockError

from bot.actions.lock_store import AtomicRedisLockStore
from bot.ops.deploy.services import LocalRedis, free_port, missing_binaries

CONVERSATION = "une-personne"


@pytest.fixture(scope="module")
def redis_port():
    if "redis-server" in missing_binaries():
        if os.environ.get("AIGUILLAGE_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server missing (bash scripts/debian-services.sh)")
        pytest.skip("redis-server missing")
    server = LocalRedis(Path(tempfile.mkdtemp(prefix="aiguillage-redis-")), free_port()).start()
    yield server.port
    server.stop()


def _store(port: int, **kwargs) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(client=redis.StrictRedis(port=port), **kwargs)


def _hold_many(port: int, count: int, queue) -> None:
    """A process that takes the lock `count` times and reports when it entered and left each time."""
    store = _store(port, lifetime=5, max_wait=60)

    async def run():
        spans = []
        for _ in range(count):
            async with store.lock(CONVERSATION):
                enter = time.time()
                await asyncio.sleep(0.0005)
                spans.append((enter, time.time()))
        return spans

    queue.put(asyncio.run(run()))


def _hold_forever(port: int, ready) -> None:
    store = _store(port, lifetime=1.5, max_wait=5)

    async def run():
        async with store.lock("mourant"):
            ready.set()
            await asyncio.sleep(3600)

    asyncio.run(run())


def test_four_processes_taking_one_lock_800_times_never_overlap(redis_port):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_hold_many, args=(redis_port, 200, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    spans = sorted(span for _ in workers for span in queue.get(timeout=120))
    for worker in workers:
        worker.join(timeout=30)
    assert len(spans) == 800
    overlaps = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]
    assert overlaps == []


def test_a_dead_instance_frees_the_lock_within_its_lifetime(redis_port):
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_forever, args=(redis_port, ready))
    holder.start()
    assert ready.wait(60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=10)
    killed = time.monotonic()

    async def next_turn():
        async with _store(redis_port, lifetime=1.5, max_wait=10).lock("mourant"):
            return time.monotonic() - killed

    assert asyncio.run(next_turn()) <= 1.5 + 0.5


def test_a_long_turn_keeps_its_lock_and_a_turn_waiting_too_long_gives_up(redis_port):
    async def scenario():
        holder, other = _store(redis_port, lifetime=0.6, max_wait=5), _store(redis_port, lifetime=0.6, max_wait=0.4)
        async with holder.lock("longue"):
            await asyncio.sleep(1.5)  # more than twice the lifetime: renewed meanwhile
            with pytest.raises(LockError):
                async with other.lock("longue"):
                    pass
        async with other.lock("longue"):  # released at the end of the turn
            return True

    assert asyncio.run(scenario())


def test_only_the_owner_releases_the_lock(redis_port):
    client = redis.StrictRedis(port=redis_port)

    async def scenario():
        store = _store(redis_port, lifetime=5, max_wait=1)
        async with store.lock("proprietaire"):
            client.set(store.key_prefix + "proprietaire", "un-autre", px=5000)  # expired and taken by another
        return client.get(store.key_prefix + "proprietaire")

    assert asyncio.run(scenario()) == b"un-autre"
