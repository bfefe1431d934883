"""STOP or "effacer" on one channel erases that conversation from every table, and nothing of the same
person's conversations on other channels; the anonymous statistics still count the referral
(issue 12, part 7). Channels run for real (SMS handling, the shared turn), Rasa is played by a fake
that runs the real action_effacer."""

from __future__ import annotations

import copy
import types
from datetime import date, datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from bot.actions import triage_actions
from bot.channels.sms.providers import SmsSettings
from bot.channels.sms.store import SmsChoices, SmsOptOut, SmsStore, number_key
from bot.console import service
from bot.console.accounts import ROLE_COORDINATOR, ROLE_MEDIATOR, Account
from bot.core import messages
from bot.core.db import session_scope
from bot.core.pseudonyms import pseudonymise
from bot.directory.models import Place
from bot.handoff import followup, helpline, stats, takeover
from bot.handoff.erasure import erase_conversation_data
from bot.handoff.journal import JournalEntry, Note
from bot.handoff.notifications.outbox import STATUS_PENDING as OUTBOX_PENDING
from bot.handoff.notifications.outbox import OutboxMessage
from bot.handoff.referrals import (
    ERASED_KEY,
    OUTCOME_WITHDRAWN,
    RESIDUE_FACTS,
    STATUS_CLOSED,
    Referral,
    ReferralRequest,
    create_referral,
    find_by_reference,
)
from bot.ops import retention
from connectors.desk import DeskInput, conversation_id
from connectors.sms import SmsInput
from connectors.telegram import TelegramInput, sender_for

NUMBER = "+33612345678"
CHAT = 33612345678  # a Telegram chat id with the very digits of the phone number
PAGE = "33612345678"  # and a desk page that names itself so
PLACE = "lieu-erasure"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FACTS = {"organisme": "caf", "demarche": "rsa", "commune": "Rennes", "commune_insee": "35238",
         "enjeu": "droits_coupes", "redacteur": "proche"}
NOTE = "Mme Martin, joignable le matin"


class FakeTrackerStore:
    """Rasa's in-memory store as connectors.base.erase_conversation sees it: events by sender id."""

    def __init__(self, senders):
        self.store = {conversation: ["événements"] for conversation in senders}


class FakeSmsSender:
    def __init__(self):
        self.sent = []

    async def send(self, number, text):
        self.sent.append((number, text))
        return "id"

    async def deliver(self, number, text, check_opt_out=True):
        return await self.send(number, text)


class EffacerRasa:
    """Plays Rasa for a "stop" intent: runs the real action_effacer on the message's conversation and
    hands its messages (the text, the erase signal) to the channel."""

    def __init__(self):
        self.senders = []

    async def __call__(self, message):
        self.senders.append(message.sender_id)
        dispatcher = CollectingDispatcher()
        tracker = Tracker(message.sender_id, {}, {"text": message.text, "intent": {"name": "stop"}}, [], False,
                          None, {}, None)
        await triage_actions.ActionEffacer().run(dispatcher, tracker, {})
        for sent in dispatcher.messages:
            reply = {"custom": sent["custom"]} if sent.get("custom") else {"text": messages.text(sent["response"])}
            await message.output_channel.send_response(message.sender_id, reply)


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "erasure-scope-key")


@pytest.fixture()
def db(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database.url)  # the action server's database
    triage_actions.services.cache_clear()
    with session_scope(database.factory) as session:
        session.add(Place(id=PLACE, pivot="00000000000000", nom="Espace numérique", commune="Rennes",
                          code_postal="35000", adresse="1 rue de test", date_maj=date(2026, 1, 1)))
    yield {"engine": database.engine, "factory": database.factory}
    triage_actions.services.cache_clear()


def sender(channel: str) -> str:
    """The conversation's id on that channel (keyed hashes: computed under the test's key)."""
    return {"sms": number_key, "telegram": sender_for, "desk": conversation_id}[channel](
        {"sms": NUMBER, "telegram": CHAT, "desk": PAGE}[channel])


def all_senders() -> list:
    return [sender(channel) for channel in ("sms", "telegram", "desk")]
ADDRESSES = {"sms": NUMBER, "telegram": str(CHAT), "desk": None}


def give_data(factory, channel: str, minutes: int = 0) -> int:
    """One referral of that channel's conversation with everything that can hang off it; returns its id."""
    conversation, now = sender(channel), T0 + timedelta(minutes=minutes)
    with session_scope(factory) as session:
        referral = create_referral(session, ReferralRequest(
            level="urgence", reasons=["delai_proche"], facts=FACTS, place_id=PLACE, channel=channel,
            sender_id=conversation), now=now)
        referral.status, referral.claimed_at, referral.claimed_by = "prise_en_charge", now + timedelta(hours=2), 7
        if ADDRESSES[channel]:
            followup.remember_contact(session, referral, channel, ADDRESSES[channel], now)
            session.add(followup.FollowupMessage(referral_id=referral.id, kind=followup.KIND_CLAIMED, due_at=now,
                                                 status=followup.STATUS_SENT, attempts=1, created_at=now))
            live = takeover.Takeover(referral_id=referral.id, conversation_key=referral.conversation_key,
                                     account_id=7, started_at=now, ends_at=now + timedelta(hours=1), ended_at=now)
            session.add(live)
            session.flush()
            session.add(takeover.LiveMessage(takeover_id=live.id, referral_id=referral.id, direction="personne",
                                             text="je suis Mme Martin", at=now, status=takeover.RECEIVED))
        session.add(Note(referral_id=referral.id, account_id=7, at=now, text=NOTE))
        session.add(JournalEntry(at=now, account_id=7, action="note", referral_id=referral.id, place_id=PLACE))
        session.add(OutboxMessage(referral_id=referral.id, reference=referral.reference, place_id=PLACE,
                                  kind="email", target="lieu@example.org", payload={"reference": referral.reference},
                                  status=OUTBOX_PENDING, attempts=0, next_attempt_at=now, created_at=now,
                                  updated_at=now))
        if channel == "sms":  # asked the place to call back; the numbered choices of the last reply
            helpline.book_callback(session, NUMBER, PLACE, now)
            session.add(SmsChoices(number_key=conversation,
                                   choices=[{"number": 1, "title": "Oui", "payload": "/choix"}], updated_at=now))
        return referral.id


def missed_helpline_call(factory) -> None:
    """The same number called the helpline while it was closed: a callback the helpline owes."""
    with session_scope(factory) as session:
        session.add(helpline.Callback(
            call_key="appel-manque", caller_encrypted=helpline.encrypt_number(NUMBER),
            caller_pseudonym=helpline.caller_pseudonym(NUMBER), called_at=T0, due_at=T0, status="a_rappeler",
            created_at=T0, reason="missed", sms_state="envoye", sms_attempts=1, sms_updated_at=T0))


def stored(factory, channel: str, referral_id: int) -> dict:
    """What our tables hold of one channel's conversation (and of its referral, by its id)."""
    conversation = sender(channel)
    with session_scope(factory) as session:
        def count(model, *where):
            return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

        return {
            "referrals": count(Referral, Referral.conversation_key == pseudonymise(conversation)),
            "referral": count(Referral, Referral.id == referral_id),
            "followup_contacts": count(followup.Contact, followup.Contact.referral_id == referral_id),
            "followup_messages": count(followup.FollowupMessage, followup.FollowupMessage.referral_id == referral_id),
            "takeovers": count(takeover.Takeover, takeover.Takeover.referral_id == referral_id),
            "live_messages": count(takeover.LiveMessage, takeover.LiveMessage.referral_id == referral_id),
            "notes": count(Note, Note.referral_id == referral_id),
            "outbox": count(OutboxMessage, OutboxMessage.referral_id == referral_id),
            "rappels demandés": count(helpline.Callback, helpline.Callback.caller_pseudonym == conversation,
                                      helpline.Callback.reason == helpline.REASON_ASKED),
            "sms_choices": count(SmsChoices, SmsChoices.number_key == conversation),
        }


NOTHING = dict.fromkeys(("referrals", "referral", "followup_contacts", "followup_messages", "takeovers",
                         "live_messages", "notes", "outbox", "rappels demandés", "sms_choices"), 0)


def statistics(factory) -> dict:
    with session_scope(factory) as session:
        computed = stats.compute(session)
    return {"total": computed.total, "counts": computed.counts, "communes": computed.commune_names}


def withdrawn(before: dict) -> dict:
    """The statistics once one of their claimed referrals was erased: the same counts, except that
    it is now closed, withdrawn by the person (with no closing delay)."""
    after = copy.deepcopy(before)
    after["counts"]["statut"]["prise_en_charge"] -= 1
    after["counts"]["statut"][STATUS_CLOSED] += 1
    after["counts"]["issue"][OUTCOME_WITHDRAWN] += 1
    return after


def everyone(db) -> dict:
    ids = {channel: give_data(db["factory"], channel, minutes) for minutes, channel in
           enumerate(("sms", "telegram", "desk"))}
    missed_helpline_call(db["factory"])
    before = {channel: stored(db["factory"], channel, ids[channel]) for channel in ids}
    assert before["sms"] == dict(NOTHING, referrals=1, referral=1, followup_contacts=1, followup_messages=1,
                                 takeovers=1, live_messages=1, notes=1, outbox=1,
                                 **{"rappels demandés": 1}, sms_choices=1)
    assert before["telegram"]["followup_contacts"] == 1 and before["desk"]["notes"] == 1
    return {"ids": ids, "before": before, "statistics": statistics(db["factory"])}


def request_with(tracker_store):
    return types.SimpleNamespace(app=types.SimpleNamespace(ctx=types.SimpleNamespace(
        agent=types.SimpleNamespace(tracker_store=tracker_store))))


def missed_call_kept(factory) -> bool:
    with session_scope(factory) as session:
        rows = session.execute(select(helpline.Callback.reason)
                               .where(helpline.Callback.caller_pseudonym == helpline.caller_pseudonym(NUMBER))
                               ).scalars().all()
    return "missed" in rows


def sms_channel(factory, sms):
    return SmsInput(SmsSettings(provider="json", send_url="http://127.0.0.1:9/send", shared_secret="s",
                                from_number="+33700000000"), store=SmsStore(factory), sender=sms)


# --- STOP by SMS -------------------------------------------------------------------------------------

async def test_sms_stop_erases_that_conversation_everywhere_and_nothing_of_the_other_channels(db):
    data = everyone(db)
    events = FakeTrackerStore(all_senders())
    sms = FakeSmsSender()
    await sms_channel(db["factory"], sms).handle_message(request_with(events), EffacerRasa(), "06 12 34 56 78",
                                                         "STOP")

    assert sms.sent == [(NUMBER, messages.text("utter_sms_stop_confirme"))]
    assert stored(db["factory"], "sms", data["ids"]["sms"]) == NOTHING
    assert sorted(events.store) == sorted([sender("telegram"), sender("desk")])
    for channel in ("telegram", "desk"):
        assert stored(db["factory"], channel, data["ids"][channel]) == data["before"][channel]
    assert missed_call_kept(db["factory"])  # the helpline still calls back the missed call
    with session_scope(db["factory"]) as session:  # kept, so that STOP is honoured (a pseudonym only)
        assert session.get(SmsOptOut, sender("sms")) is not None
    assert statistics(db["factory"]) == withdrawn(data["statistics"])


async def test_sms_effacer_through_rasa_erases_the_callbacks_it_asked_for_not_the_helplines(db):
    data = everyone(db)
    events = FakeTrackerStore(all_senders())
    sms = FakeSmsSender()
    rasa = EffacerRasa()
    await sms_channel(db["factory"], sms).handle_message(request_with(events), rasa, NUMBER, "effacez mes données")

    assert rasa.senders == [sender("sms")]
    assert messages.text("utter_efface") in [text for _, text in sms.sent]
    assert stored(db["factory"], "sms", data["ids"]["sms"]) == NOTHING
    assert sender("sms") not in events.store
    assert missed_call_kept(db["factory"])
    for channel in ("telegram", "desk"):
        assert stored(db["factory"], channel, data["ids"][channel]) == data["before"][channel]
    assert statistics(db["factory"]) == withdrawn(data["statistics"])


# --- "effacer" on Telegram and on the desk -------------------------------------------------------------

@pytest.mark.parametrize("channel", ["telegram", "desk"])
async def test_effacer_on_one_channel_leaves_the_same_persons_sms_conversation_intact(db, channel):
    data = everyone(db)
    events = FakeTrackerStore(all_senders())
    rasa = EffacerRasa()
    connector = TelegramInput(factory=db["factory"]) if channel == "telegram" else DeskInput()
    replies = await connector.run_turn(request_with(events), rasa, sender(channel), "effacer")

    assert [r.get("text") for r in replies] == [messages.text("utter_efface")]
    assert stored(db["factory"], channel, data["ids"][channel]) == NOTHING
    assert sender(channel) not in events.store
    for other in {"sms", "telegram", "desk"} - {channel}:
        assert stored(db["factory"], other, data["ids"][other]) == data["before"][other]
        assert other == "desk" or sender(other) in events.store
    assert missed_call_kept(db["factory"])
    assert statistics(db["factory"]) == withdrawn(data["statistics"])


# --- what an erasure leaves ---------------------------------------------------------------------------

def test_the_residue_keeps_only_what_the_statistics_count_and_no_one_works_on_it(db):
    referral_id = give_data(db["factory"], "sms")
    with session_scope(db["factory"]) as session:
        reference = session.get(Referral, referral_id).reference
    before = statistics(db["factory"])
    with session_scope(db["factory"]) as session:
        assert erase_conversation_data(session, sender("sms")).referrals == 1

    with session_scope(db["factory"]) as session:
        [residue] = session.execute(select(Referral)).scalars().all()
        assert residue.id > referral_id  # the audit log's id names nothing any more
        assert residue.conversation_key == ERASED_KEY and residue.reference.startswith("~")
        assert find_by_reference(session, reference) is None
        assert (residue.place_id, residue.reasons, residue.claimed_by) == (None, [], None)
        assert residue.facts == {k: FACTS[k] for k in RESIDUE_FACTS}
        # It was claimed: no one works on it now, so it is closed as withdrawn (not left in progress).
        assert (residue.level, residue.channel, residue.status, residue.outcome, residue.closed_at) == \
            ("urgence", "sms", STATUS_CLOSED, OUTCOME_WITHDRAWN, None)
        coordinator = Account(email="c@example.org", role=ROLE_COORDINATOR, place_id=None)
        mediator = Account(email="m@example.org", role=ROLE_MEDIATOR, place_id=PLACE)
        for account in (coordinator, mediator):
            assert service.list_referrals(session, account) == []
            with pytest.raises(service.NotFound):
                service.get_referral(session, account, residue.id)
    assert statistics(db["factory"]) == withdrawn(before)


def test_a_retention_purge_leaves_an_erasure_residue_as_it_is(db):
    give_data(db["factory"], "telegram")
    with session_scope(db["factory"]) as session:
        erase_conversation_data(session, sender("telegram"))
    report = retention.purge(db["engine"], days=30, now=T0 + timedelta(days=120))
    assert report.count("referrals") == 0
    with session_scope(db["factory"]) as session:
        [residue] = session.execute(select(Referral)).scalars().all()
        assert residue.conversation_key == ERASED_KEY
        assert service.list_referrals(session, Account(email="c@example.org", role=ROLE_COORDINATOR)) == []
