"""Console login throttling: progressive delays that hold under parallel guesses, slow password
spraying, stay bounded, and never keep a mediator out of the browser they usually log in from."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.console import accounts, throttle
from bot.core.db import session_scope
from tests.connectors.test_console_http import csrf_of
from tests.console_support import PASSWORD, T0, ConsoleServer, build_db

WRONG = "pas le bon mot de passe"
OFFICE, ATTACKER = "192.0.2.10", "198.51.100.7"


@pytest.fixture()
def db(tmp_path, monkeypatch):
    return build_db(tmp_path, monkeypatch)


@pytest.fixture()
def checked(monkeypatch):
    """Counts the passwords really checked (scrypt runs), whatever the answer."""
    count = {"n": 0}
    lock = threading.Lock()
    real = accounts.verify_password

    def counting(password, stored):
        with lock:
            count["n"] += 1
        return real(password, stored)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return count


def attempt(db, email, password, now, client=OFFICE, device=None):
    with session_scope(db["factory"]) as session:
        return accounts.login(session, email, password, now, client=client, device_token=device)


def test_parallel_wrong_passwords_get_only_the_free_guesses_checked(db, checked):
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(lambda _: attempt(db, "med-a@example.org", WRONG, T0).status, range(60)))
    assert checked["n"] == throttle.PAIR.free_failures
    assert statuses.count(accounts.LOGIN_BAD) == throttle.PAIR.free_failures
    assert statuses.count(accounts.LOGIN_LOCKED) == 60 - throttle.PAIR.free_failures


def test_the_wait_doubles_with_each_failure_and_the_right_password_then_works(db, checked):
    email = "med-a@example.org"
    for _ in range(throttle.PAIR.free_failures):
        assert attempt(db, email, WRONG, T0).status == accounts.LOGIN_BAD
    waits, now = [], T0
    for _ in range(4):
        refused = attempt(db, email, WRONG, now)
        assert refused.status == accounts.LOGIN_LOCKED
        waits.append(refused.retry_at - now)
        now = refused.retry_at
        assert attempt(db, email, WRONG, now).status == accounts.LOGIN_BAD
    assert waits == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    refused = attempt(db, email, PASSWORD, now)
    assert refused.status == accounts.LOGIN_LOCKED
    assert attempt(db, email, PASSWORD, refused.retry_at).status == accounts.LOGIN_OK
    # A success clears the count: the next typo is not punished.
    assert attempt(db, email, WRONG, refused.retry_at).status == accounts.LOGIN_BAD


def test_the_longest_wait_is_bounded():
    assert throttle.PAIR.wait_after(10_000) == timedelta(minutes=15)
    assert throttle.PAIR.wait_after(throttle.PAIR.free_failures - 1) == timedelta(0)


def test_one_address_spraying_many_accounts_is_slowed(db, checked):
    emails = [f"personne{i}@example.org" for i in range(throttle.CLIENT.free_failures)]
    for email in emails:
        assert attempt(db, email, WRONG, T0, client=ATTACKER).status == accounts.LOGIN_BAD
    refused = attempt(db, "med-a@example.org", WRONG, T0, client=ATTACKER)
    assert refused.status == accounts.LOGIN_LOCKED and refused.retry_at > T0
    assert checked["n"] == throttle.CLIENT.free_failures
    # Another address is not slowed by it.
    assert attempt(db, "med-a@example.org", PASSWORD, T0, client=OFFICE).status == accounts.LOGIN_OK


def test_guesses_from_elsewhere_never_keep_the_mediator_out_of_their_usual_browser(db):
    email = "med-a@example.org"
    usual = attempt(db, email, PASSWORD, T0, client=OFFICE)
    assert usual.status == accounts.LOGIN_OK and usual.device_token
    # Many addresses guess at the account, enough to slow the account down everywhere else...
    now = T0 + timedelta(minutes=1)
    for i in range(throttle.ACCOUNT.free_failures + 5):
        attempt(db, email, WRONG, now, client=f"203.0.113.{i}")
    assert attempt(db, email, PASSWORD, now, client="203.0.113.250").status == accounts.LOGIN_LOCKED
    # ...and from the mediator's own office address too (a shared NAT).
    for _ in range(throttle.PAIR.free_failures + 3):
        attempt(db, email, WRONG, now, client=OFFICE)
    assert attempt(db, email, PASSWORD, now, client=OFFICE).status == accounts.LOGIN_LOCKED
    # The browser that logged in before still gets in, at once, with the right password.
    assert attempt(db, email, PASSWORD, now, client=OFFICE, device=usual.device_token).status == accounts.LOGIN_OK


def test_a_device_cookie_is_tied_to_its_account_and_cannot_be_forged(db):
    usual = attempt(db, "med-a@example.org", PASSWORD, T0)
    assert throttle.device_nonce(usual.device_token, "med-a@example.org")
    assert throttle.device_nonce(usual.device_token, "med-b@example.org") is None
    nonce = usual.device_token.rsplit(".", 1)[0]
    assert throttle.device_nonce(nonce + ".0000", "med-a@example.org") is None
    assert throttle.device_nonce("n'importe quoi", "med-a@example.org") is None
    # Guesses with a device cookie are throttled too (a stolen cookie gives no free guesses).
    for _ in range(throttle.DEVICE.free_failures):
        assert attempt(db, "med-a@example.org", WRONG, T0, device=usual.device_token).status == accounts.LOGIN_BAD
    assert attempt(db, "med-a@example.org", WRONG, T0, device=usual.device_token).status == accounts.LOGIN_LOCKED


def test_the_store_stays_bounded_and_forgets_old_counters(db, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_ROWS", 40)
    for i in range(60):
        attempt(db, f"x{i}@example.org", WRONG, T0 + timedelta(seconds=i), client=f"10.0.{i}.1")
    with session_scope(db["factory"]) as session:
        assert session.execute(select(func.count()).select_from(throttle.LoginCounter)).scalar_one() <= 40
    attempt(db, "med-a@example.org", WRONG, T0 + timedelta(days=2), client=OFFICE)
    with session_scope(db["factory"]) as session:
        # What was left of the day before is forgotten; the new attempt's counters remain.
        assert session.execute(select(func.count()).select_from(throttle.LoginCounter)).scalar_one() == 3


def test_nothing_in_the_store_names_an_address_or_an_email(db):
    attempt(db, "med-a@example.org", WRONG, T0, client=OFFICE)
    with session_scope(db["factory"]) as session:
        keys = session.execute(select(throttle.LoginCounter.key)).scalars().all()
    assert len(keys) == 3 and not any("med-a" in k or OFFICE in k for k in keys)


# --- over HTTP ---------------------------------------------------------------------------------------

@pytest.fixture()
def server(db):
    clock = {"now": T0 + timedelta(hours=1)}
    srv = ConsoleServer(db["factory"], lambda: clock["now"])
    try:
        yield srv
    finally:
        srv.stop()
        accounts._factory, accounts._clock = None, accounts._utcnow


def test_sixty_parallel_wrong_passwords_over_http_never_answer_500(server, checked):
    form = httpx.get(server.base + "/connexion")
    cookies, token = dict(form.cookies), csrf_of(form.text)

    def post(_):
        return httpx.post(server.base + "/connexion", cookies=cookies, timeout=30,
                          data={"email": "med-a@example.org", "mot_de_passe": WRONG, "csrf": token})

    with ThreadPoolExecutor(max_workers=30) as pool:
        replies = list(pool.map(post, range(60)))
    statuses = sorted(r.status_code for r in replies)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) == checked["n"] == throttle.PAIR.free_failures
    throttled = [r for r in replies if r.status_code == 429]
    assert all(int(r.headers["retry-after"]) >= 1 and "Trop de tentatives" in r.text for r in throttled)


def test_the_browser_gets_a_device_cookie_that_lets_it_in_while_the_account_is_attacked(server, db):
    form = httpx.get(server.base + "/connexion")
    cookies = dict(form.cookies)
    ok = httpx.post(server.base + "/connexion", cookies=cookies,
                    data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf_of(form.text)})
    assert ok.status_code == 303
    device = [h for h in ok.headers.get_list("set-cookie") if h.startswith(throttle.DEVICE_COOKIE + "=")][0]
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/webhooks/console/connexion" in device
    # The same address (no proxy here) now guesses until it is slowed down.
    for _ in range(throttle.PAIR.free_failures + 1):
        httpx.post(server.base + "/connexion", cookies=cookies,
                   data={"email": "med-a@example.org", "mot_de_passe": WRONG, "csrf": csrf_of(form.text)})
    blocked = httpx.post(server.base + "/connexion", cookies=cookies,
                         data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf_of(form.text)})
    assert blocked.status_code == 429
    with_device = dict(cookies, **{throttle.DEVICE_COOKIE: device.split(";")[0].split("=", 1)[1]})
    back_in = httpx.post(server.base + "/connexion", cookies=with_device,
                         data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf_of(form.text)})
    assert back_in.status_code == 303
