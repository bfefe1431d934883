"""Several Rasa instances on one PostgreSQL and one Redis lock store keep every conversation whole."""

from __future__ import annotations

import re
import threading
import uuid

import httpx
import pytest
from sqlalchemy import text

from bot.ops.deploy import profile as prod
from bot.ops.deploy.services import ServiceError, render_nginx_conf
from connectors.desk import conversation_id
from tests.conftest import Conversation

pytestmark = pytest.mark.production

REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b")
URGENCE = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
           "jai pas dordi, jsuis a rennes")


class Alternating(Conversation):
    """One person whose messages land on instance A, then B, then A..."""

    def __init__(self, bases: list[str]):
        super().__init__(bases[0])
        self.urls = [f"{b}/webhooks/desk/webhook" for b in bases]
        self.turn = 0

    def say(self, text_: str) -> list[dict]:
        self.url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        return super().say(text_)


def referrals_of(engine, reference):
    with engine.connect() as connection:
        return connection.execute(text("SELECT level, channel FROM referrals WHERE reference = :r"),
                                  {"r": reference}).all()


def user_events(engine, sender):
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                  {"s": sender}).scalar_one()


def finish_with_consent(person, replies):
    consent = replies[-1]["buttons"][0]
    assert consent["title"].startswith("Oui")
    done = person.say(consent["payload"])
    reference = REFERENCE.search(Conversation.texts(done))
    assert reference, Conversation.texts(done)
    return reference.group(0)


def test_a_conversation_alternating_between_two_instances_stays_consistent(production):
    profile = production["profile"]
    person = Alternating([profile.rasa_url(0), profile.rasa_url(1)])
    replies = person.say("bonjour")  # instance A
    replies = person.say(URGENCE)  # instance B: knows nothing but what PostgreSQL holds
    card = Conversation.card(replies)
    assert card and card["niveau"] == "urgence" and card["lieu"]["commune"]
    reference = finish_with_consent(person, replies)  # back on A, which must see B's question
    assert referrals_of(production["engine"], reference) == [("urgence", "desk")]
    assert user_events(production["engine"], person.conversation_id) == 3


def test_messages_of_one_person_sent_at_once_to_both_instances_are_both_handled(production):
    profile = production["profile"]
    sender = f"simultane-{uuid.uuid4().hex[:8]}"  # a new person each run (the test is repeated)
    results = {}

    def send(index, message):
        reply = httpx.post(f"{profile.rasa_url(index)}/webhooks/desk/webhook",
                           json={"sender": sender, "message": message}, timeout=120)
        results[index] = reply

    threads = [threading.Thread(target=send, args=(0, "bonjour")),
               threading.Thread(target=send, args=(1, "je dois renouveler mon titre de sejour"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replies = {index: reply.json() for index, reply in results.items()}
    assert all(r.status_code == 200 for r in results.values()) and all(replies.values())
    assert not any("Le service a un problème" in Conversation.texts(r) for r in replies.values()), replies
    # The Redis lock made one wait for the other: both turns are in the one tracker.
    assert user_events(production["engine"], conversation_id(sender)) == 2, replies


def test_the_load_balancer_serves_whole_conversations(production):
    profile = production["profile"]
    person = Conversation(profile.public_url)
    replies = person.say(URGENCE)
    reference = finish_with_consent(person, replies)
    assert referrals_of(production["engine"], reference) == [("urgence", "desk")]
    page = httpx.get(f"{profile.public_url}/webhooks/console/connexion", timeout=30)
    assert page.status_code == 200 and "csrf" in page.text


def test_a_restarted_rasa_instance_resumes_the_conversation(production):
    profile = production["profile"]
    person = Conversation(profile.rasa_url(1))
    replies = person.say("je voudrais apprendre a faire des visios avec mes petits enfants")
    assert "ville" in Conversation.texts(replies).lower() or "commune" in Conversation.texts(replies).lower()
    profile.stop_rasa(1)
    # Meanwhile nginx sends the public traffic to the other instance.
    assert httpx.get(f"{profile.public_url}/webhooks/desk/", timeout=30).status_code == 200
    profile.start_rasa(1, production["model"], profile.env["PYTHONPATH"])
    assert prod.wait_ready([f"{profile.rasa_url(1)}/webhooks/desk/"], {"rasa-1": profile.processes["rasa-1"]}) is None
    replies = person.say("Rennes")  # the town question is answered where it was left
    card = Conversation.card(replies)
    assert card and card["niveau"] == "montee_en_competence"


def test_a_database_restart_mid_conversation_loses_nothing(production):
    profile = production["profile"]
    person = Conversation(profile.public_url)
    replies = person.say(URGENCE)
    assert Conversation.card(replies)["niveau"] == "urgence"
    production["postgres"].restart()
    reference = finish_with_consent(person, replies)
    assert referrals_of(production["engine"], reference) == [("urgence", "desk")]


def test_the_settings_refuse_what_would_break_in_production(tmp_path):
    settings = prod.ProfileSettings(database_url="sqlite:///x.db", workdir=tmp_path)
    with pytest.raises(ServiceError, match="PostgreSQL"):
        settings.check()
    settings = prod.ProfileSettings(database_url="postgresql://a:b@h/d", instances=8, pg_max_connections=100,
                                    workdir=tmp_path)
    assert settings.connection_budget() == 8 * 20 + 2 * 10
    with pytest.raises(ServiceError, match="Trop de connexions"):
        settings.check()
    with pytest.raises(ServiceError, match="AIGUILLAGE_RASA_INSTANCES"):
        prod.ProfileSettings.from_env({"AIGUILLAGE_RASA_INSTANCES": "deux"})
    conf = render_nginx_conf(tmp_path, "127.0.0.1", 8080, [5101, 5102])
    assert "server 127.0.0.1:5101" in conf and "server 127.0.0.1:5102" in conf and "listen 127.0.0.1:8080" in conf


def test_two_instances_saving_one_conversation_on_postgresql_lose_no_event(production):
    """The tracker store's conflict rule on the production database: both turns kept, in order."""
    import asyncio

    from bot.actions.tracker_store import CONFLICTS, AiguillageTrackerStore
    from tests.actions.test_rasa_runtime import DOMAIN, two_instances_save_one_conversation, user_texts

    url = production["engine"].url.render_as_string(hide_password=False)
    first, second = (AiguillageTrackerStore(DOMAIN, dialect="postgresql", host=url) for _ in range(2))
    before = CONFLICTS.count
    sender = f"pg-conflit-{uuid.uuid4().hex[:8]}"
    merged = asyncio.run(two_instances_save_one_conversation(first, second, sender))
    assert user_texts(merged) == ["bonjour", "message A", "message B"]
    assert CONFLICTS.count == before + 1

