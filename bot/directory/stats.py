"""Small read-only facts about the loaded directory (for start-up and the desk page header)."""

from __future__ import annotations

import functools
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.core.db import make_engine, session_factory, upgrade
from bot.core.settings import get_settings
from bot.directory.models import Place


@functools.lru_cache(maxsize=4)
def _factory_for(url: str) -> sessionmaker:
    engine = make_engine(url)
    upgrade(engine)
    return session_factory(engine)


def place_count(factory: Optional[sessionmaker] = None) -> int:
    factory = factory or _factory_for(get_settings().database_url)
    with factory() as session:
        return session.execute(select(func.count()).select_from(Place)).scalar_one()


def demo_places_loaded(factory: Optional[sessionmaker] = None) -> bool:
    factory = factory or _factory_for(get_settings().database_url)
    with factory() as session:
        return session.execute(select(func.count()).select_from(Place).where(Place.is_demo.is_(True))).scalar_one() > 0
