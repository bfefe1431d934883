"""Find the nearest places that fit a need.

Pipeline: an in-memory index of the directory (bot/directory/index.py: coordinates, per-level
eligibility and programme bonus of every place, rebuilt when the directory changes) gives, with
a few vectorised operations, the in-person candidates within the radius and the remote ones;
candidates are scored best lower bound first (distance - programme bonus + stale penalty, the
wait for opening can only add to it) with an early stop, so opening hours are evaluated for a
handful of places, and only the winners are loaded as Place, in one query. This keeps searches
at a few milliseconds on the ~20,000-place national directory (bench/search_bench.py).

Levels (national strategy for digital inclusion):
- "urgence": service "Aide aux démarches administratives" AND "Accompagnement individuel";
- "inclusion": "Accompagnement individuel" (someone who helps regularly);
- "montee_en_competence": "Dans un atelier collectif" (workshops, training).
Specific needs (Need.specific) must all appear in `prise_en_charge_specifique`.

Score (lower is better), expressed in "equivalent kilometres":
    score = distance_km + wait_hours * WAIT_KM_PER_HOUR[level]
            + STALE_PENALTY_KM (if date_maj older than AIGUILLAGE_STALE_AFTER_MONTHS, 12)
            - sum of PROGRAMME_BONUS_KM[level] for the place's national programmes (capped)
`wait_hours` is the time until the next opening (0 if open now); unknown or unparseable hours
count as UNKNOWN_WAIT_HOURS, and no opening within the hours horizon as MAX_WAIT_HOURS.
For an urgence, waiting matters a lot (0.25 km per hour: a day's wait weighs 6 km, so a place
open today beats a nearer one open next week) and Aidants Connect / France Services places get a
bonus since they can act *for* the person. For inclusion and workshops, distance dominates
(a week's wait weighs under 2 km) and Conseillers numériques get a small bonus.

Remote list: places offering "À distance" that fit the level (for an urgence, the démarches
service) and the specific needs, and that serve the person's département (bot/directory/areas.py:
a remote place serves its own département, more only when AIGUILLAGE_REMOTE_AREAS says so; a
person whose département is unknown gets only the places serving the whole country); ranked by
distance minus the programme bonus (a nearby remote service knows the local offices), places
without coordinates last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import FrozenSet, Iterable, List, Optional, Tuple

from sqlalchemy import bindparam, or_, select

from bot.core.moments import to_paris
from bot.directory.areas import NO_EXTRA_AREAS, RemoteAreas
from bot.directory.hours import Opening, opening_status
from bot.directory.importing.standard_versions import canonical_enum_value
from bot.directory.index import directory_index
from bot.directory.matching import (
    LEVEL_COMPETENCE,
    LEVEL_INCLUSION,
    LEVEL_URGENCE,
    LEVELS,
    STALE_PENALTY_KM,
    bounding_box,
    haversine_km,
    programme_bonus,
    stale_after_months,
)
from bot.directory.models import Place, date_is_stale

# Scoring weights (see module docstring).
WAIT_KM_PER_HOUR = {LEVEL_URGENCE: 0.25, LEVEL_INCLUSION: 0.01, LEVEL_COMPETENCE: 0.005}
UNKNOWN_WAIT_HOURS = 48.0
MAX_WAIT_HOURS = 24.0 * 14
SCORE_MARGIN = 1e-6  # sort keys round scores to 6 decimals: a bound this much above is a sure loss


@dataclass(frozen=True)
class Need:
    level: str  # "urgence" | "inclusion" | "montee_en_competence"
    specific: FrozenSet[str] = frozenset()  # values of prise_en_charge_specifique, e.g. "Surdité"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}; expected one of {LEVELS}")


@dataclass
class PlaceMatch:
    place: Place
    distance_km: Optional[float]  # None for a remote place without coordinates
    open_now: Optional[bool]  # None when hours are missing or unreadable
    next_opening: Optional[datetime]
    hours_stale: bool
    opening: Optional[Opening] = None  # full hours state (closes_at, comment) for rendering
    score: float = 0.0


@dataclass
class SearchResult:
    matches: List[PlaceMatch]
    radius_km: float
    remote: List[PlaceMatch] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.matches


def _canonical_specific(values: Iterable[str]) -> FrozenSet[str]:
    return frozenset(canonical_enum_value("prise_en_charge_specifique", v) or v for v in values)


def _score(level: str, distance_km: float, opening: Optional[Opening], now: datetime, stale: bool,
           place) -> float:
    if opening is None:
        wait = UNKNOWN_WAIT_HOURS
    elif opening.open_now:
        wait = 0.0
    elif opening.next_opening is None:
        wait = MAX_WAIT_HOURS
    else:
        wait = min(MAX_WAIT_HOURS, max(0.0, (opening.next_opening - now).total_seconds() / 3600.0))
    return (
        distance_km
        + wait * WAIT_KM_PER_HOUR[level]
        + (STALE_PENALTY_KM if stale else 0.0)
        - programme_bonus(place, level)
    )


def _make_match(place, distance: Optional[float], level: str, now: datetime, today: date) -> PlaceMatch:
    opening = opening_status(place.horaires, now)
    stale = date_is_stale(place.date_maj, today, stale_after_months())
    score = _score(level, distance if distance is not None else 0.0, opening, now, stale, place)
    return PlaceMatch(
        place=place,
        distance_km=distance,
        open_now=None if opening is None else opening.open_now,
        next_opening=None if opening is None else opening.next_opening,
        hours_stale=stale,
        opening=opening,
        score=score,
    )


def _sort_key(match: PlaceMatch) -> Tuple[float, float, str]:
    distance = match.distance_km if match.distance_km is not None else math.inf
    return (round(match.score, 6), distance, match.place.id)


def _within_stmt(columns, latitude: float, longitude: float, radius_km: float):
    min_lat, max_lat, lon_ranges = bounding_box(latitude, longitude, radius_km)
    return select(*columns).where(
        Place.withdrawn_at.is_(None),
        Place.latitude.is_not(None),
        Place.longitude.is_not(None),
        Place.latitude.between(min_lat, max_lat),
        or_(*[Place.longitude.between(lo, hi) for lo, hi in lon_ranges]),
    )


def _nearest_first(rows, latitude: float, longitude: float, radius_km: float) -> List[Tuple[object, float]]:
    found = []
    for row in rows:
        distance = haversine_km(latitude, longitude, row.latitude, row.longitude)
        if distance <= radius_km:
            found.append((row, distance))
    found.sort(key=lambda item: (item[1], item[0].id))
    return found


def places_within(session, latitude: float, longitude: float, radius_km: float) -> List[Tuple[Place, float]]:
    """All places within `radius_km` (exact haversine), nearest first; bbox prefilter in SQL."""
    rows = session.execute(_within_stmt((Place,), latitude, longitude, radius_km)).scalars()
    return _nearest_first(rows, latitude, longitude, radius_km)


# Built once: the statement cache then skips building and keying it on every search.
_PLACES_BY_ID = select(Place).where(Place.id.in_(bindparam("ids", expanding=True)))


def _load_places(session, matches: List[PlaceMatch]) -> List[PlaceMatch]:
    """Swap the light rows of the winners for full Place objects."""
    if not matches:
        return matches
    ids = [m.place.id for m in matches]
    places = {p.id: p for p in session.execute(_PLACES_BY_ID, {"ids": ids}).scalars()}
    for match in matches:
        match.place = places[match.place.id]
    return matches


def find_places(
    session,
    latitude: float,
    longitude: float,
    need: Need,
    *,
    radius_km: float = 15.0,
    now: Optional[datetime] = None,
    limit: int = 3,
    departement: Optional[str] = None,
    remote_areas: RemoteAreas = NO_EXTRA_AREAS,
) -> SearchResult:
    """Best `limit` in-person places within `radius_km`, plus up to `limit` remote ones.

    `remote` lists places offering "À distance" for the level that serve a person of `departement`
    (with `remote_areas`, the places that serve more than their own), nearest first with the
    programme bonus, places without coordinates last, excluding places already in `matches`. An
    empty `matches` is a normal outcome: the caller may widen the radius or offer remote help / the
    helpline.
    """
    now = to_paris(now)
    today = now.date()
    level = need.level
    wanted = _canonical_specific(need.specific)
    index = directory_index(session)

    matches: List[PlaceMatch] = []
    candidates = index.nearby(level, latitude, longitude, radius_km, wanted, today) if limit > 0 else []
    for bound, row in candidates:
        # Candidates come by lower bound of their score (the score without the wait for opening),
        # so once the bound exceeds the limit-th best score no later place can enter the list:
        # opening hours are evaluated for a handful of places, even in dense cities.
        if len(matches) >= limit and bound > matches[-1].score + SCORE_MARGIN:
            break
        distance = haversine_km(latitude, longitude, row.latitude, row.longitude)
        if distance > radius_km:
            continue
        matches.append(_make_match(row, distance, level, now, today))
        matches.sort(key=_sort_key)
        del matches[limit:]

    shown = {m.place.id for m in matches}
    remote = [_make_match(row, distance, level, now, today)
              for row, distance in index.remote(level, latitude, longitude, wanted, shown, limit, departement,
                                                remote_areas.serving(departement))]
    _load_places(session, matches + remote)  # one query for both lists
    return SearchResult(matches=matches, radius_km=radius_km, remote=remote)


def find_remote(session, need: Need, *, latitude: Optional[float] = None, longitude: Optional[float] = None,
                departement: Optional[str] = None, remote_areas: RemoteAreas = NO_EXTRA_AREAS,
                now: Optional[datetime] = None, limit: int = 3) -> List[PlaceMatch]:
    """Places offering remote help for the level that serve a person of `departement` (see find_places),
    for a person who cannot or will not travel."""
    now = to_paris(now)
    index = directory_index(session)
    remote = [_make_match(row, distance, need.level, now, now.date())
              for row, distance in index.remote(need.level, latitude, longitude, _canonical_specific(need.specific),
                                                (), limit, departement, remote_areas.serving(departement))]
    return _load_places(session, remote)
