"""The mediators' pages are served by the running assistant, and closed to strangers."""

import httpx


def test_console_login_page_is_served(stack):
    reply = httpx.get(f"{stack['base']}/webhooks/console/connexion", timeout=30)
    assert reply.status_code == 200
    assert "<form" in reply.text and "csrf" in reply.text.lower()


def test_console_lists_nothing_without_login(stack):
    reply = httpx.get(f"{stack['base']}/webhooks/console/orientations", timeout=30, follow_redirects=False)
    assert reply.status_code in (302, 303, 401, 403)


def test_statistics_need_a_coordinator(stack):
    reply = httpx.get(f"{stack['base']}/webhooks/statistiques/", timeout=30)
    assert reply.status_code == 403
