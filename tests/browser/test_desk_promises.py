"""The desk's card and slip say the concrete next step, then the later path; the slip says what the code is for;
the 115 can be printed alone as a small card. Webhook answers are given by page.route, so these run against the
fake backend or a real server alike."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

STEP = "Allez à Espace Colombier, Rennes, le lundi 7 décembre à 9h, avant le vendredi 11 décembre. " \
       "Apportez : votre numéro d'allocataire CAF et les lettres de la CAF."
THEN = "Ensuite, si vous voulez, une personne peut vous aider souvent pour que vous deveniez plus autonome."
CARD = {
    "type": "resultat", "niveau": "urgence", "niveau_libelle": "Urgence numérique",
    "raisons": ["il y a une date limite proche"], "prochaine_etape": STEP, "ensuite": THEN,
    "reference": "K7M-4XPQ", "envoi": "presenter",
    "recapitulatif": [{"libelle": "Démarche", "texte": "la déclaration trimestrielle de ressources"},
                      {"libelle": "Date limite", "texte": "avant le vendredi 11 décembre"}],
    "a_apporter": ["votre numéro d'allocataire CAF", "les lettres de la CAF"],
    "lieu": {"nom": "Espace Colombier", "adresse": "1 place du Colombier", "code_postal": "35000",
             "commune": "Rennes", "telephone": "02 99 00 00 00", "prochaine_ouverture": "le lundi 7 décembre à 9h",
             "horaires": "Mo-Fr 09:00-12:00"},
    "alternatives": [],
}
SHELTER = [{"text": "Appelez le 115 tout de suite, jour et nuit, c'est gratuit. Ils cherchent un hébergement pour ce "
                    "soir."},
           {"custom": {"type": "urgence_vitale", "numero": "115"}},
           {"text": "Le CCAS de votre mairie et le service social du Département peuvent aussi vous aider."}]


def answer_with(page: Page, *answers: list) -> None:
    queue = list(answers)
    page.route("**/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(queue.pop(0), ensure_ascii=False)))


def send(page: Page, text: str) -> None:
    page.locator("#message").fill(text)
    page.locator("#message").press("Enter")


def test_the_card_gives_the_next_step_then_the_later_path(page: Page) -> None:
    answer_with(page, [{"text": "Présentez ce numéro à Espace Colombier : K7M-4XPQ.", "custom": CARD}])
    send(page, "caf avant vendredi")
    expect(page.locator("#card .then-step")).to_be_visible()  # the answer is shown: the card can be read
    titles = [t.strip() for t in page.locator("#card .block-title").all_text_contents()]
    assert titles.index("Prochaine étape") < titles.index("Ensuite")
    expect(page.locator("#card .next-step")).to_contain_text("le lundi 7 décembre à 9h")
    expect(page.locator("#card .then-step")).to_contain_text("plus autonome")


def test_the_slip_has_dates_the_procedure_the_deadline_and_what_the_code_is_for(page: Page) -> None:
    answer_with(page, [{"custom": CARD}])
    send(page, "caf avant vendredi")
    expect(page.locator("#result")).to_be_visible()
    page.emulate_media(media="print")
    text = page.locator("#slip").inner_text()
    for expected in ("Prochaine étape", STEP, "Ensuite", THEN, "Prochaine ouverture : le lundi 7 décembre à 9h",
                     "Démarche : la déclaration trimestrielle de ressources",
                     "Date limite : avant le vendredi 11 décembre", "K7M-4XPQ",
                     "Donnez ce code au lieu : il y retrouve votre demande"):
        assert expected in text, expected
    assert "demain" not in text  # a slip is read later: never a relative day


def test_the_115_prints_alone_as_a_small_card(page: Page) -> None:
    answer_with(page, SHELTER)
    send(page, "je suis a la rue ce soir")
    banner = page.locator("#emergency")
    expect(banner).to_be_visible()
    # What the printer gets, captured when the page calls print().
    page.evaluate("""window.__printed = [];
        window.print = () => { const s = document.getElementById('slip');
                               window.__printed.push({text: s.textContent, cls: s.className}); }; true""")
    banner.get_by_role("button", name="Imprimer ce numéro").click()
    [printed] = page.evaluate("window.__printed")
    assert "slip-emergency-card" in printed["cls"]
    assert "Urgence : appelez le 115" in printed["text"] and "jour et nuit" in printed["text"]
    assert "CCAS" not in printed["text"]  # the card carries the number and its sentence only
    # Afterwards the slip is the whole sheet again.
    assert "slip-emergency-card" not in page.locator("#slip").get_attribute("class")


def test_the_115_print_button_is_a_real_button_reachable_by_keyboard(page: Page) -> None:
    answer_with(page, SHELTER)
    send(page, "je suis a la rue ce soir")
    expect(page.locator("#emergency")).to_be_visible()
    page.evaluate("window.print = () => {}; true")
    page.get_by_role("button", name="Imprimer ce numéro").focus()
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")  # keyboard users print it too
    expect(page.locator("#slip")).not_to_have_class("slip slip-emergency-card")
