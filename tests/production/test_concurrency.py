"""Several instances, one conversation: no message lost under concurrency (issue 11), on the real
production profile (PostgreSQL, Redis locks, two Rasa instances)."""

from __future__ import annotations

import json
import threading
import uuid

import httpx
from sqlalchemy import text

MESSAGES = ("bonjour", "je dois renouveler mon titre de sejour", "je suis a rennes")
SENDERS, ROUNDS = 30, 5


def stored_turns(engine, sender):
    """The conversation's events in order: user texts, and whether a bot action came between two of them."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": sender}).all()
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
