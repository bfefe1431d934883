"""Console pages over real HTTP (Sanic on loopback): cookies, CSRF, authorisation, escaping."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
import pytest
from sqlalchemy import select

from bot.console import accounts, service
from bot.core.db import session_scope
from bot.handoff.referrals import Referral
from tests.console_support import PASSWORD, T0, ConsoleServer, build_db


@pytest.fixture()
def env(tmp_path, monkeypatch):
    db = build_db(tmp_path, monkeypatch)
    clock = {"now": T0 + timedelta(hours=1)}
    server = ConsoleServer(db["factory"], lambda: clock["now"])
    try:
        yield dict(db, base=server.base, clock=clock)
    finally:
        server.stop()
        accounts._factory, accounts._clock = None, accounts._utcnow  # leave no global behind


def client(env) -> httpx.Client:
    return httpx.Client(base_url=env["base"], follow_redirects=False, timeout=10)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(env, email="med-a@example.org", password=PASSWORD) -> tuple[httpx.Client, httpx.Response]:
    c = client(env)
    form = c.get("/connexion")
    reply = c.post("/connexion", data={"email": email, "mot_de_passe": password, "csrf": csrf_of(form.text)})
    return c, reply


def test_login_sets_a_strict_httponly_cookie_and_logout_clears_it(env):
    c, reply = log_in(env)
    assert reply.status_code == 303 and reply.headers["location"].endswith("/orientations")
    cookie = [h for h in reply.headers.get_list("set-cookie") if h.startswith(accounts.COOKIE_NAME + "=")][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    listing = c.get("/orientations")
    assert listing.status_code == 200 and env["referrals"]["a1"][1] in listing.text
    assert "Content-Security-Policy" in listing.headers
    reply = c.post("/deconnexion", data={"csrf": csrf_of(listing.text)})
    assert reply.status_code == 303
    assert c.get("/orientations").status_code == 303  # back to the login page
    with session_scope(env["factory"]) as session:
        assert session.execute(select(accounts.ConsoleSession)).scalars().all() == []
        actions = [e.action for e in session.execute(select(service.JournalEntry)).scalars()]
        assert actions == ["connexion", "deconnexion"]


def test_secure_flag_when_configured(env, monkeypatch):
    monkeypatch.setenv(accounts.SECURE_COOKIE_ENV, "1")
    form = client(env).get("/connexion")
    pre = form.headers["set-cookie"]
    assert "Secure" in pre and "HttpOnly" in pre
    # Over plain http a client keeps Secure cookies to itself; send it by hand as HTTPS would.
    reply = httpx.post(env["base"] + "/connexion", headers={"Cookie": pre.split(";")[0]},
                       data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf_of(form.text)})
    cookie = [h for h in reply.headers.get_list("set-cookie") if h.startswith(accounts.COOKIE_NAME + "=")][0]
    assert "Secure" in cookie


def test_bad_login_gets_one_generic_french_message(env):
    _, wrong_password = log_in(env, password="pas le bon mot de passe")
    _, unknown = log_in(env, email="inconnu@example.org", password="pas le bon mot de passe")
    for reply in (wrong_password, unknown):
        assert reply.status_code == 401
        assert "Adresse e-mail ou mot de passe incorrect." in reply.text
        assert accounts.COOKIE_NAME + "=" not in (reply.headers.get("set-cookie") or "").split(";")[0]


def test_login_without_its_csrf_token_is_refused(env):
    c = client(env)
    c.get("/connexion")
    reply = c.post("/connexion", data={"email": "med-a@example.org", "mot_de_passe": PASSWORD})
    assert reply.status_code == 403 and accounts.COOKIE_NAME + "=" not in str(reply.headers.get_list("set-cookie"))


def test_post_without_csrf_or_from_another_origin_changes_nothing(env):
    c, _ = log_in(env)
    rid = env["referrals"]["a1"][0]
    page = c.get(f"/orientations/{rid}")
    token = csrf_of(page.text)
    assert c.post(f"/orientations/{rid}/prise-en-charge", data={}).status_code == 403
    assert c.post(f"/orientations/{rid}/prise-en-charge", data={"csrf": token + "x"}).status_code == 403
    assert c.post(f"/orientations/{rid}/prise-en-charge", data={"csrf": token},
                  headers={"Origin": "https://evil.example"}).status_code == 403
    with session_scope(env["factory"]) as session:
        assert session.get(Referral, rid).status == "ouverte"
    # Same token, same origin: accepted.
    reply = c.post(f"/orientations/{rid}/prise-en-charge", data={"csrf": token},
                   headers={"Origin": f"http://127.0.0.1:{env['base'].split(':')[2].split('/')[0]}"})
    assert reply.status_code == 303
    with session_scope(env["factory"]) as session:
        assert session.get(Referral, rid).status == "prise_en_charge"


def test_another_places_referral_is_a_404_for_a_mediator_and_visible_to_a_coordinator(env):
    c, _ = log_in(env)
    rid_b, ref_b = env["referrals"]["b1"]
    token = csrf_of(c.get("/orientations").text)
    assert ref_b not in c.get("/orientations").text
    assert c.get(f"/orientations/{rid_b}").status_code == 404
    assert c.get("/orientations/99999").status_code == 404  # same answer as for a missing one
    for path, data in (("prise-en-charge", {}), ("note", {"texte": "x"}), ("cloturer", {"issue": "fait"}),
                       ("reassigner", {"lieu": "lieu-a", "motif": "x"})):
        assert c.post(f"/orientations/{rid_b}/{path}", data=dict(data, csrf=token)).status_code == 404
    search = c.get("/orientations", params={"reference": ref_b})
    assert search.status_code == 200 and "Aucune orientation visible pour vous avec ce code." in search.text
    with session_scope(env["factory"]) as session:
        referral = session.get(Referral, rid_b)
        assert referral.status == "ouverte" and referral.place_id == "lieu-b"
    coordinator, _ = log_in(env, email="coord@example.org")
    assert coordinator.get(f"/orientations/{rid_b}").status_code == 200
    listing = coordinator.get("/orientations").text
    assert all(ref in listing for _, ref in env["referrals"].values())
    assert "Rappels de la ligne d" in listing


def test_search_accepts_loose_typing_and_detail_shows_the_triage(env):
    c, _ = log_in(env)
    rid, ref = env["referrals"]["a1"]
    reply = c.get("/orientations", params={"reference": ref.lower().replace("-", " ")})
    assert reply.status_code == 303 and reply.headers["location"].endswith(f"/orientations/{rid}")
    detail = c.get(f"/orientations/{rid}").text
    from bot.core import messages

    assert messages.level_label("urgence") in detail
    assert messages.reason_text("delai_proche") in detail
    assert "la prime d&#x27;activité" in detail and "prime_activite" not in detail
    assert "Espace numérique &lt;Bréquigny&gt;" in detail
    with session_scope(env["factory"]) as session:
        assert [e.action for e in session.execute(select(service.JournalEntry)).scalars()] == \
            ["connexion", "consultation"]


def test_invalid_transition_is_explained_in_french(env):
    c, _ = log_in(env)
    rid = env["referrals"]["a1"][0]
    token = csrf_of(c.get(f"/orientations/{rid}").text)
    c.post(f"/orientations/{rid}/cloturer", data={"csrf": token, "issue": "injoignable"})
    reply = c.post(f"/orientations/{rid}/prise-en-charge", data={"csrf": token}, follow_redirects=True)
    assert "Cette orientation est déjà clôturée" in reply.text
    assert "Personne injoignable" in reply.text


def test_notes_and_place_names_are_escaped(env):
    c, _ = log_in(env)
    rid = env["referrals"]["a2"][0]
    token = csrf_of(c.get(f"/orientations/{rid}").text)
    note = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    reply = c.post(f"/orientations/{rid}/note", data={"csrf": token, "texte": note}, follow_redirects=True)
    assert "<script>alert(2)" not in reply.text and "<img src=x" not in reply.text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in reply.text
    assert "<Bréquigny>" not in reply.text


def test_mediator_journal_lists_only_its_place(env):
    c, _ = log_in(env)
    other, _ = log_in(env, email="med-b@example.org")
    other.get(f"/orientations/{env['referrals']['b1'][0]}")
    c.get(f"/orientations/{env['referrals']['a1'][0]}")
    journal = c.get("/journal").text
    assert env["referrals"]["a1"][1] in journal and env["referrals"]["b1"][1] not in journal
    assert "med-b@example.org" not in journal


@pytest.mark.parametrize("path", ["/orientations/{id}", "/orientations/{id}/direct",
                                  "/orientations/{id}/direct/messages"])
def test_a_huge_id_in_the_address_is_not_found_not_a_server_error(env, path):
    c, _ = log_in(env)
    for number in (2 ** 63, 10 ** 30):
        reply = c.get(path.format(id=number))
        assert reply.status_code == 404 and "Introuvable" in reply.text
    listing = c.get("/orientations")
    reply = c.post(f"/orientations/{10 ** 30}/note", data={"csrf": csrf_of(listing.text), "texte": "x"})
    assert reply.status_code == 404
    assert client(env).get(f"/orientations/{10 ** 30}").status_code == 404  # signed out: nothing to learn


def test_over_https_the_cookies_are_secure_and_pages_send_hsts(env, monkeypatch):
    monkeypatch.delenv(accounts.SECURE_COOKIE_ENV, raising=False)
    monkeypatch.setenv("AIGUILLAGE_PUBLIC_URL", "http://127.0.0.1:5005")
    form = client(env).get("/connexion")
    assert "Secure" not in form.headers["set-cookie"] and "strict-transport-security" not in form.headers
    monkeypatch.setenv("AIGUILLAGE_PUBLIC_URL", "https://aiguillage.example.fr")
    form = client(env).get("/connexion")
    assert "Secure" in form.headers["set-cookie"]
    assert form.headers["strict-transport-security"] == "max-age=31536000"
    reply = httpx.post(env["base"] + "/connexion", headers={"Cookie": form.headers["set-cookie"].split(";")[0]},
                       data={"email": "med-a@example.org", "mot_de_passe": PASSWORD, "csrf": csrf_of(form.text)})
    cookie = [h for h in reply.headers.get_list("set-cookie") if h.startswith(accounts.COOKIE_NAME + "=")][0]
    assert "Secure" in cookie and reply.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("url, https", [("https://aiguillage.example.fr", True), ("HTTPS://X.FR/", True),
                                        ("http://127.0.0.1:5005", False), ("", False), ("  https://a.fr", True)])
def test_https_is_read_from_the_public_address(monkeypatch, url, https):
    from bot.core import settings

    monkeypatch.setenv(settings.PUBLIC_URL_ENV, url)
    assert settings.served_over_https() is https
    assert ("Strict-Transport-Security" in settings.https_headers()) is https


# --- the recap in words (issue 15, section 1) -------------------------------------------------------------

def visible_text(html: str) -> str:
    """What a person reads on the page: no tags, no attribute values (form values, classes)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def add_situations(env) -> dict:
    from bot.handoff.referrals import ReferralRequest, create_referral
    from tests.recap_support import SITUATIONS

    made = {}
    with session_scope(env["factory"]) as session:
        for i, (name, (level, channel, facts)) in enumerate(sorted(SITUATIONS.items())):
            referral = create_referral(session, ReferralRequest(
                level=level, reasons=["delai_proche"] if level == "urgence" else [], facts=facts, place_id="lieu-a",
                channel=channel, sender_id=f"situation-{name}"), now=T0 + timedelta(minutes=10 + i))
            made[name] = (referral.id, referral.reference)
    return made


def test_the_console_shows_the_recap_in_words_never_a_code_nor_a_place_id(env):
    from tests.console_support import PLACES
    from tests.recap_support import raw_codes

    made = add_situations(env)
    env["clock"]["now"] = T0 + timedelta(days=13, hours=1)  # Wednesday 9 December 2026, 11:00 in Paris
    for email in ("med-a@example.org", "coord@example.org"):
        c, _ = log_in(env, email=email)
        listing = c.get("/orientations")
        text = visible_text(listing.text)
        assert raw_codes(text, PLACES) == [], email
        assert "la déclaration trimestrielle de ressources" in text and "Accueil mairie de Fougères" in text
        for name, (referral_id, _) in made.items():
            page = visible_text(c.get(f"/orientations/{referral_id}").text)
            assert raw_codes(page, PLACES) == [], (email, name)
    coordinator_list = visible_text(log_in(env, email="coord@example.org")[0].get("/orientations").text)
    assert "Espace numérique <Bréquigny>" in coordinator_list  # the place's name, never lieu-a

    c, _ = log_in(env)
    detail = visible_text(c.get(f"/orientations/{made['caf_desk'][0]}").text)
    for words in ("Caisse d'allocations familiales (CAF)", "la déclaration trimestrielle de ressources",
                  "Le RSA sera suspendu si la déclaration n'est pas faite.", "avant le vendredi 11 décembre",
                  "Orientée par Accueil mairie de Fougères", "Échéance dans 2 jours"):
        assert words in detail
    flagged = visible_text(c.get(f"/orientations/{made['after_115_desk'][0]}").text)
    assert "Un numéro d'urgence vitale a été donné dans la même conversation." in flagged
    assert "ne parle pas bien le français" in visible_text(c.get(f"/orientations/{made['prefecture_sms'][0]}").text)
    assert "un proche" in visible_text(c.get(f"/orientations/{made['neighbour_telegram'][0]}").text)


def test_the_list_puts_urgences_first_by_deadline_and_marks_a_near_one(env):
    made = add_situations(env)
    env["clock"]["now"] = T0 + timedelta(days=13, hours=1)  # Wednesday 9 December
    c, _ = log_in(env)
    html = c.get("/orientations").text
    order = re.findall(r'<tr data-reference="([^"]+)"', html)
    refs = {reference: name for name, (_, reference) in made.items()}
    refs.update({reference: key for key, (_, reference) in env["referrals"].items()})
    # caf_desk (11 Dec) before prefecture_sms (20 Dec); then the urgences without a date, oldest first; the rest
    assert [refs[r] for r in order] == ["caf_desk", "prefecture_sms", "a1", "after_115_desk",
                                        "neighbour_telegram", "learning_helpline", "a2"]
    row = re.search(rf'<tr data-reference="{made["caf_desk"][1]}"[^>]*>.*?</tr>', html, flags=re.S).group(0)
    assert 'class="ligne-echeance-proche"' in row and "Échéance dans 2 jours" in visible_text(row)
    other = re.search(rf'<tr data-reference="{made["prefecture_sms"][1]}"[^>]*>.*?</tr>', html, flags=re.S).group(0)
    assert "Échéance" not in visible_text(other) and "avant le dimanche 20 décembre" in visible_text(other)


# --- the console's small things (issue 15, section 5) ------------------------------------------------------

def status_line(html: str) -> str:
    return visible_text(re.search(r'<dd id="statut">.*?</dd>', html, flags=re.S).group(0)).strip()


def test_the_status_line_says_who_closed_and_when_and_who_claimed_before(env):
    from connectors.console import fmt_time

    rid = env["referrals"]["a1"][0]
    c, _ = log_in(env)
    token = csrf_of(c.get(f"/orientations/{rid}").text)
    c.post(f"/orientations/{rid}/prise-en-charge", data={"csrf": token})
    claimed = status_line(c.get(f"/orientations/{rid}").text)
    assert claimed == f"Prise en charge par med-a@example.org, le {fmt_time(T0 + timedelta(hours=1))}"

    env["clock"]["now"] = T0 + timedelta(hours=2, minutes=7)
    other, _ = log_in(env, email="med-a2@example.org")
    other.post(f"/orientations/{rid}/cloturer", data={"csrf": token_of(other, rid), "issue": "fait"})
    closed = status_line(c.get(f"/orientations/{rid}").text)
    assert closed.startswith(f"Clôturée par med-a2@example.org, le {fmt_time(T0 + timedelta(hours=2, minutes=7))}")
    assert "med-a@example.org" not in closed and "Fait" in closed  # not the claim's author nor its time


def token_of(c, rid) -> str:
    return csrf_of(c.get(f"/orientations/{rid}").text)


def add_notification(env, key: str, status: str, kind: str = "email", error: str | None = None) -> None:
    from bot.handoff.notifications.outbox import OutboxMessage

    rid, reference = env["referrals"][key]
    with session_scope(env["factory"]) as session:
        session.add(OutboxMessage(referral_id=rid, reference=reference, place_id="lieu-a", kind=kind, target="x",
                                  payload={}, status=status, attempts=3 if status == "echec" else 1,
                                  next_attempt_at=T0 + timedelta(minutes=30), last_error=error, created_at=T0,
                                  updated_at=T0, sent_at=T0 + timedelta(minutes=1) if status == "envoye" else None))


def notification_line(html: str) -> str:
    return visible_text(re.search(r'<dd id="notification-lieu">.*?</dd>', html, flags=re.S).group(0)).strip()


def test_the_places_notification_is_said_near_the_place_and_a_failure_shows_in_the_list(env):
    from connectors.console import fmt_time

    add_notification(env, "a1", "echec", error="SMTP refusé")
    add_notification(env, "a2", "en_attente")
    c, _ = log_in(env)
    failed = notification_line(c.get(f"/orientations/{env['referrals']['a1'][0]}").text)
    assert failed == "Échec (E-mail) : le lieu n'a pas été prévenu par ce moyen (SMTP refusé)"
    pending = notification_line(c.get(f"/orientations/{env['referrals']['a2'][0]}").text)
    assert pending == ("En attente (E-mail) : la notification n'est pas encore partie, prochain essai le "
                       f"{fmt_time(T0 + timedelta(minutes=30))}")

    html = c.get("/orientations").text
    rows = {ref: visible_text(row) for ref, row in re.findall(r'<tr data-reference="([^"]+)"[^>]*>(.*?)</tr>', html,
                                                                flags=re.S)}
    assert "Échec de la notification au lieu" in rows[env["referrals"]["a1"][1]]
    assert "Échec" not in rows[env["referrals"]["a2"][1]]  # pending is not a failure

    add_notification(env, "a2", "envoye", kind="webhook")
    both = notification_line(c.get(f"/orientations/{env['referrals']['a2'][0]}").text)
    assert f"Envoyé (Webhook) : le lieu a été prévenu le {fmt_time(T0 + timedelta(minutes=1))}" in both
    coordinator, _ = log_in(env, email="coord@example.org")
    untold = notification_line(coordinator.get(f"/orientations/{env['referrals']['b1'][0]}").text)
    assert untold.startswith("Non : le lieu n'a aucun moyen de notification")


def test_the_places_phone_reads_as_on_the_desk(env):
    from bot.directory.models import Place

    with session_scope(env["factory"]) as session:
        session.get(Place, "lieu-a").telephone = "+33261910001"
    c, _ = log_in(env)
    place = visible_text(re.search(r'<dd id="lieu">.*?</dd>', c.get(f"/orientations/{env['referrals']['a1'][0]}")
                                   .text, flags=re.S).group(0))
    assert "02 61 91 00 01" in place and "+33261910001" not in place


def test_hand_over_lists_places_nearest_first_with_commune_and_departement(env):
    from bot.directory.models import Place

    with session_scope(env["factory"]) as session:
        for pid, lat, lon, approx in (("lieu-a", 48.1113, -1.6800, False), ("lieu-b", None, None, False),
                                      ("lieu-c", 48.1211, -1.6035, True)):
            place = session.get(Place, pid)
            place.latitude, place.longitude, place.position_approx = lat, lon, approx
        session.add(Place(id="lieu-d", pivot="00000000000000", nom="France Services Vitré", commune="Vitré",
                          code_postal="35500", code_insee="35360", adresse="x", date_maj=T0.date(),
                          latitude=48.1228, longitude=-1.2098))
    c, _ = log_in(env)
    html = c.get(f"/orientations/{env['referrals']['a1'][0]}").text
    options = [visible_text(o).strip() for o in re.findall(r"<option[^>]*>(.*?)</option>", html, flags=re.S)]
    assert options == ["— choisir —",
                       "France services Cesson — Cesson-Sévigné, Ille-et-Vilaine (35) — environ 6 km",
                       "France Services Vitré — Vitré, Ille-et-Vilaine (35) — 34,9 km",
                       "Médiathèque des Champs Libres — Rennes, Ille-et-Vilaine (35)"]  # no position: last
