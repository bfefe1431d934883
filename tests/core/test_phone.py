"""Phone numbers, one module for every channel and the directory (bot/core/phone.py)."""

from __future__ import annotations

import pytest

from bot.core.phone import can_receive_sms, national, to_e164


@pytest.mark.parametrize("raw, region, expected", [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "FR", "+33612345678"),
    ("0262 20 00 00", "RE", "+262262200000"),  # La Réunion, read in its own region
    (" 02.99.00.00.00 ", "FR", "+33299000000"),
    ("0612", "FR", None),
    ("pas un numéro", "FR", None),
    ("", "FR", None),
])
def test_numbers_are_stored_in_e164_or_refused(raw, region, expected):
    assert to_e164(raw, region) == expected


def test_only_mobiles_can_receive_an_sms():
    assert can_receive_sms("+33612345678") and can_receive_sms("+33756123456")
    assert not can_receive_sms("+33299000000")


def test_numbers_are_shown_in_the_national_form():
    assert national("+33299000000") == "02 99 00 00 00"
    assert national("") == "" and national(None) == ""
    assert national("accueil") == "accueil"  # not a number: shown as given
