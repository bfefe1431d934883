"""Retention: after AIGUILLAGE_RETENTION_DAYS, personal data goes; anonymous referral rows stay.

What a purge does with each table is declared on its model (`__retention__`, vocabulary in
bot/core/retention_policy.py; Rasa's `events` in bot/schema.py), and nothing else decides it:
- anonymise (referrals): the conversation key becomes "purge" and the reference code is replaced by
  a value no typed code can match; level, fact codes, commune, channel, status and timestamps stay,
  so statistics are the same before and after;
- with_parent (mediator notes, live conversations...): deleted with a purged referral, or by their own date;
- older_than (Rasa events, audit log, helpline, SMS and Telegram bookkeeping): deleted by date;
- keep: untouched.
Tables are discovered with the SQLAlchemy inspector: a declared table that does not exist is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import Float, Integer, MetaData, Numeric, Table, and_, bindparam, delete, inspect, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import Date, DateTime

from bot import schema
from bot.core.db import checkpoint
from bot.core.retention_policy import Action, Retention
from bot.core.settings import SettingsError, value
from bot.handoff.referrals import ERASED_KEY

DEFAULT_RETENTION_DAYS = 90
PURGED_KEY = "purge"
# Children go before their parent is anonymised; `keep` tables are not visited.
ORDER = (Action.WITH_PARENT, Action.OLDER_THAN, Action.ANONYMISE)


class RetentionError(ValueError):
    pass


def retention_days_from_env() -> int:
    try:
        return check_days(value("AIGUILLAGE_RETENTION_DAYS"))
    except SettingsError as exc:
        raise RetentionError(str(exc)) from exc


def check_days(days: int) -> int:
    if days < 1:
        raise RetentionError("the retention delay must be at least one day")
    return days


@dataclass
class TableResult:
    table: str
    action: str        # "anonymised" | "deleted" | "skipped"
    count: int = 0
    detail: str = ""   # why a table was skipped


@dataclass
class PurgeReport:
    cutoff: datetime
    days: int
    dry_run: bool
    results: list = field(default_factory=list)

    def count(self, table: str) -> int:
        return sum(r.count for r in self.results if r.table == table)

    @property
    def total(self) -> int:
        return sum(r.count for r in self.results)

    def summary_lines(self) -> list[str]:
        """French summary for the operator running `aiguillage purge`."""
        head = "Simulation (rien n'est modifié)" if self.dry_run else "Purge effectuée"
        lines = [f"{head} : données de plus de {self.days} jours "
                 f"(antérieures au {self.cutoff.astimezone(timezone.utc):%d/%m/%Y %H:%M} UTC)."]
        verbs = {"anonymised": "ligne(s) anonymisée(s)", "deleted": "ligne(s) supprimée(s)"}
        if self.dry_run:
            verbs = {"anonymised": "ligne(s) à anonymiser", "deleted": "ligne(s) à supprimer"}
        for r in self.results:
            if r.action == "skipped":
                lines.append(f"- {r.table} : ignorée ({r.detail})")
            else:
                lines.append(f"- {r.table} : {r.count} {verbs[r.action]}")
        lines.append(f"Total : {self.total} ligne(s).")
        return lines


def _older(column, cutoff: datetime):
    """`column` before the cutoff: a date/time, or an epoch number (Rasa's `timestamp`); else None."""
    if isinstance(column.type, (DateTime, Date)):
        return column < cutoff
    if isinstance(column.type, (Float, Numeric, Integer)):
        return column < cutoff.timestamp()
    return None


def _parent_purged(table: Table, rule: Retention, parent: Table, parent_rule: Retention, cutoff: datetime):
    """`table.via` points at a `parent` row the purge reaches (older by the parent's own column)."""
    via = table.c.get(rule.via)
    age = parent.c.get(parent_rule.column)
    older = _older(age, cutoff) if age is not None else None
    if via is None or older is None:
        return None
    targets = [fk.column.name for fk in via.foreign_keys if fk.column.table is parent]
    target = parent.c[targets[0]] if targets else next(iter(parent.primary_key.columns))
    return via.in_(select(target).where(older))


def _anonymise(conn: Connection, table: Table, rule: Retention, older) -> int:
    key, row_id = table.c[rule.key], next(iter(table.primary_key.columns))
    # An erasure's residue is anonymous already, and must stay out of the console.
    stale = and_(older, key.notin_([PURGED_KEY, ERASED_KEY]))
    ids = [row[0] for row in conn.execute(select(row_id).where(stale))]
    if ids:
        # "~" is outside the code alphabet: a purged reference can never be typed or dictated.
        conn.execute(update(table).where(row_id == bindparam("rid"))
                     .values({rule.key: PURGED_KEY, rule.code: bindparam("ref")}),
                     [{"rid": i, "ref": f"~{i:x}"[:8]} for i in ids])
    return len(ids)


def purge(engine: Engine, days: Optional[int] = None, now: Optional[datetime] = None,
          dry_run: bool = False) -> PurgeReport:
    """Purge personal data older than `days` (default AIGUILLAGE_RETENTION_DAYS, else 90).
    Runs in one transaction; a dry run does the same work and rolls it back, so counts are exact."""
    days = check_days(days) if days is not None else retention_days_from_env()
    now = now or datetime.now(timezone.utc)
    cutoff = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(timezone.utc) - timedelta(days=days)
    report = PurgeReport(cutoff=cutoff, days=days, dry_run=dry_run)
    rules = schema.retention()  # refuses to run while a table has no declaration

    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            existing = set(inspect(conn).get_table_names())
            metadata = MetaData()

            def reflect(name: str) -> Table:
                # Reflecting a child reflects its parent too: reuse it.
                return metadata.tables[name] if name in metadata.tables else Table(name, metadata, autoload_with=conn)

            for action in ORDER:
                for name in sorted(n for n, r in rules.items() if r.action == action):
                    rule = rules[name]
                    if name not in existing:
                        report.results.append(TableResult(name, "skipped", detail="table absente"))
                        continue
                    table = reflect(name)
                    age = table.c.get(rule.column)
                    conditions = [_older(age, cutoff) if age is not None else None]
                    if action == Action.WITH_PARENT and rule.parent in existing:
                        conditions.append(_parent_purged(table, rule, reflect(rule.parent), rules[rule.parent],
                                                         cutoff))
                    conditions = [c for c in conditions if c is not None]
                    if not conditions:
                        report.results.append(TableResult(name, "skipped", detail=f"colonne {rule.column} absente"))
                    elif action == Action.ANONYMISE:
                        report.results.append(TableResult(name, "anonymised",
                                                          _anonymise(conn, table, rule, conditions[0])))
                    else:
                        result = conn.execute(delete(table).where(or_(*conditions)))
                        report.results.append(TableResult(name, "deleted", result.rowcount or 0))
        except Exception:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    if not dry_run:
        checkpoint(engine)  # the purged rows leave the write-ahead log too
    return report
