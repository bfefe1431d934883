"""Retention: after AIGUILLAGE_RETENTION_DAYS, personal data goes; anonymous referral rows stay.

What a purge does for data older than the delay:
- referrals (`orientations`): the conversation key becomes "purge" and the reference code is
  replaced by a value no typed code can match; level, fact codes, commune, channel, status and
  timestamps stay, so statistics are the same before and after;
- rows of tables linked to a purged referral (mediator notes, console journal...) are deleted;
- Rasa tracker events, helpline callbacks, SMS and Telegram bookkeeping rows are deleted by date.
Tables are discovered with the SQLAlchemy inspector: a table that does not exist is skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import Float, Integer, MetaData, Numeric, Table, and_, bindparam, delete, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.types import Date, DateTime

from bot.db import checkpoint
from bot.referrals import ERASED_KEY

DEFAULT_RETENTION_DAYS = 90
PURGED_KEY = "purge"
REFERRALS = "orientations"
TRACKER_EVENTS = "events"

# Tables purged by their own date. Explicit names, plus prefixes for the channels' bookkeeping.
DATED_TABLES = ("rappels", "appels_ligne", "journal_console")
DATED_PREFIXES = ("sms_", "telegram_")
# Kept whatever their age: an opt-out ("STOP") must be honoured for as long as we can send SMS.
NEVER_PURGED = ("sms_opt_outs",)
# Which date column says how old a row is, by preference; else the first date/time column.
DATE_COLUMNS = ("created_at", "cree_le", "horodatage", "at", "called_at", "received_at", "seen_at",
                "updated_at", "sent_at", "date")


class RetentionError(ValueError):
    pass


def retention_days_from_env() -> int:
    raw = os.environ.get("AIGUILLAGE_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError as exc:
        raise RetentionError(f"AIGUILLAGE_RETENTION_DAYS must be a whole number of days, got {raw!r}") from exc
    return check_days(days)


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


def _date_column(table: Table):
    columns = {c.name: c for c in table.columns}
    for name in DATE_COLUMNS:
        if name in columns and isinstance(columns[name].type, (DateTime, Date)):
            return columns[name]
    return next((c for c in table.columns if isinstance(c.type, DateTime)), None)


def _referral_fk(table: Table):
    """The column of `table` pointing at orientations.id, if any (notes, journal...)."""
    for column in table.columns:
        for fk in column.foreign_keys:
            if fk.target_fullname.split(".")[0] == REFERRALS:
                return column
    return None


def _is_notes(name: str) -> bool:
    return "note" in name.lower()


def purge(engine: Engine, days: Optional[int] = None, now: Optional[datetime] = None,
          dry_run: bool = False) -> PurgeReport:
    """Purge personal data older than `days` (default AIGUILLAGE_RETENTION_DAYS, else 90).
    Runs in one transaction; a dry run does the same work and rolls it back, so counts are exact."""
    days = check_days(days) if days is not None else retention_days_from_env()
    now = now or datetime.now(timezone.utc)
    cutoff = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(timezone.utc) - timedelta(days=days)
    report = PurgeReport(cutoff=cutoff, days=days, dry_run=dry_run)

    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            existing = set(inspect(conn).get_table_names())
            metadata = MetaData()

            def reflect(name: str) -> Table:
                return Table(name, metadata, autoload_with=conn)

            referrals = reflect(REFERRALS) if REFERRALS in existing else None
            old_referral_ids = (select(referrals.c.id).where(referrals.c.created_at < cutoff)
                                if referrals is not None else None)

            # 1. Rows hanging off referrals (notes, journal): gone with the referral's personal data.
            linked_done = set()
            for name in sorted(existing):
                if name == REFERRALS:
                    continue
                table = reflect(name)
                fk = _referral_fk(table) if referrals is not None else None
                if fk is None:
                    continue
                date_col = _date_column(table)
                condition = fk.in_(old_referral_ids)
                if date_col is not None:
                    condition = condition | (date_col < cutoff)
                result = conn.execute(delete(table).where(condition))
                report.results.append(TableResult(name, "deleted", result.rowcount or 0))
                linked_done.add(name)

            # 2. Notes not linked by a foreign key, and the channels' dated tables.
            for name in sorted(existing):
                if name in linked_done or name in (REFERRALS, TRACKER_EVENTS) or name in NEVER_PURGED:
                    continue
                if not (name in DATED_TABLES or name.startswith(DATED_PREFIXES) or _is_notes(name)):
                    continue
                table = reflect(name)
                date_col = _date_column(table)
                if date_col is None:
                    report.results.append(TableResult(name, "skipped", detail="pas de colonne de date"))
                    continue
                result = conn.execute(delete(table).where(date_col < cutoff))
                report.results.append(TableResult(name, "deleted", result.rowcount or 0))

            # 3. Rasa tracker store: `timestamp` is an epoch float.
            if TRACKER_EVENTS in existing:
                events = reflect(TRACKER_EVENTS)
                stamp = events.c.get("timestamp")
                if stamp is not None and isinstance(stamp.type, (Float, Numeric, Integer)):
                    result = conn.execute(delete(events).where(stamp < cutoff.timestamp()))
                    report.results.append(TableResult(TRACKER_EVENTS, "deleted", result.rowcount or 0))
                else:
                    report.results.append(TableResult(TRACKER_EVENTS, "skipped", detail="colonne timestamp absente"))
            else:
                report.results.append(TableResult(TRACKER_EVENTS, "skipped", detail="table absente"))

            # 4. Referrals: keep the row for statistics, drop what links it to a person.
            if referrals is not None:
                # An erasure's residue is anonymous already, and must stay out of the console.
                stale = and_(referrals.c.created_at < cutoff,
                             referrals.c.conversation_key.notin_([PURGED_KEY, ERASED_KEY]))
                ids = [row[0] for row in conn.execute(select(referrals.c.id).where(stale))]
                if ids:
                    # "~" is outside the code alphabet: a purged reference can never be typed or dictated.
                    conn.execute(update(referrals).where(referrals.c.id == bindparam("rid"))
                                 .values(conversation_key=PURGED_KEY, reference=bindparam("ref")),
                                 [{"rid": i, "ref": f"~{i:x}"[:8]} for i in ids])
                result_count = len(ids)
                report.results.append(TableResult(REFERRALS, "anonymised", result_count))
            else:
                report.results.append(TableResult(REFERRALS, "skipped", detail="table absente"))
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
