"""Every table says what the retention purge does with it, and the purge does exactly that (issue 13)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

from bot import schema
from bot.core.db import make_engine, upgrade
from bot.core.retention_policy import Action, UndeclaredRetention, declarations, keep
from bot.ops import retention

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)
AGES = {"old": NOW - timedelta(days=120), "new": NOW - timedelta(days=10)}
# A row dated "new" whose foreign keys point at the parent's "old" row.
MIXED = "mixed"

rasa = MetaData()
EVENTS = Table("events", rasa, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("type_name", String(255)), Column("timestamp", Float), Column("data", Text))


def test_every_table_declares_what_the_purge_does_with_it():
    rules = schema.retention()
    assert set(rules) == set(schema.metadata.tables) | schema.RASA_TABLES
    for name, rule in rules.items():
        assert rule.reason.strip(), name
        table = schema.metadata.tables.get(name, EVENTS if name == "events" else None)
        if rule.action != Action.KEEP:
            assert rule.column in table.c, name  # the timestamp the purge compares
        if rule.action == Action.WITH_PARENT:
            assert any(fk.column.table.name == rule.parent for fk in table.c[rule.via].foreign_keys), name
            assert rules[rule.parent].column, name  # the parent says how old it is
        if rule.action == Action.ANONYMISE:
            assert {rule.key, rule.code} <= set(table.c.keys()), name


def test_a_table_without_declaration_is_refused():
    Other = declarative_base()

    class Declared(Other):
        __tablename__ = "declared"
        __retention__ = keep("a reason")
        id = Column(Integer, primary_key=True)

    class NewNotes(Other):  # e.g. a new table of notes: it must not escape the purge silently
        __tablename__ = "new_notes"
        id = Column(Integer, primary_key=True)

    with pytest.raises(UndeclaredRetention, match="new_notes"):
        declarations(Other)
    NewNotes.__retention__ = keep("now declared")
    assert set(declarations(Other)) == {"declared", "new_notes"}
    Table("plain", Other.metadata, Column("id", Integer, primary_key=True))  # no model, no declaration
    with pytest.raises(UndeclaredRetention, match="plain"):
        declarations(Other)


def _value(column, label: str, n: int):
    when = AGES["old" if label == "old" else "new"]
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type  # UtcDateTime: a DateTime
    if isinstance(kind, DateTime):
        return when
    if isinstance(kind, Date):
        return when.date()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return n
    if isinstance(kind, Float):
        return float(n)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, (String, Text)):
        return f"{label[0]}{n}"[: kind.length or None]
    raise AssertionError(f"no test value for {column}")


def _fill(conn) -> dict:
    """An old, a new and (for children, where the foreign key allows it) a mixed row in every table.
    Rows already there (the directory's version row) are labelled "pre".
    Returns {table: {primary key: (label, row)}}."""
    # Past the ids of the rows already there (the directory's version row is 1), whatever the tables' order.
    rows, counter = {}, iter(range(100, 10_000))
    for table in schema.metadata.sorted_tables:
        labels = ["old", "new"]
        fks = [c for c in table.columns if c.foreign_keys]
        if fks and not any(c.unique or c.primary_key for c in fks):
            labels.append(MIXED)
        rows[table.name] = {tuple(r[c.name] for c in table.primary_key.columns): ("pre", dict(r))
                            for r in conn.execute(select(table)).mappings()}
        for label in labels:
            values = {}
            for column in table.columns:
                if column.foreign_keys:
                    target = next(iter(column.foreign_keys)).column
                    parent_label = "old" if label == MIXED else label
                    values[column.name] = next(row[target.name] for lab, row in rows[target.table.name].values()
                                               if lab == parent_label)
                else:
                    values[column.name] = _value(column, label, next(counter))
            conn.execute(insert(table).values(values))
            key = tuple(values[c.name] for c in table.primary_key.columns)
            rows[table.name][key] = (label, values)
    rows["events"] = {}
    for label in ("old", "new"):
        n = next(counter)
        conn.execute(insert(EVENTS).values(id=n, sender_id=label, timestamp=AGES[label].timestamp()))
        rows["events"][(n,)] = (label, {})
    return rows


def test_the_purge_leaves_exactly_what_each_table_declares(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-declarations")
    engine = make_engine(f"sqlite:///{tmp_path / 'aiguillage.db'}")
    upgrade(engine)
    rasa.create_all(engine)
    with engine.begin() as conn:
        rows = _fill(conn)
        alembic = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()

    retention.purge(engine, days=90, now=NOW)

    rules = schema.retention()
    for name, expected in rows.items():
        rule = rules[name]
        table = schema.metadata.tables.get(name, EVENTS if name == "events" else None)
        pk = list(table.primary_key.columns)
        with engine.connect() as conn:
            left = {tuple(r[c.name] for c in pk): r for r in conn.execute(select(table)).mappings()}
        survivors = {
            Action.KEEP: {"pre", "old", "new", MIXED},
            Action.ANONYMISE: {"old", "new", MIXED},
            Action.OLDER_THAN: {"new", MIXED},  # by its own date only
            Action.WITH_PARENT: {"new"},  # a recent row of an old parent goes with it
        }[rule.action]
        assert {expected[k][0] for k in left} == {lab for lab, _ in expected.values()} & survivors, name
        assert set(left) <= set(expected), name
        if rule.action == Action.ANONYMISE:
            for key, (label, values) in expected.items():
                if label == "old":
                    assert left[key][rule.key] == retention.PURGED_KEY, name
                    assert left[key][rule.code] != values[rule.code], name
                else:
                    assert left[key][rule.key] == values[rule.key], name
                    assert left[key][rule.code] == values[rule.code], name
    with engine.connect() as conn:  # not ours, not on the metadata: untouched
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == alembic
    engine.dispose()
