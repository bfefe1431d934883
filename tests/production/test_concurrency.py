"""Several instances, one conversation: no message lost under concurrency (issue 11), on the real
production profile (PostgreSQL, Redis locks, two Rasa instances)."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid

import httpx
import redis
from sqlalchemy import text

from bot.actions.lock_store import AtomicRedisLockStore
from bot.ops.deploy import profile as prod
from connectors.desk import conversation_id

MESSAGES = ("bonjour", "je dois renouveler mon titre de sejour", "je suis a rennes")
SENDERS, ROUNDS = 30, 5


def stored_turns(engine, sender):
    """The desk conversation's events in order: user texts, and whether a bot action came between two of them."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": conversation_id(sender)}).all()
    return [(kind, json.loads(data).get("text") if kind == "user" else json.loads(data).get("name"))
            for kind, data in rows]


def test_thirty_people_sending_at_once_to_both_instances_lose_no_message(production):
    profile, engine = production["profile"], production["engine"]
    for round_number in range(ROUNDS):
        senders = [f"concurrence-{round_number}-{i}-{uuid.uuid4().hex[:6]}" for i in range(SENDERS)]
        sent = {sender: MESSAGES[: 2 + i % 2] for i, sender in enumerate(senders)}  # 2 or 3 messages each
        statuses = []
        barrier = threading.Barrier(sum(len(m) for m in sent.values()))

        def post(sender, message, instance):
            barrier.wait()  # every message of the round leaves at the same instant
            reply = httpx.post(f"{profile.rasa_url(instance)}/webhooks/desk/webhook",
                               json={"sender": sender, "message": message}, timeout=180)
            statuses.append(reply.status_code)

        threads = [threading.Thread(target=post, args=(sender, message, index % 2))
                   for sender, messages in sent.items() for index, message in enumerate(messages)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses and all(status == 200 for status in statuses), statuses
        for sender, messages in sent.items():
            turns = stored_turns(engine, sender)
            users = [value for kind, value in turns if kind == "user"]
            assert sorted(users) == sorted(messages), (sender, turns)  # each message exactly once
            # One turn at a time: every user message is answered (an action) before the next one is read.
            kinds = [kind for kind, _ in turns if kind in ("user", "action")]
            assert all(not (a == "user" and b == "user") for a, b in zip(kinds, kinds[1:])), (sender, turns)


def test_an_instance_killed_while_it_holds_a_lock_frees_it_within_its_lifetime(production):
    """The instance running a person's turn dies (SIGKILL) with the lock taken: the person's next
    message, on the other instance, is answered normally once the lock's lifetime has run out, not
    with the helpline after the longest wait (AIGUILLAGE_LOCK_MAX_WAIT_S, 30 s > the lifetime)."""
    profile, engine = production["profile"], production["engine"]
    lifetime = AtomicRedisLockStore(client=redis.StrictRedis(port=production["redis"].port)).lifetime
    locks = redis.StrictRedis(port=production["redis"].port, db=1)
    sender = f"tuee-{uuid.uuid4().hex[:8]}"
    actions, doomed = profile.processes["actions"], profile.processes["rasa-0"]
    first: dict = {}

    def first_message():
        try:
            first["reply"] = httpx.post(f"{profile.rasa_url(0)}/webhooks/desk/webhook",
                                        json={"sender": sender, "message": MESSAGES[1]}, timeout=120)
        except httpx.HTTPError as error:
            first["error"] = error

    # The action server paused: instance 0 takes the lock and waits for its actions, lock in hand.
    actions.send_signal(signal.SIGSTOP)
    try:
        thread = threading.Thread(target=first_message)
        thread.start()
        deadline = time.monotonic() + 60
        while not locks.keys("aiguillage:verrou:*") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert locks.keys("aiguillage:verrou:*"), "instance 0 never took the lock"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        killed_at = time.monotonic()
    finally:
        actions.send_signal(signal.SIGCONT)
    thread.join(timeout=60)
    try:
        # The person's request failed visibly (the page says so and the person sends again).
        assert "error" in first, first
        reply = httpx.post(f"{profile.rasa_url(1)}/webhooks/desk/webhook",
                           json={"sender": sender, "message": MESSAGES[2]}, timeout=120)
        waited = time.monotonic() - killed_at
        assert reply.status_code == 200
        said = " ".join(r.get("text") or "" for r in reply.json())
        assert "Réessayez dans quelques minutes" not in said and said, said
        assert waited < lifetime + 10, waited  # the lock expired: no wait for the 30 s bound
        users = [value for kind, value in stored_turns(engine, sender) if kind == "user"]
        assert users == [MESSAGES[2]]  # the killed turn stored nothing; this one is stored once
    finally:
        profile.start_rasa(0, production["model"], profile.env["PYTHONPATH"])
        assert prod.wait_ready([profile.rasa_url(0) + "/webhooks/desk/"], profile.processes) is None
