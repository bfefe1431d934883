"""The schema comes from the migrations in bot/migrations/ (SQLite here; PostgreSQL in
tests/production/test_migrations.py): a new database and one made by an earlier version both end
exactly as the models declare, and CI fails when a model changes without its migration."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from bot.core import db
from bot.core.db import PROJECT_ROOT, head_revision, make_engine, upgrade
from bot.ops import cli
from tests.migration_support import (
    EARLIER_VERSIONS,
    OBSOLETE_TABLES,
    build_earlier_version,
    check_brought_to_head,
    differences,
    pending_script,
    race,
    revision,
)


def test_a_new_database_gets_exactly_what_the_models_declare(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}", pool_size=1, max_overflow=0)
    assert upgrade(engine) == head_revision() == revision(engine)
    # A model changed without a migration (or the other way round) shows here, in CI.
    assert differences(engine) == []
    with engine.connect() as connection:  # the one pooled connection, handed back by the migration
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM directory_versions").scalar() == 1


def test_the_english_table_names_can_be_undone_and_done_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'back.db'}")
    upgrade(engine)
    with db.migration_lock(engine) as connection:
        command.downgrade(db.migration_config(connection), "0001")
    assert {"orientations", "rappels", "comptes", "lieux"} <= set(inspect(engine).get_table_names())
    assert upgrade(engine) == head_revision()
    assert differences(engine) == []


def test_places_keep_their_rows_and_may_then_lack_what_aiguillage_does_not_need(tmp_path):
    """0003: pivot, commune, code_postal, adresse and date_maj become nullable; position_approx is false
    for the places already there. Undone while every place has them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'places.db'}")
    with db.migration_lock(engine) as connection:
        command.upgrade(db.migration_config(connection), "0002")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO places (id, pivot, nom, commune, code_postal, adresse, date_maj, is_demo) VALUES "
            "('lieu-1', '00000000000000', 'Espace', 'Rennes', '35000', '1 rue A', '2026-01-01', 0)")
    assert upgrade(engine) == head_revision()
    with engine.begin() as connection:
        assert connection.exec_driver_sql("SELECT position_approx FROM places").scalar() == 0
        connection.exec_driver_sql(
            "INSERT INTO places (id, nom, latitude, longitude, position_approx, is_demo) "
            "VALUES ('lieu-2', 'Sans adresse', 48.1, -1.6, 1, 0)")
        connection.exec_driver_sql("DELETE FROM places WHERE id = 'lieu-2'")
    with db.migration_lock(engine) as connection:
        command.downgrade(db.migration_config(connection), "0002")
    assert "position_approx" not in {c["name"] for c in inspect(engine).get_columns("places")}
    assert not any(c["nullable"] for c in inspect(engine).get_columns("places") if c["name"] == "adresse")
    assert upgrade(engine) == head_revision()
    assert differences(engine) == []


def test_the_migrations_have_one_head():
    assert head_revision() == "0006"


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_a_database_made_by_an_earlier_version_is_brought_to_the_newest_revision(tmp_path, version):
    engine = make_engine(f"sqlite:///{tmp_path / 'earlier.db'}")
    build_earlier_version(engine, version)
    assert revision(engine) is None  # not under the migrations yet
    assert upgrade(engine) == head_revision()
    check_brought_to_head(engine)


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'earlier.db'}", pool_size=1, max_overflow=0)
    build_earlier_version(engine, "4239fed")
    with engine.begin() as connection:  # a required column no migration can invent for existing rows
        connection.exec_driver_sql("ALTER TABLE appels_ligne DROP COLUMN outcome")
    before = pending_script(engine)
    with pytest.raises(RuntimeError, match="appels_ligne.outcome"):
        upgrade(engine)
    assert revision(engine) is None
    assert pending_script(engine) == before  # no table dropped, created, renamed or completed
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master")} >= set(OBSOLETE_TABLES)


@pytest.mark.integration  # four processes
def test_processes_upgrading_a_new_database_at_once_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    results = race(url, tmp_path, processes=4)
    assert [(r.returncode, r.stdout.strip()) for r in results] == [(0, head_revision())] * 4, \
        [r.stderr[-2000:] for r in results]
    engine = make_engine(url)
    assert differences(engine) == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_a_database_already_at_the_newest_revision_is_not_locked(tmp_path, monkeypatch):
    """Every process calls upgrade when it starts: one writing for long (an import) must not hold it up."""
    path = tmp_path / "aiguillage.db"
    upgrade(make_engine(f"sqlite:///{path}"))
    monkeypatch.setattr(db, "MIGRATION_WAIT_MS", 200)  # were the lock taken, fail fast rather than wait
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert upgrade(make_engine(f"sqlite:///{path}")) == head_revision()
        blocked = make_engine(f"sqlite:///{path}")
        with pytest.raises(OperationalError, match="locked"), db.migration_lock(blocked):
            pass  # the lock itself does wait for the writer
    finally:
        writer.rollback()
        writer.close()


def test_init_db_says_which_revision_the_database_is_at(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'aiguillage.db'}")
    for _ in range(2):  # creates, then finds it up to date
        assert cli.main(["init-db"]) == 0
        assert capsys.readouterr().out.strip() == f"Base à jour : schéma à la révision {head_revision()}."


def _alembic_on_a_copy(tmp_path, *args):
    """The `alembic` command as a developer runs it, on a copy of bot/migrations/ (a file it writes,
    even when a test fails, stays out of the project) and a scratch database."""
    scripts = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "bot" / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    ini = (PROJECT_ROOT / "alembic.ini").read_text().replace("%(here)s/bot/migrations", str(scripts))
    (tmp_path / "alembic.ini").write_text(ini)
    env = dict(os.environ, AIGUILLAGE_DATABASE_URL=f"sqlite:///{tmp_path / 'scratch.db'}")
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "alembic.ini"), *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return sorted(path.name for path in (scripts / "versions").glob("*.py"))


@pytest.mark.integration  # alembic in another process
def test_a_developer_autogenerates_nothing_when_models_and_migrations_agree(tmp_path):
    upgrade(make_engine(f"sqlite:///{tmp_path / 'scratch.db'}"))
    assert _alembic_on_a_copy(tmp_path, "revision", "--autogenerate", "-m", "rien") == [
        "0001_baseline.py", "0002_english_table_names.py", "0003_places_from_real_files.py",
        "0004_places_withdrawn.py", "0005_desk_contact.py", "0006_voice_calls.py", "__init__.py"]


@pytest.mark.integration  # alembic in another process
def test_a_new_revision_is_numbered_after_the_head(tmp_path):
    assert "0007_lieux_accessibles.py" in _alembic_on_a_copy(tmp_path, "revision", "-m", "lieux accessibles")
    written = (tmp_path / "migrations" / "versions" / "0007_lieux_accessibles.py").read_text()
    assert "revision: str = '0007'" in written
    assert "down_revision: Union[str, Sequence[str], None] = '0006'" in written
