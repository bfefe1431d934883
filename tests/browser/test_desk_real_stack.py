"""The desk page on the real stack: a reception agent runs the acceptance scenarios in Chromium."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.console.accounts import place_has_console
from bot.core.db import session_factory, session_scope
from bot.handoff.recap import format_deadline
from bot.handoff.referrals import Referral
from bot.triage.deadlines import deadline_date
from tests.browser.dom import places_holding

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def desk(browser, stack):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30000)
    page = context.new_page()
    # The page's Content-Security-Policy must not block anything the page itself needs.
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{stack['base']}/webhooks/desk/")
    page.wait_for_selector("#message")
    yield page
    context.close()
    assert blocked == []


def send(page, text: str) -> None:
    page.fill("#message", text)
    page.keyboard.press("Enter")
    expect(page.locator("#send")).to_be_enabled()


def test_urgence_scenario_ends_with_place_reference_and_a_one_page_slip(desk, stack):
    expect(desk.locator("#demo-banner")).to_be_visible()  # demo data is announced
    send(desk, "bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
               "jai pas dordi, jsuis a rennes")
    card = desk.locator("#card")
    expect(card.locator(".level")).to_contain_text("Urgence")
    expect(card.locator(".reasons li").first).to_be_visible()
    expect(card.locator(".next-opening")).not_to_be_empty()
    expect(card.locator(".map-link")).to_have_attribute("href", re.compile(r"openstreetmap\.org/\?mlat="))
    # Consent with the keyboard only: Tab from the message field to the first choice.
    choice = desk.locator("#choices-list button").first
    expect(choice).to_contain_text("Oui")
    # The consent question is pending: focus stays in the conversation, not on "Résultat".
    assert desk.evaluate("document.activeElement.id") == "message"
    choice.focus()
    desk.keyboard.press("Enter")
    expect(card.locator(".reference-code")).to_have_text(re.compile(r"^[A-Z2-9]{3}-[A-Z2-9]{4}$"))
    # The demo place has no notification channel: the person is not told "envoyé", but where the request
    # waits, which depends on whether an earlier test of this shared stack gave the place a console account.
    expect(desk.locator("#log")).not_to_contain_text("C'est envoyé")
    reference = card.locator(".reference-code").text_content()
    with session_scope(session_factory(stack["engine"])) as session:
        place_id = session.execute(select(Referral.place_id).where(Referral.reference == reference)).scalar_one()
        told = "verra votre demande dans son espace" if place_has_console(session, place_id) else "Présentez ce numéro"
    expect(desk.locator("#log")).to_contain_text(told)
    desk.emulate_media(media="print")
    expect(desk.locator("#slip")).to_be_visible()
    expect(desk.locator("#log")).to_be_hidden()
    # The slip in words, with absolute dates: the procedure, the deadline, the next step, what the code is for.
    deadline = format_deadline(deadline_date("avant le 5"), date.today())
    slip = desk.locator("#slip").inner_text()
    for expected in ("Démarche : la déclaration trimestrielle de ressources", f"Date limite : {deadline}",
                     "Prochaine étape", "numéro d'allocataire CAF", "Ensuite", "Donnez ce code au lieu"):
        assert expected in slip, expected
    assert "demain" not in slip.lower()  # opening and deadline as dates (a reason may say "aujourd'hui")
    pdf = desk.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    desk.emulate_media(media="screen")
    desk.screenshot(path="/tmp/desk-real.png", full_page=True)


def test_learning_scenario_gets_a_workshop(desk):
    send(desk, "je voudrais apprendre a faire des visios avec mes petits enfants")
    send(desk, "Rennes")
    expect(desk.locator("#card .level")).to_contain_text("Apprentissage")


def test_street_tonight_gets_115_at_once(desk):
    send(desk, "je suis a la rue ce soir")
    expect(desk.locator("#emergency")).to_contain_text("115")
    expect(desk.locator("#emergency a[href^='tel:']")).to_have_attribute("href", re.compile("115"))


def test_no_wish_to_wake_up_gets_3114_and_the_safety_check_never_the_town_question(desk):
    send(desk, "j'ai plus envie de me réveiller le matin")
    expect(desk.locator("#emergency")).to_contain_text("3114")
    expect(desk.locator("#emergency a[href^='tel:']")).to_have_attribute("href", re.compile("3114"))
    choices = desk.locator("#choices-list button")
    expect(choices).to_have_count(2)
    expect(choices.first).to_contain_text("danger")
    expect(desk.locator("#log")).not_to_contain_text("ville")
    desk.screenshot(path="/tmp/desk-safety-check.png", full_page=True)
    choices.nth(1).click()  # "Non, tout va bien": the triage goes on, the number stays on screen
    expect(desk.locator("#log")).to_contain_text("Pour quelle démarche")
    expect(desk.locator("#emergency")).to_contain_text("3114")


def test_stop_clears_the_screen_and_what_follows_is_a_new_conversation(desk):
    senders = []
    desk.on("request", lambda r: senders.append(json.loads(r.post_data)["sender"])
            if r.method == "POST" and r.url.endswith("/webhook") else None)
    send(desk, "je dois faire ma declaration trimestrielle caf avant vendredi, je suis a rennes")
    expect(desk.locator("#card .level")).to_contain_text("Urgence")
    send(desk, "stop")
    # The bot's confirmation only; the request, the card and the slip are gone.
    expect(desk.locator(".msg")).to_have_count(1)
    expect(desk.locator(".msg-bot")).to_contain_text("La personne suivante peut commencer")
    expect(desk.locator(".msg-bot")).not_to_contain_text("je ne vous écris plus")  # an SMS's words, not a desk's
    expect(desk.locator("#result")).to_be_hidden()
    expect(desk.locator("#card")).to_be_empty()
    expect(desk.locator("#choices")).to_be_hidden()
    expect(desk.locator("main")).not_to_contain_text("trimestrielle")
    desk.emulate_media(media="print")
    assert desk.locator("#slip").inner_text().strip() == ""
    desk.emulate_media(media="screen")
    send(desk, "je voudrais apprendre a faire des visios")
    expect(desk.locator(".msg-user")).to_have_count(1)
    assert senders[0] == senders[1] != senders[2]


@pytest.mark.parametrize("typed, secret, token", [
    ("mon mot de passe c'est Soleil2024", "Soleil2024", "[MOT_DE_PASSE]"),
    ("mon numero de secu 1 84 12 75 123 456 78", "123 456 78", "[NIR]"),
])
def test_a_secret_typed_at_the_desk_is_masked_on_the_page(desk, typed, secret, token):
    send(desk, typed)
    bubble = desk.locator(".msg-user .msg-text")
    expect(bubble).to_have_count(1)
    expect(bubble).to_contain_text(token)
    expect(desk.locator(".msg-bot").first).to_contain_text("masqué")  # the bot warns the person
    assert places_holding(desk, secret) == []
    assert places_holding(desk, typed) == []
