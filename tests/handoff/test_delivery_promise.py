""""C'est envoyé" only when a channel of the place accepted the referral: the conversation tries the place's
channels at once (Orientation.delivery), and what they did not accept in time stays in the outbox for the worker."""

from __future__ import annotations

import asyncio

from bot.console.accounts import create_account, place_has_console
from bot.core.db import session_scope
from bot.handoff.notifications.outbox import STATUS_PENDING, STATUS_SENT, Dispatcher
from bot.handoff.services import Orientation
from bot.triage.dialogue import DELIVERED, IN_CONSOLE, PRESENT_CODE
from tests.handoff.test_notifications import (  # noqa: F401
    PLACE,
    SECRET,
    configure,
    db,  # noqa: F401  (fixtures)
    outbox_rows,
    settings,
    webhook,
)

STATE = {"level": "urgence", "reasons": ["delai_proche"], "facts": {"organisme": "caf"}, "place": {"id": PLACE}}


def orientation(factory, **cfg) -> Orientation:
    return Orientation(factory, place_has_console=place_has_console,
                       dispatcher=Dispatcher(factory, settings(**cfg)))


def test_a_webhook_that_accepts_makes_it_envoye_and_the_row_is_sent_once(db, webhook):  # noqa: F811
    configure(db, webhooks=[(webhook.url, SECRET)])
    service = orientation(db, now_timeout=5)
    reference = service.create_referral(STATE, "desk", "desk-1")
    assert service.delivery(reference) == DELIVERED
    [row] = outbox_rows(db)
    assert row.status == STATUS_SENT and len(webhook.requests) == 1
    assert webhook.requests[0]["json"]["reference"] == reference
    # The worker finds nothing left to send: no second copy.
    assert asyncio.run(Dispatcher(db, settings()).run_once()).handled == 0


def test_a_refusing_webhook_is_not_envoye_and_the_worker_tries_again(db, webhook):  # noqa: F811
    configure(db, webhooks=[(webhook.url, SECRET)])
    webhook.statuses = [503]
    service = orientation(db, now_timeout=5)
    reference = service.create_referral(STATE, "desk", "desk-2")
    assert service.delivery(reference) == PRESENT_CODE  # no console account either
    [row] = outbox_rows(db)
    assert row.status == STATUS_PENDING and row.next_attempt_at is not None


def test_without_a_channel_the_place_console_decides_between_espace_and_present_the_code(db):  # noqa: F811
    service = orientation(db)
    assert service.delivery(service.create_referral(STATE, "desk", "desk-3")) == PRESENT_CODE
    with session_scope(db) as session:
        create_account(session, "mediatrice@blosne.example", "mot-de-passe-assez-long", place_id=PLACE)
    assert service.delivery(service.create_referral(STATE, "desk", "desk-4")) == IN_CONSOLE


def test_a_slow_webhook_goes_back_to_the_outbox_due_at_once_and_is_not_lost(db, webhook):  # noqa: F811
    configure(db, webhooks=[(webhook.url, SECRET)])
    webhook.delay = 1.5
    service = orientation(db, now_timeout=0.3)
    reference = service.create_referral(STATE, "desk", "desk-5")
    assert service.delivery(reference) == PRESENT_CODE
    [row] = outbox_rows(db)
    assert row.status == STATUS_PENDING and row.locked_by is None  # released, not leased for minutes
    webhook.delay = 0
    report = asyncio.run(Dispatcher(db, settings()).run_once())
    assert report.sent == 1 and outbox_rows(db)[0].status == STATUS_SENT


def test_a_zero_timeout_leaves_sending_to_the_worker(db, webhook):  # noqa: F811
    configure(db, webhooks=[(webhook.url, SECRET)])
    service = orientation(db, now_timeout=0)
    assert service.delivery(service.create_referral(STATE, "desk", "desk-6")) == PRESENT_CODE
    assert not webhook.requests and outbox_rows(db)[0].status == STATUS_PENDING


def test_a_coordinator_account_is_not_the_place_console(db):  # noqa: F811
    with session_scope(db) as session:
        create_account(session, "coord@territoire.example", "mot-de-passe-assez-long", role="coordinateur")
        assert not place_has_console(session, PLACE)
