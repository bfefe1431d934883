"""Anonymous statistics on referrals for coordinators: counts, delays, CSV export.

Only aggregates leave this module: no reference code, conversation key, note or single timestamp.
No combination of published numbers may establish that 1 to 4 people have some attribute (a
commune, a channel, a level, a day...), so suppressing small cells is not enough (it can be undone by
subtracting visible cells from a total, or one period from another). Instead (`publish`):

- periods are whole ISO weeks (Paris time) that are over: a one-day period is widened to its week,
  and nothing can be learnt about one day by comparing two periods;
- in each (ISO week, département) the referrals are counted, one value per referral and dimension,
  and every count is rounded to a multiple of 5, up or down, so that each table still adds up to its
  rounded total (`round_counts`); a period or the whole country adds these rounded counts up;
- delays are published as counts per band ("de 1 à 4 h"), rounded like the rest: a median or a
  percentile over overlapping periods would escape the rounding;
- no breakdown is shown for a period below a minimum total.

Why it holds: the published numbers are also exactly the counts of another possible dataset, five
copies of each referral of a dataset whose counts are the rounded ones divided by 5, and that dataset
would publish the very same numbers (nothing to round). In it every count of every combination of
attributes, over any period and département, is a multiple of 5: whatever an attacker computes, they
cannot rule it out, so they cannot establish a count from 1 to 4 (tests/handoff/test_stats_disclosure.py).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.codes import LabelledCode
from bot.core.settings import default, secret_key, setting
from bot.directory.areas import departement_of_insee
from bot.handoff.referrals import Referral

PARIS = ZoneInfo("Europe/Paris")
MIN_COUNT_ENV = "AIGUILLAGE_STATS_MIN_COUNT"
MIN_TOTAL_ENV = "AIGUILLAGE_STATS_MIN_TOTAL"
DEFAULT_MIN_COUNT = default(MIN_COUNT_ENV)
DEFAULT_MIN_TOTAL = default(MIN_TOTAL_ENV)
UNKNOWN = "non_renseigne"

# Order matters: it is the order of the page sections and of the CSV rows.
DIMENSIONS = ("niveau", "organisme", "demarche", "departement", "commune", "canal", "semaine", "statut", "issue",
              "prise_en_charge", "cloture")
# Dimensions whose rows read best in their natural order rather than by decreasing count.
CHRONOLOGICAL = ("semaine",)


class DelayBand(LabelledCode):
    """Time from the referral to its claim ("prise_en_charge") or its closing ("cloture"), in bands."""

    UNDER_1H = ("moins_1h", "Moins d'une heure")
    H1_H4 = ("1h_4h", "De 1 à 4 h")
    H4_H24 = ("4h_24h", "De 4 à 24 h")
    D1_D3 = ("1j_3j", "De 1 à 3 jours")
    D3_D7 = ("3j_7j", "De 3 à 7 jours")
    OVER_7D = ("plus_7j", "Plus de 7 jours")


# Upper bound in seconds (excluded) of each band, and the band as its stored plain string.
DELAY_BANDS = ((3600, DelayBand.UNDER_1H.value), (4 * 3600, DelayBand.H1_H4.value),
               (24 * 3600, DelayBand.H4_H24.value), (3 * 86400, DelayBand.D1_D3.value),
               (7 * 86400, DelayBand.D3_D7.value), (math.inf, DelayBand.OVER_7D.value))
BANDED = ("prise_en_charge", "cloture")
# What is counted and rounded in each (week, département), one value per referral. "etat" is the
# status, the outcome and both delay bands together: those tables come from one rounding, so they
# agree with each other (a closed referral has an outcome, and a closing delay unless the person
# withdrew it by erasing it).
PARTITIONS = ("niveau", "organisme", "demarche", "commune", "canal", "etat")


def min_count_from_env() -> int:
    """AIGUILLAGE_STATS_MIN_COUNT: no count below it can be established (1 disables the protection)."""
    return setting(MIN_COUNT_ENV)


def min_total_from_env() -> int:
    """AIGUILLAGE_STATS_MIN_TOTAL: below this (rounded) total a period shows no breakdown, delays included."""
    return setting(MIN_TOTAL_ENV)


# --- small helpers -------------------------------------------------------------------------------------

def _utc(moment: Optional[datetime]) -> Optional[datetime]:
    # SQLite drops the offset; referrals are always stored in UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def iso_week(moment: datetime) -> str:
    """ISO week of a moment in Paris time, e.g. "2026-W05"."""
    year, week, _ = _utc(moment).astimezone(PARIS).isocalendar()
    return f"{year}-W{week:02d}"


def delay_band(created: datetime, moment: Optional[datetime]) -> str:
    """The band of the time from `created` to `moment`, "" when there is none."""
    if moment is None:
        return ""
    seconds = (_utc(moment) - created).total_seconds()
    return next(name for limit, name in DELAY_BANDS if seconds < limit) if seconds >= 0 else ""


def paris_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(timezone.utc)


def paris_today() -> date:
    return datetime.now(PARIS).date()


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
class Window:
    """The period really counted: whole ISO weeks (Monday to Sunday, Paris), none still running."""
    requested: StatsFilter
    filter: StatsFilter     # start a Monday (or None: from the first referral), end a Sunday
    widened: bool = False   # the dates asked for were moved out to whole weeks
    cut: bool = False       # the end asked for lies in a week not over yet
    empty: bool = False     # no whole week of the period is over


def whole_weeks(requested: StatsFilter, today: date) -> Window:
    """Widen a period to whole weeks and stop it at the last week that is over: two periods then
    differ by whole weeks, never by a day, and a week's figures do not move while people arrive."""
    last_over = today - timedelta(days=today.weekday() + 1)  # Sunday before this week's Monday
    start = requested.start - timedelta(days=requested.start.weekday()) if requested.start else None
    end = requested.end + timedelta(days=6 - requested.end.weekday()) if requested.end else last_over
    cut = requested.end is not None and end > last_over
    end = min(end, last_over)
    widened = (requested.start is not None and start != requested.start) or (
        requested.end is not None and not cut and end != requested.end)
    return Window(requested=requested, filter=StatsFilter(start, end, requested.departement),
                  widened=widened, cut=cut, empty=start is not None and start > end)


@dataclass(frozen=True)
class Rules:
    """How numbers are protected before anyone sees them (the page and the CSV use the same)."""
    min_count: int = DEFAULT_MIN_COUNT
    min_total: int = DEFAULT_MIN_TOTAL
    key: bytes = b""  # makes each week's up-or-down draws unpredictable; not needed for the guarantee

    @property
    def base(self) -> int:
        """Published numbers are multiples of it: 5 for a threshold up to 5, 10 up to 10...; 1 (exact
        numbers) when the protection is disabled."""
        return 1 if self.min_count <= 1 else 5 * math.ceil(self.min_count / 5)

    @classmethod
    def from_env(cls, min_count: Optional[int] = None, min_total: Optional[int] = None) -> "Rules":
        return cls(min_count=min_count if min_count is not None else min_count_from_env(),
                   min_total=min_total if min_total is not None else min_total_from_env(), key=secret_key())


@dataclass
class Group:
    """Referrals of one ISO week in one département (or without one): the unit that is rounded."""
    total: int = 0
    counts: dict = field(default_factory=lambda: {name: Counter() for name in PARTITIONS})


def _sorted_rows(counter: Counter, dimension: str) -> list[tuple[str, int]]:
    if dimension in CHRONOLOGICAL:
        return sorted(counter.items())
    if dimension in BANDED:
        order = [name for _, name in DELAY_BANDS]
        return sorted(counter.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return sorted(counter.items(), key=lambda item: (-item[1], item[0] == UNKNOWN, item[0]))


@dataclass
class Stats:
    """Exact counts: they never leave this module as they are (see `publish`)."""
    total: int = 0
    counts: dict = field(default_factory=dict)          # dimension -> Counter(value -> n)
    departements: list = field(default_factory=list)    # every département seen
    commune_names: dict = field(default_factory=dict)   # INSEE code -> public name of the commune
    groups: dict = field(default_factory=dict)          # (ISO week, département or UNKNOWN) -> Group, all of them
    filter: StatsFilter = StatsFilter()

    def rows(self, dimension: str) -> list[tuple[str, int]]:
        return _sorted_rows(self.counts.get(dimension, Counter()), dimension)


def _fact_value(facts: dict, key: str) -> str:
    # One value per referral, so that each table adds up to its total: several bodies count as one pair.
    value = (facts or {}).get(key)
    if isinstance(value, (list, tuple)):
        value = "+".join(sorted({str(v) for v in value if v not in (None, "")}))
    return str(value) if value not in (None, "") else UNKNOWN


def compute(session: Session, flt: StatsFilter = StatsFilter()) -> Stats:
    """Aggregate the referrals matching the filter (dates are Paris days, both ends included)."""
    query = select(Referral.created_at, Referral.level, Referral.facts, Referral.channel, Referral.status,
                   Referral.outcome, Referral.claimed_at, Referral.closed_at)
    if flt.start:
        query = query.where(Referral.created_at >= paris_day_start(flt.start))
    if flt.end:
        query = query.where(Referral.created_at < paris_day_start(flt.end + timedelta(days=1)))

    stats = Stats(counts={name: Counter() for name in DIMENSIONS}, filter=flt)
    departements: set[str] = set()
    for created_at, level, facts, channel, status, outcome, claimed_at, closed_at in session.execute(query):
        facts = facts if isinstance(facts, dict) else {}
        dep = departement_of_insee(facts.get("commune_insee"))
        if dep:
            departements.add(dep)
        created = _utc(created_at)
        insee = str(facts.get("commune_insee") or UNKNOWN)
        bands = (delay_band(created, claimed_at), delay_band(created, closed_at))
        values = {"niveau": level or UNKNOWN, "organisme": _fact_value(facts, "organisme"),
                  "demarche": _fact_value(facts, "demarche"), "commune": insee, "canal": channel or UNKNOWN,
                  # the status first: each status's cells are side by side, so its total is rounded once
                  "etat": "|".join((status or UNKNOWN, outcome or "", *bands))}
        group = stats.groups.setdefault((iso_week(created), dep or UNKNOWN), Group())
        group.total += 1
        for name in PARTITIONS:
            group.counts[name][values[name]] += 1
        if flt.departement and dep != flt.departement:
            continue
        stats.total += 1
        counts = stats.counts
        for key in ("niveau", "organisme", "demarche"):
            counts[key][values[key]] += 1
        counts["departement"][dep or UNKNOWN] += 1
        counts["commune"][insee] += 1
        if insee != UNKNOWN and isinstance(facts.get("commune"), str) and facts["commune"] != "position":
            stats.commune_names.setdefault(insee, facts["commune"])
        counts["canal"][channel or UNKNOWN] += 1
        counts["semaine"][iso_week(created)] += 1
        counts["statut"][status or UNKNOWN] += 1
        if outcome:
            counts["issue"][outcome] += 1
        for name, band in zip(BANDED, bands):
            if band:
                counts[name][band] += 1
    stats.departements = sorted(departements)
    return stats


# --- protection: rounding per week and département -------------------------------------------------------

def _draw(rules: Rules, week: str, dep: str) -> float:
    """A point in [0, base), fixed for a (week, département): the same question always gets the same
    answer, so asking again and averaging teaches nothing."""
    digest = hmac.new(rules.key, f"statistiques|{week}|{dep}".encode(), hashlib.sha256).digest()
    return rules.base * int.from_bytes(digest[:8], "big") / 2 ** 64


def _points(start: int, stop: int, draw: float, base: int) -> int:
    """How many of draw, draw + base, draw + 2 * base... lie in [start, stop)."""
    def below(x: int) -> int:
        return 0 if x <= draw else math.ceil((x - draw) / base)
    return below(stop) - below(start)


def round_total(total: int, draw: float, base: int) -> int:
    rest = total % base
    return total - rest + base * _points(0, rest, draw, base)


def round_counts(counts: Counter, draw: float, base: int) -> Counter:
    """Each count to the multiple of `base` just below or just above it, the rounded counts adding up to
    `round_total` of their sum (with the same draw). Remainders are laid end to end and a count goes up
    when a point draw + k * base falls on its stretch: a remainder r goes up with probability r / base
    over the draws, so sums stay right on average. Zeros are left out."""
    rounded, position = Counter(), 0
    for value in sorted(counts):
        rest = counts[value] % base
        rounded[value] = counts[value] - rest + base * _points(position, position + rest, draw, base)
        position += rest
    return +rounded


@dataclass
class Published:
    """What a coordinator may see: rounded counts, and only what the rules allow."""
    rules: Rules
    total: int = 0
    counts: dict = field(default_factory=lambda: {name: Counter() for name in DIMENSIONS})
    departements: list = field(default_factory=list)    # départements with a published referral (filter menu)
    commune_names: dict = field(default_factory=dict)
    detailed: bool = False                              # the total is high enough for breakdowns

    def rows(self, dimension: str) -> list[tuple[str, int]]:
        return _sorted_rows(self.counts.get(dimension, Counter()), dimension)


def publish(stats: Stats, rules: Rules) -> Published:
    """The numbers the page and the CSV show, from exact counts (see the module's docstring)."""
    out = Published(rules=rules)
    counts = out.counts
    shown_deps = set()
    for (week, dep), group in sorted(stats.groups.items()):
        draw = _draw(rules, week, dep)
        total = round_total(group.total, draw, rules.base)
        if total and dep != UNKNOWN:
            shown_deps.add(dep)
        if stats.filter.departement and dep != stats.filter.departement:
            continue
        out.total += total
        counts["departement"][dep] += total
        counts["semaine"][week] += total
        for name in PARTITIONS:
            for value, count in round_counts(group.counts[name], draw, rules.base).items():
                if name == "etat":
                    status, outcome, *bands = value.split("|")
                    counts["statut"][status] += count
                    if outcome:
                        counts["issue"][outcome] += count
                    for banded, band in zip(BANDED, bands):
                        if band:
                            counts[banded][band] += count
                else:
                    counts[name][value] += count
    out.departements = sorted(shown_deps | ({stats.filter.departement} if stats.filter.departement else set()))
    out.detailed = out.total > 0 and out.total >= rules.min_total
    if not out.detailed:
        out.counts = {name: Counter() for name in DIMENSIONS}
        return out
    out.counts = {name: +counter for name, counter in counts.items()}
    out.commune_names = {code: name for code, name in stats.commune_names.items() if code in out.counts["commune"]}
    return out


def published_for(session: Session, window: Window, rules: Rules) -> Published:
    """Compute and protect the statistics of a period (already made of whole weeks)."""
    if window.empty:
        return publish(Stats(filter=window.filter), rules)
    return publish(compute(session, window.filter), rules)


# --- CSV -----------------------------------------------------------------------------------------------

def _cell(value) -> str:
    # Values are codes, but a cell starting like a formula must never be run by a spreadsheet.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(published: Published) -> str:
    """Semicolon CSV with a BOM: a long table `dimension;valeur;nombre`, the total first. The same
    numbers as the page: only the total when the period is too small for breakdowns."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["dimension", "valeur", "nombre"])
    writer.writerow(["total", "ensemble", published.total])
    for dimension in DIMENSIONS:
        for value, count in published.rows(dimension):
            writer.writerow([dimension, _cell(value), count])
    return "\ufeff" + out.getvalue()
