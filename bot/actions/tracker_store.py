"""Rasa's SQL tracker store with our engine settings and leaner queries (SQLite and PostgreSQL).

Rasa builds its engine without `pool_pre_ping` (after a PostgreSQL restart every pooled connection
is dead and the next turns fail) and, on SQLite, without any pool (a new file connection for each
load and each save of a conversation). This subclass rebuilds the engine with `bot.db.make_engine`
(Rasa's SQL_POOL_SIZE / SQL_MAX_OVERFLOW still size its PostgreSQL pool), and reads and writes the
same `events` table with the same queries written once as SQL text: Rasa's ORM queries spend more
time building their cache keys than the database spends answering. It also installs our fixes to
Rasa's per-turn hot path (bot/actions/rasa_runtime.py).
Used from endpoints.yml and endpoints.production.yml as
`type: bot.actions.tracker_store.AiguillageTrackerStore`.
"""

from __future__ import annotations

import itertools
import json
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
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            connection = session.connection()
            stored = connection.execute(_COUNT_LATEST, self._params(tracker.sender_id)).scalar_one()
            rows: List[dict] = []
            for new_event in itertools.islice(tracker.events, stored, None):
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
            session.commit()
