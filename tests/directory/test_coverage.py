"""What the directory covers (bot/directory/coverage.py): the figures `aiguillage etat-lieux` prints."""

from __future__ import annotations

from datetime import date, datetime

from bot.directory.coverage import measure
from bot.directory.models import Place

TODAY = date(2026, 12, 6)


def place(pid, **kw):
    values = dict(id=pid, nom=pid, commune="Rennes", code_postal="35000", code_insee="35238",
                  latitude=48.11, longitude=-1.68, date_maj=date(2026, 6, 1))
    values.update(kw)
    return Place(**values)


def stored(factory, *places):
    with factory() as session:
        session.add_all(places)
        session.commit()


def test_an_empty_directory_counts_nothing(factory):
    with factory() as session:
        coverage = measure(session, TODAY, months=12)
    assert coverage.as_json() == {"lieux": 0, "sans_position": 0, "position_commune": 0, "perimes": 0,
                                  "par_departement": {}}


def test_each_figure_counts_the_places_it_names(factory):
    stored(factory,
           place("exact"),
           place("commune-centre", position_approx=True, commune="Marseille", code_postal="13011",
                 code_insee="13211", latitude=43.29, longitude=5.48),
           place("no-position", latitude=None, longitude=None),
           place("old", date_maj=date(2024, 1, 10)),
           place("undated", date_maj=None),
           place("withdrawn", withdrawn_at=datetime(2026, 11, 1)))
    with factory() as session:
        coverage = measure(session, TODAY, months=12)
    assert coverage.as_json() == {
        "lieux": 5,  # the withdrawn place is no longer proposed
        "sans_position": 1,
        "position_commune": 1,
        "perimes": 2,  # an old date, and no date at all
        "par_departement": {"13": 1, "35": 4},
    }
    assert coverage.withdrawn == 1


def test_staleness_follows_the_months_given(factory):
    stored(factory, place("a-year-ago-today", date_maj=date(2025, 12, 6)),
           place("a-year-and-a-day", date_maj=date(2025, 12, 5)))
    with factory() as session:
        assert measure(session, TODAY, months=12).stale == 1
        assert measure(session, TODAY, months=24).stale == 0
        assert measure(session, TODAY, months=1).stale == 2


def test_staleness_defaults_to_the_setting(factory, monkeypatch):
    stored(factory, place("eight-months", date_maj=date(2026, 4, 1)))
    with factory() as session:
        assert measure(session, TODAY).stale == 0
        monkeypatch.setenv("AIGUILLAGE_STALE_AFTER_MONTHS", "6")
        assert measure(session, TODAY).stale == 1


def test_a_departement_comes_from_the_codes_then_the_position_else_unknown(factory):
    stored(factory,
           place("insee", code_insee="2A004", code_postal="20000", commune="Ajaccio"),
           place("postcode-only", code_insee=None, code_postal="97400", commune="Saint-Denis"),
           place("position-only", code_insee=None, code_postal=None, latitude=43.3, longitude=5.4),
           place("nothing", code_insee=None, code_postal=None, latitude=None, longitude=None))
    seen = []

    def departement_at(latitude, longitude):
        seen.append((latitude, longitude))
        return "13"

    with factory() as session:
        coverage = measure(session, TODAY, months=12, departement_at=departement_at)
    assert seen == [(43.3, 5.4)]  # asked only for the place that has no codes
    # Ordered as départements are listed: 2A after 19, overseas after 95, the unknown last.
    assert list(coverage.by_departement.items()) == [("13", 1), ("2A", 1), ("974", 1), ("inconnu", 1)]
