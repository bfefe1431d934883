"""Helpline callbacks reach the console of the place that calls back, at its next opening."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest

from bot.channels import helpline_webhook
from bot.console import service
from bot.core.db import current_revision, head_revision, make_engine, session_scope, upgrade
from bot.directory.models import Place
from bot.handoff import helpline
from tests.console_support import PASSWORD, ConsoleServer, account, build_db

CALLER = "+33612345678"
NIGHT = datetime(2026, 11, 26, 21, 30, tzinfo=timezone.utc)  # Thursday 22:30 in Paris
NEXT_OPENING = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)  # Friday 9:00 in Paris


class Sender:
    def __init__(self):
        self.sent = []

    async def send(self, to, text):
        self.sent.append((to, text))
        return "id"


@pytest.fixture()
def db(tmp_path, monkeypatch):
    built = build_db(tmp_path, monkeypatch)
    with session_scope(built["factory"]) as session:
        session.get(Place, "lieu-a").horaires = "Mo-Fr 09:00-17:00"
    return built


def missed_call(db, place_id="lieu-a", call_id="c1"):
    settings = helpline.HelplineSettings(secret="s", hours="Mo-Su 00:00-00:01", name="Ligne", phone="0800000000",
                                         place_id=place_id)
    sender = Sender()
    handler = helpline.Helpline(db["factory"], settings, sender_factory=lambda: sender, clock=lambda: NIGHT)
    result = asyncio.run(handler.handle(helpline_webhook.MissedCall(call_id=call_id, caller=CALLER, called_at=NIGHT,
                                                            reason="after_hours", mobile=True)))
    return result, sender


def test_the_callback_is_due_at_the_place_opening_and_only_its_mediators_see_it(db):
    result, sender = missed_call(db)
    assert result.due_at == NEXT_OPENING  # the place's hours, not the helpline's
    assert "demain dès 9h" in sender.sent[0][1]
    med_a, med_b, coord = (account(db["factory"], e) for e in ("med-a@example.org", "med-b@example.org",
                                                                 "coord@example.org"))
    with session_scope(db["factory"]) as session:
        assert service.due_callbacks_for(session, med_a, NIGHT) == []  # not before the opening
        due = service.due_callbacks_for(session, med_a, NEXT_OPENING)
        assert [c.caller for c in due] == [CALLER]
        assert service.due_callbacks_for(session, med_b, NEXT_OPENING) == []
        assert len(service.due_callbacks_for(session, coord, NEXT_OPENING)) == 1
        with pytest.raises(service.NotFound):  # another place cannot tick it off
            service.mark_called_back(session, med_b, due[0].id, NEXT_OPENING)
    with session_scope(db["factory"]) as session:
        service.mark_called_back(session, med_a, due[0].id, NEXT_OPENING)
    with session_scope(db["factory"]) as session:
        assert service.due_callbacks_for(session, med_a, NEXT_OPENING) == []
        entry = service.journal(session, med_a)[0]
        assert entry.action == service.ACTION_CALLED_BACK


def test_the_console_lists_the_callback_and_ticks_it_off(db):
    missed_call(db)
    server = ConsoleServer(db["factory"], lambda: NEXT_OPENING)
    try:
        with httpx.Client(base_url=server.base, follow_redirects=True, timeout=20) as client:
            login = client.get("/connexion")
            csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
            client.post("/connexion", data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf})
            page = client.get("/orientations")
            assert CALLER in page.text and "Rappel fait" in page.text
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            callback_id = page.text.split("/rappels/")[1].split("/")[0]
            done = client.post(f"/rappels/{callback_id}/fait", data={"csrf": csrf})
            assert "Rappel noté comme fait." in done.text and CALLER not in done.text
    finally:
        server.stop()


def test_an_older_database_gets_the_new_columns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:  # the table as the previous version's helpline created it, alone
        connection.exec_driver_sql(
            "CREATE TABLE rappels (id INTEGER PRIMARY KEY, call_key VARCHAR(64) NOT NULL UNIQUE, "
            "caller_encrypted BLOB NOT NULL, caller_pseudonym VARCHAR(64) NOT NULL, called_at DATETIME NOT NULL, "
            "due_at DATETIME NOT NULL, status VARCHAR(32) NOT NULL, created_at DATETIME NOT NULL, "
            "reason VARCHAR(16) NOT NULL, sms_state VARCHAR(16) NOT NULL, sms_attempts INTEGER NOT NULL, "
            "sms_updated_at DATETIME NOT NULL, sms_message_id VARCHAR(128))")
    upgrade(engine)
    with engine.connect() as connection:
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(callbacks)")}
        assert current_revision(connection) == head_revision()
    assert {"place_id", "done_at", "done_by"} <= columns


def test_a_person_on_sms_who_asks_to_be_called_back_appears_to_the_place_at_its_opening(db):
    from bot.channels.sms.store import SmsStore
    from connectors.sms import SmsInput

    channel = SmsInput(store=SmsStore(db["factory"]))
    asked = [{"text": "C'est noté"}, {"custom": {"type": "rappel", "lieu": "lieu-a"}}]
    with patch_now(NIGHT):
        kept = asyncio.run(channel.book_callbacks(asked, CALLER))
        asyncio.run(channel.book_callbacks(asked, CALLER))  # asked twice: one call to make
    assert kept == asked
    med_a, med_b = account(db["factory"], "med-a@example.org"), account(db["factory"], "med-b@example.org")
    with session_scope(db["factory"]) as session:
        assert service.due_callbacks_for(session, med_a, NIGHT) == []
        due = service.due_callbacks_for(session, med_a, NEXT_OPENING)
        assert [(c.caller, c.reason) for c in due] == [(CALLER, "demande")]
        assert service.due_callbacks_for(session, med_b, NEXT_OPENING) == []

    unknown = [{"text": "C'est noté"}, {"custom": {"type": "rappel", "lieu": "nulle-part"}}]
    replies = asyncio.run(channel.book_callbacks(unknown, CALLER))
    assert "Je n'ai pas pu enregistrer le rappel" in replies[0]["text"] and len(replies) == 1


class patch_now:
    """Freeze the clock a booking made 'now' reads (datetime.now in bot.core.moments, behind utc())."""

    def __init__(self, moment):
        self.moment = moment

    def __enter__(self):
        import bot.core.moments as module

        real = module.datetime
        moment = self.moment

        class Frozen(real):
            @classmethod
            def now(cls, tz=None):
                return moment if tz is None else moment.astimezone(tz)

        self.module, self.real = module, real
        module.datetime = Frozen

    def __exit__(self, *exc):
        self.module.datetime = self.real
