"""What the directory's tests read back from `places`."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.directory.models import Place


def places(factory) -> dict:
    """Every stored place, by id."""
    with factory() as session:
        return {p.id: p for p in session.execute(select(Place)).scalars()}


def count(factory) -> int:
    with factory() as session:
        return session.execute(select(func.count()).select_from(Place)).scalar_one()
