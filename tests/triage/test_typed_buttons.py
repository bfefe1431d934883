"""A button's title typed as text is that button (bot/triage/typed_buttons.py)."""

from __future__ import annotations

import pytest

from bot.core import messages
from bot.core.messages import Catalogue
from bot.triage.typed_buttons import Pressed, button_typed


def test_every_title_of_several_words_leads_where_its_button_does():
    catalogue = messages.catalogue()
    buttons = {(b["title"], b["payload"]) for key in catalogue.keys() for b in catalogue.buttons(key)}
    shared = {t for t, p in buttons if any(t2 == t and p2 != p for t2, p2 in buttons)}
    checked = 0
    for title, payload in buttons:
        if len(title.split()) > 1 and title not in shared:
            pressed = button_typed(title)
            assert pressed is not None, title
            assert payload.startswith(f"/{pressed.intent}")
            assert all(f'"{name}": "{value}"' in payload for name, value in pressed.entities.items())
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("typed", ["Chercher plus loin", "chercher plus loin !", "CHERCHER PLUS LOIN",
                                   "  Chercher   plus loin."])
def test_case_accents_spaces_and_punctuation_aside(typed):
    assert button_typed(typed) == Pressed("choix", {"valeur": "plus_loin"})


def test_a_button_without_values_gives_its_intent():
    assert button_typed("Parler à quelqu'un") == Pressed("parler_humain", {})


@pytest.mark.parametrize("typed", ["Non", "oui", "plus loin", "bonjour", "", "je veux chercher plus loin un lieu"])
def test_one_word_titles_pieces_of_titles_and_other_text_are_left_to_the_model(typed):
    assert button_typed(typed) is None


def test_a_title_two_buttons_share_with_different_payloads_is_left_to_the_model():
    catalogue = Catalogue({
        "utter_a": [{"text": "?", "buttons": [{"title": "Plus tard", "payload": '/choix{"valeur": "tard"}'}]}],
        "utter_b": [{"text": "?", "buttons": [{"title": "plus tard", "payload": "/au_revoir"},
                                              {"title": "Une ligne d'aide", "payload": '/choix{"valeur": "ligne"}'}]}],
    })
    assert button_typed("Plus tard", catalogue) is None
    assert button_typed("une ligne d'aide", catalogue) == Pressed("choix", {"valeur": "ligne"})
