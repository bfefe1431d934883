"""Fixtures for the reception-desk browser tests (real headless Chromium via Playwright).

`desk_url` points at the fake backend started on a free loopback port, unless
AIGUILLAGE_DESK_URL names a running server (e.g. the real Rasa desk channel).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.fake_desk_backend import FakeDeskServer, start_fake_backend

CHROMIUM = Path(os.environ.get("AIGUILLAGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
URL_ENV = "AIGUILLAGE_DESK_URL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the desk page in headless Chromium (about 45 s)")


def missing_browser(message: str) -> None:
    """Skip on a developer's machine; fail where every service is required (CI: scripts/test.sh sets
    AIGUILLAGE_REQUIRE_SERVICES=1), as the production tests do."""
    if os.environ.get("AIGUILLAGE_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


# Module scope: Playwright's sync API keeps an event loop running while it is open, which
# would stop the asyncio tests collected after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing_browser(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        missing_browser("playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def fake_backend() -> Iterator[FakeDeskServer | None]:
    """The fake server, or None when the tests target a real server."""
    if os.environ.get(URL_ENV):
        yield None
        return
    server = start_fake_backend()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def desk_url(fake_backend: FakeDeskServer | None) -> str:
    url = os.environ.get(URL_ENV) or (fake_backend.base_url if fake_backend else "")
    return url if url.endswith("/") else url + "/"


@pytest.fixture
def fake_only(fake_backend: FakeDeskServer | None) -> FakeDeskServer:
    """For tests that rely on the fake backend's canned dialogue."""
    if fake_backend is None:
        pytest.skip(f"needs the fake backend's canned replies ({URL_ENV} is set)")
    return fake_backend


@pytest.fixture
def page(browser, desk_url: str):  # noqa: ANN001 (playwright types are optional)
    """A fresh browser context per test (no shared storage), with the desk page loaded."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(desk_url)
    page.wait_for_selector("#message")
    try:
        yield page
    finally:
        context.close()
