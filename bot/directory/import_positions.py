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
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from bot.directory.geo.communes import CommuneIndex, default_index
from bot.directory.geo.names import name_key
from bot.directory.geo.reference import DATA_DIR, Commune


@dataclass(frozen=True)
class Area:
    """A commune, or an arrondissement of Paris, Lyon or Marseille, as the reference places it."""

    insee: str
    name: str  # the commune's name ("Marseille" for its 11th arrondissement)
    postcode: Optional[str]  # the one postcode it has, else None
    latitude: float
    longitude: float
    departement: str


def _read_arrondissements() -> Tuple[Dict[str, Tuple[str, str, float, float]], Dict[str, str]]:
    """(arrondissement INSEE -> (commune INSEE, postcode, lat, lon), postcode -> arrondissement INSEE)."""
    by_insee: Dict[str, Tuple[str, str, float, float]] = {}
    by_postcode: Dict[str, str] = {}
    path = DATA_DIR / "arrondissements.csv"
    if not path.exists():
        return by_insee, by_postcode
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            postcodes = row["postcodes"].split()
            by_insee[row["insee"]] = (row["commune"], postcodes[0] if postcodes else "", float(row["lat"]),
                                      float(row["lon"]))
            for postcode in postcodes:
                by_postcode.setdefault(postcode, row["insee"])
    return by_insee, by_postcode


class Locator:
    """Finds the commune (or arrondissement) of places, with a cache (see the module's docstring)."""

    def __init__(self, communes: Optional[CommuneIndex] = None):
        self._communes = communes
        self._cache: Dict[Tuple[str, str, str], Optional[Area]] = {}
        self._arrondissements, self._arrondissement_of_postcode = _read_arrondissements()

    @property
    def communes(self) -> CommuneIndex:
        if self._communes is None:
            self._communes = default_index()
        return self._communes

    def knows(self, insee: str) -> bool:
        """Whether the reference has this code (a commune, or an arrondissement of Paris, Lyon or Marseille)."""
        return insee in self._arrondissements or self.communes.by_insee(insee) is not None

    def area(self, insee: Optional[str], postcode: Optional[str], name: Optional[str]) -> Optional[Area]:
        key = (insee or "", postcode or "", name_key(name or ""))
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = self._find(*key)
            return found

    def _find(self, insee: str, postcode: str, name: str) -> Optional[Area]:
        if insee:
            if insee in self._arrondissements:
                return self._arrondissement(insee)
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

    def _arrondissement(self, insee: str) -> Area:
        parent, postcode, latitude, longitude = self._arrondissements[insee]
        commune = self.communes.by_insee(parent)
        name = commune.name if commune else insee
        return Area(insee, name, postcode or None, latitude, longitude, commune.departement if commune else "")

    def _area(self, commune: Commune, postcode: str) -> Area:
        """The commune, or its arrondissement when the postcode (or the arrondissement record) names one."""
        single = commune.postcodes[0] if len(commune.postcodes) == 1 else None
        for candidate in (postcode, single):
            arrondissement = self._arrondissement_of_postcode.get(candidate or "")
            if arrondissement and self._arrondissements[arrondissement][0] == commune.insee:
                return self._arrondissement(arrondissement)
        return Area(commune.insee, commune.name, single, commune.latitude, commune.longitude, commune.departement)
