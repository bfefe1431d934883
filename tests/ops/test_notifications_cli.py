"""`aiguillage notify-config`, `notify`, `notify-status` and `notify --retry` on a real SQLite file."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.core.db import make_engine, session_factory, session_scope
from bot.directory.models import Place
from bot.handoff.notifications.config import PlaceChannel
from bot.handoff.notifications.outbox import STATUS_FAILED, OutboxMessage
from bot.handoff.services import Orientation
from bot.ops import cli
from tests.handoff.test_notifications import SECRET, WebhookReceiver

PLACE = "lieu-cli-1"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'aiguillage.db'}"
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", url)
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-cli")
    monkeypatch.setenv("AIGUILLAGE_CONSOLE_URL", "https://console.example")
    monkeypatch.setenv("AIGUILLAGE_NOTIFY_MAX_ATTEMPTS", "1")
    for name in ("AIGUILLAGE_SMTP_HOST", "AIGUILLAGE_SMTP_FROM", "AIGUILLAGE_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["notify-status"]) == 0  # creates the tables
    engine = make_engine(url)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        session.add(Place(id=PLACE, pivot="00000000000000", nom="Médiathèque", commune="Rennes",
                          code_postal="35000", adresse="2 place Test", date_maj=date(2026, 1, 1)))
    receiver = WebhookReceiver().start()
    yield factory, receiver
    receiver.stop()
    engine.dispose()


def refer(factory) -> str:
    state = {"level": "urgence", "reasons": ["droit_menace"], "facts": {"organisme": "caf", "commune": "Rennes"},
             "place": {"id": PLACE}}
    return Orientation(factory).create_referral(state, "telegram", "tg-sender-9")


def test_configure_send_fail_and_retry_from_the_command_line(env, capsys):
    factory, receiver = env
    assert cli.main(["notify-config", PLACE, "--webhook", receiver.url, "--webhook-secret", SECRET,
                     "--telegram-chat", "-100777"]) == 0
    out = capsys.readouterr().out
    assert "webhook" in out and "(signé)" in out and "-100777" in out
    with session_scope(factory) as session:
        assert {c.kind for c in session.execute(select(PlaceChannel)).scalars()} == {"webhook", "telegram"}

    assert cli.main(["notify-config", PLACE, "--webhook", receiver.url]) == 2  # no secret: refused
    assert cli.main(["notify-config", "lieu-inconnu", "--email", "a@b.fr"]) == 2
    assert cli.main(["notify-config", PLACE, "--webhook", receiver.url, "--webhook-secret", SECRET]) == 0
    capsys.readouterr()

    reference = refer(factory)
    receiver.statuses = [500]
    assert cli.main(["notify", "--once"]) == 1  # one attempt allowed: echec
    assert cli.main(["notify-status", reference]) == 0
    out = capsys.readouterr().out
    assert reference in out and STATUS_FAILED in out and "webhook HTTP 500" in out

    assert cli.main(["notify", "--retry", reference, "--once"]) == 0
    out = capsys.readouterr().out
    assert "1 notification(s) remise(s) en file" in out and "envoyées : 1" in out
    assert cli.main(["notify-status", reference.replace("-", "").lower()]) == 0
    assert "envoye" in capsys.readouterr().out
    assert [r["json"]["reference"] for r in receiver.accepted()] == [reference]
    with session_scope(factory) as session:
        assert session.execute(select(OutboxMessage.status)).scalar_one() == "envoye"

    assert cli.main(["notify-status", "ABC-DEFG"]) == 1


def test_notify_loop_runs_bounded_passes(env):
    import asyncio

    from bot.handoff.notifications.outbox import Dispatcher

    factory, receiver = env
    assert cli.main(["notify-config", PLACE, "--webhook", receiver.url, "--webhook-secret", SECRET]) == 0
    refer(factory)
    asyncio.run(Dispatcher(factory).run_forever(interval=0.05, max_passes=2))
    assert len(receiver.accepted()) == 1
