"""Opening the SQLite database (bot/core/db.py): several processes may open a new file at once."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text

from bot.core.db import UtcDateTime, enter_wal, make_engine


def test_a_process_opening_the_file_while_another_writes_waits_instead_of_failing(tmp_path):
    """What made `test_processes_upgrading_a_new_database_at_once_all_succeed` fail about once in 25
    runs on a loaded machine: switching to WAL while another connection holds the write lock of a
    file still in rollback mode is refused at once, without the busy timeout."""
    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:  # before the fix: OperationalError "database is locked" at once
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.execute(text("SELECT x FROM t")).scalar() == 1  # opened after the commit
    engine.dispose()
    writer.close()


class LockedCursor:
    def __init__(self, failures: int, message: str = "database is locked"):
        self.failures, self.message, self.calls = failures, message, 0

    def execute(self, statement):
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.message)


def test_the_switch_is_retried_only_while_the_file_is_locked_and_not_past_the_busy_timeout():
    now = [0.0]
    tick = lambda _seconds: now.__setitem__(0, now[0] + 0.01)  # noqa: E731
    cursor = LockedCursor(failures=3)
    enter_wal(cursor, wait_ms=1000, sleep=tick, clock=lambda: now[0])
    assert cursor.calls == 4
    forever = LockedCursor(failures=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enter_wal(forever, wait_ms=1000, sleep=tick, clock=lambda: now[0])
    assert 90 <= forever.calls <= 110  # about the busy timeout, then the error as before
    other = LockedCursor(failures=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        enter_wal(other, wait_ms=1000, sleep=tick, clock=lambda: now[0])
    assert other.calls == 1


def test_a_moment_is_stored_in_utc_and_read_back_aware_whatever_its_zone(tmp_path):
    """UtcDateTime: SQLite keeps no offset, so without it a moment came back naive, and one given in
    Paris time was stored as its wall time (two hours off in summer)."""
    metadata = MetaData()
    moments = Table("moments", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    engine = make_engine(f"sqlite:///{tmp_path / 'moments.db'}")
    metadata.create_all(engine)
    paris = datetime(2026, 7, 14, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with engine.begin() as connection:
        connection.execute(moments.insert(), [{"id": 1, "at": paris}, {"id": 2, "at": None}])
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT at FROM moments WHERE id = 1").scalar()
        read = dict(connection.execute(select(moments.c.id, moments.c.at)).all())
    assert stored.startswith("2026-07-14 08:00:00")  # UTC in the file
    assert read == {1: datetime(2026, 7, 14, 8, 0, tzinfo=timezone.utc), 2: None}
    assert read[1] == paris
    engine.dispose()
