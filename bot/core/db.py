"""Database engine and session factory (SQLAlchemy 1.4 in 2.0 style)."""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from bot.core.settings import PROJECT_ROOT, get_settings, setting

Base = declarative_base()


# Connection pool of each process for our tables on a server database (PostgreSQL). Rasa's tracker
# store has its own pool (SQL_POOL_SIZE / SQL_MAX_OVERFLOW): see README, "Production profile".
POOL_SIZE_ENV = "AIGUILLAGE_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "AIGUILLAGE_DB_MAX_OVERFLOW"
# SQLite: how long a statement waits for another connection's write lock; a migration waits longer.
BUSY_TIMEOUT_MS = 5000
MIGRATION_WAIT_MS = 120_000


def private_dir(path: Path) -> Path:
    """Our own directory (var/, its logs): created if missing, owner-only (0700) either way."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # also when an older version made it 0755; mkdir's mode goes through the umask
    return path


def private_file(path: Path) -> None:
    """The database file owner-only (0600), SQLite gives its -wal and -shm files the same mode; its
    directory owner-only too when we create it (never chmod a directory someone else chose)."""
    if not path.parent.exists() or path.parent.resolve() == (PROJECT_ROOT / "var").resolve():
        private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        private_file(Path(url[len("sqlite:///"):]))
        # SQLAlchemy 1.4 opens a new file connection per session (NullPool) for SQLite: most of a
        # short query's time. A pool keeps them; a connection is still used by one thread at a time.
        kwargs.setdefault("poolclass", QueuePool)
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_size", setting(POOL_SIZE_ENV))
        kwargs.setdefault("max_overflow", setting(MAX_OVERFLOW_ENV))
        kwargs.setdefault("pool_timeout", 10)  # a saturated pool fails a turn quickly rather than hanging
        kwargs.setdefault("pool_pre_ping", True)  # survive a database restart: stale connections are replaced
        kwargs.setdefault("pool_recycle", 1800)
    kwargs.setdefault("future", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the Rasa server, the action server and the CLI share one file. secure_delete zeroes
    # what a deletion frees, so an erased message does not linger in free pages of the file.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: several processes may open a new file at once
    enter_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def enter_wal(cursor, wait_ms: int = BUSY_TIMEOUT_MS, sleep=time.sleep, clock=time.monotonic) -> None:
    """Switch the file to WAL, retrying while it is locked. Two processes opening a new file at once
    both hold a shared lock and both need an exclusive one to switch: SQLite answers one of them
    "database is locked" at once, without its busy handler (waiting would be a deadlock). Once the
    other has switched, the same statement finds WAL and changes nothing."""
    deadline = clock() + wait_ms / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or clock() >= deadline:
                raise
            sleep(0.01)


class UtcDateTime(TypeDecorator):
    """A moment, stored in UTC and read back aware. SQLite keeps no offset (a value would come back
    naive) and an aware moment in another zone would be stored as its local wall time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None or value.tzinfo is None:
            return value  # naive: already UTC by our convention
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)  # SQLite dropped the offset; it was UTC



def insert_ignore(session: Session, table: Table, values: dict) -> bool:
    """Insert one row unless its key exists (INSERT … ON CONFLICT DO NOTHING: no UNIQUE error when
    two processes insert the same key at once). True if this call inserted it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1


def checkpoint(bind) -> None:
    """After an erasure on SQLite: copy the write-ahead log into the file and empty it, so that the
    erased text (still in the log's older pages) leaves the disk too. `bind`: an engine or a
    session factory. A reader holding the log back only delays it (busy timeout); never raises."""
    engine = bind.kw.get("bind") if isinstance(bind, sessionmaker) else bind
    if engine is None or engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # the erasure itself is committed; the log is emptied at the next checkpoint
        logging.getLogger(__name__).exception("checkpoint after erasure failed")


MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# Any fixed number: the PostgreSQL advisory lock that one process at a time migrates under.
_PG_MIGRATION_LOCK = 7_361_924_058
# Alembic keeps the running migration in module globals (`op`, `context`): one run per process at a time.
_ALEMBIC_RUN = threading.Lock()


def migration_config(connection: Optional[Connection] = None) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts shipped in bot/migrations/, run
    on `connection` (env.py reads it from `attributes`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    return ScriptDirectory.from_config(migration_config()).get_current_head()


def current_revision(connection: Connection) -> Optional[str]:
    """The database's revision; None for an empty database or one made before the migrations."""
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process migrating the same database is in;
    committed at the end, rolled back on error.

    PostgreSQL: an advisory lock, released with the transaction (DDL there is transactional too).
    SQLite: BEGIN IMMEDIATE, the database's single write lock, so the DDL is all-or-nothing as well
    (the driver would otherwise run each DDL statement outside any transaction)."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
                yield connection
            return
        # Foreign keys off, which only works outside a transaction: a migration that rebuilds a table
        # drops the old one, and with them on that would delete the rows referencing it (CASCADE).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")  # another one may be migrating
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision of bot/migrations/ and return it.

    Nothing is locked when it is there already (every process calls this on start). Otherwise one
    process at a time migrates; Alembic reads the revision again once the lock is held, so the
    processes that waited find the work done. A database made before the migrations (our tables,
    no `alembic_version`) is brought to the baseline by revision 0001 itself."""
    head = head_revision()
    with engine.connect() as connection:
        if current_revision(connection) == head:
            return head
    with _ALEMBIC_RUN, migration_lock(engine) as connection:
        command.upgrade(migration_config(connection), "head")
        return current_revision(connection)


@functools.lru_cache(maxsize=4)
def _shared(url: str, pid: int) -> sessionmaker:
    engine = make_engine(url)
    upgrade(engine)
    return session_factory(engine)


def shared_factory(url: Optional[str] = None) -> sessionmaker:
    """One engine (one pool) per database and process, shared by the channels of a Rasa server;
    the schema is brought up to date on first use, never at import time."""
    if url is None:
        url = get_settings().database_url
    return _shared(url, os.getpid())


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    session: Session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
