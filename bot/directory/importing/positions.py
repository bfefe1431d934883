"""Where a place is: its commune in the reference, and whether it has a position Aiguillage can use.

The commune of a place is read from the commune reference (bot/directory/geo/), in this order:
1. its `code_insee`, when the reference knows it (a commune, or an arrondissement of Paris, Lyon or
   Marseille: 75111, 69383, 13211);
2. its commune name and postcode together ("MARSEILLE 11" 13011, "CHÂTEAUBERNARD" 16100: case,
   accents, hyphens, "St" and small typos do not count; a name the postcode does not serve falls
   back to the postcode's commune);
3. its commune name alone, when only one commune bears it (or one much bigger than its namesakes);
4. its postcode alone, when it serves a single commune.
In Paris, Lyon and Marseille the postcode, or the number after the name, gives the arrondissement.
Lookups are cached per (code, postcode, name): a national file repeats them.

`position()` then says where to put the place. Its coordinates are used when they fall in France
(the metropolitan and overseas territories, generously boxed: `FRANCE`) and, when its commune is
known, within `NEAR_COMMUNE_KM` (60 km; 200 km overseas) of the commune's position. Otherwise, when
latitude and longitude the other way round pass the same test, they are swapped back. Otherwise
(absent, out of range, (0, 0), outside France, far from the commune) the commune's position is used
and the place is flagged approximate (`places.position_approx`): its distances are shown as
"environ N km".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from bot.directory.geo.communes import CommuneIndex, default_index
from bot.directory.geo.names import name_key
from bot.directory.geo.reference import Arrondissement, Commune
from bot.directory.matching import haversine_km


@dataclass(frozen=True)
class Area:
    """A commune, or an arrondissement of Paris, Lyon or Marseille, as the reference places it."""

    insee: str
    name: str  # the commune's name ("Marseille" for its 11th arrondissement)
    postcode: Optional[str]  # the one postcode it has, else None
    latitude: float
    longitude: float
    departement: str


class Locator:
    """Finds the commune (or arrondissement) of places, with a cache (see the module's docstring)."""

    def __init__(self, communes: Optional[CommuneIndex] = None):
        self._communes = communes
        self._cache: Dict[Tuple[str, str, str], Optional[Area]] = {}
        self._known: Dict[str, bool] = {}

    @property
    def communes(self) -> CommuneIndex:
        if self._communes is None:
            self._communes = default_index()
        return self._communes

    def knows(self, insee: str) -> bool:
        """Whether the reference has this code (a commune, or an arrondissement of Paris, Lyon or Marseille)."""
        known = self._known.get(insee)
        if known is None:
            known = self._known[insee] = (self.communes.arrondissement_by_insee(insee) is not None
                                          or self.communes.by_insee(insee) is not None)
        return known

    def area(self, insee: Optional[str], postcode: Optional[str], name: Optional[str]) -> Optional[Area]:
        # A known code decides alone (with the postcode, for an arrondissement): the name does not matter.
        key = (insee or "", postcode or "", "" if insee and self.knows(insee) else name or "")
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = self._find(key[0], key[1], name_key(key[2]))
            return found

    def _find(self, insee: str, postcode: str, name: str) -> Optional[Area]:
        if insee:
            arrondissement = self.communes.arrondissement_by_insee(insee)
            if arrondissement is not None:
                return self._arrondissement(arrondissement)
            commune = self.communes.by_insee(insee)
            if commune is not None:
                return self._area(commune, postcode)
        commune = None
        if name and postcode:
            commune = self.communes.lookup(f"{name} {postcode}").commune
        if commune is None and name:
            commune = self.communes.lookup(name).commune
        if commune is None and postcode:
            served = self.communes.by_postcode(postcode)
            commune = served[0] if len(served) == 1 else None
        return self._area(commune, postcode) if commune is not None else None

    def _arrondissement(self, arrondissement: Arrondissement) -> Area:
        commune = self.communes.by_insee(arrondissement.commune)
        name = commune.name if commune else arrondissement.insee
        postcode = arrondissement.postcodes[0] if arrondissement.postcodes else None
        return Area(arrondissement.insee, name, postcode, arrondissement.latitude, arrondissement.longitude,
                    commune.departement if commune else "")

    def _area(self, commune: Commune, postcode: str) -> Area:
        """The commune, or its arrondissement when the postcode (or the arrondissement record) names one."""
        single = commune.postcodes[0] if len(commune.postcodes) == 1 else None
        for candidate in (postcode, single):
            arrondissement = self.communes.arrondissement_of_postcode(candidate or "")
            if arrondissement is not None and arrondissement.commune == commune.insee:
                return self._arrondissement(arrondissement)
        return Area(commune.insee, commune.name, single, commune.latitude, commune.longitude, commune.departement)


# --- Coordinates ---------------------------------------------------------------------------------

# (name, latitude min, latitude max, longitude min, longitude max): France's territories, generously boxed.
FRANCE = (
    ("Métropole et Corse", 41.3, 51.2, -5.3, 9.7),
    ("Guadeloupe, Saint-Martin, Saint-Barthélemy", 15.8, 18.2, -63.2, -60.9),
    ("Martinique", 14.3, 15.0, -61.3, -60.7),
    ("Guyane", 2.0, 6.0, -54.7, -51.5),
    ("La Réunion", -21.5, -20.8, 55.1, 55.9),
    ("Mayotte", -13.1, -12.5, 44.9, 45.4),
    ("Saint-Pierre-et-Miquelon", 46.7, 47.2, -56.5, -56.1),
    ("Nouvelle-Calédonie", -23.0, -19.5, 163.5, 168.2),
    ("Polynésie française", -28.0, -7.8, -154.8, -134.4),
    ("Wallis-et-Futuna", -14.4, -13.2, -178.3, -176.1),
)
# How far from its commune's position (the reference's, near the town hall) a place may be: more
# than the largest communes' radius (Arles, about 30 km; the largest of Guyane, about 100 km).
NEAR_COMMUNE_KM = 60.0
NEAR_COMMUNE_OVERSEAS_KM = 200.0

# Why the file's coordinates were not used as they are.
ABSENT = "absent"
OUT_OF_RANGE = "out_of_range"
ZERO = "zero"
OUTSIDE_FRANCE = "outside_france"
FAR = "far"


def in_france(latitude: float, longitude: float) -> bool:
    return any(lat_min <= latitude <= lat_max and lon_min <= longitude <= lon_max
               for _, lat_min, lat_max, lon_min, lon_max in FRANCE)


def near_commune_km(area: Area) -> float:
    return NEAR_COMMUNE_OVERSEAS_KM if area.departement.startswith(("97", "98")) else NEAR_COMMUNE_KM


def _unfit(latitude: float, longitude: float, area: Optional[Area]) -> Optional[str]:
    """None when the point can be the place; else why not."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return OUT_OF_RANGE
    if latitude == 0 and longitude == 0:
        return ZERO
    if not in_france(latitude, longitude):
        return OUTSIDE_FRANCE
    if area is not None and haversine_km(latitude, longitude, area.latitude, area.longitude) > near_commune_km(area):
        return FAR
    return None


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    approx: bool  # the commune's position
    swapped: bool = False  # the file's latitude and longitude, the other way round
    reason: Optional[str] = None  # why the file's coordinates were not used as they were
    distance_km: Optional[float] = None  # FAR: how far from the commune they were


def position(latitude: Optional[float], longitude: Optional[float], area: Optional[Area]) -> Optional[Position]:
    """Where to put a place: its coordinates when they fall in France and near its commune (when the
    commune is known); swapped when only the other order does; else its commune's position,
    approximate. None when there is neither."""
    if latitude is not None and longitude is not None:
        reason = _unfit(latitude, longitude, area)
        if reason is None:
            return Position(latitude, longitude, False)
        if _unfit(longitude, latitude, area) is None:
            return Position(longitude, latitude, False, swapped=True, reason=reason)
    else:
        reason = ABSENT
    if area is None:
        return None
    distance = None
    if reason == FAR:
        distance = haversine_km(latitude, longitude, area.latitude, area.longitude)  # type: ignore[arg-type]
    return Position(area.latitude, area.longitude, True, reason=reason, distance_km=distance)
