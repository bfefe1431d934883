"""Anonymous statistics on referrals for coordinators: counts, delays, CSV export.

Only aggregates leave this module: no reference code, conversation key, note or single timestamp.
Small counts are suppressed (shown as "< N") so a cell cannot point at one person in a small commune.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Optional, Union
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.referrals import Referral

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_MIN_COUNT = 3
UNKNOWN = "non_renseigne"
MASKED = "masqué"  # a count hidden only so that a "< N" cell cannot be worked out from the total

# Order matters: it is the order of the page sections and of the CSV rows.
DIMENSIONS = ("niveau", "organisme", "demarche", "departement", "commune", "canal", "semaine", "statut", "issue")
# Dimensions whose rows read best in their natural order rather than by decreasing count.
CHRONOLOGICAL = ("semaine",)


def min_count_from_env() -> int:
    """AIGUILLAGE_STATS_MIN_COUNT: counts below it are hidden (1 disables hiding)."""
    raw = os.environ.get("AIGUILLAGE_STATS_MIN_COUNT", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MIN_COUNT
    except ValueError:
        return DEFAULT_MIN_COUNT


# --- small helpers -------------------------------------------------------------------------------------

def departement_of(insee: Optional[str]) -> Optional[str]:
    """Département code of an INSEE commune code: "35238"→"35", "2A004"→"2A", "97411"→"974"."""
    code = str(insee or "").strip().upper()
    if len(code) != 5:
        return None
    if code[:2] in ("97", "98"):  # overseas: three characters
        return code[:3] if code[:3].isdigit() else None
    if code[:2] in ("2A", "2B") or code[:2].isdigit():
        return code[:2]
    return None


def _utc(moment: Optional[datetime]) -> Optional[datetime]:
    # SQLite drops the offset; referrals are always stored in UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def iso_week(moment: datetime) -> str:
    """ISO week of a moment in Paris time, e.g. "2026-W05"."""
    year, week, _ = _utc(moment).astimezone(PARIS).isocalendar()
    return f"{year}-W{week:02d}"


def percentile(values: list[float], q: float) -> Optional[float]:
    """Linear-interpolated percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def paris_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(timezone.utc)


# --- model ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatsFilter:
    start: Optional[date] = None        # first day included (Paris)
    end: Optional[date] = None          # last day included (Paris)
    departement: Optional[str] = None   # "35", "2A", "974"

    @classmethod
    def parse(cls, start: Optional[str], end: Optional[str], departement: Optional[str]) -> "StatsFilter":
        """From query-string values; anything malformed is ignored rather than refused."""
        def day(text: Optional[str]) -> Optional[date]:
            try:
                return date.fromisoformat((text or "").strip()) if (text or "").strip() else None
            except ValueError:
                return None

        dep = (departement or "").strip().upper()
        valid_dep = dep if (len(dep) in (2, 3) and (dep.isdigit() or dep in ("2A", "2B"))) else None
        first, last = day(start), day(end)
        if first and last and first > last:
            first, last = last, first
        return cls(start=first, end=last, departement=valid_dep)


@dataclass(frozen=True)
class Delay:
    """Median and 90th percentile of a delay, in seconds, over `count` referrals."""
    count: int
    median: Optional[float]
    p90: Optional[float]


@dataclass
class Stats:
    total: int = 0
    counts: dict = field(default_factory=dict)          # dimension -> Counter(value -> n)
    claim_delays: dict = field(default_factory=dict)    # level or "ensemble" -> Delay
    close_delays: dict = field(default_factory=dict)
    departements: list = field(default_factory=list)    # every département seen (for the filter menu)
    commune_names: dict = field(default_factory=dict)   # INSEE code -> public name of the commune

    def rows(self, dimension: str) -> list[tuple[str, int]]:
        counter = self.counts.get(dimension, Counter())
        if dimension in CHRONOLOGICAL:
            return sorted(counter.items())
        return sorted(counter.items(), key=lambda item: (-item[1], item[0] == UNKNOWN, item[0]))


def _fact_values(facts: dict, key: str) -> list[str]:
    value = (facts or {}).get(key)
    if value in (None, "", []):
        return [UNKNOWN]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")] or [UNKNOWN]
    return [str(value)]


def _delay(values: list[float]) -> Delay:
    return Delay(count=len(values), median=percentile(values, 50), p90=percentile(values, 90))


def compute(session: Session, flt: StatsFilter = StatsFilter()) -> Stats:
    """Aggregate the referrals matching the filter (dates are Paris days, both ends included)."""
    query = select(Referral.created_at, Referral.level, Referral.facts, Referral.channel, Referral.status,
                   Referral.outcome, Referral.claimed_at, Referral.closed_at)
    if flt.start:
        query = query.where(Referral.created_at >= paris_day_start(flt.start))
    if flt.end:
        query = query.where(Referral.created_at < paris_day_start(flt.end + timedelta(days=1)))

    stats = Stats(counts={name: Counter() for name in DIMENSIONS})
    claims: dict[str, list[float]] = {}
    closes: dict[str, list[float]] = {}
    departements: set[str] = set()
    for created_at, level, facts, channel, status, outcome, claimed_at, closed_at in session.execute(query):
        facts = facts if isinstance(facts, dict) else {}
        dep = departement_of(facts.get("commune_insee"))
        if dep:
            departements.add(dep)
        if flt.departement and dep != flt.departement:
            continue
        stats.total += 1
        created = _utc(created_at)
        counts = stats.counts
        counts["niveau"][level or UNKNOWN] += 1
        for key in ("organisme", "demarche"):
            for value in _fact_values(facts, key):
                counts[key][value] += 1
        counts["departement"][dep or UNKNOWN] += 1
        insee = str(facts.get("commune_insee") or UNKNOWN)
        counts["commune"][insee] += 1
        if insee != UNKNOWN and isinstance(facts.get("commune"), str) and facts["commune"] != "position":
            stats.commune_names.setdefault(insee, facts["commune"])
        counts["canal"][channel or UNKNOWN] += 1
        counts["semaine"][iso_week(created)] += 1
        counts["statut"][status or UNKNOWN] += 1
        if outcome:
            counts["issue"][outcome] += 1
        for moment, bucket in ((claimed_at, claims), (closed_at, closes)):
            if moment is not None:
                seconds = (_utc(moment) - created).total_seconds()
                if seconds >= 0:
                    bucket.setdefault(level or UNKNOWN, []).append(seconds)
                    bucket.setdefault("ensemble", []).append(seconds)
    stats.claim_delays = {key: _delay(values) for key, values in claims.items()}
    stats.close_delays = {key: _delay(values) for key, values in closes.items()}
    stats.departements = sorted(departements)
    return stats


# --- suppression of small counts -----------------------------------------------------------------------

Shown = Union[int, str]


def shown(count: int, min_count: int) -> Shown:
    """The count, or "< N" when it is small enough to point at someone."""
    return count if count >= min_count or count == 0 else f"< {min_count}"


def protected_rows(rows: list[tuple[str, int]], min_count: int) -> list[tuple[str, Shown]]:
    """Rows with small counts hidden. When exactly one cell is hidden, the next smallest is hidden
    too: otherwise the total minus the other cells would give the hidden value back."""
    small = {i for i, (_, n) in enumerate(rows) if 0 < n < min_count}
    masked = set()
    if len(small) == 1 and len(rows) > 1:
        masked.add(min((n, i) for i, (_, n) in enumerate(rows) if i not in small)[1])
    return [(value, f"< {min_count}" if i in small else MASKED if i in masked else n)
            for i, (value, n) in enumerate(rows)]


def protected_delay(delay: Optional[Delay], min_count: int) -> Optional[Delay]:
    """Delays computed on too few referrals are withheld: one delay would date one person's visit."""
    if delay is None or delay.count < min_count:
        return None
    return delay


# --- CSV -----------------------------------------------------------------------------------------------

def hours(seconds: Optional[float]) -> str:
    """Hours with a decimal comma, as French spreadsheets expect; empty when unknown."""
    return "" if seconds is None else f"{seconds / 3600:.1f}".replace(".", ",")


def _cell(value) -> str:
    # Values are codes, but a cell starting like a formula must never be run by a spreadsheet.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(stats: Stats, min_count: int, levels: Iterable[str] = ()) -> str:
    """Semicolon CSV with a BOM: a long table `dimension;valeur;nombre`, a blank line, then delays."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["dimension", "valeur", "nombre"])
    writer.writerow(["total", "ensemble", shown(stats.total, min_count)])
    for dimension in DIMENSIONS:
        for value, count in protected_rows(stats.rows(dimension), min_count):
            writer.writerow([dimension, _cell(value), count])
    writer.writerow([])
    writer.writerow(["delai", "niveau", "nombre", "mediane_heures", "p90_heures"])
    for name, delays in (("prise_en_charge", stats.claim_delays), ("cloture", stats.close_delays)):
        keys = [k for k in delays if k != "ensemble"]
        ordered = [k for k in levels if k in keys] + sorted(k for k in keys if k not in levels) + ["ensemble"]
        for key in ordered:
            raw = delays.get(key)
            if raw is None:
                continue
            delay = protected_delay(raw, min_count)
            writer.writerow([name, _cell(key), shown(raw.count, min_count),
                             hours(delay.median) if delay else "", hours(delay.p90) if delay else ""])
    return "\ufeff" + out.getvalue()
