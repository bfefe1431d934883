"""Notifying places of new referrals: real local SMTP, fake webhook receiver and fake Telegram API
on 127.0.0.1, a transactional outbox and a dispatcher driven by an injected clock."""

from __future__ import annotations

import asyncio
import email
import json
import random
import threading
from datetime import date, datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from bot.core.db import session_scope
from bot.core.pseudonyms import pseudonymise
from bot.directory.models import Place
from bot.handoff.notifications import channels as ch
from bot.handoff.notifications.config import NotifySettings, set_place_channels
from bot.handoff.notifications.outbox import (
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENT,
    Dispatcher,
    OutboxMessage,
    delivery_status,
    enqueue_for_referral,
    retry_failed,
)
from bot.handoff.referrals import Referral, ReferralRequest, create_referral, erase_for_sender
from bot.handoff.services import Orientation
from bot.ops.deploy.services import free_port
from tests.fakes import POLL_SECONDS
from tests.fakes.telegram_api import FakeTelegramAPI

CALLER = "+33612345678"
PLACE = "lieu-test-1"
SECRET = "secret-de-signature"
START = datetime(2026, 11, 27, 20, 14, tzinfo=timezone.utc)
FACTS = {"organisme": "caf", "demarche": "declaration_trimestrielle", "enjeu": "delai", "commune": "Rennes",
         "commune_insee": "35238"}


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


# --- fake receivers ------------------------------------------------------------------------------------

class Mailbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


@pytest.fixture()
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller
    try:
        controller.stop()
    except Exception:
        pass


class WebhookReceiver:
    """A partner's endpoint: checks the signature, answers with a scripted status, can go down."""

    def __init__(self, secret: str = SECRET, port: int | None = None):
        self.secret = secret
        self.port = port or free_port()
        self.requests: list[dict] = []
        self.statuses: list[int] = []   # scripted answers, then 200
        self.delay = 0.0
        self.server = None
        self._lock = threading.Lock()

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    import time
                    time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append({
                        "body": body, "json": json.loads(body), "status": status,
                        "signature_ok": ch.verify_signature(receiver.secret, body,
                                                            self.headers.get("X-Aiguillage-Signature")),
                        "key": self.headers.get("Idempotency-Key")})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/aiguillage"

    def accepted(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200 and r["signature_ok"]]


@pytest.fixture()
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    try:
        receiver.stop()
    except Exception:
        pass


# --- database ------------------------------------------------------------------------------------------

@pytest.fixture()
def db(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-notifications")
    for name in ("AIGUILLAGE_SMTP_HOST", "AIGUILLAGE_SMTP_FROM", "AIGUILLAGE_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with session_scope(database.factory) as session:
        session.add(Place(id=PLACE, pivot="00000000000000", nom="Espace numérique du Blosne", commune="Rennes",
                          code_postal="35200", adresse="1 rue de Test", date_maj=date(2026, 1, 1),
                          courriels="accueil@blosne.example|autre@blosne.example"))
    return database.factory


def settings(**overrides) -> NotifySettings:
    base = dict(console_url="https://console.example/console", backoff_base=60, backoff_max=600, max_attempts=5,
                lease_seconds=120, smtp_starttls=False, smtp_from="aiguillage@aiguillage.example")
    base.update(overrides)
    return NotifySettings(**base)


def configure(factory, **channels) -> None:
    with session_scope(factory) as session:
        set_place_channels(session, PLACE, **channels)


def new_referral(factory, cfg: NotifySettings, sender: str = CALLER, now: datetime = START) -> str:
    with session_scope(factory) as session:
        referral = create_referral(session, ReferralRequest(
            level="urgence", reasons=["droit_menace", "delai_proche"],
            facts=dict(FACTS, texte="Je suis Jeanne Martin, ma CAF a coupé le RSA"),
            place_id=PLACE, channel="sms", sender_id=sender), now=now)
        enqueue_for_referral(session, referral, cfg, now=now)
        return referral.reference


def dispatcher(factory, cfg, clock, **kwargs) -> Dispatcher:
    return Dispatcher(factory, cfg, clock=clock, rng=random.Random(7), **kwargs)


def outbox_rows(factory) -> list[OutboxMessage]:
    with session_scope(factory) as session:
        return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def assert_no_personal_data(text: str) -> None:
    for secret in (CALLER, "0612345678", "612345678", pseudonymise(CALLER), "Jeanne", "Martin"):
        assert secret not in text


# --- delivery on each channel --------------------------------------------------------------------------

def test_email_reaches_a_real_smtp_server_with_the_reference_and_no_personal_data(db, smtp):
    mailbox, controller = smtp
    cfg = settings(smtp_host="127.0.0.1", smtp_port=controller.port)
    configure(db, emails=["accueil@blosne.example"])
    reference = new_referral(db, cfg)
    clock = Clock(START + timedelta(seconds=5))

    report = asyncio.run(dispatcher(db, cfg, clock).run_once())

    assert report.sent == 1
    [envelope] = mailbox.envelopes
    assert envelope.rcpt_tos == ["accueil@blosne.example"]
    [message] = mailbox.messages()
    body = message.get_content()
    assert reference in message["Subject"] and "Urgence numérique" in message["Subject"]
    assert f"Référence : {reference}" in body
    assert "un droit ou un paiement est bloqué ou menacé" in body
    assert "Démarche : la déclaration trimestrielle de ressources" in body and "Commune : Rennes" in body
    assert "declaration_trimestrielle" not in body and "declaration trimestrielle" not in body
    assert f"https://console.example/console/referrals/{reference}" in body
    assert "27/11/2026 21:14" in body  # consent time, Paris time
    assert "aucune coordonnée de la personne" in body
    assert_no_personal_data(envelope.content.decode("utf-8", "replace") + body)
    [row] = outbox_rows(db)
    assert f"outbox-{row.id}" in message["Message-ID"]
    with session_scope(db) as session:
        [status] = delivery_status(session, reference.replace("-", "").lower())
    assert status["status"] == STATUS_SENT and status["attempts"] == 1 and status["sent_at"] == clock.now


def test_webhook_is_signed_and_carries_the_outbox_id_as_idempotency_key(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    reference = new_referral(db, cfg)

    asyncio.run(dispatcher(db, cfg, Clock()).run_once())

    [request] = webhook.requests
    assert request["signature_ok"]
    [row] = outbox_rows(db)
    assert request["key"] == f"outbox-{row.id}"
    document = request["json"]
    assert document["reference"] == reference and document["niveau"] == "urgence"
    assert document["niveau_libelle"] == "Urgence numérique"
    assert [r["code"] for r in document["raisons"]] == ["droit_menace", "delai_proche"]
    assert document["faits"]["demarche"] == "declaration_trimestrielle"
    assert document["lien"].endswith(f"/referrals/{reference}")
    assert_no_personal_data(request["body"].decode("utf-8"))
    assert row.status == STATUS_SENT


def test_a_tampered_body_fails_the_signature_check():
    body = b'{"reference": "ABC-DEFG"}'
    header = ch.sign(SECRET, body)
    assert ch.verify_signature(SECRET, body, header)
    assert not ch.verify_signature(SECRET, body.replace(b"ABC", b"XYZ"), header)
    assert not ch.verify_signature("autre", body, header)


def test_telegram_chat_receives_the_notification_through_the_bot_api(db):
    api = FakeTelegramAPI(token="999:NOTIF").start()
    try:
        cfg = settings(telegram_api_url=api.url, telegram_token="999:NOTIF")
        configure(db, telegram_chats=["-1001234"])
        reference = new_referral(db, cfg)
        report = asyncio.run(dispatcher(db, cfg, Clock()).run_once())
    finally:
        api.stop()
    assert report.sent == 1
    [sent] = api.requests("sendMessage")
    assert str(sent["chat_id"]) == "-1001234"
    assert reference in sent["text"] and "Urgence numérique" in sent["text"]
    assert f"/referrals/{reference}" in sent["text"]
    assert_no_personal_data(sent["text"])
    assert outbox_rows(db)[0].provider_id == "1"


def test_telegram_unknown_chat_is_a_final_failure(db):
    api = FakeTelegramAPI(token="999:NOTIF").start()
    api.fail("sendMessage", 400, "Bad Request: chat not found")
    try:
        cfg = settings(telegram_api_url=api.url, telegram_token="999:NOTIF")
        configure(db, telegram_chats=["42"])
        reference = new_referral(db, cfg)
        asyncio.run(dispatcher(db, cfg, Clock()).run_once())
    finally:
        api.stop()
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["status"] == STATUS_FAILED and "chat not found" in status["last_error"]


def test_one_row_per_channel_and_fallback_to_the_directory_address(db, monkeypatch):
    configure(db, emails=["a@blosne.example"], telegram_chats=["12"], webhooks=[("https://x.example/h", "s")])
    new_referral(db, settings())
    assert sorted(r.kind for r in outbox_rows(db)) == ["email", "telegram", "webhook"]

    configure(db)  # no channels left
    orientation = Orientation(db)
    state = {"level": "inclusion", "reasons": ["difficulte_recurrente"], "facts": {}, "place": {"id": PLACE}}
    orientation.create_referral(state, "desk", "desk-sender-1")
    assert len(outbox_rows(db)) == 3  # SMTP not configured: nobody to write to

    monkeypatch.setenv("AIGUILLAGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AIGUILLAGE_SMTP_FROM", "aiguillage@aiguillage.example")
    reference = orientation.create_referral(state, "desk", "desk-sender-2")
    [row] = [r for r in outbox_rows(db) if r.reference == reference]
    assert (row.kind, row.target, row.status) == ("email", "accueil@blosne.example", STATUS_PENDING)


# --- the outbox ----------------------------------------------------------------------------------------

def test_rolled_back_referral_leaves_no_notification(db):
    configure(db, webhooks=[("https://x.example/h", SECRET)])
    with pytest.raises(RuntimeError):
        with session_scope(db) as session:
            referral = create_referral(session, ReferralRequest(
                level="urgence", reasons=["droit_menace"], facts=FACTS, place_id=PLACE, channel="sms",
                sender_id=CALLER))
            assert enqueue_for_referral(session, referral, settings())
            raise RuntimeError("the conversation failed before the commit")
    with session_scope(db) as session:
        assert session.execute(select(func.count()).select_from(Referral)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


def test_erasing_the_referral_erases_its_notifications(db):
    configure(db, webhooks=[("https://x.example/h", SECRET)])
    new_referral(db, settings())
    with session_scope(db) as session:
        assert erase_for_sender(session, CALLER) == 1
    assert outbox_rows(db) == []


def test_notifier_down_delays_delivery_then_delivers_exactly_once(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    reference = new_referral(db, cfg)
    clock = Clock()
    worker = dispatcher(db, cfg, clock)

    # 1. The receiver answers 500.
    webhook.statuses = [500]
    report = asyncio.run(worker.run_once())
    assert report.retried == 1 and report.sent == 0
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["status"] == STATUS_PENDING and status["attempts"] == 1
    assert status["last_error"] == "webhook HTTP 500"
    first_wait = status["next_attempt_at"] - clock.now
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=60)

    # Not due yet: nothing is sent.
    clock.advance(seconds=20)
    assert asyncio.run(worker.run_once()).handled == 0
    assert len(webhook.requests) == 1

    # 2. The receiver is stopped: connection refused, the wait grows.
    webhook.stop()
    clock.now = status["next_attempt_at"]
    assert asyncio.run(worker.run_once()).retried == 1
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["attempts"] == 2 and "ConnectError" in status["last_error"]
    assert timedelta(seconds=60) <= status["next_attempt_at"] - clock.now <= timedelta(seconds=120)
    with session_scope(db) as session:  # the referral itself is untouched
        assert session.execute(select(Referral)).scalar_one().reference == reference

    # 3. Back up: delivered once, and never again.
    webhook.start()
    clock.now = status["next_attempt_at"]
    assert asyncio.run(worker.run_once()).sent == 1
    clock.advance(days=2)
    assert asyncio.run(worker.run_once()).handled == 0
    assert len(webhook.accepted()) == 1
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert (status["status"] == STATUS_SENT and status["attempts"] == 3
            and status["sent_at"] == clock.now - timedelta(days=2))


def test_smtp_server_stopped_then_restarted(db, smtp):
    mailbox, controller = smtp
    cfg = settings(smtp_host="127.0.0.1", smtp_port=controller.port)
    configure(db, emails=["accueil@blosne.example"])
    reference = new_referral(db, cfg)
    controller.stop()
    clock = Clock()
    worker = dispatcher(db, cfg, clock)
    assert asyncio.run(worker.run_once()).retried == 1
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["status"] == STATUS_PENDING and status["last_error"].startswith("SMTP")
    restarted = Controller(mailbox, hostname="127.0.0.1", port=controller.port)
    restarted.start()
    try:
        clock.advance(minutes=5)
        assert asyncio.run(worker.run_once()).sent == 1
    finally:
        restarted.stop()
    assert len(mailbox.envelopes) == 1


def test_backoff_is_capped():
    worker = Dispatcher(factory=None, settings=settings(backoff_base=60, backoff_max=600), senders={},
                        rng=random.Random(1))
    waits = [worker.backoff(n) for n in range(1, 12)]
    assert all(w <= timedelta(seconds=600) for w in waits)
    assert waits[-1] >= timedelta(seconds=300)
    assert waits[0] <= timedelta(seconds=60)


def test_a_claimed_row_is_not_taken_by_another_worker_until_its_lease_ends(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    new_referral(db, cfg)
    clock = Clock()
    first, second = dispatcher(db, cfg, clock), dispatcher(db, cfg, clock)
    [row_id] = first.due_ids()
    assert first.claim(row_id) is not None
    assert second.due_ids() == [] and second.claim(row_id) is None
    # The first worker died: after the lease, the second one sends it.
    clock.advance(seconds=cfg.lease_seconds + 1)
    assert asyncio.run(second.run_once()).sent == 1
    assert len(webhook.accepted()) == 1


def test_two_dispatchers_running_concurrently_send_each_row_once(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    references = [new_referral(db, cfg, sender=f"+3361234560{i}") for i in range(8)]
    webhook.delay = 0.02
    clock = Clock()
    barrier = threading.Barrier(2)
    reports = []

    def work():
        worker = dispatcher(db, cfg, clock)
        barrier.wait()
        reports.append(asyncio.run(worker.run_once()))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    keys = [r["key"] for r in webhook.requests]
    assert len(keys) == len(set(keys)) == 8
    assert sorted(r["json"]["reference"] for r in webhook.requests) == sorted(references)
    assert sum(r.sent for r in reports) == 8
    assert all(row.status == STATUS_SENT and row.attempts == 1 for row in outbox_rows(db))


def test_exhausted_row_becomes_echec_and_can_be_requeued(db, webhook):
    cfg = settings(max_attempts=3)
    configure(db, webhooks=[(webhook.url, SECRET)])
    reference = new_referral(db, cfg)
    webhook.statuses = [503, 503, 503]
    clock = Clock()
    worker = dispatcher(db, cfg, clock)
    outcomes = []
    for _ in range(4):
        outcomes.append(asyncio.run(worker.run_once()))
        clock.advance(hours=1)
    assert [(r.retried, r.failed) for r in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    assert len(webhook.requests) == 3
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["status"] == STATUS_FAILED and status["attempts"] == 3
    assert status["last_error"] == "webhook HTTP 503" and status["next_attempt_at"] is None

    with session_scope(db) as session:
        assert retry_failed(session, reference, now=clock.now) == 1
    assert asyncio.run(worker.run_once()).sent == 1
    with session_scope(db) as session:
        [status] = delivery_status(session, reference)
    assert status["status"] == STATUS_SENT and len(webhook.accepted()) == 1


def test_rejected_webhook_is_not_retried(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    new_referral(db, cfg)
    webhook.statuses = [400]
    assert asyncio.run(dispatcher(db, cfg, Clock()).run_once()).failed == 1
    assert outbox_rows(db)[0].status == STATUS_FAILED


def test_reconfiguring_a_place_keeps_queued_webhooks_signed(db, webhook):
    cfg = settings()
    configure(db, webhooks=[(webhook.url, SECRET)])
    new_referral(db, cfg)
    configure(db, webhooks=[(webhook.url, SECRET)], emails=["a@blosne.example"])
    asyncio.run(dispatcher(db, cfg, Clock()).run_once())
    assert len(webhook.accepted()) == 1


def test_invalid_channel_settings_are_refused(db):
    from bot.handoff.notifications.config import ChannelConfigError

    for kwargs in ({"emails": ["pas-une-adresse"]}, {"telegram_chats": ["douze"]},
                   {"webhooks": [("https://x.example/h", "")]}, {"webhooks": [("ftp://x", "s")]}):
        with pytest.raises(ChannelConfigError):
            configure(db, **kwargs)
