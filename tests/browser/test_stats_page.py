"""Coordinators' statistics page in headless Chromium: renders, filters, no blocked resource."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sanic import Sanic

from bot.core.db import make_engine, session_factory, upgrade
from bot.handoff.referrals import ReferralRequest, create_referral
from bot.ops.deploy.services import free_port
from connectors.stats_page import stats_blueprint

pytestmark = pytest.mark.browser
SCREENSHOT = "/tmp/stats.png"


@pytest.fixture(scope="module")
def stats_url(tmp_path_factory):
    import os

    os.environ.setdefault("AIGUILLAGE_SECRET_KEY", "cle-de-test-stats-navigateur")
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('stats') / 'aiguillage.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    start = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    with factory() as session:
        # Five alike per week and département: multiples of 5 are published as they are.
        for i in range(15):
            insee, level, channel = (("35238", "urgence", "sms"), ("2A004", "inclusion", "desk"),
                                     ("97411", "montee_en_competence", "sms"))[i // 5]
            ref = create_referral(session, ReferralRequest(
                level=level, reasons=["r"], facts={"organisme": "caf", "commune_insee": insee},
                place_id=None, channel=channel, sender_id=f"s{i}"), now=start + timedelta(days=7 * (i // 5) + i % 5))
            ref.claimed_at = ref.created_at + timedelta(hours=i + 1)
        session.commit()

    Sanic.test_mode = True
    app = Sanic(f"stats_browser_{uuid.uuid4().hex[:8]}")
    app.blueprint(stats_blueprint(factory, lambda request: True, min_count=3, min_total=5,
                                  today=lambda: date(2026, 6, 1)), url_prefix="/statistiques")
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def serve():
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        ready.set()
        return server

    holder = {}

    def run():
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{port}/statistiques/"

    async def stop():
        holder["server"].close()
        await holder["server"].wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    engine.dispose()


def test_stats_page_in_chromium(browser, stats_url):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: None if req.url.startswith(stats_url.split("/statistiques")[0])
            else problems.append(req.url))
    try:
        page.goto(stats_url)
        expect(page.locator("h1")).to_have_text("Statistiques anonymes")
        expect(page.locator("#total")).to_contain_text("Orientations : 15")
        charts = page.locator("svg[role=img]")
        assert charts.count() >= 5
        # Bars are really drawn (non-zero size) and every chart has a data table.
        box = page.locator("#s-niveau ~ figure rect").first.bounding_box()
        assert box and box["width"] > 10 and box["height"] > 5
        assert page.locator("table").count() >= charts.count()
        page.screenshot(path=SCREENSHOT, full_page=True)

        page.select_option("#departement", "2A")
        page.get_by_role("button", name="Filtrer").click()
        expect(page.locator("#total")).to_contain_text("Orientations : 5")
        assert "departement=2A" in page.url
        href = page.locator("#export").get_attribute("href")
        assert href.startswith("export.csv?") and "departement=2A" in href
        with page.expect_download() as download_info:
            page.locator("#export").click()
        content = open(download_info.value.path(), encoding="utf-8-sig").read()
        assert content.startswith("dimension;valeur;nombre") and "total;ensemble;5" in content
        assert problems == []
    finally:
        context.close()


def test_stats_page_style_sheet_applies_under_its_security_policy(browser, stats_url):
    """The page's styles come from its own file, which the policy (no inline style) lets through."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if msg.type == "error" else None)
    try:
        reply = page.goto(stats_url)
        policy = reply.headers["content-security-policy"]
        assert "style-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.locator("style, [style], script").count() == 0
        assert page.evaluate("getComputedStyle(document.body).maxWidth") == "960px"  # 60rem, from stats.css
        assert page.evaluate("getComputedStyle(document.querySelector('td')).textAlign") == "right"
        assert blocked == []
    finally:
        context.close()
