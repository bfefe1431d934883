"""Codes stored as strings (statuses, outcomes, actions, channels, delay bands): one enum per set, defined
next to the code that owns it, each member with the French label the pages show."""

from __future__ import annotations

import pytest

from bot import referrals, stats
from bot.codes import Channel, LabelledCode
from bot.referrals import Outcome, Status

ENUMS = (Channel, Status, Outcome, stats.DelayBand)


@pytest.mark.parametrize("codes", ENUMS, ids=lambda e: e.__name__)
def test_every_code_has_its_own_french_label(codes):
    labels = [member.label for member in codes]
    assert all(isinstance(label, str) and label.strip() for label in labels)
    assert len(set(labels)) == len(labels)


def test_every_labelled_code_set_is_checked_here():
    assert set(LabelledCode.__subclasses__()) <= set(ENUMS)


@pytest.mark.parametrize("codes", ENUMS, ids=lambda e: e.__name__)
def test_a_member_is_its_stored_string(codes):
    for member in codes:
        assert member == member.value and type(member.value) is str
        assert codes(member.value) is member and codes.label_of(member.value) == member.label
    assert codes.label_of("code_inconnu") == "code_inconnu" and codes.label_of(None) == ""


def test_the_stored_constants_stay_plain_strings():
    constants = (*referrals.STATUSES, *referrals.OUTCOMES, referrals.OUTCOME_WITHDRAWN,
                 *(band for _, band in stats.DELAY_BANDS))
    assert all(type(code) is str for code in constants)
    assert referrals.STATUSES == ("ouverte", "prise_en_charge", "cloturee")
    assert referrals.OUTCOMES == ("fait", "reoriente", "injoignable") and referrals.OUTCOME_WITHDRAWN == "retiree"
    assert [band for _, band in stats.DELAY_BANDS] == ["moins_1h", "1h_4h", "4h_24h", "1j_3j", "3j_7j", "plus_7j"]
