"""What the retention purge (bot/ops/retention.py) does with each table, declared on its model as `__retention__`.

The vocabulary, each with a one-line reason:
- older_than(column): rows whose `column` is older than the retention delay are deleted;
- with_parent(parent, via, column): rows are deleted with a purged `parent` row (the foreign key `via`
  points at it), and also when their own `column` is older than the delay;
- anonymise(column, key, code): rows older by `column` lose their conversation key (`key` becomes
  "purge") and their reference code (`code` becomes a value no typed code can match); the rest stays;
- keep(): never purged.
A table on the metadata without a declaration is an error (`declarations`), so none escapes silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional


class Action(str, Enum):
    WITH_PARENT = "with_parent"
    OLDER_THAN = "older_than"
    ANONYMISE = "anonymise"
    KEEP = "keep"


@dataclass(frozen=True)
class Retention:
    action: Action
    reason: str
    column: Optional[str] = None   # the timestamp saying how old a row is
    parent: Optional[str] = None   # with_parent: the parent table
    via: Optional[str] = None      # with_parent: the foreign key column pointing at the parent
    key: Optional[str] = None      # anonymise: the conversation key column
    code: Optional[str] = None     # anonymise: the reference code column


class UndeclaredRetention(LookupError):
    pass


def older_than(column: str, reason: str) -> Retention:
    return Retention(Action.OLDER_THAN, reason, column=column)


def with_parent(parent: str, via: str, column: str, reason: str) -> Retention:
    return Retention(Action.WITH_PARENT, reason, column=column, parent=parent, via=via)


def anonymise(column: str, key: str, code: str, reason: str) -> Retention:
    return Retention(Action.ANONYMISE, reason, column=column, key=key, code=code)


def keep(reason: str) -> Retention:
    return Retention(Action.KEEP, reason)


def declarations(base) -> dict[str, Retention]:
    """Each table on `base.metadata` and its declaration; raises if any table has none."""
    declared = {m.local_table.name: getattr(m.class_, "__retention__", None) for m in base.registry.mappers}
    missing = sorted(name for name in base.metadata.tables if not isinstance(declared.get(name), Retention))
    if missing:
        raise UndeclaredRetention(f"no __retention__ declaration for: {', '.join(missing)}")
    return {name: declared[name] for name in base.metadata.tables}
