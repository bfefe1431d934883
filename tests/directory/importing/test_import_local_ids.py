"""Ids are local to their producer (the standard says so): two regional exports both number their places
1, 2, 3… Importing the second must not overwrite the first's places (a real case: the Charente's France
Services bus and the Nouvelle-Calédonie's export, both from the national map)."""

from __future__ import annotations

import csv

import pytest

from bot.directory.importing.importer import import_places, source_id
from bot.directory.models import Place
from bot.ops.cli.database import DEMO_FILE
from tests.directory.stored import count, places


def demo_rows() -> list[dict]:
    with open(DEMO_FILE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def two_exports(tmp_path):
    """Two producers' files, each numbering its three places 1, 2, 3."""
    rows = demo_rows()
    first = [{**row, "id": str(n)} for n, row in enumerate(rows[:3], start=1)]
    second = [{**row, "id": str(n)} for n, row in enumerate(rows[3:6], start=1)]
    return write(tmp_path / "bus.csv", first), write(tmp_path / "hub.csv", second), first, second


def test_a_second_sources_places_with_the_same_ids_are_kept_beside_the_first(factory, two_exports):
    bus, hub, first, second = two_exports
    assert import_places(factory, bus, import_source="bus-charente").created == 3
    report = import_places(factory, hub, import_source="Hub du Sud")
    assert report.created == 3 and count(factory) == 6
    stored = places(factory)
    assert stored["1"].nom == first[0]["nom"]  # the first source's place is untouched
    assert stored["hub-du-sud-1"].nom == second[0]["nom"]
    assert stored["hub-du-sud-1"].import_source == "Hub du Sud"
    warning = report.warnings["id_autre_source"]
    assert warning.count == 3
    assert warning.examples[0].message == (
        f"id « 1 » : déjà celui de « {first[0]['nom']} », d'une autre source (les identifiants sont propres à "
        "chaque producteur) : enregistré sous « hub-du-sud-1 »")


def test_each_source_finds_its_own_places_again_and_withdraws_only_its_own(factory, two_exports, tmp_path):
    bus, hub, first, second = two_exports
    import_places(factory, bus, import_source="bus-charente")
    import_places(factory, hub, import_source="Hub du Sud")
    again = import_places(factory, hub, import_source="Hub du Sud", replace=True)
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, 3, 0)
    assert "id_autre_source" in again.warnings  # still said: the file's ids are not the stored ones

    fewer = import_places(factory, write(tmp_path / "hub-2.csv", second[:2]), import_source="Hub du Sud",
                          replace=True)
    assert fewer.withdrawn == 1
    with factory() as session:
        assert session.get(Place, "hub-du-sud-3").withdrawn_at is not None
        assert session.get(Place, "3").withdrawn_at is None  # the bus's place 3


def test_the_same_place_under_the_same_id_moves_to_the_new_source(factory, two_exports):
    bus, _, first, _ = two_exports
    import_places(factory, bus, import_source="ancien-hub")
    report = import_places(factory, bus, import_source="nouveau-hub")
    assert count(factory) == 3 and report.updated == 3
    assert {p.import_source for p in places(factory).values()} == {"nouveau-hub"}


def test_without_a_source_a_place_replaced_under_another_name_is_said(factory, two_exports):
    bus, hub, first, second = two_exports
    import_places(factory, bus)
    report = import_places(factory, hub)
    assert count(factory) == 3 and report.updated == 3  # nothing tells two producers apart without --source
    assert report.warnings["id_repris"].examples[0].message == (
        f"id « 1 » : remplace « {first[0]['nom']} », enregistré sous cet id ; si les fichiers viennent de "
        "producteurs différents, importez chacun avec --source NOM")


def test_a_source_name_becomes_a_plain_prefix():
    assert source_id("Hub du Sud", "42") == "hub-du-sud-42"
    assert source_id("Nouvelle Calédonie !", "7") == "nouvelle-caledonie-7"
    assert source_id("***", "7") == "source-7"
