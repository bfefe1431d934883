"""POST /webhooks/desk/contact over real HTTP: the desk leaves a phone number with the referral its own
conversation made (never another's), a bad number is refused with its field, a repeat updates."""

from __future__ import annotations

from datetime import date, datetime, timezone

import httpx
import pytest
from sqlalchemy import func, select

from bot.core.db import make_engine, session_factory, session_scope, upgrade
from bot.directory.models import Place
from bot.handoff import followup, helpline
from bot.handoff.referrals import Referral, ReferralRequest, create_referral
from connectors.desk import DeskInput, conversation_id
from tests.fakes.channel_server import ChannelServer

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)  # Sunday 11:00 in Paris


@pytest.fixture()
def desk(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "desk-route-test-key")
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        session.add(Place(id="lieu-a", pivot="00000000000000", nom="Espace A", commune="Rennes", code_postal="35000",
                          adresse="1 rue A", date_maj=date(2026, 1, 1), horaires="Mo-Fr 09:00-17:00"))
        session.flush()
        references = {}
        for sender in ("poste-1", "poste-2"):
            referral = create_referral(session, ReferralRequest(
                level="urgence", reasons=[], facts={"organisme": "caf"}, place_id="lieu-a", channel="desk",
                sender_id=conversation_id(sender)), now=NOW)
            references[sender] = referral.reference

    async def no_turn(message):
        raise AssertionError("the contact route runs no Rasa turn")

    server = ChannelServer(DeskInput(session_factory=factory, clock=lambda: NOW), no_turn, "/webhooks/desk")
    try:
        yield {"base": server.base, "factory": factory, "references": references}
    finally:
        server.stop()


def post(desk, sender="poste-1", reference=None, **fields):
    body = {"sender": sender, "reference": desk["references"]["poste-1"] if reference is None else reference,
            "telephone": "06 12 34 56 78", "prenom": "", "consentement": True, "rappel": False, **fields}
    return httpx.post(desk["base"] + "/contact", json=body, timeout=10)


def contacts(desk) -> list:
    with session_scope(desk["factory"]) as session:
        rows = session.execute(select(followup.Contact, Referral.reference)
                               .join(Referral, Referral.id == followup.Contact.referral_id)).all()
        return [(reference, contact.channel, followup.unseal(contact.sealed_address)) for contact, reference in rows]


def test_the_desk_leaves_a_mobile_and_hears_back_the_slip_line_but_never_the_number(desk):
    reply = post(desk, prenom="Awa")
    assert reply.status_code == 200
    body = reply.json()
    assert body["sms"] is True and body["rappel_le"] is None
    assert body["ligne"] == {"cle": "contact", "libelle": "Contact",
                             "texte": "téléphone laissé à l'accueil (SMS possible)"}
    assert "612345678" not in reply.text and "12 34" not in reply.text and "Awa" not in reply.text
    assert contacts(desk) == [(desk["references"]["poste-1"], "sms", "+33612345678")]


def test_another_desk_conversation_cannot_leave_a_number_on_this_referral(desk):
    for sender, reference in (("poste-2", desk["references"]["poste-1"]), ("", None),
                              ("poste-1", "ZZZ-ZZZZ"), ("poste-1", "pas un code")):
        reply = post(desk, sender=sender, reference=reference)
        assert reply.status_code == 404 and reply.json()["erreur"] == "introuvable"
    assert contacts(desk) == []


@pytest.mark.parametrize("typed, code", [("06 12 34", "telephone_invalide"), ("+44 7911 123456", "telephone_invalide"),
                                         ("", "telephone_manquant"), (None, "telephone_manquant")])
def test_a_bad_number_is_refused_with_its_field_and_nothing_is_kept(desk, typed, code):
    reply = post(desk, telephone=typed)
    assert reply.status_code == 400 and reply.json() == {"erreur": code, "champ": "telephone"}
    assert contacts(desk) == []


def test_without_the_consent_box_ticked_nothing_is_kept(desk):
    for consent in (False, None, "true", 1):  # only a real tick (JSON true) counts
        reply = post(desk, consentement=consent)
        assert reply.status_code == 400 and reply.json()["erreur"] == "consentement_manquant"
    assert contacts(desk) == []


def test_a_landline_is_kept_for_calls_and_the_page_is_told_no_sms(desk):
    reply = post(desk, telephone="02 99 12 34 56", rappel=True)
    assert reply.status_code == 200
    assert reply.json()["sms"] is False
    assert reply.json()["rappel_le"] == "2026-12-07T09:00:00+01:00"  # Monday's opening, in Paris time
    assert contacts(desk) == [(desk["references"]["poste-1"], "appel", "+33299123456")]


def test_a_repeated_submit_updates_and_never_duplicates(desk):
    for typed in ("06 12 34 56 78", "06 12 34 56 78", "07 98 76 54 32"):
        assert post(desk, telephone=typed, rappel=True).status_code == 200
    assert contacts(desk) == [(desk["references"]["poste-1"], "sms", "+33798765432")]
    with session_scope(desk["factory"]) as session:
        assert session.execute(select(func.count()).select_from(helpline.Callback)).scalar() == 1
