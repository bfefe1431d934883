"""What the directory really covers: the figures behind `aiguillage etat-lieux`.

Only the places the bot can propose count (withdrawn ones are kept for past referrals, not proposed). A
place's département is that of its INSEE code, else its postcode (the rule of areas.py), else that of the
commune nearest to its position; a place with neither codes nor a position is counted under "inconnu".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.directory.areas import place_departement
from bot.directory.matching import stale_after_months
from bot.directory.models import Place, date_is_stale

UNKNOWN_DEPARTEMENT = "inconnu"


@dataclass
class Coverage:
    places: int = 0
    without_position: int = 0          # no coordinates at all: the search cannot propose them
    commune_position: int = 0          # the commune's centre stands in for the address (position_approx)
    stale: int = 0                     # date_maj older than AIGUILLAGE_STALE_AFTER_MONTHS, or none
    withdrawn: int = 0                 # withdrawn by `import-lieux --remplacer`, not counted above
    by_departement: Dict[str, int] = field(default_factory=dict)
    stale_after_months: int = 12

    def as_json(self) -> dict:
        """The shape `etat-lieux --json` prints, with the standard's French keys."""
        return {
            "lieux": self.places,
            "sans_position": self.without_position,
            "position_commune": self.commune_position,
            "perimes": self.stale,
            "par_departement": dict(self.by_departement),
        }


def _departement_order(code: str) -> tuple:
    """01 … 19, 2A, 2B, 21 … 95, 971 …, then "inconnu"."""
    if code == UNKNOWN_DEPARTEMENT:
        return (2, "")
    return (0, code.replace("2A", "20A").replace("2B", "20B")) if len(code) <= 2 else (1, code)


def measure(session: Session, today: date, *,
            departement_at: Optional[Callable[[float, float], Optional[str]]] = None,
            months: Optional[int] = None) -> Coverage:
    """Count the directory's places. `departement_at(lat, lon)` names the département of a position, for
    places without codes; `months` overrides the staleness setting."""
    months = stale_after_months() if months is None else months
    coverage = Coverage(stale_after_months=months)
    by_departement: Counter = Counter()
    rows = session.execute(select(Place.code_insee, Place.code_postal, Place.latitude, Place.longitude,
                                  Place.position_approx, Place.date_maj, Place.withdrawn_at))
    for insee, postcode, latitude, longitude, approximate, updated, withdrawn in rows:
        if withdrawn is not None:
            coverage.withdrawn += 1
            continue
        coverage.places += 1
        has_position = latitude is not None and longitude is not None
        if not has_position:
            coverage.without_position += 1
        elif approximate:
            coverage.commune_position += 1
        if date_is_stale(updated, today, months):
            coverage.stale += 1
        departement = place_departement(insee, postcode)
        if departement is None and has_position and departement_at is not None:
            departement = departement_at(latitude, longitude)
        by_departement[departement or UNKNOWN_DEPARTEMENT] += 1
    coverage.by_departement = {code: by_departement[code] for code in sorted(by_departement, key=_departement_order)}
    return coverage
