"""Find the nearest places that fit a need.

Pipeline: a bounding-box SQL prefilter on (latitude, longitude) (indexed), a coarse SQL text
filter on the level's vocabulary, then exact checks, haversine distance and opening hours in
Python. This stays fast on the ~20,000-place national directory: only places inside the box are
loaded.

Levels (national strategy for digital inclusion):
- "urgence": service "Aide aux démarches administratives" AND "Accompagnement individuel";
- "inclusion": "Accompagnement individuel" (someone who helps regularly);
- "montee_en_competence": "Dans un atelier collectif" (workshops, training).
Specific needs (Need.specific) must all appear in `prise_en_charge_specifique`.

Score (lower is better), expressed in "equivalent kilometres":
    score = distance_km + wait_hours * WAIT_KM_PER_HOUR[level]
            + STALE_PENALTY_KM (if date_maj older than 12 months)
            - sum of PROGRAMME_BONUS_KM[level] for the place's national programmes (capped)
`wait_hours` is the time until the next opening (0 if open now); unknown or unparseable hours
count as UNKNOWN_WAIT_HOURS, and no opening within the hours horizon as MAX_WAIT_HOURS.
For an urgence, waiting matters a lot (a place open today beats a nearer one open next week) and
Aidants Connect / France Services places get a bonus since they can act *for* the person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import FrozenSet, Iterable, List, Optional, Tuple

from sqlalchemy import and_, or_, select

from bot.directory.models import (
    MODALITE_COLLECTIF,
    MODALITE_DISTANCE,
    MODALITE_INDIVIDUEL,
    PROGRAMME_AIDANTS_CONNECT,
    PROGRAMME_CONSEILLERS,
    PROGRAMME_FRANCE_SERVICES,
    SERVICE_DEMARCHES,
    Place,
)
from bot.hours import Opening, opening_status, to_paris

LEVEL_URGENCE = "urgence"
LEVEL_INCLUSION = "inclusion"
LEVEL_COMPETENCE = "montee_en_competence"
LEVELS = (LEVEL_URGENCE, LEVEL_INCLUSION, LEVEL_COMPETENCE)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180.0

# Scoring weights (see module docstring).
WAIT_KM_PER_HOUR = {LEVEL_URGENCE: 0.25, LEVEL_INCLUSION: 0.01, LEVEL_COMPETENCE: 0.005}
UNKNOWN_WAIT_HOURS = 48.0
MAX_WAIT_HOURS = 24.0 * 14
STALE_PENALTY_KM = 2.0
PROGRAMME_BONUS_KM = {
    LEVEL_URGENCE: {PROGRAMME_AIDANTS_CONNECT: 3.0, PROGRAMME_FRANCE_SERVICES: 3.0, PROGRAMME_CONSEILLERS: 0.5},
    LEVEL_INCLUSION: {PROGRAMME_CONSEILLERS: 1.0, PROGRAMME_FRANCE_SERVICES: 0.5},
    LEVEL_COMPETENCE: {PROGRAMME_CONSEILLERS: 1.0},
}
MAX_PROGRAMME_BONUS_KM = 4.0
STALE_AFTER_MONTHS = 12


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


# --- Geometry ---------------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, radius_km: float) -> Tuple[float, float, List[Tuple[float, float]]]:
    """(min_lat, max_lat, [(min_lon, max_lon), ...]) enclosing the circle.

    Several longitude ranges when the box crosses the antimeridian; the full range near the poles.
    A small margin keeps the box a superset of the haversine circle.
    """
    dlat = radius_km / KM_PER_DEGREE_LAT * 1.01
    min_lat, max_lat = latitude - dlat, latitude + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return max(min_lat, -90.0), min(max_lat, 90.0), [(-180.0, 180.0)]
    # Widest longitude span is at the box latitude farthest from the equator.
    cos_lat = min(math.cos(math.radians(min_lat)), math.cos(math.radians(max_lat)))
    dlon = radius_km / (KM_PER_DEGREE_LAT * cos_lat) * 1.01
    if dlon >= 180.0:
        return min_lat, max_lat, [(-180.0, 180.0)]
    lo, hi = longitude - dlon, longitude + dlon
    if lo < -180.0:
        return min_lat, max_lat, [(lo + 360.0, 180.0), (-180.0, hi)]
    if hi > 180.0:
        return min_lat, max_lat, [(lo, 180.0), (-180.0, hi - 360.0)]
    return min_lat, max_lat, [(lo, hi)]


# --- Matching ---------------------------------------------------------------------------------


def _canonical_specific(values: Iterable[str]) -> FrozenSet[str]:
    from bot.directory.importer import canonical_enum_value

    out = set()
    for value in values:
        out.add(canonical_enum_value("prise_en_charge_specifique", value) or value)
    return frozenset(out)


def _specific_ok(place: Place, wanted: FrozenSet[str]) -> bool:
    offered = place.prise_en_charge_list
    for need in wanted:
        # "Langues étrangères" (unqualified) accepts either the English or the "autres" variant.
        if not any(value == need or value.startswith(need + " (") for value in offered):
            return False
    return True


def matches_level(place: Place, level: str) -> bool:
    """In-person fit for the level (remote-only places are handled separately)."""
    if not place.receives_public:
        return False
    if level == LEVEL_URGENCE:
        return place.has_service(SERVICE_DEMARCHES) and place.has_modalite(MODALITE_INDIVIDUEL)
    if level == LEVEL_INCLUSION:
        return place.has_modalite(MODALITE_INDIVIDUEL)
    return place.has_modalite(MODALITE_COLLECTIF)


def matches_remote(place: Place, level: str) -> bool:
    if not place.has_modalite(MODALITE_DISTANCE):
        return False
    if level == LEVEL_URGENCE:
        return place.has_service(SERVICE_DEMARCHES)
    return True


def _level_sql(level: str):
    """Coarse SQL filter (LIKE); the exact check is done in Python."""
    if level == LEVEL_URGENCE:
        return and_(
            Place.services.like(f"%{SERVICE_DEMARCHES}%"),
            Place.modalites_accompagnement.like(f"%{MODALITE_INDIVIDUEL}%"),
        )
    if level == LEVEL_INCLUSION:
        return Place.modalites_accompagnement.like(f"%{MODALITE_INDIVIDUEL}%")
    return Place.modalites_accompagnement.like(f"%{MODALITE_COLLECTIF}%")


def _is_stale(place: Place, today: date) -> bool:
    return place.is_stale(today, STALE_AFTER_MONTHS)


def _score(level: str, distance_km: float, opening: Optional[Opening], now: datetime, stale: bool,
           place: Place) -> float:
    if opening is None:
        wait = UNKNOWN_WAIT_HOURS
    elif opening.open_now:
        wait = 0.0
    elif opening.next_opening is None:
        wait = MAX_WAIT_HOURS
    else:
        wait = min(MAX_WAIT_HOURS, max(0.0, (opening.next_opening - now).total_seconds() / 3600.0))
    bonuses = PROGRAMME_BONUS_KM[level]
    bonus = min(MAX_PROGRAMME_BONUS_KM, sum(bonuses.get(p, 0.0) for p in place.dispositifs_list))
    return distance_km + wait * WAIT_KM_PER_HOUR[level] + (STALE_PENALTY_KM if stale else 0.0) - bonus


def _make_match(place: Place, distance: Optional[float], level: str, now: datetime, today: date) -> PlaceMatch:
    opening = opening_status(place.horaires, now)
    stale = _is_stale(place, today)
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


def places_within(session, latitude: float, longitude: float, radius_km: float, extra_filter=None
                  ) -> List[Tuple[Place, float]]:
    """All places within `radius_km` (exact haversine), nearest first; bbox prefilter in SQL."""
    min_lat, max_lat, lon_ranges = bounding_box(latitude, longitude, radius_km)
    lon_clause = or_(*[Place.longitude.between(lo, hi) for lo, hi in lon_ranges])
    stmt = select(Place).where(
        Place.latitude.is_not(None),
        Place.longitude.is_not(None),
        Place.latitude.between(min_lat, max_lat),
        lon_clause,
    )
    if extra_filter is not None:
        stmt = stmt.where(extra_filter)
    found = []
    for place in session.execute(stmt).scalars():
        distance = haversine_km(latitude, longitude, place.latitude, place.longitude)
        if distance <= radius_km:
            found.append((place, distance))
    found.sort(key=lambda item: (item[1], item[0].id))
    return found


def find_places(
    session,
    latitude: float,
    longitude: float,
    need: Need,
    *,
    radius_km: float = 15.0,
    now: Optional[datetime] = None,
    limit: int = 3,
) -> SearchResult:
    """Best `limit` in-person places within `radius_km`, plus up to `limit` remote ones.

    `remote` lists places offering "À distance" for the level, whatever their distance (nearest
    first, with the programme bonus; places without coordinates last), excluding places already
    in `matches`. An empty `matches` is a normal
    outcome: the caller may widen the radius or offer remote help / the helpline.
    """
    now = to_paris(now)
    today = now.date()
    level = need.level
    wanted = _canonical_specific(need.specific)

    matches: List[PlaceMatch] = []
    for place, distance in places_within(session, latitude, longitude, radius_km, _level_sql(level)):
        if matches_level(place, level) and _specific_ok(place, wanted):
            matches.append(_make_match(place, distance, level, now, today))
    matches.sort(key=_sort_key)
    matches = matches[:limit]

    shown = {m.place.id for m in matches}
    candidates: List[Tuple[float, str, Place, Optional[float]]] = []
    stmt = select(Place).where(Place.modalites_accompagnement.like(f"%{MODALITE_DISTANCE}%"))
    for place in session.execute(stmt).scalars():
        if place.id in shown or not matches_remote(place, level) or not _specific_ok(place, wanted):
            continue
        distance = (
            haversine_km(latitude, longitude, place.latitude, place.longitude) if place.has_coordinates else None
        )
        # Remote help needs no travel, but a nearby service knows the local offices: rank by
        # distance minus the programme bonus; places without coordinates come last.
        candidates.append((_remote_rank(place, distance, level), place.id, place, distance))
    candidates.sort(key=lambda c: (c[0], c[1]))
    remote = [_make_match(place, distance, level, now, today) for _, _, place, distance in candidates[:limit]]
    return SearchResult(matches=matches, radius_km=radius_km, remote=remote)


def _remote_rank(place: Place, distance: Optional[float], level: str) -> float:
    if distance is None:
        return math.inf
    bonuses = PROGRAMME_BONUS_KM[level]
    return distance - min(MAX_PROGRAMME_BONUS_KM, sum(bonuses.get(p, 0.0) for p in place.dispositifs_list))
