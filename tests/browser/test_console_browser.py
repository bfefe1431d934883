"""The console in a real headless Chromium: a mediator's whole round, CSRF, escaping, other places.
(The `browser` fixture is in tests/browser/conftest.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.console import accounts
from bot.core.db import session_scope
from bot.directory.models import Place
from bot.handoff.notifications.outbox import OutboxMessage
from bot.handoff.referrals import Referral
from tests.console_support import PASSWORD, T0, ConsoleServer, build_db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def env(tmp_path_factory, browser):
    mp = pytest.MonkeyPatch()
    db = build_db(tmp_path_factory.mktemp("console"), mp)
    clock = {"now": T0 + timedelta(hours=1)}
    server = ConsoleServer(db["factory"], lambda: clock["now"])
    try:
        yield dict(db, base=server.base, clock=clock)
    finally:
        server.stop()
        mp.undo()
        accounts._factory, accounts._clock = None, accounts._utcnow


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(5000)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        context.close()


def login(page, base, email="med-a@example.org"):
    page.goto(base + "/connexion")
    page.fill("#email", email)
    page.fill("#mot_de_passe", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#orientations").count() == 1, page.content()[:3000]


def set_the_scene(env, rid, ref):
    """Positions for two places (the third has none), and the place's e-mail about a1 that failed."""
    with session_scope(env["factory"]) as session:
        for pid, lat, lon in (("lieu-a", 48.1113, -1.6800), ("lieu-c", 48.1211, -1.6035)):
            place = session.get(Place, pid)
            place.latitude, place.longitude = lat, lon
        session.add(OutboxMessage(referral_id=rid, reference=ref, place_id="lieu-a", kind="email", target="x",
                                  payload={}, status="echec", attempts=8, next_attempt_at=T0,
                                  last_error="boîte pleine", created_at=T0, updated_at=T0))


def test_a_mediators_round(page, env):
    rid, ref = env["referrals"]["a1"]
    set_the_scene(env, rid, ref)
    login(page, env["base"])
    rows = page.locator("#orientations tbody tr")
    # a1 is an open urgence: listed before a2, although a2 is newer
    assert rows.count() == 2 and rows.first.get_attribute("data-reference") == env["referrals"]["a1"][1]
    assert env["referrals"]["b1"][1] not in page.content()  # another place's referral is not listed
    # The failed notification shows on a1's row, in words, and only there.
    badge = rows.first.locator(".envoi-echec-badge")
    assert badge.is_visible() and badge.inner_text().strip().endswith("Échec de la notification au lieu")
    assert rows.nth(1).locator(".envoi-echec-badge").count() == 0

    page.click(f"text={ref}")
    assert page.locator("#reference").inner_text() == ref
    assert page.locator("#notification-lieu").inner_text().strip() == \
        "Échec (E-mail) : le lieu n'a pas été prévenu par ce moyen (boîte pleine)"
    assert page.locator("#lieu").inner_text().endswith("02 99 00 00 00")
    # The nearest place first, with its commune, département and distance; the one without a position last.
    assert page.locator("#lieu-cible option").all_inner_texts() == [
        "— choisir —", "France services Cesson — Cesson-Sévigné, Ille-et-Vilaine (35) — 5,8 km",
        "Médiathèque des Champs Libres — Rennes, Ille-et-Vilaine (35)"]
    facts = page.locator("#faits").inner_text()
    assert "la prime d'activité" in facts and "prime_activite" not in facts
    page.click("#prendre")
    assert "Orientation prise en charge." in page.locator(".flash.info").inner_text()
    assert page.locator("#statut").inner_text().strip() == "Prise en charge par med-a@example.org, le 26/11/2026 11:00"

    hostile = ['<script>window.pwned=1;alert(1)</script>', '"><img src=x onerror=alert(2)>']
    for note in hostile:
        page.fill("#texte", note)
        page.click("#ajouter-note")
        assert "Note ajoutée." in page.locator(".flash.info").inner_text()
    notes = page.locator("#notes .note").all_inner_texts()
    assert notes == hostile  # shown literally
    assert page.locator("#notes img, #notes script").count() == 0
    assert page.evaluate("window.pwned") is None and page.dialogs == []

    env["clock"]["now"] = T0 + timedelta(hours=1, minutes=25)  # closed 25 minutes after the claim
    page.check("input[name=issue][value=injoignable]")
    page.click("#cloturer")
    assert "Orientation clôturée." in page.locator(".flash.info").inner_text()
    assert page.locator("#statut").inner_text().strip() == \
        "Clôturée par med-a@example.org, le 26/11/2026 11:25 — issue : Personne injoignable"
    assert page.locator("#issue").inner_text() == "Personne injoignable"
    assert page.locator("#prendre").count() == 0 and page.locator("#cloturer").count() == 0
    history = page.locator("#historique").inner_text()
    assert "Prise en charge" in history and "Clôture" in history

    page.goto(env["base"] + "/journal")
    journal = page.locator("#journal").inner_text()
    for label in ("Connexion", "Consultation", "Prise en charge", "Note", "Clôture"):
        assert label in journal

    page.click("text=Se déconnecter")
    assert "Vous êtes déconnecté." in page.locator(".flash.info").inner_text()
    page.goto(env["base"] + "/orientations")
    assert page.locator("#mot_de_passe").count() == 1  # back to the login form
    with session_scope(env["factory"]) as session:
        referral = session.get(Referral, rid)
        assert referral.status == "cloturee" and referral.outcome == "injoignable"


def test_a_form_without_its_csrf_token_is_refused(page, env):
    rid = env["referrals"]["a2"][0]
    login(page, env["base"])
    page.goto(f"{env['base']}/orientations/{rid}")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")  # devtools, not page JS
    page.click("#prendre")
    assert "Requête refusée" in page.locator("h1").inner_text()
    with session_scope(env["factory"]) as session:
        assert session.get(Referral, rid).status == "ouverte"


def test_another_places_referral_cannot_be_opened(page, env):
    rid_b, ref_b = env["referrals"]["b1"]
    login(page, env["base"])
    reply = page.goto(f"{env['base']}/orientations/{rid_b}")
    assert reply.status == 404 and ref_b not in page.content()
    page.goto(env["base"] + "/orientations")
    page.fill("#reference", ref_b)
    page.press("#reference", "Enter")
    assert "Aucune orientation visible pour vous" in page.locator(".flash.erreur").inner_text()


# --- keyboard focus ----------------------------------------------------------------------------------

_FOCUS_JS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const opaque = (node) => {
    for (; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && bg !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(bg)) { return bg; }
    }
    return "rgb(255, 255, 255)";
  };
  return {outline: style.outlineColor, outlineStyle: style.outlineStyle, width: parseFloat(style.outlineWidth),
          offset: parseFloat(style.outlineOffset), shadow: style.boxShadow,
          own: opaque(el), around: opaque(el.parentElement)};
}"""


def _luminance(css: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tab_until(page, selector: str, max_tabs: int = 40) -> dict:
    """Tab (keyboard, so :focus-visible applies) until `selector` has the focus; its focus ring."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return page.evaluate(_FOCUS_JS)
    raise AssertionError(f"could not reach {selector} with Tab")


def assert_strong_ring(ring: dict, what: str) -> None:
    """A solid ring of two bands, yellow framed by ink (box-shadow wider than the outline and its offset):
    the bands differ by 3:1, and against each colour next to the ring (the element's own and its
    surroundings') one band stands out by 3:1 at least."""
    assert ring["outlineStyle"] == "solid" and ring["width"] >= 3, (what, ring)
    shadow = re.match(r"(rgba?\([^)]*\)) 0px 0px 0px (\d+)px", ring["shadow"])
    assert shadow and int(shadow.group(2)) > ring["width"] + ring["offset"], (what, ring)
    ink = shadow.group(1)
    assert _contrast(ring["outline"], ink) >= 3, (what, ring)
    for neighbour in (ring["own"], ring["around"]):
        assert max(_contrast(ring["outline"], neighbour), _contrast(ink, neighbour)) >= 3, (what, neighbour, ring)


def test_buttons_links_and_fields_show_a_strong_focus_ring(page, env):
    page.goto(env["base"] + "/connexion")
    assert_strong_ring(tab_until(page, "#email"), "login field")
    assert_strong_ring(tab_until(page, "button[type=submit]"), "login button")
    login(page, env["base"])
    assert_strong_ring(tab_until(page, "header a"), "header link (white on dark blue)")
    assert_strong_ring(tab_until(page, "header button"), "Se déconnecter (on dark blue)")
    page.goto(f"{env['base']}/orientations/{env['referrals']['a2'][0]}")
    ring = tab_until(page, "#prendre")
    assert_strong_ring(ring, "dark-blue button")
    assert _contrast(ring["outline"], ring["own"]) >= 3  # the yellow against the button's blue itself
    page.screenshot(path="/tmp/console-focus.png")
