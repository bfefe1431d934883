"""Databases made by earlier versions, and what must hold once a database is upgraded; shared by
tests/schema/test_migrations.py (SQLite) and tests/production/test_migrations.py (PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import delete, inspect, text

from bot.console.accounts import Account
from bot.core.db import current_revision, head_revision, session_factory, session_scope
from bot.directory.models import Place, read_directory_version
from bot.handoff.helpline import Callback
from bot.handoff.journal import Note
from bot.handoff.referrals import Referral
from bot.schema import metadata, ours

SCHEMAS = Path(__file__).parent / "data" / "schemas"
# 4239fed: three columns of `rappels` and three tables still to come, two tables since replaced;
# 9ce04b6: the last version before the migrations.
EARLIER_VERSIONS = ("4239fed", "9ce04b6")
OBSOLETE_TABLES = ("telegram_boutons", "tentatives_console")
RASA_EVENTS = SQLTrackerStore.SQLEvent.__table__
# What bot/actions/tracker_store.py adds to Rasa's table.
EVENTS_INDEX = "CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON events (sender_id, id)"

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
ROWS = [
    ("INSERT INTO lieux (id, pivot, nom, commune, code_postal, adresse, date_maj, is_demo) "
     "VALUES ('lieu-1', '00000000000000', 'Espace numérique du Blosne', 'Rennes', '35200', '1 rue de Test', "
     ":day, :no)", {"day": date(2026, 1, 1), "no": False}),
    ("INSERT INTO orientations (id, reference, created_at, level, reasons, facts, place_id, channel, "
     "conversation_key, consent_at, status) VALUES (1, 'KPR-4XW7', :t, 'urgence', '[\"echeance\"]', '{}', "
     "'lieu-1', 'sms', 'personne-1', :t, 'ouverte')", {"t": T0}),
    ("INSERT INTO comptes (id, email, password_hash, place_id, role, active, created_at) "
     "VALUES (1, 'mediatrice@blosne.example', 'scrypt$x', 'lieu-1', 'mediateur', :yes, :t)", {"t": T0, "yes": True}),
    ("INSERT INTO notes_console (id, referral_id, account_id, at, text) VALUES (1, 1, 1, :t, 'Rappeler lundi.')",
     {"t": T0}),
    ("INSERT INTO rappels (id, call_key, caller_encrypted, caller_pseudonym, called_at, due_at, status, created_at, "
     "reason, sms_state, sms_attempts, sms_updated_at) VALUES (1, 'appel-1', :sealed, 'appelant-1', :t, :t, "
     "'a_rappeler', :t, 'ferme', 'envoye', 1, :t)", {"t": T0, "sealed": b"\x00scelle"}),
]


def differences(engine) -> list:
    """What `alembic revision --autogenerate` would write: nothing when the database is what the models
    declare (Rasa's table aside)."""
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"include_name": ours}), metadata)


def pending_script(engine) -> str:
    """The upgrade `alembic revision --autogenerate` would write, as Python: comparable between two
    moments (the objects `differences` returns carry memory addresses in their repr)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": ours})
        return render_python_code(produce_migrations(context, metadata).upgrade_ops)


def revision(engine):
    with engine.connect() as connection:
        return current_revision(connection)


def build_earlier_version(engine, version: str) -> None:
    """The tables `version` created, a few rows in them, and Rasa's table with our index and one event."""
    script = (SCHEMAS / f"{version}.{engine.dialect.name}.sql").read_text()
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            raw.executescript(script)
        else:
            raw.cursor().execute(script)
        raw.commit()
    finally:
        raw.close()
    RASA_EVENTS.create(engine)
    with engine.begin() as connection:
        for statement, params in ROWS:
            connection.execute(text(statement), params)
        connection.exec_driver_sql(EVENTS_INDEX)
        connection.execute(RASA_EVENTS.insert().values(sender_id="personne-1", type_name="user", timestamp=1.0,
                                                       data='{"event": "user"}'))


def check_brought_to_head(engine) -> None:
    """The database is exactly what a new one would be, and what was in it is still there."""
    assert revision(engine) == head_revision()
    assert differences(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert not tables & set(OBSOLETE_TABLES)
    with session_scope(session_factory(engine)) as session:
        place = session.get(Place, "lieu-1")
        assert (place.nom, place.adresse) == ("Espace numérique du Blosne", "1 rue de Test")
        assert place.position_approx is False  # 0003: every place already there has its own coordinates
        assert (place.import_source, place.withdrawn_at) == (None, None)  # 0004: none is withdrawn
        assert session.get(Referral, 1).reference == "KPR-4XW7"
        assert session.get(Account, 1).email == "mediatrice@blosne.example"
        assert session.get(Note, 1).text == "Rappeler lundi."
        callback = session.get(Callback, 1)
        assert (callback.caller_encrypted, callback.place_id, callback.done_at) == (b"\x00scelle", None, None)
        callback.place_id = "lieu-1"  # a column added since, now usable
        assert read_directory_version(session)  # the directory's search can tell when it changes
    with engine.connect() as connection:
        assert connection.execute(RASA_EVENTS.select()).one().sender_id == "personne-1"
        assert "ix_events_sender_id_id" in {index["name"] for index in inspect(connection).get_indexes("events")}
    # The foreign keys follow the tables' new names (0002): erasing the referral takes its note with it.
    with session_scope(session_factory(engine)) as session:
        session.execute(delete(Referral).where(Referral.id == 1))
    with session_scope(session_factory(engine)) as session:
        assert session.get(Note, 1) is None and session.get(Place, "lieu-1") is not None


RACER = """
import pathlib, sys, time
from bot.core.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.001)
print(upgrade(engine))
"""


def race(url: str, directory: Path, processes: int = 4) -> list[subprocess.CompletedProcess]:
    """`processes` processes upgrade the database at the same instant (each waits at a gate once ready)."""
    gate = directory / "go"
    started = [subprocess.Popen([sys.executable, "-c", RACER, url, str(directory / f"ready-{n}"), str(gate)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(processes)]
    while not all((directory / f"ready-{n}").exists() for n in range(processes)):
        if any(process.poll() is not None for process in started):
            break  # one died before the gate: its output says why
        time.sleep(0.01)
    gate.touch()
    results = []
    for process in started:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results
