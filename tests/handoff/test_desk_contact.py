"""A way back to a person referred at a desk (issue 15, section 2): the number the desk leaves, with the
person's own consent, sealed; notices by SMS to a mobile; a callback at the place's next opening; masked in
the console until claimed; erased with the referral and by the purge; never in statistics, notifications
or logs; and the recap's contact line."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.console import accounts, service
from bot.core.db import make_engine, session_factory, session_scope, upgrade
from bot.core.pseudonyms import pseudonymise
from bot.directory.models import Place
from bot.handoff import desk_contact, followup, helpline, stats, takeover
from bot.handoff.desk_contact import ContactError, leave_contact, parse_phone
from bot.handoff.erasure import erase_conversation_data
from bot.handoff.notifications.channels import summary
from bot.handoff.notifications.config import NotifySettings
from bot.handoff.notifications.outbox import OutboxMessage, enqueue_for_referral
from bot.handoff.recap import recap
from bot.handoff.referrals import STATUS_OPEN, Referral, ReferralRequest, create_referral
from bot.ops import retention

pytestmark = pytest.mark.unit

MOBILE = "+33612345678"
LANDLINE = "+33299123456"
DESK_SENDER = "desk:poste-accueil-1"  # the desk conversation id (connectors.desk.conversation_id)
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)  # Sunday 11:00 in Paris
MONDAY_OPENING = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)  # Monday 9:00 in Paris


@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "desk-contact-test-key")
    monkeypatch.setattr(accounts, "SCRYPT_N", 2 ** 10)
    monkeypatch.delenv("AIGUILLAGE_FOLLOWUP_DAYS", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        for pid in ("lieu-a", "lieu-b"):
            session.add(Place(id=pid, pivot="00000000000000", nom=f"Espace {pid}", commune="Rennes",
                              code_postal="35000", adresse="1 rue de test", date_maj=date(2026, 1, 1),
                              telephone="0299000000", horaires="Mo-Fr 09:00-17:00"))
        session.flush()
        accounts.create_account(session, "med-a@example.org", "un mot de passe assez long", "lieu-a", now=T0)
    return {"engine": engine, "factory": factory}


def new_referral(db, sender=DESK_SENDER, channel="desk", place="lieu-a", facts=None) -> tuple[int, str]:
    with session_scope(db["factory"]) as session:
        referral = create_referral(session, ReferralRequest(
            level="urgence", reasons=["delai_proche"],
            facts=facts or {"organisme": "caf", "demarche": "declaration_trimestrielle", "enjeu": "delai"},
            place_id=place, channel=channel, sender_id=sender), now=T0)
        return referral.id, referral.reference


def leave(db, reference, phone=MOBILE, sender=DESK_SENDER, now=T0, **options):
    options.setdefault("consent", True)
    with session_scope(db["factory"]) as session:
        return leave_contact(session, pseudonymise(sender), reference, phone, now=now, **options)


def mediator(db):
    with session_scope(db["factory"]) as session:
        return accounts.find_account(session, "med-a@example.org")


def count(db, model, *where) -> int:
    with session_scope(db["factory"]) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar()


class FakeSms:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, address, text):
        self.sent.append((address, text))
        return "id"


# --- the number ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78",
                                   "0033612345678", " 06-12-34-56-78 "])
def test_a_mobile_typed_as_people_type_it(typed):
    assert parse_phone(typed) == desk_contact.Phone(MOBILE, mobile=True)


@pytest.mark.parametrize("typed", ["02 99 12 34 56", "+33299123456", "09 72 12 34 56"])
def test_a_landline_or_a_box_number_can_only_be_called(typed):
    assert parse_phone(typed).mobile is False


@pytest.mark.parametrize("typed, code", [
    ("", desk_contact.NO_PHONE), ("   ", desk_contact.NO_PHONE),
    ("06 12 34", desk_contact.BAD_PHONE), ("12345678901", desk_contact.BAD_PHONE),
    ("+44 7911 123456", desk_contact.BAD_PHONE),  # a British mobile: not a French number
    ("08 92 12 34 56", desk_contact.BAD_PHONE),  # a premium-rate line is nobody's phone
    ("pas de téléphone", desk_contact.BAD_PHONE), ("06" * 30, desk_contact.BAD_PHONE),
])
def test_a_number_that_is_not_a_french_phone_is_refused_with_its_field(typed, code):
    with pytest.raises(ContactError) as refused:
        parse_phone(typed)
    assert (refused.value.code, refused.value.field) == (code, "telephone")


def test_the_number_and_first_name_are_sealed_and_the_facts_only_say_a_mobile_was_left(db):
    referral_id, reference = new_referral(db)
    left = leave(db, reference, "06 12 34 56 78", first_name="  Awa ")
    assert left.mobile and left.reference == reference
    with session_scope(db["factory"]) as session:
        contact = followup.contact_for(session, referral_id)
        assert contact.channel == "sms"
        assert MOBILE not in contact.sealed_address and "612345678" not in contact.sealed_address
        assert followup.unseal(contact.sealed_address) == MOBILE
        assert "Awa" not in contact.sealed_first_name and followup.unseal(contact.sealed_first_name) == "Awa"
        assert contact.address_key == pseudonymise("sms:" + MOBILE)
        referral = session.get(Referral, referral_id)
        assert referral.facts["contact"] == "sms"
        assert "612345678" not in repr(referral.facts)


def test_without_the_persons_consent_nothing_is_kept(db):
    referral_id, reference = new_referral(db)
    with pytest.raises(ContactError) as refused:
        leave(db, reference, consent=False, first_name="Awa")
    assert (refused.value.code, refused.value.field) == (desk_contact.NO_CONSENT, "consentement")
    assert count(db, followup.Contact) == 0


def test_only_the_desk_conversation_that_made_the_referral_can_leave_a_number(db):
    _, reference = new_referral(db)
    _, sms_reference = new_referral(db, sender="sms-person", channel="sms")
    for sender, code in (("desk:another-desk-tab", reference), (DESK_SENDER, sms_reference),
                         (DESK_SENDER, "ZZZ-ZZZZ"), (DESK_SENDER, "")):
        with pytest.raises(ContactError) as refused:
            leave(db, code, sender=sender)
        assert refused.value.code == desk_contact.NOT_FOUND
    assert count(db, followup.Contact) == 0


def test_a_repeated_submit_updates_the_one_contact_and_books_one_callback(db):
    referral_id, reference = new_referral(db)
    leave(db, reference, MOBILE, first_name="Awa", callback=True)
    left = leave(db, reference, "07 98 76 54 32", callback=True)
    assert count(db, followup.Contact) == 1
    assert count(db, helpline.Callback) == 1
    with session_scope(db["factory"]) as session:
        contact = followup.contact_for(session, referral_id)
        assert followup.unseal(contact.sealed_address) == "+33798765432"
        assert contact.sealed_first_name is None  # the second submit gave none
        callback = session.execute(select(helpline.Callback)).scalar_one()
        assert helpline.decrypt_number(callback.caller_encrypted) == "+33798765432"
    assert left.callback_due == MONDAY_OPENING
    leave(db, reference, "07 98 76 54 32", callback=False)  # "Rappelez-moi" unticked: the callback goes
    assert count(db, helpline.Callback) == 0 and count(db, followup.Contact) == 1


def test_rappelez_moi_books_a_callback_at_the_places_next_opening_in_its_console_list(db):
    referral_id, reference = new_referral(db)
    left = leave(db, reference, "02 99 12 34 56", callback=True)  # a landline can be called back
    assert left.callback_due == MONDAY_OPENING and left.mobile is False
    med = mediator(db)
    with session_scope(db["factory"]) as session:
        assert service.due_callbacks_for(session, med, T0) == []  # Sunday: not before the opening
        [due] = service.due_callbacks_for(session, med, MONDAY_OPENING)
        assert (due.caller, due.reason, due.place_id) == (LANDLINE, helpline.REASON_DESK, "lieu-a")
        assert session.execute(select(helpline.Callback.referral_id)).scalar() == referral_id


def test_a_callback_needs_a_place(db):
    _, reference = new_referral(db, place=None)
    with pytest.raises(ContactError) as refused:
        leave(db, reference, callback=True)
    assert refused.value.code == desk_contact.NO_PLACE_TO_CALL
    assert count(db, followup.Contact) == 0 and count(db, helpline.Callback) == 0


# --- what the mediator sees ------------------------------------------------------------------------------

def test_the_console_masks_the_number_until_the_referral_is_claimed_then_shows_it_with_the_first_name(db):
    referral_id, reference = new_referral(db)
    leave(db, reference, first_name="Awa", callback=True)
    med = mediator(db)
    with session_scope(db["factory"]) as session:
        view = service.open_referral(session, med, referral_id, T0)
        assert view.referral.status == STATUS_OPEN
        assert view.contact.phone == "06 •• •• •• 78" and view.contact.masked
        assert view.contact.first_name is None and view.contact.sms
        assert view.contact.callback_due == MONDAY_OPENING
    with session_scope(db["factory"]) as session:
        service.claim(session, med, referral_id, T0 + timedelta(minutes=5))
    with session_scope(db["factory"]) as session:
        view = service.open_referral(session, med, referral_id, T0)
        assert (view.contact.phone, view.contact.first_name, view.contact.masked) == ("06 12 34 56 78", "Awa", False)


def test_an_sms_referral_shows_no_desk_contact(db):
    referral_id, _ = new_referral(db, sender="sms-person", channel="sms")
    with session_scope(db["factory"]) as session:
        followup.remember_contact(session, session.get(Referral, referral_id), "sms", MOBILE, T0)
    with session_scope(db["factory"]) as session:
        assert service.open_referral(session, mediator(db), referral_id, T0).contact is None


def test_a_desk_contact_is_no_live_conversation(db):
    referral_id, reference = new_referral(db)
    leave(db, reference)
    with session_scope(db["factory"]) as session:
        availability = takeover.availability(session, session.get(Referral, referral_id), MONDAY_OPENING)
    assert (availability.possible, availability.reason) == (False, takeover.NO_CHANNEL)


# --- notices to the person -------------------------------------------------------------------------------

def test_a_mobile_gets_the_claim_and_closure_notices_and_the_follow_up_by_sms(db):
    referral_id, reference = new_referral(db)
    leave(db, reference)
    med = mediator(db)
    sms = FakeSms()
    with session_scope(db["factory"]) as session:
        service.claim(session, med, referral_id, T0)
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, T0))
    assert sms.sent[0][0] == MOBILE and "prise en charge" in sms.sent[0][1] and reference in sms.sent[0][1]
    with session_scope(db["factory"]) as session:
        service.close(session, med, referral_id, "fait", T0)
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, T0))
    later = T0 + timedelta(days=followup.DEFAULT_FOLLOWUP_DAYS, minutes=1)
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, later))
    assert [address for address, _ in sms.sent] == [MOBILE] * 3
    assert "terminée" in sms.sent[1][1] and "est-ce réglé" in sms.sent[2][1]
    # The person answers from their phone: their SMS conversation finds the desk referral.
    with session_scope(db["factory"]) as session:
        answer = followup.handle_reply(session, pseudonymise("sms:" + MOBILE), "non toujours pas", later)
        assert answer is not None and session.get(Referral, referral_id).status == STATUS_OPEN


def test_a_landline_gets_no_sms(db):
    referral_id, reference = new_referral(db)
    leave(db, reference, "02 99 12 34 56")
    with session_scope(db["factory"]) as session:
        service.claim(session, mediator(db), referral_id, T0)
    assert count(db, followup.FollowupMessage) == 0


# --- erased, purged, never shown -------------------------------------------------------------------------

def test_stop_at_the_desk_erases_the_number_the_first_name_and_the_callback(db):
    _, reference = new_referral(db)
    _, other = new_referral(db, sender="desk:another-desk-tab")
    leave(db, reference, first_name="Awa", callback=True)
    leave(db, other, "07 98 76 54 32", sender="desk:another-desk-tab", callback=True)
    with session_scope(db["factory"]) as session:
        erase_conversation_data(session, DESK_SENDER)
    assert count(db, followup.Contact) == 1 and count(db, helpline.Callback) == 1  # the other desk's stay
    with session_scope(db["factory"]) as session:
        assert followup.unseal(session.execute(select(followup.Contact.sealed_address)).scalar()) == "+33798765432"


def test_the_purge_removes_the_number_and_the_callback_with_the_referral(db):
    _, reference = new_referral(db)
    leave(db, reference, first_name="Awa", callback=True)
    report = retention.purge(db["engine"], days=30, now=T0 + timedelta(days=31))
    assert report.count("followup_contacts") == 1 and report.count("callbacks") == 1
    assert count(db, followup.Contact) == 0 and count(db, helpline.Callback) == 0


def test_the_number_never_reaches_statistics_notifications_or_logs(db, caplog):
    caplog.set_level(logging.DEBUG)
    referral_id, reference = new_referral(db)
    with session_scope(db["factory"]) as session:  # the place is told by e-mail, as the referral is made
        session.get(Place, "lieu-a").courriels = "lieu@example.org"
        enqueue_for_referral(session, session.get(Referral, referral_id),
                             NotifySettings(smtp_host="smtp.example.org", smtp_from="aiguillage@example.org"), now=T0)
    leave(db, reference, first_name="Awa", callback=True)
    with session_scope(db["factory"]) as session:
        service.claim(session, mediator(db), referral_id, T0)
        computed = stats.compute(session)
        payload = session.execute(select(OutboxMessage.payload)).scalar()
    asyncio.run(followup.deliver_due(db["factory"], {"sms": FakeSms()}, T0))
    assert payload["faits"]["contact"] == "sms"  # the notification not sent yet tells a contact was left
    told = summary(payload)
    assert "Contact : téléphone laissé à l'accueil (SMS possible)" in told
    for text in (repr(computed), repr(payload), told, caplog.text):
        for secret in ("612345678", "12 34 56", "Awa"):
            assert secret not in text


# --- the recap ---------------------------------------------------------------------------------------------

def test_the_recap_of_a_desk_referral_says_how_the_place_can_reach_the_person():
    facts = {"organisme": "caf"}
    assert recap(facts, "urgence", "desk").text_lines()[-1] == "Pas de contact : la personne viendra au lieu"
    assert recap(dict(facts, contact="sms"), "urgence", "desk").text_lines()[-1] == \
        "Contact : téléphone laissé à l'accueil (SMS possible)"
    assert recap(dict(facts, contact="appel"), "urgence", "desk").line("contact") == \
        "téléphone fixe laissé à l'accueil (appels seulement, pas de SMS)"


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_an_sms_or_telegram_recap_says_nothing_new_the_channel_is_the_way_back(channel):
    assert recap({"organisme": "caf"}, "urgence", channel).line("contact") is None


def test_a_number_left_after_the_claim_still_gets_the_claim_notice_once(db):
    referral_id, reference = new_referral(db)
    with session_scope(db["factory"]) as session:
        service.claim(session, mediator(db), referral_id, T0)
    leave(db, reference)
    leave(db, reference)  # a repeat queues nothing more
    sms = FakeSms()
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, T0))
    assert len(sms.sent) == 1 and sms.sent[0][0] == MOBILE and "prise en charge" in sms.sent[0][1]


def test_a_mobile_replaced_by_a_landline_cancels_what_was_waiting(db):
    referral_id, reference = new_referral(db)
    leave(db, reference)
    with session_scope(db["factory"]) as session:
        service.claim(session, mediator(db), referral_id, T0)
    leave(db, reference, "02 99 12 34 56")
    sms = FakeSms()
    asyncio.run(followup.deliver_due(db["factory"], {"sms": sms}, T0))
    assert sms.sent == []
    assert count(db, followup.FollowupMessage, followup.FollowupMessage.status == followup.STATUS_PENDING) == 0
