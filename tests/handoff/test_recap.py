"""The mediator's recap in words (bot/handoff/recap.py): labels, deadline, flags, who referred."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.directory.hours import format_day
from bot.handoff import recap_labels
from bot.handoff.recap import recap, referrer
from bot.triage.understanding import DEVICE_PATTERNS, ORGANISATIONS, PROCEDURES, extract_facts
from tests.recap_support import MADE_AT, SITUATIONS, raw_codes


def everything(told) -> str:
    return "\n".join(told.text_lines() + list(told.flags) + [told.referrer, told.level, told.place or ""])


@pytest.mark.parametrize("name", sorted(SITUATIONS))
def test_every_situation_reads_in_words_without_a_code(name):
    level, channel, facts = SITUATIONS[name]
    told = recap(facts, level, channel, MADE_AT, "France Services Colombier", now=MADE_AT)
    assert told.lines and told.level and told.referrer
    assert raw_codes(everything(told)) == []


def test_the_caf_scenario():
    level, channel, facts = SITUATIONS["caf_desk"]
    told = recap(facts, level, channel, MADE_AT, "France Services Colombier", now=MADE_AT)
    assert told.line("organisme") == "Caisse d'allocations familiales (CAF)"
    assert told.line("demarche") == "la déclaration trimestrielle de ressources"
    assert told.line("enjeu") == "Le RSA sera suspendu si la déclaration n'est pas faite."
    assert told.line("echeance") == "avant le vendredi 11 décembre"
    assert told.deadline == date(2026, 12, 11) and told.days_left == 5 and not told.deadline_soon
    assert told.line("equipement").startswith("Pas d'appareil")
    assert told.line("souhait").startswith("Faire pour ou faire avec")
    assert told.referrer == "Accueil mairie de Fougères" and told.place == "France Services Colombier"
    assert told.level == "Urgence numérique"


def test_a_deadline_within_two_days_or_past_stands_out():
    _, _, facts = SITUATIONS["caf_desk"]
    on = lambda day: recap(facts, "urgence", "desk", MADE_AT, now=datetime(2026, 12, day, 12, tzinfo=timezone.utc))  # noqa: E731
    assert [on(day).days_left for day in (8, 9, 11, 12)] == [3, 2, 0, -1]
    assert [on(day).deadline_soon for day in (8, 9, 11, 12)] == [False, True, True, True]


def test_a_deadline_said_then_corrected_is_not_shown():
    facts = dict(SITUATIONS["caf_desk"][2], enjeu="aucun", enjeux=[])
    told = recap(facts, "inclusion", "desk", MADE_AT, now=MADE_AT)
    assert told.deadline is None and told.line("echeance") is None


def test_dates_read_in_french_with_the_year_only_when_it_changes():
    assert format_day(date(2026, 12, 11), date(2026, 12, 6)) == "vendredi 11 décembre"
    assert format_day(date(2027, 1, 1), date(2026, 12, 6)) == "vendredi 1er janvier 2027"


def test_sensitive_context_is_flagged_without_details():
    flags = {name: recap(facts, level, channel, MADE_AT).flags for name, (level, channel, facts) in SITUATIONS.items()}
    assert recap_labels.Flag.VITAL_EMERGENCY.label in flags["after_115_desk"]
    assert recap_labels.Flag.SAFETY_DANGER.label in flags["after_115_desk"]
    assert recap_labels.Flag.LANGUAGE.label in flags["prefecture_sms"]
    assert recap_labels.Flag.WRITTEN_BY_RELATIVE.label in flags["neighbour_telegram"]
    assert {recap_labels.Flag.WRITTEN_BY_PROFESSIONAL.label, recap_labels.Flag.READING.label,
            recap_labels.Flag.SAFETY_CHECKED.label} <= set(flags["learning_helpline"])
    assert flags["caf_desk"] == ()


def test_who_referred():
    assert referrer("desk", {"accueil": "Accueil mairie de Fougères"}) == "Accueil mairie de Fougères"
    assert referrer("desk", {}) == recap_labels.Referrer.DESK.label
    assert referrer("sms", {"accueil": "ignored"}) == "La personne elle-même, par SMS"
    assert referrer("helpline") == "La ligne d'aide téléphonique"


def test_every_code_of_the_lexicon_has_a_label():
    """A new body or procedure in the lexicon without its words here would be left out of the recap."""
    assert {code for code, _, _ in ORGANISATIONS} <= set(recap_labels.Body.codes())
    assert {code for code, _ in PROCEDURES} <= set(recap_labels.Procedure.codes())


def test_an_unknown_code_is_left_out_never_shown_raw():
    told = recap({"organisme": "nouvel_organisme", "demarche": "nouvelle_demarche", "equipement": "casque_vr"},
                 "urgence", "nouveau_canal", MADE_AT)
    assert told.lines == () and raw_codes(everything(told)) == []


def test_from_a_message_to_the_recap():
    facts = extract_facts("ma mere ne parle pas bien le francais, la caf va couper son rsa si la declaration "
                          "trimestrielle n'est pas faite avant vendredi, elle a pas d'ordi", said_at=date(2026, 12, 6))
    told = recap(facts, "urgence", "desk", MADE_AT, now=MADE_AT)
    assert told.line("echeance") == "avant le vendredi 11 décembre"
    assert recap_labels.Flag.LANGUAGE.label in told.flags and recap_labels.Flag.WRITTEN_BY_RELATIVE.label in told.flags
    assert raw_codes(everything(told)) == []


def test_the_device_the_person_named_reaches_the_mediator_in_words():
    facts = extract_facts("je voudrais apprendre a faire des appels video sur ma tablette")
    told = recap(facts, "montee_en_competence", "desk", MADE_AT, now=MADE_AT)
    assert told.line("appareil") == "Une tablette"
    assert {code for code, _ in DEVICE_PATTERNS} <= set(recap_labels.Device.codes())
