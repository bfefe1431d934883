"""Rasa's SQL tracker store with our engine settings, leaner queries and a bounded load (SQLite and
PostgreSQL).

Rasa builds its engine without `pool_pre_ping` (after a PostgreSQL restart every pooled connection
is dead and the next turns fail) and, on SQLite, without any pool (a new file connection for each
load and each save of a conversation). This subclass rebuilds the engine with `bot.core.db.make_engine`
(Rasa's SQL_POOL_SIZE / SQL_MAX_OVERFLOW still size its PostgreSQL pool), and reads and writes the
same `events` table with the same queries written once as SQL text: Rasa's ORM queries spend more
time building their cache keys than the database spends answering. It also installs our fixes to
Rasa's per-turn hot path (bot/actions/rasa_runtime.py).

A turn loads the latest session's last `window` events only (AIGUILLAGE_TRACKER_WINDOW, 200 by
default, cut at the start of a turn), preceded by the stored events that still set its state: the
latest value of each slot, the active loop, a pause. Rasa replays, featurizes and sends to the action
server every event it loads, so without the bound a turn's cost grows with the conversation (14 ms at
its start, 0.35 s after 780 turns). Our policies (rules) and actions (slots, latest message) read
nothing older; every event stays stored and `retrieve_full_tracker` still loads them all.

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
from typing import Any, List, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    ConversationPaused,
    ConversationResumed,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from bot.actions import rasa_runtime
from bot.core.db import make_engine
from bot.core.settings import REGISTRY, default, setting

WINDOW_ENV = "AIGUILLAGE_TRACKER_WINDOW"
DEFAULT_WINDOW = default(WINDOW_ENV)
# Below a few turns the rules would lose the states they match.
MIN_WINDOW = int(REGISTRY[WINDOW_ENV].minimum)

# The latest session: events stamped at or after its SessionStarted (all when none), exactly as
# SQLTrackerStore._event_query selects them; in insertion (id) order.
_SESSION_START = ("(SELECT MAX(timestamp) FROM events WHERE sender_id = :sender "
                  "AND type_name = :started)")
_IN_LATEST = f"sender_id = :sender AND (timestamp >= {_SESSION_START} OR {_SESSION_START} IS NULL)"
_SELECT_ALL = text("SELECT id, type_name, action_name, data FROM events WHERE sender_id = :sender ORDER BY id")
# The newest events of the latest session first, one more than the window to know if it was cut.
_SELECT_WINDOW = text(f"SELECT id, type_name, action_name, data FROM events WHERE {_IN_LATEST} "
                      "ORDER BY id DESC LIMIT :limit")
# Before the window: what cleared the state last (a restart clears all of it, a reset the slots).
_SELECT_FLOORS = text(f"SELECT MAX(CASE WHEN type_name = :restart THEN id END), MAX(id) FROM events "
                      f"WHERE {_IN_LATEST} AND id < :cut AND type_name IN (:restart, :reset)")
# Before the window and after those floors: the latest event of each slot, of the active loop and
# of pause/resume, that is, the events whose effect is still on the tracker.
_SELECT_STATE = text(
    f"SELECT data FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE {_IN_LATEST} AND id < :cut "
    "AND ((type_name = :slot AND id > :slot_floor) "
    "OR (type_name IN (:loop, :interrupted, :pause, :resume) AND id > :floor)) "
    "GROUP BY CASE WHEN type_name = :resume THEN :pause ELSE type_name END, "
    "CASE WHEN type_name = :slot THEN action_name ELSE '' END) ORDER BY id")
_COUNT_LATEST = text(f"SELECT COUNT(*) FROM events WHERE {_IN_LATEST}")
_LAST_ID = text("SELECT MAX(id) FROM events WHERE sender_id = :sender")
_COUNT_AFTER = text("SELECT COUNT(*) FROM events WHERE sender_id = :sender AND id > :after")
# Walks a conversation's rows newest first on PostgreSQL too (SQLite's sender_id index has the id).
_INDEX = text("CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON events (sender_id, id)")

logger = logging.getLogger(__name__)
# Where a tracker remembers what it was loaded with (an attribute of Rasa's tracker object).
_LOADED = "_aiguillage_loaded"


@dataclass
class Loaded:
    """What this process knows is stored: its tracker's first `events` events come from the
    conversation's rows up to id `last_id` (its latest session, or all of it when `all_sessions`)."""

    events: int
    last_id: int
    all_sessions: bool


@dataclass
class LoadCounter:
    """Rows read by the latest load, and loads that were cut to the window (for tests and logs)."""

    last_rows: int = 0
    windowed: int = 0


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


def _turn_start(rows: List[Any]) -> int:
    """Index of the first `action_listen` in `rows` (oldest first): where a turn begins."""
    for index, row in enumerate(rows):
        if row.type_name == ActionExecuted.type_name and row.action_name == ACTION_LISTEN_NAME:
            return index
    return 0


class AiguillageTrackerStore(SQLTrackerStore):
    def __init__(self, *args, window: Optional[int] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rasa_runtime.install()
        url = self.engine.url.render_as_string(hide_password=False)
        self.engine.dispose()
        # Rasa's own session code (keys, erasure) is 1.x style (session.query): keep a 1.x engine.
        self.engine = make_engine(url, future=False, **create_engine_kwargs(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _no_sync_per_commit)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.window = (max(int(window), MIN_WINDOW) if window
                       else setting(WINDOW_ENV))
        self.loads = LoadCounter()
        self._create_index()

    def _create_index(self) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(_INDEX)
        except DBAPIError as error:
            # Two instances starting at once on PostgreSQL: the other one created it.
            logger.info("index on events (sender_id, id) not created here: %s", error)

    def _params(self, sender_id: Text) -> dict:
        return {"sender": sender_id, "started": SessionStarted.type_name}

    def _latest_session_rows(self, connection, sender_id: Text) -> List[Any]:
        params = self._params(sender_id)
        newest_first = connection.execute(_SELECT_WINDOW, {**params, "limit": self.window + 1}).all()
        rows = newest_first[::-1]
        if len(rows) <= self.window:
            return rows
        rows = rows[_turn_start(rows[1:]) + 1:]
        cut = rows[0].id
        floor, slot_floor = connection.execute(_SELECT_FLOORS, {
            **params, "cut": cut, "restart": Restarted.type_name, "reset": AllSlotsReset.type_name}).one()
        state = connection.execute(_SELECT_STATE, {
            **params, "cut": cut, "floor": floor or 0, "slot_floor": slot_floor or 0,
            "slot": SlotSet.type_name, "loop": ActiveLoop.type_name, "interrupted": LoopInterrupted.type_name,
            "pause": ConversationPaused.type_name, "resume": ConversationResumed.type_name}).all()
        self.loads.windowed += 1
        return list(state) + rows

    async def _retrieve(self, sender_id: Text,
                        fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            connection = session.connection()
            # Read first: a row another process adds meanwhile shows as a conflict at the save.
            last_id = connection.execute(_LAST_ID, {"sender": sender_id}).scalar()
            if fetch_events_from_all_sessions:
                rows = connection.execute(_SELECT_ALL, {"sender": sender_id}).all()
            else:
                rows = self._latest_session_rows(connection, sender_id)
        self.loads.last_rows = len(rows)
        events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            setattr(tracker, _LOADED, Loaded(len(tracker.events), last_id, fetch_events_from_all_sessions))
            return tracker
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        loaded: Optional[Loaded] = getattr(tracker, _LOADED, None)
        params = self._params(tracker.sender_id)
        with self.session_scope() as session:
            connection = session.connection()
            last_id = connection.execute(_LAST_ID, params).scalar()
            if loaded is None:
                # A tracker this store did not load (Rasa's create_tracker): the old rule, by count.
                first_new = connection.execute(_COUNT_LATEST, params).scalar_one()
            else:
                first_new = loaded.events
                if last_id != loaded.last_id:
                    # Another process wrote to this conversation since the load: append after its events.
                    others = connection.execute(_COUNT_AFTER, {**params, "after": loaded.last_id or 0}).scalar_one()
                    CONFLICTS.count += 1
                    logger.warning("tracker conflict for %s: %d event(s) stored by another process since the "
                                   "load; this turn's events are appended after them (conflicts so far: %d)",
                                   tracker.sender_id, others, CONFLICTS.count)
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
                last_id = connection.execute(_LAST_ID, params).scalar()
            session.commit()
        setattr(tracker, _LOADED, Loaded(len(tracker.events), last_id,
                                         bool(loaded and loaded.all_sessions)))
