"""The migrations on PostgreSQL, on the production profile's private server: each test gets a
database of its own there; the profile's own database (Rasa's table in it) is checked as it is."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect

from bot.core.db import head_revision, make_engine, upgrade
from tests.migration_support import EARLIER_VERSIONS, build_earlier_version, check_brought_to_head, differences, race

pytestmark = pytest.mark.production


@pytest.fixture()
def new_database(production):
    """(url, engine) of an empty database on the profile's server, owned by the profile's role."""
    server = production["postgres"]
    admin = create_engine(f"postgresql://postgres@127.0.0.1:{server.port}/postgres", isolation_level="AUTOCOMMIT",
                          future=True)
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} OWNER {server.user}")
    url = f"postgresql://{server.user}:{server.password}@127.0.0.1:{server.port}/{name}"
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


def test_processes_upgrading_a_new_postgresql_database_at_once_all_succeed(new_database, tmp_path):
    url, engine = new_database
    results = race(url, tmp_path, processes=4)
    assert [(r.returncode, r.stdout.strip()) for r in results] == [(0, head_revision())] * 4, \
        [r.stderr[-2000:] for r in results]
    assert differences(engine) == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM directory_versions").scalar() == 1


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_a_postgresql_database_made_by_an_earlier_version_is_brought_to_the_newest_revision(new_database, version):
    _, engine = new_database
    build_earlier_version(engine, version)
    assert upgrade(engine) == head_revision()
    check_brought_to_head(engine)


def test_the_profiles_database_is_at_the_newest_revision_beside_rasas_table(production):
    engine = production["engine"]
    assert upgrade(engine) == head_revision()
    assert "events" in inspect(engine).get_table_names()  # Rasa's, left out of the comparison
    assert differences(engine) == []
