"""A person on SMS and a mediator in Chromium, on the real stack: live takeover, then the follow-up.

The SMS gateway is the loopback fake started by the `stack` fixture; the console, the SMS channel,
Rasa and the action server are the real ones.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.channels.sms.encoding import prepare
from bot.channels.sms.providers import SmsSender, SmsSettings
from bot.console import accounts
from bot.core.db import session_factory, session_scope
from bot.directory.models import Place
from bot.handoff import followup
from bot.handoff.recap import format_deadline
from bot.handoff.referrals import Referral
from bot.triage.deadlines import deadline_date
from tests.conftest import SMS_SECRET
from tests.stack.test_channels_stack import new_mobile, post_sms, sms_to, sms_until_consent, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.stack]

PASSWORD = "un mot de passe assez long"


def sms_conversation_with_a_referral(stack, number: str) -> str:
    count = sms_until_consent(stack, number)
    post_sms(stack, number, "1")
    texts = wait_for(lambda: [t for t in sms_to(stack, number)[count:]
                              if re.search(r"[A-Z2-9]{3}-[A-Z2-9]{4}", t)], context=lambda: sms_to(stack, number))
    return re.search(r"[A-Z2-9]{3}-[A-Z2-9]{4}", texts[0]).group(0)


def in_thread(coroutine):
    # Playwright's sync API owns this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(60)


@pytest.fixture
def console(browser, stack):
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(20000)
    page = context.new_page()
    yield page
    context.close()


def open_referral(page, stack, email: str, referral_id: int):
    """The mediator logs in and opens the referral's page."""
    page.goto(f"{stack['base']}/webhooks/console/connexion")
    page.fill("#email", email)
    page.fill("#mot_de_passe", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{stack['base']}/webhooks/console/orientations/{referral_id}")
    return page


def test_a_mediator_takes_over_an_sms_conversation_then_the_follow_up_reopens_it(console, stack):
    number = new_mobile("+3363")
    reference = sms_conversation_with_a_referral(stack, number)
    factory = session_factory(stack["engine"])
    with session_scope(factory) as session:
        referral = session.execute(select(Referral).where(Referral.reference == reference)).scalar_one()
        contact = followup.contact_for(session, referral.id)
        assert contact is not None and contact.channel == "sms"  # kept with the consent, sealed
        assert number not in contact.sealed_address and followup.unseal(contact.sealed_address) == number
        place = session.get(Place, referral.place_id)
        place.horaires = "24/7"  # so the test does not depend on the hour CI runs at
        email = f"med-{uuid.uuid4().hex[:8]}@example.org"
        accounts.create_account(session, email, PASSWORD, place.id)
        referral_id, place_name = referral.id, prepare(place.nom)  # as the SMS carries it (GSM-7)

    page = open_referral(console, stack, email, referral_id)
    expect(page.locator("#envois")).to_contain_text("aucun moyen de notification")  # demo places have none
    before = len(sms_to(stack, number))
    page.click("#prendre-la-main")
    expect(page.locator(".flash.info")).to_contain_text("Vous avez pris la main")
    notice = wait_for(lambda: sms_to(stack, number)[before:])
    assert "vous répond maintenant directement" in notice[0] and place_name in notice[0]

    # The person's SMS reaches the console page (polled by its script), and Rasa does not answer.
    post_sms(stack, number, "jai pas recu le code <b>urgent</b>")
    expect(page.locator("#fil .msg-personne .texte").last).to_have_text("jai pas recu le code <b>urgent</b>")
    assert len(sms_to(stack, number)) == before + 1

    page.fill("#message", "Bonjour, venez demain à 10h avec votre courrier.")
    page.click("#envoyer")
    expect(page.locator(".flash.info")).to_contain_text("Message envoyé.")
    wait_for(lambda: [t for t in sms_to(stack, number)
                      if t == f"{place_name} : Bonjour, venez demain à 10h avec votre courrier."])

    page.click("#rendre-la-main")
    expect(page.locator(".flash.info")).to_contain_text("Vous avez rendu la main")
    wait_for(lambda: [t for t in sms_to(stack, number) if "L'assistant automatique vous répond de nouveau" in t])
    count = len(sms_to(stack, number))
    post_sms(stack, number, "bonjour")  # the bot answers again
    wait_for(lambda: sms_to(stack, number)[count:])

    page.goto(f"{stack['base']}/webhooks/console/orientations/{referral_id}")
    history = page.locator("#historique")
    expect(history).to_contain_text("Discussion en direct commencée")
    expect(history).to_contain_text("Discussion en direct terminée")
    page.check("input[name=issue][value=fait]")
    page.click("#cloturer")
    expect(page.locator(".flash.info")).to_contain_text("Orientation clôturée.")

    # The worker sends the closing message now and "est-ce réglé ?" days later, on the same channel.
    gateway = stack["sms_gateway"]
    settings = SmsSettings(provider="json", send_url=f"{gateway.url}/send", shared_secret=SMS_SECRET,
                           from_number="+33900000000", public_url="http://unused", retries=1, timeout=5)

    async def deliver(when):
        sender = SmsSender(settings)
        try:
            return await followup.deliver_due(factory, {"sms": sender.send}, when)
        finally:
            await sender.aclose()

    in_thread(deliver(datetime.now(timezone.utc)))
    in_thread(deliver(datetime.now(timezone.utc) + timedelta(days=followup.followup_days() + 1)))
    texts = sms_to(stack, number)
    assert any("est terminée" in t for t in texts) and "est-ce réglé" in texts[-1]
    post_sms(stack, number, "non ca marche toujours pas")
    wait_for(lambda: [t for t in sms_to(stack, number) if "de nouveau ouverte" in t])
    page.reload()
    expect(page.locator("#statut")).to_contain_text("Ouverte")
    expect(page.locator("#envois")).to_contain_text("réponse : NON")  # what the person was sent, and said
    expect(page.locator("#historique")).to_contain_text("la personne a répondu NON")


def test_a_desk_referral_with_a_phone_number_gets_the_claim_notice_by_sms(browser, console, stack):
    """Issue 15, section 2: at the desk, after the referral, the agent leaves the person's mobile with their own
    consent; the place's mediator sees it masked, claims the referral, then sees it whole, and the claim notice
    reaches that number through the (fake) SMS gateway."""
    number = new_mobile("+3367")
    national = f"0{number[3]} {number[4:6]} {number[6:8]} {number[8:10]} {number[10:12]}"
    desk_context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    desk_context.set_default_timeout(30000)
    desk = desk_context.new_page()
    desk.goto(f"{stack['base']}/webhooks/desk/")
    for text in ("bjr jdois faire ma declaration trimestrielle caf avant vendredi sinon ils coupent le rsa, "
                 "jai pas dordi, jsuis a rennes", None):
        if text is None:  # the consent to send the referral
            choice = desk.locator("#choices-list button").first
            expect(choice).to_contain_text("Oui")
            choice.click()
        else:
            desk.fill("#message", text)
            desk.keyboard.press("Enter")
        expect(desk.locator("#send")).to_be_enabled()
    reference = desk.locator("#card .reference-code")
    expect(reference).to_have_text(re.compile(r"^[A-Z2-9]{3}-[A-Z2-9]{4}$"))
    reference = reference.text_content()
    expect(desk.locator("#slip")).to_contain_text("Pas de contact : la personne viendra au lieu")

    # The person's own consent is a separate, unticked box: without it, nothing is kept, and what was typed stays.
    consent = desk.locator("#contact-consent")
    expect(consent).not_to_be_checked()
    desk.fill("#contact-phone", "06 12 34")
    desk.fill("#contact-first-name", "Awa")
    consent.check()
    desk.click("#contact-save")
    expect(desk.locator("#contact-error")).to_contain_text("pas un numéro de téléphone français valide")
    expect(desk.locator("#contact-phone")).to_have_value("06 12 34")
    expect(desk.locator("#contact-phone")).to_be_focused()
    desk.fill("#contact-phone", national)
    desk.click("#contact-save")
    expect(desk.locator("#contact-status")).to_contain_text("recevra par SMS")
    expect(desk.locator("#contact-error")).to_be_hidden()
    expect(desk.locator("#slip")).to_contain_text("Contact : téléphone laissé à l'accueil (SMS possible)")
    expect(desk.locator("#slip")).not_to_contain_text("Pas de contact")
    desk_context.close()

    factory = session_factory(stack["engine"])
    with session_scope(factory) as session:
        referral = session.execute(select(Referral).where(Referral.reference == reference)).scalar_one()
        assert referral.channel == "desk"
        contact = followup.contact_for(session, referral.id)
        assert contact is not None and number not in contact.sealed_address  # sealed
        place = session.get(Place, referral.place_id)
        email = f"med-{uuid.uuid4().hex[:8]}@example.org"
        accounts.create_account(session, email, PASSWORD, place.id)
        referral_id, place_name = referral.id, prepare(place.nom)

    page = open_referral(console, stack, email, referral_id)
    masked = f"0{number[3]} •• •• •• {number[10:12]}"
    expect(page.locator("#contact-numero")).to_have_text(masked)
    expect(page.locator("#contact-telephone")).not_to_contain_text("Awa")
    expect(page.locator("#faits")).to_contain_text("téléphone laissé à l'accueil (SMS possible)")
    # The recap in words, never codes, with the deadline as a date (issue 15, section 1).
    facts = page.locator("#faits")
    expect(facts).to_contain_text("Caisse d'allocations familiales (CAF)")
    expect(facts).to_contain_text("la déclaration trimestrielle de ressources")
    expect(page.locator("#echeance")).to_contain_text(format_deadline(deadline_date("avant vendredi"), date.today()))
    for code in ("declaration_trimestrielle", "caf,", "delai"):
        expect(page.locator("main")).not_to_contain_text(code)
    page.click("#prendre")
    expect(page.locator(".flash.info")).to_contain_text("Orientation prise en charge.")
    expect(page.locator("#contact-numero")).to_have_text(national)
    expect(page.locator("#contact-prenom")).to_have_text("Awa")

    gateway = stack["sms_gateway"]
    settings = SmsSettings(provider="json", send_url=f"{gateway.url}/send", shared_secret=SMS_SECRET,
                           from_number="+33900000000", public_url="http://unused", retries=1, timeout=5)

    async def deliver():
        sender = SmsSender(settings)
        try:
            return await followup.deliver_due(factory, {"sms": sender.send}, datetime.now(timezone.utc))
        finally:
            await sender.aclose()

    in_thread(deliver())
    notice = wait_for(lambda: sms_to(stack, number))
    assert reference in notice[0] and "prise en charge" in notice[0] and place_name in notice[0]
