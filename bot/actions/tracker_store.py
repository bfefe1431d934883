"""Rasa's SQL tracker store with our engine settings and leaner queries (SQLite and PostgreSQL).

Rasa builds its engine without `pool_pre_ping` (after a PostgreSQL restart every pooled connection
is dead and the next turns fail) and, on SQLite, without any pool (a new file connection for each
load and each save of a conversation). This subclass rebuilds the engine with `bot.db.make_engine`
(Rasa's SQL_POOL_SIZE / SQL_MAX_OVERFLOW still size its PostgreSQL pool), and reads and writes the
same `events` table with the same queries written once as SQL text: Rasa's ORM queries spend more
time building their cache keys than the database spends answering. It also installs our fixes to
Rasa's per-turn hot path (bot/actions/rasa_runtime.py).
It never drops an event: a save appends what this process added since it loaded the tracker, and
when another process wrote to the same conversation meanwhile (a lock that failed, two instances at
once), this turn's events go after theirs and the conflict is logged and counted.
Used from endpoints.yml and endpoints.production.yml as
`type: bot.actions.tracker_store.AiguillageTrackerStore`.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from typing import List, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event, text
from sqlalchemy.orm import sessionmaker

from bot.actions import rasa_runtime
from bot.db import make_engine

# Events of the latest session: those stamped at or after its SessionStarted (all when none), in
# insertion order, exactly as SQLTrackerStore._event_query selects them.
_LATEST_SESSION = (
    "sender_id = :sender AND (timestamp >= (SELECT MAX(timestamp) FROM events "
    "WHERE sender_id = :sender AND type_name = :started) OR (SELECT MAX(timestamp) FROM events "
    "WHERE sender_id = :sender AND type_name = :started) IS NULL)")
_SELECT_LATEST = text(f"SELECT data FROM events WHERE {_LATEST_SESSION} ORDER BY id")
_SELECT_ALL = text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id")
_COUNT_LATEST = text(f"SELECT COUNT(*) FROM events WHERE {_LATEST_SESSION}")
_COUNT_ALL = text("SELECT COUNT(*) FROM events WHERE sender_id = :sender")

logger = logging.getLogger(__name__)
# Where a tracker remembers what it was loaded with (an attribute of Rasa's tracker object).
_LOADED = "_aiguillage_loaded"


@dataclass
class Loaded:
    """What this process knows is stored: its tracker's first `events` events are the `stored` rows of
    the conversation (its latest session, or all of it when `all_sessions`)."""

    events: int
    stored: int
    all_sessions: bool


class ConflictCounter:
    """Saves that found events written by another process since the load (also logged)."""

    def __init__(self) -> None:
        self.count = 0


CONFLICTS = ConflictCounter()


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    # In WAL mode, NORMAL skips the disk flush at each commit (about 1 ms a turn): the file stays
    # consistent, and a power cut can only lose the last turns of conversations. Referrals are in
    # our own tables, whose connections keep SQLite's full durability.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class AiguillageTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rasa_runtime.install()
        url = self.engine.url.render_as_string(hide_password=False)
        self.engine.dispose()
        # Rasa's own session code (keys, erasure) is 1.x style (session.query): keep a 1.x engine.
        self.engine = make_engine(url, future=False, **create_engine_kwargs(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _no_sync_per_commit)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _params(self, sender_id: Text) -> dict:
        return {"sender": sender_id, "started": SessionStarted.type_name}

    async def _retrieve(self, sender_id: Text,
                        fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        query = _SELECT_ALL if fetch_events_from_all_sessions else _SELECT_LATEST
        with self.session_scope() as session:
            rows = session.connection().execute(query, self._params(sender_id)).all()
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            setattr(tracker, _LOADED, Loaded(len(tracker.events), len(rows), fetch_events_from_all_sessions))
            return tracker
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        loaded: Optional[Loaded] = getattr(tracker, _LOADED, None)
        all_sessions = bool(loaded and loaded.all_sessions)
        count = _COUNT_ALL if all_sessions else _COUNT_LATEST
        params = self._params(tracker.sender_id)
        with self.session_scope() as session:
            connection = session.connection()
            stored = connection.execute(count, params).scalar_one()
            if loaded is None:
                first_new = stored  # a tracker this store did not load: the old rule, by count
            else:
                first_new = loaded.events
                if stored != loaded.stored:
                    # Another process wrote to this conversation since the load: append after its events.
                    CONFLICTS.count += 1
                    logger.warning("tracker conflict for %s: %d event(s) stored by another process since the "
                                   "load; this turn's events are appended after them (conflicts so far: %d)",
                                   tracker.sender_id, stored - loaded.stored, CONFLICTS.count)
            rows: List[dict] = []
            for new_event in itertools.islice(tracker.events, first_new, None):
                data = new_event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": new_event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                connection.execute(self.SQLEvent.__table__.insert(), rows)
            after = connection.execute(count, params).scalar_one() if rows else stored
            session.commit()
        setattr(tracker, _LOADED, Loaded(len(tracker.events), after, all_sessions))
