"""Who a remote place serves: the rule behind the "À distance" offers, and départements from codes.

The rule (README, "Remote help: who it serves"):
- a place offering "À distance" serves the people of its own département: the département of its
  `code_insee`, or of its `code_postal` when the INSEE code is missing;
- it serves more only when AIGUILLAGE_REMOTE_AREAS says so: `france` (the whole country), départements
  (`13`, `2A`, `974`) or régions by name (`bretagne`, `provence-alpes-cote-d-azur`);
- a person whose département is unknown (remote help chosen without giving a town) is offered only the
  places that serve the whole country.
The standard (schema v1.0.x) has no field for the area a place serves, so its data can say no more than
where the place is; the setting is the coordinator's word for the rest.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

from bot.core.text import normalize

NATIONAL = "france"

# The régions (2016) and their départements. Collectivities outside any région (975, 977, 978, 986, 987, 988)
# are named by their own codes.
REGIONS: Dict[str, Tuple[str, ...]] = {
    "Auvergne-Rhône-Alpes": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "Bourgogne-Franche-Comté": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "Bretagne": ("22", "29", "35", "56"),
    "Centre-Val de Loire": ("18", "28", "36", "37", "41", "45"),
    "Corse": ("2A", "2B"),
    "Grand Est": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "Hauts-de-France": ("02", "59", "60", "62", "80"),
    "Île-de-France": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "Normandie": ("14", "27", "50", "61", "76"),
    "Nouvelle-Aquitaine": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "Occitanie": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "Pays de la Loire": ("44", "49", "53", "72", "85"),
    "Provence-Alpes-Côte d'Azur": ("04", "05", "06", "13", "83", "84"),
    "Guadeloupe": ("971",),
    "Martinique": ("972",),
    "Guyane": ("973",),
    "La Réunion": ("974",),
    "Mayotte": ("976",),
}

_DEPARTEMENT = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-8]|98[6-8])$")


def _key(name: str) -> str:
    """"Provence-Alpes-Côte d'Azur", "provence alpes cote d azur" -> "provencealpescotedazur"."""
    return re.sub(r"[^a-z0-9]", "", normalize(name))


_REGION_KEYS = {_key(name): departements for name, departements in REGIONS.items()}


def departement_of_insee(insee: Optional[str]) -> Optional[str]:
    """Département code of an INSEE commune code: "35238"→"35", "2A004"→"2A", "97411"→"974"."""
    code = str(insee or "").strip().upper()
    if len(code) != 5:
        return None
    if code[:2] in ("97", "98"):  # overseas: three characters
        return code[:3] if code[:3].isdigit() else None
    if code[:2] in ("2A", "2B") or code[:2].isdigit():
        return code[:2]
    return None


def departement_of_postcode(postcode: Optional[str]) -> Optional[str]:
    """Département of a postcode, when the INSEE code is missing: "35500"→"35", "20000"→"2A", "20600"→"2B".

    A few communes have a postcode of a neighbouring département; the INSEE code, when known, wins."""
    code = str(postcode or "").strip()
    if len(code) != 5 or not code.isdigit() or code.startswith("00"):
        return None
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):  # Corse: 200xx-201xx Corse-du-Sud, 202xx-206xx Haute-Corse
        return "2A" if code < "20200" else "2B"
    return code[:2]


def place_departement(code_insee: Optional[str], code_postal: Optional[str]) -> Optional[str]:
    return departement_of_insee(code_insee) or departement_of_postcode(code_postal)


@dataclass(frozen=True)
class RemoteAreas:
    """AIGUILLAGE_REMOTE_AREAS read: the remote places that serve more than their own département."""

    national: FrozenSet[str] = frozenset()  # place ids serving the whole country
    departements: Mapping[str, FrozenSet[str]] = field(default_factory=dict)  # place id -> départements added
    problems: Tuple[str, ...] = ()  # entries or areas that could not be read (logged, ignored)

    @classmethod
    def parse(cls, text: Optional[str]) -> "RemoteAreas":
        """`ID=AREA[,AREA…]` entries separated by `;`; an AREA is `france`, a département or a région's name."""
        national, departements, problems = set(), {}, []
        for entry in (text or "").split(";"):
            if not entry.strip():
                continue
            place_id, equals, areas = entry.rpartition("=")
            place_id = place_id.strip()
            if not equals or not place_id:
                problems.append(entry.strip())
                continue
            for area in areas.split(","):
                area = area.strip()
                if not area:
                    continue
                if _key(area) == NATIONAL:
                    national.add(place_id)
                elif _DEPARTEMENT.match(area.upper()):
                    departements.setdefault(place_id, set()).add(area.upper())
                elif _key(area) in _REGION_KEYS:
                    departements.setdefault(place_id, set()).update(_REGION_KEYS[_key(area)])
                else:
                    problems.append(f"{place_id}={area}")
        return cls(frozenset(national), {k: frozenset(v) for k, v in departements.items()}, tuple(problems))

    def serving(self, departement: Optional[str]) -> FrozenSet[str]:
        """Ids of the places this setting makes serve `departement` (the national ones always)."""
        if departement is None:
            return self.national
        return self.national | {place_id for place_id, served in self.departements.items() if departement in served}

    def serves(self, place_id: str, place_dep: Optional[str], departement: Optional[str]) -> bool:
        """The rule: does the remote place `place_id`, located in `place_dep`, serve a person of `departement`?"""
        if place_id in self.national:
            return True
        if departement is None:
            return False
        return departement == place_dep or departement in self.departements.get(place_id, ())


NO_EXTRA_AREAS = RemoteAreas()


@functools.lru_cache(maxsize=8)
def remote_areas(text: Optional[str]) -> RemoteAreas:
    """The setting's text read once; what cannot be read is logged and ignored."""
    areas = RemoteAreas.parse(text)
    if areas.problems:
        logging.getLogger(__name__).warning("AIGUILLAGE_REMOTE_AREAS: ignored %s (expected ID=france, ID=13,84 or "
                                            "ID=bretagne)", ", ".join(areas.problems))
    return areas

