"""Who a remote place serves (bot/directory/areas.py): départements from codes, and AIGUILLAGE_REMOTE_AREAS."""

import logging

import pytest

from bot.directory.areas import (
    REGIONS,
    RemoteAreas,
    departement_of_insee,
    departement_of_postcode,
    place_departement,
    remote_areas,
)
from bot.directory.geo.communes import default_index
from bot.directory.geo.nearest import nearest_commune
from bot.directory.geo.reference import DATA_DIR, read_departements


@pytest.mark.parametrize("insee, dep", [("35238", "35"), ("2A004", "2A"), ("2b033", "2B"), ("97411", "974"),
                                        ("97611", "976"), ("01001", "01"), ("13211", "13"), ("", None),
                                        (None, None), ("3523", None), ("ABCDE", None)])
def test_departement_of_insee(insee, dep):
    assert departement_of_insee(insee) == dep


@pytest.mark.parametrize("postcode, dep", [("35500", "35"), ("13011", "13"), ("01000", "01"), ("20000", "2A"),
                                           ("20190", "2A"), ("20200", "2B"), ("20600", "2B"), ("97400", "974"),
                                           ("98800", "988"), ("00000", None), ("3550", None), ("", None),
                                           (None, None)])
def test_departement_of_postcode(postcode, dep):
    assert departement_of_postcode(postcode) == dep


def test_a_place_is_in_the_departement_of_its_insee_code_else_of_its_postcode():
    assert place_departement("35360", "35500") == "35"
    assert place_departement(None, "35500") == "35"
    assert place_departement("MISSING", "13011") == "13"
    # a postcode of the neighbouring département: the INSEE code wins
    assert place_departement("04019", "05110") == "04"
    assert place_departement(None, None) is None


def test_regions_cover_every_departement_once():
    departements = set(read_departements(DATA_DIR / "departements.csv"))
    listed = [dep for deps in REGIONS.values() for dep in deps]
    assert len(listed) == len(set(listed)) == 101
    # the collectivities outside any région are named by their own code
    assert departements - set(listed) == {"975", "977", "978", "986", "987", "988"}
    assert set(listed) <= departements


def test_a_remote_place_serves_its_own_departement_only():
    rule = RemoteAreas.parse("")
    assert rule.serves("vitre", "35", "35")
    assert not rule.serves("vitre", "35", "13")  # Marseille is never sent to Vitré
    assert not rule.serves("vitre", "35", None)  # nor anyone whose département is unknown
    assert not rule.serves("nowhere", None, "13")


def test_the_setting_extends_a_place_to_the_country_departements_or_regions():
    rule = RemoteAreas.parse(" allo-france = France ; allo-sud=13, 84 ;allo-ouest=Bretagne,pays-de-la-loire;"
                             "allo-corse=corse;allo-paca=Provence-Alpes-Côte d'Azur")
    assert rule.problems == ()
    assert rule.national == {"allo-france"}
    assert all(rule.serves("allo-france", "75", dep) for dep in ("13", "2A", "974", None))
    assert rule.serves("allo-sud", "13", "84") and not rule.serves("allo-sud", "13", "83")
    assert rule.serves("allo-ouest", "35", "29") and rule.serves("allo-ouest", "35", "85")
    assert not rule.serves("allo-ouest", "35", "13")
    assert rule.serves("allo-corse", "2B", "2A")
    assert rule.serves("allo-paca", "13", "06")
    assert rule.serving("84") == {"allo-france", "allo-sud", "allo-paca"}
    assert rule.serving(None) == {"allo-france"}


def test_unreadable_entries_are_reported_and_ignored(caplog):
    text = "sans-egal; =13; lieu=narnia, 13; autre=99"
    rule = RemoteAreas.parse(text)
    assert rule.problems == ("sans-egal", "=13", "lieu=narnia", "autre=99")
    assert rule.serving("13") == {"lieu"}
    remote_areas.cache_clear()
    with caplog.at_level(logging.WARNING):
        assert remote_areas(text) == rule
    assert "lieu=narnia" in caplog.text


def test_a_shared_position_is_in_the_departement_of_the_nearest_commune():
    communes = default_index()
    assert nearest_commune(communes, 43.2965, 5.3698).departement == "13"  # Marseille, Vieux-Port
    assert nearest_commune(communes, 48.1173, -1.6778).insee == "35238"  # Rennes
    assert nearest_commune(communes, -20.8789, 55.4481).departement == "974"  # Saint-Denis, La Réunion
    assert nearest_commune(communes, float("nan"), 5.0) is None
