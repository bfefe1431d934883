"""Database engine and session factory (SQLAlchemy 1.4 in 2.0 style)."""

from __future__ import annotations

import functools
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import PROJECT_ROOT, get_settings, int_from_env

Base = declarative_base()


# Connection pool of each process for our tables on a server database (PostgreSQL). Rasa's tracker
# store has its own pool (SQL_POOL_SIZE / SQL_MAX_OVERFLOW): see README, "Production profile".
POOL_SIZE_ENV = "AIGUILLAGE_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "AIGUILLAGE_DB_MAX_OVERFLOW"


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
        kwargs.setdefault("pool_size", int_from_env(POOL_SIZE_ENV, 5))
        kwargs.setdefault("max_overflow", int_from_env(MAX_OVERFLOW_ENV, 5))
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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


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


def create_schema(engine: Engine) -> None:
    # Import models so they register on Base.metadata.
    from bot.directory import models as _directory_models  # noqa: F401
    from bot import referrals as _referrals  # noqa: F401
    from bot import telegram_support as _telegram_support  # noqa: F401
    from bot import helpline as _helpline  # noqa: F401
    from bot.sms import store as _sms_store  # noqa: F401
    from bot.notifications import outbox as _notifications_outbox  # noqa: F401
    from bot.console import accounts as _console_accounts, service as _console_service  # noqa: F401
    from bot import followup as _followup  # noqa: F401
    from bot import takeover as _takeover  # noqa: F401

    Base.metadata.create_all(engine)
    add_missing_columns(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the nullable columns a newer version declares to tables an older one created.

    create_all never alters an existing table; this covers the additive changes we make (no Alembic:
    anything else needs a written migration). Returns "table.column" for each column added."""
    from sqlalchemy import inspect

    added = []
    inspector = inspect(engine)
    existing_tables = set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
            added.append(f"{table.name}.{column.name}")
    return added


@functools.lru_cache(maxsize=4)
def _shared(url: str, pid: int) -> sessionmaker:
    engine = make_engine(url)
    create_schema(engine)
    return session_factory(engine)


def shared_factory(url: Optional[str] = None) -> sessionmaker:
    """One engine (one pool) per database and process, shared by the channels of a Rasa server;
    the tables are created on first use, never at import time."""
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
