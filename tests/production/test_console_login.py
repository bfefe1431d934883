"""Console login throttling in the production profile: PostgreSQL, two Rasa instances, nginx in front."""

from __future__ import annotations

import math
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.console import accounts, throttle
from bot.core.db import session_factory, session_scope
from tests.production.conftest import PROFILE_SECRET_KEY

pytestmark = pytest.mark.production

PASSWORD = "un mot de passe de production"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def mediator(production):
    email = "throttle-pg@example.org"
    with session_scope(session_factory(production["engine"])) as session:
        if accounts.find_account(session, email) is None:
            accounts.create_account(session, email, PASSWORD, None, role=accounts.ROLE_COORDINATOR)
    return email


def post_login(base, cookies, token, email, password, **headers):
    return httpx.post(f"{base}/webhooks/console/connexion", cookies=cookies, headers=headers, timeout=60,
                      data={"email": email, "mot_de_passe": password, "csrf": token})


def failures_of(production, monkeypatch, *key_parts):
    """A throttle counter as the profile's processes keyed it (their secret key, not this process's)."""
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", PROFILE_SECRET_KEY)
    key = throttle._keyed(*key_parts)
    with session_scope(session_factory(production["engine"])) as session:
        row = session.get(throttle.LoginCounter, key)
        return None if row is None else row.failures


def test_parallel_wrong_passwords_through_nginx_on_postgresql(production, monkeypatch):
    base = production["profile"].public_url
    form = httpx.get(f"{base}/webhooks/console/connexion", timeout=30)
    cookies, token = dict(form.cookies), csrf_of(form.text)
    email = "personne-pg@example.org"
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        replies = list(pool.map(lambda _: post_login(base, cookies, token, email, "faux"), range(50)))
    elapsed = time.monotonic() - started
    statuses = [r.status_code for r in replies]
    assert set(statuses) <= {401, 429}, statuses
    # Every guess checked was counted once, by whichever instance took it (no lost update)...
    assert statuses.count(401) == failures_of(production, monkeypatch, "pair", "127.0.0.1", email)
    # ...so past the free guesses, only those the doubling waits (1, 2, 4... s) let through in the
    # time the burst lasted: not one per request, as a racy counter would.
    assert statuses.count(401) <= throttle.PAIR.free_failures + 1 + math.log2(1 + elapsed)


def test_a_forged_forwarded_address_does_not_escape_the_throttle(production, mediator, monkeypatch):
    base = production["profile"].public_url
    form = httpx.get(f"{base}/webhooks/console/connexion", timeout=30)
    cookies, token = dict(form.cookies), csrf_of(form.text)
    # Each guess claims another address; nginx appends the one it sees, and only that one counts.
    for i in range(3):
        assert post_login(base, cookies, token, mediator, "pas le bon",
                          **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code == 401
    assert failures_of(production, monkeypatch, "pair", "127.0.0.1", mediator) == 3
    assert all(failures_of(production, monkeypatch, "pair", f"203.0.113.{i}", mediator) is None for i in range(3))
