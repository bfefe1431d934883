"""In-memory search index: same answers as a plain full scan, and rebuilt when the directory changes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bench.national import PopulationSampler, generate_directory
from bench.search_bench import make_queries, naive_find_places
from bot.core.db import Base, make_engine, session_factory, session_scope, upgrade
from bot.core.moments import PARIS
from bot.directory import index as index_module
from bot.directory.areas import RemoteAreas, place_departement
from bot.directory.geo.communes import default_index
from bot.directory.importing.importer import import_places
from bot.directory.models import Place
from bot.directory.search import Need, find_places, find_remote

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=PARIS)  # a Tuesday morning, as in the bench
PLACES = 400
DENSE = {"75", "92", "93", "94", "35"}  # Paris and its inner suburbs, Ille-et-Vilaine


@pytest.fixture(scope="module")
def sampler():
    # A few hundred places over a few départements: dense enough that searches find several.
    return PopulationSampler([c for c in default_index() if c.departement in DENSE])


@pytest.fixture(scope="module")
def directory(tmp_path_factory, sampler):
    return generate_directory(tmp_path_factory.mktemp("directory") / "lieux.csv", PLACES, seed=3, sampler=sampler)


@pytest.fixture()
def database(tmp_path, directory):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    assert import_places(factory, directory.path).errors == []
    return url, factory


def summary(matches):
    return [(m.place.id, m.distance_km, round(m.score, 9), m.open_now, m.next_opening, m.hours_stale)
            for m in matches]


def search(factory, latitude, longitude, level="urgence", needs=(), **kw):
    kw.setdefault("now", NOW)
    with session_scope(factory) as session:
        result = find_places(session, latitude, longitude, Need(level, frozenset(needs)), **kw)
        return [m.place.id for m in result.matches], [m.place.id for m in result.remote]


def test_same_answers_as_a_full_scan(database, sampler):
    _, factory = database
    queries = make_queries(40, seed=5, sampler=sampler, specific_share=0.3)
    found = 0
    with session_scope(factory) as session:
        for q in queries:
            for radius, limit in ((15.0, 3), (3.0, 3), (40.0, 10)):
                kw = dict(radius_km=radius, now=NOW, limit=limit, departement=q.departement)
                fast = find_places(session, q.latitude, q.longitude, q.need, **kw)
                plain = naive_find_places(session, q.latitude, q.longitude, q.need, **kw)
                assert summary(fast.matches) == summary(plain.matches), (q, radius, limit)
                assert summary(fast.remote) == summary(plain.remote), (q, radius, limit)
                assert all(isinstance(m.place, Place) for m in fast.matches + fast.remote)
                found += len(fast.matches)
    assert found > 150  # many places compared, not only empty lists


def test_specific_needs_are_all_met(database, sampler):
    _, factory = database
    needs = {"Surdité", "Langues étrangères"}
    with session_scope(factory) as session:
        for q in make_queries(30, seed=9, sampler=sampler, specific_share=0.0):
            result = find_places(session, q.latitude, q.longitude, Need(q.need.level, frozenset(needs)),
                                 radius_km=40.0, now=NOW, limit=10, departement=q.departement)
            for m in result.matches + result.remote:
                offered = m.place.prise_en_charge_list
                assert "Surdité" in offered and any(v.startswith("Langues étrangères (") for v in offered)
            plain = naive_find_places(session, q.latitude, q.longitude, Need(q.need.level, frozenset(needs)),
                                      radius_km=40.0, now=NOW, limit=10, departement=q.departement)
            assert summary(result.matches) == summary(plain.matches)


def test_remote_list(database, sampler):
    _, factory = database
    found = 0
    with session_scope(factory) as session:
        for q in make_queries(30, seed=13, sampler=sampler, specific_share=0.3):
            remote = find_remote(session, q.need, latitude=q.latitude, longitude=q.longitude,
                                 departement=q.departement, now=NOW, limit=3)
            # find_remote shows what the search would with nothing listed in person
            plain = naive_find_places(session, q.latitude, q.longitude, q.need, radius_km=0.0, now=NOW, limit=3,
                                      departement=q.departement)
            assert summary(remote) == summary(plain.remote)
            assert all("À distance" in m.place.modalites_accompagnement_list for m in remote)
            # only the remote places of the person's département
            assert all(place_departement(m.place.code_insee, m.place.code_postal) == q.departement for m in remote)
            found += len(remote)
        assert found > 30
        # Without a location, whatever the département: the places serving the whole country, by programme bonus,
        # then id, no distance.
        everywhere = session.execute(select(Place.id).where(Place.modalites_accompagnement.contains("À distance"),
                                                            Place.services.contains("Aide aux démarches"))
                                     .order_by(Place.id).limit(6)).scalars().all()
        areas = RemoteAreas.parse(";".join(f"{place_id}=france" for place_id in everywhere))
        for departement in (None, "13", "2A"):  # départements without places of their own
            anywhere = find_remote(session, Need("urgence"), departement=departement, remote_areas=areas, now=NOW,
                                   limit=5)
            assert len(anywhere) == 5 and all(m.distance_km is None for m in anywhere)
            assert {m.place.id for m in anywhere} <= set(everywhere)
        assert find_remote(session, Need("urgence"), now=NOW, limit=5) == []


def best_place_near_a_place(factory, level="inclusion"):
    """A search point (on the first place of the directory) and the place the search shows first."""
    with session_scope(factory) as session:
        lat, lon = session.execute(select(Place.latitude, Place.longitude).where(Place.latitude.is_not(None))
                                   .order_by(Place.id).limit(1)).one()
    found = search(factory, lat, lon, level)[0]
    assert len(found) == 3
    return found[0], lat, lon


@pytest.mark.integration  # another process
def test_reimport_in_another_process_is_seen_by_the_next_search(database, directory, tmp_path):
    url, factory = database
    place_id, lat, lon = best_place_near_a_place(factory)

    # The CLI importer, another process, now says this place no longer receives the public.
    changed = tmp_path / "changed.csv"
    with open(directory.path, encoding="utf-8", newline="") as source:
        row = next(r for r in csv.DictReader(source) if r["id"] == place_id)
    row["modalites_acces"] = "Ce lieu n'accueille pas de public"
    with open(changed, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    env = dict(os.environ, AIGUILLAGE_DATABASE_URL=url, AIGUILLAGE_SECRET_KEY="k")
    done = subprocess.run([sys.executable, "-m", "bot.ops.cli", "import-lieux", str(changed)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 mis à jour" in done.stdout
    second = search(factory, lat, lon, "inclusion")[0]
    assert place_id not in second and len(second) == 3

    # Another engine (as another process would have) deletes the new nearest place.
    other = session_factory(make_engine(url))
    with session_scope(other) as session:
        session.execute(delete(Place).where(Place.id == second[0]))
    third = search(factory, lat, lon, "inclusion")[0]
    assert third[:2] == second[1:]


def test_index_is_kept_while_the_directory_does_not_change(database, directory):
    _, factory = database
    with session_scope(factory) as session:
        first = index_module.directory_index(session)
    assert import_places(factory, directory.path).unchanged == PLACES  # same file: no write
    with session_scope(factory) as session:
        assert index_module.directory_index(session) is first
        session.execute(update(Place).where(Place.id == first.rows[0].id).values(horaires="Mo 09:00-10:00"))
        assert index_module.directory_index(session) is not first


def test_uncommitted_changes_are_seen_by_their_session_only(database):
    _, factory = database
    place_id, lat, lon = best_place_near_a_place(factory)
    with factory() as session:
        session.get(Place, place_id).modalites_acces = "Ce lieu n'accueille pas de public"
        result = find_places(session, lat, lon, Need("inclusion"), now=NOW)
        assert place_id not in [m.place.id for m in result.matches]
        session.rollback()
    assert search(factory, lat, lon, "inclusion")[0][0] == place_id


def test_concurrent_searches_build_the_index_once(database, sampler, monkeypatch):
    _, factory = database
    index_module.clear_indexes()
    builds = []
    load = index_module.DirectoryIndex.load.__func__

    def counting_load(cls, session, token=None):
        builds.append(threading.get_ident())
        return load(cls, session, token)

    monkeypatch.setattr(index_module.DirectoryIndex, "load", classmethod(counting_load))
    queries = make_queries(40, seed=21, sampler=sampler)
    expected = [search(factory, q.latitude, q.longitude, q.need.level, q.need.specific) for q in queries]
    assert len(builds) == 1
    builds.clear()
    index_module.clear_indexes()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: search(factory, q.latitude, q.longitude, q.need.level, q.need.specific),
                            queries))
    assert got == expected
    assert len(builds) == 1


def test_database_without_version_table_still_searches(tmp_path, directory):
    engine = make_engine(f"sqlite:///{tmp_path / 'partial.sqlite'}")
    Base.metadata.create_all(engine, tables=[Place.__table__])  # as some tools create only what they use
    factory = session_factory(engine)
    assert import_places(factory, directory.path).errors == []
    place_id, lat, lon = best_place_near_a_place(factory)
    with session_scope(factory) as session:
        session.execute(delete(Place).where(Place.id == place_id))
    assert place_id not in search(factory, lat, lon, "inclusion")[0]
