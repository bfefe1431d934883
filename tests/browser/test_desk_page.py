"""Reception-desk page, driven in real headless Chromium like an agent would use it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from bot.core.privacy import redact
from tests.browser.dom import places_holding
from tests.browser.fake_desk_backend import ERASED_TEXT, RESULT_CARD

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/desk.png"
FIRST_MESSAGE = "Je n'arrive pas à faire mon dossier CAF"
BOT = ".msg-bot .msg-text"
USER = ".msg-user .msg-text"
XSS = '<img src=x onerror="window.__xss=1;alert(1)">'
PASSWORD = "mon mot de passe c'est Soleil2024"
NIR = "1 84 12 75 123 456 78"
CONFIRM_NEW = re.compile(r"Passer à une nouvelle personne")


# ---------- helpers ----------


def send_text(page: Page, text: str) -> None:
    page.locator("#message").fill(text)
    page.locator("#message").press("Enter")


def webhook_bodies(page: Page) -> list[dict]:
    """Record every JSON body the page POSTs to the webhook."""
    bodies: list[dict] = []

    def on_request(request) -> None:  # noqa: ANN001
        if request.method == "POST" and request.url.endswith("/webhook"):
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", on_request)
    return bodies


def tab_to(page: Page, name: str, max_tabs: int = 15) -> None:
    """Press Tab until the focused element's text is `name` (keyboard only, no click)."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"could not reach {name!r} with Tab")


def reach_result(page: Page) -> None:
    send_text(page, FIRST_MESSAGE)
    expect(page.locator("#choices-list button")).to_have_count(3)
    page.locator("#choices-list button", has_text="Oui, dans moins de 7 jours").click()
    expect(page.locator("#result")).to_be_visible()


def pdf_pages(page: Page) -> int:
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def fulfill_json(payload: object):
    return lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(payload, ensure_ascii=False)
    )


def fulfill_in_turn(answers: list[object]):
    """One answer per webhook call, in order."""
    return lambda route: fulfill_json(answers.pop(0))(route)


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")


# ---------- page basics ----------


def test_page_is_french_accessible_and_focused_on_load(page: Page) -> None:
    assert page.get_attribute("html", "lang") == "fr"
    # The agent can type straight away.
    assert page.evaluate("document.activeElement.id") == "message"
    expect(page.get_by_label("Votre message")).to_be_visible()
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")
    base_px = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert base_px >= 18
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    expect(page.get_by_role("button", name="Nouvelle personne")).to_be_visible()


def test_header_shows_demo_badge_and_footer_the_helpline(page: Page, fake_only) -> None:
    expect(page.locator("header .demo-badge")).to_have_text("Données de démonstration")
    expect(page.locator("#helpline")).to_contain_text("Solidarité Numérique")
    expect(page.locator("#helpline a")).to_have_attribute("href", "tel:0170772372")


def test_no_demo_badge_when_server_says_real_data(browser, desk_url: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("**/config", fulfill_json({"demo": False, "helpline": {"nom": "Ligne test", "telephone": "3939"}}))
        page.goto(desk_url)
        expect(page.locator("#helpline")).to_contain_text("Ligne test")
        expect(page.locator("header .demo-badge")).to_be_hidden()
    finally:
        context.close()


# ---------- conversation ----------


def test_typing_and_enter_sends_and_shows_reply_with_buttons(page: Page, fake_only) -> None:
    bodies = webhook_bodies(page)
    send_text(page, FIRST_MESSAGE)

    expect(page.locator(USER)).to_have_text(re.compile(re.escape(FIRST_MESSAGE)))
    expect(page.locator(BOT).first).to_contain_text("date limite")
    expect(page.locator("#choices-list button")).to_have_text(
        ["Oui, dans moins de 7 jours", "Oui, plus tard", "Non, ou je ne sais pas"]
    )
    expect(page.locator("#message")).to_have_value("")
    assert page.evaluate("document.activeElement.id") == "message"

    assert len(bodies) == 1
    body = bodies[0]
    assert body["message"] == FIRST_MESSAGE
    assert body["metadata"] == {"channel": "desk"}
    assert re.fullmatch(r"[0-9a-f-]{36}", body["sender"])


def test_bot_line_breaks_are_kept(page: Page, fake_only) -> None:
    send_text(page, FIRST_MESSAGE)
    bubble = page.locator(BOT).first
    expect(bubble).to_be_visible()
    # Two visual lines, not one run-on line.
    assert "\n" in bubble.inner_text()


def test_send_is_disabled_while_waiting_and_enter_does_not_double_send(page: Page) -> None:
    pending = []
    page.route("**/webhook", lambda route: pending.append(route))
    bodies = webhook_bodies(page)
    send_text(page, "bonjour")
    expect(page.locator("#send")).to_be_disabled()
    expect(page.locator("#status")).to_have_text("Envoi en cours…")
    page.locator("#message").press("Enter")
    page.wait_for_timeout(200)
    assert len(bodies) == 1
    pending[0].fulfill(status=200, content_type="application/json", body='[{"text": "Bonjour !"}]')
    expect(page.locator(BOT)).to_have_text(["Bonjour !"])
    expect(page.locator("#send")).to_be_enabled()


def test_button_is_usable_with_keyboard_only(page: Page, fake_only) -> None:
    bodies = webhook_bodies(page)
    send_text(page, FIRST_MESSAGE)
    expect(page.locator("#choices-list button")).to_have_count(3)

    tab_to(page, "Oui, plus tard")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focused button must show a focus ring"
    page.keyboard.press("Enter")

    expect(page.locator(USER).last).to_contain_text("Oui, plus tard")
    expect(page.locator("#result")).to_be_visible()
    assert bodies[-1]["message"] == '/informer{"delai": "plus_tard"}'
    assert bodies[-1]["sender"] == bodies[0]["sender"]


def test_space_also_activates_a_button(page: Page, fake_only) -> None:
    send_text(page, FIRST_MESSAGE)
    expect(page.locator("#choices-list button")).to_have_count(3)
    tab_to(page, "Non, ou je ne sais pas")
    page.keyboard.press("Space")
    expect(page.locator(USER).last).to_contain_text("Non, ou je ne sais pas")


# ---------- result card ----------


def test_result_card_shows_everything_the_person_needs(page: Page, desk_url: str, fake_only) -> None:
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    reach_result(page)
    card = page.locator("#card")

    badge = card.locator(".level")
    expect(badge).to_contain_text("Urgence numérique")  # text, not colour alone
    expect(badge).to_have_class(re.compile(r"\blevel-urgence\b"))
    expect(card.locator(".reasons li")).to_have_text(
        ["Vos droits CAF sont suspendus", "La date limite est dans moins de 7 jours"]
    )
    expect(card.locator(".place-name")).to_contain_text("Espace numérique des Lices")
    expect(card.locator(".place-address")).to_contain_text("12 place des Lices")
    expect(card.locator(".place-address")).to_contain_text("35000 Rennes")
    expect(card.locator(".place-address")).to_contain_text("à 1,2 km")
    expect(card.locator(".next-opening")).to_have_text("ouvre demain à 9h")
    expect(card.locator(".hours")).to_contain_text("lun. au ven. 9h à 12h ; mer. 14h à 17h30")
    expect(card.locator(".to-confirm")).to_contain_text("Horaires à confirmer")
    expect(card.locator(".place .tel")).to_have_attribute("href", "tel:0299000000")
    expect(card.locator(".map-link")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=48.1119&mlon=-1.6819#map=17/48.1119/-1.6819"
    )
    expect(card.locator(".place .demo-badge")).to_have_text("Données de démonstration")
    expect(card.locator(".reference-code")).to_have_text("K7M-4XP")
    # What a screen reader reads: the code spelled out, not "K7M-4XP" read as a word.
    reference = card.locator(".reference").aria_snapshot()
    assert "K 7 M tiret 4 X P" in reference and "K7M-4XP" not in reference, reference
    expect(page.get_by_role("heading", name="Code de suivi")).to_be_visible()
    ref_style = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('.reference-code'));"
        " return [parseFloat(s.fontSize), parseFloat(s.letterSpacing)]; })()"
    )
    assert ref_style[0] >= 30 and ref_style[1] > 0, "reference must be large and spaced"
    expect(card.locator(".bring li")).to_have_count(3)
    expect(card.locator(".next-step")).to_contain_text("Un médiateur vous aide")
    expect(card.locator(".alternatives")).to_contain_text("Solidarité Numérique")
    # Focus moves to the result so a screen reader reaches it (no question is pending).
    assert page.evaluate("document.activeElement.id") == "result-title"

    # Nothing outside the desk server was loaded (no CDN, fonts, tiles).
    assert hosts == {urlsplit(desk_url).netloc}
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_print_button_calls_window_print(page: Page, fake_only) -> None:
    reach_result(page)
    page.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; true")
    page.get_by_role("button", name="Imprimer la fiche").click()
    assert page.evaluate("window.__printed") == 1


def test_print_shows_only_a_one_page_slip(page: Page, fake_only) -> None:
    reach_result(page)
    expect(page.locator("#slip")).to_be_hidden()  # not on screen

    page.emulate_media(media="print")
    slip = page.locator("#slip")
    expect(slip).to_be_visible()
    for hidden in ("#log", "#composer", "#choices", "#card", "#print", "#new-person", ".site-header", ".site-footer"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("button:visible")).to_have_count(0)
    text = slip.inner_text()
    for expected in (
        "Aiguillage",
        "Urgence numérique",
        "Vos droits CAF sont suspendus",
        "Espace numérique des Lices",
        "12 place des Lices, 35000 Rennes",
        "ouvre demain à 9h",
        "lun. au ven. 9h à 12h",
        "horaires à confirmer",
        "02 99 00 00 00",
        "K7M-4XP",
        "Votre pièce d'identité",
        "Un médiateur vous aide",
        "Données de démonstration",
        "Votre demande",
        "Organisme : Caisse d'allocations familiales (CAF)",
        "Démarche : la déclaration trimestrielle de ressources",
        "Ce qui est en jeu : Le RSA sera suspendu si la déclaration n'est pas faite.",
        "Date limite : avant le vendredi 11 décembre",
    ):
        assert expected in text, expected
    assert re.search(r"Fiche remise le \S+ \d{1,2} \S+ 20\d\d", text), "slip must carry the date"

    assert pdf_pages(page) == 1, "slip should fit one A4 page"


def test_long_result_still_prints_on_one_page(page: Page) -> None:
    long_card = {
        "type": "resultat",
        "niveau": "inclusion",
        "niveau_libelle": "Besoin d'accompagnement",
        "raisons": [f"Raison {i} : le dossier de demande d'aide est bloqué depuis plusieurs semaines"
                    for i in range(7)],
        "prochaine_etape": "Prenez rendez-vous au lieu indiqué et venez avec vos papiers. " * 3,
        "reference": "ABC-123",
        "recapitulatif": [{"libelle": f"Ligne {i}", "texte": "la déclaration trimestrielle de ressources"}
                          for i in range(4)],
        "a_apporter": [f"Document {i} : justificatif de domicile de moins de trois mois" for i in range(7)],
        "lieu": None,
        "alternatives": [{"nom": f"Contact {i}", "telephone": "01 02 03 04 05", "modalite": "par téléphone"}
                         for i in range(6)],
    }
    page.route("**/webhook", fulfill_json([{"custom": long_card},
                                           {"custom": {"type": "urgence_vitale", "numero": "115"}}]))
    send_text(page, "bonjour")
    expect(page.locator("#result")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#slip")).to_contain_text("Raison 6")
    expect(page.locator("#slip")).to_contain_text("Contact 5")
    expect(page.locator("#slip")).to_contain_text("Ligne 3 : la déclaration trimestrielle de ressources")
    assert pdf_pages(page) == 1


# ---------- emergency ----------


def test_street_emergency_shows_115_banner(page: Page, fake_only) -> None:
    expect(page.locator("#emergency")).to_be_hidden()
    send_text(page, "je suis à la rue")
    banner = page.locator("#emergency")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner.locator("a")).to_have_text("115")
    expect(banner.locator("a")).to_have_attribute("href", "tel:115")
    expect(banner).to_contain_text("Hébergement d'urgence")


# ---------- failures ----------


@pytest.mark.parametrize("failure", ["network", "http500"])
def test_server_down_shows_french_error_and_keeps_text(page: Page, failure: str) -> None:
    if failure == "network":
        page.route("**/webhook", lambda route: route.abort())
    else:
        page.route("**/webhook", lambda route: route.fulfill(status=500, body="boom"))
    send_text(page, "mon dossier France Travail")

    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Le serveur ne répond pas")
    expect(page.locator("#message")).to_have_value("mon dossier France Travail")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator(".msg")).to_have_count(0)

    # Once the server is back, the same text goes through and the error goes away.
    page.unroute("**/webhook")
    page.route("**/webhook", fulfill_json([{"text": "Je vous écoute."}]))
    page.locator("#message").press("Enter")
    expect(page.locator(USER)).to_contain_text("mon dossier France Travail")
    expect(error).to_be_hidden()


def test_too_many_messages_shows_the_servers_french_reason_and_keeps_the_text(page: Page) -> None:
    reason = "Vous avez envoyé beaucoup de messages d'un coup. Attendez une minute, puis écrivez à nouveau."
    page.route("**/webhook", lambda route: route.fulfill(status=429, content_type="application/json",
                                                          headers={"Retry-After": "6"},
                                                          body=json.dumps({"erreur": reason})))
    send_text(page, "mon dossier France Travail")
    expect(page.locator("#error")).to_have_text(reason)
    expect(page.locator("#message")).to_have_value("mon dossier France Travail")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator(".msg")).to_have_count(0)


def test_server_down_after_button_keeps_the_choices(page: Page, fake_only) -> None:
    send_text(page, FIRST_MESSAGE)
    expect(page.locator("#choices-list button")).to_have_count(3)
    page.route("**/webhook", lambda route: route.abort())
    page.locator("#choices-list button").first.click()
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#choices-list button").first).to_be_enabled()
    page.unroute("**/webhook")
    page.locator("#choices-list button").first.click()
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()


# ---------- new person ----------


def test_new_person_clears_everything_and_changes_sender(page: Page, fake_only) -> None:
    bodies = webhook_bodies(page)
    send_text(page, "je suis a la rue")
    expect(page.locator("#emergency")).to_be_visible()
    reach_result(page)
    page.locator("#message").fill("texte pas encore envoyé")
    first_sender = bodies[0]["sender"]

    page.get_by_role("button", name="Nouvelle personne").click()
    page.get_by_role("dialog", name=CONFIRM_NEW).get_by_role("button", name="Oui, nouvelle personne").click()

    expect(page.locator(".msg")).to_have_count(0)
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#card")).to_be_empty()
    expect(page.locator("#choices")).to_be_hidden()
    expect(page.locator("#emergency")).to_be_hidden()
    expect(page.locator("#message")).to_have_value("")
    assert page.evaluate("document.activeElement.id") == "message"
    page.emulate_media(media="print")
    assert page.locator("#slip").inner_text().strip() == ""  # nothing left to print
    page.emulate_media(media="screen")

    send_text(page, "bonjour")
    expect(page.locator(USER)).to_have_count(1)
    assert bodies[-1]["sender"] != first_sender


def test_late_answer_for_previous_person_is_dropped(page: Page) -> None:
    pending = []
    page.route("**/webhook", lambda route: pending.append(route))
    send_text(page, "données de la personne précédente")
    expect(page.locator("#send")).to_be_disabled()
    page.get_by_role("button", name="Nouvelle personne").click()
    page.get_by_role("button", name="Oui, nouvelle personne").click()  # a message under way is a conversation
    pending[0].fulfill(status=200, content_type="application/json", body='[{"text": "réponse tardive"}]')
    page.wait_for_timeout(300)
    expect(page.locator(".msg")).to_have_count(0)
    expect(page.locator("#send")).to_be_enabled()


def test_new_person_asks_first_by_keyboard_and_escape_cancels(page: Page, fake_only) -> None:
    send_text(page, FIRST_MESSAGE)
    expect(page.locator("#choices-list button")).to_have_count(3)
    new_person = page.get_by_role("button", name="Nouvelle personne")
    dialog = page.get_by_role("dialog", name=CONFIRM_NEW)
    new_person.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null"), "focus goes into the dialog"
    assert focused(page) == "confirm-new-no"  # the choice that loses nothing comes first
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".msg")).to_have_count(2)  # nothing was cleared
    assert focused(page) == "new-person"  # back where the agent was

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert focused(page) == "confirm-new-no"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "confirm-new-yes"
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator(".msg")).to_have_count(0)
    expect(page.locator("#choices")).to_be_hidden()
    assert focused(page) == "message"


def test_new_person_cancel_button_keeps_the_conversation(page: Page, fake_only) -> None:
    send_text(page, FIRST_MESSAGE)
    expect(page.locator(".msg")).to_have_count(2)
    page.get_by_role("button", name="Nouvelle personne").click()
    page.get_by_role("button", name="Annuler").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".msg")).to_have_count(2)
    expect(page.locator("#choices-list button")).to_have_count(3)


def test_new_person_on_an_empty_conversation_clears_without_asking(page: Page) -> None:
    page.locator("#message").fill("pas encore envoyé")
    page.get_by_role("button", name="Nouvelle personne").click()
    expect(page.locator("#confirm-new")).to_be_hidden()
    expect(page.locator("#message")).to_have_value("")
    assert focused(page) == "message"


# ---------- "stop" / "effacer" ----------


@pytest.mark.parametrize("word", ["stop", "effacer"])
def test_stop_clears_the_screen_and_starts_a_new_conversation(page: Page, fake_only, word: str) -> None:
    bodies = webhook_bodies(page)
    send_text(page, "je suis a la rue")
    expect(page.locator("#emergency")).to_be_visible()
    reach_result(page)
    send_text(page, word)

    # Only the bot's confirmation stays: the person sees it was done, the next one sees nothing else.
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(BOT)).to_have_text([ERASED_TEXT])
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#card")).to_be_empty()
    expect(page.locator("#emergency")).to_be_hidden()
    expect(page.locator("#choices")).to_be_hidden()
    expect(page.locator("#message")).to_have_value("")
    assert focused(page) == "message"
    assert page.locator("main").inner_text().count("Espace numérique des Lices") == 0
    page.emulate_media(media="print")
    assert page.locator("#slip").inner_text().strip() == ""  # nothing left to print
    page.emulate_media(media="screen")

    # Nothing of anyone is on screen now: "Nouvelle personne" does not ask.
    page.get_by_role("button", name="Nouvelle personne").click()
    expect(page.locator("#confirm-new")).to_be_hidden()
    send_text(page, "bonjour")
    expect(page.locator(USER)).to_have_text(["bonjour"])
    assert bodies[-2]["message"] == word and bodies[-2]["sender"] == bodies[0]["sender"]
    assert bodies[-1]["sender"] != bodies[0]["sender"]  # a new conversation


# ---------- secrets ----------


@pytest.mark.parametrize("typed, secret, token", [
    (PASSWORD, "Soleil2024", "[MOT_DE_PASSE]"),
    (f"mon numéro de sécu c'est le {NIR}", "123 456", "[NIR]"),
])
def test_a_typed_secret_is_shown_masked_as_the_server_stored_it(page: Page, typed: str, secret: str,
                                                               token: str) -> None:
    page.locator("#message").fill(typed)
    assert places_holding(page, secret) == ["value of #message", "accessibility tree"]  # the check sees a field
    page.locator("#message").press("Enter")
    bubble = page.locator(USER)
    expect(bubble).to_have_count(1)
    # The server's masking, whatever server answers (the fake applies bot/core/privacy.py too).
    expect(bubble).to_have_text(redact(typed).text)
    expect(bubble).to_contain_text(token)
    expect(page.locator("#message")).to_have_value("")
    for fragment in {secret, typed, NIR}:
        assert places_holding(page, fragment) == [], fragment


def test_an_answer_without_the_kept_text_shows_the_message_as_typed(page: Page) -> None:
    """An older server does not send the masked text: the page works as before."""
    page.route("**/webhook", fulfill_json([{"text": "Bonjour !"}]))
    send_text(page, "mon dossier France Travail")
    expect(page.locator(USER)).to_have_text(["mon dossier France Travail"])
    expect(page.locator(BOT)).to_have_text(["Bonjour !"])


# ---------- focus while a question is pending ----------


def test_focus_stays_on_the_pending_question_and_reaches_the_result_once_answered(page: Page) -> None:
    consent = [{"title": "Oui, envoyez ma demande", "payload": "/oui"}, {"title": "Non", "payload": "/non"}]
    page.route("**/webhook", fulfill_in_turn([
        [{"text": "Pour quelle démarche ?", "buttons": [{"title": "CAF", "payload": "/caf"}]}],
        [{"custom": dict(RESULT_CARD, reference=None)}, {"text": "J'envoie votre demande ?", "buttons": consent}],
        [{"text": "Une question encore ?", "buttons": consent}],
        [{"custom": RESULT_CARD}, {"text": "C'est envoyé."}],
    ]))
    send_text(page, FIRST_MESSAGE)
    page.get_by_role("button", name="CAF").click()
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#choices-list button")).to_have_count(2)
    # The result is there, but the consent question is pending: focus stays in the conversation.
    assert focused(page) == "Oui, envoyez ma demande"
    send_text(page, "je ne sais pas")  # typed instead of clicked: back to the message field
    expect(page.locator(".msg-bot")).to_have_count(3)
    assert focused(page) == "message"
    page.get_by_role("button", name="Oui, envoyez ma demande").click()
    expect(page.locator(BOT).last).to_have_text("C'est envoyé.")
    expect(page.locator("#choices")).to_be_hidden()
    assert focused(page) == "result-title"  # the exchange is over


# ---------- escaping ----------


def test_server_text_is_shown_literally_never_executed(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    card = {
        "type": "resultat",
        "niveau": "inclusion",
        "niveau_libelle": XSS,
        "raisons": [XSS],
        "prochaine_etape": XSS,
        "reference": XSS,
        "a_apporter": [XSS],
        "lieu": {
            "nom": XSS, "adresse": XSS, "code_postal": "35000", "commune": XSS, "telephone": XSS,
            "prochaine_ouverture": XSS, "horaires": XSS, "horaires_a_confirmer": False,
            "latitude": "1&x=<b>", "longitude": 2, "distance_km": None, "demo": False, "date_maj": None,
        },
        "alternatives": [{"nom": XSS, "telephone": "3939", "modalite": XSS}],
    }
    page.route(
        "**/webhook",
        fulfill_json([
            {"text": XSS, "buttons": [{"title": XSS, "payload": "/x"}]},
            {"custom": card},
            {"custom": {"type": "urgence_vitale", "numero": "115", "libelle": XSS}},
        ]),
    )
    send_text(page, "test")

    expect(page.locator(BOT)).to_have_text([XSS])
    expect(page.locator("#choices-list button")).to_have_text([XSS])
    expect(page.locator("#card .reasons li")).to_have_text([XSS])
    expect(page.locator("#card .reference-code")).to_have_text(XSS)
    expect(page.locator("#emergency")).to_contain_text(XSS)
    assert page.locator("main img, #slip img, main b").count() == 0
    assert page.locator("#card .map-link").count() == 0  # bad coordinates: no broken map link
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
