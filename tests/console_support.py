"""Shared set-up for the console tests: a database with three places, accounts and referrals."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.console import accounts
from bot.core.db import make_engine, session_factory, session_scope, upgrade
from bot.directory.models import Place
from bot.handoff.referrals import ReferralRequest, create_referral
from tests.fakes.channel_server import ChannelServer

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)

PLACES = {
    "lieu-a": ("Espace numérique <Bréquigny>", "Rennes"),
    "lieu-b": ("Médiathèque des Champs Libres", "Rennes"),
    "lieu-c": ("France services Cesson", "Cesson-Sévigné"),
}


def build_db(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "console-test-key")
    # Cheap scrypt in tests: the real cost is checked separately.
    monkeypatch.setattr(accounts, "SCRYPT_N", 2 ** 10)
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        for pid, (nom, commune) in PLACES.items():
            session.add(Place(id=pid, pivot="00000000000000", nom=nom, commune=commune, code_postal="35000",
                              adresse="1 rue de test", date_maj=date(2026, 1, 1), telephone="0299000000"))
        session.flush()
        ids = {}
        for email, place, role in (("med-a@example.org", "lieu-a", "mediateur"),
                                   ("med-a2@example.org", "lieu-a", "mediateur"),
                                   ("med-b@example.org", "lieu-b", "mediateur"),
                                   ("coord@example.org", None, "coordinateur")):
            ids[email] = accounts.create_account(session, email, PASSWORD, place, role, now=T0).id
        refs = {}
        for i, (key, place, level) in enumerate((("a1", "lieu-a", "urgence"), ("a2", "lieu-a", "inclusion"),
                                                 ("b1", "lieu-b", "montee_en_competence"))):
            request = ReferralRequest(level=level, reasons=["delai_proche"] if level == "urgence" else [],
                                      facts={"organisme": "caf", "demarche": "prime_activite", "commune": "Rennes"},
                                      place_id=place, channel="desk", sender_id=f"person-{key}")
            referral = create_referral(session, request, now=T0 + timedelta(minutes=i))
            refs[key] = (referral.id, referral.reference)
    return {"engine": engine, "factory": factory, "accounts": ids, "referrals": refs}


def account(factory, email):
    with session_scope(factory) as session:
        return accounts.find_account(session, email)


class ConsoleServer(ChannelServer):
    """The real console blueprint on a loopback port (tests/fakes/channel_server.py)."""

    def __init__(self, factory, clock):
        from connectors.console import ConsoleInput

        channel = ConsoleInput(session_factory=factory, clock=clock)

        async def no_turn(message):  # the console never runs a Rasa turn
            raise AssertionError("unexpected Rasa turn")

        super().__init__(channel, no_turn, f"/webhooks/{channel.name()}")
