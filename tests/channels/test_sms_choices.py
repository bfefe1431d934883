"""Buttons become numbered choices on SMS; the person's reply maps back to the button's payload."""

from bot.channels.sms.choices import choices_from_buttons, match, render
from bot.core import messages

CONSENT = choices_from_buttons(messages.catalogue().buttons("utter_demande_consentement"))
ENJEU = choices_from_buttons(messages.catalogue().buttons("utter_ask_enjeu"))


def test_rendering_lists_numbers_and_the_prompt_from_the_domain():
    text = render("Que préférez-vous ?", ENJEU[:3])
    assert text.splitlines() == ["Que préférez-vous ?", "1. Oui, une date proche",
                                 "2. Oui, une lettre ou un paiement bloqué", "3. Non, pas de date",
                                 "Répondez 1, 2 ou 3."]
    assert render("Sans boutons.", []) == "Sans boutons."


def test_numbers_in_their_usual_forms():
    for reply in ("1", "1.", " 1 ", "n°1", "N° 1", "1)"):
        assert match(reply, CONSENT).payload == '/choix{"valeur": "oui"}', reply
    assert match("2", CONSENT).payload == '/choix{"valeur": "non"}'
    assert match("5", CONSENT) is None


def test_label_with_typos():
    assert match("oui envoyer", CONSENT).payload == '/choix{"valeur": "oui"}'
    assert match("Oui envoier", CONSENT).payload == '/choix{"valeur": "oui"}'
    assert match("je sais pas", ENJEU).payload == '/choix{"valeur": "inconnu"}'
    assert match("non pas de dates", ENJEU).payload == '/choix{"valeur": "aucun"}'


def test_unrelated_text_matches_nothing():
    assert match("j'ai perdu mon mot de passe CAF", CONSENT) is None
    assert match("bonjour", ENJEU) is None
    assert match("1", []) is None
