"""A deadline's date from what people write, resolved from the day they wrote it in Europe/Paris."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.triage.deadlines import deadline_date
from bot.triage.understanding import extract_facts, facts_from_message

SUNDAY = date(2026, 12, 6)  # the usability test's day


@pytest.mark.parametrize("text, expected", [
    ("avant vendredi", date(2026, 12, 11)),
    ("je dois faire ma declaration caf avant vendredi sinon ils coupent", date(2026, 12, 11)),
    ("demain", date(2026, 12, 7)),
    ("c'est pour aujourd'hui", SUNDAY),
    ("après-demain", date(2026, 12, 8)),
    ("rdv lundi", date(2026, 12, 7)),
    ("d'ici mardi", date(2026, 12, 8)),
    ("avant dimanche", date(2026, 12, 13)),  # said on a Sunday: the next one
    ("avant le 15", date(2026, 12, 15)),
    ("le 3", date(2027, 1, 3)),  # the 3rd is past this month: next month's
    ("titre sejour fini dans 2 semaines", date(2026, 12, 20)),
    ("dans deux jours", date(2026, 12, 8)),
    ("sous 8 jours", date(2026, 12, 14)),
    ("fin du mois", date(2026, 12, 31)),
    ("avant le 15 janvier", date(2027, 1, 15)),
    ("à rendre le 15/01", date(2027, 1, 15)),
    ("convocation le 02/02/2027", date(2027, 2, 2)),
    ("mon AAH s'arrête fin juin", date(2027, 6, 30)),
    ("reçu le 2 décembre, à rendre avant le 15 janvier", date(2027, 1, 15)),  # a past date is not a deadline
])
def test_said_on_sunday_6_december(text, expected):
    assert deadline_date(text, SUNDAY) == expected


@pytest.mark.parametrize("text", ["il fait beau", "j'ai 3 enfants", "reçu le 2 décembre", ""])
def test_no_date_said(text):
    assert deadline_date(text, SUNDAY) is None


def test_across_a_month_end_and_a_year_end():
    assert deadline_date("demain", date(2026, 11, 30)) == date(2026, 12, 1)
    assert deadline_date("demain", date(2026, 12, 31)) == date(2027, 1, 1)
    assert deadline_date("avant vendredi", date(2026, 12, 29)) == date(2027, 1, 1)
    assert deadline_date("dans 2 semaines", date(2026, 12, 25)) == date(2027, 1, 8)
    assert deadline_date("fin du mois", date(2027, 2, 10)) == date(2027, 2, 28)
    assert deadline_date("le 31", date(2026, 11, 5)) == date(2026, 12, 31)  # November has no 31st


def test_relative_dates_are_resolved_in_paris_not_utc():
    # 23:30 UTC on Sunday is 00:30 on Monday in Paris: "demain" is Tuesday.
    assert deadline_date("demain", datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)) == date(2026, 12, 8)
    assert deadline_date("demain", datetime(2026, 12, 6, 22, 59, tzinfo=timezone.utc)) == date(2026, 12, 7)
    # Summer time: UTC+2, so 22:30 UTC is already the next day.
    assert deadline_date("lundi", datetime(2026, 7, 5, 22, 30, tzinfo=timezone.utc)) == date(2026, 7, 13)
    assert deadline_date("lundi", datetime(2026, 7, 5, 21, 30, tzinfo=timezone.utc)) == date(2026, 7, 6)


def test_the_deadline_is_kept_as_a_fact_only_with_a_deadline_stake():
    facts = extract_facts("la caf va couper mon rsa, la declaration trimestrielle est a faire avant vendredi",
                          said_at=SUNDAY)
    assert facts["echeance"] == "2026-12-11" and "delai" in facts["enjeux"]
    assert "echeance" not in extract_facts("il fait beau aujourd'hui", said_at=SUNDAY)
    assert "echeance" not in extract_facts("pas urgent, avant vendredi ou plus tard", said_at=SUNDAY)
    # the bare answer to the deadline question
    assert facts_from_message("demain", answering="enjeu", said_at=SUNDAY)["echeance"] == "2026-12-07"
