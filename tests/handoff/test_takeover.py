"""Live takeover by a mediator, and what a person's message does before Rasa (bot.handoff takeover, inbox)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.console import service
from bot.core.db import session_scope
from bot.directory.models import Place
from bot.handoff import followup, inbox, takeover
from bot.handoff.referrals import Referral, ReferralRequest, create_referral, erase_for_sender
from tests.console_support import T0, account, build_db

PHONE = "+33612345678"
HOURS = "Mo-Fr 09:00-17:00"  # T0 is Thursday 10:00 in Paris
CLOSING = datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)  # 17:00 in Paris


class FakeSender:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    async def __call__(self, address: str, text: str):
        if self.fail:
            raise RuntimeError("gateway down")
        self.sent.append((address, text))


@pytest.fixture()
def db(tmp_path, monkeypatch):
    built = build_db(tmp_path, monkeypatch)
    with session_scope(built["factory"]) as session:
        session.get(Place, "lieu-a").horaires = HOURS
    return built


def sms_referral(db, sender="sms-person", address=PHONE, channel="sms", place="lieu-a"):
    with session_scope(db["factory"]) as session:
        referral = create_referral(session, ReferralRequest(
            level="urgence", reasons=["delai_proche"], facts={"organisme": "caf"}, place_id=place,
            channel=channel, sender_id=sender), now=T0)
        if address:
            followup.remember_contact(session, referral, channel, address, now=T0)
        return referral.id


def start(db, referral_id, email="med-a@example.org", now=T0):
    with session_scope(db["factory"]) as session:
        service.start_live(session, account(db["factory"], email), referral_id, now)


def route(db, text, sender="sms-person", now=T0 + timedelta(minutes=5)):
    with session_scope(db["factory"]) as session:
        return inbox.route(session, sender, text, now)


def live_messages(db, referral_id):
    with session_scope(db["factory"]) as session:
        latest = takeover.latest_for_referral(session, referral_id)
        return [(m.direction, m.text, m.status) for m in takeover.messages_of(session, latest.id)]


def send_pending(db, referral_id, senders, texts=None):
    async def run():
        with session_scope(db["factory"]) as session:
            ids = takeover.unsent(session, referral_id)
        return [await takeover.deliver(db["factory"], i, senders, (texts or {}).get(i)) for i in ids]

    return asyncio.run(run())


def availability(db, referral_id, now):
    with session_scope(db["factory"]) as session:
        return takeover.availability(session, session.get(Referral, referral_id), now)


# --- when a takeover is possible ------------------------------------------------------------------

def test_possible_only_during_the_place_opening_hours_and_ends_at_closing(db):
    referral_id = sms_referral(db)
    open_now = availability(db, referral_id, T0)
    assert open_now.possible and open_now.ends_at == CLOSING
    night = availability(db, referral_id, datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc))
    assert not night.possible and night.reason == takeover.PLACE_CLOSED
    assert night.opens_at == datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)  # Friday 9:00 Paris


def test_not_possible_without_a_channel_to_reach_the_person_or_without_hours(db):
    desk = db["referrals"]["a1"][0]  # came to the desk: nobody to write to
    assert availability(db, desk, T0).reason == takeover.NO_CHANNEL
    no_hours = sms_referral(db, sender="other", place="lieu-b")
    assert availability(db, no_hours, T0).reason == takeover.HOURS_UNKNOWN


def test_only_the_place_own_mediators_can_take_over(db):
    referral_id = sms_referral(db)
    with pytest.raises(service.NotFound):  # another place does not even see it
        start(db, referral_id, "med-b@example.org")
    with pytest.raises(service.ConsoleError) as refused:
        start(db, referral_id, "coord@example.org")
    assert refused.value.code == takeover.NOT_OF_PLACE


def test_closed_place_refuses_a_takeover(db):
    referral_id = sms_referral(db)
    with pytest.raises(service.ConsoleError) as refused:
        start(db, referral_id, now=datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc))  # Saturday
    assert refused.value.code == takeover.PLACE_CLOSED


# --- the conversation ------------------------------------------------------------------------------

def test_the_person_is_told_then_messages_are_relayed_both_ways(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    sms = FakeSender()
    assert send_pending(db, referral_id, {"sms": sms}) == [takeover.SENT]
    (address, notice), = sms.sent
    assert address == PHONE and "Espace numérique <Bréquigny>" in notice and "directement" in notice

    routed = route(db, "bonjour j'ai pas recu le code")
    assert not routed.to_rasa and routed.replies == []  # Rasa never sees it, the bot stays quiet
    with session_scope(db["factory"]) as session:
        message_id, outgoing = service.post_live(session, account(db["factory"], "med-a@example.org"), referral_id,
                                                 "Avez-vous votre courrier de la CAF ?", T0 + timedelta(minutes=6))
    send_pending(db, referral_id, {"sms": sms}, {message_id: outgoing})
    assert sms.sent[-1] == (PHONE, "Espace numérique <Bréquigny> : Avez-vous votre courrier de la CAF ?")
    assert [(d, s) for d, _, s in live_messages(db, referral_id)] == [
        ("systeme", "envoye"), ("personne", "recu"), ("mediateur", "envoye")]


def test_button_presses_and_positions_are_readable_for_the_mediator(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    route(db, '/choix{"valeur": "oui"}')
    route(db, '/position{"latitude": 48.1, "longitude": -1.6}')
    texts = [t for d, t, _ in live_messages(db, referral_id) if d == "personne"]
    assert texts == ["(a appuyé sur le bouton « oui »)", "(a partagé sa position)"]


def test_release_tells_the_person_and_hands_back_to_rasa(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    with session_scope(db["factory"]) as session:
        service.end_live(session, account(db["factory"], "med-a2@example.org"), referral_id, T0 + timedelta(minutes=9))
    sms = FakeSender()
    send_pending(db, referral_id, {"sms": sms})
    assert "L'assistant automatique vous répond de nouveau" in sms.sent[-1][1]
    assert route(db, "merci", now=T0 + timedelta(minutes=10)).to_rasa
    with pytest.raises(service.ConsoleError) as refused:  # nothing left to release
        with session_scope(db["factory"]) as session:
            service.end_live(session, account(db["factory"], "med-a@example.org"), referral_id, T0)
    assert refused.value.code == takeover.NOT_LIVE


def test_at_closing_time_the_next_message_goes_to_rasa_after_a_notice(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    later = CLOSING + timedelta(minutes=1)
    routed = route(db, "vous etes la ?", now=later)
    assert routed.to_rasa and "fermé maintenant" in routed.replies[0]
    with session_scope(db["factory"]) as session:
        ended = takeover.latest_for_referral(session, referral_id)
        assert ended.end_reason == takeover.END_PLACE_CLOSED and ended.active_key is None
        with pytest.raises(service.ConsoleError):  # the mediator can no longer write
            service.post_live(session, account(db["factory"], "med-a@example.org"), referral_id, "allo", later)


def test_closing_the_referral_ends_the_live_conversation(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    with session_scope(db["factory"]) as session:
        service.close(session, account(db["factory"], "med-a@example.org"), referral_id, "fait",
                      T0 + timedelta(hours=1))
    sms = FakeSender()
    send_pending(db, referral_id, {"sms": sms})
    assert len(sms.sent) == 2 and "terminée" in sms.sent[-1][1]
    assert route(db, "ok merci").to_rasa


def test_two_mediators_cannot_both_take_over(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    with pytest.raises(service.ConsoleError) as refused:
        start(db, referral_id, "med-a2@example.org")
    assert refused.value.code == takeover.ALREADY_LIVE


def test_a_failed_send_is_shown_and_the_takeover_goes_on(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    assert send_pending(db, referral_id, {"sms": FakeSender(fail=True)}) == [takeover.FAILED]
    with session_scope(db["factory"]) as session:
        message = takeover.messages_of(session, takeover.latest_for_referral(session, referral_id).id)[0]
        assert "gateway down" in message.error
    assert not route(db, "allo").to_rasa


def test_message_limits_give_a_reason(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    for text, code in (("   ", takeover.EMPTY), ("x" * 1001, takeover.TOO_LONG)):
        with pytest.raises(service.ConsoleError) as refused:
            with session_scope(db["factory"]) as session:
                service.post_live(session, account(db["factory"], "med-a@example.org"), referral_id, text, T0)
        assert refused.value.code == code


def test_erasing_the_person_erases_the_live_conversation(db):
    referral_id = sms_referral(db)
    start(db, referral_id)
    route(db, "mon numero fiscal 1234567890123")
    with session_scope(db["factory"]) as session:
        erase_for_sender(session, "sms-person")
    with session_scope(db["factory"]) as session:
        assert session.execute(select(func.count()).select_from(takeover.LiveMessage)).scalar() == 0
        assert session.execute(select(func.count()).select_from(takeover.Takeover)).scalar() == 0
    assert route(db, "bonjour").to_rasa


# --- follow-up answers and the contact kept after a turn ---------------------------------------------

def test_a_no_to_the_follow_up_is_answered_without_rasa_and_reopens(db):
    referral_id = sms_referral(db)
    with session_scope(db["factory"]) as session:
        service.close(session, account(db["factory"], "med-a@example.org"), referral_id, "fait", T0)
    sms = FakeSender()
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, T0 + timedelta(days=8)))
    assert "est-ce réglé" in sms.sent[-1][1]
    routed = route(db, "non toujours pas", now=T0 + timedelta(days=9))
    assert not routed.to_rasa and "de nouveau ouverte" in routed.replies[0]
    with session_scope(db["factory"]) as session:
        assert session.get(Referral, referral_id).status == "ouverte"
    assert route(db, "non", now=T0 + timedelta(days=9, minutes=1)).to_rasa  # answered once only


def card(reference):
    return [{"text": "Votre demande est envoyée."}, {"custom": {"type": "resultat", "reference": reference}}]


def test_the_contact_is_kept_only_for_a_referral_of_this_conversation(db):
    with session_scope(db["factory"]) as session:
        mine = create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id="lieu-a",
                                                        channel="sms", sender_id="sms-person"), now=T0)
        theirs = create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id="lieu-a",
                                                          channel="sms", sender_id="someone-else"), now=T0)
        kept = inbox.keep_contact(session, card(mine.reference) + card(theirs.reference), "sms-person", "sms", PHONE)
        assert kept == 1
        assert followup.unseal(followup.contact_for(session, mine.id).sealed_address) == PHONE
        assert followup.contact_for(session, theirs.id) is None
        assert inbox.keep_contact(session, [{"text": "Bonjour"}], "sms-person", "sms", PHONE) == 0


def test_no_contact_is_kept_for_a_desk_referral(db):
    with session_scope(db["factory"]) as session:
        desk = create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id="lieu-a",
                                                        channel="desk", sender_id="desk-1"), now=T0)
        assert inbox.keep_contact(session, card(desk.reference), "desk-1", "desk", "x") == 0


def test_in_a_live_takeover_neither_side_leaves_a_secret_or_a_contact_on_disk(db, tmp_path):
    """The person's message goes through what every channel does first (connectors.base); the
    mediator pastes a phone number and an e-mail address: both stored copies are masked, in the
    database file and its write-ahead log, and the person still receives the mediator's words."""
    from connectors.base import prepare_incoming

    referral_id = sms_referral(db)
    start(db, referral_id)
    typed = "mon num 06 12 34 56 78, le code reçu: 482 913, secu 1 84 12 75 123 456 7, mail jean.dupont@gmail.com"
    route(db, prepare_incoming(typed).text)
    pasted = "Rappelez-moi au 02.99.87.65.43 ou écrivez à conseillere.durand@mairie-rennes.fr"
    with session_scope(db["factory"]) as session:
        message_id, outgoing = service.post_live(session, account(db["factory"], "med-a@example.org"), referral_id,
                                                 pasted, T0 + timedelta(minutes=6))
    sms = FakeSender()
    send_pending(db, referral_id, {"sms": sms}, {message_id: outgoing})
    assert pasted in sms.sent[-1][1]
    stored = " ".join(text for _, text, _ in live_messages(db, referral_id))
    assert "[TELEPHONE]" in stored and "[EMAIL]" in stored and "482" not in stored and "913" not in stored
    on_disk = b"".join(path.read_bytes() for path in tmp_path.glob("console.db*")).decode("latin-1")
    flat = re.sub(r"[^0-9A-Za-z@]", "", on_disk)
    for needle in ("0612345678", "482913", "184127512345", "jeandupont@gmail", "0299876543",
                   "conseilleredurand@mairie"):
        assert needle not in flat, needle
