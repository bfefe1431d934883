"""Every table of ours on one MetaData: what the migrations in bot/migrations/ must build.

Importing this module imports each module that declares tables, so that they all register on
Base.metadata. Rasa's tracker store keeps its `events` table in the same database: it is Rasa's to
create and change, so it is left out of every comparison (`ours`); what the retention purge does
with it is declared here, with ours on the models (`__retention__`, bot/core/retention_policy.py).
"""

from __future__ import annotations

from bot.channels.sms import store  # noqa: F401  (tables)
from bot.channels.telegram import stores  # noqa: F401  (tables)
from bot.console import accounts, service, throttle  # noqa: F401  (tables)
from bot.core.db import Base
from bot.core.retention_policy import Retention, declarations, older_than
from bot.directory import models  # noqa: F401  (tables)
from bot.handoff import followup, helpline, journal, referrals, takeover  # noqa: F401  (tables)
from bot.handoff.notifications import config, outbox  # noqa: F401  (tables)
from bot.handoff.voice import calls  # noqa: F401  (tables)

metadata = Base.metadata

# Rasa's tracker store: the conversations' text and slots. `timestamp` is an epoch float.
RASA_RETENTION = {"events": older_than("timestamp", "Rasa's tracker events: what people wrote")}
RASA_TABLES = frozenset(RASA_RETENTION)


def retention() -> dict[str, Retention]:
    """What the purge does with each table, ours and Rasa's; raises if one of ours has no declaration."""
    return {**declarations(Base), **RASA_RETENTION}


def ours(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: everything but Rasa's tables (and their indexes with them)."""
    return not (type_ == "table" and name in RASA_TABLES)
