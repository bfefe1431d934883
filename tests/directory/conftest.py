"""The directory's tests write up to thousands of places per test: they share an in-memory database whose
schema comes from the models (tests/schema checks that the migrations give the same)."""

from __future__ import annotations

import pytest
from sqlalchemy.pool import StaticPool

from bot.core.db import Base, make_engine, session_factory


@pytest.fixture()
def factory():
    engine = make_engine("sqlite:///:memory:", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()
