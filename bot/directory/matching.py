"""What makes a place fit a need, and the distances: shared by the search (bot/directory/search.py)
and its in-memory index (bot/directory/index.py), which both import it and never each other's
internals."""

from __future__ import annotations

import math
from typing import FrozenSet, List, Tuple

from bot.core.settings import setting
from bot.directory.models import (
    ACCES_PAS_DE_PUBLIC,
    MODALITE_COLLECTIF,
    MODALITE_DISTANCE,
    MODALITE_INDIVIDUEL,
    PROGRAMME_AIDANTS_CONNECT,
    PROGRAMME_CONSEILLERS,
    PROGRAMME_FRANCE_SERVICES,
    SERVICE_DEMARCHES,
    Place,
    split_multi,
)

LEVEL_URGENCE = "urgence"
LEVEL_INCLUSION = "inclusion"
LEVEL_COMPETENCE = "montee_en_competence"
LEVELS = (LEVEL_URGENCE, LEVEL_INCLUSION, LEVEL_COMPETENCE)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180.0

# Scoring terms the index also needs (the others are in search.py; see its docstring).
STALE_PENALTY_KM = 2.0
PROGRAMME_BONUS_KM = {
    LEVEL_URGENCE: {PROGRAMME_AIDANTS_CONNECT: 3.0, PROGRAMME_FRANCE_SERVICES: 3.0, PROGRAMME_CONSEILLERS: 0.5},
    LEVEL_INCLUSION: {PROGRAMME_CONSEILLERS: 1.0, PROGRAMME_FRANCE_SERVICES: 0.5},
    LEVEL_COMPETENCE: {PROGRAMME_CONSEILLERS: 1.0},
}
MAX_PROGRAMME_BONUS_KM = 4.0


def stale_after_months() -> int:
    """Months after its date_maj before a place's data is stale (AIGUILLAGE_STALE_AFTER_MONTHS), read now."""
    return setting("AIGUILLAGE_STALE_AFTER_MONTHS")


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
# Predicates take a Place or a light SQL row with the same attribute names (see LIGHT_COLUMNS):
# searching loads only these few columns, and full Place objects for the winners only.

LIGHT_COLUMNS = (
    Place.id,
    Place.latitude,
    Place.longitude,
    Place.code_insee,  # with code_postal: the département a remote place serves (bot/directory/areas.py)
    Place.code_postal,
    Place.services,
    Place.modalites_accompagnement,
    Place.modalites_acces,
    Place.prise_en_charge_specifique,
    Place.dispositif_programmes_nationaux,
    Place.horaires,
    Place.date_maj,
)


def specific_ok(place, wanted: FrozenSet[str]) -> bool:
    if not wanted:
        return True
    offered = split_multi(place.prise_en_charge_specifique)
    for need in wanted:
        # "Langues étrangères" (unqualified) accepts either the English or the "autres" variant.
        if not any(value == need or value.startswith(need + " (") for value in offered):
            return False
    return True


def matches_level(place, level: str) -> bool:
    """In-person fit for the level (remote-only places are handled separately)."""
    if ACCES_PAS_DE_PUBLIC in split_multi(place.modalites_acces):
        return False
    modalites = split_multi(place.modalites_accompagnement)
    if level == LEVEL_URGENCE:
        return SERVICE_DEMARCHES in split_multi(place.services) and MODALITE_INDIVIDUEL in modalites
    if level == LEVEL_INCLUSION:
        return MODALITE_INDIVIDUEL in modalites
    return MODALITE_COLLECTIF in modalites


def matches_remote(place, level: str) -> bool:
    if MODALITE_DISTANCE not in split_multi(place.modalites_accompagnement):
        return False
    if level == LEVEL_URGENCE:
        return SERVICE_DEMARCHES in split_multi(place.services)
    return True


def programme_bonus(place, level: str) -> float:
    bonuses = PROGRAMME_BONUS_KM[level]
    total = sum(bonuses.get(p, 0.0) for p in split_multi(place.dispositif_programmes_nationaux))
    return min(MAX_PROGRAMME_BONUS_KM, total)
