"""Numbers as a caller hears them (bot/channels/voice/speech.py) and the TwiML they are said in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from bot.channels.voice import speech
from bot.channels.voice.twiml import Ask, Dial, Hangup, Say, Script, render


@pytest.mark.parametrize("n, words", [
    (0, "zéro"), (1, "un"), (16, "seize"), (17, "dix-sept"), (21, "vingt et un"), (61, "soixante et un"),
    (70, "soixante-dix"), (71, "soixante et onze"), (77, "soixante-dix-sept"), (80, "quatre-vingts"),
    (81, "quatre-vingt-un"), (91, "quatre-vingt-onze"), (99, "quatre-vingt-dix-neuf"), (100, "cent"),
    (112, "cent douze"), (200, "deux cents"), (280, "deux cent quatre-vingts"), (1000, "mille"),
    (2024, "deux mille vingt-quatre"), (80000, "quatre-vingt mille"),
])
def test_numbers_in_words(n, words):
    assert speech.number(n) == words


def test_a_postcode_is_read_as_people_say_it():
    assert speech.postcode("35000") == "trente-cinq, zéro zéro zéro"
    assert speech.postcode("75011") == "soixante-quinze, zéro un un"
    assert speech.postcode("01000") == "zéro un, zéro zéro zéro"


def test_a_phone_number_is_read_by_pairs_and_short_numbers_as_on_posters():
    assert speech.phone("02 61 91 00 01") == "zéro deux, soixante et un, quatre-vingt-onze, zéro zéro, zéro un"
    assert speech.phone("3919") == "trente-neuf, dix-neuf"
    assert speech.phone("112") == "cent douze"
    assert speech.phone("15") == "quinze"
    assert speech.phone("") == ""


def test_hours_and_addresses():
    assert speech.hour(datetime(2026, 12, 7, 9)) == "neuf heures"
    assert speech.hour(datetime(2026, 12, 7, 13, 30)) == "treize heures trente"
    assert speech.hour(datetime(2026, 12, 7, 1)) == "une heure"
    assert speech.hour(datetime(2026, 12, 7, 21)) == "vingt et une heures"
    assert speech.hour(datetime(2026, 12, 7, 12)) == "midi"
    assert speech.in_words("12 rue de l'Alma") == "douze rue de l'Alma"
    assert speech.code("AB-12") == "A, B, un, deux"


@pytest.mark.parametrize("written, said", [
    ("12 bd de la Liberté", "douze boulevard de la Liberté"),
    ("3 bis av. Jean Jaurès", "trois bis avenue Jean Jaurès"),
    ("5 r. St Georges", "cinq rue Saint Georges"),
    ("Rés. Les Pins, bât. B", "résidence Les Pins, bâtiment B"),
    ("Bâtiment R rue Haute", "Bâtiment R rue Haute"),  # a lone letter stays a letter
    ("12 rue de l'Alma", "douze rue de l'Alma"),
])
def test_a_street_is_said_in_full(written, said):
    assert speech.street(written) == said


def test_twiml_is_built_by_the_twilio_package_and_is_xml():
    script = Script().say("Bonjour").pause(1)
    script.add(Ask((Say("Tapez un"),), "https://x.fr/webhooks/voice/webhook?n=1", num_digits=5))
    root = ET.fromstring(render(script))
    assert root.tag == "Response"
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "fr-FR"
    assert gather.get("numDigits") == "5" and gather.get("actionOnEmptyResult") == "true"
    assert gather.find("Say").text == "Tapez un" and gather.find("Say").get("language") == "fr-FR"
    assert ET.fromstring(render(Script().add(Dial("+33299111111", "https://x.fr/w?n=1")))).find("Dial").text \
        == "+33299111111"
    assert ET.fromstring(render(Script().add(Hangup()))).find("Hangup") is not None
    # A text with XML's special characters stays text.
    assert ET.fromstring(render(Script().say("L'accueil <CAF> & co"))).find("Say").text == "L'accueil <CAF> & co"
