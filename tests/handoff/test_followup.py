"""Messages to the person after a referral: claim, closure, "did it work?" N days later, replies, erasure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.sms.encoding import segments_of
from bot.console import service
from bot.core.db import session_scope
from bot.core.pseudonyms import pseudonymise
from bot.handoff import followup
from bot.handoff.journal import Action, JournalEntry, Note
from bot.handoff.referrals import Referral, ReferralRequest, create_referral, erase_for_sender
from tests.console_support import T0, account, build_db

PHONE = "+33612345678"
CHAT_ID = 987654321


class FakeSender:
    """Records what would reach the person; fails the first `failures` calls."""

    def __init__(self, failures: int = 0):
        self.sent: list[tuple[str, str]] = []
        self.calls = 0
        self.failures = failures

    async def __call__(self, address: str, text: str):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("gateway down")
        self.sent.append((address, text))
        return "msg-id"


@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("AIGUILLAGE_FOLLOWUP_DAYS", raising=False)
    return build_db(tmp_path, monkeypatch)


def new_referral(db, channel="sms", sender="sms-person", address=PHONE, place="lieu-a"):
    """A referral as the channel would create it, with the contact remembered at consent time."""
    with session_scope(db["factory"]) as session:
        referral = create_referral(session, ReferralRequest(
            level="urgence", reasons=["delai_proche"], facts={"organisme": "caf"}, place_id=place,
            channel=channel, sender_id=sender), now=T0)
        if address is not None:
            followup.remember_contact(session, referral, channel, address, now=T0)
        return referral.id, referral.reference


def claim(db, referral_id, now, email="med-a@example.org"):
    med = account(db["factory"], email)
    with session_scope(db["factory"]) as session:
        service.claim(session, med, referral_id, now=now)  # the console queues the message itself


def close(db, referral_id, outcome, now, email="med-a@example.org"):
    med = account(db["factory"], email)
    with session_scope(db["factory"]) as session:
        service.close(session, med, referral_id, outcome, now=now)  # the console queues the message itself


def deliver(db, senders, now):
    return asyncio.run(followup.deliver_due(db["factory"], senders, now))


def messages(db, referral_id=None):
    with session_scope(db["factory"]) as session:
        query = select(followup.FollowupMessage).order_by(followup.FollowupMessage.id)
        if referral_id is not None:
            query = query.where(followup.FollowupMessage.referral_id == referral_id)
        return [(m.kind, m.status, m.attempts) for m in session.execute(query).scalars()]


def reply(db, sender, text, now):
    with session_scope(db["factory"]) as session:
        return followup.handle_reply(session, pseudonymise(sender), text, now)


def test_claim_sends_one_taken_in_charge_message_with_code_and_place(db):
    rid, reference = new_referral(db)
    sms = FakeSender()
    claim(db, rid, T0 + timedelta(hours=1))
    report = deliver(db, {"sms": sms}, T0 + timedelta(hours=1))
    assert report.sent == 1
    assert len(sms.sent) == 1
    address, text = sms.sent[0]
    assert address == PHONE
    assert reference in text and "prise en charge" in text and "Bréquigny" in text
    assert segments_of(text) <= 3
    # Nothing is sent twice.
    deliver(db, {"sms": sms}, T0 + timedelta(hours=2))
    assert len(sms.sent) == 1
    assert messages(db, rid) == [("prise_en_charge", "envoye", 1)]


def test_close_sends_closure_then_the_followup_exactly_n_days_later(db, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_FOLLOWUP_DAYS", "3")
    rid, reference = new_referral(db, channel="telegram", sender="tg-person", address=CHAT_ID)
    tg = FakeSender()
    claim(db, rid, T0 + timedelta(hours=1))
    closed_at = T0 + timedelta(hours=2)
    close(db, rid, "fait", closed_at)
    deliver(db, {"telegram": tg}, closed_at)
    assert [t for _, t in tg.sent][1].startswith("Aiguillage") and "terminée" in tg.sent[1][1]
    assert all(a == str(CHAT_ID) for a, _ in tg.sent)
    assert len(tg.sent) == 2
    # Not before the delay...
    deliver(db, {"telegram": tg}, closed_at + timedelta(days=3) - timedelta(minutes=1))
    assert len(tg.sent) == 2
    assert ("relance", "en_attente", 0) in messages(db, rid)
    # ...and then once.
    deliver(db, {"telegram": tg}, closed_at + timedelta(days=3))
    assert len(tg.sent) == 3
    assert reference in tg.sent[2][1] and "OUI" in tg.sent[2][1] and "NON" in tg.sent[2][1]
    deliver(db, {"telegram": tg}, closed_at + timedelta(days=4))
    assert len(tg.sent) == 3


def test_default_delay_is_seven_days_and_unreachable_gets_no_followup(db):
    rid, _ = new_referral(db, sender="p1")
    close(db, rid, "fait", T0)
    with session_scope(db["factory"]) as session:
        due = session.execute(select(followup.FollowupMessage.due_at)
                              .where(followup.FollowupMessage.kind == "relance")).scalar_one()
    assert due == T0 + timedelta(days=7) and due.tzinfo is not None  # read back aware (UtcDateTime)
    other, _ = new_referral(db, sender="p2")
    close(db, other, "injoignable", T0)
    assert messages(db, other) == [("cloture", "en_attente", 0)]
    assert followup.followup_days({"AIGUILLAGE_FOLLOWUP_DAYS": "abc"}) == 7
    assert followup.followup_days({"AIGUILLAGE_FOLLOWUP_DAYS": "14"}) == 14


def _sent_followup(db, sender="sms-person", outcome="reoriente"):
    rid, reference = new_referral(db, sender=sender)
    claim(db, rid, T0)
    close(db, rid, outcome, T0 + timedelta(hours=1))
    sms = FakeSender()
    when = T0 + timedelta(days=8)
    deliver(db, {"sms": sms}, when)
    assert any("OUI" in t for _, t in sms.sent)
    return rid, reference, when


def test_no_reopens_the_referral_with_a_note_and_acknowledges(db):
    rid, reference, when = _sent_followup(db)
    answer = reply(db, "sms-person", "Nom toujours pas", when + timedelta(hours=2))
    assert answer is not None and reference in answer and "ouverte" in answer
    assert segments_of(answer) <= 3
    with session_scope(db["factory"]) as session:
        referral = session.get(Referral, rid)
        assert referral.status == "ouverte"
        assert referral.closed_at is None and referral.outcome is None and referral.claimed_by is None
        notes = session.execute(select(Note).where(Note.referral_id == rid)).scalars().all()
        assert len(notes) == 1 and "NON" in notes[0].text
        audit = session.execute(select(JournalEntry.action).where(JournalEntry.referral_id == rid)).scalars().all()
        assert Action.REOPENED.value in audit
    # The place can take it again (the console's own rules apply) and the person hears about it again.
    claim(db, rid, when + timedelta(days=1))
    assert messages(db, rid)[-1] == ("prise_en_charge", "en_attente", 0)
    # A second answer does nothing: the follow-up was answered.
    assert reply(db, "sms-person", "non", when + timedelta(hours=3)) is None


def test_yes_closes_the_loop_without_reopening(db):
    rid, _, when = _sent_followup(db)
    answer = reply(db, "sms-person", "ouii", when + timedelta(hours=1))
    assert answer is not None and "Merci" in answer
    with session_scope(db["factory"]) as session:
        referral = session.get(Referral, rid)
        assert referral.status == "cloturee" and referral.outcome == "reoriente"
        assert session.execute(select(Note).where(Note.referral_id == rid)).first() is None
    assert reply(db, "sms-person", "non", when + timedelta(hours=2)) is None


def test_unrelated_text_or_no_pending_followup_goes_to_the_conversation(db):
    # Before any follow-up was sent, "non" is an ordinary answer in the dialogue.
    rid, _ = new_referral(db, sender="early")
    close(db, rid, "fait", T0)
    assert reply(db, "early", "non", T0 + timedelta(days=1)) is None
    rid2, _, when = _sent_followup(db, sender="later")
    assert reply(db, "later", "je voudrais refaire ma carte grise", when) is None
    # Another person's "non" does not touch this referral.
    assert reply(db, "someone-else", "non", when) is None
    # Too late: the follow-up is no longer waiting for an answer.
    assert reply(db, "later", "non", when + followup.REPLY_WINDOW + timedelta(days=1)) is None
    with session_scope(db["factory"]) as session:
        assert session.get(Referral, rid2).status == "cloturee"


@pytest.mark.parametrize("text,expected", [
    ("OUI", "oui"), ("Oui merci", "oui"), ("ouais", "oui"), ("oiu", "oui"), ("ou", "oui"),
    ("NON", "non"), ("nn", "non"), ("nom", "non"), ("Non.", "non"), ("pas encore", "non"),
    ("toujours pas réglé", "non"), ("bonjour", None), ("", None), ("carte grise", None),
])
def test_answers_are_read_despite_typos(text, expected):
    assert followup.parse_answer(text) == expected


def test_failing_sender_retries_with_backoff_then_gives_up(db):
    rid, _ = new_referral(db)
    claim(db, rid, T0)
    broken = FakeSender(failures=100)
    now = T0
    report = deliver(db, {"sms": broken}, now)
    assert report.retried == 1 and messages(db, rid) == [("prise_en_charge", "en_attente", 1)]
    # Not retried straight away: the backoff holds it.
    deliver(db, {"sms": broken}, now + timedelta(seconds=30))
    assert broken.calls == 1
    for _ in range(10):
        now += timedelta(hours=3)
        deliver(db, {"sms": broken}, now)
    assert broken.calls == followup.MAX_ATTEMPTS
    assert messages(db, rid) == [("prise_en_charge", "echec", followup.MAX_ATTEMPTS)]
    with session_scope(db["factory"]) as session:
        row = session.execute(select(followup.FollowupMessage)).scalar_one()
        assert "gateway down" in row.last_error and PHONE not in row.last_error


def test_a_transient_failure_is_sent_on_retry(db):
    rid, _ = new_referral(db)
    claim(db, rid, T0)
    flaky = FakeSender(failures=1)
    deliver(db, {"sms": flaky}, T0)
    assert flaky.sent == []
    deliver(db, {"sms": flaky}, T0 + timedelta(minutes=2))
    assert len(flaky.sent) == 1 and messages(db, rid) == [("prise_en_charge", "envoye", 2)]


def test_desk_referral_gets_nothing(db):
    rid, _ = new_referral(db, channel="desk", sender="desk-person", address=None)
    with session_scope(db["factory"]) as session:
        referral = session.get(Referral, rid)
        assert followup.remember_contact(session, referral, "sms", PHONE) is None  # desk: slip only
    sms = FakeSender()
    claim(db, rid, T0)
    close(db, rid, "fait", T0 + timedelta(hours=1))
    deliver(db, {"sms": sms}, T0 + timedelta(days=30))
    assert sms.sent == [] and messages(db, rid) == []


def test_erasing_the_person_removes_contact_and_pending_messages(db):
    rid, _ = new_referral(db)
    kept, _ = new_referral(db, sender="someone-else", address="+33699999999")
    for r in (rid, kept):
        claim(db, r, T0)
        close(db, r, "fait", T0 + timedelta(hours=1))
    with session_scope(db["factory"]) as session:
        assert erase_for_sender(session, "sms-person") == 1
    with session_scope(db["factory"]) as session:
        assert session.execute(select(followup.Contact).where(followup.Contact.referral_id == rid)).first() is None
        assert messages(db, rid) == []
        assert followup.contact_for(session, kept) is not None
    assert len(messages(db, kept)) == 3
    sms = FakeSender()
    deliver(db, {"sms": sms}, T0 + timedelta(days=10))
    assert {a for a, _ in sms.sent} == {"+33699999999"}


def test_addresses_are_never_stored_in_clear(db, tmp_path):
    rid, _ = new_referral(db)
    tg, _ = new_referral(db, channel="telegram", sender="tg", address=CHAT_ID)
    with session_scope(db["factory"]) as session:
        assert followup.unseal(followup.contact_for(session, rid).sealed_address) == PHONE
    db["engine"].dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("console.db*"))
    assert b"followup_contacts" in raw  # the table really is in the file we read
    for needle in (PHONE, PHONE[1:], "612345678", str(CHAT_ID)):
        assert needle.encode() not in raw


def test_reopening_through_the_console_cancels_a_waiting_followup(db):
    rid, _ = new_referral(db)
    close(db, rid, "fait", T0)
    with session_scope(db["factory"]) as session:
        referral = session.get(Referral, rid)
        referral.status, referral.closed_at, referral.outcome = "ouverte", None, None
        followup.on_status_change(session, referral, T0 + timedelta(days=1))
    sms = FakeSender()
    deliver(db, {"sms": sms}, T0 + timedelta(days=10))
    assert [t for _, t in sms.sent if "OUI" in t] == []
    assert ("relance", "annule", 0) in messages(db, rid)


def test_missing_sender_keeps_the_message_waiting(db):
    rid, _ = new_referral(db, channel="telegram", sender="tg", address=CHAT_ID)
    claim(db, rid, T0)
    deliver(db, {"sms": FakeSender()}, T0)
    assert messages(db, rid) == [("prise_en_charge", "en_attente", 0)]
