"""`aiguillage worker`: one loop sends the places' notifications and the people's follow-up messages."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.console import service
from bot.console.accounts import create_account
from bot.core.db import make_engine, session_factory, session_scope
from bot.directory.models import Place
from bot.handoff import followup
from bot.handoff.referrals import Referral, ReferralRequest, create_referral
from bot.ops import cli
from tests.fakes.sms_gateway import FakeGateway
from tests.handoff.test_notifications import SECRET, WebhookReceiver

PHONE = "+33612345678"
SMS_SECRET = "worker-sms-secret"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'aiguillage.db'}"
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", url)
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-worker")
    monkeypatch.setenv("AIGUILLAGE_FOLLOWUP_DAYS", "0")  # "est-ce réglé ?" due at once
    for name in ("AIGUILLAGE_SMTP_HOST", "AIGUILLAGE_TELEGRAM_TOKEN", "AIGUILLAGE_SMS_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["init-db"]) == 0
    engine = make_engine(url)
    factory = session_factory(engine)
    receiver = WebhookReceiver().start()
    with session_scope(factory) as session:
        session.add(Place(id="p1", pivot="00000000000000", nom="Médiathèque", commune="Rennes",
                          code_postal="35000", adresse="2 place Test", date_maj=date(2026, 1, 1)))
    assert cli.main(["notify-config", "p1", "--webhook", receiver.url, "--webhook-secret", SECRET]) == 0
    yield factory, monkeypatch
    receiver.stop()
    engine.dispose()


def closed_sms_referral(factory) -> int:
    from bot.handoff.notifications.outbox import enqueue_for_referral

    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    with session_scope(factory) as session:
        referral = create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id="p1",
                                                            channel="sms", sender_id="sms-1"), now=now)
        enqueue_for_referral(session, referral)
        followup.remember_contact(session, referral, "sms", PHONE, now)
        mediator = create_account(session, "med@example.org", "un mot de passe assez long", "p1", now=now)
        session.flush()
        service.close(session, mediator, referral.id, "fait", now)
        return referral.id


def test_one_pass_sends_both_queues_and_waits_for_an_unconfigured_channel(env, capsys):
    factory, monkeypatch = env
    referral_id = closed_sms_referral(factory)
    # SMS not configured yet: the place is notified, the person's messages wait.
    assert cli.main(["worker", "--once"]) == 0
    out = capsys.readouterr()
    assert "notifications envoyées : 1" in out.out and "messages de suivi envoyés : 0" in out.out
    assert "canaux non configurés : sms" in out.err
    with FakeGateway() as gateway:
        monkeypatch.setenv("AIGUILLAGE_SMS_PROVIDER", "json")
        monkeypatch.setenv("AIGUILLAGE_SMS_SEND_URL", f"{gateway.url}/send")
        monkeypatch.setenv("AIGUILLAGE_SMS_SHARED_SECRET", SMS_SECRET)
        monkeypatch.setenv("AIGUILLAGE_SMS_FROM", "+33900000000")
        assert cli.main(["worker", "--once"]) == 0
        texts = [r.json()["text"] for r in gateway.requests if r.json()["to"] == PHONE]
    assert "messages de suivi envoyés : 2" in capsys.readouterr().out
    assert len(texts) == 2 and "terminée" in texts[0] and "est-ce réglé" in texts[1]
    with session_scope(factory) as session:
        assert session.get(Referral, referral_id).status == "cloturee"
