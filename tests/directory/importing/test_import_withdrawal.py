"""`import-lieux --source NAME --remplacer`: a source's new file withdraws the places it no longer lists.

A coordinator reloads the hub's export each month; a place that closed disappears from it. It must stop
being proposed, yet stay for the referrals already made to it.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest

from bot.console.service import other_places
from bot.directory.importing.importer import ImportFileError, import_places
from bot.directory.index import DirectoryIndex
from bot.directory.models import Place
from bot.directory.search import Need, find_places
from bot.ops.cli.database import DEMO_FILE
from bot.ops.cli.parser import build_parser

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
RENNES = (48.1105, -1.6800)


def demo_rows() -> list[dict]:
    with open(DEMO_FILE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(demo_rows()[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def rows():
    """Four in-person places of Rennes that take people for administrative procedures."""
    everything = [r for r in demo_rows() if r["commune"] == "Rennes" and "Aide aux démarches" in r["services"]
                  and "Accompagnement individuel" in r["modalites_accompagnement"]]
    assert len(everything) >= 4
    return everything[:4]


def proposed_ids(factory) -> set:
    with factory() as session:
        index = {row.id for row in DirectoryIndex.load(session).rows}
        found = find_places(session, *RENNES, Need("urgence"), radius_km=30, now=NOW, limit=50)
    return index, {m.place.id for m in found.matches}


def test_a_place_gone_from_the_sources_new_file_is_withdrawn_and_kept(tmp_path, factory, rows):
    first = import_places(factory, write(tmp_path / "mai.csv", rows), import_source="hub", replace=True, now=NOW)
    assert (first.created, first.withdrawn) == (4, 0)

    closed = rows[1]["id"]
    rows[0]["telephone"] = "+33299000000"
    report = import_places(factory, write(tmp_path / "juin.csv", [rows[0], rows[2], rows[3]]), import_source="hub",
                           replace=True, now=NOW)
    assert (report.created, report.updated, report.unchanged, report.withdrawn) == (0, 1, 2, 1)
    assert any("1 lieu(x) de la source « hub » absent(s) du nouveau fichier" in line
               for line in report.summary_lines())

    with factory() as session:
        place = session.get(Place, closed)
        assert place is not None and place.nom == rows[1]["nom"]  # still there for past referrals
        assert place.withdrawn_at is not None
    index, found = proposed_ids(factory)
    assert closed not in index and closed not in found
    assert {rows[0]["id"], rows[2]["id"]} <= found


def test_the_same_file_again_changes_nothing(tmp_path, factory, rows):
    path = write(tmp_path / "mai.csv", rows)
    import_places(factory, path, import_source="hub", replace=True, now=NOW)
    again = import_places(factory, path, import_source="hub", replace=True, now=NOW)
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, 4, 0)


def test_another_sources_places_are_left_alone(tmp_path, factory, rows):
    import_places(factory, write(tmp_path / "hub.csv", rows[:2]), import_source="hub", now=NOW)
    import_places(factory, write(tmp_path / "mairie.csv", rows[2:]), import_source="mairie", now=NOW)
    report = import_places(factory, write(tmp_path / "hub2.csv", rows[:1]), import_source="hub", replace=True,
                           now=NOW)
    assert report.withdrawn == 1
    index, _ = proposed_ids(factory)
    assert index >= {rows[0]["id"], rows[2]["id"], rows[3]["id"]} and rows[1]["id"] not in index


def test_without_remplacer_nothing_is_withdrawn(tmp_path, factory, rows):
    import_places(factory, write(tmp_path / "mai.csv", rows), import_source="hub", now=NOW)
    report = import_places(factory, write(tmp_path / "juin.csv", rows[:1]), import_source="hub", now=NOW)
    assert report.withdrawn is None
    assert not any("retiré" in line for line in report.summary_lines())
    index, _ = proposed_ids(factory)
    assert {r["id"] for r in rows} <= index


def test_a_place_still_listed_but_rejected_this_time_is_not_withdrawn(tmp_path, factory, rows):
    import_places(factory, write(tmp_path / "mai.csv", rows), import_source="hub", now=NOW)
    broken = dict(rows[1], nom="")  # no name: rejected, yet the file still lists this id
    report = import_places(factory, write(tmp_path / "juin.csv", [rows[0], broken, rows[2], rows[3]]),
                           import_source="hub", replace=True, now=NOW)
    assert report.rejected == 1 and report.withdrawn == 0
    index, _ = proposed_ids(factory)
    assert rows[1]["id"] in index


def test_a_file_with_no_usable_place_withdraws_nothing(tmp_path, factory, rows):
    import_places(factory, write(tmp_path / "mai.csv", rows), import_source="hub", now=NOW)
    nameless = [dict(r, id=f"autre-{i}", nom="") for i, r in enumerate(rows)]
    report = import_places(factory, write(tmp_path / "vide.csv", nameless), import_source="hub", replace=True,
                           now=NOW)
    assert report.imported == 0 and report.withdrawn == 0
    assert any("n'a été retiré" in line and "pas le bon fichier" in line for line in report.summary_lines())
    index, _ = proposed_ids(factory)
    assert {r["id"] for r in rows} <= index


def test_a_withdrawn_place_back_in_a_later_file_is_proposed_again(tmp_path, factory, rows):
    path = write(tmp_path / "mai.csv", rows)
    import_places(factory, path, import_source="hub", now=NOW)
    import_places(factory, write(tmp_path / "juin.csv", rows[1:]), import_source="hub", replace=True, now=NOW)
    assert rows[0]["id"] not in proposed_ids(factory)[0]
    back = import_places(factory, path, import_source="hub", replace=True, now=NOW)
    assert (back.updated, back.withdrawn) == (1, 0)
    index, found = proposed_ids(factory)
    assert rows[0]["id"] in index and rows[0]["id"] in found


def test_a_withdrawn_place_is_not_offered_for_handing_a_referral_over(tmp_path, factory, rows):
    import_places(factory, write(tmp_path / "mai.csv", rows), import_source="hub", now=NOW)
    import_places(factory, write(tmp_path / "juin.csv", rows[1:]), import_source="hub", replace=True, now=NOW)

    class Referral:
        place_id = rows[1]["id"]
        facts = {}

    with factory() as session:
        offered = {place.id for place in other_places(session, None, Referral())}
    assert rows[0]["id"] not in offered and rows[2]["id"] in offered


def test_remplacer_without_a_source_is_refused_before_anything_is_written(tmp_path, factory, rows):
    with pytest.raises(ImportFileError, match="--remplacer demande --source"):
        import_places(factory, write(tmp_path / "mai.csv", rows), replace=True, now=NOW)
    with factory() as session:
        assert session.query(Place).count() == 0


def test_the_command_takes_source_and_remplacer(tmp_path, monkeypatch, capsys, rows):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    parser = build_parser()
    first = write(tmp_path / "mai.csv", rows)
    args = parser.parse_args(["import-lieux", str(first), "--source", "hub", "--remplacer"])
    assert args.func(args) == 0
    second = write(tmp_path / "juin.csv", rows[:3])
    args = parser.parse_args(["import-lieux", str(second), "--source", "hub", "--remplacer"])
    assert args.func(args) == 0
    assert "1 lieu(x) de la source « hub » absent(s)" in capsys.readouterr().out
    args = parser.parse_args(["import-lieux", str(second), "--remplacer"])
    assert args.func(args) == 2
    assert "--remplacer demande --source NOM" in capsys.readouterr().err
