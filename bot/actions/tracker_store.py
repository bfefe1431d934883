"""Rasa's SQL tracker store, with connections checked before use (production profile).

Rasa builds its engine without `pool_pre_ping`: after a PostgreSQL restart every pooled connection
is dead and the next turns fail. This subclass rebuilds the engine with the same pool settings
(SQL_POOL_SIZE, SQL_MAX_OVERFLOW) plus a ping, so a restart costs one round trip, not a turn.
Used from endpoints.production.yml as `type: bot.actions.tracker_store.ResilientSQLTrackerStore`.
"""

from __future__ import annotations

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(str(url)))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
