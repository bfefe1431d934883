"""Every table of ours on one MetaData: what the migrations in bot/migrations/ must build.

Importing this module imports each module that declares tables, so that they all register on
Base.metadata. Rasa's tracker store keeps its `events` table in the same database: it is Rasa's to
create and change, so it is left out of every comparison (`ours`).
"""

from __future__ import annotations

from bot import followup, helpline, journal, referrals, takeover, telegram_support  # noqa: F401  (tables)
from bot.console import accounts, service, throttle  # noqa: F401  (tables)
from bot.db import Base
from bot.directory import models  # noqa: F401  (tables)
from bot.notifications import config, outbox  # noqa: F401  (tables)
from bot.sms import store  # noqa: F401  (tables)

metadata = Base.metadata

RASA_TABLES = frozenset({"events"})


def ours(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: everything but Rasa's tables (and their indexes with them)."""
    return not (type_ == "table" and name in RASA_TABLES)
