"""The SQLite file and its companions are owner-only, and what a person erases leaves the disk: the
database file, its write-ahead log and var/ (issue 12, part 2)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

from sqlalchemy import text

from bot.core import db as database
from bot.core.db import checkpoint, make_engine, private_dir, session_factory, session_scope, upgrade
from bot.handoff.referrals import ReferralRequest, create_referral, erase_for_sender

MARK = "Mme-Quelconque-rue-des-Lilas"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def on_disk(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_the_database_its_log_and_its_new_directory_are_owner_only(tmp_path):
    path = tmp_path / "nouveau" / "aiguillage.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('a')"))
    assert mode(path.parent) == 0o700
    assert {p.name: mode(p) for p in path.parent.iterdir()} == {
        "aiguillage.db": 0o600, "aiguillage.db-wal": 0o600, "aiguillage.db-shm": 0o600}
    engine.dispose()


def test_an_existing_database_left_readable_by_an_older_version_is_closed(tmp_path):
    path = tmp_path / "aiguillage.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    tmp_path.chmod(0o755)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600
    assert mode(tmp_path) == 0o755  # a directory someone else chose keeps its mode


def test_var_is_owner_only_even_when_an_older_version_made_it_open(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    assert mode(private_dir(var)) == 0o700
    assert mode(private_dir(var / "log")) == 0o700


def test_the_default_database_directory_var_is_made_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "PROJECT_ROOT", tmp_path)
    (tmp_path / "var").mkdir(mode=0o755)
    (tmp_path / "var").chmod(0o755)
    make_engine(f"sqlite:///{tmp_path / 'var' / 'aiguillage.db'}").dispose()
    assert mode(tmp_path / "var") == 0o700


def test_secure_delete_is_turned_on_for_every_connection(tmp_path):
    # Debian builds SQLite with it on by default; other builds do not: our connections turn it on.
    raw = sqlite3.connect(tmp_path / "a.db")
    raw.execute("PRAGMA secure_delete=OFF")
    database._sqlite_pragmas(raw, None)
    assert raw.execute("PRAGMA secure_delete").fetchone()[0] == 1
    raw.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    engine.dispose()


def test_an_erased_referral_is_gone_from_the_file_and_its_log(tmp_path):
    path = tmp_path / "aiguillage.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        # Not a fact the statistics count: those stay, in an anonymous residue (tests/handoff/test_erasure_scope.py).
        reference = create_referral(session, ReferralRequest(
            level="urgence", reasons=["delai_proche"], facts={"organisme": "caf", "enjeu": MARK}, place_id=None,
            channel="sms", sender_id="personne-stop")).reference
    assert MARK.encode() in on_disk(path) and reference.encode() in on_disk(path)
    with session_scope(factory) as session:
        assert erase_for_sender(session, "personne-stop") == 1
    checkpoint(factory)
    assert MARK.encode() not in on_disk(path) and reference.encode() not in on_disk(path)
    assert (tmp_path / "aiguillage.db-wal").stat().st_size == 0
    engine.dispose()


def test_an_erased_conversation_is_gone_from_the_file_and_its_log(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.actions.tracker_store import AiguillageTrackerStore
    from connectors.base import erase_conversation

    path = tmp_path / "aiguillage.db"
    domain = Domain.from_yaml('version: "3.1"\nintents: [informer]')
    store = AiguillageTrackerStore(domain, dialect="sqlite", host=f"sqlite:///{path}", db="aiguillage")
    tracker = DialogueStateTracker.from_events("personne-effacer", [
        ActionExecuted("action_listen"), UserUttered(f"j'habite chez {MARK}", {"name": "informer"})])
    asyncio.run(store.save(tracker))
    assert MARK.encode() in on_disk(path)
    erase_conversation(store, "personne-effacer")
    assert MARK.encode() not in on_disk(path)
    assert mode(path) == 0o600
