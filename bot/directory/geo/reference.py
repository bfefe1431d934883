"""The commune reference's records (Commune, LookupResult) and reading them from the packaged files."""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from bot.directory.geo.names import key_words

# Built by scripts/build_communes.py; sources and licences in data/SOURCES.md.
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PATH = DATA_DIR / "communes.csv.gz"

FOUND = "found"
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"

POSTCODE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float
    departement: str
    population: int


@dataclass(frozen=True)
class Arrondissement:
    """A row of arrondissements.csv: an arrondissement of Paris, Lyon or Marseille."""

    insee: str  # its own code: 13211
    commune: str  # the city's code: 13055
    name: str  # "Marseille 11e Arrondissement"
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float


@dataclass(frozen=True)
class LookupResult:
    status: str  # "found" | "ambiguous" | "not_found"
    candidates: tuple[Commune, ...] = ()

    @property
    def commune(self) -> Optional[Commune]:
        return self.candidates[0] if self.status == FOUND and self.candidates else None

    @property
    def found(self) -> bool:
        return self.status == FOUND


def read_communes(path: Path) -> list[Commune]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        col = {name: i for i, name in enumerate(next(reader))}
        i_insee, i_name, i_cps = col["insee"], col["name"], col["postcodes"]
        i_lat, i_lon, i_dep, i_pop = col["lat"], col["lon"], col["departement"], col["population"]
        return [
            Commune(
                row[i_insee],
                row[i_name],
                tuple(row[i_cps].split()),
                float(row[i_lat]),
                float(row[i_lon]),
                row[i_dep],
                int(row[i_pop] or 0),
            )
            for row in reader
        ]


def read_departements(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def read_arrondissements(path: Path) -> list[Arrondissement]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return [Arrondissement(row["insee"], row["commune"], row["name"], tuple(row["postcodes"].split()),
                               float(row["lat"]), float(row["lon"])) for row in csv.DictReader(fh)]


def arrondissements_by_number(arrondissements: list[Arrondissement],
                              by_insee: dict[str, Commune]) -> dict[tuple[str, int], Commune]:
    """Map ("paris", 15) to Paris with the 15th arrondissement's postcodes and position."""
    out = {}
    for arr in arrondissements:
        parent = by_insee.get(arr.commune)
        m = re.match(r"^\D*(\d+)", arr.name)
        if parent is None or not m:
            continue
        city = key_words(parent.name)[0]
        out[(city, int(m.group(1)))] = replace(parent, postcodes=arr.postcodes, latitude=arr.latitude,
                                               longitude=arr.longitude)
    return out
