"""Codes stored as strings (statuses, outcomes, actions, channels, kinds, delivery states, delay bands): one enum
per set, defined next to the code that owns it, each member with the French label the pages show."""

from __future__ import annotations

import pytest

from bot.channels import helpline_webhook
from bot.console.service import ACTIONS, STATE_ACTIONS
from bot.core.codes import CallbackReason, Channel, DeliveryState, LabelledCode
from bot.handoff import followup, helpline, recap_labels, referrals, stats, takeover
from bot.handoff.journal import Action
from bot.handoff.notifications import config as notify_config
from bot.handoff.notifications import outbox
from bot.handoff.referrals import Outcome, Status
from connectors.desk import DeskInput
from connectors.helpline import HelplineInput
from connectors.sms import SmsInput
from connectors.telegram import TelegramInput
from connectors.voice import VoiceInput

ENUMS = (Channel, DeliveryState, Status, Outcome, Action, takeover.Sender, takeover.MessageState, followup.Kind,
         notify_config.Kind, CallbackReason, stats.DelayBand, recap_labels.Body, recap_labels.Procedure,
         recap_labels.Stake, recap_labels.Equipment, recap_labels.Wish, recap_labels.Difficulty, recap_labels.Topic,
         recap_labels.Referrer, recap_labels.Flag, recap_labels.DeskContact,
         recap_labels.Device)


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
    constants = (*referrals.STATUSES, *referrals.OUTCOMES, referrals.OUTCOME_WITHDRAWN, *ACTIONS, *STATE_ACTIONS,
                 *(band for _, band in stats.DELAY_BANDS), *followup.CHANNELS, *followup.KINDS, *followup.STATUSES,
                 *outbox.STATUSES, *notify_config.KINDS, *helpline_webhook.REASONS, helpline.REASON_ASKED,
                 takeover.FROM_PERSON, takeover.FROM_MEDIATOR, takeover.FROM_SYSTEM, takeover.SENT, takeover.FAILED,
                 takeover.TO_SEND, takeover.RECEIVED)
    assert all(type(code) is str for code in constants)
    assert referrals.STATUSES == ("ouverte", "prise_en_charge", "cloturee")
    assert referrals.OUTCOMES == ("fait", "reoriente", "injoignable") and referrals.OUTCOME_WITHDRAWN == "retiree"
    assert [band for _, band in stats.DELAY_BANDS] == ["moins_1h", "1h_4h", "4h_24h", "1j_3j", "3j_7j", "plus_7j"]
    assert ACTIONS == ("consultation", "prise_en_charge", "note", "reassignation", "cloture", "connexion",
                       "deconnexion", "direct_debut", "direct_fin", "rappel_fait")


def test_codes_written_elsewhere_are_members_of_their_set():
    assert set(outbox.STATUSES) <= set(DeliveryState.codes())
    assert set(followup.CHANNELS) <= set(Channel.codes())


def test_every_channel_that_hands_over_a_referral_has_a_label():
    assert {c.name() for c in (DeskInput, SmsInput, TelegramInput, HelplineInput, VoiceInput)} == set(Channel.codes())
